/*
 * A simulated Sensirion SHT3x (SHT31-DIS) on the virtual I²C bus, at command level, with
 * the datasheet's behaviour a driver has to get right:
 * - single-shot measurements, without (0x2400/0x240B/0x2416) and with (0x2C06/0x2C0D/0x2C10)
 *   clock stretching, taking at most 15 / 6 / 4 ms (high / medium / low repeatability).
 *   Until a measurement ends the chip acknowledges nothing (reads and writes throw); with
 *   clock stretching it would hold SCL longer than the ESP32's I²C timeout, so a read too
 *   early fails the same way. Each result is read once.
 * - periodic mode (0.5 to 10 measurements per second, ART 0x2B32), fetch data 0xE000
 *   (not acknowledged when no new measurement is there), break 0x3093;
 * - status register 0xF32D (alert bit 15, heater bit 13, reset-detected bit 4, command
 *   status bit 1), clear status 0x3041, heater on 0x306D / off 0x3066;
 * - soft reset 0x30A2: back to power-up state, nothing acknowledged for 1.5 ms (and
 *   powerCycle() for a brown-out: the same, 1 ms);
 * - every 16-bit word sent with its CRC-8 (poly 0x31, init 0xFF), computed here with a
 *   table independently of the driver's bitwise code;
 * - an unknown command is not acknowledged and sets status bit 1.
 * Values follow a day curve (warmest at 15:00 UTC, driest then) with a per-seed offset and
 * seeded noise, read from an injectable time source; set() overrides them exactly (no
 * noise) and corruptNext() flips a data bit of the next copy of a word, so its CRC fails.
 * Node side only.
 */

import { hourOfDay } from "./clock.js";
import type { TimeSource } from "./clock.js";
import type { I2CChip } from "../io/i2c.js";
import { Prng } from "./prng.js";

export interface SHT3xChipOptions {
  /** Milliseconds; default Date.now. */
  now?: TimeSource;
  /** Seed of the noise and of this chip's offset from the day curve; default 1. */
  seed?: number;
}

export interface SHT3xValues {
  /** °C */
  temperature: number;
  /** %RH, 0 to 100 */
  humidity: number;
}

export type SHT3xWord = "temperature" | "humidity" | "status";

/** Status register bits. */
export const SHT3X_STATUS = {
  ALERT_PENDING: 0x8000,
  HEATER_ON: 0x2000,
  HUMIDITY_ALERT: 0x0800,
  TEMPERATURE_ALERT: 0x0400,
  RESET_DETECTED: 0x0010,
  COMMAND_FAILED: 0x0002,
  WRITE_CRC_FAILED: 0x0001,
} as const;

const POWER_UP_STATUS = SHT3X_STATUS.ALERT_PENDING | SHT3X_STATUS.RESET_DETECTED;

/** Single-shot commands: measurement time in ms (datasheet maxima). */
const SINGLE_SHOT = new Map<number, number>([
  [0x2400, 15], [0x240b, 6], [0x2416, 4], // no clock stretching
  [0x2c06, 15], [0x2c0d, 6], [0x2c10, 4], // clock stretching
]);

/** Periodic commands: [period ms, measurement time ms]. */
const PERIODIC = new Map<number, [number, number]>([
  [0x2032, [2000, 15]], [0x2024, [2000, 6]], [0x202f, [2000, 4]],
  [0x2130, [1000, 15]], [0x2126, [1000, 6]], [0x212d, [1000, 4]],
  [0x2236, [500, 15]], [0x2220, [500, 6]], [0x222b, [500, 4]],
  [0x2334, [250, 15]], [0x2322, [250, 6]], [0x2329, [250, 4]],
  [0x2737, [100, 15]], [0x2721, [100, 6]], [0x272a, [100, 4]],
  [0x2b32, [250, 15]], // ART: accelerated response time, 4 per second
]);

const FETCH = 0xe000;
const BREAK = 0x3093;
const SOFT_RESET = 0x30a2;
const HEATER_ON = 0x306d;
const HEATER_OFF = 0x3066;
const READ_STATUS = 0xf32d;
const CLEAR_STATUS = 0x3041;

const RESET_MS = 1.5;
const BREAK_MS = 1;
const POWER_UP_MS = 1;

const CRC_TABLE = (() => {
  const table = new Uint8Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
    table[byte] = crc;
  }
  return table;
})();

/** Sensirion CRC-8 of a 16-bit word (table-driven). */
export function sensirionCrc(word: number): number {
  let crc = 0xff;
  crc = CRC_TABLE[crc ^ ((word >> 8) & 0xff)]!;
  crc = CRC_TABLE[crc ^ (word & 0xff)]!;
  return crc;
}

/** No value overridden. */
const NO_OVERRIDE: Readonly<Partial<SHT3xValues>> = Object.freeze({});

type Reply = "none" | "status" | "measurement" | "fetch";

export class SHT3xChip implements I2CChip {
  /** Address with ADDR low; 0x45 with ADDR high. */
  static readonly ADDRESS = 0x44;
  /** The fastest clock the chip follows (on the prototype: no field per chip). */
  get maxHz(): number {
    return 1_000_000;
  }

  /** Counters for tests: measurements sent, transactions not acknowledged (a new object each time: two fields per chip, not an object). */
  get stats(): { measurements: number; nacks: number } {
    return { measurements: this.#measurements, nacks: this.#nacks };
  }

  #measurements = 0;
  #nacks = 0;

  #now: TimeSource;
  #noise: Prng;
  #offsetT: number;
  #offsetH: number;
  /** Replaced, never changed in place: boards without overrides share NO_OVERRIDE. */
  #override: Readonly<Partial<SHT3xValues>> = NO_OVERRIDE;
  /** Made on first use (most chips never corrupt a word). */
  #corrupt: Set<SHT3xWord> | undefined = undefined;

  #status = POWER_UP_STATUS;
  /** Nothing is acknowledged before this time (reset, break, single-shot measurement). */
  #busyUntil = -Infinity;
  /** What the next read returns. */
  #reply: Reply = "none";
  /** Time at which the single-shot measurement's values are taken (its end). */
  #measuredAt = 0;
  #periodic: { start: number; period: number; duration: number; fetched: number } | null = null;

  constructor(options: SHT3xChipOptions = {}) {
    this.#now = options.now ?? Date.now;
    const seed = options.seed ?? 1;
    const offsets = new Prng(seed ^ 0x5eed);
    this.#offsetT = (offsets.next() - 0.5) * 2;
    this.#offsetH = (offsets.next() - 0.5) * 10;
    this.#noise = new Prng(seed);
  }

  /** Overrides values exactly (no noise) until clear(); a value left out keeps following the curve. */
  set(values: Partial<SHT3xValues>): void {
    const next = { ...this.#override };
    if (values.temperature !== undefined) next.temperature = values.temperature;
    if (values.humidity !== undefined) next.humidity = values.humidity;
    this.#override = next;
  }

  /** Drops the overrides: values follow the day curve again. */
  clear(): void {
    this.#override = NO_OVERRIDE;
  }

  /** The ambient the chip senses at a time (default now): overrides, else the noiseless day curve. */
  environment(at: number = this.#now()): SHT3xValues {
    const phase = (2 * Math.PI * (hourOfDay(at) - 9)) / 24; // sin peaks at 15:00, lowest at 03:00
    return {
      temperature: this.#override.temperature ?? 21 + this.#offsetT + 3.5 * Math.sin(phase),
      humidity: this.#override.humidity ?? clamp(48 + this.#offsetH - 10 * Math.sin(phase), 0, 100),
    };
  }

  /** Flips one data bit in the next copy of this word the chip sends, so its CRC does not match. */
  corruptNext(word: SHT3xWord): void {
    (this.#corrupt ??= new Set()).add(word);
  }

  /** Power-on reset, as after a brown-out: state lost, status 0x8010, nothing acknowledged for 1 ms. */
  powerCycle(): void {
    this.#periodic = null;
    this.#reply = "none";
    this.#status = POWER_UP_STATUS;
    this.#busyUntil = this.#now() + POWER_UP_MS;
  }

  /** The status register. */
  get status(): number {
    return this.#status;
  }

  /** "single-shot" (idle or measuring) or "periodic". */
  get mode(): "single-shot" | "periodic" {
    return this.#periodic === null ? "single-shot" : "periodic";
  }

  write(bytes: Uint8Array): boolean {
    const now = this.#now();
    if (now < this.#busyUntil) return this.#nack();
    if (bytes.length === 0) return true; // probe
    this.#reply = "none"; // a new command discards a result not read yet
    if (bytes.length !== 2) return this.#failCommand();
    const command = (bytes[0]! << 8) | bytes[1]!;
    const periodic = this.#periodic;

    const single = SINGLE_SHOT.get(command);
    if (single !== undefined) {
      if (periodic !== null) return this.#failCommand();
      this.#busyUntil = now + single;
      this.#measuredAt = now + single;
      this.#reply = "measurement";
      return this.#done();
    }
    const repeat = PERIODIC.get(command);
    if (repeat !== undefined) {
      this.#periodic = { start: now, period: repeat[0], duration: repeat[1], fetched: -1 };
      return this.#done();
    }
    switch (command) {
      case FETCH:
        if (periodic === null) return this.#failCommand();
        this.#reply = "fetch";
        return this.#done();
      case BREAK:
        if (periodic !== null) {
          this.#periodic = null;
          this.#busyUntil = now + BREAK_MS;
        }
        return this.#done();
      case SOFT_RESET:
        this.#periodic = null;
        this.#status = POWER_UP_STATUS;
        this.#busyUntil = now + RESET_MS;
        return true;
      case HEATER_ON:
        this.#status |= SHT3X_STATUS.HEATER_ON;
        return this.#done();
      case HEATER_OFF:
        this.#status &= ~SHT3X_STATUS.HEATER_ON;
        return this.#done();
      case READ_STATUS: // reports the outcome of the command before it
        this.#reply = "status";
        return true;
      case CLEAR_STATUS:
        this.#status &= ~(SHT3X_STATUS.ALERT_PENDING | SHT3X_STATUS.HUMIDITY_ALERT | SHT3X_STATUS.TEMPERATURE_ALERT | SHT3X_STATUS.RESET_DETECTED);
        return this.#done();
      default:
        return this.#failCommand();
    }
  }

  read(into: Uint8Array): boolean {
    const now = this.#now();
    if (now < this.#busyUntil) return this.#nack();
    const reply = this.#reply;
    this.#reply = "none";
    into.fill(0xff); // bytes past the reply: the bus idles high
    if (reply === "status") {
      this.#put(into, 0, this.#status, "status");
      return true;
    }
    if (reply === "measurement") {
      this.#putMeasurement(into, this.#measuredAt);
      return true;
    }
    if (reply === "fetch" && this.#periodic !== null) {
      const periodic = this.#periodic;
      const latest = Math.floor((now - periodic.start - periodic.duration) / periodic.period);
      if (latest >= 0 && latest > periodic.fetched) {
        periodic.fetched = latest;
        this.#putMeasurement(into, periodic.start + latest * periodic.period + periodic.duration);
        return true;
      }
    }
    return this.#nack();
  }

  #putMeasurement(into: Uint8Array, at: number): void {
    const truth = this.environment(at);
    const temperature = this.#override.temperature ?? truth.temperature + this.#noise.gaussian(0.05);
    const humidity = this.#override.humidity ?? truth.humidity + this.#noise.gaussian(0.3);
    this.#put(into, 0, clamp(Math.round(((temperature + 45) * 65535) / 175), 0, 65535), "temperature");
    this.#put(into, 3, clamp(Math.round((humidity * 65535) / 100), 0, 65535), "humidity");
    this.#measurements++;
  }

  /** Puts a word and its CRC at an offset, as far as `into` reaches. */
  #put(into: Uint8Array, offset: number, word: number, name: SHT3xWord): void {
    const crc = sensirionCrc(word);
    if (this.#corrupt !== undefined && this.#corrupt.delete(name)) word ^= 0x0100; // one flipped bit in the MSB, CRC as sent for the original
    if (offset < into.length) into[offset] = word >> 8;
    if (offset + 1 < into.length) into[offset + 1] = word & 0xff;
    if (offset + 2 < into.length) into[offset + 2] = crc;
  }

  #done(): boolean {
    this.#status &= ~SHT3X_STATUS.COMMAND_FAILED;
    return true;
  }

  #failCommand(): boolean {
    this.#status |= SHT3X_STATUS.COMMAND_FAILED;
    return this.#nack();
  }

  #nack(): boolean {
    this.#nacks++;
    return false;
  }
}

function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}
