/*
 * Topic names and topic filters, as bytes: validation [MQTT-4.7.1-1..3][MQTT-4.7.3-1..3],
 * matching [MQTT-4.7.2-1], and prepared topics (validated and UTF-8 encoded once, then
 * reused by every publish without allocating). Matching and validation never allocate.
 */

import { MAX_STRING_BYTES } from "./constants.js";
import { MqttError } from "./errors.js";
import { checkUtf8, UTF8_OK } from "./utf8.js";

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;

/** What the codec needs of a TextEncoder: Node's and Moddable's `text/encoder` both fit. */
export interface Utf8Encoder {
  encode(text: string): Uint8Array;
}

/** Checks a topic name: 1 to 65,535 bytes of UTF-8, no U+0000, no wildcards. */
export function isValidTopicName(bytes: Uint8Array, start: number, length: number): boolean {
  if (length < 1 || length > MAX_STRING_BYTES) return false;
  for (let i = start, end = start + length; i < end; i++) {
    const byte = bytes[i];
    if (byte === PLUS || byte === HASH) return false;
  }
  return checkUtf8(bytes, start, length) === UTF8_OK;
}

/**
 * Checks a topic filter: 1 to 65,535 bytes of UTF-8, no U+0000, '+' alone in its level,
 * '#' alone in the last level.
 */
export function isValidTopicFilter(bytes: Uint8Array, start: number, length: number): boolean {
  if (length < 1 || length > MAX_STRING_BYTES) return false;
  const end = start + length;
  for (let i = start; i < end; i++) {
    const byte = bytes[i];
    if (byte !== PLUS && byte !== HASH) continue;
    const levelStart = i === start || bytes[i - 1] === SLASH;
    const levelEnd = i + 1 === end || bytes[i + 1] === SLASH;
    if (!levelStart || !levelEnd) return false;
    if (byte === HASH && i + 1 !== end) return false;
  }
  return checkUtf8(bytes, start, length) === UTF8_OK;
}

/**
 * Whether a valid filter matches a valid topic name. A filter starting with a wildcard
 * never matches a topic starting with '$' [MQTT-4.7.2-1]; "a/#" also matches "a".
 */
export function topicMatches(
  filter: Uint8Array, filterStart: number, filterLength: number,
  topic: Uint8Array, topicStart: number, topicLength: number,
): boolean {
  const filterEnd = filterStart + filterLength;
  const topicEnd = topicStart + topicLength;
  if (topicLength > 0 && topic[topicStart] === DOLLAR) {
    const first = filter[filterStart];
    if (first === PLUS || first === HASH) return false;
  }
  let inFilter = filterStart;
  let inTopic = topicStart;
  while (inFilter < filterEnd) {
    const byte = filter[inFilter];
    if (byte === HASH) return true;
    if (byte === PLUS) {
      while (inTopic < topicEnd && topic[inTopic] !== SLASH) inTopic++;
      inFilter++;
      continue;
    }
    if (inTopic >= topicEnd) {
      // the topic ended: only a trailing "/#" still matches (the parent level)
      return byte === SLASH && inFilter + 2 === filterEnd && filter[inFilter + 1] === HASH;
    }
    if (topic[inTopic] !== byte) return false;
    inFilter++;
    inTopic++;
  }
  return inTopic === topicEnd;
}

/** A topic name validated and encoded once; publishing with it copies its bytes only. */
export class PreparedTopic {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** @internal use prepareTopic(), which validates. */
  constructor(name: string, bytes: Uint8Array) {
    this.name = name;
    this.bytes = bytes;
  }
}

/** Validates and encodes a topic name once. Throws an MqttError ("topic-invalid") for a bad name. */
export function prepareTopic(name: string, encoder: Utf8Encoder): PreparedTopic {
  if (typeof name !== "string") throw new MqttError("topic-invalid", "not a string");
  const bytes = encoder.encode(name);
  if (!isValidTopicName(bytes, 0, bytes.length)) throw new MqttError("topic-invalid", JSON.stringify(name));
  return new PreparedTopic(name, bytes);
}

/** Validates and encodes a topic filter. Returns its UTF-8 bytes; throws an MqttError ("filter-invalid") for a bad filter. */
export function prepareFilter(filter: string, encoder: Utf8Encoder): Uint8Array {
  if (typeof filter !== "string") throw new MqttError("filter-invalid", "not a string");
  const bytes = encoder.encode(filter);
  if (!isValidTopicFilter(bytes, 0, bytes.length)) throw new MqttError("filter-invalid", JSON.stringify(filter));
  return bytes;
}
