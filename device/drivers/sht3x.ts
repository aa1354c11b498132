/*
 * Sensirion SHT3x (SHT30/31/35) humidity and temperature: an ECMA-419 Sensor Class Pattern
 * driver (`embedded:sensor/Humidity-Temperature/SHT3x`) on the I²C class it is handed.
 *
 * Construction follows the Peripheral Class Pattern: `new SHT3x({sensor: {io: I2C, data,
 * clock, hz, address}})` constructs the I²C connection itself (`hz` defaults to 1_000_000,
 * `address` to 0x44), reads the status register (CRC-checked) to prove the chip answers,
 * clears it and starts the first measurement. On any failure it closes what it opened and
 * throws.
 *
 * Timing: single-shot measurements without clock stretching (0x2400 / 0x240B / 0x2416),
 * never a blocking wait. sample() reads the measurement started by the previous sample()
 * (or by the constructor) and at once starts the next one, so a reading is as old as the
 * sampling interval. While the chip is still measuring (at most 15 ms at high
 * repeatability) it acknowledges nothing: sample() then returns undefined, as the Sensor
 * Class Pattern allows. So a sample() within 15 ms of construction or of the previous
 * sample() returns undefined; sample at a steady interval of 20 ms or more. From the second
 * such sample in a row the driver also re-sends the measurement command, in case the chip
 * lost it (a brown-out); at the third sample in a row with no acknowledge at all, sample()
 * throws SensorError "no-answer" (unplugged or unpowered) and keeps trying on later calls.
 * (Three calls within one measurement time would look like that too: don't.)
 *
 * CRC: each 16-bit word carries CRC-8 (poly 0x31, init 0xFF). A mismatch throws SensorError
 * "crc-mismatch" (after starting the next measurement, so sampling simply continues).
 *
 * Result: a new plain object {temperature, humidity}, in °C and in %RH (0 to 100, as the
 * SHT3x class specification says "a percentage").
 *
 * Device code: no Node APIs, no module-level mutable state; its read buffer is allocated by
 * the constructor, and sample() allocates only the object it returns.
 */

import { crc8Word } from "./crc8.js";
import { checkOptions, closedError, noAnswerError, SensorError } from "./errors.js";
import { openI2C } from "./io.js";
import type { I2CPort, SensorI2COptions } from "./io.js";

export type SHT3xRepeatability = "high" | "medium" | "low";

export interface SHT3xOptions {
  /** Measurement repeatability: more is less noise, a longer measurement and more energy. Default "high". */
  repeatability?: SHT3xRepeatability;
}

export interface SHT3xConstructorOptions extends SHT3xOptions {
  sensor: SensorI2COptions;
}

export interface SHT3xSample {
  /** °C */
  temperature: number;
  /** %RH, 0 to 100 */
  humidity: number;
}

const CHIP = "SHT3x";
/** What a "no-answer" error says to check. */
const NO_ANSWER_CHECK = "its wiring, power and address";
const DEFAULT_ADDRESS = 0x44;
const DEFAULT_HZ = 1_000_000;

/**
 * The commands, written as they are (MSB first): made once for every driver of a program
 * (a board's two command bytes need no buffer of their own; a write only reads them).
 */
const MEASURE_HIGH = Uint8Array.of(0x24, 0x00); // single shot, no clock stretching: 15 ms max
const MEASURE_MEDIUM = Uint8Array.of(0x24, 0x0b); // 6 ms max
const MEASURE_LOW = Uint8Array.of(0x24, 0x16); // 4 ms max
const READ_STATUS = Uint8Array.of(0xf3, 0x2d);
const CLEAR_STATUS = Uint8Array.of(0x30, 0x41);

export class SHT3x {
  #io: I2CPort | null = null;
  /** A measurement: temperature MSB, LSB, CRC, humidity MSB, LSB, CRC. */
  #data = new Uint8Array(6);
  #measure: Uint8Array = MEASURE_HIGH;
  /** A measurement was started and not read yet. */
  #pending = false;
  /** Samples in a row that got no acknowledge. */
  #misses = 0;
  #address = DEFAULT_ADDRESS;

  constructor(options: SHT3xConstructorOptions) {
    const sensor = options.sensor;
    try {
      this.#address = sensor.address ?? DEFAULT_ADDRESS;
      this.#io = openI2C(sensor, DEFAULT_HZ, this.#address);
      this.configure(options);
      try {
        this.#readStatus();
        this.#write(CLEAR_STATUS);
      } catch (error) {
        if (error instanceof SensorError) throw error;
        throw noAnswerError(CHIP, this.#address, NO_ANSWER_CHECK);
      }
      this.#start();
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Applies the options given (unknown keys are ignored); takes effect from the next measurement started. */
  configure(options: SHT3xOptions): void {
    if (this.#io === null) throw closedError(CHIP);
    checkOptions(CHIP, options);
    const repeatability = options.repeatability;
    if (repeatability === undefined) return;
    if (repeatability === "high") this.#measure = MEASURE_HIGH;
    else if (repeatability === "medium") this.#measure = MEASURE_MEDIUM;
    else if (repeatability === "low") this.#measure = MEASURE_LOW;
    else throw new SensorError("option-invalid", 'SHT3x: repeatability must be "high", "medium" or "low"');
  }

  /** ms a measurement takes at the current repeatability (datasheet maxima): sample no sooner after construction. */
  get firstSampleAfter(): number {
    return this.#measure === MEASURE_HIGH ? 15 : this.#measure === MEASURE_MEDIUM ? 6 : 4;
  }

  /**
   * The measurement started by the previous call (or the constructor), and starts the next.
   * undefined while the chip is still measuring. Throws SensorError "crc-mismatch" on a bad
   * word, "no-answer" when the chip refuses commands, "closed" after close().
   */
  sample(): SHT3xSample | undefined {
    const io = this.#io;
    if (io === null) throw closedError(CHIP);
    if (!this.#pending) {
      this.#start();
      return undefined;
    }
    const data = this.#data;
    try {
      io.read(data);
    } catch {
      // No acknowledge: still measuring, or the chip lost the command, or it is gone.
      const misses = ++this.#misses;
      if (misses < 2) return undefined;
      try {
        this.#write(this.#measure); // acknowledged: the command had been lost; measuring now
        this.#misses = 0;
      } catch {
        if (misses >= 3) throw noAnswerError(CHIP, this.#address, NO_ANSWER_CHECK);
      }
      return undefined;
    }
    this.#start();
    if (crc8Word(data, 0) !== data[2]) throw crcMismatch("temperature");
    if (crc8Word(data, 3) !== data[5]) throw crcMismatch("humidity");
    return {
      temperature: -45 + (175 * ((data[0]! << 8) | data[1]!)) / 65535,
      humidity: (100 * ((data[3]! << 8) | data[4]!)) / 65535,
    };
  }

  close(): void {
    const io = this.#io;
    if (io === null) return;
    this.#io = null;
    this.#pending = false;
    io.close();
  }

  /** Starts a single-shot measurement. */
  #start(): void {
    this.#misses = 0;
    this.#pending = false; // until the command is acknowledged
    try {
      this.#write(this.#measure);
    } catch {
      throw noAnswerError(CHIP, this.#address, NO_ANSWER_CHECK);
    }
    this.#pending = true;
  }

  /** Reads the status register (MSB, LSB, CRC), which proves the chip answers; checks its CRC. */
  #readStatus(): void {
    const status = this.#data.subarray(0, 3); // once, at construction
    this.#write(READ_STATUS);
    this.#io!.read(status);
    if (crc8Word(status, 0) !== status[2]) throw crcMismatch("status");
  }

  #write(command: Uint8Array): void {
    this.#io!.write(command);
  }
}

function crcMismatch(word: string): SensorError {
  return new SensorError("crc-mismatch", `${CHIP}: CRC mismatch in the ${word} word (bus noise or a loose wire); the next sample() measures again`);
}

export default SHT3x;
