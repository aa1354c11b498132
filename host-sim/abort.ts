/*
 * A simulated board's abort: on a board, an exception that escapes a callback the runtime
 * delivers (a socket's onReadable / onWritable / onError, a Timer callback, a Digital
 * onReadable, a DNS callback) is not caught by anyone: XS calls fxAbort and the ESP32
 * reboots (xs/platforms/esp/xsPlatform.c; the lin build exits). BoardAbort runs a board's
 * callbacks, and the first exception that escapes one stops the board: its timers are
 * cleared, its sockets destroyed (no DISCONNECT: the broker publishes the will), later
 * deliveries dropped, and the abort reported once. Also: the board's Timer module and
 * Digital class with their callbacks run through the guard (timer.ts and digital.ts stay
 * unaware of boards). Node side only; must not catch anything outside a delivered callback.
 */

import type { DigitalClass, SimDigitalOptions } from "./digital.js";
import { Timer } from "./timer.js";
import type { HostTimerId } from "./timer.js";

export class BoardAbort {
  #error: Error | undefined;
  readonly #onAbort: (error: Error) => void;
  /** The board's scheduled timers (cleared on abort). */
  readonly #timers = new Set<HostTimerId>();

  constructor(onAbort: (error: Error) => void) {
    this.#onAbort = onAbort;
  }

  /** The exception that aborted the board, or undefined while it runs. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Runs a delivered callback; dropped once aborted; an exception escaping it aborts the board. */
  run<A extends unknown[]>(callback: ((...args: A) => unknown) | null | undefined, self: unknown, ...args: A): void {
    if (this.#error !== undefined || typeof callback !== "function") return;
    try {
      callback.apply(self, args);
    } catch (thrown) {
      this.abort(thrown);
    }
  }

  /** The board aborts with `thrown` (the first abort only). */
  abort(thrown: unknown): void {
    if (this.#error !== undefined) return;
    this.#error = thrown instanceof Error ? thrown : new Error(String(thrown));
    for (const id of this.#timers) Timer.clear(id);
    this.#timers.clear();
    this.#onAbort(this.#error);
  }

  /** The board's `timer` module: Timer's, with callbacks run through this guard. */
  timer(): typeof Timer {
    const guard = this;
    const timers = this.#timers;
    const guarded = {
      set(callback: (id: HostTimerId) => void, delay = 0, repeat?: number): HostTimerId {
        if (guard.#error !== undefined) throw new Error("aborted");
        const id = Timer.set(function (this: unknown, fired: HostTimerId) {
          if (fired.repeat === 0) timers.delete(fired);
          guard.run(callback, this, fired);
        }, delay, repeat);
        timers.add(id);
        return id;
      },
      repeat(callback: (id: HostTimerId) => void, interval: number): HostTimerId {
        return guarded.set(callback, interval, interval);
      },
      schedule(id: HostTimerId, ...args: [delay?: number, repeat?: number]): void {
        Timer.schedule(id, ...args); // as many arguments as given: schedule(id) alone unschedules
        timers.add(id);
      },
      clear(id: HostTimerId | undefined): void {
        Timer.clear(id);
        if (id !== undefined) timers.delete(id);
      },
    };
    return guarded;
  }

  /** The board's Digital class: `Digital`'s, with onReadable run through this guard. */
  digital(Digital: DigitalClass): DigitalClass {
    const guard = this;
    function GuardedDigital(options: SimDigitalOptions): unknown {
      const onReadable = options?.onReadable;
      if (typeof onReadable !== "function") return new Digital(options);
      return new Digital({ ...options, onReadable(this: unknown, triggered: number) { guard.run(onReadable as (...args: unknown[]) => void, this, triggered); } });
    }
    return Object.assign(GuardedDigital, Digital) as unknown as DigitalClass;
  }
}
