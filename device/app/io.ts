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
