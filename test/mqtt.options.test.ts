/*
 * Unit tests of device/mqtt/options.ts: the defaults checkOptions() fills in, each range
 * check and its MqttError, the order the checks run in, the CONNECT packet made from the
 * options (byte for byte what mqtt-packet writes), and the payload and QoS checks of
 * publish() and subscribe(). No sockets are opened: the socket classes are only handed over.
 */
import * as mqtt from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { MqttError } from "../device/mqtt/errors.js";
import type { ClientIo } from "../device/mqtt/io.js";
import {
  checkOptions, encodeConnectPacket, payloadBytes, payloadLengthOf, qosOf,
  type ClientOptions, type Settings,
} from "../device/mqtt/options.js";
import { TCP, TLS } from "../host-sim/io/sockets.js";

const timer = { repeat: () => 0, clear: () => {} };
const io: ClientIo = { TCP, Timer: timer, TextEncoder, TextDecoder };
const tlsIo: ClientIo = { ...io, TLS };
const encoder = new TextEncoder();

function options(extra: Partial<ClientOptions> = {}): ClientOptions {
  return { host: "broker.example", clientId: "unit", io, ...extra };
}

/** The MqttError `run` throws (fails when it throws nothing or something else). */
function thrown(run: () => unknown): MqttError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MqttError);
    return error as MqttError;
  }
  throw new Error("nothing was thrown");
}

describe("checkOptions: defaults", () => {
  it("fills in every default for the smallest options", () => {
    const settings = checkOptions(options());
    expect(settings).toEqual<Settings>({
      host: "broker.example",
      port: 1883,
      tls: undefined,
      keepAlive: 60,
      clean: true,
      tickInterval: 500,
      connectTimeout: 10_000,
      reconnect: true,
      minDelay: 1_000,
      maxDelay: 60_000,
      stableAfter: 10_000,
      maxInflight: 16,
      receiveBufferSize: 512,
      transmitBufferSize: 1024,
      outboxBytes: 1024,
      outboxMessages: 16,
      maxSubscriptions: 16,
    });
  });

  it("keeps every value given within its range", () => {
    const settings = checkOptions(options({
      port: 1884, keepAlive: 0, connectTimeout: 1, reconnect: { minDelay: 7, maxDelay: 7, stableAfter: 0 },
      maxInflight: 65_535, receiveBufferSize: 16, transmitBufferSize: 64, outboxBytes: 0,
      outboxMessages: 1, maxSubscriptions: 1024,
    }));
    expect(settings).toMatchObject({
      port: 1884, keepAlive: 0, connectTimeout: 1, reconnect: true, minDelay: 7, maxDelay: 7, stableAfter: 0,
      maxInflight: 65_535, receiveBufferSize: 16, transmitBufferSize: 64, outboxBytes: 0,
      outboxMessages: 1, maxSubscriptions: 1024,
    });
  });

  it("reconnect: false turns reconnecting off and keeps the backoff defaults", () => {
    const settings = checkOptions(options({ reconnect: false }));
    expect(settings.reconnect).toBe(false);
    expect([settings.minDelay, settings.maxDelay, settings.stableAfter]).toEqual([1_000, 60_000, 10_000]);
    expect(checkOptions(options({ reconnect: {} })).reconnect).toBe(true);
  });

  it("tickInterval: a quarter of keepAlive, at most 1 s and half of minDelay, at least 20 ms", () => {
    const tick = (keepAlive: number | undefined, minDelay?: number): number =>
      checkOptions(options({ keepAlive, reconnect: minDelay === undefined ? undefined : { minDelay } })).tickInterval;
    expect(tick(undefined)).toBe(500); // 60 s keepalive, 1 s minDelay: minDelay / 2
    expect(tick(60, 10_000)).toBe(1000); // capped at 1 s
    expect(tick(1, 10_000)).toBe(250); // keepAlive / 4
    expect(tick(2, 10_000)).toBe(500);
    expect(tick(0, 10_000)).toBe(1000); // no keepalive
    expect(tick(0, 300)).toBe(150);
    expect(tick(60, 10)).toBe(20); // never below 20 ms
  });
});

describe("checkOptions: each check and its MqttError", () => {
  it("options that are not an object, and io without TCP or Timer, are argument-invalid", () => {
    expect(thrown(() => checkOptions(null as never)).code).toBe("argument-invalid");
    expect(thrown(() => checkOptions("options" as never)).code).toBe("argument-invalid");
    const noIo = thrown(() => checkOptions({ host: "h", clientId: "c" } as never));
    expect(noIo.code).toBe("argument-invalid");
    expect(noIo.message).toContain("io must give TCP");
    expect(thrown(() => checkOptions(options({ io: { ...io, TCP: undefined as never } }))).code).toBe("argument-invalid");
    expect(thrown(() => checkOptions(options({ io: { ...io, Timer: undefined as never } }))).code).toBe("argument-invalid");
  });

  it("host must be a non-empty string; clientId a string (client-id-invalid)", () => {
    const empty = thrown(() => checkOptions(options({ host: "" })));
    expect([empty.code, empty.message]).toEqual(["argument-invalid", "argument of wrong type or range (host)"]);
    expect(thrown(() => checkOptions(options({ host: 7 as never }))).code).toBe("argument-invalid");
    const id = thrown(() => checkOptions(options({ clientId: 7 as never })));
    expect([id.code, id.message]).toEqual(["client-id-invalid", "empty client id needs clean: true [MQTT-3.1.3-7] (clientId must be a string)"]);
    expect(checkOptions(options({ clientId: "" })).host).toBe("broker.example"); // an empty id is CONNECT's to judge
  });

  const ranges: [string, (value: number) => Partial<ClientOptions>, number, number][] = [
    ["port", (v) => ({ port: v }), 1, 65_535],
    ["keepAlive", (v) => ({ keepAlive: v }), 0, 65_535],
    ["connectTimeout", (v) => ({ connectTimeout: v }), 1, 3_600_000],
    ["reconnect.minDelay", (v) => ({ reconnect: { minDelay: v } }), 1, 86_400_000],
    ["reconnect.maxDelay", (v) => ({ reconnect: { maxDelay: v } }), 1_000, 86_400_000],
    ["reconnect.stableAfter", (v) => ({ reconnect: { stableAfter: v } }), 0, 86_400_000],
    ["maxInflight", (v) => ({ maxInflight: v }), 1, 65_535],
    ["receiveBufferSize", (v) => ({ receiveBufferSize: v }), 16, 268_435_455],
    ["transmitBufferSize", (v) => ({ transmitBufferSize: v }), 64, 268_435_455],
    ["outboxBytes", (v) => ({ outboxBytes: v }), 0, 268_435_455],
    ["outboxMessages", (v) => ({ outboxMessages: v }), 1, 65_535],
    ["maxSubscriptions", (v) => ({ maxSubscriptions: v }), 1, 1024],
  ];

  for (const [name, make, min, max] of ranges) {
    it(name + ": a whole number from " + min + " to " + max, () => {
      const text = "argument of wrong type or range (" + name + " must be a whole number from " + min + " to " + max + ")";
      for (const bad of [min - 1, max + 1, min + 0.5, Number.NaN]) {
        const error = thrown(() => checkOptions(options(make(bad))));
        expect([error.code, error.message]).toEqual(["argument-invalid", text]);
      }
      for (const good of [min, max]) expect(() => checkOptions(options(make(good)))).not.toThrow();
    });
  }

  it("reconnect.maxDelay may not be below reconnect.minDelay", () => {
    const error = thrown(() => checkOptions(options({ reconnect: { minDelay: 5_000, maxDelay: 4_999 } })));
    expect(error.message).toBe("argument of wrong type or range (reconnect.maxDelay must be a whole number from 5000 to 86400000)");
    expect(checkOptions(options({ reconnect: { minDelay: 5_000, maxDelay: 5_000 } })).maxDelay).toBe(5_000);
  });

  it("the first bad option in the checks' order is the one reported", () => {
    const order: [string, Partial<ClientOptions>][] = [
      ["host", { host: "" }],
      ["clientId", { clientId: 1 as never }],
      ["tls needs io.TLS", { tls: true }],
      ["port", { port: 0 }],
      ["keepAlive", { keepAlive: -1 }],
      ["connectTimeout", { connectTimeout: 0 }],
      ["reconnect.minDelay", { reconnect: { minDelay: 0, maxDelay: 0, stableAfter: -1 } }],
      ["maxInflight", { maxInflight: 0 }],
      ["receiveBufferSize", { receiveBufferSize: 15 }],
      ["transmitBufferSize", { transmitBufferSize: 63 }],
      ["outboxBytes", { outboxBytes: -1 }],
      ["outboxMessages", { outboxMessages: 0 }],
      ["maxSubscriptions", { maxSubscriptions: 0 }],
    ];
    // every option bad at once; fixing the one reported reveals the next, in this order
    for (let first = 0; first < order.length; first++) {
      let bad: Partial<ClientOptions> = {};
      for (let i = first; i < order.length; i++) bad = { ...bad, ...order[i][1] };
      expect(thrown(() => checkOptions(options(bad))).message).toContain("(" + order[first][0]);
    }
    // within reconnect: minDelay, then maxDelay, then stableAfter
    expect(thrown(() => checkOptions(options({ reconnect: { maxDelay: 0, stableAfter: -1 } }))).message).toContain("(reconnect.maxDelay");
    expect(thrown(() => checkOptions(options({ reconnect: { stableAfter: -1 } }))).message).toContain("(reconnect.stableAfter");
  });
});

describe("checkOptions: TLS and the default port", () => {
  it("tls needs io.TLS", () => {
    const error = thrown(() => checkOptions(options({ tls: { ca: "pem" } })));
    expect([error.code, error.message]).toEqual(["argument-invalid", "argument of wrong type or range (tls needs io.TLS)"]);
  });

  it("the port defaults to 1883 without TLS and 8883 with it; tls: true means no options", () => {
    expect(checkOptions(options({ io: tlsIo })).port).toBe(1883);
    expect(checkOptions(options({ io: tlsIo, tls: false })).tls).toBeUndefined();
    const plain = checkOptions(options({ io: tlsIo, tls: true }));
    expect([plain.port, plain.tls]).toEqual([8883, { serverName: undefined, secure: {} }]);
    const given = checkOptions(options({ io: tlsIo, tls: { serverName: "broker" }, port: 443 }));
    expect(given.tls).toEqual({ serverName: "broker", secure: {} });
    expect(given.port).toBe(443);
  });
});

describe("encodeConnectPacket: the same bytes as mqtt-packet's generate() [MQTT-3.1]", () => {
  function ours(extra: Partial<ClientOptions>, keepAlive = 60, size = 512): Buffer {
    const buf = new Uint8Array(size).fill(0xee);
    const length = encodeConnectPacket(options(extra), keepAlive, encoder, buf);
    expect(buf[length]).toBe(0xee); // nothing written past the packet
    return Buffer.from(buf.subarray(0, length));
  }

  function theirs(packet: Partial<mqtt.IConnectPacket>): Buffer {
    return mqtt.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 60, clientId: "unit", ...packet }, { protocolVersion: 4 });
  }

  it("clean session, default keepalive: protocol \"MQTT\" level 4, flags 0x02 [MQTT-3.1.2-1][MQTT-3.1.2-2][MQTT-3.1.2-3][MQTT-3.1.2-4]", () => {
    const bytes = ours({});
    expect(bytes).toEqual(theirs({}));
    expect([...bytes.subarray(0, 12)]).toEqual([0x10, 16, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60]);
  });

  it("clean: false and a keepalive of 0 and of 65535 [MQTT-3.1.2-6][MQTT-3.1.2-24]", () => {
    expect(ours({ clean: false }, 0)).toEqual(theirs({ clean: false, keepalive: 0 }));
    expect(ours({ clean: false }, 0)[9]).toBe(0x00);
    expect(ours({}, 65_535)).toEqual(theirs({ keepalive: 65_535 }));
  });

  it("a will with QoS 1 and retain: will flag, QoS bits and retain bit, then topic and message [MQTT-3.1.2-9][MQTT-3.1.2-14][MQTT-3.1.2-17]", () => {
    const will = { topic: "dev/unit/status", payload: "offline", qos: 1, retain: true };
    const bytes = ours({ will });
    expect(bytes).toEqual(theirs({ will: { topic: will.topic, payload: Buffer.from("offline"), qos: 1, retain: true } }));
    expect(bytes[9]).toBe(0x02 | 0x04 | (1 << 3) | 0x20);
  });

  it("a will with QoS 0, no retain, bytes as its payload [MQTT-3.1.2-13][MQTT-3.1.2-15]", () => {
    const payload = new Uint8Array([0, 1, 0xff]);
    const bytes = ours({ will: { topic: "w", payload } });
    expect(bytes).toEqual(theirs({ will: { topic: "w", payload: Buffer.from(payload), qos: 0, retain: false } }));
    expect(bytes[9]).toBe(0x02 | 0x04);
  });

  it("username and password (text or bytes) follow the will [MQTT-3.1.2-19][MQTT-3.1.2-21][MQTT-3.1.3-1]", () => {
    const will = { topic: "a/b", payload: "gone", qos: 1 };
    const both = ours({ username: "user", password: "s3cret", will, clean: false }, 30);
    expect(both).toEqual(theirs({
      username: "user", password: Buffer.from("s3cret"), clean: false, keepalive: 30,
      will: { topic: "a/b", payload: Buffer.from("gone"), qos: 1, retain: false },
    }));
    expect(both[9]).toBe(0x80 | 0x40 | 0x04 | (1 << 3));
    const bytes = new Uint8Array([1, 2, 3, 0]);
    expect(ours({ username: "ü", password: bytes })).toEqual(theirs({ username: "ü", password: Buffer.from(bytes) }));
    expect(ours({ username: "only" })).toEqual(theirs({ username: "only" }));
  });

  it("returns the packet's length and writes at the start of the buffer", () => {
    const buf = new Uint8Array(64);
    expect(encodeConnectPacket(options({ clientId: "abc" }), 60, encoder, buf)).toBe(2 + 10 + 2 + 3);
  });

  it("a buffer too small: buffer-too-small naming transmitBufferSize", () => {
    const size = theirs({}).length;
    const error = thrown(() => encodeConnectPacket(options(), 60, encoder, new Uint8Array(size - 1)));
    expect([error.code, error.message]).toEqual(["buffer-too-small", "packet does not fit the buffer (transmitBufferSize is smaller than the CONNECT packet)"]);
    expect(() => encodeConnectPacket(options(), 60, encoder, new Uint8Array(size))).not.toThrow();
  });

  it("a bad will topic, a will QoS of 3, a password without a username and an empty id without clean session throw their codes", () => {
    const buf = new Uint8Array(256);
    expect(thrown(() => encodeConnectPacket(options({ will: { topic: "a/+", payload: "" } }), 60, encoder, buf)).code).toBe("topic-invalid");
    expect(thrown(() => encodeConnectPacket(options({ will: { topic: "", payload: "" } }), 60, encoder, buf)).code).toBe("topic-invalid");
    const qos = thrown(() => encodeConnectPacket(options({ will: { topic: "w", payload: "", qos: 3 } }), 60, encoder, buf));
    expect([qos.code, qos.message]).toEqual(["qos-invalid", "QoS: 0, 1 or 2 (will)"]);
    expect(thrown(() => encodeConnectPacket(options({ password: "p" }), 60, encoder, buf)).code).toBe("password-without-username");
    expect(thrown(() => encodeConnectPacket(options({ clientId: "", clean: false }), 60, encoder, buf)).code).toBe("client-id-invalid");
    expect(thrown(() => encodeConnectPacket(options(), 65_536, encoder, buf)).code).toBe("keepalive-invalid");
  });
});

describe("payloadBytes, payloadLengthOf, qosOf", () => {
  it("payloadBytes: a string is encoded as UTF-8, bytes are taken as they are, anything else is argument-invalid", () => {
    expect([...payloadBytes("hé", encoder)]).toEqual([0x68, 0xc3, 0xa9]);
    const bytes = new Uint8Array([9, 8]);
    expect(payloadBytes(bytes, encoder)).toBe(bytes);
    for (const bad of [42, new ArrayBuffer(2), new Uint16Array(2), undefined, null]) {
      const error = thrown(() => payloadBytes(bad as never, encoder));
      expect([error.code, error.message]).toEqual(["argument-invalid", "argument of wrong type or range (the payload must be a string or a Uint8Array)"]);
    }
  });

  it("payloadLengthOf: all of it by default, or a whole number from 0 to its length", () => {
    const bytes = new Uint8Array(5);
    expect(payloadLengthOf(bytes, undefined)).toBe(5);
    expect(payloadLengthOf(bytes, 0)).toBe(0);
    expect(payloadLengthOf(bytes, 3)).toBe(3);
    expect(payloadLengthOf(bytes, 5)).toBe(5);
    for (const bad of [6, -1, 2.5, Number.NaN]) {
      const error = thrown(() => payloadLengthOf(bytes, bad));
      expect([error.code, error.message]).toEqual(["argument-invalid", "argument of wrong type or range (payloadLength must be from 0 to the payload's length)"]);
    }
  });

  it("qosOf: 0 by default, 0, 1 or 2 as given, anything else qos-invalid", () => {
    expect(qosOf(undefined)).toBe(0);
    expect(qosOf({})).toBe(0);
    expect(qosOf({ qos: 0 })).toBe(0);
    expect(qosOf({ qos: 1 })).toBe(1);
    expect(qosOf({ qos: 2 })).toBe(2);
    const three = thrown(() => qosOf({ qos: 3 }));
    expect([three.code, three.message]).toEqual(["qos-invalid", "QoS: 0, 1 or 2"]);
    expect(thrown(() => qosOf({ qos: -1 })).code).toBe("qos-invalid");
    expect(thrown(() => qosOf({ qos: "1" as never })).code).toBe("qos-invalid");
  });
});
