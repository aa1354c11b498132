/*
 * A received message, as handlers see it: one instance per client, refilled for every
 * PUBLISH, reading the receive buffer in place. Valid only while the handler runs.
 * Reading `topic` or `payload` allocates (a string, a view); the other members do not.
 */

import type { PacketDecoder } from "./decode.js";
import type { TextDecoderLike } from "./io.js";
import type { PreparedTopic } from "./topic.js";

export class Message {
  qos = 0;
  retain = false;
  dup = false;
  /** 0 for QoS 0. */
  packetId = 0;
  /** The bytes the fields below point into (the decoder's chunk or receive buffer). */
  buffer: Uint8Array;
  topicOffset = 0;
  topicLength = 0;
  payloadOffset = 0;
  payloadLength = 0;
  /** The topic as a string when it is already known (an exact-match subscription's filter). */
  knownTopic: string | undefined = undefined;
  readonly #Decoder: new () => TextDecoderLike;
  /** Made on the first text read: a client that never reads text never holds one. */
  #decoder: TextDecoderLike | undefined = undefined;

  constructor(buffer: Uint8Array, Decoder: new () => TextDecoderLike) {
    this.buffer = buffer;
    this.#Decoder = Decoder;
  }

  /** Points at the PUBLISH the decoder just returned. */
  load(decoder: PacketDecoder): void {
    this.buffer = decoder.buf;
    this.topicOffset = decoder.topicOffset;
    this.topicLength = decoder.topicLength;
    this.payloadOffset = decoder.payloadOffset;
    this.payloadLength = decoder.payloadLength;
    this.qos = decoder.qos;
    this.retain = decoder.retain;
    this.dup = decoder.dup;
    this.packetId = decoder.packetId;
    this.knownTopic = undefined;
  }

  #text(bytes: Uint8Array): string {
    if (this.#decoder === undefined) this.#decoder = new this.#Decoder();
    return this.#decoder.decode(bytes);
  }

  /** The bytes the topic lies in: `buffer` (5.0: a topic alias's table when the topic came as its alias alone). */
  get topicBuffer(): Uint8Array {
    return this.buffer;
  }

  /** The topic name (decoded once per message, unless an exact subscription already knows it). */
  get topic(): string {
    if (this.knownTopic === undefined) {
      const start = this.topicOffset;
      this.knownTopic = this.#text(this.topicBuffer.subarray(start, start + this.topicLength));
    }
    return this.knownTopic;
  }

  /** The payload bytes: a view into the receive buffer, not a copy. */
  get payload(): Uint8Array {
    const start = this.payloadOffset;
    return this.buffer.subarray(start, start + this.payloadLength);
  }

  /** The payload decoded as UTF-8 text. */
  text(): string {
    return this.#text(this.payload);
  }

  /** Whether the topic is exactly this prepared topic (no allocation). */
  topicIs(topic: PreparedTopic): boolean {
    return this.#equals(this.topicBuffer, this.topicOffset, this.topicLength, topic.bytes);
  }

  /** Whether the payload is exactly these bytes (no allocation). */
  payloadEquals(bytes: Uint8Array): boolean {
    return this.#equals(this.buffer, this.payloadOffset, this.payloadLength, bytes);
  }

  /** Whether buf[offset, offset + length) is exactly `bytes`. */
  #equals(buf: Uint8Array, offset: number, length: number, bytes: Uint8Array): boolean {
    if (bytes.length !== length) return false;
    for (let i = 0, at = offset; i < length; i++, at++) if (buf[at] !== bytes[i]) return false;
    return true;
  }

  /** Copies the payload into `into` at `offset` (no allocation); returns the bytes copied. */
  copyPayload(into: Uint8Array, offset = 0): number {
    const count = Math.min(this.payloadLength, into.length - offset);
    const buf = this.buffer;
    for (let i = 0, at = this.payloadOffset; i < count; i++, at++) into[offset + i] = buf[at];
    return count;
  }
}
