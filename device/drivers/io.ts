/*
 * The IO shapes a sensor driver is handed: the ECMA-419 I²C class (`embedded:io/i2c`) and
 * the options a driver's constructor takes under `sensor` (the Peripheral Class Pattern:
 * an IO connection is given as the IO class in `io` plus that class's constructor options,
 * and the driver constructs the connection itself). The board passes
 * Moddable's `device.io.I2C`, the simulator passes `I2CBus.I2C` from host-sim/io/i2c.ts.
 * Besides the types, openI2C() opens a connection from a driver's `sensor` option; nothing
 * here holds state.
 */

/** Options of the ECMA-419 I²C constructor. */
export interface I2COptions {
  /** SDA pin. */
  data: number;
  /** SCL pin. */
  clock: number;
  /** Bus speed in Hz. */
  hz: number;
  /** 7-bit address, 0 to 127. */
  address: number;
  port?: number;
}

/** An open I²C connection to one address: ECMA-419 `embedded:io/i2c`, synchronous. */
export interface I2CPort {
  /** Reads buffer.byteLength bytes into the buffer; throws when the chip does not acknowledge. */
  read(buffer: Uint8Array, stop?: boolean): unknown;
  /** Writes all bytes of the buffer; throws when the chip does not acknowledge. */
  write(buffer: Uint8Array, stop?: boolean): unknown;
  close(): void;
}

export type I2CClass = new (options: I2COptions) => I2CPort;

/**
 * The `sensor` option of a driver: the I²C class and its options. `hz` and `address` may
 * be left out; each driver documents its defaults.
 */
export interface SensorI2COptions {
  io: I2CClass;
  data: number;
  clock: number;
  hz?: number;
  address?: number;
  port?: number;
}

/** Opens the I²C connection a driver's `sensor` option describes, with the driver's default speed. */
export function openI2C(sensor: SensorI2COptions, defaultHz: number, address: number): I2CPort {
  return new sensor.io({ ...sensor, hz: sensor.hz ?? defaultHz, address });
}
