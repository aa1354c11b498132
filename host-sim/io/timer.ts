/*
 * Moddable's `timer` module on Node timers: set, repeat, schedule, clear. Timers of one
 * duration share one Node timer (as Node's own timer lists do inside): a list per
 * duration, in due order (each timer joins its list at now + duration, so the list stays
 * sorted), and one Node Timeout per list armed for its head. So a fleet of thousands of
 * boards, each with a few timers of the same few durations, holds a small entry per timer
 * rather than a Node Timeout (and its arguments) per timer. Times are host-sim/io/monotonic.ts's.
 * As Moddable's (modules/base/timer/modTimer.c, mc/timer.c; docs/moddable-io.md "## Timer"):
 * delays are truncated to whole ms (negative: due now); a callback is called with `this` =
 * globalThis and the id; a repeat is due at its last due time plus its interval; a timer
 * that ends a callback as a one-shot (fired, or rescheduled without a repeat inside its
 * callback) is gone, as is a cleared one: schedule() on it throws SyntaxError, clear() on it
 * does nothing; schedule(id) with no delay unschedules it, alive. Node side only.
 */

import { now as clock } from "./monotonic.js";

/** What runs a timer's callback for a board (abort.ts): one object per board, no closure per timer. */
export interface TimerOwner {
  fire(id: HostTimerId): void;
}

export type HostTimerId = {
  callback: (id: HostTimerId) => void;
  /** ms between firings; 0 for a one-shot timer; -1 while unscheduled by schedule(id). */
  repeat: number;
  /** When it fires next (monotonic.ts time), or -1 when not scheduled. */
  due: number;
  /** The list it waits in while scheduled. */
  list: TimerList | undefined;
  /** The next timer in that list. */
  next: HostTimerId | undefined;
  prev: HostTimerId | undefined;
  /** Fired as a one-shot, or cleared: Moddable has let go of its host data. */
  gone: boolean;
  /** Runs the callback instead of this module (a board's abort guard), if any. */
  owner: TimerOwner | undefined;
};

/** What XS throws when schedule() gets a timer whose host data is gone (xs/sources/xsAPI.c fxGetHostDataValidate). */
function goneError(): SyntaxError {
  return new SyntaxError("C: xsGetHostData: invalid host data");
}

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

  /** Schedules `id` at `due` (now + this duration, or earlier for a repeat catching up), in due order. */
  insert(id: HostTimerId, due: number, now: number): void {
    id.due = due;
    id.list = this;
    let after = this.tail;
    while (after !== undefined && after.due > due) after = after.prev;
    id.prev = after;
    id.next = after === undefined ? this.head : after.next;
    if (after === undefined) this.head = id;
    else after.next = id;
    if (id.next === undefined) this.tail = id;
    else id.next.prev = id;
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

  /**
   * Fires every timer due by now, once each, in order; re-arms for the next. As Moddable's
   * timers (modules/base/timer/mc/timer.c): a repeating timer is due again at its last due
   * time plus its interval, not now plus it, so after a stall it fires once per pass until
   * it has caught up; it is rescheduled before its callback runs (which may clear it).
   */
  #fire(): void {
    this.#timeout = undefined;
    this.#armedFor = -1;
    const now = clock();
    const fired = firing;
    fired.length = 0;
    try {
      for (let id = this.head; id !== undefined && id.due <= now; id = this.head) {
        const due = id.due;
        this.remove(id);
        if (id.repeat > 0) {
          id.due = due + id.repeat; // joins its list after this pass (below): one firing per pass
          fired.push(id);
        }
        try {
          if (id.owner === undefined) id.callback.call(globalThis, id);
          else id.owner.fire(id);
        } finally {
          // a one-shot now (fired as one, or rescheduled without a repeat by its callback) is gone
          if (id.repeat === 0) {
            id.list?.remove(id);
            id.gone = true;
          }
        }
      }
    } finally {
      for (const id of fired) if (id.repeat > 0 && id.list === undefined && id.due >= 0) listFor(id.repeat).insert(id, id.due, now);
      fired.length = 0;
      if (this.head !== undefined) this.#arm(clock());
      else if (lists.get(this.duration) === this) this.#disarm();
    }
  }
}

/** The repeating timers a pass fired, rescheduled at its end (one array for every pass). */
const firing: HostTimerId[] = [];

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

/**
 * Clears every timer of `owner` that is scheduled, or firing in this pass (a board that
 * aborts: abort.ts). Walks every list: an abort is rare, and a board keeps no list of its own.
 */
export function clearTimersOf(owner: TimerOwner): void {
  for (const list of [...lists.values()]) {
    for (let id = list.head; id !== undefined;) {
      const next = id.next;
      if (id.owner === owner) Timer.clear(id);
      id = next;
    }
  }
  for (const id of firing) if (id.owner === owner) Timer.clear(id);
}

/** XS's ToInteger as the timer module reads its ms (xsmcToInteger). */
function msOf(value: unknown): number {
  const number = Number(value);
  return Number.isFinite(number) ? Math.trunc(number) | 0 : 0;
}

export const Timer = {
  set(callback: (id: HostTimerId) => void, delay?: number, repeat?: number, owner?: TimerOwner): HostTimerId {
    const id: HostTimerId = { callback, repeat: 0, due: -1, list: undefined, next: undefined, prev: undefined, gone: false, owner };
    Timer.schedule(id, delay, repeat);
    return id;
  },
  repeat(callback: (id: HostTimerId) => void, interval: number): HostTimerId {
    return Timer.set(callback, interval, interval);
  },
  /**
   * Reschedules a timer: due after `delay` ms, then every `repeat` ms when above 0. With the
   * id alone it is unscheduled: it stays alive (schedule it again later) but does not fire,
   * as Moddable's native takes one argument as "unschedule" (modules/base/timer/modTimer.c).
   */
  schedule(id: HostTimerId, ...args: [delay?: number, repeat?: number]): void {
    if (id.gone) throw goneError();
    id.list?.remove(id);
    if (args.length === 0) {
      id.repeat = -1; // unscheduled: not a one-shot, so not gone when its callback returns
      return;
    }
    const [delay, repeat] = args;
    const every = msOf(repeat);
    id.repeat = every > 0 ? every : 0;
    const duration = Math.max(0, msOf(delay));
    const now = clock();
    listFor(duration).insert(id, now + msOf(delay), now);
  },
  clear(id: HostTimerId | undefined): void {
    if (id === undefined || id === null || id.gone) return;
    id.list?.remove(id);
    id.repeat = 0;
    id.gone = true;
  },
};
