// How a simulated board starts the built firmware (dist/firmware.js): the I²C sensor
// drivers for the configured sensors, built by the bundle's own board wiring
// (buildSensors(), device/board/sensors.ts, as device/main.ts builds them on a real board)
// on the board's I²C class and pins, then startFirmware() with the board's IO and its
// configuration, resolved once already on Node. Plain JavaScript that runs in both places a
// simulated board runs: on Node (host-sim/engines/node/node-board.ts) and inside XS
// (in-xs/board.js). It takes everything as arguments (the firmware module too), keeps no
// state, and imports only prng.js, which sits beside it in both places.

import { mulberry32 } from "./prng.js";

/**
 * Starts the firmware of one board.
 * options: { resolved, io, I2C, data, clock, Digital, seed, buffers, log, onStatus, sleep, restart }
 *   resolved: the configuration as the bundle's resolveConfig() returned it (not checked again).
 *   seed: a number that makes the reconnect jitter reproducible (io.random).
 *   buffers: the MQTT client's buffer sizes (startFirmware's `buffers`), or undefined.
 *   sleep: deep sleep and retained memory for battery mode (startFirmware's `sleep`), or undefined.
 *   restart: starts the board's firmware anew (Home Assistant's restart button), or undefined.
 * Returns what startFirmware() returns.
 */
export function startBoard(firmware, options) {
  const log = options.log ?? (() => {});
  const bus = { io: options.I2C, data: options.data, clock: options.clock };
  const sensors = firmware.buildSensors(options.resolved.sensors, bus, log);
  // (assigned, not spread into a literal: V8 gives a literal that spreads and then adds a
  // property a hidden class of its own, hundreds of bytes per board of a fleet)
  const io = options.seed === undefined ? options.io : Object.assign({}, options.io, { random: mulberry32(options.seed) });
  return firmware.startFirmware({
    resolved: options.resolved, io, sensors, Digital: options.Digital, buffers: options.buffers, log, onStatus: options.onStatus,
    sleep: options.sleep,
    restart: options.restart === undefined ? undefined : restarter(sensors, options.restart),
    // MQTT 5.0 for a configuration with broker.protocolVersion 5 (the bundle's own)
    mqtt5: firmware.mqtt5,
  });
}

/** Releases the sensors' I²C connections, as a reboot does, then starts the firmware again (a closure that keeps only these two). */
function restarter(sensors, restart) {
  return () => {
    for (const sensor of Object.values(sensors)) sensor?.close?.();
    restart();
  };
}
