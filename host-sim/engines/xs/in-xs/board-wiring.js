// How a simulated board starts the built firmware (dist/firmware.js): the I²C sensor
// drivers for the configured sensors, built on the board's I²C class and pins as
// device/main.ts does on a real board, then startFirmware() with the board's IO. Plain
// JavaScript that runs in both places a simulated board runs: on Node (host-sim/board.ts)
// and inside XS (in-xs/board.js). It takes everything as arguments (the firmware module
// too), keeps no state, and imports nothing.

/**
 * Starts the firmware of one board.
 * options: { config, io, I2C, data, clock, Digital, seed, buffers, log, onStatus }
 *   seed: a number that makes the reconnect jitter reproducible (io.random).
 *   buffers: the MQTT client's buffer sizes (startFirmware's `buffers`), or undefined.
 * Returns what startFirmware() returns.
 */
export function startBoard(firmware, options) {
  const log = options.log ?? (() => {});
  const bus = { io: options.I2C, data: options.data, clock: options.clock };
  const drivers = { sht3x: firmware.SHT3x, bh1750: firmware.BH1750 };
  const sensors = {};
  for (const spec of options.config.sensors ?? []) {
    const Driver = drivers[spec.driver];
    if (Driver === undefined) {
      log("sensor " + spec.id + ": no driver named " + JSON.stringify(spec.driver) + " on this board");
      continue;
    }
    try {
      sensors[spec.id] = new Driver({ sensor: { ...bus, address: spec.address } });
    } catch (e) {
      log(spec.driver + " (" + spec.id + ") not found: " + String(e));
    }
  }
  const io = options.seed === undefined ? options.io : { ...options.io, random: seeded(options.seed) };
  return firmware.startFirmware({
    config: options.config, io, sensors, Digital: options.Digital, buffers: options.buffers, log, onStatus: options.onStatus,
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
