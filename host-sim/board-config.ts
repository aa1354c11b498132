/*
 * The configuration of a simulated board: what is wired where on it (I²C pins, chip
 * addresses, the relay's and the LED's pins) and the firmware configuration each board
 * gets, node id `board-<n>`, with a user's overrides merged in; its sensors are the
 * firmware bundle's standard ones. Pure functions and constants; Node side only.
 */

import type { FirmwareConfig } from "../device/app/config.js";
import { BH1750Chip } from "./chips/bh1750.js";
import { SHT3xChip } from "./chips/sht3x.js";
import type { FirmwareModule } from "./firmware-module.js";

/** ESP32 default I²C pins: the simulated chips are wired to these. */
export const I2C_DATA = 21;
export const I2C_CLOCK = 22;
export const SHT3X_ADDRESS = SHT3xChip.ADDRESS;
export const BH1750_ADDRESS = BH1750Chip.ADDRESS;
/** The relay's GPIO. */
export const RELAY_PIN = 26;
/** The LED's GPIO (the on-board LED of many ESP32 boards). */
export const LED_PIN = 2;

/**
 * The MQTT client buffers of a simulated board (startFirmware's `buffers`), bytes. A board
 * receives only "ON" / "OFF" commands and Home Assistant's "online" (PUBLISH packets of a
 * few dozen bytes; the firmware raises the receive buffer to hold one on its longest
 * command topic with 32 bytes of payload, for long prefixes and ids; an overlong command is
 * skipped by the client instead of reported) and publishes small readings. The firmware
 * raises the transmit buffer to its largest discovery config, the client's reserve and
 * some staging room (device/app/sizing.ts). The outbox holds
 * that config and a few small messages: the burst after a connect (birth, 5 discovery
 * configs, 2 actuator states: about 2.9 KB with the default configuration) goes out as the
 * broker acknowledges it, a few round trips on a local network. So a fleet of thousands
 * stays small.
 */
export const CLIENT_BUFFERS = Object.freeze({ receive: 128, transmit: 512, outbox: 1024, outboxMessages: 0 });

/** How long a board's stop() waits for its connection to close after the firmware's DISCONNECT, ms. */
export const CLOSE_TIMEOUT = 2_000;

/** The broker a board connects to. */
export interface BrokerAddress {
  host: string;
  port: number;
  tls: boolean;
}

/**
 * Overrides of the firmware configuration: the same for every board, or per board (index
 * from 0). Merged over the defaults field by field (`broker` and `device` one level
 * deeper). In a shared object, `nodeId` is a prefix: board n gets `<nodeId>-<n>`. With
 * `sleep` (battery mode) a board has no actuators unless the overrides give some.
 */
export type ConfigOverrides = Partial<FirmwareConfig> | ((index: number) => Partial<FirmwareConfig>);

/** Freezes an object and everything in it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Every board's sensors: the firmware bundle's standard climate (SHT3x) and light (BH1750)
 * sensors at the simulated chips' addresses. Made once per simulator: complete as
 * resolveConfig() would make them (every field present) and frozen, so every board of a
 * fleet shares these objects instead of holding copies (see resolveConfig()).
 */
export function boardSensors(firmware: FirmwareModule): FirmwareConfig["sensors"] {
  return Object.freeze([firmware.climateSensor(SHT3X_ADDRESS), firmware.lightSensor(BH1750_ADDRESS)]);
}

/** Every board's actuators, complete and frozen as the sensors. */
const ACTUATORS = deepFreeze([
  { id: "relay", name: "Relay", pin: RELAY_PIN, component: "switch", initial: "OFF", activeLow: false },
  { id: "led", name: "LED", pin: LED_PIN, component: "light", initial: "OFF", activeLow: false },
]);

/** The firmware configuration of board number `boardNumber` (from 1), with `sensors` from boardSensors(). */
export function boardConfig(
  boardNumber: number, broker: BrokerAddress, sensors: FirmwareConfig["sensors"], overrides: ConfigOverrides = {},
): FirmwareConfig {
  const perBoard = typeof overrides === "function";
  const extra = perBoard ? overrides(boardNumber - 1) : overrides;
  const nodeId = extra.nodeId === undefined ? `board-${boardNumber}` : perBoard ? extra.nodeId : `${extra.nodeId}-${boardNumber}`;
  return {
    sampleInterval: 2_000,
    maxSilence: 60_000,
    sensors,
    // a sleeping board takes no commands (config.ts refuses actuators with sleep)
    actuators: (extra.sleep === undefined ? ACTUATORS : []) as FirmwareConfig["actuators"],
    ...extra,
    nodeId,
    broker: { host: broker.host, port: broker.port, tls: broker.tls, ...extra.broker },
    device: { name: `Simulated board ${boardNumber}`, model: "xs-mqtt simulated ESP32", manufacturer: "xs-mqtt", sw_version: "simulator", ...extra.device },
  };
}

/** A board's own seed, from the simulator's seed and its number (the same in every shard and worker). */
export function boardSeed(seed: number, boardNumber: number): number {
  return (Math.imul(seed, 0x9e3779b1) + Math.imul(boardNumber, 0x85ebca6b)) >>> 0;
}
