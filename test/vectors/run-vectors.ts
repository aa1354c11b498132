/*
 * The vector runner: runs every vector of codec-vectors.ts against a library exports object
 * (the TypeScript source under vitest, or the built dist/xs-mqtt.js inside real XS).
 * - encode: expected bytes and returned length, at an offset, into an exact-size buffer, and
 *   one byte short (buffer-too-small, buffer untouched); refusals give their code and write
 *   nothing;
 * - decode: each packet fed whole (at an offset inside a larger chunk), one byte at a time,
 *   split in two at every position (packets over SPLIT_ALL_LIMIT bytes: the first and last
 *   positions and every SPLIT_STRIDE-th), in seeded random chunks, and all valid vectors
 *   concatenated into one stream. Each packet's fields must equal the expected ones, its
 *   offsets must point at the right bytes of `buf`, a packet that arrived inside one chunk
 *   must be read in place, only split packets may be copied into the receive buffer, and
 *   a fed chunk is overwritten once next() says NEED_MORE (the decoder must not read it
 *   again). Errors give their code, drop the input, and a new packet then decodes;
 * - topics: the validation and matching table.
 * Never throws and uses only plain JS and Uint8Array (no Node APIs, no library import at
 * run time; the framer and generator of test/support/ are bundled with it), so it runs
 * the same on Node and inside XS; failures come back as strings.
 */

import type * as Library from "../../device/mqtt/index.js";
import {
  decodeErrorVectors, decodeVectors, encodeErrorVectors, encodeVectors, oversizeVectors,
  topicFilterVectors, topicMatchVectors, topicNameVectors,
  type EncodeCall, type ExpectedPacket, type TopicText,
} from "./codec-vectors.js";
import { readFixedHeader } from "../support/mqtt-frames.js";
import { Rng } from "../support/xorshift32.js";

/** The library's exports (`import * as lib`), from the TS source or the built bundle. */
export type MqttLibrary = typeof Library;

/** What the runner needs of a TextEncoder. */
export interface Utf8Encoder {
  encode(text: string): Uint8Array;
}

export interface VectorResult {
  /** checks (one vector under one mode or chunking) that passed */
  passed: number;
  /** one line per failed check, naming the vector, the mode and what differed */
  failures: string[];
}

/** Packets above this many bytes are split at some positions only (see the header). */
const SPLIT_ALL_LIMIT = 600;
const SPLIT_STRIDE = 257;
/** Seeded random chunkings per stream. */
const RANDOM_CHUNKINGS = 6;

const PAD = 3; // bytes around every fed chunk, never part of the stream
const PAD_BYTE = 0xee;
const SCRIBBLE = 0xdd; // what a chunk is overwritten with once the decoder is done with it
const SENTINEL = 0x5c; // what the receive buffer is filled with before a run
const UNTOUCHED = 0xa5; // what an encoder's buffer is filled with

// ------------------------------------------------------------------ bytes and hex

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/**
 * Parses hex digits (spaces ignored) into bytes; throws on anything else. Walks the string
 * with its iterator: on XS, charCodeAt(i) on a long string costs O(i), which would make this
 * quadratic for the 16 KB vectors.
 */
export function fromHex(hex: string): Uint8Array {
  const values: number[] = [];
  for (const ch of hex) {
    if (ch === " ") continue;
    const value = hexDigit(ch.charCodeAt(0));
    if (value < 0) throw new Error("not a hex digit " + JSON.stringify(ch) + " in " + hex.slice(0, 40));
    values.push(value);
  }
  if (values.length % 2 !== 0) throw new Error("odd number of hex digits in " + hex.slice(0, 40));
  const out = new Uint8Array(values.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = values[2 * i] * 16 + values[2 * i + 1];
  return out;
}

/** Upper-case hex of bytes[start, end), shortened in the middle past 64 bytes. */
export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const digits = "0123456789ABCDEF";
  let text = "";
  for (let i = start; i < end; i++) {
    if (end - start > 64 && i === start + 24) {
      text += "..(" + (end - start) + " bytes)..";
      i = end - 24;
    }
    text += digits[bytes[i] >> 4] + digits[bytes[i] & 15];
  }
  return text;
}

function sameBytes(left: Uint8Array, aStart: number, right: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (left[aStart + i] !== right[bStart + i]) return false;
  return true;
}

/** Index of the first byte of buf[start, end) that is not `value`, or -1. */
function firstNot(buf: Uint8Array, start: number, end: number, value: number): number {
  for (let i = start; i < end; i++) if (buf[i] !== value) return i;
  return -1;
}

// ------------------------------------------------------------------ chunkings

export interface Chunking {
  label: string;
  /** stream positions where a new chunk starts (ascending, inside (0, length)) */
  cuts: number[];
}

const RANDOM_MAX_CHUNK = [2, 3, 7, 16, 100, 1000];

/** Every chunking of a stream of `length` bytes that the runner tries. */
export function chunkingsFor(length: number, seed: number): Chunking[] {
  const list: Chunking[] = [{ label: "whole", cuts: [] }];
  if (length < 2) return list;
  const bytewise: number[] = [];
  for (let k = 1; k < length; k++) bytewise.push(k);
  list.push({ label: "one byte at a time", cuts: bytewise });
  for (let k = 1; k < length; k++) {
    if (length > SPLIT_ALL_LIMIT && k > 16 && k < length - 16 && k % SPLIT_STRIDE !== 0) continue;
    list.push({ label: "split at " + k, cuts: [k] });
  }
  list.push(...randomChunkings(length, seed));
  return list;
}

/** RANDOM_CHUNKINGS seeded random chunkings, with chunk sizes up to 2, 3, 7, ... bytes. */
function randomChunkings(length: number, seed: number): Chunking[] {
  const list: Chunking[] = [];
  for (let variant = 0; variant < RANDOM_CHUNKINGS; variant++) {
    const random = new Rng(seed * 7919 + variant * 104_729 + 1);
    const max = RANDOM_MAX_CHUNK[variant % RANDOM_MAX_CHUNK.length];
    const cuts: number[] = [];
    for (let at = 1 + random.below(max); at < length; at += 1 + random.below(max)) cuts.push(at);
    list.push({ label: "random chunks up to " + max + " bytes (seed " + seed + "/" + variant + ")", cuts });
  }
  return list;
}

// ------------------------------------------------------------------ expectations

interface Expected {
  fields: ExpectedPacket;
  topic?: Uint8Array;
  payload?: Uint8Array;
  codes?: Uint8Array;
}

/** One thing the decoder must report, at stream bytes [start, end). */
interface StreamEvent {
  label: string;
  start: number;
  end: number;
  /** where the body starts and its length, when the header can be read */
  bodyStart: number;
  remainingLength: number;
  packet?: Expected;
  oversize?: { type: number; remainingLength: number; qos?: number; packetId?: number };
  errorCode?: string;
}

interface Stream {
  bytes: Uint8Array;
  events: StreamEvent[];
}

type Part = { label: string; bytes: Uint8Array } & Pick<StreamEvent, "packet" | "oversize" | "errorCode">;

function makeStream(parts: Part[]): Stream {
  let total = 0;
  for (const part of parts) total += part.bytes.length;
  const bytes = new Uint8Array(total);
  const events: StreamEvent[] = [];
  let at = 0;
  for (const part of parts) {
    bytes.set(part.bytes, at);
    const header = readFixedHeader(part.bytes, 0);
    events.push({
      label: part.label,
      start: at,
      end: at + part.bytes.length,
      bodyStart: header === undefined ? -1 : at + (header.bodyStart),
      remainingLength: header === undefined ? -1 : header.remainingLength,
      packet: part.packet,
      oversize: part.oversize,
      errorCode: part.errorCode,
    });
    at += part.bytes.length;
  }
  return { bytes, events };
}

// ------------------------------------------------------------------ failures

class Report {
  passed = 0;
  readonly failures: string[] = [];
  #extra = new Map<string, number>();
  #seen = new Set<string>();

  /** Records a failure; only the first one per key is spelled out, the rest are counted. */
  fail(key: string, message: string): void {
    if (this.#seen.has(key)) {
      this.#extra.set(key, (this.#extra.get(key) ?? 0) + 1);
      return;
    }
    this.#seen.add(key);
    this.failures.push(message);
  }

  result(): VectorResult {
    const failures = this.failures.slice();
    this.#extra.forEach((count, key) => {
      failures.push(key + ": " + count + " more failure(s) like the one above");
    });
    return { passed: this.passed, failures };
  }
}

function describe(error: unknown): string {
  try {
    return error instanceof Error ? error.name + ": " + error.message : String(error);
  } catch {
    return "an unprintable exception";
  }
}

// ------------------------------------------------------------------ the decoder under a chunking

interface DecoderRun {
  dec: Library.PacketDecoder;
  /** bytes of receiveBuffer that split packets may have written */
  copied: number;
}

function newDecoder(lib: MqttLibrary, size: number): DecoderRun {
  const dec = new lib.PacketDecoder(size);
  dec.receiveBuffer.fill(SENTINEL);
  return { dec, copied: 0 };
}

/** next(): what it returned, or what it threw. */
function decodeNext(dec: Library.PacketDecoder): number | { thrown: unknown } {
  try {
    return dec.next();
  } catch (thrown) {
    return { thrown };
  }
}

function resultName(lib: MqttLibrary, run: DecoderRun, result: number | { thrown: unknown }): string {
  if (typeof result !== "number") {
    const error = result.thrown;
    return "a throw of " + (lib.isMqttError(error) ? "MqttError " + error.code + ": " + error.message : String(error));
  }
  if (result === lib.NEED_MORE) return "NEED_MORE";
  if (result === lib.OVERSIZE) return "OVERSIZE(type " + run.dec.type + ", length " + run.dec.remainingLength + ")";
  return "packet type " + result;
}

/** Compares what the decoder reports for a packet with what is expected; undefined when equal. */
function comparePacket(lib: MqttLibrary, dec: Library.PacketDecoder, result: number, expected: Expected): string | undefined {
  const fields = expected.fields;
  if (result !== fields.type) return "returned " + result + ", expected packet type " + fields.type;
  const differences: string[] = [];
  const scalar = (name: string, actual: unknown, wanted: unknown): void => {
    if (wanted !== undefined && actual !== wanted) differences.push(name + " " + String(actual) + ", expected " + String(wanted));
  };
  scalar("type", dec.type, fields.type);
  scalar("flags", dec.flags, fields.flags);
  scalar("remainingLength", dec.remainingLength, fields.remainingLength);
  scalar("packetId", dec.packetId, fields.packetId);
  scalar("qos", dec.qos, fields.qos);
  scalar("retain", dec.retain, fields.retain);
  scalar("dup", dec.dup, fields.dup);
  scalar("sessionPresent", dec.sessionPresent, fields.sessionPresent);
  scalar("returnCode", dec.returnCode, fields.returnCode);
  const buf = dec.buf;
  const bodyEnd = dec.bodyOffset + dec.remainingLength;
  if (dec.bodyOffset < 0 || bodyEnd > buf.length) differences.push("body [" + dec.bodyOffset + ", " + bodyEnd + ") outside buf of " + buf.length);
  const range = (name: string, offset: number, length: number, wanted: Uint8Array | undefined, expectOffset: number): void => {
    if (wanted === undefined) return;
    if (offset !== expectOffset) differences.push(name + "Offset " + offset + ", expected " + expectOffset);
    if (length !== wanted.length) {
      differences.push(name + "Length " + length + ", expected " + wanted.length);
    } else if (offset < 0 || offset + length > buf.length || !sameBytes(buf, offset, wanted, 0, length)) {
      differences.push(name + " " + toHex(buf, Math.max(0, offset), Math.min(buf.length, offset + length)) + ", expected " + toHex(wanted));
    }
  };
  range("topic", dec.topicOffset, dec.topicLength, expected.topic, dec.bodyOffset + 2);
  const payloadStart = bodyEnd - (expected.payload === undefined ? 0 : expected.payload.length);
  range("payload", dec.payloadOffset, dec.payloadLength, expected.payload, payloadStart);
  range("codes", dec.codesOffset, dec.codesLength, expected.codes, dec.bodyOffset + 2);
  if (fields.type === lib.PUBLISH && expected.payload !== undefined && dec.payloadOffset + dec.payloadLength !== bodyEnd) {
    differences.push("the payload does not end where the body ends");
  }
  return differences.length === 0 ? undefined : differences.join("; ");
}

/**
 * Feeds `stream` to the decoder in the chunks `cuts` gives and checks every event.
 * Returns a failure message, or undefined. Stops after next() throws an MqttError (the
 * decoder drops the rest of its input then; a new stream follows).
 */
function runStream(lib: MqttLibrary, run: DecoderRun, stream: Stream, cuts: number[]): string | undefined {
  const { dec } = run;
  const bytes = stream.bytes;
  let eventIndex = 0;
  let chunkStart = 0;
  for (let piece = 0; piece <= cuts.length; piece++) {
    const chunkEnd = piece < cuts.length ? cuts[piece] : bytes.length;
    const size = chunkEnd - chunkStart;
    const chunk = new Uint8Array(size + 2 * PAD);
    chunk.fill(PAD_BYTE);
    chunk.set(bytes.subarray(chunkStart, chunkEnd), PAD);
    dec.feed(chunk, PAD, PAD + size);
    for (let guard = 0; ; guard++) {
      if (guard > size + 2) return "next() kept returning packets from a " + size + "-byte chunk";
      const result = decodeNext(dec);
      if (result === lib.NEED_MORE) break;
      const event = stream.events[eventIndex++];
      const where = "at stream bytes [" + chunkStart + ", " + chunkEnd + ")";
      if (event === undefined) return "unexpected " + resultName(lib, run, result) + " " + where + " after every expected packet";
      if (event.errorCode !== undefined) {
        if (typeof result === "number") return event.label + ": " + resultName(lib, run, result) + " " + where + ", expected a throw of " + event.errorCode;
        const error = result.thrown;
        if (!lib.isMqttError(error)) return event.label + ": next() threw something other than an MqttError: " + String(error);
        if (error.code !== event.errorCode) return event.label + ": error " + error.code + " (" + error.message + "), expected " + event.errorCode;
        if (dec.pending !== 0) return event.label + ": " + dec.pending + " bytes still pending after the throw (input must be dropped)";
        if (decodeNext(dec) !== lib.NEED_MORE) return event.label + ": next() after the throw did not return NEED_MORE";
        noteCopiedBody(run, event, chunkStart);
        return checkReceiveBuffer(run);
      }
      if (event.oversize !== undefined) {
        const oversize = event.oversize;
        if (result !== lib.OVERSIZE) return event.label + ": " + resultName(lib, run, result) + " " + where + ", expected OVERSIZE";
        const wrong: string[] = [];
        if (dec.type !== oversize.type) wrong.push("type " + dec.type + ", expected " + oversize.type);
        if (dec.remainingLength !== oversize.remainingLength) wrong.push("remainingLength " + dec.remainingLength + ", expected " + oversize.remainingLength);
        if (oversize.qos !== undefined && dec.qos !== oversize.qos) wrong.push("qos " + dec.qos + ", expected " + oversize.qos);
        if (oversize.packetId !== undefined && dec.packetId !== oversize.packetId) wrong.push("packetId " + dec.packetId + ", expected " + oversize.packetId);
        if (wrong.length > 0) return event.label + ": OVERSIZE with " + wrong.join("; ");
        continue;
      }
      const expected = event.packet as Expected;
      if (typeof result !== "number") return event.label + " " + where + ": " + resultName(lib, run, result);
      const difference = comparePacket(lib, dec, result, expected);
      if (difference !== undefined) return event.label + " " + where + ": " + difference;
      const placement = checkPlacement(run, event, chunk, chunkStart);
      if (placement !== undefined) return event.label + " " + where + ": " + placement;
    }
    if (dec.pending !== 0) return "pending is " + dec.pending + " after NEED_MORE";
    chunk.fill(SCRIBBLE); // the decoder is done with this chunk: it must not read it again
    chunkStart = chunkEnd;
  }
  if (eventIndex < stream.events.length) {
    return stream.events[eventIndex].label + ": never reported (next() said NEED_MORE at the end of the stream)";
  }
  return checkReceiveBuffer(run);
}

/**
 * In place or copied: a packet inside one chunk must be read in place; a packet whose body
 * is split must be read from the receive buffer; with only its header split, either.
 */
function checkPlacement(run: DecoderRun, event: StreamEvent, chunk: Uint8Array, chunkStart: number): string | undefined {
  const { dec } = run;
  const inPlaceOffset = PAD + event.bodyStart - chunkStart;
  if (event.start >= chunkStart) {
    if (dec.buf !== chunk) return "arrived inside one chunk but was not read in place (buf is not the chunk)";
    if (dec.bodyOffset !== inPlaceOffset) return "bodyOffset " + dec.bodyOffset + ", expected " + inPlaceOffset;
    return undefined;
  }
  if (event.bodyStart < chunkStart || dec.buf !== chunk) {
    if (dec.buf !== dec.receiveBuffer) return "a split packet's buf is neither the receive buffer nor the chunk it completed in";
    if (dec.bodyOffset !== 0) return "bodyOffset " + dec.bodyOffset + " in the receive buffer, expected 0";
    run.copied = Math.max(run.copied, event.remainingLength);
    return undefined;
  }
  return dec.bodyOffset === inPlaceOffset ? undefined : "bodyOffset " + dec.bodyOffset + ", expected " + inPlaceOffset;
}

/** Accounts for the body an invalid packet may have copied before its error was found. */
function noteCopiedBody(run: DecoderRun, event: StreamEvent, chunkStart: number): void {
  if (event.bodyStart >= 0 && event.bodyStart < chunkStart && event.remainingLength <= run.dec.receiveBuffer.length) {
    run.copied = Math.max(run.copied, event.remainingLength);
  }
}

/** Only split packets may have been copied: the receive buffer past them is untouched. */
function checkReceiveBuffer(run: DecoderRun): string | undefined {
  const rx = run.dec.receiveBuffer;
  const at = firstNot(rx, run.copied, rx.length, SENTINEL);
  if (at < 0) return undefined;
  return "the receive buffer was written at byte " + at + ", past the " + run.copied + " bytes of split packets";
}

// ------------------------------------------------------------------ encoders

function textOrHex(encoder: Utf8Encoder, value: TopicText): Uint8Array {
  return "text" in value ? encoder.encode(value.text) : fromHex(value.hex);
}

/** Makes one encoder call: the length it returned, or the MqttError it (or prepareTopic) threw. */
export function callEncoder(
  lib: MqttLibrary, encoder: Utf8Encoder, call: EncodeCall, buf: Uint8Array, offset: number,
): number | Library.MqttError {
  try {
    return encodeOnce(lib, encoder, call, buf, offset);
  } catch (error) {
    if (lib.isMqttError(error)) return error;
    throw error;
  }
}

function encodeOnce(lib: MqttLibrary, encoder: Utf8Encoder, call: EncodeCall, buf: Uint8Array, offset: number): number {
  switch (call.packet) {
    case "connect": {
      let will: Library.Will | undefined;
      if (call.will !== undefined) {
        const topic = lib.prepareTopic(call.will.topic, encoder);
        will = { topic, payload: fromHex(call.will.payload), qos: call.will.qos, retain: call.will.retain };
      }
      const fields: Library.ConnectFields = {
        clientId: call.clientIdHex !== undefined ? fromHex(call.clientIdHex) : encoder.encode(call.clientId),
        clean: call.clean,
        keepAlive: call.keepAlive,
      };
      if (call.username !== undefined) fields.username = encoder.encode(call.username);
      if (call.password !== undefined) fields.password = encoder.encode(call.password);
      if (will !== undefined) fields.will = will;
      return lib.encodeConnect(buf, offset, fields);
    }
    case "publish": {
      const topic = lib.prepareTopic(call.topic, encoder);
      return lib.encodePublish(buf, offset, topic, fromHex(call.payload), call.qos, call.retain, call.dup, call.packetId);
    }
    case "puback": return lib.encodePuback(buf, offset, call.packetId);
    case "pubrec": return lib.encodePubrec(buf, offset, call.packetId);
    case "pubrel": return lib.encodePubrel(buf, offset, call.packetId);
    case "pubcomp": return lib.encodePubcomp(buf, offset, call.packetId);
    case "subscribe":
      return lib.encodeSubscribe(buf, offset, call.packetId, call.filters.map((f) => ({ filter: encoder.encode(f.filter), qos: f.qos })));
    case "unsubscribe":
      return lib.encodeUnsubscribe(buf, offset, call.packetId, call.filters.map((f) => encoder.encode(f)));
    case "pingreq": return lib.encodePingreq(buf, offset);
    case "disconnect": return lib.encodeDisconnect(buf, offset);
  }
}

function describeResult(lib: MqttLibrary, result: number | Library.MqttError): string {
  return lib.isMqttError(result) ? "MqttError " + result.code + " (" + result.message + ")" : typeof result === "number" ? "length " + result : "a " + typeof result;
}

/** Expects a refusal with `code` that left buf untouched. */
function expectRefusal(lib: MqttLibrary, result: number | Library.MqttError, code: string, buf: Uint8Array): string | undefined {
  if (!lib.isMqttError(result)) return "returned " + describeResult(lib, result) + ", expected MqttError " + code;
  if (result.code !== code) return "MqttError " + result.code + " (" + result.message + "), expected " + code;
  const at = firstNot(buf, 0, buf.length, UNTOUCHED);
  return at < 0 ? undefined : "the buffer was written at byte " + at + " although the call was refused";
}

function runEncodeVectors(lib: MqttLibrary, encoder: Utf8Encoder, report: Report): void {
  for (const vector of encodeVectors) {
    const check = (mode: string, body: () => string | undefined): void => {
      let message: string | undefined;
      try {
        message = body();
      } catch (error) {
        message = "threw " + describe(error);
      }
      if (message === undefined) report.passed++;
      else report.fail("encode " + vector.name + " / " + mode, "encode " + vector.name + " / " + mode + ": " + message);
    };
    let parsed: Uint8Array | undefined;
    try {
      parsed = fromHex(vector.bytes);
    } catch (error) {
      report.fail("encode " + vector.name, "encode " + vector.name + ": bad vector: " + describe(error));
    }
    // outside the catch: typescript-to-lua turns a `continue` inside a catch into a goto out of a function
    if (parsed === undefined) continue;
    const expected = parsed;
    const size = expected.length;
    check("the vector's own length field", () => {
      const header = readFixedHeader(expected, 0);
      if (header === undefined || header.bodyStart + header.remainingLength !== size) return "the hand-written remaining length disagrees with the bytes";
      if (lib.lengthFieldSize(header.remainingLength) !== header.bodyStart - 1) return "lengthFieldSize(" + header.remainingLength + ") is " + lib.lengthFieldSize(header.remainingLength);
      const call = vector.call;
      if (call.packet === "publish") {
        const computed = lib.publishSize(encoder.encode(call.topic).length, fromHex(call.payload).length, call.qos);
        if (computed !== size) return "publishSize gives " + computed + ", expected " + size;
      }
      return undefined;
    });
    check("at offset 5 in a larger buffer", () => {
      const buf = new Uint8Array(size + 11).fill(UNTOUCHED);
      const result = callEncoder(lib, encoder, vector.call, buf, 5);
      if (result !== size) return "returned " + describeResult(lib, result) + ", expected length " + size;
      if (!sameBytes(buf, 5, expected, 0, size)) return "wrote " + toHex(buf, 5, 5 + size) + ", expected " + toHex(expected);
      const before = firstNot(buf, 0, 5, UNTOUCHED);
      const after = firstNot(buf, 5 + size, buf.length, UNTOUCHED);
      if (before >= 0 || after >= 0) return "wrote outside the packet at byte " + (before >= 0 ? before : after);
      return undefined;
    });
    check("into an exact-size buffer", () => {
      const buf = new Uint8Array(size);
      const result = callEncoder(lib, encoder, vector.call, buf, 0);
      if (result !== size) return "returned " + describeResult(lib, result) + ", expected length " + size;
      return sameBytes(buf, 0, expected, 0, size) ? undefined : "wrote " + toHex(buf) + ", expected " + toHex(expected);
    });
    check("one byte short: buffer-too-small", () => {
      const buf = new Uint8Array(size - 1).fill(UNTOUCHED);
      return expectRefusal(lib, callEncoder(lib, encoder, vector.call, buf, 0), "buffer-too-small", buf);
    });
    check("at an offset one byte short: buffer-too-small", () => {
      const buf = new Uint8Array(size + 3).fill(UNTOUCHED);
      return expectRefusal(lib, callEncoder(lib, encoder, vector.call, buf, 4), "buffer-too-small", buf);
    });
  }
  for (const vector of encodeErrorVectors) {
    let message: string | undefined;
    try {
      const buf = new Uint8Array(vector.bufferSize ?? 256).fill(UNTOUCHED);
      message = expectRefusal(lib, callEncoder(lib, encoder, vector.call, buf, vector.offset ?? 0), vector.code, buf);
    } catch (error) {
      message = "threw " + describe(error);
    }
    if (message === undefined) report.passed++;
    else report.fail("encode error " + vector.name, "encode error " + vector.name + ": " + message);
  }
}

// ------------------------------------------------------------------ decoders

/** The recovery packet fed after every error: PUBLISH QoS 1 "a/b" id 7 "ok". */
const RECOVERY_BYTES = "32 09 00 03 61 2F 62 00 07 6F 6B";
const RECOVERY: ExpectedPacket = {
  type: 3, flags: 2, remainingLength: 9, qos: 1, retain: false, dup: false, packetId: 7, topic: "a/b", payload: "6F6B",
};

function prepareExpected(encoder: Utf8Encoder, fields: ExpectedPacket): Expected {
  return {
    fields,
    topic: fields.topic === undefined ? undefined : encoder.encode(fields.topic),
    payload: fields.payload === undefined ? undefined : fromHex(fields.payload),
    codes: fields.codes === undefined ? undefined : fromHex(fields.codes),
  };
}

function runChunkings(
  lib: MqttLibrary, report: Report, name: string, stream: Stream, receiveBufferSize: number,
  chunkings: Chunking[], afterwards?: Stream,
): void {
  for (const chunking of chunkings) {
    let message: string | undefined;
    try {
      const run = newDecoder(lib, receiveBufferSize);
      message = runStream(lib, run, stream, chunking.cuts);
      if (message === undefined && afterwards !== undefined) {
        const next = runStream(lib, run, afterwards, []);
        if (next !== undefined) message = "after the error, a new packet fed whole: " + next;
      }
    } catch (error) {
      message = "threw " + describe(error);
    }
    const family = chunking.label.startsWith("split at") ? "split at k" : chunking.label.startsWith("random") ? "random" : chunking.label;
    if (message === undefined) report.passed++;
    else report.fail(name + " / " + family, name + " / " + chunking.label + ": " + message);
  }
}

function runDecodeVectors(lib: MqttLibrary, encoder: Utf8Encoder, report: Report): void {
  const recovery = makeStream([{ label: "recovery PUBLISH", bytes: fromHex(RECOVERY_BYTES), packet: prepareExpected(encoder, RECOVERY) }]);
  const pingresp = { label: "PINGRESP before it", bytes: fromHex("D0 00"), packet: prepareExpected(encoder, { type: 13, flags: 0, remainingLength: 0 }) };
  const all: Part[] = [];
  let largestBody = 2;

  decodeVectors.forEach((vector, index) => {
    const name = "decode " + vector.name;
    try {
      const bytes = fromHex(vector.bytes);
      const header = readFixedHeader(bytes, 0);
      if (header === undefined || header.bodyStart + header.remainingLength !== bytes.length) {
        report.fail(name, name + ": bad vector: the hand-written remaining length disagrees with the bytes");
        return;
      }
      const part: Part = { label: vector.name, bytes, packet: prepareExpected(encoder, vector.packet) };
      all.push(part);
      largestBody = Math.max(largestBody, header.remainingLength);
      runChunkings(lib, report, name, makeStream([part]), header.remainingLength + 16, chunkingsFor(bytes.length, index + 1));
      // a packet right after another in the same chunk (offsets not at a chunk start)
      runChunkings(lib, report, name + " after a PINGRESP", makeStream([pingresp, part]), header.remainingLength + 16, [{ label: "whole", cuts: [] }]);
    } catch (error) {
      report.fail(name, name + ": threw " + describe(error));
    }
  });

  const concatenated = makeStream(all);
  runChunkings(lib, report, "all decode vectors as one stream", concatenated, largestBody + 16, [
    { label: "whole", cuts: [] },
    { label: "one byte at a time", cuts: chunkingsFor(concatenated.bytes.length, 0)[1].cuts },
    ...randomChunkings(concatenated.bytes.length, 1000),
  ]);

  decodeErrorVectors.forEach((vector, index) => {
    const name = "decode error " + vector.name;
    try {
      const bytes = fromHex(vector.bytes);
      const header = readFixedHeader(bytes, 0);
      if (header !== undefined && header.bodyStart + header.remainingLength !== bytes.length) {
        report.fail(name, name + ": bad vector: the hand-written remaining length disagrees with the bytes");
        return;
      }
      const part: Part = { label: vector.name, bytes, errorCode: vector.code };
      const size = vector.receiveBufferSize ?? 64;
      runChunkings(lib, report, name, makeStream([part]), size, chunkingsFor(bytes.length, 5000 + index), recovery);
      runChunkings(lib, report, name + " after a PINGRESP", makeStream([pingresp, part]), size, [{ label: "whole", cuts: [] }], recovery);
    } catch (error) {
      report.fail(name, name + ": threw " + describe(error));
    }
  });

  oversizeVectors.forEach((vector, index) => {
    const name = "oversize " + vector.name;
    try {
      const bytes = fromHex(vector.bytes);
      const header = readFixedHeader(bytes, 0);
      if (header === undefined || header.bodyStart + header.remainingLength !== bytes.length || header.remainingLength <= vector.receiveBufferSize) {
        report.fail(name, name + ": bad vector: its remaining length disagrees with the bytes or fits the receive buffer");
        return;
      }
      const stream = makeStream([
        { label: vector.name, bytes, oversize: vector.oversize },
        { label: vector.next.name + " after it", bytes: fromHex(vector.next.bytes), packet: prepareExpected(encoder, vector.next.packet) },
      ]);
      runChunkings(lib, report, name, stream, vector.receiveBufferSize, chunkingsFor(stream.bytes.length, 9000 + index));
    } catch (error) {
      report.fail(name, name + ": threw " + describe(error));
    }
  });
}

// ------------------------------------------------------------------ topics

/** What `call` returns, or the MqttError it throws (anything else it throws goes on). */
function orThrown<T>(lib: MqttLibrary, call: () => T): T | Library.MqttError {
  try {
    return call();
  } catch (error) {
    if (lib.isMqttError(error)) return error;
    throw error;
  }
}

/** bytes placed at offset 3 of a larger array whose other bytes are NUL (invalid in a topic) */
function embedded(bytes: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(bytes.length + offset + 4);
  out.set(bytes, offset);
  return out;
}

function runTopicVectors(lib: MqttLibrary, encoder: Utf8Encoder, report: Report): void {
  const check = (name: string, body: () => string | undefined): void => {
    let message: string | undefined;
    try {
      message = body();
    } catch (error) {
      message = "threw " + describe(error);
    }
    if (message === undefined) report.passed++;
    else report.fail(name, name + ": " + message);
  };
  for (const vector of topicNameVectors) {
    const label = "text" in vector.name ? JSON.stringify(vector.name.text.length > 40 ? vector.name.text.slice(0, 20) + "..." : vector.name.text) : "hex " + vector.name.hex;
    check("topic name " + label + " (" + vector.why + ")", () => {
      const bytes = textOrHex(encoder, vector.name);
      const valid = lib.isValidTopicName(embedded(bytes, 3), 3, bytes.length);
      if (valid !== vector.valid) return "isValidTopicName gives " + valid + ", expected " + vector.valid;
      if (!("text" in vector.name)) return undefined;
      const prepared = orThrown(lib, () => lib.prepareTopic((vector.name as { text: string }).text, encoder));
      if (!vector.valid) return lib.isMqttError(prepared) && prepared.code === "topic-invalid" ? undefined : "prepareTopic did not refuse it with topic-invalid";
      if (lib.isMqttError(prepared)) return "prepareTopic refused it: " + prepared.code;
      if (prepared.name !== vector.name.text) return "prepareTopic kept another name";
      return prepared.bytes.length === bytes.length && sameBytes(prepared.bytes, 0, bytes, 0, bytes.length) ? undefined : "prepareTopic's bytes differ";
    });
  }
  for (const vector of topicFilterVectors) {
    const label = "text" in vector.filter ? JSON.stringify(vector.filter.text) : "hex " + vector.filter.hex;
    check("topic filter " + label + " (" + vector.why + ")", () => {
      const bytes = textOrHex(encoder, vector.filter);
      const valid = lib.isValidTopicFilter(embedded(bytes, 3), 3, bytes.length);
      if (valid !== vector.valid) return "isValidTopicFilter gives " + valid + ", expected " + vector.valid;
      if (!("text" in vector.filter)) return undefined;
      const prepared = orThrown(lib, () => lib.prepareFilter((vector.filter as { text: string }).text, encoder));
      if (!vector.valid) return lib.isMqttError(prepared) && prepared.code === "filter-invalid" ? undefined : "prepareFilter did not refuse it with filter-invalid";
      if (lib.isMqttError(prepared)) return "prepareFilter refused it: " + prepared.code;
      return prepared.length === bytes.length && sameBytes(prepared, 0, bytes, 0, bytes.length) ? undefined : "prepareFilter's bytes differ";
    });
  }
  for (const vector of topicMatchVectors) {
    check("filter " + JSON.stringify(vector.filter) + (vector.matches ? " matches " : " does not match ") + JSON.stringify(vector.topic) + " (" + vector.why + ")", () => {
      const filter = encoder.encode(vector.filter);
      const topic = encoder.encode(vector.topic);
      if (!lib.isValidTopicFilter(filter, 0, filter.length)) return "bad vector: the filter is not valid";
      if (!lib.isValidTopicName(topic, 0, topic.length)) return "bad vector: the topic is not valid";
      const matches = lib.topicMatches(embedded(filter, 2), 2, filter.length, embedded(topic, 5), 5, topic.length);
      return matches === vector.matches ? undefined : "topicMatches gives " + matches;
    });
  }
}

// ------------------------------------------------------------------ entry

/** Runs every vector; never throws. */
export function runVectors(lib: MqttLibrary, encoder: Utf8Encoder): VectorResult {
  const report = new Report();
  const sections: [string, (lib: MqttLibrary, encoder: Utf8Encoder, report: Report) => void][] = [
    ["encode", runEncodeVectors],
    ["decode", runDecodeVectors],
    ["topics", runTopicVectors],
  ];
  for (const [name, section] of sections) {
    try {
      section(lib, encoder, report);
    } catch (error) {
      report.fail(name, name + " vectors stopped: " + describe(error));
    }
  }
  return report.result();
}
