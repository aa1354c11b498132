/*
 * ROHM BH1750 (BH1750FVI) ambient light: an ECMA-419 Sensor Class Pattern driver
 * (Ambient light sensor class: `{illuminance}` in lux) on the I²C class it is handed.
 *
 * Construction follows the Peripheral Class Pattern: `new BH1750({sensor: {io: I2C, data,
 * clock, hz, address}, mode})` constructs the I²C connection itself (`hz` defaults to
 * 400_000, the chip's maximum; `address` to 0x23, or 0x5C with ADDR high), sends Power On
 * and then the continuous measurement mode. On any failure it closes what it opened and
 * throws SensorError "no-answer" (or the I²C constructor's own error).
 *
 * Modes (datasheet, MTreg at its default 69): "high" continuous H-resolution, 1 lx steps,
 * 120 ms typical, 180 ms at most per conversion (default); "high2" H-resolution mode 2,
 * 0.5 lx steps, same time; "low" L-resolution, 4 lx steps, 16 ms typical, 24 ms at most.
 * lux = count / 1.2 (count / 2.4 in "high2").
 *
 * Timing: the chip converts continuously and sample() reads the last finished conversion
 * (2 bytes, big-endian), so it never waits and never returns undefined. The chip has no
 * "data ready" flag: until the first conversion ends (180 ms, or 24 ms in "low", after the
 * constructor or after configure() changes the mode) its data register holds 0 or the
 * previous mode's count. Sample no sooner than that.
 *
 * close() sends Power Down (ignoring a chip that no longer answers) and closes the I²C
 * connection.
 *
 * Device code: no Node APIs, no module-level mutable state; the read buffer is allocated by
 * the constructor, and sample() allocates only the object it returns.
 */

import { checkOptions, closedError, noAnswerError, SensorError } from "./errors.js";
import { openI2C } from "./io.js";
import type { I2CPort, SensorI2COptions } from "./io.js";

export type BH1750Mode = "high" | "high2" | "low";

export interface BH1750Options {
  /** Continuous measurement mode; default "high". */
  mode?: BH1750Mode;
}

export interface BH1750ConstructorOptions extends BH1750Options {
  sensor: SensorI2COptions;
}

export interface BH1750Sample {
  /** lux */
  illuminance: number;
}

const CHIP = "BH1750";
/** What a "no-answer" error says to check. */
const NO_ANSWER_CHECK = "its wiring, power, address and bus speed (400 kHz at most)";
const DEFAULT_ADDRESS = 0x23;
const DEFAULT_HZ = 400_000;

/** The opcodes, written as they are: made once for every driver of a program (a write only reads them). */
const POWER_DOWN = Uint8Array.of(0x00);
const POWER_ON = Uint8Array.of(0x01);
const CONTINUOUS_HIGH = Uint8Array.of(0x10);
const CONTINUOUS_HIGH2 = Uint8Array.of(0x11);
const CONTINUOUS_LOW = Uint8Array.of(0x13);

export class BH1750 {
  #io: I2CPort | null = null;
  /** The last conversion read. */
  #data = new Uint8Array(2);
  #mode: Uint8Array = CONTINUOUS_HIGH;
  /** Power On and a mode were sent: configure() sends mode changes at once. */
  #running = false;
  #address = DEFAULT_ADDRESS;

  constructor(options: BH1750ConstructorOptions) {
    const sensor = options.sensor;
    try {
      this.#address = sensor.address ?? DEFAULT_ADDRESS;
      this.#io = openI2C(sensor, DEFAULT_HZ, this.#address);
      this.configure(options);
      this.#send(POWER_ON);
      this.#send(this.#mode);
      this.#running = true;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Applies the options given (unknown keys are ignored). A new mode is sent to the chip at once. */
  configure(options: BH1750Options): void {
    if (this.#io === null) throw closedError(CHIP);
    checkOptions(CHIP, options);
    const mode = options.mode;
    if (mode === undefined) return;
    let command: Uint8Array;
    if (mode === "high") command = CONTINUOUS_HIGH;
    else if (mode === "high2") command = CONTINUOUS_HIGH2;
    else if (mode === "low") command = CONTINUOUS_LOW;
    else throw new SensorError("option-invalid", 'BH1750: mode must be "high", "high2" or "low"');
    if (this.#running) this.#send(command);
    this.#mode = command;
  }

  /** ms from construction (or a mode change) to the end of the first conversion: sample no sooner. */
  get firstSampleAfter(): number {
    return this.#mode === CONTINUOUS_LOW ? 24 : 180;
  }

  /** The last finished conversion. Throws SensorError "no-answer" if the chip does not acknowledge, "closed" after close(). */
  sample(): BH1750Sample {
    const io = this.#io;
    if (io === null) throw closedError(CHIP);
    const data = this.#data;
    try {
      io.read(data);
    } catch {
      throw noAnswerError(CHIP, this.#address, NO_ANSWER_CHECK);
    }
    // counts per lux: 2.4 in H-resolution mode 2, else 1.2
    return { illuminance: ((data[0]! << 8) | data[1]!) / (this.#mode === CONTINUOUS_HIGH2 ? 2.4 : 1.2) };
  }

  close(): void {
    const io = this.#io;
    if (io === null) return;
    if (this.#running) {
      this.#running = false;
      try {
        this.#send(POWER_DOWN);
      } catch {
        // a chip that no longer answers is powered down enough
      }
    }
    this.#io = null;
    io.close();
  }

  #send(opcode: Uint8Array): void {
    try {
      this.#io!.write(opcode);
    } catch {
      throw noAnswerError(CHIP, this.#address, NO_ANSWER_CHECK);
    }
  }
}

export default BH1750;
