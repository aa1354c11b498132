/*
 * The subscription table of an MQTT 5.0 client: the same table (subscriptions.ts), writing
 * SUBSCRIBE and UNSUBSCRIBE as 5.0 has them (an empty property list after the packet id,
 * each filter's subscription options, a subscription identifier as a property). Only a
 * protocolVersion 5 client makes one; its one filter entry, its properties and its table of
 * identifiers are made with it, nothing after.
 */

import { SUB_EXACT, SUB_NO_LOCAL, SUB_QOS, SUB_RETAIN_AS_PUBLISHED, SUB_RETAIN_HANDLING_SHIFT } from "./constants.js";
import type { SubscribeFilter } from "./encode.js";
import { encodeSubscribe5, encodeUnsubscribe5, type SubscribeFilter5 } from "./encode5.js";
import type { Outbox } from "./outbox.js";
import type { Properties } from "./props.js";
import { SubscriptionTable } from "./subscriptions.js";

export class SubscriptionTable5 extends SubscriptionTable {
  readonly #entry: SubscribeFilter5[] = [{ filter: new Uint8Array(0), qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }];
  /** Each slot's subscription identifier (0: none). */
  readonly #ids: Uint32Array;
  readonly #props: Properties = {};

  constructor(max: number, memory: ArrayBuffer, at: number, outbox: Outbox, inner = 0) {
    super(max, memory, at, outbox, inner);
    this.#ids = new Uint32Array(max);
  }

  protected override identify(slot: number, id: number): void {
    this.#ids[slot] = id;
  }

  protected override get optionMask(): number {
    return 0xff & ~SUB_EXACT;
  }

  /** The property length, and room for a subscription identifier (its id byte and up to 4 bytes). */
  protected override get headroom(): number {
    return 6;
  }

  /** The table stages one filter at a time, its options above its QoS (optionMask). */
  protected override encodeSubscribe(buf: Uint8Array, offset: number, packetId: number, list: readonly SubscribeFilter[], slot: number): number {
    const entry = this.#entry[0];
    const flags = list[0].qos;
    entry.filter = list[0].filter;
    entry.start = list[0].start;
    entry.length = list[0].length;
    entry.qos = flags & SUB_QOS;
    entry.noLocal = (flags & SUB_NO_LOCAL) !== 0;
    entry.retainAsPublished = (flags & SUB_RETAIN_AS_PUBLISHED) !== 0;
    entry.retainHandling = flags >> SUB_RETAIN_HANDLING_SHIFT;
    const id = this.#ids[slot];
    this.#props.subscriptionIdentifier = id === 0 ? undefined : id;
    return encodeSubscribe5(buf, offset, packetId, this.#entry, this.#props);
  }

  protected override encodeUnsubscribe(buf: Uint8Array, offset: number, packetId: number, list: readonly SubscribeFilter[]): number {
    return encodeUnsubscribe5(buf, offset, packetId, list);
  }
}
