/*
 * The sensor node's configuration: its shape, its defaults, and resolveConfig(), which
 * checks a configuration object and returns it complete (every default filled in) or
 * throws a ConfigError naming the field and what is wrong. Runs once at start-up; holds
 * no run-time state (preloaded and frozen on the device). A frozen list of sensors or
 * actuators that is already complete (every field present, nothing to fill in) is checked
 * and then used as it is, not copied: many nodes in one process (a simulated fleet) share
 * one such list.
 */

import { isWhole } from "../mqtt/index.js";

/** One value of a sensor's sample, published under `key` in the sensor's JSON state. */
export interface ReadingConfig {
  /** The sample's property and the JSON key: a letter or "_", then letters, digits, "_". */
  key: string;
  /** Home Assistant entity name (default: the key, capitalised, "_" as spaces). */
  name?: string;
  /** unit_of_measurement, e.g. "°C". */
  unit?: string;
  /** Home Assistant device_class, e.g. "temperature". */
  device_class?: string;
  /** Home Assistant state_class (default "measurement"). */
  state_class?: string;
  /** Digits after the decimal point, 0 to 6 (default 2). */
  decimals?: number;
  /** A change smaller than this is not published until maxSilence passes (default 0: any visible change). */
  deadband?: number;
}

export interface SensorConfig {
  /** Part of topics and ids: 1 to 32 of A-Z a-z 0-9 _ -. Unique among sensors and actuators. */
  id: string;
  name?: string;
  /** Which driver the board builds for it (e.g. "sht3x", "bh1750"); the firmware only records it. */
  driver: string;
  /** I²C address for the driver (its default when left out). */
  address?: number;
  readings: readonly ReadingConfig[];
}

export type ActuatorComponent = "switch" | "light";
export type SwitchState = "ON" | "OFF";

export interface ActuatorConfig {
  /** Part of topics and ids: 1 to 32 of A-Z a-z 0-9 _ -. Unique among sensors and actuators. */
  id: string;
  name?: string;
  /** The GPIO driven by the Digital output. */
  pin: number;
  /** Home Assistant component (default "switch"). */
  component?: ActuatorComponent;
  /** State at start-up (default "OFF"). */
  initial?: SwitchState;
  /** The pin is driven low for ON (relay boards often are). Default false. */
  activeLow?: boolean;
}

export interface BrokerConfig {
  /** IP address or host name. */
  host: string;
  /** Default 1883, or 8883 with tls. */
  port?: number;
  username?: string;
  password?: string;
  tls?: boolean;
  /** Seconds (default 60). */
  keepAlive?: number;
  /** Default "<prefix>-<nodeId>". */
  clientId?: string;
}

export interface DeviceInfo {
  /** Default: the node id. */
  name?: string;
  model?: string;
  manufacturer?: string;
  sw_version?: string;
}

export interface StatusLedConfig {
  pin: number;
  activeLow?: boolean;
}

export interface FirmwareConfig {
  /** This node's id, in every topic: 1 to 32 of A-Z a-z 0-9 _ -. */
  nodeId: string;
  /** Topic prefix (default "xs-mqtt"): states go to <prefix>/<nodeId>/... */
  prefix?: string;
  broker: BrokerConfig;
  /** ms between samples (default 10,000; at least 20). */
  sampleInterval?: number;
  /** ms after which a reading is published even without a change (default 300,000; 0: never). */
  maxSilence?: number;
  sensors?: readonly SensorConfig[];
  actuators?: readonly ActuatorConfig[];
  /** Publish Home Assistant discovery configs (default true). */
  discovery?: boolean;
  /** Default "homeassistant". */
  discoveryPrefix?: string;
  device?: DeviceInfo;
  /** An LED that shows connecting (fast blink), online (on), offline (slow blink). */
  statusLed?: StatusLedConfig;
}

// ---- the resolved configuration: every field present

export interface ReadingSpec {
  readonly key: string;
  readonly name: string;
  readonly unit: string | undefined;
  readonly device_class: string | undefined;
  readonly state_class: string;
  readonly decimals: number;
  readonly deadband: number;
}

export interface SensorSpec {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly address: number | undefined;
  readonly readings: readonly ReadingSpec[];
}

export interface ActuatorSpec {
  readonly id: string;
  readonly name: string;
  readonly pin: number;
  readonly component: ActuatorComponent;
  readonly initial: SwitchState;
  readonly activeLow: boolean;
}

export interface Config {
  readonly nodeId: string;
  readonly prefix: string;
  readonly broker: {
    readonly host: string;
    readonly port: number;
    readonly username: string | undefined;
    readonly password: string | undefined;
    readonly tls: boolean;
    readonly keepAlive: number;
    readonly clientId: string;
  };
  readonly sampleInterval: number;
  readonly maxSilence: number;
  readonly sensors: readonly SensorSpec[];
  readonly actuators: readonly ActuatorSpec[];
  readonly discovery: boolean;
  readonly discoveryPrefix: string;
  readonly device: {
    readonly name: string;
    readonly model: string;
    readonly manufacturer: string;
    readonly sw_version: string | undefined;
  };
  readonly statusLed: { readonly pin: number; readonly activeLow: boolean } | undefined;
}

export const DEFAULTS = Object.freeze({
  prefix: "xs-mqtt",
  discoveryPrefix: "homeassistant",
  sampleInterval: 10_000,
  maxSilence: 300_000,
  keepAlive: 60,
  decimals: 2,
  deadband: 0,
  stateClass: "measurement",
  model: "xs-mqtt sensor node",
  manufacturer: "xs-mqtt",
});

/** A configuration mistake: `field` says where (e.g. "sensors[1].readings[0].decimals"). */
export class ConfigError extends Error {
  override readonly name = "ConfigError"; // a field: see MqttError (frozen Error.prototype)
  readonly field: string;
  constructor(field: string, problem: string) {
    super("config " + field + ": " + problem);
    this.field = field;
  }
}

/** Checks a configuration and fills in its defaults. Throws ConfigError on the first mistake. */
export function resolveConfig(input: FirmwareConfig): Config {
  if (input === null || typeof input !== "object") throw new ConfigError("(root)", "must be an object");
  const nodeId = id(input.nodeId, "nodeId");
  const prefix = topicPrefix(input.prefix, DEFAULTS.prefix, "prefix");
  const discoveryPrefix = topicPrefix(input.discoveryPrefix, DEFAULTS.discoveryPrefix, "discoveryPrefix");
  const sampleInterval = whole(input.sampleInterval, DEFAULTS.sampleInterval, 20, 86_400_000, "sampleInterval");
  const maxSilence = whole(input.maxSilence, DEFAULTS.maxSilence, 0, 86_400_000, "maxSilence");

  const sensorList = list(input.sensors, "sensors");
  const sensors = shared(sensorList, sensorList.map((s, i) => sensor(s, "sensors[" + i + "]")));
  const actuatorList = list(input.actuators, "actuators");
  const actuators = shared(actuatorList, actuatorList.map((a, i) => actuator(a, "actuators[" + i + "]")));
  const seen: string[] = [];
  sensors.forEach((s, i) => unique(seen, s.id, "sensors[" + i + "].id"));
  actuators.forEach((a, i) => unique(seen, a.id, "actuators[" + i + "].id"));

  const device = optionalObject(input.device, "device") as DeviceInfo;
  const led = input.statusLed === undefined ? undefined : objectAt(input.statusLed, "statusLed") as StatusLedConfig;

  return {
    nodeId,
    prefix,
    broker: broker(input.broker, prefix, nodeId),
    sampleInterval,
    maxSilence,
    sensors,
    actuators,
    discovery: flag(input.discovery, true, "discovery"),
    discoveryPrefix,
    device: {
      name: text(device.name, nodeId, "device.name"),
      model: text(device.model, DEFAULTS.model, "device.model"),
      manufacturer: text(device.manufacturer, DEFAULTS.manufacturer, "device.manufacturer"),
      sw_version: optionalText(device.sw_version, "device.sw_version"),
    },
    statusLed: led === undefined ? undefined : {
      pin: whole(led.pin, undefined, 0, 1023, "statusLed.pin"),
      activeLow: flag(led.activeLow, false, "statusLed.activeLow"),
    },
  };
}

function broker(input: BrokerConfig, prefix: string, nodeId: string): Config["broker"] {
  const given = objectAt(input, "broker") as BrokerConfig;
  if (typeof given.host !== "string" || given.host.length === 0) throw new ConfigError("broker.host", "must be an IP address or a host name");
  const tls = flag(given.tls, false, "broker.tls");
  const username = optionalText(given.username, "broker.username");
  const password = optionalText(given.password, "broker.password");
  if (password !== undefined && username === undefined) {
    throw new ConfigError("broker.password", "MQTT 3.1.1 sends a password only with a user name: give broker.username too");
  }
  return {
    host: given.host,
    port: whole(given.port, tls ? 8883 : 1883, 1, 65_535, "broker.port"),
    username,
    password,
    tls,
    keepAlive: whole(given.keepAlive, DEFAULTS.keepAlive, 0, 65_535, "broker.keepAlive"),
    clientId: text(given.clientId, prefix + "-" + nodeId, "broker.clientId"),
  };
}

function sensor(input: SensorConfig, at: string): SensorSpec {
  const given = objectAt(input, at) as SensorConfig;
  const sensorId = id(given.id, at + ".id");
  if (typeof given.driver !== "string" || given.driver.length === 0) throw new ConfigError(at + ".driver", "must name the driver, e.g. \"sht3x\"");
  const readings = list(given.readings, at + ".readings");
  if (readings.length === 0) throw new ConfigError(at + ".readings", "must list at least one reading");
  const keys: string[] = [];
  const resolved = readings.map((r, i) => reading(r, at + ".readings[" + i + "]"));
  resolved.forEach((r, i) => unique(keys, r.key, at + ".readings[" + i + "].key"));
  return {
    id: sensorId,
    name: text(given.name, sensorId, at + ".name"),
    driver: given.driver,
    address: given.address === undefined ? undefined : whole(given.address, undefined, 0, 127, at + ".address"),
    readings: resolved,
  };
}

function reading(input: ReadingConfig, at: string): ReadingSpec {
  const given = objectAt(input, at) as ReadingConfig;
  const key = given.key;
  if (!isKey(key)) throw new ConfigError(at + ".key", "must be 1 to 32 characters: a letter or _, then letters, digits or _");
  const deadband = given.deadband === undefined ? DEFAULTS.deadband : given.deadband;
  if (typeof deadband !== "number" || !(deadband >= 0) || deadband === Infinity) {
    throw new ConfigError(at + ".deadband", "must be a number, 0 or more");
  }
  return {
    key,
    name: text(given.name, humanise(key), at + ".name"),
    unit: optionalText(given.unit, at + ".unit"),
    device_class: optionalText(given.device_class, at + ".device_class"),
    state_class: text(given.state_class, DEFAULTS.stateClass, at + ".state_class"),
    decimals: whole(given.decimals, DEFAULTS.decimals, 0, 6, at + ".decimals"),
    deadband,
  };
}

function actuator(input: ActuatorConfig, at: string): ActuatorSpec {
  const given = objectAt(input, at) as ActuatorConfig;
  const actuatorId = id(given.id, at + ".id");
  const component = given.component === undefined ? "switch" : given.component;
  if (component !== "switch" && component !== "light") throw new ConfigError(at + ".component", "must be \"switch\" or \"light\"");
  const initial = given.initial === undefined ? "OFF" : given.initial;
  if (initial !== "ON" && initial !== "OFF") throw new ConfigError(at + ".initial", "must be \"ON\" or \"OFF\"");
  return {
    id: actuatorId,
    name: text(given.name, actuatorId, at + ".name"),
    pin: whole(given.pin, undefined, 0, 1023, at + ".pin"),
    component,
    initial,
    activeLow: flag(given.activeLow, false, at + ".activeLow"),
  };
}

/**
 * `input` itself when it is frozen and equal, field for field, to `resolved` (its resolved
 * form), all the way down through frozen objects and lists; else `resolved`.
 */
function shared<T>(input: unknown, resolved: T): T {
  return same(input, resolved) ? input as T : resolved;
}

function same(input: unknown, resolved: unknown): boolean {
  if (input === resolved) return true;
  if (input === null || typeof input !== "object" || resolved === null || typeof resolved !== "object") return false;
  if (!Object.isFrozen(input) || Array.isArray(input) !== Array.isArray(resolved)) return false;
  const keys = Object.keys(resolved);
  if (Object.keys(input).length !== keys.length) return false;
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(input, key)) return false;
    if (!same((input as Record<string, unknown>)[key], (resolved as Record<string, unknown>)[key])) return false;
  }
  return true;
}

// ---- field checks

function objectAt(value: unknown, at: string): object {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new ConfigError(at, "must be an object");
  return value;
}

function optionalObject(value: unknown, at: string): object {
  return value === undefined ? {} : objectAt(value, at);
}

function list<T>(value: readonly T[] | undefined, at: string): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError(at, "must be a list");
  return value;
}

function whole(value: unknown, fallback: number | undefined, min: number, max: number, at: string): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (!isWhole(value, min, max)) {
    throw new ConfigError(at, "must be a whole number from " + min + " to " + max);
  }
  return value;
}

function flag(value: unknown, fallback: boolean, at: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new ConfigError(at, "must be true or false");
  return value;
}

function text(value: unknown, fallback: string, at: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value.length === 0) throw new ConfigError(at, "must be a non-empty string");
  return value;
}

function optionalText(value: unknown, at: string): string | undefined {
  return value === undefined ? undefined : text(value, "", at);
}

/** 1 to 32 of A-Z a-z 0-9 _ - (what Home Assistant allows in a node id and object id). */
function id(value: unknown, at: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 32) {
    throw new ConfigError(at, "must be 1 to 32 characters of A-Z a-z 0-9 _ -");
  }
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (!isWordChar(code) && code !== 0x2d) throw new ConfigError(at, "must be 1 to 32 characters of A-Z a-z 0-9 _ -");
  }
  return value;
}

/** A JSON key usable as-is in a Home Assistant template (value_json.<key>). */
function isKey(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > 32) return false;
  const first = value.charCodeAt(0);
  if (first >= 0x30 && first <= 0x39) return false;
  for (let i = 0; i < value.length; i++) if (!isWordChar(value.charCodeAt(i))) return false;
  return true;
}

function isWordChar(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f;
}

/** A topic prefix: not empty, no wildcards, no NUL, no "/" at either end. */
function topicPrefix(value: unknown, fallback: string, at: string): string {
  const prefix = text(value, fallback, at);
  const bad = prefix.indexOf("+") >= 0 || prefix.indexOf("#") >= 0 || prefix.indexOf("\u0000") >= 0 ||
    prefix.charAt(0) === "/" || prefix.charAt(prefix.length - 1) === "/";
  if (bad) throw new ConfigError(at, "must be a topic without wildcards, NUL, or a leading or trailing /");
  return prefix;
}

function unique(seen: string[], value: string, at: string): void {
  if (seen.indexOf(value) >= 0) throw new ConfigError(at, JSON.stringify(value) + " is used twice");
  seen.push(value);
}

/** "air_quality" -> "Air quality". */
function humanise(key: string): string {
  const words = key.split("_").join(" ").trim();
  return words.length === 0 ? key : words.charAt(0).toUpperCase() + words.slice(1);
}
