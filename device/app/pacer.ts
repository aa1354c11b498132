/*
 * The pacer: publishes a fixed, ordered list of messages that must get out (birth,
 * discovery configs, actuator states, sensor states) as fast as the client's outbox takes
 * them, and no faster. Items are numbered; one function publishes item i's message and
 * returns the client's status (one method of the pacer's owner for all: a node keeps no array of them, nor closures). An item is marked pending by request(); pump() publishes pending items
 * in list order and stops at the first one the client cannot take now ("outbox-full", or
 * "dropped" for QoS 0, or WAIT from the item itself), keeping it pending for the next
 * pump() (the firmware pumps again when the broker acknowledges a message and on its tick). So a burst never overflows the
 * outbox and never turns into a loop of failed publishes. Requesting and pumping allocate
 * nothing; only what an item itself builds.
 */

import type { PublishStatus } from "../mqtt/index.js";

/** An item that has nothing to publish right now (e.g. a sensor without values yet): done. */
export const SKIP = "skip";
/** An item that is not ready to go yet: it and every later item wait for the next pump(). */
export const WAIT = "wait";

/** The statuses that keep an item pending, made once (in XS a string literal is a new string each time it runs). */
const OUTBOX_FULL: PublishStatus = "outbox-full";
const DROPPED: PublishStatus = "dropped";

/** What the pacer's items are: the owner's methods (the node's), called with `this` = the owner. */
export interface PacerItems {
  /** Publishes the item of an index. */
  publishItem(index: number): PublishStatus | typeof SKIP | typeof WAIT;
  /** Item `index` threw `error` (it is not retried). */
  itemFailed(index: number, error: unknown): void;
}

/** Items per word of the pending bits (a small integer on every engine). */
const BITS = 30;

export class Pacer {
  readonly #items: PacerItems;
  /** A bit per item, set while it is pending: item i is bit i % BITS of word i / BITS (a node's few dozen items in a word or two). */
  readonly #pending: number[];
  readonly #size: number;
  #count = 0;

  /** Items 0 to count - 1, each published by items.publishItem(index). */
  constructor(count: number, items: PacerItems) {
    this.#items = items;
    this.#pending = new Array<number>(Math.ceil(count / BITS)).fill(0);
    this.#size = count;
  }

  /** Items still waiting. */
  get pending(): number {
    return this.#count;
  }

  isPending(index: number): boolean {
    return index >= 0 && index < this.#size && (this.#pending[Math.floor(index / BITS)] & (1 << (index % BITS))) !== 0;
  }

  /** Marks items start (inclusive) to end (exclusive) pending (those in the list). */
  request(start: number, end = start + 1): void {
    const pending = this.#pending;
    const last = Math.min(end, this.#size); // items past the list are none
    for (let i = Math.max(start, 0); i < last; i++) {
      const word = Math.floor(i / BITS);
      const bit = 1 << (i % BITS);
      if ((pending[word] & bit) === 0) {
        pending[word] |= bit;
        this.#count++;
      }
    }
  }

  /** Forgets items start to end, whether pending or not. */
  cancel(start: number, end = start + 1): void {
    const pending = this.#pending;
    const last = Math.min(end, this.#size); // items past the list are none
    for (let i = Math.max(start, 0); i < last; i++) {
      const word = Math.floor(i / BITS);
      const bit = 1 << (i % BITS);
      if ((pending[word] & bit) !== 0) {
        pending[word] &= ~bit;
        this.#count--;
      }
    }
  }

  /** Publishes pending items in order until one cannot go now. Returns true when none is left. */
  pump(): boolean {
    const items = this.#items;
    for (let i = 0; i < this.#size && this.#count > 0; i++) {
      if (!this.isPending(i)) continue;
      let status: PublishStatus | typeof SKIP | typeof WAIT;
      try {
        status = items.publishItem(i);
      } catch (error) {
        this.cancel(i);
        items.itemFailed(i, error);
        continue;
      }
      if (status === OUTBOX_FULL || status === DROPPED || status === WAIT) return false;
      this.cancel(i);
    }
    return this.#count === 0;
  }
}
