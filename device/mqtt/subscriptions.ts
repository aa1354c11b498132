/*
 * The subscription table: a fixed number of slots, each a filter, its QoS, its handler and
 * where it stands with the broker (to send, waiting for its SUBACK, active, to unsubscribe).
 * It stages SUBSCRIBE and UNSUBSCRIBE packets, answers SUBACK and UNSUBACK, matches incoming
 * topics, and hands out packet ids (it and the outbox hold every id in flight).
 * Its tables are views made once by the constructor; nothing here allocates once connected,
 * calls user code or touches the socket.
 */

import { SUB_EXACT, SUB_QOS } from "./constants.js";
import { encodeSubscribe, encodeUnsubscribe, type SubscribeFilter } from "./encode.js";
import type { MessageHandler } from "./options.js";
import type { Outbox } from "./outbox.js";
import { topicMatches } from "./topic.js";
import type { Transmit } from "./transmit.js";

interface Subscription {
  filter: string;
  /** The filter's UTF-8 bytes, matched against every incoming topic. */
  bytes: Uint8Array;
  handler: MessageHandler | undefined;
}

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

export class SubscriptionTable {
  /** The subscription in each slot: made when subscribing, dropped when the slot is freed. */
  readonly #subs: (Subscription | undefined)[];
  /** Per slot: SUB_QOS and SUB_EXACT, and with MQTT 5.0 the subscription options (constants.ts). */
  readonly #flags: Uint8Array;
  readonly #states: Uint8Array;
  /**
   * Packet ids in flight: [0, max) the SUBSCRIBE of each slot, [max, 2 max) the
   * UNSUBSCRIBEs awaiting their UNSUBACK. One table, so a new id is checked in one pass.
   */
  readonly #packetIds: Uint16Array;
  /** The filter of each UNSUBSCRIBE awaiting its UNSUBACK, beside its id in [max, 2 max). */
  readonly #unsubscribed: (string | undefined)[];
  readonly #outbox: Outbox;
  /** The one-filter lists the encoders take, reused for every packet. */
  readonly #subscribeList: { filter: Uint8Array; qos: number }[];
  readonly #unsubscribeList: Uint8Array[];
  #lastId = 0;
  /** A slot may wait to be staged (UNSENT or UNSUBSCRIBE): stage() has something to look for. */
  #due = false;

  /** The bytes a table of `max` slots takes in its owner's buffer (a multiple of 2 at a multiple of 2). */
  static size(max: number): number {
    return 6 * max;
  }

  /** `max` slots in `memory` from `at` (even, SubscriptionTable.size() bytes there); packet ids checked against `outbox` too. */
  constructor(max: number, memory: ArrayBuffer, at: number, outbox: Outbox) {
    this.#packetIds = new Uint16Array(memory, at, 2 * max);
    this.#flags = new Uint8Array(memory, at + 4 * max, max);
    this.#states = new Uint8Array(memory, at + 5 * max, max);
    this.#subs = new Array<Subscription | undefined>(max).fill(undefined);
    this.#unsubscribed = new Array<string | undefined>(max).fill(undefined);
    this.#outbox = outbox;
    this.#subscribeList = [{ filter: this.#flags, qos: 0 }];
    this.#unsubscribeList = [this.#flags];
  }

  /**
   * Adds a subscription, or replaces the QoS and handler of the same filter. `qos` may carry
   * MQTT 5.0's subscription options above its two bits, and `id` a subscription identifier
   * (0: none; 3.1.1 has none). False when the table is full.
   */
  add(filter: string, bytes: Uint8Array, qos: number, handler: MessageHandler | undefined, id = 0): boolean {
    let slot = this.#find(filter);
    if (slot < 0) slot = this.#freeSlot();
    if (slot < 0) return false;
    const states = this.#states;
    this.#subs[slot] = { filter, bytes, handler };
    this.#flags[slot] = qos | (filter.indexOf("+") < 0 && filter.indexOf("#") < 0 ? SUB_EXACT : 0);
    this.identify(slot, id);
    this.#due = true;
    if (states[slot] === PENDING || states[slot] === STALE || (states[slot] === UNSUBSCRIBE && this.#packetIds[slot] !== 0)) {
      states[slot] = STALE; // keep the packet id in flight known until its SUBACK [MQTT-2.3.1-2]
    } else {
      states[slot] = UNSENT;
      this.#packetIds[slot] = 0;
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
    if (slot < 0) {
      slot = this.#freeSlot();
      if (slot < 0) return false;
      this.#subs[slot] = { filter, bytes, handler: undefined };
    }
    this.#at(slot).handler = undefined;
    // the slot keeps the filter until its UNSUBSCRIBE is staged: offline, without room, or with
    // every UNSUBSCRIBE id in use, it goes later (a kept session would go on sending otherwise)
    this.#states[slot] = UNSUBSCRIBE;
    this.#due = true;
    return true;
  }

  /** The connection ended: what waited for an answer is sent again on the next one. */
  connectionLost(): void {
    const states = this.#states;
    for (let slot = 0; slot < states.length; slot++) {
      if (states[slot] === PENDING || states[slot] === STALE) states[slot] = UNSENT;
    }
    this.#due = true;
    this.#packetIds.fill(0);
    // slot by slot, over the typed arrays' count: the Lua target's arrays have no length past a hole
    const unsubscribed = this.#unsubscribed;
    for (let slot = 0; slot < states.length; slot++) unsubscribed[slot] = undefined;
  }

  /** The broker has no session: every subscription is sent again. */
  sessionLost(): void {
    const states = this.#states;
    for (let slot = 0; slot < states.length; slot++) {
      if (states[slot] !== FREE && states[slot] !== UNSUBSCRIBE) states[slot] = UNSENT;
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

  protected encodeUnsubscribe(buf: Uint8Array, offset: number, packetId: number, list: readonly Uint8Array[]): number {
    return encodeUnsubscribe(buf, offset, packetId, list);
  }

  /** Stages the SUBSCRIBE and UNSUBSCRIBE packets due, in slot order, while `tx` has room. */
  stage(tx: Transmit): void {
    if (!this.#due) return;
    const states = this.#states;
    for (let slot = 0; slot < states.length; slot++) {
      if (states[slot] === UNSUBSCRIBE) {
        if (!this.#stageUnsubscribe(slot, tx)) return;
        continue;
      }
      if (states[slot] !== UNSENT) continue;
      const filter = this.#at(slot).bytes;
      // room first: waiting for it takes no packet id
      if (!tx.hasRoomFor(2 + 2 + filter.length + 1 + this.headroom)) return;
      const entry = this.#subscribeList[0];
      entry.filter = filter;
      entry.qos = this.#flags[slot] & this.optionMask;
      const packetId = this.nextPacketId();
      tx.fill += this.encodeSubscribe(tx.bytes, tx.fill, packetId, this.#subscribeList, slot);
      states[slot] = PENDING;
      this.#packetIds[slot] = packetId;
    }
    this.#due = false;
  }

  /** Stages a slot's UNSUBSCRIBE and frees the slot; false when it must wait for room or an id slot. */
  #stageUnsubscribe(slot: number, tx: Transmit): boolean {
    const max = this.#states.length;
    const free = this.#packetIds.indexOf(0, max);
    if (free < 0) return false;
    const filter = this.#at(slot).bytes;
    if (!tx.hasRoomFor(2 + 2 + filter.length + this.headroom)) return false;
    const packetId = this.nextPacketId();
    this.#unsubscribeList[0] = filter;
    tx.fill += this.encodeUnsubscribe(tx.bytes, tx.fill, packetId, this.#unsubscribeList);
    this.#packetIds[free] = packetId;
    this.#unsubscribed[free - max] = this.#at(slot).filter;
    this.#states[slot] = FREE;
    this.#subs[slot] = undefined;
    return true;
  }

  /**
   * A SUBACK for `packetId` with `codes` return codes: the slot it answers (settle() it),
   * or SUBACK_UNKNOWN, SUBACK_SUPERSEDED (re-staged if subscribed again) or SUBACK_CODES.
   */
  suback(packetId: number, codes: number): number {
    const slot = this.#packetIds.indexOf(packetId);
    const states = this.#states;
    if (slot < 0 || slot >= states.length) return SUBACK_UNKNOWN;
    if (states[slot] !== PENDING) {
      this.#packetIds[slot] = 0; // unsubscribed, or subscribed again, while the SUBSCRIBE was in flight
      if (states[slot] === STALE) states[slot] = UNSENT;
      this.#due = true;
      return SUBACK_SUPERSEDED;
    }
    return codes === 1 ? slot : SUBACK_CODES;
  }

  /** The broker granted the slot's subscription, or refused it (0x80: the slot is free again). */
  settle(slot: number, granted: boolean): void {
    this.#packetIds[slot] = 0;
    this.#states[slot] = granted ? ACTIVE : FREE;
    if (!granted) this.#subs[slot] = undefined;
  }

  /** An UNSUBACK for `packetId`: the filter its UNSUBSCRIBE named, or undefined when none with that id is waiting. */
  unsuback(packetId: number): string | undefined {
    const max = this.#states.length;
    const at = this.#packetIds.indexOf(packetId, max);
    if (at < 0) return undefined;
    this.#packetIds[at] = 0;
    const filter = this.#unsubscribed[at - max];
    this.#unsubscribed[at - max] = undefined;
    return filter;
  }

  /** The first slot from `from` whose filter matches the topic in buf[offset, offset + length), or -1. */
  match(from: number, buf: Uint8Array, offset: number, length: number): number {
    const states = this.#states;
    for (let slot = from; slot < states.length; slot++) {
      const state = states[slot];
      if (state === FREE || state === UNSUBSCRIBE) continue;
      const filter = this.#at(slot).bytes;
      if (topicMatches(filter, 0, filter.length, buf, offset, length)) return slot;
    }
    return -1;
  }

  /** A slot's filter, as subscribed. */
  filter(slot: number): string {
    return this.#at(slot).filter;
  }

  /** A slot's filter when it has no wildcard (so it is the topic of what it matches), else undefined. */
  exactTopic(slot: number): string | undefined {
    return this.#flags[slot] & SUB_EXACT ? this.#at(slot).filter : undefined;
  }

  handler(slot: number): MessageHandler | undefined {
    return this.#at(slot).handler;
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
      if (!this.#outbox.holds(id) && this.#packetIds.indexOf(id) < 0) return id;
    }
  }

  /** The subscription in a slot that is not FREE (every other state holds one). */
  #at(slot: number): Subscription {
    return this.#subs[slot] as Subscription;
  }

  /** A free slot whose last SUBSCRIBE is not still waiting for its SUBACK, or -1. */
  #freeSlot(): number {
    for (let slot = 0; slot < this.#states.length; slot++) {
      if (this.#states[slot] === FREE && this.#packetIds[slot] === 0) return slot;
    }
    return -1;
  }

  #find(filter: string): number {
    const subs = this.#subs;
    // the typed arrays' count, not subs.length: the Lua target's arrays have no length past a hole
    for (let slot = 0; slot < this.#states.length; slot++) {
      const sub = subs[slot];
      if (this.#states[slot] !== FREE && sub !== undefined && sub.filter === filter) return slot;
    }
    return -1;
  }
}
