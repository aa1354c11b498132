// How a simulated board starts the built firmware (dist/firmware.js): the I²C sensor
// drivers for the configured sensors, built by the bundle's own board wiring
// (buildSensors(), device/board/sensors.ts, as device/main.ts builds them on a real board)
// on the board's I²C class and pins, then startFirmware() with the board's IO and its
// configuration, resolved once already on Node. Plain JavaScript that runs in both places a
// simulated board runs: on Node (host-sim/node-board.ts) and inside XS (in-xs/board.js). It
// takes everything as arguments (the firmware module too), keeps no state, and imports
// nothing.

/**
 * Starts the firmware of one board.
 * options: { resolved, io, I2C, data, clock, Digital, seed, buffers, log, onStatus }
 *   resolved: the configuration as the bundle's resolveConfig() returned it (not checked again).
 *   seed: a number that makes the reconnect jitter reproducible (io.random).
 *   buffers: the MQTT client's buffer sizes (startFirmware's `buffers`), or undefined.
 * Returns what startFirmware() returns.
 */
export function startBoard(firmware, options) {
  const log = options.log ?? (() => {});
  const bus = { io: options.I2C, data: options.data, clock: options.clock };
  const sensors = firmware.buildSensors(options.resolved.sensors, bus, log);
  const io = options.seed === undefined ? options.io : { ...options.io, random: seeded(options.seed) };
  return firmware.startFirmware({
    resolved: options.resolved, io, sensors, Digital: options.Digital, buffers: options.buffers, log, onStatus: options.onStatus,
  });
}

/** mulberry32: numbers in [0, 1), the same sequence for the same seed. */
function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
