// XS side of the bridged Timer: Moddable's `timer` module shape (set, repeat, schedule,
// clear; callbacks get the timer id) whose ticks come from Node timers as deliveries.
// Simulator only: it allocates freely and must not be bundled into device code. A callback
// never runs inside a Timer method call, and never after its timer was cleared.

import { call, listen } from "./bridge.js";

const SERVICE = "timer";
const timers = new Map();
let nextId = 1;

export const Timer = {
  /** Calls back once after `delay` ms, then every `repeat` ms when repeat is given. */
  set(callback, delay = 0, repeat) {
    if (typeof callback !== "function") throw new TypeError("Timer.set: callback must be a function");
    const id = { number: nextId++, callback };
    Timer.schedule(id, delay, repeat);
    return id;
  },
  /** Calls back every `interval` ms. */
  repeat(callback, interval) {
    return Timer.set(callback, interval, interval);
  },
  /** (Re)arms a timer: first after `delay` ms, then every `repeat` ms when given. */
  schedule(id, delay = 0, repeat) {
    timers.set(id.number, id);
    call(SERVICE, { op: "schedule", id: id.number, delay, repeat: repeat ?? 0 });
  },
  clear(id) {
    if (id === undefined || id === null || !timers.has(id.number)) return;
    timers.delete(id.number);
    call(SERVICE, { op: "clear", id: id.number });
  },
};

listen(SERVICE, (header) => {
  const id = timers.get(header.id);
  if (id === undefined) return; // cleared while this tick was on its way
  if (!header.repeating) timers.delete(header.id);
  id.callback(id);
});
