/*
 * The pacer: publishes a fixed, ordered list of messages that must get out (birth,
 * discovery configs, actuator states, sensor states) as fast as the client's outbox takes
 * them, and no faster. Each item is a function that publishes one message and returns the
 * client's status. An item is marked pending by request(); pump() publishes pending items
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

/** An item; it is called with its own index (so one function may serve every item). */
export type PacerItem = (index: number) => PublishStatus | typeof SKIP | typeof WAIT;

export class Pacer {
  readonly #items: readonly PacerItem[];
  /** 1 for a pending item, else 0. */
  readonly #pending: number[];
  readonly #onError: (index: number, error: unknown) => void;
  #count = 0;

  /** `onError` hears of an item that threw (it is not retried). */
  constructor(items: readonly PacerItem[], onError: (index: number, error: unknown) => void) {
    this.#items = items;
    this.#pending = new Array<number>(items.length).fill(0);
    this.#onError = onError;
  }

  /** Items still waiting. */
  get pending(): number {
    return this.#count;
  }

  isPending(index: number): boolean {
    return this.#pending[index] === 1;
  }

  /** Marks items start (inclusive) to end (exclusive) pending. */
  request(start: number, end = start + 1): void {
    const pending = this.#pending;
    for (let i = start; i < end; i++) {
      if (pending[i] === 0) {
        pending[i] = 1;
        this.#count++;
      }
    }
  }

  /** Forgets items start to end, whether pending or not. */
  cancel(start: number, end = start + 1): void {
    const pending = this.#pending;
    for (let i = start; i < end; i++) {
      if (pending[i] === 1) {
        pending[i] = 0;
        this.#count--;
      }
    }
  }

  /** Publishes pending items in order until one cannot go now. Returns true when none is left. */
  pump(): boolean {
    const pending = this.#pending;
    const items = this.#items;
    for (let i = 0; i < pending.length && this.#count > 0; i++) {
      if (pending[i] === 0) continue;
      let status: PublishStatus | typeof SKIP | typeof WAIT;
      try {
        status = items[i](i);
      } catch (error) {
        this.cancel(i);
        this.#onError(i, error);
        continue;
      }
      if (status === OUTBOX_FULL || status === DROPPED || status === WAIT) return false;
      this.cancel(i);
    }
    return this.#count === 0;
  }
}
