// XS side of a simulated board (loaded by host-sim/engines/xs/xs-board.ts into the board's own xsnap
// worker, after the bridge `hostIo`): starts the built firmware (its module namespace is
// passed in) with the bridged TCP, Timer, I²C, Digital and Wi-Fi classes and the access
// point's credentials (a restart from
// Home Assistant's button starts it anew on them), and reports to the
// Node side through the "board" service: every status change at once, and a snapshot
// (readings, actuators, counts, client stats) every `reportInterval` ms, on stop and at
// each deep sleep. In battery mode (resolved.sleep) it hands the firmware the bridged deep
// sleep (sleep.js): at each wake the firmware starts afresh, the retained words kept on the
// Node side, the I²C connections of the last wake closed, and the counts and stats add up
// over the wakes. Simulator only: it allocates freely and must not be bundled into device code.

import { call, io, Timer } from "./io.js";
import { I2C } from "./i2c.js";
import { Digital } from "./digital.js";
import { address, credentials, WiFi } from "./wifi.js";
import { startBoard } from "./board-wiring.js";
import { boardSleep, onWake } from "./sleep.js";

const SERVICE = "board";
let firmware;
let reportTimer;
let stopped = false;
/** Counts and client stats of the wakes before this one (battery mode). */
let past;

/**
 * Starts the firmware on `resolved`, the configuration resolved on Node; `wiring` is
 * { data, clock, seed, buffers, reportInterval }.
 */
export function start(module, resolved, wiring) {
  if (firmware !== undefined) throw new Error("this board is started already");
  // deep sleep resets the board's peripherals: the I²C connections of a wake close with it
  const wakeI2C = [];
  const battery = resolved.sleep !== undefined;
  const sleep = battery ? boardSleep(() => {
    report();
    for (const connection of wakeI2C.splice(0)) connection.close();
  }) : undefined;
  // the access point's SSID and password, as a board's mc/config gives them: the firmware rejoins with them
  const wifiCredentials = credentials();
  const begin = () => startBoard(module, {
    resolved,
    io: { ...io, WiFi, address, wifiCredentials },
    I2C: battery ? class WakeI2C extends I2C {
      constructor(options) {
        super(options);
        wakeI2C.push(this);
      }
    } : I2C,
    Digital,
    data: wiring.data,
    clock: wiring.clock,
    seed: wiring.seed,
    buffers: wiring.buffers,
    log: (line) => call(SERVICE, { op: "log", line }),
    onStatus: (status) => call(SERVICE, { op: "status", status }),
    sleep,
    restart: () => {
      if (stopped) return;
      firmware = begin();
      report();
    },
  });
  if (battery) {
    // the board starts afresh, as after a deep sleep; an exception here aborts it (a bad image's reboot loop)
    onWake(() => {
      if (stopped) return;
      past = { counts: counts(), stats: stats() };
      firmware = begin();
      report();
    });
  }
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
    counts: counts(),
    stats: stats(),
  });
}

function counts() {
  return past === undefined ? firmware.counts : sum(past.counts, firmware.counts);
}

function stats() {
  return past === undefined ? firmware.client.stats : sum(past.stats, firmware.client.stats);
}

/** Two sets of counts added up, field by field (a new object). */
function sum(a, b) {
  const out = { ...a };
  for (const key of Object.keys(b)) out[key] = (out[key] ?? 0) + b[key];
  return out;
}
