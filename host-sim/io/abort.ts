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

import { markActivity } from "./activity.js";
import type { VirtualPins } from "./digital.js";
import { clearTimersOf, Timer } from "./timer.js";
import type { HostTimerId, TimerOwner } from "./timer.js";

/** Who hears of a board's abort, as an object (its method: no closure per board). */
export interface AbortListener {
  onAbort(error: Error): void;
}

export class BoardAbort implements TimerOwner {
  #error: Error | undefined;
  /** Hears of the abort: a function, or an object's onAbort(). */
  readonly #onAbort: ((error: Error) => void) | AbortListener;
  /** The board's `timer` module (Timer's, its callbacks run through this guard): made on first use. */
  #timer: BoardTimer | undefined = undefined;

  /** The board's activity slot (activity.ts; -1: none): every delivered callback counts. */
  readonly #activity: number;

  constructor(onAbort: ((error: Error) => void) | AbortListener, activity = -1) {
    this.#onAbort = onAbort;
    this.#activity = activity;
  }

  /** The exception that aborted the board, or undefined while it runs. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Runs a delivered callback; dropped once aborted; an exception escaping it aborts the board. */
  run<A extends unknown[]>(callback: ((...args: A) => unknown) | null | undefined, self: unknown, ...args: A): void {
    if (this.#error !== undefined || typeof callback !== "function") return;
    markActivity(this.#activity);
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
    clearTimersOf(this); // the board's timers: this guard is their owner
    const listener = this.#onAbort;
    if (typeof listener === "function") listener(this.#error);
    else listener.onAbort(this.#error);
  }

  /** @internal A timer of this board fired (timer.ts calls this instead of its callback). */
  fire(id: HostTimerId): void {
    this.run(id.callback, globalThis, id);
  }

  /** @internal */
  get _aborted(): boolean {
    return this.#error !== undefined;
  }

  /** The board's `timer` module: Timer's, with callbacks run through this guard. */
  timer(): typeof Timer {
    this.#timer ??= new BoardTimer(this);
    return this.#timer;
  }

  /** The board's Digital class, its onReadable callbacks run through this guard. */
  digital(pins: VirtualPins): VirtualPins["Digital"] {
    pins.guard = this;
    return pins.Digital;
  }
}

/** Moddable's `timer` module for one board: methods on the prototype, one field (no closures per board or timer). */
class BoardTimer {
  readonly #abort: BoardAbort;

  constructor(abort: BoardAbort) {
    this.#abort = abort;
  }

  set(callback: (id: HostTimerId) => void, delay?: number, repeat?: number): HostTimerId {
    if (this.#abort._aborted) throw new Error("aborted");
    return Timer.set(callback, delay, repeat, this.#abort);
  }

  repeat(callback: (id: HostTimerId) => void, interval: number): HostTimerId {
    return this.set(callback, interval, interval);
  }

  schedule(id: HostTimerId, ...args: [delay?: number, repeat?: number]): void {
    Timer.schedule(id, ...args); // as many arguments as given: schedule(id) alone unschedules
  }

  clear(id: HostTimerId | undefined): void {
    Timer.clear(id);
  }
}
