/*
 * Encoders for every packet an MQTT 5.0 client sends, writing into a caller-owned
 * Uint8Array at an offset, properties included (props.ts). Each returns the number of bytes
 * written; it throws an MqttError when the input is invalid or the packet would not fit,
 * and then writes nothing. PINGREQ is the same in both versions (encode.ts).
 * Must not allocate on success: no views, no strings, no temporary arrays. Nothing in the
 * MQTT 3.1.1 path imports this module.
 */

import {
  AUTH, CONNECT, DISCONNECT, DUP, FLAGS_0010, PROTOCOL_LEVEL_5, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, QOS_SHIFT,
  RETAIN, SUBSCRIBE, TYPE_SHIFT, UNSUBSCRIBE,
} from "./constants.js";
import type { ConnectFields, Will } from "./encode.js";
import {
  encodeConnect, encodeSubscribe, encodeUnsubscribe, filterLength, fit, isPacketId, isQos, lengthFieldSize, writeField, writeU16,
} from "./encode.js";
import { MqttError } from "./errors.js";
import type { Properties } from "./props.js";
import { propertiesSize, varIntSize, WILL_PROPERTIES, writeProperties, writeVarInt } from "./props.js";
import { reasonAllowed } from "./reasons.js";
import { PreparedTopic } from "./topic.js";

export interface Will5 extends Will {
  properties?: Properties;
}

export interface Connect5Fields extends ConnectFields {
  properties?: Properties;
  will?: Will5;
}

/** One filter of a 5.0 SUBSCRIBE with its subscription options [MQTT-3.8.3.1]. */
export interface SubscribeFilter5 {
  /** UTF-8 bytes of the topic filter: all of them, or filter[start, start + length) when `length` is given. */
  filter: Uint8Array;
  qos: number;
  /** Where the filter's bytes start in `filter` (0 unless given). */
  start?: number;
  /** How many bytes the filter has from `start` (all of `filter` unless given). */
  length?: number;
  /** Messages this client publishes are not sent back to it [MQTT-3.8.3-3]. */
  noLocal?: boolean;
  /** Forwarded messages keep the RETAIN flag they were published with. */
  retainAsPublished?: boolean;
  /** 0: send retained messages on subscribe; 1: only for a new subscription; 2: never. */
  retainHandling?: number;
}

/** Bytes of a property length and the properties it counts. */
function withLength(size: number): number {
  return varIntSize(size) + size;
}

/** Bytes of a length-prefixed field, 0 when absent (or not bytes: the 3.1.1 encoder refuses that). */
function fieldSize(bytes: Uint8Array | undefined): number {
  return bytes instanceof Uint8Array ? 2 + bytes.length : 0;
}

/**
 * CONNECT [MQTT-3.1] at protocol level 5: the 3.1.1 fields, then the CONNECT properties
 * after the keepalive and the will properties before the will topic [MQTT-3.1.2.11][MQTT-3.1.3.2].
 * The 3.1.1 encoder checks and writes the fields; the parts then move apart to make room.
 */
export function encodeConnect5(buf: Uint8Array, offset: number, fields: Connect5Fields): number {
  const connectSize = propertiesSize(fields.properties, CONNECT);
  const will = fields.will;
  const willSize = will === undefined ? 0 : propertiesSize(will.properties, WILL_PROPERTIES);
  const added = withLength(connectSize) + (will === undefined ? 0 : withLength(willSize));
  const clientIdField = fieldSize(fields.clientId);
  const remaining4 = 10 + clientIdField + fieldSize(fields.username) + fieldSize(fields.password)
    + (will === undefined || !(will.topic instanceof PreparedTopic) ? 0 : fieldSize(will.topic.bytes) + fieldSize(will.payload));
  const remaining = remaining4 + added;
  // the larger packet fits first, so that a refusal below has written nothing
  const total = fit(buf, offset, remaining);
  const total4 = encodeConnect(buf, offset, fields);
  const body4 = offset + total4 - remaining4;
  const body = offset + total - remaining;
  const clientIdEnd4 = body4 + 10 + clientIdField;
  // from the end backwards: what follows the client id, the client id, the variable header
  buf.copyWithin(clientIdEnd4 - body4 + body + added, clientIdEnd4, offset + total4);
  buf.copyWithin(body + 10 + withLength(connectSize), body4 + 10, clientIdEnd4);
  buf.copyWithin(body, body4, body4 + 10);
  writeVarInt(buf, offset + 1, remaining);
  buf[body + 6] = PROTOCOL_LEVEL_5;
  writeProperties(buf, body + 10, fields.properties, connectSize);
  if (will !== undefined) writeProperties(buf, body + 10 + withLength(connectSize) + clientIdField, will.properties, willSize);
  return total;
}

/**
 * Size in bytes of a 5.0 PUBLISH whose properties take `propsSize` bytes (propertiesSize),
 * or 0 when it is larger than MQTT allows. `topicBytes` is 0 for a topic sent as an alias only.
 */
export function publishSize5(topicBytes: number, payloadBytes: number, qos: number, propsSize: number): number {
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + withLength(propsSize) + payloadBytes;
  const lengthSize = lengthFieldSize(remaining);
  return lengthSize === 0 ? 0 : 1 + lengthSize + remaining;
}

/**
 * PUBLISH [MQTT-3.3] at 5.0. `topic` undefined sends an empty topic name, which needs a
 * topic alias among the properties [MQTT-3.3.2-1]. `propsSize` is propertiesSize(props,
 * PUBLISH), computed once by the caller (it also sized the packet with publishSize5).
 */
export function encodePublish5(
  buf: Uint8Array, offset: number, topic: PreparedTopic | undefined, payload: Uint8Array,
  qos: number, retain: boolean, dup: boolean, packetId: number, props: Properties | undefined, propsSize: number,
  payloadLength: number = payload.length,
): number {
  if (topic !== undefined && !(topic instanceof PreparedTopic)) throw new MqttError("topic-invalid", "publish takes a prepared topic");
  if (topic === undefined && (props === undefined || props.topicAlias === undefined)) {
    throw new MqttError("topic-invalid", "an empty topic needs a topic alias [MQTT-3.3.2-1]");
  }
  if (!(payload instanceof Uint8Array)) throw new MqttError("argument-invalid", "the payload must be a Uint8Array");
  if (!isQos(qos, 2)) throw new MqttError("qos-invalid");
  if (qos > 0 && !isPacketId(packetId)) throw new MqttError("packet-id-invalid");
  if (dup && qos === 0) throw new MqttError("argument-invalid", "DUP is only for QoS 1 and 2 [MQTT-3.3.1-2]");
  if (!Number.isInteger(payloadLength) || payloadLength < 0 || payloadLength > payload.length) {
    throw new MqttError("argument-invalid", "payloadLength must be from 0 to the payload's length");
  }
  const topicLength = topic === undefined ? 0 : topic.bytes.length;
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + withLength(propsSize) + payloadLength;
  const total = fit(buf, offset, remaining);
  buf[offset] = (PUBLISH << TYPE_SHIFT) | (dup ? DUP : 0) | (qos << QOS_SHIFT) | (retain ? RETAIN : 0);
  let pos = writeVarInt(buf, offset + 1, remaining);
  if (topic === undefined) {
    buf[pos++] = 0;
    buf[pos++] = 0;
  } else {
    pos = writeField(buf, pos, topic.bytes);
  }
  if (qos > 0) pos = writeU16(buf, pos, packetId);
  pos = writeProperties(buf, pos, props, propsSize);
  if (payloadLength === payload.length) buf.set(payload, pos);
  else for (let i = 0; i < payloadLength; i++) buf[pos + i] = payload[i];
  return total;
}

/** Writes a reason code and properties, or leaves both out when the reason is 0 and there are none. */
function encodeReasoned(
  buf: Uint8Array, offset: number, first: number, type: number, packetId: number, reason: number, props: Properties | undefined,
): number {
  if (!reasonAllowed(type, reason)) throw new MqttError("argument-invalid", "reason code 0x" + reason.toString(16) + " in packet type " + type);
  const propsSize = propertiesSize(props, type);
  const idBytes = packetId > 0 ? 2 : 0;
  // the reason code and the properties may be left out together [MQTT-3.4.2.1][MQTT-3.14.2.1]
  const short = reason === 0 && propsSize === 0;
  const remaining = idBytes + (short ? 0 : 1 + withLength(propsSize));
  const total = fit(buf, offset, remaining);
  buf[offset] = first;
  let pos = writeVarInt(buf, offset + 1, remaining);
  if (idBytes > 0) pos = writeU16(buf, pos, packetId);
  if (!short) {
    buf[pos++] = reason;
    writeProperties(buf, pos, props, propsSize);
  }
  return total;
}

/**
 * PUBACK, PUBREC, PUBREL or PUBCOMP at 5.0 with a reason code (Table 2-6) and, optionally,
 * a reason string and user properties. Reason 0 without properties is the short 2-byte form.
 */
export function encodeAck5(
  buf: Uint8Array, offset: number, type: number, packetId: number, reason: number = 0, props?: Properties,
): number {
  if (type !== PUBACK && type !== PUBREC && type !== PUBREL && type !== PUBCOMP) {
    throw new MqttError("argument-invalid", "packet type " + type + " is not an acknowledgement");
  }
  if (!isPacketId(packetId)) throw new MqttError("packet-id-invalid");
  return encodeReasoned(buf, offset, (type << TYPE_SHIFT) | (type === PUBREL ? FLAGS_0010 : 0), type, packetId, reason, props);
}

/** DISCONNECT [MQTT-3.14] at 5.0 with a reason code; reason 0 without properties is the 2-byte packet. */
export function encodeDisconnect5(buf: Uint8Array, offset: number, reason: number = 0, props?: Properties): number {
  return encodeReasoned(buf, offset, DISCONNECT << TYPE_SHIFT, DISCONNECT, 0, reason, props);
}

/** AUTH [MQTT-3.15]: 0x18 continue, 0x19 re-authenticate (0x00 only from a server) with the method and data. */
export function encodeAuth(buf: Uint8Array, offset: number, reason: number, props?: Properties): number {
  return encodeReasoned(buf, offset, AUTH << TYPE_SHIFT, AUTH, 0, reason, props);
}

/** The checks and size of the fields a 3.1.1 encoder also writes, so that a refusal here writes nothing. */
function filtersSize(filters: readonly (Uint8Array | SubscribeFilter5)[], perFilter: number): number {
  let size = 2;
  for (let i = 0; i < filters.length; i++) {
    const entry = filters[i];
    const filter = entry instanceof Uint8Array ? entry : entry === null || typeof entry !== "object" ? undefined : entry.filter;
    const length = entry instanceof Uint8Array || !(filter instanceof Uint8Array) ? filter?.length ?? 0 : filterLength(entry);
    size += 2 + length + perFilter;
  }
  return size;
}

/**
 * Turns the 3.1.1 SUBSCRIBE or UNSUBSCRIBE that `total4` bytes at `offset` hold into its 5.0
 * form: the properties go in after the packet id, the filters move up. `total` is what
 * fit() gave for the 5.0 packet, before the 3.1.1 one was written.
 */
function insertProperties(
  buf: Uint8Array, offset: number, total4: number, remaining4: number, total: number, props: Properties | undefined, size: number,
): number {
  const added = withLength(size);
  const remaining = remaining4 + added;
  const body4 = offset + total4 - remaining4;
  const body = offset + total - remaining;
  buf.copyWithin(body + 2 + added, body4 + 2, offset + total4);
  buf.copyWithin(body, body4, body4 + 2);
  writeVarInt(buf, offset + 1, remaining);
  writeProperties(buf, body + 2, props, size);
  return body + 2 + added;
}

/**
 * SUBSCRIBE [MQTT-3.8] at 5.0: filters with their options; a subscription identifier and
 * user properties. The 3.1.1 encoder checks and writes the filters and their QoS.
 */
export function encodeSubscribe5(
  buf: Uint8Array, offset: number, packetId: number, filters: readonly SubscribeFilter5[], props?: Properties,
): number {
  const propsSize = propertiesSize(props, SUBSCRIBE);
  for (let i = 0; i < filters.length; i++) {
    const handling = filters[i] === null || typeof filters[i] !== "object" ? undefined : filters[i].retainHandling;
    if (handling !== undefined && !isQos(handling, 2)) throw new MqttError("argument-invalid", "retainHandling: 0, 1 or 2");
  }
  const remaining4 = filtersSize(filters, 1);
  const total = fit(buf, offset, remaining4 + withLength(propsSize));
  let pos = insertProperties(buf, offset, encodeSubscribe(buf, offset, packetId, filters), remaining4, total, props, propsSize);
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i];
    pos += 2 + filterLength(f);
    buf[pos++] |= (f.noLocal === true ? 0x04 : 0) | (f.retainAsPublished === true ? 0x08 : 0) | ((f.retainHandling ?? 0) << 4);
  }
  return total;
}

/** UNSUBSCRIBE [MQTT-3.10] at 5.0 with one or more filters and, optionally, user properties. */
export function encodeUnsubscribe5(
  buf: Uint8Array, offset: number, packetId: number, filters: readonly (Uint8Array | SubscribeFilter5)[], props?: Properties,
): number {
  const propsSize = propertiesSize(props, UNSUBSCRIBE);
  const remaining4 = filtersSize(filters, 0);
  const total = fit(buf, offset, remaining4 + withLength(propsSize));
  insertProperties(buf, offset, encodeUnsubscribe(buf, offset, packetId, filters), remaining4, total, props, propsSize);
  return total;
}
