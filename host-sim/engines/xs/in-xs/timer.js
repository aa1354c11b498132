// XS side of the bridged Timer: Moddable's `timer` module shape (set, repeat, schedule,
// clear; callbacks get the timer id, with `this` = globalThis) whose ticks come from Node
// timers as deliveries. As Moddable's (modules/base/timer/modTimer.c; docs/moddable-io.md
// "## Timer"): a timer that ends a callback as a one-shot (fired, or rescheduled without a
// repeat inside its callback) is gone, as is a cleared one: schedule() on it throws
// SyntaxError, clear() on it does nothing; schedule(id) alone unschedules it, alive.
// Simulator only: it allocates freely and must not
// be bundled into device code. A callback never runs inside a Timer method call, and never
// after its timer was cleared.

import { call, callback, listen } from "./bridge.js";

const SERVICE = "timer";
/** The live timers by number: { id, repeat } (repeat 0: one-shot). */
const timers = new Map();
let nextId = 1;

function msOf(value) {
  const number = Number(value);
  return Number.isFinite(number) ? Math.trunc(number) | 0 : 0;
}

export const Timer = {
  /** Calls back once after `delay` ms, then every `repeat` ms when repeat is given. */
  set(callback, delay, repeat) {
    if (typeof callback !== "function") throw new TypeError("Timer.set: callback must be a function");
    const id = { number: nextId++, callback };
    timers.set(id.number, { id, repeat: 0 });
    Timer.schedule(id, delay, repeat);
    return id;
  },
  /** Calls back every `interval` ms. */
  repeat(callback, interval) {
    return Timer.set(callback, interval, interval);
  },
  /**
   * (Re)arms a timer: first after `delay` ms, then every `repeat` ms when above 0. With the id
   * alone it is unscheduled, alive (Moddable's native takes one argument as "unschedule").
   */
  schedule(id, delay, repeat) {
    if (id === null || typeof id !== "object" || !timers.has(id.number)) throw new SyntaxError("C: xsGetHostData: invalid host data");
    if (arguments.length < 2) {
      timers.get(id.number).repeat = -1; // not a one-shot: not gone when its callback returns
      call(SERVICE, { op: "clear", id: id.number });
      return;
    }
    const every = msOf(repeat) > 0 ? msOf(repeat) : 0;
    timers.get(id.number).repeat = every;
    call(SERVICE, { op: "schedule", id: id.number, delay: msOf(delay), repeat: every });
  },
  clear(id) {
    if (id === undefined || id === null || typeof id !== "object" || !timers.has(id.number)) return;
    timers.delete(id.number);
    call(SERVICE, { op: "clear", id: id.number });
  },
};

listen(SERVICE, (header) => {
  const entry = timers.get(header.id);
  if (entry === undefined) return; // cleared while this tick was on its way
  callback(entry.id.callback, globalThis, 1, entry.id, () => {
    // a one-shot now (fired as one, or rescheduled without a repeat by its callback) is gone
    if (timers.get(header.id) === entry && entry.repeat === 0) Timer.clear(entry.id);
  });
});
