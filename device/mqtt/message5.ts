/*
 * A received MQTT 5.0 message: the Message handlers know (message.ts), plus its properties,
 * read in place from the decoder while the handler runs. Numbers and comparisons allocate
 * nothing; reading text or bytes allocates what it returns (a string, a view), only when asked.
 * A topic that came as its alias alone is read from the alias table (aliases5.ts).
 * Only a protocolVersion 5 client makes one.
 */

import type { IncomingAliases } from "./aliases5.js";
import type { PacketDecoder } from "./decode.js";
import type { PacketDecoder5 } from "./decode5.js";
import type { TextDecoderLike } from "./io.js";
import { Message } from "./message.js";
import {
  PROP_CONTENT_TYPE, PROP_CORRELATION_DATA, PROP_MESSAGE_EXPIRY, PROP_PAYLOAD_FORMAT, PROP_RESPONSE_TOPIC,
  PROP_SUBSCRIPTION_ID,
} from "./props.js";

export class Message5 extends Message {
  readonly #source: PacketDecoder5;
  readonly #Text: new () => TextDecoderLike;
  readonly #aliases: IncomingAliases | undefined;
  #topicBuffer: Uint8Array;

  constructor(decoder: PacketDecoder5, Decoder: new () => TextDecoderLike, aliases?: IncomingAliases) {
    super(decoder.receiveBuffer, Decoder);
    this.#source = decoder;
    this.#Text = Decoder;
    this.#aliases = aliases;
    this.#topicBuffer = decoder.receiveBuffer;
  }

  override load(decoder: PacketDecoder): void {
    super.load(decoder);
    const aliases = this.#aliases;
    if (aliases !== undefined && aliases.offset >= 0) {
      this.#topicBuffer = aliases.bytes;
      this.topicOffset = aliases.offset;
      this.topicLength = aliases.length;
    } else {
      this.#topicBuffer = this.buffer;
    }
  }

  override get topicBuffer(): Uint8Array {
    return this.#topicBuffer;
  }

  /** Whether the message carries property `id` (PROP_* of the package). */
  has(id: number): boolean {
    return this.#source.has(id);
  }

  /** A numeric property (Message Expiry, Payload Format, Subscription Identifier...), or `absent`. */
  property(id: number, absent = -1): number {
    return this.#source.number(id, absent);
  }

  /** Seconds left of the message's life, as the broker forwards it; undefined without a Message Expiry. */
  get messageExpiry(): number | undefined {
    const value = this.#source.number(PROP_MESSAGE_EXPIRY, -1);
    return value < 0 ? undefined : value;
  }

  /** 1 when the sender says the payload is UTF-8 text, 0 for bytes (the default). */
  get payloadFormat(): number {
    return this.#source.number(PROP_PAYLOAD_FORMAT, 0);
  }

  /** The first subscription identifier of the subscriptions it matched, or 0. */
  get subscriptionIdentifier(): number {
    return this.#source.number(PROP_SUBSCRIPTION_ID, 0);
  }

  get contentType(): string | undefined {
    return this.#textOf(PROP_CONTENT_TYPE);
  }

  /** Where an answer goes (request/response). */
  get responseTopic(): string | undefined {
    return this.#textOf(PROP_RESPONSE_TOPIC);
  }

  /** The bytes an answer carries back: a view into the receive buffer. */
  get correlationData(): Uint8Array | undefined {
    const at = this.#source.bytesOffset(PROP_CORRELATION_DATA);
    return at < 0 ? undefined : this.buffer.subarray(at, at + this.#source.bytesLength(PROP_CORRELATION_DATA));
  }

  /** Whether a text or binary property is exactly these bytes (no allocation). */
  propertyEquals(id: number, bytes: Uint8Array): boolean {
    const source = this.#source;
    const at = source.bytesOffset(id);
    if (at < 0 || source.bytesLength(id) !== bytes.length) return false;
    const buf = this.buffer;
    for (let i = 0; i < bytes.length; i++) if (buf[at + i] !== bytes[i]) return false;
    return true;
  }

  /** The value of the first user property with this name, or undefined. */
  userProperty(name: string): string | undefined {
    const source = this.#source;
    for (let i = 0; source.userProperty(i); i++) {
      if (this.#text(source.nameOffset, source.nameLength) === name) return this.#text(source.valueOffset, source.valueLength);
    }
    return undefined;
  }

  /** Every user property, in the order sent, as [name, value] pairs. */
  userProperties(): [string, string][] {
    const source = this.#source;
    const out: [string, string][] = [];
    for (let i = 0; source.userProperty(i); i++) {
      out.push([this.#text(source.nameOffset, source.nameLength), this.#text(source.valueOffset, source.valueLength)]);
    }
    return out;
  }

  #textOf(id: number): string | undefined {
    const at = this.#source.bytesOffset(id);
    return at < 0 ? undefined : this.#text(at, this.#source.bytesLength(id));
  }

  #text(offset: number, length: number): string {
    return new this.#Text().decode(this.buffer.subarray(offset, offset + length));
  }
}
