/*
 * Fuzzing of the MQTT 5.0 stream decoder (PacketDecoder5) with random bytes and mutated
 * streams of valid 5.0 server packets (mqtt-packet generates them, QoS 2 flows, DISCONNECT
 * and AUTH included), fed in random chunkings into small receive buffers. FUZZ_STREAMS / 4
 * streams per run (50,000 by default); FUZZ_SEED replays a run (its seed is in the summary
 * line and in every failure).
 * Checks: only MqttErrors with a decoder's codes thrown, next() calls bounded by bytes
 * plus chunks, every field and every property accessor inside the fed bytes and never
 * throwing, valid streams decoded packet for packet, and a valid packet decoded after every
 * error. Must not use Math.random or the clock for anything but the default seed.
 */

import { afterAll, describe, expect, it } from "vitest";
import * as mqtt from "mqtt-packet";
import * as lib from "../device/mqtt/index.js";
import type { ErrorCode } from "../device/mqtt/index.js";
import { envInt } from "./support/env.js";
import { Rng } from "./support/xorshift32.js";

const STREAMS = Math.round(envInt("FUZZ_STREAMS", 200_000) / 4);
const SEED = envInt("FUZZ_SEED", (Date.now() ^ (process.pid << 16)) >>> 0) >>> 0;

/** The codes the 5.0 decoder may report: what a server can get wrong. */
const DECODER_CODES: ReadonlySet<string> = new Set([
  "packet-type-invalid", "reserved-flags", "length-too-long", "length-mismatch", "packet-id-zero",
  "utf8-invalid", "utf8-null", "topic-wildcard", "topic-empty", "dup-invalid", "connack-flags-invalid",
  "qos-invalid", "property-invalid", "reason-code-invalid",
] satisfies ErrorCode[]);

const PROPERTY_IDS = [
  0x01, 0x02, 0x03, 0x08, 0x09, 0x0b, 0x11, 0x12, 0x13, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1c, 0x1f, 0x21, 0x22,
  0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
];

/** Valid 5.0 server packets of every type, with and without properties. */
function makePool(rng: Rng): Uint8Array[] {
  const users = { a: "1", "ü": ["x", "y"] };
  const packets: object[] = [
    { cmd: "connack", sessionPresent: true, reasonCode: 0, properties: { receiveMaximum: 10, topicAliasMaximum: 5, maximumPacketSize: 300, assignedClientIdentifier: "auto-7", serverKeepAlive: 20, userProperties: users } },
    { cmd: "connack", sessionPresent: false, reasonCode: 0x87, properties: { reasonString: "nope" } },
    { cmd: "connack", sessionPresent: false, reasonCode: 0 },
    { cmd: "pingresp" },
    { cmd: "disconnect", reasonCode: 0x8e, properties: { reasonString: "taken over", serverReference: "other" } },
    { cmd: "disconnect", reasonCode: 0 },
    { cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "SCRAM-SHA-1", authenticationData: Buffer.from([1, 2, 3]) } },
  ];
  for (let i = 0; i < 40; i++) {
    const qos = rng.below(3);
    const size = rng.chance(0.2) ? rng.int(100, 700) : rng.int(0, 40);
    const payload = Buffer.alloc(size, rng.below(256));
    packets.push({
      cmd: "publish", topic: "t/" + i + (rng.chance(0.3) ? "/é😀" : ""), payload, qos, retain: rng.chance(0.5), dup: qos > 0 && rng.chance(0.3),
      messageId: qos > 0 ? rng.int(1, 65_535) : undefined,
      properties: rng.chance(0.5) ? {} : {
        payloadFormatIndicator: rng.chance(0.5), messageExpiryInterval: rng.u32(), contentType: "text/plain", responseTopic: "r/" + i,
        correlationData: Buffer.from([i]), subscriptionIdentifier: rng.int(1, 268_435_455), userProperties: users,
      },
    });
    const id = rng.int(1, 65_535);
    const ack = rng.pick(["puback", "pubrec", "pubrel", "pubcomp"]);
    const reasons = ack === "pubrel" || ack === "pubcomp" ? [0, 0x92] : [0, 0x10, 0x80, 0x97];
    packets.push({ cmd: ack, messageId: id, reasonCode: rng.pick(reasons), properties: rng.chance(0.5) ? {} : { reasonString: "r" + i, userProperties: users } });
    packets.push({ cmd: rng.chance(0.5) ? "suback" : "unsuback", messageId: id, granted: [0, 0x80, 0x87], properties: { reasonString: "s" } });
  }
  return packets.map((p) => new Uint8Array(mqtt.generate(p as mqtt.Packet, { protocolVersion: 5 })));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function mutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  const out = Array.from(bytes);
  const edits = rng.int(1, 4);
  for (let e = 0; e < edits && out.length > 0; e++) {
    const at = rng.below(out.length);
    switch (rng.below(6)) {
      case 0: out[at] ^= 1 << rng.below(8); break;
      case 1: out.splice(at, 0, rng.below(256)); break;
      case 2: out.splice(at, 1); break;
      case 3: out[at] = rng.pick(PROPERTY_IDS); break; // a property identifier where it does not belong
      case 4: out[at] = rng.pick([0x00, 0x7f, 0x80, 0xff]); break;
      default: out.length = at; // truncated
    }
  }
  return new Uint8Array(out);
}

const stats = { streams: 0, bytes: 0, calls: 0, packets: 0, oversize: 0, errors: 0, started: performance.now() };

/** Reads every field and property the decoder offers; all must lie inside `buf` and nothing may throw. */
function probe(dec: lib.PacketDecoder5, type: number): void {
  const { buf } = dec;
  const inside = (offset: number, length: number): boolean => offset >= 0 && length >= 0 && offset + length <= buf.length;
  if (type === lib.PUBLISH) {
    expect(inside(dec.topicOffset, dec.topicLength) && inside(dec.payloadOffset, dec.payloadLength)).toBe(true);
  }
  if (type === lib.SUBACK || type === lib.UNSUBACK) expect(inside(dec.codesOffset, dec.codesLength)).toBe(true);
  expect(dec.propertiesOffset <= dec.propertiesEnd && dec.propertiesEnd <= buf.length).toBe(true);
  for (const id of PROPERTY_IDS) {
    if (!dec.has(id)) continue;
    expect(Number.isFinite(dec.number(id, -1))).toBe(true);
    const at = dec.bytesOffset(id);
    if (at >= 0) expect(inside(at, dec.bytesLength(id))).toBe(true);
    else expect(dec.bytesLength(id)).toBe(0);
  }
  for (let i = 0; dec.userProperty(i) && i < 100; i++) {
    expect(inside(dec.nameOffset, dec.nameLength) && inside(dec.valueOffset, dec.valueLength)).toBe(true);
  }
}

/** Feeds a stream in random chunks; returns the packet types decoded (OVERSIZE included) up to the first error. */
function run(rng: Rng, stream: Uint8Array, rx: number, context: string): { types: number[]; failed: boolean; dec: lib.PacketDecoder5 } {
  const dec = new lib.PacketDecoder5(rx);
  const types: number[] = [];
  let start = 0;
  let chunks = 0;
  let calls = 0;
  let failed = false;
  while (start < stream.length && !failed) {
    const end = Math.min(stream.length, start + rng.int(1, rng.chance(0.5) ? 8 : 400));
    const chunk = stream.slice(start, end);
    chunks++;
    dec.feed(chunk, 0, chunk.length);
    for (;;) {
      calls++;
      if (calls > stream.length + chunks + 1) throw new Error(context + ": next() called more than bytes plus chunks");
      let type: number;
      try {
        type = dec.next();
      } catch (error) {
        if (!lib.isMqttError(error)) throw new Error(context + ": threw " + String(error));
        if (!DECODER_CODES.has(error.code)) throw new Error(context + ": unexpected code " + error.code);
        expect(dec.pending).toBe(0);
        stats.errors++;
        failed = true;
        break;
      }
      if (type === lib.NEED_MORE) break;
      if (type === lib.OVERSIZE) stats.oversize++;
      else {
        stats.packets++;
        probe(dec, type);
      }
      types.push(type);
    }
    start = end;
  }
  stats.calls += calls;
  stats.bytes += stream.length;
  stats.streams++;
  return { types, failed, dec };
}

describe("5.0 decoder fuzz (" + STREAMS + " streams)", () => {
  const pool = makePool(new Rng(SEED ^ 0x5a5a5a5a));
  const ping = new Uint8Array([0xd0, 0x00]);
  const timeout = Math.max(60_000, STREAMS);

  afterAll(() => {
    console.log(
      "fuzz5 seed=" + SEED + " streams=" + stats.streams + " bytes=" + stats.bytes + " calls=" + stats.calls + " packets=" + stats.packets
      + " oversize=" + stats.oversize + " errors=" + stats.errors + " time=" + ((performance.now() - stats.started) / 1000).toFixed(1) + "s",
    );
  });

  it("random and mutated streams: only MqttErrors, bounded calls, accessors inside the bytes, decoder usable after each error", () => {
    for (let i = 0; i < STREAMS; i++) {
      const rng = new Rng((SEED + Math.imul(i + 1, 0x9e3779b1)) >>> 0);
      const context = "seed " + SEED + " stream " + i;
      let stream: Uint8Array;
      if (rng.chance(0.25)) {
        stream = new Uint8Array(rng.int(1, 200));
        for (let k = 0; k < stream.length; k++) stream[k] = rng.below(256);
      } else {
        const parts: Uint8Array[] = [];
        for (let k = rng.int(1, 6); k > 0; k--) parts.push(rng.pick(pool));
        stream = mutate(rng, concat(parts));
      }
      const { failed, dec } = run(rng, stream, rng.pick([16, 64, 300, 1024]), context);
      if (failed) {
        // after an error the decoder starts afresh: a PINGRESP decodes
        dec.feed(ping, 0, 2);
        expect(dec.next(), context).toBe(lib.PINGRESP);
      }
    }
  }, timeout);

  it("valid streams decode packet for packet, larger packets skipped in sync", () => {
    const rx = 256;
    for (let i = 0; i < STREAMS / 10; i++) {
      const rng = new Rng((SEED ^ Math.imul(i + 7, 0x85ebca77)) >>> 0);
      const parts: Uint8Array[] = [];
      for (let k = rng.int(1, 10); k > 0; k--) parts.push(rng.pick(pool));
      const { types, failed } = run(rng, concat(parts), rx, "seed " + SEED + " valid " + i);
      expect(failed).toBe(false);
      expect(types).toEqual(parts.map((p) => {
        let length = 0;
        let at = 1;
        for (let m = 1; ; m *= 128) {
          length += (p[at] & 0x7f) * m;
          if ((p[at++] & 0x80) === 0) break;
        }
        return length > rx ? lib.OVERSIZE : p[0] >> 4;
      }));
    }
  }, timeout);
});
