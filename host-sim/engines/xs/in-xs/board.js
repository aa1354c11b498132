// XS side of a simulated board (loaded by host-sim/engines/xs/xs-board.ts into the board's own xsnap
// worker, after the bridge `hostIo`): starts the built firmware (its module namespace is
// passed in) with the bridged TCP, Timer, I²C, Digital and Wi-Fi classes (a restart from
// Home Assistant's button starts it anew on them), and reports to the
// Node side through the "board" service: every status change at once, and a snapshot
// (readings, actuators, counts, client stats) every `reportInterval` ms and on
// stop. Simulator only: it allocates freely and must not be bundled into device code.

import { call, io, Timer } from "./io.js";
import { I2C } from "./i2c.js";
import { Digital } from "./digital.js";
import { address, WiFi } from "./wifi.js";
import { startBoard } from "./board-wiring.js";

const SERVICE = "board";
let firmware;
let reportTimer;
let stopped = false;

/**
 * Starts the firmware on `resolved`, the configuration resolved on Node; `wiring` is
 * { data, clock, seed, buffers, reportInterval }.
 */
export function start(module, resolved, wiring) {
  if (firmware !== undefined) throw new Error("this board is started already");
  const begin = () => startBoard(module, {
    resolved,
    io: { ...io, WiFi, address },
    I2C,
    Digital,
    data: wiring.data,
    clock: wiring.clock,
    seed: wiring.seed,
    buffers: wiring.buffers,
    log: (line) => call(SERVICE, { op: "log", line }),
    onStatus: (status) => call(SERVICE, { op: "status", status }),
    restart: () => {
      if (stopped) return;
      firmware = begin();
      report();
    },
  });
  firmware = begin();
  report();
  reportTimer = Timer.repeat(report, wiring.reportInterval);
}

/** Sets an actuator as a local button would; false for an unknown id. */
export function setActuator(id, on) {
  const done = firmware.setActuator(id, on);
  report();
  return done;
}

/** Stops the firmware ("offline", then a graceful close) and sends a last snapshot. */
export function stop() {
  if (firmware === undefined) return;
  stopped = true;
  Timer.clear(reportTimer);
  firmware.stop();
  report();
}

function report() {
  call(SERVICE, {
    op: "report",
    readings: firmware.readings(),
    actuators: firmware.actuators(),
    counts: firmware.counts,
    stats: firmware.client.stats,
  });
}
