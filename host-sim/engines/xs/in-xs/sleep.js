// XS side of a simulated board's deep sleep (battery mode): the SleepIo the firmware is
// handed (device/app/io.ts), bridged to the board's BoardSleep on the Node side
// (host-sim/sleep.ts, through host-sim/engines/xs/sleep-service.ts), which keeps the 32
// retained words, records each wake and wakes the board. getRetainedValue and
// setRetainedValue are synchronous commands (a RangeError for an index outside 0 to 31, as
// Moddable's sleep modules); deep(ms) first runs `beforeSleep` (the board's last snapshot,
// its peripherals off), then tells the Node side, and returns (the firmware does nothing
// after it). The wake comes back as a "wake" delivery. Simulator only: never bundled into
// device code.

import { call, listen } from "./bridge.js";

const SERVICE = "sleep";

/** The SleepIo of this board; `beforeSleep()` runs at deep() before the radio goes off. */
export function boardSleep(beforeSleep) {
  return Object.freeze({
    getRetainedValue(index) {
      return call(SERVICE, { op: "get", index }).header.value;
    },
    setRetainedValue(index, value) {
      call(SERVICE, { op: "set", index, value });
    },
    deep(ms) {
      beforeSleep();
      call(SERVICE, { op: "deep", ms });
    },
  });
}

/** Calls `wake()` at each wake after a deep sleep (the firmware starts afresh there). */
export function onWake(wake) {
  listen(SERVICE, (header) => {
    if (header.event !== "wake") throw new Error("sleep: unknown event " + JSON.stringify(header.event));
    wake();
  });
}
