/*
 * The subscription table: a fixed number of slots, each a filter, its QoS, its handler and
 * where it stands with the broker (to send, waiting for its SUBACK, active, to unsubscribe).
 * It stages SUBSCRIBE and UNSUBSCRIBE packets, answers SUBACK and UNSUBACK, matches incoming
 * topics, and hands out packet ids (it and the outbox hold every id in flight).
 * Its tables are one Uint16Array made once by the constructor (flags, states, filter
 * lengths and packet ids: one view, each costing a header; its owner may keep words of its
 * own in it, `table`); the filters' UTF-8 bytes lie end to end
 * in slot order in one byte array per table, remade only by add() and remove() when it has
 * no room (a slot freed later closes its gap in place). Nothing here allocates once
 * connected, calls user code or touches the socket.
 */

import { SUB_EXACT, SUB_QOS } from "./constants.js";
import { encodeSubscribe, encodeUnsubscribe, type SubscribeFilter } from "./encode.js";
import type { MessageHandler } from "./options.js";
import type { Outbox } from "./outbox.js";
import { topicMatches } from "./topic.js";
import type { Transmit } from "./transmit.js";

/** A slot's state. */
const FREE = 0;
const UNSENT = 1;
const PENDING = 2;
const ACTIVE = 3;
/** Subscribed again while its SUBSCRIBE waits for the SUBACK: sent again once that SUBACK comes. */
const STALE = 4;
/** Unsubscribed: its UNSUBSCRIBE goes as soon as the connection can take it (then the slot is free). */
const UNSUBSCRIBE = 5;

/** suback(): the packet id was never sent, or is not waiting. */
export const SUBACK_UNKNOWN = -1;
/** suback(): the subscription changed while its SUBSCRIBE was in flight; nothing to report. */
export const SUBACK_SUPERSEDED = -2;
/** suback(): not one return code for the one filter sent [MQTT-3.8.4-5]. */
export const SUBACK_CODES = -3;

/** The filter bytes of a table with no subscription yet. */
const NO_BYTES = new Uint8Array(0);

export class SubscriptionTable {
  readonly #max: number;
  /**
   * [0, max) each slot's filter, set while the slot is not FREE; [max, 2 max) the filter of
   * each UNSUBSCRIBE awaiting its UNSUBACK (max + i here, #idsAt + max + i in #table).
   */
  readonly #filters: (string | undefined)[];
  /** Each slot's handler. */
  readonly #handlers: (MessageHandler | undefined)[];
  /**
   * The table: [0, max) each slot's flags: SUB_QOS and SUB_EXACT, and with MQTT 5.0 the
   * subscription options (constants.ts); [max, 2 max) each slot's state; [2 max, 3 max) its
   * filter length in #bytes (0 for a FREE slot); the owner's words, if any; then from #idsAt
   * the packet ids in flight: max of them the SUBSCRIBE of each slot, max more the
   * UNSUBSCRIBEs awaiting their UNSUBACK (one range, to the end, so a new id is checked in one pass).
   */
  readonly #table: Uint16Array;
  readonly #idsAt: number;
  /** The filters' bytes in slot order: a slot's start is the sum of the lengths before it. */
  #bytes = NO_BYTES;
  /** Bytes of #bytes in use. */
  #used = 0;
  readonly #outbox: Outbox;
  /** The one-filter list the encoders take, reused for every packet: it names a filter's bytes in #bytes. */
  readonly #list: SubscribeFilter[];
  #lastId = 0;
  /** A slot may wait to be staged (UNSENT or UNSUBSCRIBE): stage() has something to look for. */
  #due = false;

  /** The bytes a table of `max` slots takes in its owner's buffer (a multiple of 2 at a multiple of 2). */
  static size(max: number): number {
    return 10 * max;
  }

  /** Where its owner's `inner` words (the constructor's) start in `table`: after the filter lengths. */
  static innerAt(max: number): number {
    return 3 * max;
  }

  /** The table's one view: its owner's `inner` words lie in it from innerAt(). */
  get table(): Uint16Array {
    return this.#table;
  }

  /**
   * `max` slots in `memory` from `at` (even, SubscriptionTable.size() bytes there); packet ids
   * checked against `outbox` too. With `inner`, that many 16-bit words of its owner's lie in
   * `table` from index 3 max (and in `memory` from at + 6 max), before the packet ids.
   */
  constructor(max: number, memory: ArrayBuffer, at: number, outbox: Outbox, inner = 0) {
    this.#max = max;
    this.#table = new Uint16Array(memory, at, 5 * max + inner);
    this.#idsAt = 3 * max + inner;
    this.#filters = new Array<string | undefined>(2 * max).fill(undefined);
    this.#handlers = new Array<MessageHandler | undefined>(max).fill(undefined);
    this.#outbox = outbox;
    this.#list = [{ filter: NO_BYTES, qos: 0, start: 0, length: 0 }];
  }

  /**
   * Adds a subscription, or replaces the QoS and handler of the same filter. `qos` may carry
   * MQTT 5.0's subscription options above its two bits, and `id` a subscription identifier
   * (0: none; 3.1.1 has none). False when the table is full.
   */
  add(filter: string, bytes: Uint8Array, qos: number, handler: MessageHandler | undefined, id = 0): boolean {
    let slot = this.#find(filter);
    if (slot < 0) slot = this.#take(filter, bytes);
    if (slot < 0) return false;
    const table = this.#table;
    const at = this.#max + slot;
    this.#handlers[slot] = handler;
    this.#table[slot] = qos | (filter.indexOf("+") < 0 && filter.indexOf("#") < 0 ? SUB_EXACT : 0);
    this.identify(slot, id);
    this.#due = true;
    if (table[at] === PENDING || table[at] === STALE || (table[at] === UNSUBSCRIBE && table[this.#idsAt + slot] !== 0)) {
      table[at] = STALE; // keep the packet id in flight known until its SUBACK [MQTT-2.3.1-2]
    } else {
      table[at] = UNSENT;
      table[this.#idsAt + slot] = 0;
    }
    return true;
  }

  /**
   * Unsubscribes from a filter, subscribed in this run or not (a kept session may hold one
   * from an earlier boot): its handler is not called again and its UNSUBSCRIBE is staged when
   * it can be. False when the filter is unknown and no slot is free to remember it.
   */
  remove(filter: string, bytes: Uint8Array): boolean {
    let slot = this.#find(filter);
    if (slot < 0) slot = this.#take(filter, bytes);
    if (slot < 0) return false;
    this.#handlers[slot] = undefined;
    // the slot keeps the filter until its UNSUBSCRIBE is staged: offline, without room, or with
    // every UNSUBSCRIBE id in use, it goes later (a kept session would go on sending otherwise)
    this.#table[this.#max + slot] = UNSUBSCRIBE;
    this.#due = true;
    return true;
  }

  /** The connection ended: what waited for an answer is sent again on the next one. */
  connectionLost(): void {
    const table = this.#table;
    const max = this.#max;
    for (let at = max; at < 2 * max; at++) {
      if (table[at] === PENDING || table[at] === STALE) table[at] = UNSENT;
    }
    this.#due = true;
    table.fill(0, this.#idsAt);
    // slot by slot, over the table's count: the Lua target's arrays have no length past a hole
    const unsubscribed = this.#filters;
    for (let at = max; at < 2 * max; at++) unsubscribed[at] = undefined;
  }

  /** The broker has no session: every subscription is sent again. */
  sessionLost(): void {
    const table = this.#table;
    const max = this.#max;
    for (let at = max; at < 2 * max; at++) {
      if (table[at] !== FREE && table[at] !== UNSUBSCRIBE) table[at] = UNSENT;
    }
    this.#due = true;
  }

  /** The bits of a slot's flags that go to encodeSubscribe as `qos`: the QoS (MQTT 5.0: and the options). */
  protected get optionMask(): number {
    return SUB_QOS;
  }

  /** Bytes a SUBSCRIBE or UNSUBSCRIBE takes beyond 3.1.1's (MQTT 5.0: the property length). */
  protected get headroom(): number {
    return 0;
  }

  /** Keeps a slot's subscription identifier (MQTT 5.0; 3.1.1 has none). */
  protected identify(_slot: number, _id: number): void {}

  /** SUBSCRIBE and UNSUBSCRIBE as 3.1.1 writes them; SubscriptionTable5 writes 5.0's (with `slot`'s subscription identifier). */
  protected encodeSubscribe(buf: Uint8Array, offset: number, packetId: number, list: readonly SubscribeFilter[], _slot: number): number {
    return encodeSubscribe(buf, offset, packetId, list);
  }

  protected encodeUnsubscribe(buf: Uint8Array, offset: number, packetId: number, list: readonly SubscribeFilter[]): number {
    return encodeUnsubscribe(buf, offset, packetId, list);
  }

  /** Stages the SUBSCRIBE and UNSUBSCRIBE packets due, in slot order, while `tx` has room. */
  stage(tx: Transmit): void {
    if (!this.#due) return;
    const table = this.#table;
    const max = this.#max;
    for (let slot = 0, start = 0; slot < max; slot++) {
      const length = table[2 * max + slot];
      const state = table[max + slot];
      if (state === UNSUBSCRIBE) {
        // the slot's bytes leave #bytes: the next slot's start is this one's
        if (!this.#stageUnsubscribe(slot, start, length, tx)) return;
        continue;
      }
      if (state === UNSENT) {
        // room first: waiting for it takes no packet id
        if (!tx.hasRoomFor(2 + 2 + length + 1 + this.headroom)) return;
        const entry = this.#name(start, length);
        entry.qos = table[slot] & this.optionMask;
        const packetId = this.nextPacketId();
        tx.fill += this.encodeSubscribe(tx.bytes, tx.fill, packetId, this.#list, slot);
        table[max + slot] = PENDING;
        table[this.#idsAt + slot] = packetId;
      }
      start += length;
    }
    this.#due = false;
  }

  /** The encoders' one-filter list, naming #bytes[start, start + length). */
  #name(start: number, length: number): SubscribeFilter {
    const entry = this.#list[0];
    entry.filter = this.#bytes;
    entry.start = start;
    entry.length = length;
    return entry;
  }

  /** Stages a slot's UNSUBSCRIBE and frees the slot; false when it must wait for room or an id slot. */
  #stageUnsubscribe(slot: number, start: number, length: number, tx: Transmit): boolean {
    const max = this.#max;
    const unsubscribesAt = this.#idsAt + max;
    const free = this.#table.indexOf(0, unsubscribesAt);
    if (free < 0) return false;
    if (!tx.hasRoomFor(2 + 2 + length + this.headroom)) return false;
    const packetId = this.nextPacketId();
    this.#name(start, length);
    tx.fill += this.encodeUnsubscribe(tx.bytes, tx.fill, packetId, this.#list);
    this.#table[free] = packetId;
    this.#filters[free - unsubscribesAt + max] = this.#filters[slot];
    this.#free(slot, start);
    return true;
  }

  /**
   * A SUBACK for `packetId` with `codes` return codes: the slot it answers (settle() it),
   * or SUBACK_UNKNOWN, SUBACK_SUPERSEDED (re-staged if subscribed again) or SUBACK_CODES.
   */
  suback(packetId: number, codes: number): number {
    const max = this.#max;
    const table = this.#table;
    const idsAt = this.#idsAt;
    const slot = table.indexOf(packetId, idsAt) - idsAt;
    if (slot < 0 || slot >= max) return SUBACK_UNKNOWN;
    if (table[max + slot] !== PENDING) {
      table[idsAt + slot] = 0; // unsubscribed, or subscribed again, while the SUBSCRIBE was in flight
      if (table[max + slot] === STALE) table[max + slot] = UNSENT;
      this.#due = true;
      return SUBACK_SUPERSEDED;
    }
    return codes === 1 ? slot : SUBACK_CODES;
  }

  /** The broker granted the slot's subscription, or refused it (0x80: the slot is free again). */
  settle(slot: number, granted: boolean): void {
    this.#table[this.#idsAt + slot] = 0;
    if (granted) this.#table[this.#max + slot] = ACTIVE;
    else this.#free(slot, this.#startOf(slot));
  }

  /** An UNSUBACK for `packetId`: the filter its UNSUBSCRIBE named, or undefined when none with that id is waiting. */
  unsuback(packetId: number): string | undefined {
    const max = this.#max;
    const unsubscribesAt = this.#idsAt + max;
    const at = this.#table.indexOf(packetId, unsubscribesAt);
    if (at < 0) return undefined;
    this.#table[at] = 0;
    const filter = this.#filters[at - unsubscribesAt + max];
    this.#filters[at - unsubscribesAt + max] = undefined;
    return filter;
  }

  /** The first slot from `from` whose filter matches the topic in buf[offset, offset + length), or -1. */
  match(from: number, buf: Uint8Array, offset: number, length: number): number {
    const table = this.#table;
    const max = this.#max;
    const bytes = this.#bytes;
    for (let slot = from, start = this.#startOf(from); slot < max; slot++) {
      const state = table[max + slot];
      const filterLength = table[2 * max + slot];
      if (state !== FREE && state !== UNSUBSCRIBE && topicMatches(bytes, start, filterLength, buf, offset, length)) return slot;
      start += filterLength;
    }
    return -1;
  }

  /** A slot's filter, as subscribed. */
  filter(slot: number): string {
    return this.#filters[slot] as string;
  }

  /** A slot's filter when it has no wildcard (so it is the topic of what it matches), else undefined. */
  exactTopic(slot: number): string | undefined {
    return this.#table[slot] & SUB_EXACT ? this.#filters[slot] : undefined;
  }

  handler(slot: number): MessageHandler | undefined {
    return this.#handlers[slot];
  }

  /** Packet ids go on after `id` (0 to 65,535): nextPacketId() gives the one after it. */
  continueAfter(id: number): void {
    this.#lastId = id;
  }

  /** The next packet id that no SUBSCRIBE, UNSUBSCRIBE or outbox message holds [MQTT-2.3.1-2]. */
  nextPacketId(): number {
    for (;;) {
      this.#lastId = this.#lastId === 65_535 ? 1 : this.#lastId + 1;
      const id = this.#lastId;
      if (!this.#outbox.holds(id) && this.#table.indexOf(id, this.#idsAt) < 0) return id;
    }
  }

  /** Where a slot's filter bytes start in #bytes. */
  #startOf(slot: number): number {
    const lengths = this.#table;
    const at = 2 * this.#max;
    let start = 0;
    for (let before = 0; before < slot; before++) start += lengths[at + before];
    return start;
  }

  /** A free slot (its last SUBSCRIBE not still waiting for its SUBACK) given `filter` and its bytes, or -1. */
  #take(filter: string, bytes: Uint8Array): number {
    const max = this.#max;
    let slot = 0;
    while (slot < max && (this.#table[max + slot] !== FREE || this.#table[this.#idsAt + slot] !== 0)) slot++;
    if (slot === max) return -1;
    const length = bytes.length;
    const used = this.#used;
    let all = this.#bytes;
    if (used + length > all.length) {
      all = new Uint8Array(used + length);
      const before = this.#bytes;
      for (let i = 0; i < used; i++) all[i] = before[i];
      this.#bytes = all;
    }
    const start = this.#startOf(slot);
    all.copyWithin(start + length, start, used);
    all.set(bytes, start);
    this.#used = used + length;
    this.#table[2 * max + slot] = length;
    this.#filters[slot] = filter;
    return slot;
  }

  /** Frees a slot whose bytes start at `start`: the bytes after them move up over them. */
  #free(slot: number, start: number): void {
    const max = this.#max;
    const length = this.#table[2 * max + slot];
    this.#bytes.copyWithin(start, start + length, this.#used);
    this.#used -= length;
    this.#table[2 * max + slot] = 0;
    this.#table[max + slot] = FREE;
    this.#filters[slot] = undefined;
    this.#handlers[slot] = undefined;
  }

  #find(filter: string): number {
    const filters = this.#filters;
    for (let slot = 0; slot < this.#max; slot++) {
      if (this.#table[this.#max + slot] !== FREE && filters[slot] === filter) return slot;
    }
    return -1;
  }
}
