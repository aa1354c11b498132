/*
 * The shapes the firmware is handed besides its configuration: the client's IO (sockets,
 * resolver, Timer, text encoding), the sensors, and the ECMA-419 Digital class. Types
 * only: the board passes Moddable's classes and the drivers in device/drivers/, the
 * simulator and the tests pass their own of the same shape.
 */

import type { ClientIo, TlsOptions } from "../mqtt/index.js";

/**
 * A sensor of the ECMA-419 Sensor Class Pattern: sample() returns a plain object whose
 * numeric properties are the readings (e.g. {temperature, humidity}), or undefined when
 * no new measurement is ready; it may throw when the chip fails.
 */
export interface Sensor {
  sample(): object | undefined;
  /**
   * ms after construction before sample() gives a real measurement, for a chip that cannot
   * say so itself (BH1750: its register holds 0 until the first conversion ends). A board
   * in battery mode waits this long before its one sample of a wake.
   */
  readonly firstSampleAfter?: number;
}

/**
 * Deep sleep and the memory kept through it, in the shape of Moddable's sleep modules
 * (build/devices/nrf52/modules/sleep/sleep.js: Sleep.deep, getRetainedValue and
 * setRetainedValue over 32 retained 32-bit words). On an ESP32 the board's entry hands one
 * over RTC memory (device/main.ts); the simulator hands its own (host-sim/sleep.ts).
 */
export interface SleepIo {
  /** Word `index` (0 to 31) of the retained memory: anything at all after a power-on, so the firmware checks it. */
  getRetainedValue(index: number): number;
  setRetainedValue(index: number, value: number): void;
  /** Sleeps `ms`, then the board starts afresh (on a board this does not return). */
  deep(ms: number): void;
}

/** An ECMA-419 Digital output (`embedded:io/digital`). */
export interface DigitalPin {
  write(value: 0 | 1): void;
  close?(): void;
}

/** The ECMA-419 Digital class: `new Digital({pin, mode: Digital.Output})`. */
export interface DigitalClass {
  new (options: { pin: number; mode: unknown }): DigitalPin;
  readonly Output: unknown;
}

/**
 * The client's IO (the firmware takes its timers and clock from it too), and for a TLS
 * broker the certificates the board holds (the client's `tls` option).
 */
export interface FirmwareIo extends ClientIo {
  tls?: TlsOptions;
}
