/*
 * Fuzzing of the stream decoder (PacketDecoder) with random and mutated byte streams, fed
 * in random chunkings into small receive buffers. FUZZ_STREAMS streams per run (200,000 by
 * default; `npm run fuzz` runs 2,000,000); FUZZ_SEED replays a run (its seed is printed in
 * the summary line and in every failure).
 * Checks: nothing thrown, next() calls bounded by bytes plus chunks, input never left
 * unread, typed errors only, decoded fields inside the fed bytes, the same events as a
 * simple whole-stream reference decoder up to the first error, and a valid packet decoded
 * after every error. Must not use Math.random or the clock for anything but the default seed.
 */

import { afterAll, describe, expect, it } from "vitest";
import * as mqtt from "mqtt-packet";
import {
  CONNACK, MqttError, NEED_MORE, OVERSIZE, PINGRESP, PUBACK, PUBCOMP, PUBLISH,
  PUBREC, PUBREL, PacketDecoder, SUBACK, UNSUBACK, isValidTopicName,
} from "../device/mqtt/index.js";
import type { ErrorCode } from "../device/mqtt/index.js";
import { envInt } from "./support/env.js";
import { Rng } from "./support/xorshift32.js";

const STREAMS = envInt("FUZZ_STREAMS", 200_000);
const SEED = envInt("FUZZ_SEED", (Date.now() ^ (process.pid << 16)) >>> 0) >>> 0;

/** The codes a decoder may report: what a server can get wrong (plus QoS 3 in a PUBLISH). */
const DECODER_CODES = [
  "packet-type-invalid", "reserved-flags", "length-too-long", "length-mismatch", "packet-id-zero",
  "utf8-invalid", "utf8-null", "topic-wildcard", "topic-empty", "dup-invalid", "suback-code-invalid",
  "connack-flags-invalid", "connack-code-unknown", "protocol-violation", "qos-invalid",
] as const satisfies readonly ErrorCode[];
const decoderCodes: ReadonlySet<string> = new Set(DECODER_CODES);

/* ------------------------------------------------------------------ seeded randomness */

/** Mixes the run's seed with a case and a stream number into one stream's seed. */
function streamSeed(caseNo: number, index: number): number {
  let mixed = (SEED ^ Math.imul(caseNo + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
  mixed ^= mixed >>> 16; mixed = Math.imul(mixed, 0x7feb352d);
  mixed ^= mixed >>> 15; mixed = Math.imul(mixed, 0x846ca68b);
  mixed ^= mixed >>> 16;
  return mixed >>> 0;
}

/* ------------------------------------------------------------------ event keys */

/** FNV-1a over bytes[start, start + length). */
function hash(bytes: Uint8Array, start: number, length: number): number {
  let digest = 0x811c9dc5;
  for (let i = start, end = start + length; i < end; i++) digest = Math.imul(digest ^ bytes[i], 0x01000193);
  return digest >>> 0;
}

// One string per event, the same format for the decoder, the reference and the pool.
const keyConnack = (sp: boolean, rc: number) => "C" + (sp ? 1 : 0) + ":" + rc;
const keyPublish = (qos: number, retain: boolean, dup: boolean, id: number, topic: Uint8Array, to: number, tl: number, payload: Uint8Array, po: number, pl: number) =>
  "P" + qos + (retain ? "r" : "-") + (dup ? "d" : "-") + id + ":" + tl + ":" + hash(topic, to, tl) + ":" + pl + ":" + hash(payload, po, pl);
const keySuback = (id: number, codes: Uint8Array, co: number, cl: number) => "S" + id + ":" + cl + ":" + hash(codes, co, cl);
const keyAck = (type: number, id: number) => "A" + type + ":" + id;
const keyPingresp = () => "R";
const keyOversize = (type: number, rl: number, q: number, id: number) => "O" + type + ":" + rl + ":" + q + ":" + id;

/* ------------------------------------------------------------------ reference decoder */

type RefEvent = string | { errors: ReadonlySet<string> };

const ACK_FLAGS: { readonly [type: number]: number } = {
  [CONNACK]: 0, [PUBACK]: 0, [PUBREC]: 0, [PUBREL]: 2, [PUBCOMP]: 0, [SUBACK]: 0, [UNSUBACK]: 0, [PINGRESP]: 0,
};
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes a whole stream the plain way, straight from the MQTT 3.1.1 text, up to the
 * first error: each event is a key, or the set of errors the packet commits (a decoder
 * may report any one of them). A packet not yet complete at the end gives no event.
 */
function reference(stream: Uint8Array, rx: number): RefEvent[] {
  const out: RefEvent[] = [];
  let pos = 0;
  const fail = (...codes: string[]) => { out.push({ errors: new Set(codes) }); return out; };
  while (pos < stream.length) {
    const first = stream[pos];
    const type = first >> 4;
    const flags = first & 15;
    if (type === PUBLISH) {
      if ((flags & 6) === 6) return fail("qos-invalid"); // [MQTT-3.3.1-4]
      if ((flags & 6) === 0 && (flags & 8)) return fail("dup-invalid"); // [MQTT-3.3.1-2]
    } else if (!(type in ACK_FLAGS)) {
      return fail("packet-type-invalid");
    } else if (flags !== ACK_FLAGS[type]) {
      return fail("reserved-flags"); // [MQTT-2.2.2-1]
    }
    let rl = 0;
    let cursor = pos + 1;
    for (let lengthBytes = 0, mul = 1; ; mul *= 128) {
      if (cursor >= stream.length) return out;
      const byte = stream[cursor++];
      rl += (byte & 127) * mul;
      if (!(byte & 128)) break;
      if (++lengthBytes === 4) return fail("length-too-long");
    }
    const fixed = type === PINGRESP ? 0 : type === PUBLISH || type === SUBACK ? -1 : 2;
    if (fixed >= 0 ? rl !== fixed : rl < 3) return fail("length-mismatch");
    if (cursor + rl > stream.length) return out;
    const body = cursor;
    pos = body + rl;
    const u16 = (at: number) => (stream[at] << 8) | stream[at + 1];
    const qos = type === PUBLISH ? (flags >> 1) & 3 : 0;
    if (rl > rx) {
      // skipped unread, but a PUBLISH still has to hold a topic and its packet id within its length
      if (type !== PUBLISH) { out.push(keyOversize(type, rl, 0, 0)); continue; }
      const topicLength = u16(body);
      if (2 + topicLength + (qos > 0 ? 2 : 0) > rl) return fail("length-mismatch");
      const id = qos > 0 ? u16(body + 2 + topicLength) : 0;
      const errors: string[] = [];
      if (topicLength === 0) errors.push("topic-empty"); // [MQTT-4.7.3-1]
      if (qos > 0 && id === 0) errors.push("packet-id-zero"); // [MQTT-2.3.1-1]
      if (errors.length > 0) return fail(...errors);
      out.push(keyOversize(type, rl, qos, id));
      continue;
    }
    switch (type) {
      case CONNACK: {
        const sp = stream[body];
        const rc = stream[body + 1];
        const errors: string[] = [];
        if (sp > 1 || (rc !== 0 && sp !== 0)) errors.push("connack-flags-invalid"); // [MQTT-3.2.2-1][MQTT-3.2.2-4]
        if (rc > 5) errors.push("connack-code-unknown");
        if (errors.length > 0) return fail(...errors);
        out.push(keyConnack(sp === 1, rc));
        break;
      }
      case SUBACK: {
        const errors: string[] = [];
        if (u16(body) === 0) errors.push("packet-id-zero");
        for (let k = body + 2; k < pos; k++) if (stream[k] > 2 && stream[k] !== 0x80) errors.push("suback-code-invalid"); // [MQTT-3.9.3-2]
        if (errors.length > 0) return fail(...errors);
        out.push(keySuback(u16(body), stream, body + 2, rl - 2));
        break;
      }
      case PINGRESP:
        out.push(keyPingresp());
        break;
      case PUBLISH: {
        const topicLength = u16(body);
        const head = 2 + topicLength + (qos > 0 ? 2 : 0);
        if (head > rl) return topicLength === 0 ? fail("length-mismatch", "topic-empty") : fail("length-mismatch");
        const errors: string[] = [];
        if (topicLength === 0) errors.push("topic-empty"); // [MQTT-4.7.3-1]
        const topic = stream.subarray(body + 2, body + 2 + topicLength);
        if (topic.includes(0x2b) || topic.includes(0x23)) errors.push("topic-wildcard"); // [MQTT-3.3.2-2]
        if (topic.includes(0)) errors.push("utf8-null"); // [MQTT-1.5.3-2]
        try { strictUtf8.decode(topic); } catch { errors.push("utf8-invalid"); } // [MQTT-1.5.3-1]
        const id = qos > 0 ? u16(body + 2 + topicLength) : 0;
        if (qos > 0 && id === 0) errors.push("packet-id-zero");
        if (errors.length > 0) return fail(...errors);
        out.push(keyPublish(qos, (flags & 1) === 1, (flags & 8) === 8, id, stream, body + 2, topicLength, stream, body + head, rl - head));
        break;
      }
      default: {
        if (u16(body) === 0) return fail("packet-id-zero");
        out.push(keyAck(type, u16(body)));
      }
    }
  }
  return out;
}

/* ------------------------------------------------------------------ valid packets */

interface PoolPacket {
  bytes: Uint8Array;
  /** The body size, and the keys when decoded whole and when skipped. */
  remainingLength: number;
  key: string;
  oversizeKey: string;
}

const TOPIC_CHARS = ["a", "b", "z", "0", "9", "_", "-", " ", "$", "é", "€", "中", "😀", "\u{10ffff}", "\ufeff", "\u0001", "~"];

function randomTopic(rng: Rng): string {
  const levels = rng.int(1, 5);
  const parts: string[] = [];
  for (let l = 0; l < levels; l++) {
    let level = "";
    for (let n = rng.int(0, 6); n > 0; n--) level += rng.pick(TOPIC_CHARS);
    parts.push(level);
  }
  const topic = parts.join("/");
  return topic === "" ? "/" : topic;
}

function randomBytes(rng: Rng, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.u32() & 0xff;
  return out;
}

/** A valid server packet made by mqtt-packet, with the keys its fields must decode to. */
function generated(rng: Rng): PoolPacket {
  const id = rng.chance(0.1) ? rng.pick([1, 255, 256, 65_535]) : rng.int(1, 65_535);
  const kind = rng.below(10);
  if (kind < 4) {
    const topic = randomTopic(rng);
    const qos = rng.below(3) as 0 | 1 | 2;
    const size = rng.chance(0.6) ? rng.int(0, 60) : rng.chance(0.8) ? rng.int(60, 700) : rng.int(700, 3000);
    const payload = randomBytes(rng, size);
    const retain = rng.chance(0.3);
    const dup = qos > 0 && rng.chance(0.3);
    const bytes = mqtt.generate({ cmd: "publish", topic, payload: Buffer.from(payload), qos, retain, dup, messageId: qos > 0 ? id : undefined }, { protocolVersion: 4 });
    const topicBytes = Buffer.from(topic, "utf8");
    const rl = 2 + topicBytes.length + (qos > 0 ? 2 : 0) + size;
    return {
      bytes, remainingLength: rl,
      key: keyPublish(qos, retain, dup, qos > 0 ? id : 0, topicBytes, 0, topicBytes.length, payload, 0, size),
      oversizeKey: keyOversize(PUBLISH, rl, qos, qos > 0 ? id : 0),
    };
  }
  if (kind < 5) {
    const rc = rng.below(6);
    const sp = rc === 0 && rng.chance(0.5); // [MQTT-3.2.2-4]
    const bytes = mqtt.generate({ cmd: "connack", returnCode: rc, sessionPresent: sp }, { protocolVersion: 4 });
    return { bytes, remainingLength: 2, key: keyConnack(sp, rc), oversizeKey: "" };
  }
  if (kind < 6) {
    const granted = Array.from({ length: rng.int(1, rng.chance(0.9) ? 8 : 600) }, () => rng.pick([0, 1, 2, 0x80]));
    const bytes = mqtt.generate({ cmd: "suback", messageId: id, granted }, { protocolVersion: 4 });
    const codes = Uint8Array.from(granted);
    return { bytes, remainingLength: 2 + granted.length, key: keySuback(id, codes, 0, codes.length), oversizeKey: keyOversize(SUBACK, 2 + granted.length, 0, 0) };
  }
  if (kind < 9) {
    const [cmd, type] = rng.pick([["puback", PUBACK], ["pubrec", PUBREC], ["pubrel", PUBREL], ["pubcomp", PUBCOMP], ["unsuback", UNSUBACK]] as const);
    const bytes = mqtt.generate({ cmd, messageId: id } as mqtt.Packet, { protocolVersion: 4 });
    return { bytes, remainingLength: 2, key: keyAck(type, id), oversizeKey: "" };
  }
  return { bytes: mqtt.generate({ cmd: "pingresp" }), remainingLength: 0, key: keyPingresp(), oversizeKey: "" };
}

/** A few packets written by hand, byte by byte, at the edges of the fields. */
function handBuilt(): PoolPacket[] {
  const ack = (first: number, type: number, hi: number, lo: number): PoolPacket =>
    ({ bytes: Uint8Array.of(first, 2, hi, lo), remainingLength: 2, key: keyAck(type, (hi << 8) | lo), oversizeKey: "" });
  const pub = (first: number, topic: number[], id: number | undefined, payload: number[]): PoolPacket => {
    const qos = (first >> 1) & 3;
    const body = [topic.length >> 8, topic.length & 255, ...topic, ...(id === undefined ? [] : [id >> 8, id & 255]), ...payload];
    const topicBytes = Uint8Array.from(topic);
    const payloadBytes = Uint8Array.from(payload);
    return {
      bytes: Uint8Array.from([first, body.length, ...body]), remainingLength: body.length,
      key: keyPublish(qos, (first & 1) === 1, (first & 8) === 8, id ?? 0, topicBytes, 0, topicBytes.length, payloadBytes, 0, payloadBytes.length),
      oversizeKey: keyOversize(PUBLISH, body.length, qos, id ?? 0),
    };
  };
  return [
    ack(0x40, PUBACK, 0xff, 0xff), ack(0x50, PUBREC, 0, 1), ack(0x62, PUBREL, 0x80, 0), ack(0x70, PUBCOMP, 1, 0), ack(0xb0, UNSUBACK, 0xab, 0xcd),
    { bytes: Uint8Array.of(0x20, 2, 1, 0), remainingLength: 2, key: keyConnack(true, 0), oversizeKey: "" },
    { bytes: Uint8Array.of(0x20, 2, 0, 5), remainingLength: 2, key: keyConnack(false, 5), oversizeKey: "" },
    { bytes: Uint8Array.of(0x90, 3, 0, 7, 0x80), remainingLength: 3, key: keySuback(7, Uint8Array.of(0x80), 0, 1), oversizeKey: keyOversize(SUBACK, 3, 0, 0) },
    { bytes: Uint8Array.of(0xd0, 0), remainingLength: 0, key: keyPingresp(), oversizeKey: "" },
    pub(0x30, [0x61], undefined, []),
    pub(0x3d, [0xf0, 0x9f, 0x98, 0x80], 0xffff, [0, 0xff]), // QoS 2, DUP, retain, emoji topic
    pub(0x32, [0xef, 0xbb, 0xbf, 0x2f], 1, [0x23, 0x2b, 0]), // U+FEFF kept [MQTT-1.5.3-3]; wildcards fine in a payload
    pub(0x31, [0x24, 0x53, 0x59, 0x53], undefined, Array.from({ length: 120 }, (_, i) => i)),
  ];
}

function makePool(): PoolPacket[] {
  const rng = new Rng(streamSeed(99, 0));
  const pool = handBuilt();
  while (pool.length < 1500) pool.push(generated(rng));
  return pool;
}

/* ------------------------------------------------------------------ mutations */

const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0x81, 0xff, 0xfe, 0x2b, 0x23, 0x2f, 0xc0, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5];
const INTERESTING_FIRSTS = [0x00, 0x10, 0x20, 0x21, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x38, 0x3b, 0x3d, 0x3f, 0x40, 0x42, 0x50, 0x60, 0x62, 0x63, 0x70, 0x80, 0x82, 0x90, 0x91, 0xa2, 0xb0, 0xc0, 0xd0, 0xd1, 0xe0, 0xf0];

function splice(stream: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(stream.length - remove + insert.length);
  out.set(stream.subarray(0, at), 0);
  out.set(insert, at);
  out.set(stream.subarray(at + remove), at + insert.length);
  return out;
}

/** Applies one random mutation; `starts` are where packets began before any mutation. */
function mutate(rng: Rng, stream: Uint8Array, starts: number[], pool: PoolPacket[]): Uint8Array {
  if (stream.length === 0) return randomBytes(rng, rng.int(1, 8));
  const at = rng.below(stream.length);
  const start = Math.min(rng.pick(starts), stream.length - 1);
  const set = (i: number, v: number) => { if (i < stream.length) stream[i] = v; };
  switch (rng.below(12)) {
    case 0: stream[at] ^= 1 << rng.below(8); return stream;
    case 1: stream[at] = rng.u32() & 0xff; return stream;
    case 2: stream[at] = rng.pick(INTERESTING_BYTES); return stream;
    case 3: return splice(stream, at, 0, randomBytes(rng, rng.int(1, 8)));
    case 4: return splice(stream, at, Math.min(rng.int(1, 8), stream.length - at), new Uint8Array(0));
    case 5: return stream.slice(0, at);
    case 6: { // a packet's remaining length
      const kind = rng.below(4);
      if (kind === 0) set(start + 1, rng.u32() & 0xff);
      else if (kind === 1) for (let i = 1, n = rng.int(1, 5); i <= n; i++) set(start + i, 0x80 | (rng.u32() & 0x7f));
      else set(start + 1, (stream[start + 1] + (kind === 2 ? 1 : 255)) & 0xff);
      return stream;
    }
    case 7: { // a PUBLISH's topic length (its remaining length is one byte for most in the pool)
      const lengthEnd = (stream[start + 1] & 0x80) ? start + 3 : start + 2;
      const kind = rng.below(3);
      if (kind === 0) set(lengthEnd + 1, (stream[lengthEnd + 1] + rng.int(1, 4)) & 0xff);
      else if (kind === 1) set(lengthEnd, rng.u32() & 0xff);
      else { set(lengthEnd, 0); set(lengthEnd + 1, rng.below(4)); }
      return stream;
    }
    case 8: { // a slice again, elsewhere
      const from = rng.below(stream.length);
      const piece = stream.slice(from, from + rng.int(1, 40));
      return splice(stream, at, 0, piece);
    }
    case 9: stream[start] = rng.pick(INTERESTING_FIRSTS); return stream;
    case 10: { // the head of another packet
      const other = rng.pick(pool).bytes;
      return splice(stream, rng.chance(0.5) ? start : at, 0, other.subarray(0, rng.int(1, other.length)));
    }
    default: // a packet id to 0, where acks keep it
      set(start + 2, 0); set(start + 3, 0);
      return stream;
  }
}

/* ------------------------------------------------------------------ the harness */

const stats = {
  streams: 0, bytes: 0, chunks: 0, calls: 0, packets: 0, oversize: 0, errors: 0, probes: 0,
  byCode: new Map<string, number>(),
  started: performance.now(),
};

const PROBE = Uint8Array.from(mqtt.generate({ cmd: "publish", topic: "probe/✓", payload: Buffer.from("ok"), qos: 1, retain: false, dup: false, messageId: 0x1234 }, { protocolVersion: 4 }));

class FuzzFailure extends Error {}

/**
 * Feeds one stream into a decoder in the given chunks; checks every call; returns the
 * events up to the first error, as keys. `scratch` holds each chunk between stale bytes.
 */
function runStream(decoder: PacketDecoder, stream: Uint8Array, cuts: number[], scratch: Uint8Array): string[] {
  const fail = (msg: string): never => { throw new FuzzFailure(msg); };
  const rx = decoder.receiveBuffer;
  const events: string[] = [];
  let errored = false;
  let calls = 0;
  let chunks = 0;
  for (let piece = 0; piece + 1 < cuts.length; piece++) {
    const from = cuts[piece];
    const len = cuts[piece + 1] - from;
    const start = 8 + (piece & 7);
    scratch.set(stream.subarray(from, from + len), start);
    const end = start + len;
    try {
      decoder.feed(scratch, start, end);
    } catch (error) {
      return fail("feed() threw " + String(error instanceof Error ? error.stack : error));
    }
    chunks++;
    for (;;) {
      let result = NEED_MORE;
      let err: MqttError | undefined;
      try {
        result = decoder.next();
      } catch (error) {
        if (!(error instanceof MqttError)) return fail("next() threw something other than an MqttError: " + String(error instanceof Error ? error.stack : error));
        err = error;
      }
      calls++;
      if (calls > stream.length + chunks) fail("next() called " + calls + " times for " + stream.length + " bytes in " + chunks + " chunks");
      if (err !== undefined) {
        const code = err.code;
        if (!decoderCodes.has(code)) fail("an error with code " + JSON.stringify(code));
        if (typeof err.message !== "string" || err.message.length < 10) fail("an error without a message");
        if (decoder.pending !== 0) fail("input kept after an error: " + decoder.pending);
        stats.errors++;
        stats.byCode.set(code, (stats.byCode.get(code) ?? 0) + 1);
        if (!errored) events.push("E:" + code);
        errored = true;
        probe(decoder, fail);
        break; // the decoder dropped the rest of this chunk
      }
      if (result === NEED_MORE) {
        if (decoder.pending !== 0) fail("NEED_MORE with " + decoder.pending + " bytes unread");
        break;
      }
      if (result === OVERSIZE) {
        if (decoder.remainingLength <= rx.length) fail("OVERSIZE for " + decoder.remainingLength + " bytes into " + rx.length);
        if (!(decoder.type in ACK_FLAGS) && decoder.type !== PUBLISH) fail("OVERSIZE of type " + decoder.type);
        if (decoder.type === PUBLISH && decoder.qos > 0 && (decoder.packetId < 1 || decoder.packetId > 65_535)) fail("OVERSIZE QoS " + decoder.qos + " PUBLISH with id " + decoder.packetId);
        stats.oversize++;
        if (!errored) events.push(keyOversize(decoder.type, decoder.remainingLength, decoder.type === PUBLISH ? decoder.qos : 0, decoder.type === PUBLISH ? decoder.packetId : 0));
        continue;
      }
      if (result !== decoder.type) fail("next() returned " + result + " for type " + decoder.type);
      const key = checkPacket(decoder, scratch, start, end, fail);
      stats.packets++;
      if (!errored) events.push(key);
    }
  }
  stats.calls += calls;
  stats.chunks += chunks;
  return events;
}

/** Checks that a decoded packet's fields lie inside its body and hold valid values; returns its key. */
function checkPacket(decoder: PacketDecoder, chunk: Uint8Array, start: number, end: number, fail: (msg: string) => never): string {
  const { buf, bodyOffset: body, remainingLength: rl } = decoder;
  if (buf === decoder.receiveBuffer) {
    if (body !== 0 || rl > buf.length) fail("body at " + body + "+" + rl + " in a receive buffer of " + buf.length);
  } else if (buf !== chunk) {
    fail("fields point into neither the chunk nor the receive buffer");
  } else if (body < start || body + rl > end) {
    fail("body at " + body + "+" + rl + " outside the fed bytes " + start + ".." + end);
  }
  if (body + rl > buf.length) fail("body past the end of its buffer");
  const bodyEnd = body + rl;
  switch (decoder.type) {
    case CONNACK:
      if (rl !== 2 || decoder.returnCode > 5 || (decoder.sessionPresent && decoder.returnCode !== 0)) fail("CONNACK rc " + decoder.returnCode + " sp " + decoder.sessionPresent);
      return keyConnack(decoder.sessionPresent, decoder.returnCode);
    case PUBLISH: {
      const { qos, topicOffset: to, topicLength: tl, payloadOffset: po, payloadLength: pl } = decoder;
      if (qos > 2 || (decoder.dup && qos === 0)) fail("PUBLISH QoS " + qos + " DUP " + decoder.dup);
      if (to !== body + 2 || tl < 1 || to + tl + (qos > 0 ? 2 : 0) !== po || pl < 0 || po + pl !== bodyEnd) {
        fail("PUBLISH fields outside its body: topic " + to + "+" + tl + " payload " + po + "+" + pl + " body " + body + "+" + rl);
      }
      if (!isValidTopicName(buf, to, tl)) fail("PUBLISH with an invalid topic name");
      if (qos > 0 ? decoder.packetId < 1 || decoder.packetId > 65_535 : decoder.packetId !== 0) fail("PUBLISH QoS " + qos + " with id " + decoder.packetId);
      return keyPublish(qos, decoder.retain, decoder.dup, decoder.packetId, buf, to, tl, buf, po, pl);
    }
    case SUBACK: {
      const { codesOffset: co, codesLength: cl } = decoder;
      if (co !== body + 2 || cl < 1 || co + cl !== bodyEnd) fail("SUBACK codes at " + co + "+" + cl + " body " + body + "+" + rl);
      for (let i = co; i < co + cl; i++) if (buf[i] > 2 && buf[i] !== 0x80) fail("SUBACK code " + buf[i]);
      if (decoder.packetId < 1 || decoder.packetId > 65_535) fail("SUBACK id " + decoder.packetId);
      return keySuback(decoder.packetId, buf, co, cl);
    }
    case PINGRESP:
      if (rl !== 0) fail("PINGRESP of " + rl + " bytes");
      return keyPingresp();
    case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: case UNSUBACK:
      if (rl !== 2 || decoder.packetId < 1 || decoder.packetId > 65_535) fail("ack " + decoder.type + " id " + decoder.packetId + " length " + rl);
      return keyAck(decoder.type, decoder.packetId);
    default:
      return fail("decoded a packet of type " + decoder.type);
  }
}

const PROBE_KEY = keyPublish(1, false, false, 0x1234, Buffer.from("probe/✓"), 0, Buffer.byteLength("probe/✓"), Buffer.from("ok"), 0, 2);

/** After an error the decoder must decode a valid packet straight away. */
function probe(decoder: PacketDecoder, fail: (msg: string) => never): void {
  stats.probes++;
  let result: number;
  try {
    decoder.feed(PROBE, 0, PROBE.length);
    result = decoder.next();
  } catch (error) {
    return fail("after an error, a valid PUBLISH threw " + String(error instanceof Error ? error.stack : error));
  }
  if (result !== PUBLISH) fail("after an error, a valid PUBLISH gave " + result);
  const key = checkPacket(decoder, PROBE, 0, PROBE.length, fail);
  if (key !== PROBE_KEY) fail("after an error, a valid PUBLISH decoded to " + key);
  if (decoder.next() !== NEED_MORE) fail("after the probe, next() did not ask for more");
}

/** Chunk boundaries: whole, every byte, or a few random cuts. */
function cutsFor(rng: Rng, length: number): number[] {
  const mode = rng.below(20);
  if (mode < 3 || length < 2) return [0, length];
  if (mode < 5 && length <= 600) return Array.from({ length: length + 1 }, (_, i) => i);
  const cuts = [0, length];
  for (let k = rng.int(1, 8); k > 0; k--) cuts.push(rng.int(1, length - 1));
  return [...new Set(cuts)].sort((a, b) => a - b);
}

function hex(bytes: Uint8Array, max = 600): string {
  return Buffer.from(bytes.subarray(0, max)).toString("hex") + (bytes.length > max ? "…" : "");
}

function sameEvents(actual: string[], wanted: RefEvent[]): string | undefined {
  const count = Math.max(actual.length, wanted.length);
  for (let i = 0; i < count; i++) {
    const got = actual[i];
    const want = wanted[i];
    if (got === undefined || want === undefined) return "event " + i + ": decoder " + got + ", reference " + JSON.stringify(want);
    if (typeof want === "string") {
      if (got !== want) return "event " + i + ": decoder " + got + ", reference " + want;
    } else if (!got.startsWith("E:") || !want.errors.has(got.slice(2))) {
      return "event " + i + ": decoder " + got + ", reference errors " + [...want.errors].join("|");
    }
  }
  return undefined;
}

type StreamMaker = (r: Rng, pool: PoolPacket[]) => { stream: Uint8Array; wanted?: (rx: number) => string[] };

/** Runs `count` streams made by `make`, each into a fresh decoder with a 64..512-byte buffer. */
function fuzz(caseNo: number, name: string, count: number, make: StreamMaker, pool: PoolPacket[]): void {
  let scratch = new Uint8Array(64 * 1024).fill(0x30);
  for (let i = 0; i < count; i++) {
    const seed = streamSeed(caseNo, i);
    const rng = new Rng(seed);
    const { stream, wanted } = make(rng, pool);
    if (scratch.length < stream.length + 32) scratch = new Uint8Array(stream.length + 32).fill(0x30);
    const rx = rng.int(64, 512);
    const cuts = cutsFor(rng, stream.length);
    const where = () => "FUZZ_SEED=" + SEED + " case " + JSON.stringify(name) + " stream " + i + " (seed " + seed + "), receive buffer " + rx +
      ", " + stream.length + " bytes cut at [" + cuts.join(",") + "]: " + hex(stream);
    let events: string[];
    try {
      events = runStream(new PacketDecoder(rx), stream, cuts, scratch);
    } catch (error) {
      if (error instanceof FuzzFailure) throw new Error(error.message + "\n  " + where());
      throw new Error("the harness threw " + String(error instanceof Error ? error.stack : error) + "\n  " + where());
    }
    stats.streams++;
    stats.bytes += stream.length;
    const mismatch = sameEvents(events, reference(stream, rx));
    if (mismatch !== undefined) expect.fail("differs from the reference decoder: " + mismatch + "\n  " + where());
    if (wanted !== undefined) {
      const want = wanted(rx);
      if (events.join(" ") !== want.join(" ")) expect.fail("valid stream decoded to\n  " + events.join(" ") + "\nnot\n  " + want.join(" ") + "\n  " + where());
    }
  }
}

function concatPackets(rng: Rng, pool: PoolPacket[], max: number): { stream: Uint8Array; picked: PoolPacket[]; starts: number[] } {
  const picked = Array.from({ length: rng.int(1, max) }, () => rng.pick(pool));
  const starts: number[] = [];
  let total = 0;
  for (const p of picked) { starts.push(total); total += p.bytes.length; }
  const stream = new Uint8Array(total);
  picked.forEach((p, k) => stream.set(p.bytes, starts[k]));
  return { stream, picked, starts };
}

const randomStream: StreamMaker = (rng) => {
  const size = rng.chance(0.5) ? rng.int(1, 24) : rng.int(1, 600);
  return { stream: randomBytes(rng, size) };
};

const mutatedStream: StreamMaker = (rng, pool) => {
  const { stream, starts } = concatPackets(rng, pool, rng.chance(0.8) ? 4 : 12);
  let mutated = stream;
  for (let m = rng.int(1, 4); m > 0; m--) mutated = mutate(rng, mutated, starts, pool);
  return { stream: mutated };
};

const validStream: StreamMaker = (rng, pool) => {
  const { stream, picked } = concatPackets(rng, pool, 12);
  return { stream, wanted: (rx) => picked.map((p) => (p.remainingLength > rx ? p.oversizeKey : p.key)) };
};

describe("decoder fuzz (" + STREAMS + " streams)", () => {
  const pool = makePool();
  const randomCount = Math.round(STREAMS * 0.25);
  const validCount = Math.round(STREAMS * 0.1);
  const mutatedCount = STREAMS - randomCount - validCount;
  // vitest's 60 s limit fits the default count; larger runs (npm run fuzz) get 1 ms a stream
  const timeout = (count: number) => Math.max(60_000, count);

  afterAll(() => {
    const codes = [...stats.byCode].sort((a, b) => b[1] - a[1]).map(([c, n]) => c + "=" + n).join(" ");
    const seconds = ((performance.now() - stats.started) / 1000).toFixed(1);
    console.log(
      "fuzz seed=" + SEED + " streams=" + stats.streams + " bytes=" + stats.bytes + " chunks=" + stats.chunks + " calls=" + stats.calls +
      " packets=" + stats.packets + " oversize=" + stats.oversize + " errors=" + stats.errors + " probes=" + stats.probes +
      " time=" + seconds + "s | " + codes,
    );
  });

  it("random bytes: only MqttErrors thrown, bounded calls, decoder usable after each error", () => {
    fuzz(1, "random bytes", randomCount, randomStream, pool);
  }, timeout(randomCount));

  it("mutated valid streams (bit flips, inserts, deletes, truncation, corrupt lengths and ids)", () => {
    fuzz(2, "mutated", mutatedCount, mutatedStream, pool);
  }, timeout(mutatedCount));

  it("valid streams decode packet for packet, larger packets skipped in sync", () => {
    const before = { oversize: stats.oversize, packets: stats.packets };
    fuzz(3, "valid", validCount, validStream, pool);
    // the valid case must have exercised both paths
    expect(stats.packets - before.packets).toBeGreaterThan(validCount);
    expect(stats.oversize - before.oversize).toBeGreaterThan(0);
  }, timeout(validCount));

  it("the reference decoder itself agrees with the pool of valid packets", () => {
    for (const packet of pool) {
      expect(reference(packet.bytes, 1 << 20), hex(packet.bytes, 80)).toEqual([packet.key]);
      if (packet.oversizeKey !== "") expect(reference(packet.bytes, Math.max(2, packet.remainingLength - 1)), hex(packet.bytes, 80)).toEqual([packet.oversizeKey]);
    }
  });
});
