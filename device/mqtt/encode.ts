/*
 * Encoders for every packet a client sends (MQTT 3.1.1), writing into a caller-owned
 * Uint8Array at an offset. Each returns the number of bytes written; it throws an MqttError
 * when the input is invalid or the packet would not fit, and then writes nothing.
 * Must not allocate on success: no views, no strings, no temporary arrays.
 */

import {
  CONNECT, CONNECT_CLEAN, CONNECT_PASSWORD, CONNECT_USERNAME, CONNECT_WILL, CONNECT_WILL_QOS_SHIFT,
  CONNECT_WILL_RETAIN, DISCONNECT, DUP, FLAGS_0010, MAX_REMAINING_LENGTH, MAX_STRING_BYTES, PINGREQ,
  PROTOCOL_LEVEL, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, QOS_SHIFT, RETAIN, SUBSCRIBE, TYPE_SHIFT,
  UNSUBSCRIBE,
} from "./constants.js";
import { MqttError } from "./errors.js";
import { isValidTopicFilter, PreparedTopic } from "./topic.js";
import { checkUtf8, UTF8_OK } from "./utf8.js";

export interface Will {
  topic: PreparedTopic;
  payload: Uint8Array;
  qos: number;
  retain: boolean;
}

export interface ConnectFields {
  /** UTF-8 bytes of the client id; empty only with a clean session [MQTT-3.1.3-7]. */
  clientId: Uint8Array;
  clean: boolean;
  /** Seconds, 0 to 65,535; 0 turns keepalive off. */
  keepAlive: number;
  username?: Uint8Array;
  password?: Uint8Array;
  will?: Will;
}

export interface SubscribeFilter {
  /** UTF-8 bytes of the topic filter: all of them, or filter[start, start + length) when `length` is given. */
  filter: Uint8Array;
  qos: number;
  /** Where the filter's bytes start in `filter` (0 unless given). */
  start?: number;
  /** How many bytes the filter has from `start` (all of `filter` unless given). */
  length?: number;
}

/** The bytes a filter entry names go from its start (0 unless given) for this many bytes. */
export function filterLength(entry: SubscribeFilter): number {
  return entry.length ?? entry.filter.length;
}

/** Bytes taken by the remaining-length field for a given length; 0 when it is too large. */
export function lengthFieldSize(length: number): number {
  if (length < 128) return 1;
  if (length < 16_384) return 2;
  if (length < 2_097_152) return 3;
  if (length <= MAX_REMAINING_LENGTH) return 4;
  return 0;
}

/** Writes a remaining length (a variable byte integer) at `pos`; returns the position after it. */
export function writeLength(buf: Uint8Array, pos: number, length: number): number {
  do {
    let digit = length % 128;
    length = (length - digit) / 128;
    if (length > 0) digit |= 0x80;
    buf[pos++] = digit;
  } while (length > 0);
  return pos;
}

export function writeU16(buf: Uint8Array, pos: number, value: number): number {
  buf[pos] = value >> 8;
  buf[pos + 1] = value & 0xff;
  return pos + 2;
}

export function writeField(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
  pos = writeU16(buf, pos, bytes.length);
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/** A CONNECT payload field: bytes (else `code`), at most 65,535 of them; names it in the error. */
function field(value: Uint8Array, code: "argument-invalid" | "client-id-invalid", name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new MqttError(code, name);
  if (value.length > MAX_STRING_BYTES) throw new MqttError("string-too-long", name);
  return value;
}

export function isPacketId(id: number): boolean {
  return Number.isInteger(id) && id >= 1 && id <= 65_535;
}

export function isQos(qos: number, max: number): boolean {
  return Number.isInteger(qos) && qos >= 0 && qos <= max;
}

/** Checks that a whole packet of `remaining` bytes fits at `offset`; returns its size. */
export function fit(buf: Uint8Array, offset: number, remaining: number): number {
  if (!(buf instanceof Uint8Array)) throw new MqttError("argument-invalid", "buf");
  const lengthSize = lengthFieldSize(remaining);
  if (lengthSize === 0) throw new MqttError("payload-too-large");
  const total = 1 + lengthSize + remaining;
  if (!Number.isInteger(offset) || offset < 0 || offset + total > buf.length) {
    throw new MqttError("buffer-too-small");
  }
  return total;
}

/** Size in bytes of a PUBLISH packet, or 0 when it is larger than MQTT allows. */
export function publishSize(topicBytes: number, payloadBytes: number, qos: number): number {
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payloadBytes;
  const lengthSize = lengthFieldSize(remaining);
  return lengthSize === 0 ? 0 : 1 + lengthSize + remaining;
}

/**
 * PUBLISH [MQTT-3.3]. `packetId` is used only for QoS 1 and 2. DUP is allowed only with
 * QoS 1 or 2 [MQTT-3.3.1-2]. `payloadLength` sends only the first bytes of `payload`
 * (no view needed).
 */
export function encodePublish(
  buf: Uint8Array, offset: number, topic: PreparedTopic, payload: Uint8Array,
  qos: number, retain: boolean, dup: boolean, packetId: number, payloadLength: number = payload.length,
): number {
  if (!(topic instanceof PreparedTopic)) throw new MqttError("topic-invalid", "not prepared");
  if (!(payload instanceof Uint8Array)) throw new MqttError("argument-invalid", "payload");
  if (!isQos(qos, 2)) throw new MqttError("qos-invalid");
  if (qos > 0 && !isPacketId(packetId)) throw new MqttError("packet-id-invalid");
  if (dup && qos === 0) throw new MqttError("argument-invalid", "DUP with QoS 0 [MQTT-3.3.1-2]");
  if (!Number.isInteger(payloadLength) || payloadLength < 0 || payloadLength > payload.length) {
    throw new MqttError("argument-invalid", "payloadLength");
  }
  const topicBytes = topic.bytes;
  const remaining = 2 + topicBytes.length + (qos > 0 ? 2 : 0) + payloadLength;
  const total = fit(buf, offset, remaining);
  buf[offset] = (PUBLISH << TYPE_SHIFT) | (dup ? DUP : 0) | (qos << QOS_SHIFT) | (retain ? RETAIN : 0);
  let pos = writeLength(buf, offset + 1, remaining);
  pos = writeField(buf, pos, topicBytes);
  if (qos > 0) pos = writeU16(buf, pos, packetId);
  if (payloadLength === payload.length) buf.set(payload, pos);
  else for (let i = 0; i < payloadLength; i++) buf[pos + i] = payload[i];
  return total;
}

/** CONNECT [MQTT-3.1]: protocol "MQTT" level 4, flags, keepalive, then the payload fields. */
export function encodeConnect(buf: Uint8Array, offset: number, fields: ConnectFields): number {
  const { clientId, username, password, will } = fields;
  field(clientId, "client-id-invalid", "client id");
  if (checkUtf8(clientId, 0, clientId.length) !== UTF8_OK) throw new MqttError("client-id-invalid", "not UTF-8 [MQTT-3.1.3-4]");
  if (clientId.length === 0 && !fields.clean) throw new MqttError("client-id-invalid");
  if (!Number.isInteger(fields.keepAlive) || fields.keepAlive < 0 || fields.keepAlive > 65_535) {
    throw new MqttError("keepalive-invalid");
  }
  let remaining = 10 + 2 + clientId.length;
  let flags = fields.clean ? CONNECT_CLEAN : 0;
  if (will !== undefined) {
    if (!(will.topic instanceof PreparedTopic)) throw new MqttError("topic-invalid", "will: not prepared");
    field(will.payload, "argument-invalid", "will payload");
    if (!isQos(will.qos, 2)) throw new MqttError("qos-invalid", "will");
    remaining += 2 + will.topic.bytes.length + 2 + will.payload.length;
    flags |= CONNECT_WILL | (will.qos << CONNECT_WILL_QOS_SHIFT) | (will.retain ? CONNECT_WILL_RETAIN : 0);
  }
  if (username !== undefined) {
    field(username, "argument-invalid", "user name");
    if (checkUtf8(username, 0, username.length) !== UTF8_OK) throw new MqttError("argument-invalid", "username not UTF-8 [MQTT-3.1.3-11]");
    remaining += 2 + username.length;
    flags |= CONNECT_USERNAME;
  }
  if (password !== undefined) {
    if (username === undefined) throw new MqttError("password-without-username");
    field(password, "argument-invalid", "password");
    remaining += 2 + password.length;
    flags |= CONNECT_PASSWORD;
  }
  const total = fit(buf, offset, remaining);
  buf[offset] = CONNECT << TYPE_SHIFT;
  let pos = writeLength(buf, offset + 1, remaining);
  pos = writeU16(buf, pos, 4);
  buf[pos++] = 0x4d; // M
  buf[pos++] = 0x51; // Q
  buf[pos++] = 0x54; // T
  buf[pos++] = 0x54; // T
  buf[pos++] = PROTOCOL_LEVEL;
  buf[pos++] = flags;
  pos = writeU16(buf, pos, fields.keepAlive);
  pos = writeField(buf, pos, clientId);
  if (will !== undefined) {
    pos = writeField(buf, pos, will.topic.bytes);
    pos = writeField(buf, pos, will.payload);
  }
  if (username !== undefined) pos = writeField(buf, pos, username);
  if (password !== undefined) pos = writeField(buf, pos, password);
  return total;
}

/** SUBSCRIBE [MQTT-3.8] with one or more filters, each with its maximum QoS (0, 1 or 2). */
export function encodeSubscribe(
  buf: Uint8Array, offset: number, packetId: number, filters: readonly SubscribeFilter[],
): number {
  return encodeFilters(buf, offset, packetId, filters, true);
}

/** UNSUBSCRIBE [MQTT-3.10] with one or more filters (their bytes, or entries naming them: a QoS there is not written). */
export function encodeUnsubscribe(
  buf: Uint8Array, offset: number, packetId: number, filters: readonly (Uint8Array | SubscribeFilter)[],
): number {
  return encodeFilters(buf, offset, packetId, filters, false);
}

/** SUBSCRIBE (filters with their QoS, `subscribe`) or UNSUBSCRIBE (filters alone). */
function encodeFilters(
  buf: Uint8Array, offset: number, packetId: number, filters: readonly (SubscribeFilter | Uint8Array)[], subscribe: boolean,
): number {
  if (!isPacketId(packetId)) throw new MqttError("packet-id-invalid");
  // [MQTT-3.8.3-3] [MQTT-3.10.3-2]
  if (filters.length === 0) throw new MqttError("argument-invalid", "no filter");
  let remaining = 2;
  for (let i = 0; i < filters.length; i++) {
    const item = filters[i];
    const bare = item instanceof Uint8Array;
    if ((subscribe && bare) || item === null || typeof item !== "object") throw new MqttError("filter-invalid");
    const filter = bare ? item : item.filter;
    if (!(filter instanceof Uint8Array)) throw new MqttError("filter-invalid");
    const start = bare ? 0 : item.start ?? 0;
    const length = bare ? item.length : filterLength(item);
    if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || start + length > filter.length
      || !isValidTopicFilter(filter, start, length)) throw new MqttError("filter-invalid");
    if (subscribe && !isQos((item as SubscribeFilter).qos, 2)) throw new MqttError("qos-invalid");
    remaining += subscribe ? 3 + length : 2 + length;
  }
  const total = fit(buf, offset, remaining);
  buf[offset] = ((subscribe ? SUBSCRIBE : UNSUBSCRIBE) << TYPE_SHIFT) | FLAGS_0010;
  let pos = writeLength(buf, offset + 1, remaining);
  pos = writeU16(buf, pos, packetId);
  for (let i = 0; i < filters.length; i++) {
    const item = filters[i];
    if (item instanceof Uint8Array) {
      pos = writeField(buf, pos, item);
      continue;
    }
    const start = item.start ?? 0;
    const length = filterLength(item);
    pos = writeU16(buf, pos, length);
    const filter = item.filter;
    for (let k = 0; k < length; k++) buf[pos + k] = filter[start + k];
    pos += length;
    if (subscribe) buf[pos++] = item.qos;
  }
  return total;
}

function encodeIdOnly(buf: Uint8Array, offset: number, first: number, packetId: number): number {
  if (!isPacketId(packetId)) throw new MqttError("packet-id-invalid");
  fit(buf, offset, 2);
  buf[offset] = first;
  buf[offset + 1] = 2;
  writeU16(buf, offset + 2, packetId);
  return 4;
}

/** PUBACK [MQTT-3.4]. */
export function encodePuback(buf: Uint8Array, offset: number, packetId: number): number {
  return encodeIdOnly(buf, offset, PUBACK << TYPE_SHIFT, packetId);
}

/** PUBREC [MQTT-3.5]. */
export function encodePubrec(buf: Uint8Array, offset: number, packetId: number): number {
  return encodeIdOnly(buf, offset, PUBREC << TYPE_SHIFT, packetId);
}

/** PUBREL [MQTT-3.6]; its flags are 0010 [MQTT-3.6.1-1]. */
export function encodePubrel(buf: Uint8Array, offset: number, packetId: number): number {
  return encodeIdOnly(buf, offset, (PUBREL << TYPE_SHIFT) | FLAGS_0010, packetId);
}

/** PUBCOMP [MQTT-3.7]. */
export function encodePubcomp(buf: Uint8Array, offset: number, packetId: number): number {
  return encodeIdOnly(buf, offset, PUBCOMP << TYPE_SHIFT, packetId);
}

function encodeEmpty(buf: Uint8Array, offset: number, first: number): number {
  fit(buf, offset, 0);
  buf[offset] = first;
  buf[offset + 1] = 0;
  return 2;
}

/** PINGREQ [MQTT-3.12]. */
export function encodePingreq(buf: Uint8Array, offset: number): number {
  return encodeEmpty(buf, offset, PINGREQ << TYPE_SHIFT);
}

/** DISCONNECT [MQTT-3.14]. */
export function encodeDisconnect(buf: Uint8Array, offset: number): number {
  return encodeEmpty(buf, offset, DISCONNECT << TYPE_SHIFT);
}
