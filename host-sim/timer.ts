/*
 * Moddable's `timer` module on Node timers: set, repeat, schedule, clear. Timers of one
 * duration share one Node timer (as Node's own timer lists do inside): a list per
 * duration, in due order (each timer joins its list at now + duration, so the list stays
 * sorted), and one Node Timeout per list armed for its head. So a fleet of thousands of
 * boards, each with a few timers of the same few durations, holds a small entry per timer
 * rather than a Node Timeout (and its arguments) per timer. Times are host-sim/monotonic.ts's.
 * Node side only.
 */

import { now as clock } from "./monotonic.js";

export type HostTimerId = {
  callback: (id: HostTimerId) => void;
  /** ms between firings; 0 for a one-shot timer. */
  repeat: number;
  /** When it fires next (monotonic.ts time), or -1 when not scheduled. */
  due: number;
  /** The list it waits in while scheduled. */
  list: TimerList | undefined;
  /** The next timer in that list. */
  next: HostTimerId | undefined;
  prev: HostTimerId | undefined;
};

/** The scheduled timers of one duration, soonest first, and the Node timer armed for the first. */
class TimerList {
  readonly duration: number;
  head: HostTimerId | undefined = undefined;
  tail: HostTimerId | undefined = undefined;
  #timeout: NodeJS.Timeout | undefined = undefined;
  /** When #timeout fires. */
  #armedFor = -1;

  constructor(duration: number) {
    this.duration = duration;
  }

  append(id: HostTimerId, now: number): void {
    id.due = now + this.duration;
    id.list = this;
    id.next = undefined;
    id.prev = this.tail;
    if (this.tail === undefined) this.head = id;
    else this.tail.next = id;
    this.tail = id;
    if (this.head === id) this.#arm(now);
  }

  remove(id: HostTimerId): void {
    if (id.prev === undefined) this.head = id.next;
    else id.prev.next = id.next;
    if (id.next === undefined) this.tail = id.prev;
    else id.next.prev = id.prev;
    id.list = undefined;
    id.next = undefined;
    id.prev = undefined;
    id.due = -1;
    if (this.head === undefined) this.#disarm();
  }

  #arm(now: number): void {
    const head = this.head;
    if (head === undefined) return this.#disarm();
    if (this.#timeout !== undefined && this.#armedFor === head.due) return;
    if (this.#timeout !== undefined) clearTimeout(this.#timeout);
    this.#armedFor = head.due;
    this.#timeout = setTimeout(() => this.#fire(), Math.max(0, head.due - now));
  }

  #disarm(): void {
    if (this.#timeout !== undefined) clearTimeout(this.#timeout);
    this.#timeout = undefined;
    this.#armedFor = -1;
    lists.delete(this.duration);
  }

  /** Fires every timer due by now, in order; re-arms for the next. */
  #fire(): void {
    this.#timeout = undefined;
    this.#armedFor = -1;
    const now = clock();
    try {
      // timers that (re)join this list while firing are due later than now: the loop ends
      for (let id = this.head; id !== undefined && id.due <= now; id = this.head) {
        this.remove(id);
        if (id.repeat > 0) listFor(id.repeat).append(id, now); // re-armed before the callback, as Moddable does
        id.callback(id);
      }
    } finally {
      if (this.head !== undefined) this.#arm(clock());
      else if (lists.get(this.duration) === this) this.#disarm();
    }
  }
}

/** The list of each duration with scheduled timers. */
const lists = new Map<number, TimerList>();

function listFor(duration: number): TimerList {
  let list = lists.get(duration);
  if (list === undefined) {
    list = new TimerList(duration);
    lists.set(duration, list);
  }
  return list;
}

export const Timer = {
  set(callback: (id: HostTimerId) => void, delay = 0, repeat?: number): HostTimerId {
    const id: HostTimerId = { callback, repeat: 0, due: -1, list: undefined, next: undefined, prev: undefined };
    Timer.schedule(id, delay, repeat);
    return id;
  },
  repeat(callback: (id: HostTimerId) => void, interval: number): HostTimerId {
    return Timer.set(callback, interval, interval);
  },
  schedule(id: HostTimerId, delay: number, repeat?: number): void {
    id.list?.remove(id);
    id.repeat = repeat !== undefined && repeat > 0 ? repeat : 0;
    const ms = Number(delay);
    listFor(ms > 0 ? Math.ceil(ms) : 0).append(id, clock());
  },
  clear(id: HostTimerId | undefined): void {
    if (id === undefined) return;
    id.list?.remove(id);
    id.repeat = 0;
  },
};
