/*
 * MQTT 5.0 properties [MQTT-2.2.2]: variable byte integers, the identifier and type of each
 * property, the properties a client sends (checked, sized, then written into the caller's
 * buffer) and the walk that checks the properties a server sent and records where each one
 * lies in the receive buffer (read in place, by offset).
 * Must not allocate on success: no views, no strings, no temporary arrays; no tables at
 * module level (each would be a RAM alias on the board).
 */

import { AUTH, CONNACK, CONNECT, DISCONNECT, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE } from "./constants.js";
import { lengthFieldSize, writeField, writeLength, writeU16 } from "./encode.js";
import type { ErrorCode } from "./errors.js";
import { MqttError } from "./errors.js";
import { isValidTopicName } from "./topic.js";
import { checkUtf8, UTF8_OK } from "./utf8.js";

// ---- property identifiers (Table 2-4)
export const PROP_PAYLOAD_FORMAT = 0x01;
export const PROP_MESSAGE_EXPIRY = 0x02;
export const PROP_CONTENT_TYPE = 0x03;
export const PROP_RESPONSE_TOPIC = 0x08;
export const PROP_CORRELATION_DATA = 0x09;
export const PROP_SUBSCRIPTION_ID = 0x0b;
export const PROP_SESSION_EXPIRY = 0x11;
export const PROP_ASSIGNED_CLIENT_ID = 0x12;
export const PROP_SERVER_KEEPALIVE = 0x13;
export const PROP_AUTH_METHOD = 0x15;
export const PROP_AUTH_DATA = 0x16;
export const PROP_REQUEST_PROBLEM_INFO = 0x17;
export const PROP_WILL_DELAY = 0x18;
export const PROP_REQUEST_RESPONSE_INFO = 0x19;
export const PROP_RESPONSE_INFO = 0x1a;
export const PROP_SERVER_REFERENCE = 0x1c;
export const PROP_REASON_STRING = 0x1f;
export const PROP_RECEIVE_MAXIMUM = 0x21;
export const PROP_TOPIC_ALIAS_MAXIMUM = 0x22;
export const PROP_TOPIC_ALIAS = 0x23;
export const PROP_MAXIMUM_QOS = 0x24;
export const PROP_RETAIN_AVAILABLE = 0x25;
export const PROP_USER_PROPERTY = 0x26;
export const PROP_MAXIMUM_PACKET_SIZE = 0x27;
export const PROP_WILDCARD_AVAILABLE = 0x28;
export const PROP_SUBSCRIPTION_ID_AVAILABLE = 0x29;
export const PROP_SHARED_AVAILABLE = 0x2a;
/** One more than the largest property identifier: the size of a table indexed by identifier. */
export const PROP_TABLE_SIZE = 0x2b;

// ---- the type of a property's value [MQTT-2.2.2.2]
export const KIND_NONE = 0;
export const KIND_BYTE = 1;
export const KIND_U16 = 2;
export const KIND_U32 = 4;
export const KIND_VARINT = 5;
export const KIND_STRING = 6;
export const KIND_BINARY = 7;
export const KIND_PAIR = 8;

/** The largest value of a variable byte integer [MQTT-1.5.5]. */
export const MAX_VARINT = 268_435_455;

/** Pseudo packet type for the will properties of CONNECT [MQTT-3.1.3.2]. */
export const WILL_PROPERTIES = 0;

/** The type of a property's value, KIND_NONE for an identifier MQTT 5.0 does not define. */
export function propertyKind(id: number): number {
  switch (id) {
    case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2a: return KIND_BYTE;
    case 0x13: case 0x21: case 0x22: case 0x23: return KIND_U16;
    case 0x02: case 0x11: case 0x18: case 0x27: return KIND_U32;
    case 0x0b: return KIND_VARINT;
    case 0x03: case 0x08: case 0x12: case 0x15: case 0x1a: case 0x1c: case 0x1f: return KIND_STRING;
    case 0x09: case 0x16: return KIND_BINARY;
    case 0x26: return KIND_PAIR;
    default: return KIND_NONE;
  }
}

/** Whether property `id` may appear in a packet of `type` (Table 2-4; WILL_PROPERTIES for the will). */
export function propertyAllowed(type: number, id: number): boolean {
  if (id === PROP_USER_PROPERTY) return true;
  switch (type) {
    case PUBLISH: case WILL_PROPERTIES:
      return id === 0x01 || id === 0x02 || id === 0x03 || id === 0x08 || id === 0x09
        || (type === PUBLISH ? id === 0x0b || id === 0x23 : id === 0x18);
    case CONNECT:
      return id === 0x11 || id === 0x15 || id === 0x16 || id === 0x17 || id === 0x19 || id === 0x21 || id === 0x22
        || id === 0x27;
    case CONNACK:
      return id === 0x11 || id === 0x12 || id === 0x13 || id === 0x15 || id === 0x16 || id === 0x1a || id === 0x1c
        || id === 0x1f || (id >= 0x21 && id <= 0x2a && id !== 0x23);
    case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: case SUBACK: case UNSUBACK:
      return id === PROP_REASON_STRING;
    case SUBSCRIBE:
      return id === PROP_SUBSCRIPTION_ID;
    case UNSUBSCRIBE:
      return false;
    case DISCONNECT:
      return id === 0x11 || id === 0x1c || id === 0x1f;
    case AUTH:
      return id === 0x15 || id === 0x16 || id === 0x1f;
    default:
      return false;
  }
}

// ---- variable byte integers [MQTT-1.5.5]

/** Bytes a variable byte integer takes (the remaining length is one); 0 when the value is out of range. */
export function varIntSize(value: number): number {
  return value < 0 ? 0 : lengthFieldSize(value);
}

/** Writes a variable byte integer at `pos`; returns the position after it. */
export { writeLength as writeVarInt } from "./encode.js";

/**
 * How many bytes the variable byte integer at buf[pos, end) takes: 0 when it runs past
 * `end`, -1 when it is longer than four bytes or not in its shortest form [MQTT-1.5.5-1].
 */
export function varIntLength(buf: Uint8Array, pos: number, end: number): number {
  for (let i = 0; i < 4; i++) {
    if (pos + i >= end) return 0;
    const byte = buf[pos + i];
    if ((byte & 0x80) === 0) return i > 0 && byte === 0 ? -1 : i + 1;
  }
  return -1;
}

/** The value of a variable byte integer whose length varIntLength() gave. */
export function varIntAt(buf: Uint8Array, pos: number, size: number): number {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < size; i++) {
    value += (buf[pos + i] & 0x7f) * multiplier;
    multiplier *= 128;
  }
  return value;
}

export function u16At(buf: Uint8Array, pos: number): number {
  return (buf[pos] << 8) | buf[pos + 1];
}

export function u32At(buf: Uint8Array, pos: number): number {
  return buf[pos] * 0x1000000 + ((buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]);
}

// ---- reading what a server sent

/**
 * Where the property whose identifier is at `pos` ends, or -1 when it runs past `end`.
 * The identifier must be one propertyKind() knows.
 */
export function propertyEnd(buf: Uint8Array, pos: number, end: number): number {
  const kind = propertyKind(buf[pos]);
  let at = pos + 1;
  if (kind === KIND_VARINT) {
    const size = varIntLength(buf, at, end);
    return size <= 0 ? -1 : at + size;
  }
  if (kind === KIND_STRING || kind === KIND_BINARY || kind === KIND_PAIR) {
    if (at + 2 > end) return -1;
    at += 2 + u16At(buf, at);
    if (kind === KIND_PAIR) {
      if (at + 2 > end) return -1;
      at += 2 + u16At(buf, at);
    }
  } else {
    at += kind;
  }
  return at > end ? -1 : at;
}

/**
 * Checks the properties buf[start, end) of a packet of `type` that a server sent and
 * records in `table` (all 0 on entry) where each one's value lies (the first one, for those
 * that may repeat). Returns undefined when they are fine, else the error: an unknown or
 * misplaced identifier, a repeat [MQTT-2.2.2-2 and each property's rule], a value out of
 * range, or text that is not UTF-8 [MQTT-1.5.4-1].
 */
export function readProperties(
  buf: Uint8Array, start: number, end: number, type: number, table: Int32Array,
): ErrorCode | undefined {
  let pos = start;
  while (pos < end) {
    const id = buf[pos];
    if (propertyKind(id) === KIND_NONE || !propertyAllowed(type, id)) return "property-invalid";
    const next = propertyEnd(buf, pos, end);
    if (next < 0) return "length-mismatch";
    const value = pos + 1;
    if (table[id] !== 0) {
      if (id !== PROP_USER_PROPERTY && !(id === PROP_SUBSCRIPTION_ID && type === PUBLISH)) return "property-invalid";
    } else {
      table[id] = value;
    }
    const code = checkValue(buf, id, value, next);
    if (code !== undefined) return code;
    pos = next;
  }
  return undefined;
}

function checkValue(buf: Uint8Array, id: number, value: number, next: number): ErrorCode | undefined {
  switch (propertyKind(id)) {
    case KIND_BYTE:
      // each byte property is 0 or 1, except Maximum QoS [MQTT-3.2.2-9]
      return buf[value] > 1 ? "property-invalid" : undefined;
    case KIND_U16:
      // Receive Maximum and Topic Alias cannot be 0 [MQTT-3.2.2.3.3][MQTT-3.3.2-8]
      return (id === PROP_RECEIVE_MAXIMUM || id === PROP_TOPIC_ALIAS) && u16At(buf, value) === 0 ? "property-invalid" : undefined;
    case KIND_U32:
      return id === PROP_MAXIMUM_PACKET_SIZE && u32At(buf, value) === 0 ? "property-invalid" : undefined;
    case KIND_VARINT:
      return varIntAt(buf, value, next - value) === 0 ? "property-invalid" : undefined; // [MQTT-3.3.4-6]
    case KIND_STRING:
      return checkUtf8(buf, value + 2, next - value - 2) === UTF8_OK ? undefined : "utf8-invalid";
    case KIND_PAIR: {
      const nameLength = u16At(buf, value);
      if (checkUtf8(buf, value + 2, nameLength) !== UTF8_OK) return "utf8-invalid";
      return checkUtf8(buf, value + 4 + nameLength, next - value - 4 - nameLength) === UTF8_OK ? undefined : "utf8-invalid";
    }
    default:
      return undefined;
  }
}

// ---- what a client sends

/** A user property [MQTT-3.3.2.3.7]: a name and a value, both UTF-8 bytes. */
export interface UserProperty {
  readonly name: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * The properties a client may send, in one shape; each packet takes only those Table 2-4
 * allows it (the encoder refuses the others). Text is UTF-8 bytes; numbers are whole.
 * Keep one object per use and change its fields: encoding it allocates nothing.
 */
export interface Properties {
  /** PUBLISH, will: 0 bytes, 1 UTF-8 text [MQTT-3.3.2.3.2]. */
  payloadFormat?: number;
  /** PUBLISH, will: seconds until the broker drops the message. */
  messageExpiry?: number;
  /** PUBLISH, will: a MIME type, say. */
  contentType?: Uint8Array;
  /** PUBLISH, will: a topic name for the answer (no wildcards) [MQTT-3.3.2-14]. */
  responseTopic?: Uint8Array;
  /** PUBLISH, will: bytes the answer carries back. */
  correlationData?: Uint8Array;
  /** PUBLISH: the topic alias (1 to the server's Topic Alias Maximum). */
  topicAlias?: number;
  /** SUBSCRIBE: 1 to 268,435,455. */
  subscriptionIdentifier?: number;
  /** CONNECT, DISCONNECT: seconds the session outlives the connection (0xFFFFFFFF: forever). */
  sessionExpiry?: number;
  /** CONNECT: how many QoS 1 and 2 messages the client takes at once (1 to 65,535). */
  receiveMaximum?: number;
  /** CONNECT: the largest packet the client takes. */
  maximumPacketSize?: number;
  /** CONNECT: how many topic aliases the server may use towards the client. */
  topicAliasMaximum?: number;
  /** CONNECT: 0 or 1. */
  requestResponseInformation?: number;
  /** CONNECT: 0 or 1. */
  requestProblemInformation?: number;
  /** Will: seconds the broker waits before publishing the will. */
  willDelay?: number;
  /** CONNECT, AUTH. */
  authenticationMethod?: Uint8Array;
  /** CONNECT, AUTH. */
  authenticationData?: Uint8Array;
  /** Acknowledgements, DISCONNECT, AUTH. */
  reasonString?: Uint8Array;
  /** Every packet that has properties. */
  userProperties?: readonly UserProperty[];
}

function refuse(id: number, type: number): never {
  throw new MqttError("argument-invalid", "property 0x" + id.toString(16) + " in packet type " + type);
}

function wholeIn(value: unknown, min: number, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function numberSize(type: number, id: number, value: unknown, min: number, max: number, size: number): number {
  if (value === undefined) return 0;
  if (!propertyAllowed(type, id)) refuse(id, type);
  if (!wholeIn(value, min, max)) throw new MqttError("argument-invalid", "property 0x" + id.toString(16) + " out of range");
  return 1 + size;
}

function bytesSize(type: number, id: number, value: Uint8Array | undefined, text: boolean): number {
  if (value === undefined) return 0;
  if (!propertyAllowed(type, id)) refuse(id, type);
  if (!(value instanceof Uint8Array)) throw new MqttError("argument-invalid", "property 0x" + id.toString(16) + " must be bytes");
  if (value.length > 65_535) throw new MqttError("string-too-long", "property 0x" + id.toString(16));
  if (text && checkUtf8(value, 0, value.length) !== UTF8_OK) throw new MqttError("argument-invalid", "property 0x" + id.toString(16) + " is not UTF-8 [MQTT-1.5.4-1]");
  return 3 + value.length;
}

/**
 * The size of the property fields of `p` for a packet of `type`, without the length in
 * front. Throws an MqttError for a property the packet may not carry or a bad value.
 */
export function propertiesSize(p: Properties | undefined, type: number): number {
  if (p === undefined) return 0;
  let size = numberSize(type, PROP_PAYLOAD_FORMAT, p.payloadFormat, 0, 1, 1)
    + numberSize(type, PROP_MESSAGE_EXPIRY, p.messageExpiry, 0, 0xffffffff, 4)
    + bytesSize(type, PROP_CONTENT_TYPE, p.contentType, true)
    + bytesSize(type, PROP_RESPONSE_TOPIC, p.responseTopic, true)
    + bytesSize(type, PROP_CORRELATION_DATA, p.correlationData, false)
    + numberSize(type, PROP_SESSION_EXPIRY, p.sessionExpiry, 0, 0xffffffff, 4)
    + bytesSize(type, PROP_AUTH_METHOD, p.authenticationMethod, true)
    + bytesSize(type, PROP_AUTH_DATA, p.authenticationData, false)
    + numberSize(type, PROP_REQUEST_PROBLEM_INFO, p.requestProblemInformation, 0, 1, 1)
    + numberSize(type, PROP_WILL_DELAY, p.willDelay, 0, 0xffffffff, 4)
    + numberSize(type, PROP_REQUEST_RESPONSE_INFO, p.requestResponseInformation, 0, 1, 1)
    + bytesSize(type, PROP_REASON_STRING, p.reasonString, true)
    + numberSize(type, PROP_RECEIVE_MAXIMUM, p.receiveMaximum, 1, 65_535, 2)
    + numberSize(type, PROP_TOPIC_ALIAS_MAXIMUM, p.topicAliasMaximum, 0, 65_535, 2)
    + numberSize(type, PROP_TOPIC_ALIAS, p.topicAlias, 1, 65_535, 2)
    + numberSize(type, PROP_MAXIMUM_PACKET_SIZE, p.maximumPacketSize, 1, 0xffffffff, 4);
  const responseTopic = p.responseTopic;
  if (responseTopic !== undefined && !isValidTopicName(responseTopic, 0, responseTopic.length)) {
    throw new MqttError("topic-invalid", "response topic [MQTT-3.3.2-14]");
  }
  const id = p.subscriptionIdentifier;
  if (id !== undefined) {
    // only a server puts one on PUBLISH [MQTT-3.3.4-6]
    if (type !== SUBSCRIBE) refuse(PROP_SUBSCRIPTION_ID, type);
    if (!wholeIn(id, 1, MAX_VARINT)) throw new MqttError("argument-invalid", "subscription identifier 1-268435455");
    size += 1 + varIntSize(id);
  }
  const users = p.userProperties;
  if (users !== undefined) {
    if (!Array.isArray(users)) throw new MqttError("argument-invalid", "userProperties must be an array");
    for (let i = 0; i < users.length; i++) {
      const user = users[i];
      if (user === null || typeof user !== "object") throw new MqttError("argument-invalid", "user property " + i);
      size += bytesSize(type, PROP_USER_PROPERTY, user.name, true) + bytesSize(type, PROP_USER_PROPERTY, user.value, true) - 1;
    }
  }
  return size;
}

function writeU32(buf: Uint8Array, pos: number, value: number): number {
  buf[pos] = Math.floor(value / 0x1000000) & 0xff;
  buf[pos + 1] = (value >> 16) & 0xff;
  buf[pos + 2] = (value >> 8) & 0xff;
  buf[pos + 3] = value & 0xff;
  return pos + 4;
}

function putByte(buf: Uint8Array, pos: number, id: number, value: number | undefined): number {
  if (value === undefined) return pos;
  buf[pos] = id;
  buf[pos + 1] = value;
  return pos + 2;
}

function putU16(buf: Uint8Array, pos: number, id: number, value: number | undefined): number {
  if (value === undefined) return pos;
  buf[pos] = id;
  return writeU16(buf, pos + 1, value);
}

function putU32(buf: Uint8Array, pos: number, id: number, value: number | undefined): number {
  if (value === undefined) return pos;
  buf[pos] = id;
  return writeU32(buf, pos + 1, value);
}

function putBytes(buf: Uint8Array, pos: number, id: number, value: Uint8Array | undefined): number {
  if (value === undefined) return pos;
  buf[pos] = id;
  return writeField(buf, pos + 1, value);
}

/**
 * Writes the property length `size` (from propertiesSize) and then the properties of `p`,
 * in identifier order; returns the position after them.
 */
export function writeProperties(buf: Uint8Array, pos: number, p: Properties | undefined, size: number): number {
  pos = writeLength(buf, pos, size);
  if (p === undefined || size === 0) return pos;
  pos = putByte(buf, pos, PROP_PAYLOAD_FORMAT, p.payloadFormat);
  pos = putU32(buf, pos, PROP_MESSAGE_EXPIRY, p.messageExpiry);
  pos = putBytes(buf, pos, PROP_CONTENT_TYPE, p.contentType);
  pos = putBytes(buf, pos, PROP_RESPONSE_TOPIC, p.responseTopic);
  pos = putBytes(buf, pos, PROP_CORRELATION_DATA, p.correlationData);
  if (p.subscriptionIdentifier !== undefined) {
    buf[pos] = PROP_SUBSCRIPTION_ID;
    pos = writeLength(buf, pos + 1, p.subscriptionIdentifier);
  }
  pos = putU32(buf, pos, PROP_SESSION_EXPIRY, p.sessionExpiry);
  pos = putBytes(buf, pos, PROP_AUTH_METHOD, p.authenticationMethod);
  pos = putBytes(buf, pos, PROP_AUTH_DATA, p.authenticationData);
  pos = putByte(buf, pos, PROP_REQUEST_PROBLEM_INFO, p.requestProblemInformation);
  pos = putU32(buf, pos, PROP_WILL_DELAY, p.willDelay);
  pos = putByte(buf, pos, PROP_REQUEST_RESPONSE_INFO, p.requestResponseInformation);
  pos = putBytes(buf, pos, PROP_REASON_STRING, p.reasonString);
  pos = putU16(buf, pos, PROP_RECEIVE_MAXIMUM, p.receiveMaximum);
  pos = putU16(buf, pos, PROP_TOPIC_ALIAS_MAXIMUM, p.topicAliasMaximum);
  pos = putU16(buf, pos, PROP_TOPIC_ALIAS, p.topicAlias);
  const users = p.userProperties;
  if (users !== undefined) {
    for (let i = 0; i < users.length; i++) {
      buf[pos] = PROP_USER_PROPERTY;
      pos = writeField(buf, pos + 1, users[i].name);
      pos = writeField(buf, pos, users[i].value);
    }
  }
  pos = putU32(buf, pos, PROP_MAXIMUM_PACKET_SIZE, p.maximumPacketSize);
  return pos;
}
