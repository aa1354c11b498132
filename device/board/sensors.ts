/*
 * A board's sensors: the driver table (a sensor configuration's `driver` names an entry),
 * the standard sensor specs (an SHT3x's climate readings, a BH1750's light reading), and
 * buildSensors(), which makes the drivers for a configuration's sensors on an I²C bus. The
 * board's entry (device/main.ts) and the simulator's boards (through the firmware bundle)
 * both wire their sensors with it. Runs at start-up only; keeps no state.
 */

import type { SensorConfig, SensorSpec } from "../app/config.js";
import type { Sensor } from "../app/io.js";
import { BH1750 } from "../drivers/bh1750.js";
import type { I2CClass } from "../drivers/io.js";
import { SHT3x } from "../drivers/sht3x.js";

/** The drivers a board builds, by the name a sensor configuration gives in `driver`. */
export const SENSOR_DRIVERS = Object.freeze({ sht3x: SHT3x, bh1750: BH1750 });

/** The I²C bus the sensors are on: the ECMA-419 I2C class and its pins. */
export interface SensorBus {
  io: I2CClass;
  data: number;
  clock: number;
}

/**
 * The climate sensor: an SHT3x's temperature (°C, 2 decimals, deadband 0.1) and humidity
 * (%, 1 decimal, deadband 0.5). Complete as resolveConfig() makes it and frozen, so nodes
 * given the same object share it.
 */
export function climateSensor(address: number): SensorSpec {
  return Object.freeze({
    id: "climate", name: "Climate", driver: "sht3x", address,
    readings: Object.freeze([
      Object.freeze({ key: "temperature", name: "Temperature", unit: "°C", device_class: "temperature", state_class: "measurement", decimals: 2, deadband: 0.1 }),
      Object.freeze({ key: "humidity", name: "Humidity", unit: "%", device_class: "humidity", state_class: "measurement", decimals: 1, deadband: 0.5 }),
    ]),
  });
}

/** The light sensor: a BH1750's illuminance (lx, whole numbers, deadband 5). Complete and frozen as climateSensor(). */
export function lightSensor(address: number): SensorSpec {
  return Object.freeze({
    id: "light", name: "Light", driver: "bh1750", address,
    readings: Object.freeze([
      Object.freeze({ key: "illuminance", name: "Illuminance", unit: "lx", device_class: "illuminance", state_class: "measurement", decimals: 0, deadband: 5 }),
    ]),
  });
}

/**
 * The drivers of `sensors` on `bus`, by sensor id (what startFirmware() takes as
 * `sensors`). A sensor whose driver this board does not have, or whose chip does not
 * answer, is told to `log` and left out.
 */
export function buildSensors(
  sensors: readonly (SensorConfig | SensorSpec)[], bus: SensorBus, log: (line: string) => void,
): Record<string, Sensor> {
  const built: Record<string, Sensor> = {};
  for (const spec of sensors) {
    if (!Object.prototype.hasOwnProperty.call(SENSOR_DRIVERS, spec.driver)) {
      log("sensor " + spec.id + ": no driver named " + JSON.stringify(spec.driver) + " on this board");
      continue;
    }
    const Driver = SENSOR_DRIVERS[spec.driver as keyof typeof SENSOR_DRIVERS];
    try {
      built[spec.id] = new Driver({ sensor: { ...bus, address: spec.address } });
    } catch (error) {
      log(spec.driver + " (" + spec.id + ") not found: " + String(error));
    }
  }
  return built;
}
