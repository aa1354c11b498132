/*
 * The topic aliases a 5.0 server sets toward this client: a fixed table laid out once (one
 * slot of `slotSize` bytes per alias, each able to hold any topic a received packet can
 * carry), filled from the PUBLISH packets that set an alias and read by those that use one
 * alone. Receiving allocates nothing. Reports a bad alias as a reason code; never throws.
 * Only a protocolVersion 5 client makes one.
 */

import type { PacketDecoder5 } from "./decode5.js";
import { PROP_TOPIC_ALIAS } from "./props.js";

/** DISCONNECT reason codes for a protocol violation (a bad alias among them). */
export const REASON_MALFORMED_PACKET = 0x81;
export const REASON_PROTOCOL_ERROR = 0x82;
export const REASON_TOPIC_ALIAS_INVALID = 0x94;

export class IncomingAliases {
  /** The Topic Alias Maximum this client announces. */
  readonly maximum: number;
  /** The topics, slot (alias - 1) at (alias - 1) * slotSize. */
  readonly bytes: Uint8Array;
  /** Where the last PUBLISH's topic lies when it came as an alias alone: offset in `bytes`, or -1. */
  offset = -1;
  length = 0;
  readonly #slotSize: number;
  /** Each alias's topic length on this connection (0: not set). */
  readonly #lengths: Uint32Array;

  constructor(maximum: number, slotSize: number) {
    this.maximum = maximum;
    this.#slotSize = slotSize;
    this.bytes = new Uint8Array(maximum * slotSize);
    this.#lengths = new Uint32Array(maximum);
  }

  /** A new connection: no alias is set on it [MQTT-3.3.2-7]. */
  clear(): void {
    this.#lengths.fill(0);
    this.offset = -1;
  }

  /**
   * Reads the topic alias of the PUBLISH `d` just decoded: sets it when the packet carries a
   * topic, or finds its topic when it comes alone (`offset` and `length` then say where).
   * Returns 0, or the reason code of a protocol error: an alias of 0 or above the maximum
   * [MQTT-3.3.2-10], or one used alone before it was set.
   */
  resolve(d: PacketDecoder5): number {
    this.offset = -1;
    if (!d.has(PROP_TOPIC_ALIAS)) return 0;
    const alias = d.number(PROP_TOPIC_ALIAS, 0);
    if (alias === 0 || alias > this.maximum) return REASON_TOPIC_ALIAS_INVALID;
    const at = (alias - 1) * this.#slotSize;
    const length = d.topicLength;
    if (length === 0) {
      if (this.#lengths[alias - 1] === 0) return REASON_PROTOCOL_ERROR;
      this.offset = at;
      this.length = this.#lengths[alias - 1];
      return 0;
    }
    if (length > this.#slotSize) return REASON_TOPIC_ALIAS_INVALID; // larger than any packet the client takes
    const bytes = this.bytes;
    const buf = d.buf;
    for (let i = 0, from = d.topicOffset; i < length; i++, from++) bytes[at + i] = buf[from];
    this.#lengths[alias - 1] = length;
    return 0;
  }
}
