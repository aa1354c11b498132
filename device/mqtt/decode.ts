/*
 * The stream decoder for everything a server sends (MQTT 3.1.1). Bytes arrive in any
 * chunking through feed(); next() returns one packet at a time, its fields given as
 * offsets into `buf`. A packet that arrived whole in one chunk is read in place in that
 * chunk; only a packet split across chunks is gathered into the fixed receive buffer.
 * A packet larger than the receive buffer is skipped and reported, keeping the stream in
 * sync. A protocol error throws an MqttError; the decoder has then dropped its input and is
 * ready for a new stream.
 * Must not allocate except to report an error: no views, no strings, no copies of payloads.
 */

import {
  CONNACK, CONNACK_SESSION_PRESENT, DUP, FLAGS_0010, FLAGS_MASK, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL,
  QOS_MASK, QOS_SHIFT, RETAIN, SUBACK, SUBACK_FAILURE, TYPE_SHIFT, UNSUBACK,
} from "./constants.js";
import { ErrorCode, MqttError } from "./errors.js";
import { checkUtf8, UTF8_INVALID, UTF8_OK } from "./utf8.js";

/** next(): no whole packet yet; feed more bytes. */
export const NEED_MORE = 0;
/** next(): a packet larger than the receive buffer was skipped; see `type`, `remainingLength`, `qos`, `packetId`. */
export const OVERSIZE = -2;

const STATE_HEADER = 0;
const STATE_LENGTH = 1;
const STATE_BODY = 2;
const STATE_SKIP = 3;

const PLUS = 0x2b;
const HASH = 0x23;

export class PacketDecoder {
  /** The receive buffer: its first `receiveSize` bytes hold the body of a packet that arrived split across chunks. */
  readonly receiveBuffer: Uint8Array;
  /** The largest body the receive buffer takes (what lies after it in `receiveBuffer` is its owner's). */
  readonly receiveSize: number;

  // ---- the last packet returned by next(); valid until the next call of next() or feed()
  /** Packet type (CONNACK, PUBLISH, ...). */
  type = 0;
  /** The low four bits of the fixed header. */
  flags = 0;
  /** Remaining length: the size of the packet's body. */
  remainingLength = 0;
  /** Where the body lies: the chunk given to feed() or `receiveBuffer`. */
  buf: Uint8Array;
  bodyOffset = 0;
  /** PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK (0 for a QoS 0 PUBLISH). */
  packetId = 0;
  /** PUBLISH */
  qos = 0;
  retain = false;
  dup = false;
  topicOffset = 0;
  topicLength = 0;
  payloadOffset = 0;
  payloadLength = 0;
  /** CONNACK */
  sessionPresent = false;
  returnCode = 0;
  /** SUBACK: the return codes are buf[codesOffset .. codesOffset + codesLength). */
  codesOffset = 0;
  codesLength = 0;

  // ---- stream state
  #input: Uint8Array;
  #pos = 0;
  #end = 0;
  #state = STATE_HEADER;
  #first = 0;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #filled = 0;
  // skipping an oversize packet: how far into its body, and its PUBLISH topic length
  #skipped = 0;
  #skipTopicLength = 0;

  /**
   * `receiveBuffer`: its size (a buffer of its own), or the buffer to gather packets in (its
   * first `size` bytes: all of it unless given).
   */
  constructor(receiveBuffer: number | Uint8Array, size = typeof receiveBuffer === "number" ? receiveBuffer : receiveBuffer.length) {
    if (!Number.isInteger(size) || size < 2) {
      throw new MqttError("argument-invalid", "receiveBufferSize: 2 or more");
    }
    this.receiveBuffer = typeof receiveBuffer === "number" ? new Uint8Array(size) : receiveBuffer;
    this.receiveSize = size;
    this.buf = this.receiveBuffer;
    this.#input = this.receiveBuffer;
  }

  /**
   * Hands the decoder input[start, end). Call next() until it returns NEED_MORE before
   * feeding again: input still unread when feed() is called again is dropped.
   */
  feed(input: Uint8Array, start: number, end: number): void {
    this.#input = input;
    this.#pos = start;
    this.#end = end;
  }

  /** Bytes of the last feed() not yet read. */
  get pending(): number {
    return this.#end - this.#pos;
  }

  /** Forgets any partial packet and input: ready for a new connection's stream. */
  reset(): void {
    this.#state = STATE_HEADER;
    this.#pos = this.#end;
    this.#filled = 0;
    this.#length = 0;
    this.#multiplier = 1;
    this.#lengthBytes = 0;
  }

  /**
   * Decodes the next packet: returns its type, NEED_MORE or OVERSIZE. Throws an MqttError
   * when the stream breaks MQTT, after dropping the rest of the input.
   */
  next(): number {
    const input = this.#input;
    for (;;) {
      const state = this.#state;
      if (state === STATE_HEADER) {
        if (this.#pos >= this.#end) return NEED_MORE;
        const first = input[this.#pos++];
        const code = this.firstByteError(first);
        if (code !== undefined) return this.#fail(code);
        this.#first = first;
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
        this.#state = STATE_LENGTH;
      } else if (state === STATE_LENGTH) {
        if (this.#pos >= this.#end) return NEED_MORE;
        const digit = input[this.#pos++];
        this.#length += (digit & 0x7f) * this.#multiplier;
        this.#multiplier *= 128;
        this.#lengthBytes++;
        if (digit & 0x80) {
          if (this.#lengthBytes === 4) return this.#fail("length-too-long");
          continue;
        }
        const type = this.#first >> TYPE_SHIFT;
        if (!this.lengthFits(type, this.#length)) return this.#fail("length-mismatch", "remaining length " + this.#length);
        if (this.#length > this.receiveSize) {
          this.#state = STATE_SKIP;
          this.#skipped = 0;
          this.#skipTopicLength = 0;
          this.packetId = 0;
        } else {
          this.#state = STATE_BODY;
          this.#filled = 0;
        }
      } else if (state === STATE_BODY) {
        const length = this.#length;
        const available = this.#end - this.#pos;
        if (this.#filled === 0 && available >= length) {
          // the whole body is in this chunk: read it in place
          const offset = this.#pos;
          this.#pos += length;
          this.#state = STATE_HEADER;
          return this.parse(input, offset);
        }
        const rx = this.receiveBuffer;
        let filled = this.#filled;
        let pos = this.#pos;
        const stop = pos + Math.min(available, length - filled);
        while (pos < stop) rx[filled++] = input[pos++];
        this.#pos = pos;
        this.#filled = filled;
        if (filled < length) return NEED_MORE;
        this.#filled = 0;
        this.#state = STATE_HEADER;
        return this.parse(rx, 0);
      } else {
        const result = this.#skip(input);
        if (result !== NEED_MORE) return result;
        if (this.#pos >= this.#end) return NEED_MORE;
      }
    }
  }

  #skip(input: Uint8Array): number {
    const length = this.#length;
    const take = Math.min(this.#end - this.#pos, length - this.#skipped);
    const from = this.#skipped;
    const to = from + take;
    if ((this.#first >> TYPE_SHIFT) === PUBLISH) {
      // keep what acknowledging the packet needs: its packet id, after the topic
      for (let at = from; at < to && at < this.#skipTopicLength + 4; at++) {
        const byte = input[this.#pos + at - from];
        if (at === 0) this.#skipTopicLength = byte << 8;
        else if (at === 1) this.#skipTopicLength |= byte;
        else if (at === this.#skipTopicLength + 2) this.packetId = byte << 8;
        else if (at === this.#skipTopicLength + 3) this.packetId |= byte;
      }
    }
    this.#pos += take;
    this.#skipped = to;
    if (to < length) return NEED_MORE;
    this.#state = STATE_HEADER;
    this.type = this.#first >> TYPE_SHIFT;
    this.flags = this.#first & FLAGS_MASK;
    this.remainingLength = length;
    this.qos = this.type === PUBLISH ? (this.flags >> QOS_SHIFT) & QOS_MASK : 0;
    if (this.type === PUBLISH) {
      // refuse what the in-buffer parse refuses, as far as a skipped packet shows it: a
      // topic (or packet id) running past the packet would report a bogus packet id
      const topicLength = this.#skipTopicLength;
      if (2 + topicLength + (this.qos > 0 ? 2 : 0) > length) return this.#fail("length-mismatch", "topic length " + topicLength);
      if (topicLength === 0) return this.#fail("topic-empty");
    }
    if (this.qos === 0 && this.type === PUBLISH) this.packetId = 0;
    if (this.qos > 0 && this.packetId === 0) return this.#fail("packet-id-zero");
    return OVERSIZE;
  }

  #fail(code: ErrorCode, detail?: string): never {
    this.reset();
    throw new MqttError(code, detail);
  }

  /** The error code for a first byte a server must never send, or undefined when it is fine. */
  protected firstByteError(first: number): ErrorCode | undefined {
    return checkFirstByte(first);
  }

  /** Whether a remaining length is possible for a packet type, known from the header alone. */
  protected lengthFits(type: number, length: number): boolean {
    return lengthFits(type, length);
  }

  /** For a subclass's parse(): the first byte and the remaining length of the packet being read. */
  protected get firstByte(): number {
    return this.#first;
  }

  protected get bodyLength(): number {
    return this.#length;
  }

  /** Drops the input and throws: for the packet parsers of a subclass. */
  protected fail(code: ErrorCode, detail?: string): never {
    return this.#fail(code, detail);
  }

  /** Reads the body of a packet that arrived whole at buf[offset]: sets the fields, returns the type. */
  protected parse(buf: Uint8Array, offset: number): number {
    const first = this.#first;
    const type = first >> TYPE_SHIFT;
    const length = this.#length;
    this.type = type;
    this.flags = first & FLAGS_MASK;
    this.remainingLength = length;
    this.buf = buf;
    this.bodyOffset = offset;
    switch (type) {
      case PUBLISH: return this.#parsePublish(buf, offset, length);
      case CONNACK: {
        const ackFlags = buf[offset];
        const code = buf[offset + 1];
        if (ackFlags & ~CONNACK_SESSION_PRESENT) return this.#fail("connack-flags-invalid");
        if (code > 5) return this.#fail("connack-code-unknown", "code " + code);
        // a refused connection never has a session [MQTT-3.2.2-4]
        if (code !== 0 && ackFlags !== 0) return this.#fail("connack-flags-invalid", "session present with a refusal");
        this.sessionPresent = ackFlags === CONNACK_SESSION_PRESENT;
        this.returnCode = code;
        return CONNACK;
      }
      case SUBACK: {
        this.packetId = (buf[offset] << 8) | buf[offset + 1];
        if (this.packetId === 0) return this.#fail("packet-id-zero");
        this.codesOffset = offset + 2;
        this.codesLength = length - 2;
        for (let i = offset + 2, end = offset + length; i < end; i++) {
          const code = buf[i];
          if (code > 2 && code !== SUBACK_FAILURE) return this.#fail("suback-code-invalid", "code " + code);
        }
        return SUBACK;
      }
      case PINGRESP:
        return PINGRESP;
      default: {
        // PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: a packet id only
        this.packetId = (buf[offset] << 8) | buf[offset + 1];
        if (this.packetId === 0) return this.#fail("packet-id-zero");
        return type;
      }
    }
  }

  #parsePublish(buf: Uint8Array, offset: number, length: number): number {
    const qos = this.qos = (this.flags >> QOS_SHIFT) & QOS_MASK;
    this.retain = (this.flags & RETAIN) !== 0;
    this.dup = (this.flags & DUP) !== 0;
    const topicLength = (buf[offset] << 8) | buf[offset + 1];
    const head = 2 + topicLength + (qos > 0 ? 2 : 0);
    if (head > length) return this.#fail("length-mismatch", "topic length " + topicLength);
    const topicOffset = offset + 2;
    if (topicLength === 0) return this.#fail("topic-empty");
    for (let i = topicOffset, end = topicOffset + topicLength; i < end; i++) {
      const byte = buf[i];
      if (byte === PLUS || byte === HASH) return this.#fail("topic-wildcard");
    }
    const utf8 = checkUtf8(buf, topicOffset, topicLength);
    if (utf8 !== UTF8_OK) return this.#fail(utf8 === UTF8_INVALID ? "utf8-invalid" : "utf8-null");
    if (qos > 0) {
      this.packetId = (buf[topicOffset + topicLength] << 8) | buf[topicOffset + topicLength + 1];
      if (this.packetId === 0) return this.#fail("packet-id-zero");
    } else {
      this.packetId = 0;
    }
    this.topicOffset = topicOffset;
    this.topicLength = topicLength;
    this.payloadOffset = offset + head;
    this.payloadLength = length - head;
    return PUBLISH;
  }
}

/** The error code for a first byte a server must never send, or undefined when it is fine. */
export function checkFirstByte(first: number): ErrorCode | undefined {
  const type = first >> TYPE_SHIFT;
  const flags = first & FLAGS_MASK;
  switch (type) {
    case PUBLISH: {
      const qos = (flags >> QOS_SHIFT) & QOS_MASK;
      if (qos === 3) return "qos-invalid"; // [MQTT-3.3.1-4]
      if (qos === 0 && (flags & DUP)) return "dup-invalid"; // [MQTT-3.3.1-2]
      return undefined;
    }
    case PUBREL:
      return flags === FLAGS_0010 ? undefined : "reserved-flags"; // [MQTT-3.6.1-1]
    case CONNACK: case PUBACK: case PUBREC: case PUBCOMP: case SUBACK: case UNSUBACK: case PINGRESP:
      return flags === 0 ? undefined : "reserved-flags"; // [MQTT-2.2.2-1][MQTT-2.2.2-2]
    default:
      return "packet-type-invalid"; // CONNECT, SUBSCRIBE, ... and the reserved types 0 and 15
  }
}

/** Whether a remaining length is possible for a packet type, known from the header alone. */
function lengthFits(type: number, length: number): boolean {
  switch (type) {
    case CONNACK: case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: case UNSUBACK:
      return length === 2;
    case PINGRESP:
      return length === 0;
    default: // SUBACK: a packet id and a code at least; PUBLISH: a topic length field at least
      return length >= 3;
  }
}
