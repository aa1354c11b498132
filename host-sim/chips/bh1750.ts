/*
 * A simulated ROHM BH1750FVI ambient light sensor on the virtual I²C bus, at opcode level:
 * - Power Down 0x00 (conversions stop, the data register keeps its value), Power On 0x01,
 *   Reset 0x07 (clears the data register; ignored when powered down);
 * - continuous modes H 0x10 (1 lx), H2 0x11 (0.5 lx), L 0x13 (4 lx) and the one-time
 *   modes 0x20 / 0x21 / 0x23 (one conversion, then Power Down); a measurement opcode also
 *   powers the chip on, as real chips do;
 * - measurement time register MTreg (0x40-0x47 high bits, 0x60-0x7F low bits, default
 *   69): a conversion takes the datasheet maximum, 180 ms (H, H2) or 24 ms (L), times
 *   MTreg / 69;
 * - reads return the data register, big-endian, always acknowledged: 0 (its reset value)
 *   until the first conversion ends, then the last finished conversion. There is no
 *   "data ready" signal, as on the real chip;
 * - count = lux x 1.2 x MTreg / 69 (x 2 in H2; in L, steps of 4 counts);
 * - one opcode per write transaction; anything else is not acknowledged; at most 400 kHz.
 * Values follow a daylight curve (06:00 to 18:00 UTC, brightest at noon) with a per-seed
 * brightness and seeded noise, read from an injectable time source; set() overrides them
 * exactly (no noise). Node side only.
 */

import { hourOfDay } from "./clock.js";
import type { TimeSource } from "./clock.js";
import type { I2CChip } from "../io/i2c.js";
import { Prng } from "./prng.js";

export interface BH1750ChipOptions {
  /** Milliseconds; default Date.now. */
  now?: TimeSource;
  /** Seed of the noise and of this room's brightness; default 1. */
  seed?: number;
}

export interface BH1750Values {
  /** lux */
  illuminance: number;
}

export type BH1750ChipMode = "high" | "high2" | "low" | "one-time-high" | "one-time-high2" | "one-time-low";

const MODES = new Map<number, BH1750ChipMode>([
  [0x10, "high"], [0x11, "high2"], [0x13, "low"],
  [0x20, "one-time-high"], [0x21, "one-time-high2"], [0x23, "one-time-low"],
]);

const POWER_DOWN = 0x00;
const POWER_ON = 0x01;
const RESET = 0x07;
const DEFAULT_MTREG = 69;

export class BH1750Chip implements I2CChip {
  /** Address with ADDR low; 0x5C with ADDR high. */
  static readonly ADDRESS = 0x23;
  /** The fastest clock the chip follows (on the prototype: no field per chip). */
  get maxHz(): number {
    return 400_000;
  }

  /** Counters for tests: conversions finished and read into the register, transactions not acknowledged (a new object each time: two fields per chip, not an object). */
  get stats(): { conversions: number; nacks: number } {
    return { conversions: this.#conversions, nacks: this.#nacks };
  }

  #conversions = 0;
  #nacks = 0;

  #now: TimeSource;
  #noise: Prng;
  #brightness: number;
  #override: number | undefined = undefined;

  #powered = false;
  #mode: BH1750ChipMode | null = null;
  /** When the current mode started converting. */
  #since = 0;
  /** Conversions of the current mode already in the register. */
  #converted = 0;
  #mtreg = DEFAULT_MTREG;
  #register = 0;

  constructor(options: BH1750ChipOptions = {}) {
    this.#now = options.now ?? Date.now;
    const seed = options.seed ?? 1;
    this.#brightness = 0.7 + 0.6 * new Prng(seed ^ 0x119e7).next();
    this.#noise = new Prng(seed);
  }

  /** Overrides the illuminance exactly (no noise) until clear(). */
  set(values: Partial<BH1750Values>): void {
    if (values.illuminance !== undefined) this.#override = values.illuminance;
  }

  /** Drops the override: the illuminance follows the daylight curve again. */
  clear(): void {
    this.#override = undefined;
  }

  /** The light the chip senses at a time (default now): the override, else the noiseless daylight curve. */
  environment(at: number = this.#now()): BH1750Values {
    if (this.#override !== undefined) return { illuminance: this.#override };
    const hour = hourOfDay(at);
    const daylight = hour > 6 && hour < 18 ? Math.sin((Math.PI * (hour - 6)) / 12) : 0;
    return { illuminance: 0.5 + 600 * this.#brightness * daylight };
  }

  get powered(): boolean {
    this.#update(this.#now());
    return this.#powered;
  }

  /** The measurement mode running, or null (powered down, or on and waiting for a mode). */
  get mode(): BH1750ChipMode | null {
    this.#update(this.#now());
    return this.#mode;
  }

  get mtreg(): number {
    return this.#mtreg;
  }

  /** The data register as a host would read it now. */
  get register(): number {
    this.#update(this.#now());
    return this.#register;
  }

  write(bytes: Uint8Array): boolean {
    if (bytes.length === 0) return true; // probe
    if (bytes.length !== 1) return this.#nack();
    const now = this.#now();
    this.#update(now);
    const opcode = bytes[0]!;
    const mode = MODES.get(opcode);
    if (mode !== undefined) {
      this.#powered = true;
      this.#start(mode, now);
      return true;
    }
    if (opcode === POWER_DOWN) {
      this.#powered = false;
      this.#mode = null;
      return true;
    }
    if (opcode === POWER_ON) {
      this.#powered = true;
      return true;
    }
    if (opcode === RESET) {
      if (this.#powered) this.#register = 0;
      return true;
    }
    if ((opcode & 0xf8) === 0x40 || (opcode & 0xe0) === 0x60) {
      this.#mtreg = (opcode & 0xe0) === 0x60 ? (this.#mtreg & 0xe0) | (opcode & 0x1f) : (this.#mtreg & 0x1f) | ((opcode & 0x07) << 5);
      if (this.#mode !== null) this.#start(this.#mode, now); // a new integration time restarts the conversion
      return true;
    }
    return this.#nack();
  }

  read(into: Uint8Array): boolean {
    this.#update(this.#now());
    into.fill(0xff);
    if (into.length > 0) into[0] = this.#register >> 8;
    if (into.length > 1) into[1] = this.#register & 0xff;
    return true;
  }

  #start(mode: BH1750ChipMode, now: number): void {
    this.#mode = mode;
    this.#since = now;
    this.#converted = 0;
  }

  /** Brings the register up to `now`: the last conversion finished by then. */
  #update(now: number): void {
    const mode = this.#mode;
    if (mode === null) return;
    const duration = this.#conversionMs(mode);
    const finished = Math.floor((now - this.#since) / duration);
    if (finished <= this.#converted) return;
    const oneTime = mode.startsWith("one-time");
    const last = oneTime ? 1 : finished;
    this.#register = this.#count(mode, this.#since + last * duration);
    this.#converted = last;
    this.#conversions++;
    if (oneTime) {
      this.#mode = null;
      this.#powered = false;
    }
  }

  #conversionMs(mode: BH1750ChipMode): number {
    const low = mode === "low" || mode === "one-time-low";
    return ((low ? 24 : 180) * this.#mtreg) / DEFAULT_MTREG;
  }

  #count(mode: BH1750ChipMode, at: number): number {
    const truth = this.environment(at).illuminance;
    const lux = this.#override ?? Math.max(0, truth * (1 + this.#noise.gaussian(0.02)) + this.#noise.gaussian(0.2));
    const scale = (this.#mtreg / DEFAULT_MTREG) * (mode === "high2" || mode === "one-time-high2" ? 2.4 : 1.2);
    let count = Math.round(lux * scale);
    if (mode === "low" || mode === "one-time-low") count = Math.round(count / 4) * 4;
    return Math.min(65535, Math.max(0, count));
  }

  #nack(): boolean {
    this.#nacks++;
    return false;
  }
}
