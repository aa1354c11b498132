/*
 * The shapes the firmware is handed besides its configuration: the client's IO (sockets,
 * resolver, Timer, text encoding), the board's Wi-Fi interface and address, the sensors,
 * and the ECMA-419 Digital class. Types only: the board passes Moddable's classes and the
 * drivers in device/drivers/, the simulator and the tests pass their own of the same shape.
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
 * A Wi-Fi network interface of ECMA-419's shape (`embedded:network/interface/wifi`; on an
 * ESP32, Moddable's modules/io/wifi/esp32/wifi-esp32.js): what the firmware uses.
 * onChanged("connection") when the link goes up or down or a join ends, onChanged("address")
 * when it gets an address, called later (never inside a call) with `this` = the instance.
 */
export interface WiFiInterface {
  /** 500: connected with an address; 400: connected without one yet; 300: this instance's join under way; 200: disconnected (wifi.ts). */
  readonly connection: number;
  /** The access point's signal strength, dBm; undefined while not connected. */
  readonly RSSI: number | undefined;
  /** Starts one join (returns at once; throws "already connecting" while this instance's is under way, "connect failed" when refused). */
  connect(options: WifiCredentials): void;
  /** Leaves the access point, or ends a join under way. */
  disconnect(): void;
  close(): void;
}

export interface WiFiInterfaceClass {
  new (options: { onChanged: (this: WiFiInterface, property: string) => void }): WiFiInterface;
}

/** connect()'s options: the access point's SSID, and its password (none for an open one). */
export interface WifiCredentials {
  readonly SSID: string;
  readonly password?: string;
}

/**
 * The client's IO (the firmware takes its timers and clock from it too), and for a TLS
 * broker the certificates the board holds (the client's `tls` option).
 */
export interface FirmwareIo extends ClientIo {
  tls?: TlsOptions;
  /**
   * The board's Wi-Fi interface class, watched for the link going down and up (no
   * connection attempts while down; diagnostics.ts reports its RSSI). Without it the
   * network counts as always up and no RSSI is announced (a board without Wi-Fi).
   */
  WiFi?: WiFiInterfaceClass;
  /**
   * The board's SSID and password (Moddable: mc/config's ssid and password, which
   * setup/network joins at boot): with them the firmware rejoins when the link is lost
   * (wifi.ts); without them it only listens.
   */
  wifiCredentials?: WifiCredentials;
  /** The board's IP address now (Moddable: Net.get("IP")), or undefined; read at connect and when it changes, never on the publish path. */
  address?: () => string | undefined;
}
