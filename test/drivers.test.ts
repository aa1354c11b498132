// The device's sensor drivers (device/drivers/) against the simulated chips on the virtual
// I²C bus (host-sim/), and the virtual Digital pins: readings match what a chip was set to
// within the chip's resolution, CRCs are checked, measurement timing is respected, and the
// IO classes behave like Moddable's ECMA-419 ones on ESP32. Last, the drivers run on the
// real XS engine (xsnap) to count what sample() allocates.
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BH1750 } from "../device/drivers/bh1750.js";
import { crc8Word } from "../device/drivers/crc8.js";
import { SensorError } from "../device/drivers/errors.js";
import { SHT3x } from "../device/drivers/sht3x.js";
import { BH1750Chip } from "../host-sim/chips/bh1750.js";
import { SHT3X_STATUS, SHT3xChip, sensirionCrc } from "../host-sim/chips/sht3x.js";
import { ManualClock } from "../host-sim/chips/clock.js";
import { VirtualPins } from "../host-sim/io/digital.js";
import { I2CBus, type I2CTransfer } from "../host-sim/io/i2c.js";
import { XsWorker } from "../host-sim/engines/xs/harness.mjs";

const T_STEP = 175 / 65535; // SHT3x temperature resolution, °C
const RH_STEP = 100 / 65535; // SHT3x humidity resolution, %RH

function sht3xBoard(seed = 1) {
  const clock = new ManualClock();
  const bus = new I2CBus();
  const chip = new SHT3xChip({ now: clock.now, seed });
  bus.attach(SHT3xChip.ADDRESS, chip);
  const open = (extra: object = {}) => new SHT3x({ sensor: { io: bus.I2C, data: 21, clock: 22 }, ...extra });
  return { clock, bus, chip, open };
}

function bh1750Board(seed = 1) {
  const clock = new ManualClock();
  const bus = new I2CBus();
  const chip = new BH1750Chip({ now: clock.now, seed });
  bus.attach(BH1750Chip.ADDRESS, chip);
  const open = (extra: object = {}, sensor: object = {}) =>
    new BH1750({ sensor: { io: bus.I2C, data: 21, clock: 22, ...sensor }, ...extra });
  return { clock, bus, chip, open };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

const flushMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Sensirion CRC-8", () => {
  it("gives the datasheet's example, CRC(0xBEEF) = 0x92, in the driver and in the simulated chip", () => {
    expect(crc8Word(new Uint8Array([0xbe, 0xef]), 0)).toBe(0x92);
    expect(sensirionCrc(0xbeef)).toBe(0x92);
  });

  it("driver and chip agree on every 16-bit word", () => {
    const bytes = new Uint8Array(2);
    for (let word = 0; word < 0x10000; word++) {
      bytes[0] = word >> 8;
      bytes[1] = word & 0xff;
      if (crc8Word(bytes, 0) !== sensirionCrc(word)) throw new Error(`CRC differs at 0x${word.toString(16)}`);
    }
  });
});

describe("SHT3x driver on the simulated chip", () => {
  it("reads the values the chip was set to, within one step of its resolution", () => {
    const { clock, chip, open } = sht3xBoard();
    const sensor = open();
    for (const [temperature, humidity] of [[21.5, 40], [-40, 0], [125, 100], [0.01, 55.55], [36.6, 99.9]] as const) {
      chip.set({ temperature, humidity });
      // the measurement in flight was taken with the previous values: read it and start one with these
      clock.advance(15);
      sensor.sample();
      clock.advance(15);
      const sample = sensor.sample()!;
      expect(Object.keys(sample).sort()).toEqual(["humidity", "temperature"]);
      expect(Math.abs(sample.temperature - temperature)).toBeLessThanOrEqual(T_STEP);
      expect(Math.abs(sample.humidity - humidity)).toBeLessThanOrEqual(RH_STEP);
    }
    sensor.close();
  });

  it("respects the measurement time: undefined until 15 ms after the command, and never reads early at a steady pace", () => {
    const { clock, chip, open } = sht3xBoard();
    chip.set({ temperature: 22, humidity: 45 });
    const sensor = open();
    expect(sensor.sample()).toBeUndefined(); // the chip is measuring: it did not acknowledge
    clock.advance(14);
    expect(sensor.sample()).toBeUndefined();
    clock.advance(1);
    expect(sensor.sample()?.temperature).toBeCloseTo(22, 2);
    // the next measurement started with that read
    expect(sensor.sample()).toBeUndefined();
    clock.advance(15);
    expect(sensor.sample()?.humidity).toBeCloseTo(45, 2);

    const nacksBefore = chip.stats.nacks;
    for (let i = 0; i < 20; i++) {
      clock.advance(1000);
      expect(sensor.sample()).toMatchObject({ temperature: expect.closeTo(22, 2), humidity: expect.closeTo(45, 2) });
    }
    expect(chip.stats.nacks).toBe(nacksBefore);
  });

  it("uses the single-shot, no-clock-stretching command of the configured repeatability", () => {
    const { bus, clock, chip, open } = sht3xBoard();
    chip.set({ temperature: 19, humidity: 60 });
    const writes: string[] = [];
    bus.onTransfer = (transfer: I2CTransfer) => {
      if (transfer.direction === "write" && transfer.acknowledged) writes.push(Buffer.from(transfer.bytes).toString("hex"));
    };
    const sensor = open({ repeatability: "low" });
    expect(writes).toEqual(["f32d", "3041", "2416"]); // status read, clear status, low repeatability
    clock.advance(4); // low repeatability: 4 ms at most
    expect(sensor.sample()?.temperature).toBeCloseTo(19, 2);
    sensor.configure({ repeatability: "medium" });
    clock.advance(6);
    sensor.sample();
    expect(writes.slice(3)).toEqual(["2416", "240b"]);
    sensor.configure({ repeatability: "high" });
    clock.advance(6);
    sensor.sample();
    expect(writes.at(-1)).toBe("2400");
    expect(thrown(() => sensor.configure({ repeatability: "extreme" as "high" }))).toMatchObject({ code: "option-invalid" });
  });

  it("checks the CRC of each word: a corrupted word is reported, and sampling goes on", () => {
    const { clock, chip, open } = sht3xBoard();
    chip.set({ temperature: 23.25, humidity: 50 });
    const sensor = open();
    clock.advance(15);
    expect(sensor.sample()).toBeDefined();

    for (const word of ["temperature", "humidity"] as const) {
      chip.corruptNext(word);
      clock.advance(15);
      const error = thrown(() => sensor.sample());
      expect(error).toBeInstanceOf(SensorError);
      expect(error).toMatchObject({ code: "crc-mismatch", message: expect.stringContaining(word) });
      clock.advance(15);
      expect(sensor.sample()?.temperature).toBeCloseTo(23.25, 2);
    }
  });

  it("refuses a chip whose status word fails its CRC at construction, and closes its I²C connection", () => {
    const { bus, chip, open } = sht3xBoard();
    chip.corruptNext("status");
    expect(thrown(open)).toMatchObject({ code: "crc-mismatch", message: expect.stringContaining("status") });
    // the connection was closed: the address can be opened again
    const raw = new bus.I2C({ data: 21, clock: 22, hz: 100_000, address: SHT3xChip.ADDRESS });
    raw.close();
    open().close();
  });

  it("throws no-answer when no chip is at the address, or the chip goes away", () => {
    const { bus, clock, open } = sht3xBoard();
    expect(thrown(() => new SHT3x({ sensor: { io: bus.I2C, data: 21, clock: 22, address: 0x45 } }))).toMatchObject({ code: "no-answer" });
    const sensor = open();
    clock.advance(15);
    expect(sensor.sample()).toBeDefined();
    bus.detach(SHT3xChip.ADDRESS);
    clock.advance(15);
    expect(sensor.sample()).toBeUndefined(); // could be "still measuring"
    clock.advance(15);
    expect(sensor.sample()).toBeUndefined(); // asks again: nobody acknowledges
    clock.advance(15);
    expect(thrown(() => sensor.sample())).toMatchObject({ code: "no-answer" });
    expect(thrown(() => sensor.sample())).toMatchObject({ code: "no-answer" });
    bus.attach(SHT3xChip.ADDRESS, new SHT3xChip({ now: clock.now })); // plugged back in
    expect(sensor.sample()).toBeUndefined(); // the command got through: measuring
    clock.advance(15);
    expect(sensor.sample()).toBeDefined();
  });

  it("recovers when the chip lost its command (a reset between samples)", () => {
    const { clock, chip, open } = sht3xBoard();
    chip.set({ temperature: 20, humidity: 30 });
    const sensor = open();
    clock.advance(15);
    chip.powerCycle(); // a brown-out: the result waiting in the chip is gone
    clock.advance(2);
    expect(sensor.sample()).toBeUndefined();
    clock.advance(1000);
    expect(sensor.sample()).toBeUndefined(); // still nothing: the driver asked again
    clock.advance(15);
    expect(sensor.sample()?.temperature).toBeCloseTo(20, 2);
  });

  it("follows the Sensor Class Pattern lifecycle: close() closes the I²C connection, sample() then throws", () => {
    const { bus, open } = sht3xBoard();
    const sensor = open();
    sensor.close();
    sensor.close();
    expect(thrown(() => sensor.sample())).toMatchObject({ code: "closed" });
    expect(thrown(() => sensor.configure({}))).toMatchObject({ code: "closed" });
    // its I²C connection is closed: the address can be opened again
    const again = new bus.I2C({ data: 21, clock: 22, hz: 1_000_000, address: 0x44 });
    again.close();
  });

  it("returns a new plain object per sample", () => {
    const { clock, open } = sht3xBoard();
    const sensor = open();
    clock.advance(15);
    const first = sensor.sample();
    clock.advance(15);
    const second = sensor.sample();
    expect(first).not.toBe(second);
    expect(Object.getPrototypeOf(first)).toBe(Object.prototype);
  });
});

describe("simulated SHT3x chip", () => {
  function raw(seed = 1) {
    const board = sht3xBoard(seed);
    const i2c = new board.bus.I2C({ data: 21, clock: 22, hz: 400_000, address: SHT3xChip.ADDRESS });
    const command = (word: number) => i2c.write(Uint8Array.of(word >> 8, word & 0xff));
    const status = () => {
      command(0xf32d);
      const bytes = new Uint8Array(i2c.read(3));
      expect(bytes[2]).toBe(sensirionCrc((bytes[0]! << 8) | bytes[1]!));
      return (bytes[0]! << 8) | bytes[1]!;
    };
    return { ...board, i2c, command, status };
  }

  it("follows a day curve with noise that a seed reproduces", () => {
    const run = (seed: number) => {
      const { clock, open } = sht3xBoard(seed);
      const sensor = open();
      const readings: number[] = [];
      for (let i = 0; i < 48; i++) {
        clock.advance(30 * 60_000); // every half hour for a day
        const sample = sensor.sample()!;
        readings.push(sample.temperature, sample.humidity);
      }
      return readings;
    };
    const first = run(7);
    expect(run(7)).toEqual(first);
    expect(run(8)).not.toEqual(first);
    const temperatures = first.filter((_, i) => i % 2 === 0);
    const humidities = first.filter((_, i) => i % 2 === 1);
    expect(Math.min(...temperatures)).toBeGreaterThan(14);
    expect(Math.max(...temperatures)).toBeLessThan(28);
    expect(Math.min(...humidities)).toBeGreaterThan(20);
    expect(Math.max(...humidities)).toBeLessThan(80);
    // the clock starts at 12:00 UTC: reading 6 is 15:00 (warmest), reading 30 is 03:00 (coolest)
    expect(temperatures[5]! - temperatures[29]!).toBeGreaterThan(5);
    expect(humidities[29]! - humidities[5]!).toBeGreaterThan(15);
    const { chip } = sht3xBoard(7);
    expect(chip.environment(Date.UTC(2026, 5, 1, 15)).temperature).toBeGreaterThan(chip.environment(Date.UTC(2026, 5, 1, 3)).temperature);
  });

  it("set() overrides one value at a time and clear() returns to the curve", () => {
    const { chip, clock } = raw();
    const curve = chip.environment();
    chip.set({ humidity: 12.5 });
    expect(chip.environment()).toEqual({ temperature: curve.temperature, humidity: 12.5 });
    chip.clear();
    expect(chip.environment(clock.now())).toEqual(curve);
  });

  it("does not acknowledge reads or writes during a single-shot measurement, and gives each result once", () => {
    const { clock, chip, i2c, command } = raw();
    chip.set({ temperature: 25, humidity: 50 });
    command(0x2400);
    expect(() => i2c.read(6)).toThrow("read failed");
    expect(() => command(0xf32d)).toThrow("write failed");
    clock.advance(15);
    const bytes = new Uint8Array(i2c.read(6));
    expect((bytes[0]! << 8) | bytes[1]!).toBe(Math.round((70 * 65535) / 175));
    expect((bytes[3]! << 8) | bytes[4]!).toBe(Math.round(65535 / 2));
    expect(bytes[2]).toBe(sensirionCrc((bytes[0]! << 8) | bytes[1]!));
    expect(bytes[5]).toBe(sensirionCrc((bytes[3]! << 8) | bytes[4]!));
    expect(() => i2c.read(6)).toThrow("read failed");
    // with clock stretching the chip holds SCL past the ESP32's timeout: a read too early fails too
    command(0x2c06);
    clock.advance(10);
    expect(() => i2c.read(6)).toThrow("read failed");
    clock.advance(5);
    expect(i2c.read(6).byteLength).toBe(6);
  });

  it("has a status register: reset detected at power-up, clear, heater, failed command; soft reset restores it", () => {
    const { clock, i2c, command, status } = raw();
    expect(status()).toBe(SHT3X_STATUS.ALERT_PENDING | SHT3X_STATUS.RESET_DETECTED);
    command(0x3041);
    expect(status()).toBe(0);
    command(0x306d);
    expect(status()).toBe(SHT3X_STATUS.HEATER_ON);
    expect(() => command(0x1234)).toThrow("write failed");
    expect(status()).toBe(SHT3X_STATUS.HEATER_ON | SHT3X_STATUS.COMMAND_FAILED);
    command(0x3066);
    expect(status()).toBe(0);
    command(0x30a2); // soft reset: nothing acknowledged for 1.5 ms
    clock.advance(1);
    expect(() => command(0xf32d)).toThrow("write failed");
    expect(i2c.write(new Uint8Array(0))).toBe(1); // a probe gets no acknowledge either
    clock.advance(0.5);
    expect(i2c.write(new Uint8Array(0))).toBeUndefined();
    expect(status()).toBe(SHT3X_STATUS.ALERT_PENDING | SHT3X_STATUS.RESET_DETECTED);
  });

  it("measures periodically: fetch gives each new measurement once, break returns to single shot", () => {
    const { clock, chip, i2c, command } = raw();
    chip.set({ temperature: 30, humidity: 70 });
    command(0x2130); // 1 measurement per second, high repeatability
    expect(chip.mode).toBe("periodic");
    command(0xe000);
    expect(() => i2c.read(6)).toThrow("read failed"); // nothing measured yet
    clock.advance(15);
    command(0xe000);
    expect(i2c.read(6).byteLength).toBe(6);
    command(0xe000);
    expect(() => i2c.read(6)).toThrow("read failed"); // already fetched
    clock.advance(1000);
    command(0xe000);
    expect(i2c.read(6).byteLength).toBe(6);
    expect(() => command(0x2400)).toThrow("write failed"); // no single shot in periodic mode
    command(0x3093);
    expect(chip.mode).toBe("single-shot");
    clock.advance(1);
    command(0x2400);
  });
});

describe("BH1750 driver on the simulated chip", () => {
  it("powers the chip on in continuous high-resolution mode and converts lux = count / 1.2", () => {
    const { bus, clock, chip, open } = bh1750Board();
    const writes: number[] = [];
    bus.onTransfer = (transfer) => {
      if (transfer.direction === "write") writes.push(...transfer.bytes);
    };
    chip.set({ illuminance: 321.5 });
    const sensor = open();
    expect(writes).toEqual([0x01, 0x10]);
    expect(chip.powered).toBe(true);
    expect(chip.mode).toBe("high");
    clock.advance(180);
    const { illuminance } = sensor.sample();
    expect(illuminance).toBe(Math.round(321.5 * 1.2) / 1.2);
    expect(Math.abs(illuminance - 321.5)).toBeLessThanOrEqual(0.5 / 1.2);
    for (const lux of [0, 1, 54612.5, 1000.4]) {
      chip.set({ illuminance: lux });
      clock.advance(180);
      expect(Math.abs(sensor.sample().illuminance - lux)).toBeLessThanOrEqual(0.5 / 1.2);
    }
  });

  it("reads 0 until the first conversion ends (180 ms), then the last finished conversion", () => {
    const { clock, chip, open } = bh1750Board();
    chip.set({ illuminance: 500 });
    const sensor = open();
    expect(sensor.sample().illuminance).toBe(0);
    clock.advance(179);
    expect(sensor.sample().illuminance).toBe(0);
    clock.advance(1);
    expect(sensor.sample().illuminance).toBeCloseTo(500, 0);
    chip.set({ illuminance: 100 });
    clock.advance(179);
    expect(sensor.sample().illuminance).toBeCloseTo(500, 0); // the next conversion is not finished
    clock.advance(1);
    expect(sensor.sample().illuminance).toBeCloseTo(100, 0);
  });

  it("supports the 0.5 lx and 4 lx modes", () => {
    const { clock, chip, open } = bh1750Board();
    chip.set({ illuminance: 123.3 });
    const sensor = open({ mode: "high2" });
    expect(chip.mode).toBe("high2");
    clock.advance(180);
    expect(Math.abs(sensor.sample().illuminance - 123.3)).toBeLessThanOrEqual(0.25 / 1.2);
    sensor.configure({ mode: "low" });
    expect(chip.mode).toBe("low");
    clock.advance(24);
    expect(Math.abs(sensor.sample().illuminance - 123.3)).toBeLessThanOrEqual(2 / 1.2);
    expect(thrown(() => sensor.configure({ mode: "dim" as "low" }))).toMatchObject({ code: "option-invalid" });
  });

  it("powers the chip down on close()", () => {
    const { clock, chip, open } = bh1750Board();
    chip.set({ illuminance: 80 });
    const sensor = open();
    clock.advance(180);
    sensor.close();
    expect(chip.powered).toBe(false);
    chip.set({ illuminance: 900 });
    clock.advance(1000);
    expect(chip.register).toBe(Math.round(80 * 1.2)); // no conversions while powered down
    expect(thrown(() => sensor.sample())).toMatchObject({ code: "closed" });
    sensor.close();
  });

  it("does not get an acknowledge above 400 kHz, nor without a chip", () => {
    const { bus, open } = bh1750Board();
    expect(thrown(() => open({}, { hz: 1_000_000 }))).toMatchObject({ code: "no-answer" });
    expect(thrown(() => open({}, { address: 0x5c }))).toMatchObject({ code: "no-answer" });
    open().close(); // the failed attempts closed their connections
    expect(bus.chipAt(0x23)).toBeInstanceOf(BH1750Chip);
  });

  it("follows a daylight curve reproducible from a seed: dark at night, bright at noon", () => {
    const run = (seed: number) => {
      const { clock, open } = bh1750Board(seed);
      const sensor = open();
      const readings: number[] = [];
      for (let i = 0; i < 24; i++) {
        clock.advance(3_600_000);
        readings.push(sensor.sample().illuminance);
      }
      return readings;
    };
    const first = run(3);
    expect(run(3)).toEqual(first);
    expect(run(4)).not.toEqual(first);
    // start 12:00 UTC: reading 0 is 13:00, reading 12 is 01:00
    expect(first[0]).toBeGreaterThan(200);
    expect(first[12]).toBeLessThan(5);
  });
});

describe("simulated BH1750 chip", () => {
  it("obeys power down, power on, reset, one-time mode and MTreg", () => {
    const { bus, clock, chip } = bh1750Board();
    const i2c = new bus.I2C({ data: 21, clock: 22, hz: 400_000, address: BH1750Chip.ADDRESS });
    const op = (code: number) => i2c.write(Uint8Array.of(code));
    const count = () => {
      const bytes = new Uint8Array(i2c.read(2));
      return (bytes[0]! << 8) | bytes[1]!;
    };
    chip.set({ illuminance: 100 });
    expect(chip.powered).toBe(false);
    op(0x01);
    expect(chip.powered).toBe(true);
    expect(chip.mode).toBeNull(); // on, waiting for a measurement command
    clock.advance(500);
    expect(count()).toBe(0);
    op(0x20); // one time, H resolution
    clock.advance(180);
    expect(count()).toBe(120);
    expect(chip.powered).toBe(false); // one-time mode powers down after its conversion
    op(0x07); // reset is ignored when powered down
    expect(count()).toBe(120);
    op(0x01);
    op(0x07);
    expect(count()).toBe(0);
    // MTreg 138 (twice the default): twice the counts, twice the time
    op(0x40 | (138 >> 5));
    op(0x60 | (138 & 0x1f));
    expect(chip.mtreg).toBe(138);
    op(0x10);
    clock.advance(359);
    expect(count()).toBe(0);
    clock.advance(1);
    expect(count()).toBe(240);
    expect(() => i2c.write(Uint8Array.of(0x10, 0x11))).toThrow("write failed");
    expect(() => op(0x99)).toThrow("write failed");
  });
});

describe("virtual I2C bus", () => {
  it("behaves like Moddable's ECMA-419 I2C: checks options, reads into new or given buffers, throws on no acknowledge", () => {
    const { bus, clock, chip } = sht3xBoard();
    const I2C = bus.I2C;
    expect(() => new I2C({ clock: 22, hz: 100_000, address: 0x44 } as never)).toThrow("data required");
    expect(() => new I2C({ data: 21, hz: 100_000, address: 0x44 } as never)).toThrow("clock required");
    expect(() => new I2C({ data: 21, clock: 22, hz: 100_000 } as never)).toThrow("address required");
    expect(() => new I2C({ data: 21, clock: 22, hz: 100_000, address: 128 })).toThrow("invalid address");
    expect(() => new I2C({ data: 21, clock: 22, hz: 0, address: 0x44 })).toThrow("invalid hz");
    const i2c = new I2C({ data: 21, clock: 22, hz: 100_000, address: 0x44, target: "mine" });
    expect(i2c.target).toBe("mine");
    expect(i2c.format).toBe("buffer");
    expect(() => new I2C({ data: 21, clock: 22, hz: 100_000, address: 0x44 })).toThrow("duplicate address");

    chip.set({ temperature: 10, humidity: 10 });
    i2c.write(Uint8Array.of(0x24, 0x00));
    clock.advance(15);
    const into = new Uint8Array(8);
    const view = into.subarray(1, 7);
    expect(i2c.read(view)).toBe(view.length); // the count, as Moddable returns (modules/io/i2c/esp32/_i2c.c)
    expect(into[0]).toBe(0);
    expect(into[7]).toBe(0);
    expect(view[2]).toBe(sensirionCrc((view[0]! << 8) | view[1]!));
    expect(i2c.write(new Uint8Array(0))).toBeUndefined(); // probe: acknowledged

    const nobody = new I2C({ data: 21, clock: 22, hz: 100_000, address: 0x10 });
    expect(nobody.write(new Uint8Array(0))).toBe(1);
    expect(() => nobody.read(2)).toThrow("read failed");
    expect(() => nobody.write(Uint8Array.of(1))).toThrow("write failed");

    const otherPins = new I2C({ data: 4, clock: 5, hz: 100_000, address: 0x44 });
    expect(otherPins.write(new Uint8Array(0))).toBe(1); // the chip is wired to 21/22

    i2c.close();
    i2c.close();
    expect(() => i2c.read(1)).toThrow(SyntaxError); // XS: the host data is gone after close()
    new I2C({ data: 21, clock: 22, hz: 100_000, address: 0x44 }).close();
  });

  it("holds several chips at their addresses; each board has its own bus", () => {
    const clock = new ManualClock();
    const kitchen = new I2CBus();
    const hall = new I2CBus();
    const kitchenAir = new SHT3xChip({ now: clock.now, seed: 1 });
    const kitchenLight = new BH1750Chip({ now: clock.now, seed: 1 });
    const kitchenAir2 = new SHT3xChip({ now: clock.now, seed: 2 });
    const hallAir = new SHT3xChip({ now: clock.now, seed: 3 });
    kitchen.attach(0x44, kitchenAir);
    kitchen.attach(0x45, kitchenAir2);
    kitchen.attach(0x23, kitchenLight);
    hall.attach(0x44, hallAir);
    expect(() => kitchen.attach(0x44, hallAir)).toThrow(/already/);
    kitchenAir.set({ temperature: 21, humidity: 40 });
    kitchenAir2.set({ temperature: 5, humidity: 90 });
    kitchenLight.set({ illuminance: 250 });
    hallAir.set({ temperature: 17, humidity: 55 });

    const sensor = { data: 21, clock: 22 };
    const air = new SHT3x({ sensor: { io: kitchen.I2C, ...sensor } });
    const outside = new SHT3x({ sensor: { io: kitchen.I2C, ...sensor, address: 0x45 } });
    const light = new BH1750({ sensor: { io: kitchen.I2C, ...sensor } });
    const hallSensor = new SHT3x({ sensor: { io: hall.I2C, ...sensor } });
    clock.advance(180);
    expect(air.sample()?.temperature).toBeCloseTo(21, 2);
    expect(outside.sample()?.humidity).toBeCloseTo(90, 2);
    expect(light.sample().illuminance).toBeCloseTo(250, 0);
    expect(hallSensor.sample()?.temperature).toBeCloseTo(17, 2);
  });
});

describe("virtual Digital pins", () => {
  it("an output drives its pin: level(), onChange, starts at 0", () => {
    const pins = new VirtualPins();
    const changes: [number, number][] = [];
    const stop = pins.onChange((pin, level) => changes.push([pin, level]));
    const led = new pins.Digital({ pin: 2, mode: pins.Digital.Output });
    expect(pins.level(2)).toBe(0);
    expect(pins.mode(2)).toBe(pins.Digital.Output);
    led.write(1);
    expect(pins.level(2)).toBe(1);
    led.write(1);
    led.write(0);
    expect(changes).toEqual([[2, 1], [2, 0]]);
    expect(() => led.read()).toThrow("can't read output"); // as on ESP32 (modules/io/digital/esp32/digitalbank.c)
    stop();
    led.write(1);
    expect(changes).toHaveLength(2);
    led.close();
    expect(pins.mode(2)).toBeUndefined();
    expect(pins.level(2)).toBe(0);
  });

  it("an input reads what the simulator drives, or its pull when nothing drives it", () => {
    const pins = new VirtualPins();
    const { Digital } = pins;
    const button = new Digital({ pin: 0, mode: Digital.InputPullUp });
    const floating = new Digital({ pin: 4, mode: Digital.Input });
    expect(button.read()).toBe(1);
    expect(floating.read()).toBe(0);
    pins.set(0, 0);
    expect(button.read()).toBe(0);
    pins.set(0, undefined);
    expect(button.read()).toBe(1);
    pins.set(4, 1);
    expect(floating.read()).toBe(1);
    expect(() => button.write(1)).toThrow("can't write input");
  });

  it("calls onReadable with this = the instance, asynchronously, on matching edges only, once for a burst", async () => {
    const pins = new VirtualPins();
    const { Digital } = pins;
    const calls: string[] = [];
    const rising = new Digital({
      pin: 12, mode: Digital.InputPullDown, edge: Digital.Rising,
      onReadable(this: unknown) {
        expect(this).toBe(rising);
        calls.push(`rise ${rising.read()}`);
      },
    });
    const both = new Digital({
      pin: 13, mode: Digital.InputPullUp, edge: Digital.Rising + Digital.Falling,
      onReadable() {
        calls.push(`edge ${both.read()}`);
      },
    });
    pins.set(12, 1);
    expect(calls).toEqual([]); // never from inside a call
    await flushMicrotasks();
    expect(calls).toEqual(["rise 1"]);
    pins.set(12, 0); // falling: not asked for
    await flushMicrotasks();
    expect(calls).toEqual(["rise 1"]);
    pins.set(13, 0);
    pins.set(13, 1);
    pins.set(13, 0);
    await flushMicrotasks();
    expect(calls).toEqual(["rise 1", "edge 0"]);
    both.close();
    pins.set(13, 1);
    await flushMicrotasks();
    expect(calls).toEqual(["rise 1", "edge 0"]);
  });

  it("open drain pulls low or lets the pin float up; checks options as Moddable does", () => {
    const pins = new VirtualPins();
    const { Digital } = pins;
    const bus = new Digital({ pin: 15, mode: Digital.OutputOpenDrain });
    expect(pins.level(15)).toBe(0);
    bus.write(1);
    expect(pins.level(15)).toBe(1); // released: the pull-up
    pins.set(15, 0); // another device pulls it low
    expect(pins.level(15)).toBe(0);

    expect(() => new Digital({ pin: 15, mode: Digital.Input })).toThrow("in use");
    expect(() => new Digital({ pin: 16, mode: 5 })).toThrow("invalid mode");
    expect(() => new Digital({ pin: 35, mode: Digital.Output })).toThrow("input only"); // input-only pin
    new Digital({ pin: 16, mode: Digital.Output, edge: Digital.Rising, onReadable() {} }).close(); // an output ignores onReadable
    expect(() => new Digital({ pin: 16, mode: Digital.Input, onReadable() {} })).toThrow("invalid edges");
    expect(() => new Digital({ pin: 40, mode: Digital.Input })).toThrow("invalid pin");
    expect([Digital.Input, Digital.InputPullUp, Digital.InputPullDown, Digital.InputPullUpDown, Digital.Output, Digital.OutputOpenDrain, Digital.Rising, Digital.Falling])
      .toEqual([0, 1, 2, 3, 8, 9, 1, 2]);
    bus.close();
    const input = new Digital({ pin: 15, mode: Digital.Input });
    expect(input.read()).toBe(0);
    input.close();
    expect(() => input.read()).toThrow(SyntaxError); // XS: the host data is gone after close()
  });
});

describe("drivers on the real XS engine", () => {
  it("sample() allocates nothing but the object it returns", async () => {
    const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
    const dir = mkdtempSync(path.join(tmpdir(), "xs-drivers-"));
    const bundle = path.join(dir, "drivers.js");
    const worker = await XsWorker.start({ name: "drivers" });
    try {
      await build({
        stdin: {
          contents: `import { SHT3x } from "./device/drivers/sht3x.ts"; import { BH1750 } from "./device/drivers/bh1750.ts";
            globalThis.SHT3x = SHT3x; globalThis.BH1750 = BH1750;`,
          resolveDir: root,
          loader: "ts",
        },
        bundle: true, format: "esm", platform: "neutral", target: "es2022", outfile: bundle, logLevel: "error",
      });
      await worker.importModule(bundle);
      const word = (w: number) => [w >> 8, w & 0xff, sensirionCrc(w)];
      const measurement = [...word(0x6666), ...word(0x8000)];
      // a chip that answers at once, filling the driver's buffer without allocating
      await worker.evaluate(`
        var measurement = ${JSON.stringify(measurement)}, statusWord = ${JSON.stringify(word(0))}, light = [0x01, 0x2c];
        globalThis.FakeI2C = class {
          constructor(options) { this.address = options.address; this.command = 0; }
          write(bytes) { this.command = bytes.length > 1 ? (bytes[0] << 8) | bytes[1] : bytes[0]; }
          read(into) {
            const from = this.address === 0x23 ? light : this.command === 0xf32d ? statusWord : measurement;
            for (let i = 0; i < into.length; i++) into[i] = from[i];
            return into;
          }
          close() {}
        };
        var sht = new SHT3x({ sensor: { io: FakeI2C, data: 21, clock: 22 } });
        var bh = new BH1750({ sensor: { io: FakeI2C, data: 21, clock: 22 } });
        var a = 1.5, b = 2.5;
        ({ sht: sht.sample(), bh: bh.sample() })`);
      const first = (await worker.evaluate<{ temperature: number; humidity: number }>("sht.sample()")).value;
      expect(first.temperature).toBeCloseTo(-45 + (175 * 0x6666) / 65535, 6);
      expect(first.humidity).toBeCloseTo((100 * 0x8000) / 65535, 6);
      expect((await worker.evaluate<{ illuminance: number }>("bh.sample()")).value.illuminance).toBeCloseTo(300 / 1.2, 6);

      const twoProperties = await worker.slotsPerOp("", "({ temperature: a * b, humidity: a / b })", 200);
      const oneProperty = await worker.slotsPerOp("", "({ illuminance: a * b })", 200);
      expect(await worker.slotsPerOp("", "sht.sample()", 200)).toBe(twoProperties);
      expect(await worker.slotsPerOp("", "bh.sample()", 200)).toBe(oneProperty);
    } finally {
      await worker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
