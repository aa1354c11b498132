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
  CONNACK, DECODE_ERROR, MqttError, NEED_MORE, OVERSIZE, PINGRESP, PUBACK, PUBCOMP, PUBLISH,
  PUBREC, PUBREL, PacketDecoder, SUBACK, UNSUBACK, isValidTopicName,
} from "../device/mqtt/index.js";
import type { ErrorCode } from "../device/mqtt/index.js";
import { Rng } from "./support/xorshift32.js";

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(name + " must be a whole number, not " + JSON.stringify(raw));
  return n;
}

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
  let h = (SEED ^ Math.imul(caseNo + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
  h ^= h >>> 16; h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15; h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/* ------------------------------------------------------------------ event keys */

/** FNV-1a over bytes[start, start + length). */
function hash(bytes: Uint8Array, start: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = start, end = start + length; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

// One string per event, the same format for the decoder, the reference and the pool.
const keyConnack = (sp: boolean, rc: number) => "C" + (sp ? 1 : 0) + ":" + rc;
const keyPublish = (q: number, retain: boolean, dup: boolean, id: number, topic: Uint8Array, to: number, tl: number, payload: Uint8Array, po: number, pl: number) =>
  "P" + q + (retain ? "r" : "-") + (dup ? "d" : "-") + id + ":" + tl + ":" + hash(topic, to, tl) + ":" + pl + ":" + hash(payload, po, pl);
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
function reference(s: Uint8Array, rx: number): RefEvent[] {
  const out: RefEvent[] = [];
  let pos = 0;
  const fail = (...codes: string[]) => { out.push({ errors: new Set(codes) }); return out; };
  while (pos < s.length) {
    const first = s[pos];
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
    let i = pos + 1;
    for (let n = 0, mul = 1; ; mul *= 128) {
      if (i >= s.length) return out;
      const b = s[i++];
      rl += (b & 127) * mul;
      if (!(b & 128)) break;
      if (++n === 4) return fail("length-too-long");
    }
    const fixed = type === PINGRESP ? 0 : type === PUBLISH || type === SUBACK ? -1 : 2;
    if (fixed >= 0 ? rl !== fixed : rl < 3) return fail("length-mismatch");
    if (i + rl > s.length) return out;
    const body = i;
    pos = body + rl;
    const u16 = (at: number) => (s[at] << 8) | s[at + 1];
    const q = type === PUBLISH ? (flags >> 1) & 3 : 0;
    if (rl > rx) {
      // skipped unread, but a PUBLISH still has to hold a topic and its packet id within its length
      if (type !== PUBLISH) { out.push(keyOversize(type, rl, 0, 0)); continue; }
      const topicLength = u16(body);
      if (2 + topicLength + (q > 0 ? 2 : 0) > rl) return fail("length-mismatch");
      const id = q > 0 ? u16(body + 2 + topicLength) : 0;
      const errors: string[] = [];
      if (topicLength === 0) errors.push("topic-empty"); // [MQTT-4.7.3-1]
      if (q > 0 && id === 0) errors.push("packet-id-zero"); // [MQTT-2.3.1-1]
      if (errors.length > 0) return fail(...errors);
      out.push(keyOversize(type, rl, q, id));
      continue;
    }
    switch (type) {
      case CONNACK: {
        const sp = s[body];
        const rc = s[body + 1];
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
        for (let k = body + 2; k < pos; k++) if (s[k] > 2 && s[k] !== 0x80) errors.push("suback-code-invalid"); // [MQTT-3.9.3-2]
        if (errors.length > 0) return fail(...errors);
        out.push(keySuback(u16(body), s, body + 2, rl - 2));
        break;
      }
      case PINGRESP:
        out.push(keyPingresp());
        break;
      case PUBLISH: {
        const topicLength = u16(body);
        const head = 2 + topicLength + (q > 0 ? 2 : 0);
        if (head > rl) return topicLength === 0 ? fail("length-mismatch", "topic-empty") : fail("length-mismatch");
        const errors: string[] = [];
        if (topicLength === 0) errors.push("topic-empty"); // [MQTT-4.7.3-1]
        const topic = s.subarray(body + 2, body + 2 + topicLength);
        if (topic.includes(0x2b) || topic.includes(0x23)) errors.push("topic-wildcard"); // [MQTT-3.3.2-2]
        if (topic.includes(0)) errors.push("utf8-null"); // [MQTT-1.5.3-2]
        try { strictUtf8.decode(topic); } catch { errors.push("utf8-invalid"); } // [MQTT-1.5.3-1]
        const id = q > 0 ? u16(body + 2 + topicLength) : 0;
        if (q > 0 && id === 0) errors.push("packet-id-zero");
        if (errors.length > 0) return fail(...errors);
        out.push(keyPublish(q, (flags & 1) === 1, (flags & 8) === 8, id, s, body + 2, topicLength, s, body + head, rl - head));
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

function randomTopic(r: Rng): string {
  const levels = r.int(1, 5);
  const parts: string[] = [];
  for (let l = 0; l < levels; l++) {
    let level = "";
    for (let n = r.int(0, 6); n > 0; n--) level += r.pick(TOPIC_CHARS);
    parts.push(level);
  }
  const t = parts.join("/");
  return t === "" ? "/" : t;
}

function randomBytes(r: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r.u32() & 0xff;
  return out;
}

/** A valid server packet made by mqtt-packet, with the keys its fields must decode to. */
function generated(r: Rng): PoolPacket {
  const id = r.chance(0.1) ? r.pick([1, 255, 256, 65_535]) : r.int(1, 65_535);
  const kind = r.below(10);
  if (kind < 4) {
    const topic = randomTopic(r);
    const q = r.below(3) as 0 | 1 | 2;
    const size = r.chance(0.6) ? r.int(0, 60) : r.chance(0.8) ? r.int(60, 700) : r.int(700, 3000);
    const payload = randomBytes(r, size);
    const retain = r.chance(0.3);
    const dup = q > 0 && r.chance(0.3);
    const bytes = mqtt.generate({ cmd: "publish", topic, payload: Buffer.from(payload), qos: q, retain, dup, messageId: q > 0 ? id : undefined }, { protocolVersion: 4 });
    const t = Buffer.from(topic, "utf8");
    const rl = 2 + t.length + (q > 0 ? 2 : 0) + size;
    return {
      bytes, remainingLength: rl,
      key: keyPublish(q, retain, dup, q > 0 ? id : 0, t, 0, t.length, payload, 0, size),
      oversizeKey: keyOversize(PUBLISH, rl, q, q > 0 ? id : 0),
    };
  }
  if (kind < 5) {
    const rc = r.below(6);
    const sp = rc === 0 && r.chance(0.5); // [MQTT-3.2.2-4]
    const bytes = mqtt.generate({ cmd: "connack", returnCode: rc, sessionPresent: sp }, { protocolVersion: 4 });
    return { bytes, remainingLength: 2, key: keyConnack(sp, rc), oversizeKey: "" };
  }
  if (kind < 6) {
    const granted = Array.from({ length: r.int(1, r.chance(0.9) ? 8 : 600) }, () => r.pick([0, 1, 2, 0x80]));
    const bytes = mqtt.generate({ cmd: "suback", messageId: id, granted }, { protocolVersion: 4 });
    const codes = Uint8Array.from(granted);
    return { bytes, remainingLength: 2 + granted.length, key: keySuback(id, codes, 0, codes.length), oversizeKey: keyOversize(SUBACK, 2 + granted.length, 0, 0) };
  }
  if (kind < 9) {
    const [cmd, type] = r.pick([["puback", PUBACK], ["pubrec", PUBREC], ["pubrel", PUBREL], ["pubcomp", PUBCOMP], ["unsuback", UNSUBACK]] as const);
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
    const q = (first >> 1) & 3;
    const body = [topic.length >> 8, topic.length & 255, ...topic, ...(id === undefined ? [] : [id >> 8, id & 255]), ...payload];
    const t = Uint8Array.from(topic);
    const p = Uint8Array.from(payload);
    return {
      bytes: Uint8Array.from([first, body.length, ...body]), remainingLength: body.length,
      key: keyPublish(q, (first & 1) === 1, (first & 8) === 8, id ?? 0, t, 0, t.length, p, 0, p.length),
      oversizeKey: keyOversize(PUBLISH, body.length, q, id ?? 0),
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
  const r = new Rng(streamSeed(99, 0));
  const pool = handBuilt();
  while (pool.length < 1500) pool.push(generated(r));
  return pool;
}

/* ------------------------------------------------------------------ mutations */

const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0x81, 0xff, 0xfe, 0x2b, 0x23, 0x2f, 0xc0, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5];
const INTERESTING_FIRSTS = [0x00, 0x10, 0x20, 0x21, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x38, 0x3b, 0x3d, 0x3f, 0x40, 0x42, 0x50, 0x60, 0x62, 0x63, 0x70, 0x80, 0x82, 0x90, 0x91, 0xa2, 0xb0, 0xc0, 0xd0, 0xd1, 0xe0, 0xf0];

function splice(s: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(s.length - remove + insert.length);
  out.set(s.subarray(0, at), 0);
  out.set(insert, at);
  out.set(s.subarray(at + remove), at + insert.length);
  return out;
}

/** Applies one random mutation; `starts` are where packets began before any mutation. */
function mutate(r: Rng, s: Uint8Array, starts: number[], pool: PoolPacket[]): Uint8Array {
  if (s.length === 0) return randomBytes(r, r.int(1, 8));
  const at = r.below(s.length);
  const start = Math.min(r.pick(starts), s.length - 1);
  const set = (i: number, v: number) => { if (i < s.length) s[i] = v; };
  switch (r.below(12)) {
    case 0: s[at] ^= 1 << r.below(8); return s;
    case 1: s[at] = r.u32() & 0xff; return s;
    case 2: s[at] = r.pick(INTERESTING_BYTES); return s;
    case 3: return splice(s, at, 0, randomBytes(r, r.int(1, 8)));
    case 4: return splice(s, at, Math.min(r.int(1, 8), s.length - at), new Uint8Array(0));
    case 5: return s.slice(0, at);
    case 6: { // a packet's remaining length
      const k = r.below(4);
      if (k === 0) set(start + 1, r.u32() & 0xff);
      else if (k === 1) for (let i = 1, n = r.int(1, 5); i <= n; i++) set(start + i, 0x80 | (r.u32() & 0x7f));
      else set(start + 1, (s[start + 1] + (k === 2 ? 1 : 255)) & 0xff);
      return s;
    }
    case 7: { // a PUBLISH's topic length (its remaining length is one byte for most in the pool)
      const lengthEnd = (s[start + 1] & 0x80) ? start + 3 : start + 2;
      const k = r.below(3);
      if (k === 0) set(lengthEnd + 1, (s[lengthEnd + 1] + r.int(1, 4)) & 0xff);
      else if (k === 1) set(lengthEnd, r.u32() & 0xff);
      else { set(lengthEnd, 0); set(lengthEnd + 1, r.below(4)); }
      return s;
    }
    case 8: { // a slice again, elsewhere
      const from = r.below(s.length);
      const piece = s.slice(from, from + r.int(1, 40));
      return splice(s, at, 0, piece);
    }
    case 9: s[start] = r.pick(INTERESTING_FIRSTS); return s;
    case 10: { // the head of another packet
      const other = r.pick(pool).bytes;
      return splice(s, r.chance(0.5) ? start : at, 0, other.subarray(0, r.int(1, other.length)));
    }
    default: // a packet id to 0, where acks keep it
      set(start + 2, 0); set(start + 3, 0);
      return s;
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
function runStream(d: PacketDecoder, stream: Uint8Array, cuts: number[], scratch: Uint8Array): string[] {
  const fail = (msg: string): never => { throw new FuzzFailure(msg); };
  const rx = d.receiveBuffer;
  const events: string[] = [];
  let errored = false;
  let calls = 0;
  let chunks = 0;
  for (let c = 0; c + 1 < cuts.length; c++) {
    const from = cuts[c];
    const len = cuts[c + 1] - from;
    const start = 8 + (c & 7);
    scratch.set(stream.subarray(from, from + len), start);
    const end = start + len;
    try {
      d.feed(scratch, start, end);
    } catch (e) {
      return fail("feed() threw " + String(e instanceof Error ? e.stack : e));
    }
    chunks++;
    for (;;) {
      let result: number;
      try {
        result = d.next();
      } catch (e) {
        return fail("next() threw " + String(e instanceof Error ? e.stack : e));
      }
      calls++;
      if (calls > stream.length + chunks) fail("next() called " + calls + " times for " + stream.length + " bytes in " + chunks + " chunks");
      if (result === NEED_MORE) {
        if (d.pending !== 0) fail("NEED_MORE with " + d.pending + " bytes unread");
        break;
      }
      if (result === DECODE_ERROR) {
        const err = d.error;
        if (!(err instanceof MqttError)) fail("DECODE_ERROR without an MqttError: " + String(err));
        const code = err!.code;
        if (!decoderCodes.has(code)) fail("DECODE_ERROR with code " + JSON.stringify(code));
        if (typeof err!.message !== "string" || err!.message.length < 10) fail("an error without a message");
        if (d.pending !== 0) fail("input kept after an error: " + d.pending);
        stats.errors++;
        stats.byCode.set(code, (stats.byCode.get(code) ?? 0) + 1);
        if (!errored) events.push("E:" + code);
        errored = true;
        probe(d, fail);
        break; // the decoder dropped the rest of this chunk
      }
      if (result === OVERSIZE) {
        if (d.remainingLength <= rx.length) fail("OVERSIZE for " + d.remainingLength + " bytes into " + rx.length);
        if (!(d.type in ACK_FLAGS) && d.type !== PUBLISH) fail("OVERSIZE of type " + d.type);
        if (d.type === PUBLISH && d.qos > 0 && (d.packetId < 1 || d.packetId > 65_535)) fail("OVERSIZE QoS " + d.qos + " PUBLISH with id " + d.packetId);
        stats.oversize++;
        if (!errored) events.push(keyOversize(d.type, d.remainingLength, d.type === PUBLISH ? d.qos : 0, d.type === PUBLISH ? d.packetId : 0));
        continue;
      }
      if (result !== d.type) fail("next() returned " + result + " for type " + d.type);
      const key = checkPacket(d, scratch, start, end, fail);
      stats.packets++;
      if (!errored) events.push(key);
    }
  }
  stats.calls += calls;
  stats.chunks += chunks;
  return events;
}

/** Checks that a decoded packet's fields lie inside its body and hold valid values; returns its key. */
function checkPacket(d: PacketDecoder, chunk: Uint8Array, start: number, end: number, fail: (msg: string) => never): string {
  const { buf, bodyOffset: body, remainingLength: rl } = d;
  if (buf === d.receiveBuffer) {
    if (body !== 0 || rl > buf.length) fail("body at " + body + "+" + rl + " in a receive buffer of " + buf.length);
  } else if (buf !== chunk) {
    fail("fields point into neither the chunk nor the receive buffer");
  } else if (body < start || body + rl > end) {
    fail("body at " + body + "+" + rl + " outside the fed bytes " + start + ".." + end);
  }
  if (body + rl > buf.length) fail("body past the end of its buffer");
  const bodyEnd = body + rl;
  switch (d.type) {
    case CONNACK:
      if (rl !== 2 || d.returnCode > 5 || (d.sessionPresent && d.returnCode !== 0)) fail("CONNACK rc " + d.returnCode + " sp " + d.sessionPresent);
      return keyConnack(d.sessionPresent, d.returnCode);
    case PUBLISH: {
      const { qos: q, topicOffset: to, topicLength: tl, payloadOffset: po, payloadLength: pl } = d;
      if (q > 2 || (d.dup && q === 0)) fail("PUBLISH QoS " + q + " DUP " + d.dup);
      if (to !== body + 2 || tl < 1 || to + tl + (q > 0 ? 2 : 0) !== po || pl < 0 || po + pl !== bodyEnd) {
        fail("PUBLISH fields outside its body: topic " + to + "+" + tl + " payload " + po + "+" + pl + " body " + body + "+" + rl);
      }
      if (!isValidTopicName(buf, to, tl)) fail("PUBLISH with an invalid topic name");
      if (q > 0 ? d.packetId < 1 || d.packetId > 65_535 : d.packetId !== 0) fail("PUBLISH QoS " + q + " with id " + d.packetId);
      return keyPublish(q, d.retain, d.dup, d.packetId, buf, to, tl, buf, po, pl);
    }
    case SUBACK: {
      const { codesOffset: co, codesLength: cl } = d;
      if (co !== body + 2 || cl < 1 || co + cl !== bodyEnd) fail("SUBACK codes at " + co + "+" + cl + " body " + body + "+" + rl);
      for (let i = co; i < co + cl; i++) if (buf[i] > 2 && buf[i] !== 0x80) fail("SUBACK code " + buf[i]);
      if (d.packetId < 1 || d.packetId > 65_535) fail("SUBACK id " + d.packetId);
      return keySuback(d.packetId, buf, co, cl);
    }
    case PINGRESP:
      if (rl !== 0) fail("PINGRESP of " + rl + " bytes");
      return keyPingresp();
    case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: case UNSUBACK:
      if (rl !== 2 || d.packetId < 1 || d.packetId > 65_535) fail("ack " + d.type + " id " + d.packetId + " length " + rl);
      return keyAck(d.type, d.packetId);
    default:
      return fail("decoded a packet of type " + d.type);
  }
}

const PROBE_KEY = keyPublish(1, false, false, 0x1234, Buffer.from("probe/✓"), 0, Buffer.byteLength("probe/✓"), Buffer.from("ok"), 0, 2);

/** After an error the decoder must decode a valid packet straight away. */
function probe(d: PacketDecoder, fail: (msg: string) => never): void {
  stats.probes++;
  let r: number;
  try {
    d.feed(PROBE, 0, PROBE.length);
    r = d.next();
  } catch (e) {
    return fail("after an error, a valid PUBLISH threw " + String(e instanceof Error ? e.stack : e));
  }
  if (r !== PUBLISH) fail("after an error, a valid PUBLISH gave " + r + (r === DECODE_ERROR ? " " + d.error?.code : ""));
  const key = checkPacket(d, PROBE, 0, PROBE.length, fail);
  if (key !== PROBE_KEY) fail("after an error, a valid PUBLISH decoded to " + key);
  if (d.next() !== NEED_MORE) fail("after the probe, next() did not ask for more");
}

/** Chunk boundaries: whole, every byte, or a few random cuts. */
function cutsFor(r: Rng, n: number): number[] {
  const mode = r.below(20);
  if (mode < 3 || n < 2) return [0, n];
  if (mode < 5 && n <= 600) return Array.from({ length: n + 1 }, (_, i) => i);
  const cuts = [0, n];
  for (let k = r.int(1, 8); k > 0; k--) cuts.push(r.int(1, n - 1));
  return [...new Set(cuts)].sort((a, b) => a - b);
}

function hex(bytes: Uint8Array, max = 600): string {
  return Buffer.from(bytes.subarray(0, max)).toString("hex") + (bytes.length > max ? "…" : "");
}

function sameEvents(actual: string[], wanted: RefEvent[]): string | undefined {
  const n = Math.max(actual.length, wanted.length);
  for (let i = 0; i < n; i++) {
    const a = actual[i];
    const w = wanted[i];
    if (a === undefined || w === undefined) return "event " + i + ": decoder " + a + ", reference " + JSON.stringify(w);
    if (typeof w === "string") {
      if (a !== w) return "event " + i + ": decoder " + a + ", reference " + w;
    } else if (!a.startsWith("E:") || !w.errors.has(a.slice(2))) {
      return "event " + i + ": decoder " + a + ", reference errors " + [...w.errors].join("|");
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
    const r = new Rng(seed);
    const { stream, wanted } = make(r, pool);
    if (scratch.length < stream.length + 32) scratch = new Uint8Array(stream.length + 32).fill(0x30);
    const rx = r.int(64, 512);
    const cuts = cutsFor(r, stream.length);
    const where = () => "FUZZ_SEED=" + SEED + " case " + JSON.stringify(name) + " stream " + i + " (seed " + seed + "), receive buffer " + rx +
      ", " + stream.length + " bytes cut at [" + cuts.join(",") + "]: " + hex(stream);
    let events: string[];
    try {
      events = runStream(new PacketDecoder(rx), stream, cuts, scratch);
    } catch (e) {
      if (e instanceof FuzzFailure) throw new Error(e.message + "\n  " + where());
      throw new Error("the harness threw " + String(e instanceof Error ? e.stack : e) + "\n  " + where());
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

function concatPackets(r: Rng, pool: PoolPacket[], max: number): { stream: Uint8Array; picked: PoolPacket[]; starts: number[] } {
  const picked = Array.from({ length: r.int(1, max) }, () => r.pick(pool));
  const starts: number[] = [];
  let total = 0;
  for (const p of picked) { starts.push(total); total += p.bytes.length; }
  const stream = new Uint8Array(total);
  picked.forEach((p, k) => stream.set(p.bytes, starts[k]));
  return { stream, picked, starts };
}

const randomStream: StreamMaker = (r) => {
  const n = r.chance(0.5) ? r.int(1, 24) : r.int(1, 600);
  return { stream: randomBytes(r, n) };
};

const mutatedStream: StreamMaker = (r, pool) => {
  const { stream, starts } = concatPackets(r, pool, r.chance(0.8) ? 4 : 12);
  let s = stream;
  for (let m = r.int(1, 4); m > 0; m--) s = mutate(r, s, starts, pool);
  return { stream: s };
};

const validStream: StreamMaker = (r, pool) => {
  const { stream, picked } = concatPackets(r, pool, 12);
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

  it("random bytes: no throw, bounded calls, typed errors, decoder usable after each error", () => {
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
    for (const p of pool) {
      expect(reference(p.bytes, 1 << 20), hex(p.bytes, 80)).toEqual([p.key]);
      if (p.oversizeKey !== "") expect(reference(p.bytes, Math.max(2, p.remainingLength - 1)), hex(p.bytes, 80)).toEqual([p.oversizeKey]);
    }
  });
});
