/*
 * The event loop and clock of the client's byte-level session tests: a FIFO of IO callbacks
 * that the test runs itself (never from inside a call into the client), and milliseconds that
 * move only when the test says so, with Moddable's Timer module on top. No real time and no
 * Node timers: a test that depends on wall-clock time does not belong on these.
 */

import type { TimerId, TimerModule } from "../../device/mqtt/index.js";

/** A FIFO of IO callbacks: what a real event loop would run after the current call returns. */
export class Loop {
  #queue: ((() => void) | undefined)[] = [];
  #head = 0;

  post(task: () => void): void {
    this.#queue.push(task);
  }

  /** Runs queued tasks (and those they queue) until none is left. */
  settle(limit = 5_000_000): void {
    let ran = 0;
    while (this.#head < this.#queue.length) {
      if (++ran > limit) throw new Error("the event loop did not settle");
      const task = this.#queue[this.#head] as () => void;
      this.#queue[this.#head++] = undefined;
      task();
      if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
    }
  }
}

interface RepeatTimer {
  callback: (id: TimerId) => void;
  interval: number;
  next: number;
}

/** Milliseconds that move only when the test says so, and Moddable's Timer module on top. */
export class FakeClock {
  now = 0;
  readonly #timers = new Map<number, RepeatTimer>();
  #ids = 0;
  readonly #loop: Loop;

  constructor(loop: Loop) {
    this.#loop = loop;
  }

  readonly Timer: TimerModule = {
    repeat: (callback, interval) => {
      const id = ++this.#ids;
      this.#timers.set(id, { callback, interval, next: this.now + interval });
      return id;
    },
    clear: (id) => {
      this.#timers.delete(id as number);
    },
  };

  /** Timers not cleared. */
  get activeTimers(): number {
    return this.#timers.size;
  }

  get intervals(): number[] {
    return [...this.#timers.values()].map((t) => t.interval);
  }

  /** Fires the earliest timer due by `limit` (then runs the loop); false when none is. */
  step(limit: number): boolean {
    let dueId = 0;
    let due: RepeatTimer | undefined;
    for (const [id, timer] of this.#timers) {
      if (timer.next <= limit && (due === undefined || timer.next < due.next)) {
        due = timer;
        dueId = id;
      }
    }
    if (due === undefined) return false;
    if (due.next > this.now) this.now = due.next;
    due.next += due.interval;
    due.callback(dueId);
    this.#loop.settle();
    return true;
  }

  advance(ms: number): void {
    const target = this.now + ms;
    this.#loop.settle();
    while (this.step(target)) { /* fire every timer due */ }
    this.now = target;
    this.#loop.settle();
  }

  /** Advances timer by timer until done() holds or `ms` have passed; returns done(). */
  until(done: () => boolean, ms: number): boolean {
    const target = this.now + ms;
    this.#loop.settle();
    while (!done()) {
      if (!this.step(target)) {
        this.now = target;
        return done();
      }
    }
    return true;
  }
}
