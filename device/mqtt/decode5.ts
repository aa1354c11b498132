/*
 * The stream decoder for MQTT 5.0: the 3.1.1 decoder's framing (decode.ts) with the 5.0
 * packets a server sends, DISCONNECT and AUTH included, their reason codes (reasons.ts) and
 * their properties, checked and then read in place by accessor (props.ts).
 * Must not allocate except to report an error: the property table is made once, with the
 * decoder; no views, no strings, no copies.
 */

import {
  AUTH, CONNACK, CONNACK_SESSION_PRESENT, DISCONNECT, FLAGS_MASK, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL,
  QOS_MASK, QOS_SHIFT, SUBACK, TYPE_SHIFT, UNSUBACK, DUP, RETAIN,
} from "./constants.js";
import { checkFirstByte, PacketDecoder } from "./decode.js";
import type { ErrorCode } from "./errors.js";
import {
  KIND_BINARY, KIND_BYTE, KIND_STRING, KIND_U16, KIND_U32, KIND_VARINT, PROP_TABLE_SIZE, PROP_TOPIC_ALIAS, PROP_USER_PROPERTY, propertyEnd,
  propertyKind, readProperties, u16At, u32At, varIntAt, varIntLength,
} from "./props.js";
import { reasonAllowed } from "./reasons.js";
import { checkUtf8, UTF8_INVALID, UTF8_OK } from "./utf8.js";

const PLUS = 0x2b;
const HASH = 0x23;

export class PacketDecoder5 extends PacketDecoder {
  /** CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT, AUTH: the reason code (0 when left out). */
  reasonCode = 0;
  /** The properties of the last packet: buf[propertiesOffset, propertiesEnd). */
  propertiesOffset = 0;
  propertiesEnd = 0;
  /** Where each property's value lies in `buf`, by identifier (the first one of those that repeat); 0 when absent. */
  readonly #at = new Int32Array(PROP_TABLE_SIZE);
  // the user property userProperty() found last
  nameOffset = 0;
  nameLength = 0;
  valueOffset = 0;
  valueLength = 0;

  protected override firstByteError(first: number): ErrorCode | undefined {
    const type = first >> TYPE_SHIFT;
    if (type === DISCONNECT || type === AUTH) return (first & FLAGS_MASK) === 0 ? undefined : "reserved-flags";
    return checkFirstByte(first);
  }

  protected override lengthFits(type: number, length: number): boolean {
    switch (type) {
      case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: return length >= 2;
      case CONNACK: return length >= 2; // 2: a 3.1.1 server's refusal, see parse()
      case PUBLISH: return length >= 3;
      case SUBACK: case UNSUBACK: return length >= 4;
      case PINGRESP: return length === 0;
      default: return true; // DISCONNECT, AUTH
    }
  }

  protected override parse(buf: Uint8Array, offset: number): number {
    const first = this.firstByte;
    const type = first >> TYPE_SHIFT;
    const length = this.bodyLength;
    const end = offset + length;
    this.type = type;
    this.flags = first & FLAGS_MASK;
    this.remainingLength = length;
    this.buf = buf;
    this.bodyOffset = offset;
    this.reasonCode = 0;
    // forget the last packet's properties (a packet without any leaves the table empty)
    if (this.propertiesEnd > this.propertiesOffset) this.#at.fill(0);
    this.propertiesOffset = this.propertiesEnd = end;
    switch (type) {
      case PUBLISH: return this.#parsePublish(buf, offset, end);
      case CONNACK: {
        const ackFlags = buf[offset];
        let code = buf[offset + 1];
        if (length === 2) {
          // a 3.1.1 server refuses protocol level 5 with its own CONNACK, return code 1
          // [MQTT-3.1.2-2]; its other refusals (2 to 5) read as their 5.0 equivalents
          if (code < 1 || code > 5) return this.fail("length-mismatch", "CONNACK without properties");
          code = code === 1 ? 0x84 : code === 2 ? 0x85 : code === 3 ? 0x88 : code === 4 ? 0x86 : 0x87;
        }
        this.reasonCode = this.returnCode = code;
        if (ackFlags & ~CONNACK_SESSION_PRESENT) return this.fail("connack-flags-invalid");
        // a refused connection never has a session [MQTT-3.2.2-6]
        if (code !== 0 && ackFlags !== 0) return this.fail("connack-flags-invalid", "session present with a refusal");
        this.sessionPresent = ackFlags === CONNACK_SESSION_PRESENT;
        this.#reason(type, code);
        if (length > 2) this.#properties(buf, offset + 2, end, true);
        return CONNACK;
      }
      case SUBACK: case UNSUBACK: {
        this.#packetId(buf, offset);
        const codes = this.#properties(buf, offset + 2, end, false);
        if (codes >= end) return this.fail("length-mismatch", "no reason codes");
        for (let i = codes; i < end; i++) this.#reason(type, buf[i]);
        this.codesOffset = codes;
        this.codesLength = end - codes;
        return type;
      }
      case PINGRESP:
        return PINGRESP;
      case DISCONNECT: case AUTH:
        // reason code and properties may be left out [MQTT-3.14.2.1][MQTT-3.15.2.1]
        if (length > 0) this.#reason(type, this.reasonCode = buf[offset]);
        if (length > 1) this.#properties(buf, offset + 1, end, true);
        return type;
      default: // PUBACK, PUBREC, PUBREL, PUBCOMP
        this.#packetId(buf, offset);
        if (length > 2) this.#reason(type, this.reasonCode = buf[offset + 2]);
        if (length > 3) this.#properties(buf, offset + 3, end, true);
        return type;
    }
  }

  #packetId(buf: Uint8Array, offset: number): void {
    this.packetId = (buf[offset] << 8) | buf[offset + 1];
    if (this.packetId === 0) this.fail("packet-id-zero");
  }

  #reason(type: number, code: number): void {
    if (!reasonAllowed(type, code)) this.fail("reason-code-invalid", "0x" + code.toString(16) + " in packet type " + type);
  }

  /**
   * Reads the property length at `pos` and checks the properties after it; `whole`: they
   * must end the packet. Returns where they end.
   */
  #properties(buf: Uint8Array, pos: number, end: number, whole: boolean): number {
    const size = varIntLength(buf, pos, end);
    if (size <= 0) return this.fail("length-mismatch", "property length");
    const start = pos + size;
    const stop = start + varIntAt(buf, pos, size);
    if (stop > end || (whole && stop !== end)) return this.fail("length-mismatch", "property length");
    // set first: a table left half filled by a refusal is cleared by the next parse()
    this.propertiesOffset = start;
    this.propertiesEnd = stop;
    const code = readProperties(buf, start, stop, this.type, this.#at);
    if (code !== undefined) return this.fail(code);
    return stop;
  }

  #parsePublish(buf: Uint8Array, offset: number, end: number): number {
    const qos = this.qos = (this.flags >> QOS_SHIFT) & QOS_MASK;
    this.retain = (this.flags & RETAIN) !== 0;
    this.dup = (this.flags & DUP) !== 0;
    const topicLength = (buf[offset] << 8) | buf[offset + 1];
    const topicOffset = offset + 2;
    let pos = topicOffset + topicLength + (qos > 0 ? 2 : 0);
    if (pos >= end) return this.fail("length-mismatch", "topic length " + topicLength);
    for (let i = topicOffset, stop = topicOffset + topicLength; i < stop; i++) {
      const byte = buf[i];
      if (byte === PLUS || byte === HASH) return this.fail("topic-wildcard");
    }
    const utf8 = checkUtf8(buf, topicOffset, topicLength);
    if (utf8 !== UTF8_OK) return this.fail(utf8 === UTF8_INVALID ? "utf8-invalid" : "utf8-null");
    if (qos > 0) {
      this.packetId = (buf[pos - 2] << 8) | buf[pos - 1];
      if (this.packetId === 0) return this.fail("packet-id-zero");
    } else {
      this.packetId = 0;
    }
    pos = this.#properties(buf, pos, end, false);
    // an empty topic name needs a topic alias [MQTT-3.3.2-1]
    if (topicLength === 0 && this.#at[PROP_TOPIC_ALIAS] === 0) return this.fail("topic-empty");
    this.topicOffset = topicOffset;
    this.topicLength = topicLength;
    this.payloadOffset = pos;
    this.payloadLength = end - pos;
    return PUBLISH;
  }

  // ---- the properties of the last packet, read in place

  /** Whether the last packet carried property `id`. */
  has(id: number): boolean {
    return this.#at[id] !== 0;
  }

  /**
   * The value of a numeric property (a byte, two- or four-byte integer or a variable byte
   * integer: the first one, for a repeated subscription identifier), or `absent`.
   */
  number(id: number, absent: number): number {
    const at = this.#at[id];
    if (at === 0) return absent;
    switch (propertyKind(id)) {
      case KIND_BYTE: return this.buf[at];
      case KIND_U16: return u16At(this.buf, at);
      case KIND_U32: return u32At(this.buf, at);
      case KIND_VARINT: return varIntAt(this.buf, at, varIntLength(this.buf, at, this.propertiesEnd));
      default: return absent;
    }
  }

  /** Where the value of a text or binary property starts in `buf` (after its length), or 0 when absent or not text or binary. */
  #bytesAt(id: number): number {
    const kind = propertyKind(id);
    const at = this.#at[id];
    return at === 0 || (kind !== KIND_STRING && kind !== KIND_BINARY) ? 0 : at;
  }

  /** Where the bytes of a text or binary property lie in `buf`: -1 when absent. */
  bytesOffset(id: number): number {
    const at = this.#bytesAt(id);
    return at === 0 ? -1 : at + 2;
  }

  /** How many bytes a text or binary property holds: 0 when absent. */
  bytesLength(id: number): number {
    const at = this.#bytesAt(id);
    return at === 0 ? 0 : u16At(this.buf, at);
  }

  /**
   * Finds the user property number `index` (from 0, in the order sent): sets nameOffset,
   * nameLength, valueOffset and valueLength; false when there are not that many.
   */
  userProperty(index: number): boolean {
    const buf = this.buf;
    const end = this.propertiesEnd;
    let pos = this.#at[PROP_USER_PROPERTY];
    if (pos === 0) return false;
    pos--;
    for (let seen = 0; pos < end; pos = propertyEnd(buf, pos, end)) {
      if (buf[pos] !== PROP_USER_PROPERTY) continue;
      if (seen++ < index) continue;
      this.nameLength = u16At(buf, pos + 1);
      this.nameOffset = pos + 3;
      this.valueLength = u16At(buf, this.nameOffset + this.nameLength);
      this.valueOffset = this.nameOffset + this.nameLength + 2;
      return true;
    }
    return false;
  }
}
