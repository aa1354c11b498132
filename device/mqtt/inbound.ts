/*
 * Incoming QoS 2 messages between their PUBREC and the broker's PUBREL: a fixed table of
 * packet ids, so that a PUBLISH the broker sends again is acknowledged without being
 * delivered twice [MQTT-4.3.3-2], across reconnects while the session is kept. Words of a
 * view its owner gives (the client's subscription table's: a view less); nothing here
 * allocates, calls user code or touches the socket.
 */

/** receive(): a new message: deliver it, then PUBREC. */
export const INBOUND_NEW = 0;
/** receive(): delivered already (its PUBREL has not come): PUBREC only. */
export const INBOUND_DUPLICATE = 1;
/** receive(): every slot awaits a PUBREL: the message cannot be taken. */
export const INBOUND_FULL = 2;

export class InboundQos2 {
  /** Packet ids awaiting their PUBREL, in #ids[#from, #end); 0 is a free slot (0 is never a packet id [MQTT-2.3.1-1]). */
  readonly #ids: Uint16Array;
  readonly #from: number;
  readonly #end: number;

  /** The bytes a table of `max` ids takes in its owner's buffer (at an even offset). */
  static size(max: number): number {
    return 2 * max;
  }

  /** `max` ids in `words` from `from` (InboundQos2.size() bytes there, zero for a new table). */
  constructor(max: number, words: Uint16Array, from: number) {
    this.#ids = words;
    this.#from = from;
    this.#end = from + max;
  }

  /** Where `packetId` is in the table, or -1. */
  #find(packetId: number): number {
    const at = this.#ids.indexOf(packetId, this.#from);
    return at < this.#end ? at : -1;
  }

  /** A QoS 2 PUBLISH with this packet id arrived: INBOUND_NEW, INBOUND_DUPLICATE or INBOUND_FULL. */
  receive(packetId: number): number {
    const ids = this.#ids;
    if (this.#find(packetId) >= 0) return INBOUND_DUPLICATE;
    const free = this.#find(0);
    if (free < 0) return INBOUND_FULL;
    ids[free] = packetId;
    return INBOUND_NEW;
  }

  /** The broker's PUBREL for this packet id: the id may be used for a new message again. */
  release(packetId: number): void {
    const at = this.#find(packetId);
    if (at >= 0) this.#ids[at] = 0;
  }

  /** A new session: the broker will not send those PUBRELs. */
  clear(): void {
    this.#ids.fill(0, this.#from, this.#end);
  }
}
