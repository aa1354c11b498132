/*
 * Differential property tests of the codec against mqtt-packet (npm), MQTT 3.1.1 only:
 * what we encode, mqtt-packet parses to the same fields (and generates the same bytes);
 * what mqtt-packet generates, our PacketDecoder decodes to the same fields, in any
 * chunking and as long streams, with oversize packets skipped in sync.
 * Every arbitrary here yields valid packets only; invalid input belongs to the fuzz suite.
 * Must not weaken a comparison to get green, nor depend on the other codec suites.
 */

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as mqtt from "mqtt-packet";
import {
  CONNACK, MqttError, NEED_MORE, OVERSIZE, PINGRESP, PUBACK, PUBCOMP, PUBLISH,
  PUBREC, PUBREL, PacketDecoder, SUBACK, UNSUBACK, encodeConnect,
  encodeDisconnect, encodePingreq, encodePuback, encodePubcomp, encodePublish, encodePubrec,
  encodePubrel, encodeSubscribe, encodeUnsubscribe, isValidTopicFilter, isValidTopicName,
  lengthFieldSize, prepareFilter, prepareTopic, publishSize,
} from "../device/mqtt/index.js";
import type { ConnectFields, PreparedTopic, SubscribeFilter, Will } from "../device/mqtt/index.js";
import { mqttParse, type Parsed } from "./support/mqtt-parse.js";

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const byteLength = (s: string): number => Buffer.byteLength(s, "utf8");
const SENTINEL = 0xa5;

/* ------------------------------------------------------------------ arbitraries */

/** A code point from 1 to U+10FFFF that is not a surrogate, biased to ASCII and emoji. */
const codePoint = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x01, max: 0x1f }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0x7ff }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x800, max: 0xfffd }).map((c) => (c >= 0xd800 && c <= 0xdfff ? c - 0x800 : c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) },
  { weight: 1, arbitrary: fc.constantFrom(0x1f600, 0x1f44d, 0x1f3e0, 0x2603, 0xe9, 0x20ac, 0x4e2d, 0xfeff) },
);

/** Any character allowed in an MQTT string: every code point except U+0000 [MQTT-1.5.3-2]. */
const anyChar = codePoint.map((c) => String.fromCodePoint(c));

/** A character allowed inside one topic level: not '/', '+', '#' (nor U+0000). */
const levelChar = codePoint.map((c) => String.fromCodePoint(c === 0x2f || c === 0x2b || c === 0x23 ? 0x5f : c));

const topicLevel = fc.string({ unit: levelChar, minLength: 0, maxLength: 8 });

/** Repeats `seed` ('/'-joined) to exactly `target` bytes or one code point short of it. */
function growTopic(seed: string, target: number): string {
  let grown = seed;
  while (byteLength(grown) < target) grown += "/" + seed;
  let out = "";
  let bytes = 0;
  for (const ch of grown) {
    const size = byteLength(ch);
    if (bytes + size > target) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/** A valid topic name [MQTT-4.7.1-1][MQTT-4.7.3-1][MQTT-4.7.3-3]: 1..65,535 bytes, no wildcards. */
const shortTopicName = fc.array(topicLevel, { minLength: 1, maxLength: 6 })
  .map((levels) => levels.join("/"))
  .map((t) => (t === "" ? "/" : t));
const topicName = fc.oneof(
  { weight: 20, arbitrary: shortTopicName },
  { weight: 1, arbitrary: fc.tuple(shortTopicName, fc.integer({ min: 200, max: 65_535 })).map(([t, n]) => growTopic(t, n)) },
  { weight: 1, arbitrary: fc.constantFrom("a".repeat(65_535), "é".repeat(32_767) + "a", "😀".repeat(16_383) + "abc", "$SYS/broker/uptime", "/", "//", "a/b/c") },
);

/** A valid topic filter [MQTT-4.7.1-2][MQTT-4.7.1-3]: '+' fills a level, '#' alone and last. */
const topicFilter = fc.tuple(
  fc.array(fc.oneof({ weight: 3, arbitrary: topicLevel }, { weight: 1, arbitrary: fc.constant("+") }), { minLength: 0, maxLength: 6 }),
  fc.boolean(),
).map(([levels, hash]) => {
  if (hash) levels = [...levels, "#"];
  const filter = levels.join("/");
  return filter === "" ? "/" : filter;
});

const packetId = fc.integer({ min: 1, max: 65_535 });
const qos = fc.constantFrom(0, 1, 2);

/** Pseudo-random bytes of a given size (fast to make even at 70 KB). */
function bytesOf(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let state = seed | 0 || 1;
  for (let i = 0; i < size; i++) {
    state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

/**
 * A payload size: mostly small, sometimes large enough for 2- and 3-byte remaining lengths,
 * sometimes chosen so that the whole remaining length sits on a length-field boundary.
 */
const payloadSpec = fc.oneof(
  { weight: 6, arbitrary: fc.record({ size: fc.integer({ min: 0, max: 300 }), boundary: fc.constant(0) }) },
  { weight: 2, arbitrary: fc.record({ size: fc.integer({ min: 0, max: 20_000 }), boundary: fc.constant(0) }) },
  { weight: 1, arbitrary: fc.record({ size: fc.integer({ min: 16_000, max: 70_000 }), boundary: fc.constant(0) }) },
  { weight: 2, arbitrary: fc.record({ size: fc.constant(0), boundary: fc.constantFrom(127, 128, 16_383, 16_384) }) },
);
function payloadSize(spec: { size: number; boundary: number }, topicBytes: number, qos: number): number {
  if (spec.boundary === 0) return spec.size;
  return Math.max(0, spec.boundary - 2 - topicBytes - (qos > 0 ? 2 : 0));
}

/* ------------------------------------------------------------------ helpers */

function prepared(name: string): PreparedTopic {
  try {
    return prepareTopic(name, utf8);
  } catch (error) {
    throw new Error("arbitrary made an invalid topic " + JSON.stringify(name) + ": " + String(error));
  }
}

function filterBytes(filter: string): Uint8Array {
  try {
    return prepareFilter(filter, utf8);
  } catch (error) {
    throw new Error("arbitrary made an invalid filter " + JSON.stringify(filter) + ": " + String(error));
  }
}

/**
 * Runs an encoder at a random offset in a buffer of sentinels, checks it wrote exactly
 * the bytes it reported and nothing outside them, and returns those bytes.
 */
function encodeAt(size: number, offset: number, encode: (buf: Uint8Array, offset: number) => number): Uint8Array {
  const buf = new Uint8Array(offset + size + 8).fill(SENTINEL);
  const written = encode(buf, offset);
  expect(written).toBe(size);
  for (let i = 0; i < offset; i++) if (buf[i] !== SENTINEL) expect.fail("wrote before the offset at " + i);
  for (let i = offset + written; i < buf.length; i++) if (buf[i] !== SENTINEL) expect.fail("wrote past the packet at " + i);
  return buf.subarray(offset, offset + written);
}

function sameBytes(actual: Uint8Array | unknown, expected: Uint8Array, what: string): void {
  if (!(actual instanceof Uint8Array)) expect.fail(what + " is not bytes: " + String(actual));
  if (Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.length), Buffer.from(expected.buffer, expected.byteOffset, expected.length)) !== 0) {
    expect.fail(what + " differs: " + actual.length + " bytes, expected " + expected.length);
  }
}

/* ------------------------------------------------------------------ encode → mqtt-packet */

describe("encode → mqtt-packet parses the same fields", () => {
  const will = fc.record({
    topic: topicName,
    payloadSize: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 200 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 65_535 }) }),
    seed: fc.integer(),
    qos,
    retain: fc.boolean(),
  });
  const connect = fc.record({
    clientId: fc.oneof(
      { weight: 6, arbitrary: fc.string({ unit: anyChar, minLength: 0, maxLength: 30 }) },
      { weight: 1, arbitrary: fc.string({ unit: anyChar, minLength: 100, maxLength: 400 }) },
      { weight: 1, arbitrary: fc.constantFrom("", "😀", "sensor-ü-01", "+/#") },
    ),
    clean: fc.boolean(),
    keepAlive: fc.oneof(fc.integer({ min: 0, max: 65_535 }), fc.constantFrom(0, 1, 60, 65_535)),
    will: fc.option(will, { nil: undefined }),
    username: fc.option(fc.string({ unit: anyChar, maxLength: 40 }), { nil: undefined }),
    password: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
    offset: fc.integer({ min: 0, max: 5 }),
  });

  it("CONNECT: protocol MQTT level 4, flags, keepalive, client id, will, user name, password [MQTT-3.1.2-1][MQTT-3.1.2-2][MQTT-3.1.3-1]", () => {
    fc.assert(fc.property(connect, (connect) => {
      // an empty client id needs a clean session [MQTT-3.1.3-7]; a password needs a user name [MQTT-3.1.2-22]
      const clean = connect.clean || connect.clientId === "";
      const password = connect.username === undefined ? undefined : connect.password;
      const willFields: Will | undefined = connect.will === undefined ? undefined : {
        topic: prepared(connect.will.topic), payload: bytesOf(connect.will.payloadSize, connect.will.seed), qos: connect.will.qos, retain: connect.will.retain,
      };
      const fields: ConnectFields = {
        clientId: utf8.encode(connect.clientId), clean, keepAlive: connect.keepAlive, username: connect.username === undefined ? undefined : utf8.encode(connect.username), password, will: willFields,
      };
      let remaining = 10 + 2 + byteLength(connect.clientId);
      if (willFields) remaining += 4 + willFields.topic.bytes.length + willFields.payload.length;
      if (connect.username !== undefined) remaining += 2 + byteLength(connect.username);
      if (password !== undefined) remaining += 2 + password.length;
      const bytes = encodeAt(1 + lengthFieldSize(remaining) + remaining, connect.offset, (b, o) => encodeConnect(b, o, fields));

      const [parsed, ...rest] = mqttParse(bytes);
      expect(rest).toEqual([]);
      expect(parsed).toMatchObject({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean, keepalive: connect.keepAlive, clientId: connect.clientId, length: remaining });
      // connect flags bit 0 is reserved and 0 [MQTT-3.1.2-3]; mqtt-packet's parser rejects it otherwise
      expect(bytes[1 + lengthFieldSize(remaining) + 7] & 1).toBe(0);
      if (willFields) {
        const will = parsed.will as Parsed;
        expect(will).toMatchObject({ topic: connect.will!.topic, qos: connect.will!.qos, retain: connect.will!.retain });
        sameBytes(will.payload, willFields.payload, "will payload");
      } else {
        // without a will, will QoS and will retain are 0 [MQTT-3.1.2-11][MQTT-3.1.2-13][MQTT-3.1.2-15]
        expect(parsed.will).toBeUndefined();
      }
      expect(parsed.username).toBe(connect.username);
      if (password === undefined) expect(parsed.password).toBeUndefined();
      else sameBytes(parsed.password, password, "password");

      // and mqtt-packet, given the same fields, writes the very same bytes
      const generated = mqtt.generate({
        cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean, keepalive: connect.keepAlive, clientId: connect.clientId,
        username: connect.username, password: password === undefined ? undefined : Buffer.from(password),
        will: connect.will === undefined ? undefined : { topic: connect.will.topic, payload: Buffer.from(willFields!.payload), qos: connect.will.qos as 0 | 1 | 2, retain: connect.will.retain },
      }, { protocolVersion: 4 });
      sameBytes(generated, bytes, "mqtt-packet's CONNECT");
    }), { numRuns: 1200 });
  });

  it("PUBLISH: topic, payload, QoS 0/1/2, retain, DUP only with QoS > 0, packet id only with QoS > 0 [MQTT-3.3.1-1][MQTT-3.3.1-2][MQTT-2.3.1-1][MQTT-2.3.1-5][MQTT-3.3.2-1]", () => {
    const lengthFieldsSeen = [0, 0, 0, 0, 0];
    fc.assert(fc.property(
      topicName, payloadSpec, fc.integer(), qos, fc.boolean(), fc.boolean(), packetId, fc.integer({ min: 0, max: 7 }),
      (topic, spec, seed, qos, retain, dupWish, id, offset) => {
        const preparedTopic = prepared(topic);
        expect(isValidTopicName(preparedTopic.bytes, 0, preparedTopic.bytes.length)).toBe(true);
        const payload = bytesOf(payloadSize(spec, preparedTopic.bytes.length, qos), seed);
        const dup = qos > 0 && dupWish;
        const size = publishSize(preparedTopic.bytes.length, payload.length, qos);
        const remaining = 2 + preparedTopic.bytes.length + (qos > 0 ? 2 : 0) + payload.length;
        expect(size).toBe(1 + lengthFieldSize(remaining) + remaining);
        lengthFieldsSeen[lengthFieldSize(remaining)]++;
        const bytes = encodeAt(size, offset, (b, o) => encodePublish(b, o, preparedTopic, payload, qos, retain, dup, id));

        const [parsed, ...rest] = mqttParse(bytes);
        expect(rest).toEqual([]);
        expect(parsed).toMatchObject({ cmd: "publish", topic, qos, retain, dup, length: remaining });
        expect(parsed.messageId).toBe(qos > 0 ? id : undefined);
        sameBytes(parsed.payload, payload, "payload");

        const generated = mqtt.generate({
          cmd: "publish", topic, payload: Buffer.from(payload), qos: qos as 0 | 1 | 2, retain, dup, messageId: qos > 0 ? id : undefined,
        }, { protocolVersion: 4 });
        sameBytes(generated, bytes, "mqtt-packet's PUBLISH");
      },
    ), { numRuns: 1200 });
    // the remaining-length field took 1, 2 and 3 bytes at least once each
    expect(lengthFieldsSeen.slice(1, 4).every((n) => n > 0), "length field sizes seen: " + lengthFieldsSeen.join(",")).toBe(true);
  });

  it("PUBLISH with 4-byte remaining lengths (2,097,152 bytes and just below)", () => {
    const preparedTopic = prepared("big/one");
    for (const remaining of [2_097_151, 2_097_152]) {
      const payload = bytesOf(remaining - 2 - preparedTopic.bytes.length - 2, remaining);
      const size = publishSize(preparedTopic.bytes.length, payload.length, 1);
      const bytes = encodeAt(size, 3, (b, o) => encodePublish(b, o, preparedTopic, payload, 1, false, false, 65_535));
      expect(size - 1 - remaining).toBe(remaining < 2_097_152 ? 3 : 4);
      const [parsed] = mqttParse(bytes);
      expect(parsed).toMatchObject({ cmd: "publish", topic: "big/one", qos: 1, messageId: 65_535, length: remaining });
      sameBytes(parsed.payload, payload, "payload");
    }
  });

  it("PUBLISH: DUP with QoS 0 is refused and nothing is written [MQTT-3.3.1-2]", () => {
    fc.assert(fc.property(topicName, fc.integer({ min: 0, max: 50 }), fc.boolean(), (topic, size, retain) => {
      const buf = new Uint8Array(70_000).fill(SENTINEL);
      let thrown: unknown;
      try {
        encodePublish(buf, 0, prepared(topic), bytesOf(size, size + 1), 0, retain, true, 0);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(MqttError);
      expect((thrown as MqttError).code).toBe("argument-invalid");
      for (let i = 0; i < buf.length; i++) if (buf[i] !== SENTINEL) expect.fail("wrote at " + i);
    }), { numRuns: 100 });
  });

  const subscription = fc.record({ filter: topicFilter, qos });

  it("SUBSCRIBE: packet id, filters with their QoS, flags 0010 [MQTT-3.8.1-1][MQTT-3.8.3-1][MQTT-3.8.3-3][MQTT-2.3.1-1]", () => {
    fc.assert(fc.property(packetId, fc.array(subscription, { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 4 }), (id, subs, offset) => {
      const filters: SubscribeFilter[] = subs.map((s) => ({ filter: filterBytes(s.filter), qos: s.qos }));
      for (const f of filters) expect(isValidTopicFilter(f.filter, 0, f.filter.length)).toBe(true);
      const remaining = 2 + filters.reduce((n, f) => n + 3 + f.filter.length, 0);
      const bytes = encodeAt(1 + lengthFieldSize(remaining) + remaining, offset, (b, o) => encodeSubscribe(b, o, id, filters));
      expect(bytes[0]).toBe(0x82);
      const [parsed, ...rest] = mqttParse(bytes);
      expect(rest).toEqual([]);
      expect(parsed).toMatchObject({ cmd: "subscribe", messageId: id, length: remaining });
      expect(parsed.subscriptions).toEqual(subs.map((s) => ({ topic: s.filter, qos: s.qos })));
      const generated = mqtt.generate({ cmd: "subscribe", messageId: id, subscriptions: subs.map((s) => ({ topic: s.filter, qos: s.qos as 0 | 1 | 2 })) }, { protocolVersion: 4 });
      sameBytes(generated, bytes, "mqtt-packet's SUBSCRIBE");
    }), { numRuns: 800 });
  });

  it("UNSUBSCRIBE: packet id and filters, flags 0010 [MQTT-3.10.1-1][MQTT-3.10.3-1][MQTT-3.10.3-2][MQTT-2.3.1-1]", () => {
    fc.assert(fc.property(packetId, fc.array(topicFilter, { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 4 }), (id, list, offset) => {
      const filters = list.map(filterBytes);
      const remaining = 2 + filters.reduce((n, f) => n + 2 + f.length, 0);
      const bytes = encodeAt(1 + lengthFieldSize(remaining) + remaining, offset, (b, o) => encodeUnsubscribe(b, o, id, filters));
      expect(bytes[0]).toBe(0xa2);
      const [parsed, ...rest] = mqttParse(bytes);
      expect(rest).toEqual([]);
      expect(parsed).toMatchObject({ cmd: "unsubscribe", messageId: id, length: remaining });
      expect(parsed.unsubscriptions).toEqual(list);
      const generated = mqtt.generate({ cmd: "unsubscribe", messageId: id, unsubscriptions: list }, { protocolVersion: 4 });
      sameBytes(generated, bytes, "mqtt-packet's UNSUBSCRIBE");
    }), { numRuns: 600 });
  });

  it("SUBSCRIBE and UNSUBSCRIBE from filters named by start and length in one byte array: the same bytes as from each filter's own [MQTT-3.8.3-1][MQTT-3.10.3-1]", () => {
    fc.assert(fc.property(packetId, fc.array(subscription, { minLength: 1, maxLength: 8 }), (id, subs) => {
      const own = subs.map((s) => filterBytes(s.filter));
      // every filter's bytes end to end after a stray byte, as a subscription table keeps them
      const all = new Uint8Array(1 + own.reduce((n, f) => n + f.length, 0)).fill(0x23);
      const named: SubscribeFilter[] = [];
      for (let i = 0, start = 1; i < own.length; start += own[i].length, i++) {
        all.set(own[i], start);
        named.push({ filter: all, qos: subs[i].qos, start, length: own[i].length });
      }
      const remaining = 2 + own.reduce((n, f) => n + 3 + f.length, 0);
      const whole = (filters: SubscribeFilter[]) => encodeAt(1 + lengthFieldSize(remaining) + remaining, 0, (b, o) => encodeSubscribe(b, o, id, filters));
      sameBytes(whole(own.map((filter, i) => ({ filter, qos: subs[i].qos }))), whole(named), "SUBSCRIBE from its filters' own bytes");
      const unsubRemaining = remaining - own.length;
      const unsub = (filters: (Uint8Array | SubscribeFilter)[]) => encodeAt(1 + lengthFieldSize(unsubRemaining) + unsubRemaining, 0, (b, o) => encodeUnsubscribe(b, o, id, filters));
      sameBytes(unsub(own), unsub(named), "UNSUBSCRIBE from its filters' own bytes");
    }), { numRuns: 200 });
    // a range past the bytes, before them, empty or at a fraction names no filter
    const bytes = utf8.encode("a/#");
    for (const [start, length] of [[0, 4], [-1, 2], [2, 0], [1.5, 1]]) {
      expect(() => encodeSubscribe(new Uint8Array(32), 0, 1, [{ filter: bytes, qos: 0, start, length }])).toThrow(expect.objectContaining({ code: "filter-invalid" }));
      expect(() => encodeUnsubscribe(new Uint8Array(32), 0, 1, [{ filter: bytes, qos: 0, start, length }])).toThrow(expect.objectContaining({ code: "filter-invalid" }));
    }
    expect(() => encodeSubscribe(new Uint8Array(32), 0, 1, [bytes as unknown as SubscribeFilter])).toThrow(expect.objectContaining({ code: "filter-invalid" }));
  });

  it("PUBACK, PUBREC, PUBREL (flags 0010), PUBCOMP carry the packet id [MQTT-3.6.1-1][MQTT-2.3.1-6]", () => {
    const encoders = [
      ["puback", encodePuback, 0x40], ["pubrec", encodePubrec, 0x50], ["pubrel", encodePubrel, 0x62], ["pubcomp", encodePubcomp, 0x70],
    ] as const;
    fc.assert(fc.property(fc.constantFrom(0, 1, 2, 3), packetId, fc.integer({ min: 0, max: 9 }), (which, id, offset) => {
      const [cmd, encode, first] = encoders[which];
      const bytes = encodeAt(4, offset, (b, o) => encode(b, o, id));
      expect(bytes[0]).toBe(first);
      const [parsed, ...rest] = mqttParse(bytes);
      expect(rest).toEqual([]);
      expect(parsed).toMatchObject({ cmd, messageId: id, length: 2 });
      sameBytes(mqtt.generate({ cmd, messageId: id }, { protocolVersion: 4 }), bytes, "mqtt-packet's " + cmd);
    }), { numRuns: 600 });
  });

  it("PINGREQ and DISCONNECT: two bytes, reserved flags 0 [MQTT-2.2.2-1]", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 16 }), (offset) => {
      const ping = encodeAt(2, offset, encodePingreq);
      const disconnect = encodeAt(2, offset, encodeDisconnect);
      const both = new Uint8Array([...ping, ...disconnect]);
      const packets = mqttParse(both);
      expect(packets.map((p) => [p.cmd, p.length])).toEqual([["pingreq", 0], ["disconnect", 0]]);
      sameBytes(mqtt.generate({ cmd: "pingreq" }), ping, "mqtt-packet's PINGREQ");
      sameBytes(mqtt.generate({ cmd: "disconnect" }, { protocolVersion: 4 }), disconnect, "mqtt-packet's DISCONNECT");
    }), { numRuns: 20 });
  });
});

/* ------------------------------------------------------------------ mqtt-packet → decode */

type ServerPacket =
  | { cmd: "connack"; returnCode: number; sessionPresent: boolean }
  | { cmd: "publish"; topic: string; payload: Uint8Array; qos: 0 | 1 | 2; retain: boolean; dup: boolean; messageId?: number }
  | { cmd: "puback" | "pubrec" | "pubrel" | "pubcomp" | "unsuback"; messageId: number }
  | { cmd: "suback"; messageId: number; granted: number[] }
  | { cmd: "pingresp" };

const TYPE_OF = { connack: CONNACK, publish: PUBLISH, puback: PUBACK, pubrec: PUBREC, pubrel: PUBREL, pubcomp: PUBCOMP, suback: SUBACK, unsuback: UNSUBACK, pingresp: PINGRESP } as const;

function serverPacket(maxPayload: number): fc.Arbitrary<ServerPacket> {
  const payload = maxPayload > 20_000
    ? fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 500 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: maxPayload }) })
    : fc.integer({ min: 0, max: maxPayload });
  return fc.oneof(
    // a refused connection never has a session [MQTT-3.2.2-4]
    fc.record({ returnCode: fc.integer({ min: 0, max: 5 }), sessionPresent: fc.boolean() })
      .map(({ returnCode, sessionPresent }) => ({ cmd: "connack" as const, returnCode, sessionPresent: sessionPresent && returnCode === 0 })),
    { weight: 4, arbitrary: fc.record({ topic: topicName, size: payload, seed: fc.integer(), qos, retain: fc.boolean(), dup: fc.boolean(), id: packetId })
      .map(({ topic, size, seed, qos, retain, dup, id }) => ({
        cmd: "publish" as const, topic, payload: bytesOf(size, seed), qos: qos as 0 | 1 | 2, retain, dup: dup && qos > 0, messageId: qos > 0 ? id : undefined,
      })) },
    fc.record({ cmd: fc.constantFrom("puback" as const, "pubrec" as const, "pubrel" as const, "pubcomp" as const, "unsuback" as const), messageId: packetId }),
    fc.record({ cmd: fc.constant("suback" as const), messageId: packetId, granted: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 12 }) }),
    fc.constant({ cmd: "pingresp" as const }),
  );
}

function remainingOf(packet: ServerPacket): number {
  switch (packet.cmd) {
    case "publish": return 2 + byteLength(packet.topic) + (packet.qos > 0 ? 2 : 0) + packet.payload.length;
    case "suback": return 2 + packet.granted.length;
    case "pingresp": return 0;
    default: return 2;
  }
}

function generate(serverPacket: ServerPacket): Uint8Array {
  const packet = serverPacket.cmd === "publish" ? { ...serverPacket, payload: Buffer.from(serverPacket.payload) } : serverPacket;
  const bytes = mqtt.generate(packet as mqtt.Packet, { protocolVersion: 4 });
  const remaining = remainingOf(serverPacket);
  expect(bytes.length, "mqtt-packet's size for " + serverPacket.cmd).toBe(1 + lengthFieldSize(remaining) + remaining);
  return bytes;
}

/** What the decoder is expected to report for a packet, given its receive buffer size. */
type Seen = Record<string, unknown>;

function expected(packet: ServerPacket, receiveBufferSize: number): Seen {
  const type = TYPE_OF[packet.cmd];
  const remainingLength = remainingOf(packet);
  if (remainingLength > receiveBufferSize) {
    // skipped, but what acknowledging a PUBLISH needs is still reported
    const qos = packet.cmd === "publish" ? packet.qos : 0;
    return { result: OVERSIZE, type, remainingLength, qos, ...(packet.cmd === "publish" ? { packetId: packet.messageId ?? 0 } : {}) };
  }
  switch (packet.cmd) {
    case "connack": return { result: type, type, remainingLength, sessionPresent: packet.sessionPresent, returnCode: packet.returnCode };
    case "publish": return {
      result: type, type, remainingLength, qos: packet.qos, retain: packet.retain, dup: packet.dup, packetId: packet.messageId ?? 0, topic: packet.topic, payload: Buffer.from(packet.payload),
    };
    case "suback": return { result: type, type, remainingLength, packetId: packet.messageId, codes: packet.granted };
    case "pingresp": return { result: type, type, remainingLength };
    default: return { result: type, type, remainingLength, packetId: packet.messageId };
  }
}

/** What the decoder reported, read at once (its fields are valid until the next call). */
function observe(decoder: PacketDecoder, result: number): Seen {
  if (result === OVERSIZE) {
    return { result, type: decoder.type, remainingLength: decoder.remainingLength, qos: decoder.qos, ...(decoder.type === PUBLISH ? { packetId: decoder.packetId } : {}) };
  }
  const base = { result, type: decoder.type, remainingLength: decoder.remainingLength };
  switch (result) {
    case CONNACK: return { ...base, sessionPresent: decoder.sessionPresent, returnCode: decoder.returnCode };
    case PUBLISH: {
      if (decoder.payloadOffset + decoder.payloadLength !== decoder.bodyOffset + decoder.remainingLength) expect.fail("the payload does not end the body");
      return {
        ...base, qos: decoder.qos, retain: decoder.retain, dup: decoder.dup, packetId: decoder.packetId,
        topic: strictUtf8.decode(decoder.buf.subarray(decoder.topicOffset, decoder.topicOffset + decoder.topicLength)),
        payload: Buffer.from(decoder.buf.subarray(decoder.payloadOffset, decoder.payloadOffset + decoder.payloadLength)),
      };
    }
    case SUBACK: return { ...base, packetId: decoder.packetId, codes: Array.from(decoder.buf.subarray(decoder.codesOffset, decoder.codesOffset + decoder.codesLength)) };
    case PINGRESP: return base;
    default: return { ...base, packetId: decoder.packetId };
  }
}

/**
 * Chunk boundaries from fast-check's choice: random split points, every byte apart (up to
 * 20,000 bytes, for time), or whole.
 * Each chunk is copied into its own array between guard bytes, so a read outside the fed
 * range finds bytes that would not decode to the expected fields.
 */
const chunking = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.nat(), { maxLength: 12 }).map((cuts) => ({ every: false, cuts })) },
  { weight: 1, arbitrary: fc.constant({ every: true, cuts: [] as number[] }) },
  { weight: 1, arbitrary: fc.constant({ every: false, cuts: [] as number[] }) },
);

function chunksOf(stream: Uint8Array, how: { every: boolean; cuts: number[] }): { buf: Uint8Array; start: number; end: number }[] {
  const points = how.every && stream.length <= 20_000
    ? Array.from({ length: stream.length + 1 }, (_, i) => i)
    : [...new Set([0, stream.length, ...how.cuts.map((c) => c % (stream.length + 1))])].sort((a, b) => a - b);
  const chunks = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const len = points[i + 1] - points[i];
    const buf = new Uint8Array(len + 6).fill(0x30); // 0x30 reads as a PUBLISH header
    buf.set(stream.subarray(points[i], points[i + 1]), 3);
    chunks.push({ buf, start: 3, end: 3 + len });
  }
  return chunks;
}

/** Feeds the chunks into a decoder, calling next() until NEED_MORE after each. */
function decodeStream(decoder: PacketDecoder, stream: Uint8Array, how: { every: boolean; cuts: number[] }): Seen[] {
  const seen: Seen[] = [];
  const chunks = chunksOf(stream, how);
  let calls = 0;
  for (const chunk of chunks) {
    decoder.feed(chunk.buf, chunk.start, chunk.end);
    for (;;) {
      const result = decoder.next();
      calls++;
      if (calls > stream.length + chunks.length) expect.fail("next() was called more often than bytes plus chunks");
      if (result === NEED_MORE) {
        if (decoder.pending !== 0) expect.fail("NEED_MORE with " + decoder.pending + " bytes unread");
        break;
      }
      seen.push(observe(decoder, result));
    }
  }
  return seen;
}

function compareSeen(actual: Seen[], wanted: Seen[]): void {
  expect(actual.length, "packets decoded").toBe(wanted.length);
  for (let i = 0; i < wanted.length; i++) {
    const { payload: actualPayload, ...restA } = actual[i];
    const { payload: wantedPayload, ...restB } = wanted[i];
    expect(restA, "packet " + i).toEqual(restB);
    if (wantedPayload !== undefined) sameBytes(actualPayload, wantedPayload as Buffer, "payload of packet " + i);
  }
}

describe("mqtt-packet generates → PacketDecoder decodes the same fields", () => {
  it("each server packet, in any chunking [MQTT-2.3.1-1][MQTT-3.3.1-1][MQTT-3.2.2-4][MQTT-3.9.3-2]", () => {
    fc.assert(fc.property(serverPacket(70_000), chunking, (packet, how) => {
      const bytes = generate(packet);
      const size = Math.max(2, remainingOf(packet));
      const decoder = new PacketDecoder(size);
      compareSeen(decodeStream(decoder, bytes, how), [expected(packet, size)]);
    }), { numRuns: 1200 });
  });

  it("a stream of many packets, in any chunking, decodes packet for packet", () => {
    fc.assert(fc.property(fc.array(serverPacket(2_000), { minLength: 1, maxLength: 40 }), chunking, (packets, how) => {
      const parts = packets.map(generate);
      const stream = Buffer.concat(parts);
      const size = Math.max(2, ...packets.map(remainingOf));
      const decoder = new PacketDecoder(size);
      compareSeen(decodeStream(decoder, stream, how), packets.map((p) => expected(p, size)));
      // and mqtt-packet parses the same stream back to as many packets
      expect(mqttParse(stream).map((p) => p.cmd)).toEqual(packets.map((p) => p.cmd));
    }), { numRuns: 400 });
  });

  it("with a small receive buffer, larger packets are skipped and reported in sync, the rest decoded", () => {
    let oversize = 0;
    fc.assert(fc.property(fc.array(serverPacket(600), { minLength: 1, maxLength: 30 }), fc.integer({ min: 2, max: 300 }), chunking, (packets, size, how) => {
      const stream = Buffer.concat(packets.map(generate));
      const decoder = new PacketDecoder(size);
      const wanted = packets.map((p) => expected(p, size));
      oversize += wanted.filter((w) => w.result === OVERSIZE).length;
      compareSeen(decodeStream(decoder, stream, how), wanted);
    }), { numRuns: 400 });
    expect(oversize).toBeGreaterThan(0);
  });
});
