// Unit tests of the board's sensor wiring (device/board/sensors.ts): the standard sensor
// specs are complete, so resolveConfig() takes them as they are and nodes share them, and
// buildSensors() makes each configured driver on the bus given, telling what it leaves out.
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../device/app/config.js";
import type { SensorConfig } from "../device/app/config.js";
import { buildSensors, climateSensor, lightSensor, SENSOR_DRIVERS } from "../device/board/sensors.js";
import { BH1750 } from "../device/drivers/bh1750.js";
import { crc8Word } from "../device/drivers/crc8.js";
import type { I2COptions } from "../device/drivers/io.js";
import { SHT3x } from "../device/drivers/sht3x.js";

/**
 * An I²C class whose every address answers, but `absent`: reads give 16-bit words of 0,
 * each followed by its Sensirion CRC, as an SHT3x sends them. It records what was opened.
 */
function fakeI2C(absent: number[] = []) {
  const opened: I2COptions[] = [];
  class I2C {
    constructor(options: I2COptions) {
      if (absent.includes(options.address)) throw new Error("no answer at " + options.address);
      opened.push(options);
    }
    read(buffer: Uint8Array) {
      buffer.fill(0);
      for (let at = 2; at < buffer.length; at += 3) buffer[at] = crc8Word(buffer, at - 2);
    }
    write() {}
    close() {}
  }
  return { I2C, opened };
}

describe("standard sensors", () => {
  it("are complete and frozen: resolveConfig() keeps the very objects, so nodes share them", () => {
    const sensors = Object.freeze([climateSensor(0x44), lightSensor(0x23)]);
    const first = resolveConfig({ nodeId: "one", broker: { host: "h" }, sensors });
    const second = resolveConfig({ nodeId: "two", broker: { host: "h" }, sensors });
    expect(first.sensors).toBe(sensors);
    expect(second.sensors).toBe(sensors);
    expect(Object.isFrozen(sensors[0].readings[0])).toBe(true);
  });

  it("publish temperature and humidity from an SHT3x, illuminance from a BH1750, at the address given", () => {
    const climate = climateSensor(0x45);
    expect(climate).toMatchObject({ id: "climate", driver: "sht3x", address: 0x45 });
    expect(climate.readings.map((reading) => [reading.key, reading.unit, reading.decimals, reading.deadband])).toEqual([
      ["temperature", "°C", 2, 0.1],
      ["humidity", "%", 1, 0.5],
    ]);
    const light = lightSensor(0x5c);
    expect(light).toMatchObject({ id: "light", driver: "bh1750", address: 0x5c });
    expect(light.readings.map((reading) => [reading.key, reading.unit, reading.decimals, reading.deadband])).toEqual([
      ["illuminance", "lx", 0, 5],
    ]);
  });
});

describe("buildSensors", () => {
  it("makes each configured sensor's driver on the bus's pins at the sensor's address", () => {
    const { I2C, opened } = fakeI2C();
    const log: string[] = [];
    const sensors = buildSensors([climateSensor(0x44), lightSensor(0x23)], { io: I2C, data: 21, clock: 22 }, (line) => log.push(line));
    expect(sensors.climate).toBeInstanceOf(SHT3x);
    expect(sensors.light).toBeInstanceOf(BH1750);
    expect(opened.map((options) => [options.data, options.clock, options.address])).toEqual([[21, 22, 0x44], [21, 22, 0x23]]);
    expect(log).toEqual([]);
    expect(Object.keys(SENSOR_DRIVERS).sort()).toEqual(["bh1750", "sht3x"]);
  });

  it("leaves out, and tells of, a sensor with a driver the board lacks and one whose chip does not answer", () => {
    const { I2C } = fakeI2C([0x23]);
    const log: string[] = [];
    const config: SensorConfig[] = [
      { id: "air", driver: "ccs811", readings: [{ key: "co2" }] },
      { id: "odd", driver: "constructor", readings: [{ key: "x" }] },
      lightSensor(0x23),
      climateSensor(0x44),
    ];
    const sensors = buildSensors(config, { io: I2C, data: 21, clock: 22 }, (line) => log.push(line));
    expect(Object.keys(sensors)).toEqual(["climate"]);
    expect(log).toEqual([
      "sensor air: no driver named \"ccs811\" on this board",
      "sensor odd: no driver named \"constructor\" on this board",
      "bh1750 (light) not found: Error: no answer at 35",
    ]);
  });
});
