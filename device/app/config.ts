/*
 * The sensor node's configuration: its shape, its defaults, and resolveConfig(), which
 * checks a configuration object and returns it complete (every default filled in) or
 * throws a ConfigError naming every mistake it found: a field that is wrong, an unknown key
 * (with the nearest known key when one is close), a device_class, state_class or unit that
 * Home Assistant would reject (ha-sensor-classes.ts). On a board, resolveConfig() may
 * instead report a mistake in a sensor, reading, actuator or the status LED and leave that
 * part out. Runs once at start-up; holds no run-time state (preloaded and frozen on the
 * device). A frozen list of sensors or actuators that is already complete (every field
 * present, nothing to fill in) is checked and then used as it is, not copied: many nodes in
 * one process (a simulated fleet) share one such list. The field checks and ConfigError are
 * in config-fields.ts.
 */

import { ConfigError, type Found, flag, id, isKey, list, mistake, objectAt, optionalObject, optionalText, text, topicPrefix, whole } from "./config-fields.js";
import { didYouMean } from "./did-you-mean.js";
import { SENSOR_DEVICE_CLASSES, STATE_CLASSES, sensorDeviceClass } from "./ha-sensor-classes.js";
import { RETAINED_HEADER_WORDS, RETAINED_WORDS } from "./retained.js";

export { ConfigError } from "./config-fields.js";

/** One value of a sensor's sample, published under `key` in the sensor's JSON state. */
export interface ReadingConfig {
  /** The sample's property and the JSON key: a letter or "_", then letters, digits, "_". */
  key: string;
  /** Home Assistant entity name (default: the key, capitalised, "_" as spaces). */
  name?: string;
  /** unit_of_measurement, e.g. "°C": with a device_class, one of the units Home Assistant takes for it. */
  unit?: string;
  /** Home Assistant device_class, e.g. "temperature": one of SENSOR_DEVICE_CLASSES (ha-sensor-classes.ts). */
  device_class?: string;
  /** Home Assistant state_class: measurement, total or total_increasing (default "measurement"; "total_increasing" for energy). */
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
  /** 4: MQTT 3.1.1 (the default); 5: MQTT 5.0 (docs/mqtt5.md). */
  protocolVersion?: number;
  /** MQTT 5.0: seconds the broker keeps the node's session after it goes (default 0); above 0 the node resumes it. */
  sessionExpiry?: number;
}

export interface DeviceInfo {
  /** Default: the node id. */
  name?: string;
  model?: string;
  manufacturer?: string;
  sw_version?: string;
  /** Home Assistant's link to the board's own web page: an http:// or https:// URL (left out when not given). */
  configuration_url?: string;
}

export interface StatusLedConfig {
  pin: number;
  activeLow?: boolean;
}

/**
 * Battery mode (battery.ts): each wake the board reads its sensors, publishes what is due in
 * one round trip, disconnects and deep-sleeps until the next wake.
 */
export interface SleepConfig {
  /** ms from one wake to the next, 1,000 to 86,400,000. */
  interval: number;
  /** ms a wake waits for the broker's acknowledgements before it gives up and sleeps (default 5,000; 100 to 60,000). */
  ackTimeout?: number;
  /** Write the PUBLISH packets right behind CONNECT, before the CONNACK (default true; false waits for the CONNACK: one round trip more). */
  pipeline?: boolean;
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
  /** Battery mode: wake, publish, deep-sleep (SleepConfig). Needs maxSilence above 0 and no actuators. */
  sleep?: SleepConfig;
  /** ms between diagnostics (uptime, Wi-Fi RSSI, IP address; diagnostics.ts): default 60,000, at least 1,000; 0 turns them off. */
  diagnosticsInterval?: number;
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
    readonly protocolVersion: number;
    readonly sessionExpiry: number;
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
    readonly configuration_url: string | undefined;
  };
  readonly statusLed: { readonly pin: number; readonly activeLow: boolean } | undefined;
  readonly sleep: { readonly interval: number; readonly ackTimeout: number; readonly pipeline: boolean } | undefined;
  readonly diagnosticsInterval: number;
}

export const DEFAULTS = Object.freeze({
  prefix: "xs-mqtt",
  discoveryPrefix: "homeassistant",
  sampleInterval: 10_000,
  maxSilence: 300_000,
  diagnosticsInterval: 60_000,
  keepAlive: 60,
  decimals: 2,
  deadband: 0,
  stateClass: "measurement",
  model: "xs-mqtt sensor node",
  manufacturer: "xs-mqtt",
});

/** The keys each part of a configuration may have (any other key is a mistake). */
const ROOT_KEYS = Object.freeze([
  "nodeId", "prefix", "broker", "sampleInterval", "maxSilence", "sensors", "actuators", "discovery", "discoveryPrefix", "device", "statusLed",
  "sleep",
  "diagnosticsInterval",
]);
const BROKER_KEYS = Object.freeze(["host", "port", "username", "password", "tls", "keepAlive", "clientId", "protocolVersion", "sessionExpiry"]);
const SENSOR_KEYS = Object.freeze(["id", "name", "driver", "address", "readings"]);
const READING_KEYS = Object.freeze(["key", "name", "unit", "device_class", "state_class", "decimals", "deadband"]);
const ACTUATOR_KEYS = Object.freeze(["id", "name", "pin", "component", "initial", "activeLow"]);
const DEVICE_KEYS = Object.freeze(["name", "model", "manufacturer", "sw_version", "configuration_url"]);
const STATUS_LED_KEYS = Object.freeze(["pin", "activeLow"]);
const SLEEP_KEYS = Object.freeze(["interval", "ackTimeout", "pipeline"]);

/**
 * Checks a configuration and fills in its defaults. Every mistake is named: with one, it
 * is thrown as it is; with several, one ConfigError lists them all (`mistakes`).
 * `leaveOut`, when given (the board, which must start whatever its configuration says),
 * hears each mistake inside a sensor, a reading, an actuator or the status LED, and each
 * unknown key, and that part is left out (an unknown key: ignored) instead of throwing;
 * a mistake in the node's own fields (nodeId, broker, intervals, prefixes, device) still throws.
 */
export function resolveConfig(input: FirmwareConfig, leaveOut?: (mistake: ConfigError) => void): Config {
  if (input === null || typeof input !== "object" || Array.isArray(input)) throw new ConfigError("(root)", "must be an object");
  const found: Found = [];
  unknownKeys(found, leaveOut, input, ROOT_KEYS, "");
  const nodeId = id(found, input.nodeId, "nodeId");
  const prefix = topicPrefix(found, input.prefix, DEFAULTS.prefix, "prefix");
  const discoveryPrefix = topicPrefix(found, input.discoveryPrefix, DEFAULTS.discoveryPrefix, "discoveryPrefix");
  const sampleInterval = whole(found, input.sampleInterval, DEFAULTS.sampleInterval, 20, 86_400_000, "sampleInterval");
  const maxSilence = whole(found, input.maxSilence, DEFAULTS.maxSilence, 0, 86_400_000, "maxSilence");
  const resolvedBroker = broker(found, leaveOut, input.broker, prefix, nodeId);

  const ids: string[] = [];
  const sensorList = list(found, input.sensors, "sensors");
  const sensors = shared(sensorList, entities(found, leaveOut, sensorList, "sensors", ids, (own, s, at) => sensor(own, leaveOut, s, at)));
  const actuatorList = list(found, input.actuators, "actuators");
  let actuators = shared(actuatorList, entities(found, leaveOut, actuatorList, "actuators", ids, actuator));

  const device = optionalObject(found, input.device, "device") as DeviceInfo;
  unknownKeys(found, leaveOut, device, DEVICE_KEYS, "device.");
  const resolvedDevice = {
    name: text(found, device.name, nodeId, "device.name"),
    model: text(found, device.model, DEFAULTS.model, "device.model"),
    manufacturer: text(found, device.manufacturer, DEFAULTS.manufacturer, "device.manufacturer"),
    sw_version: optionalText(found, device.sw_version, "device.sw_version"),
    configuration_url: optionalText(found, device.configuration_url, "device.configuration_url"),
  };
  const url = resolvedDevice.configuration_url;
  if (url !== undefined && !/^https?:\/\/[^\s/]/.test(url)) mistake(found, "device.configuration_url", "must be an http:// or https:// URL", 0);
  const diagnosticsInterval = whole(found, input.diagnosticsInterval, DEFAULTS.diagnosticsInterval, 0, 86_400_000, "diagnosticsInterval");
  if (diagnosticsInterval > 0 && diagnosticsInterval < 1000) mistake(found, "diagnosticsInterval", "must be 0 (off) or at least 1000 ms", 0);
  const discovery = flag(found, input.discovery, true, "discovery");
  const ledMistakes: Found = [];
  const led = input.statusLed === undefined ? undefined : statusLed(ledMistakes, input.statusLed, "statusLed");
  const sleepMode = input.sleep === undefined ? undefined : sleep(found, leaveOut, input.sleep, maxSilence);
  if (sleepMode !== undefined) {
    // (a board leaves its actuators out, as it does a part with a mistake)
    const own: Found = [];
    if (actuators.length > 0) mistake(own, "sleep", "a sleeping board takes no commands: leave out the actuators, or sleep", 0);
    if (!settled(found, leaveOut, own, "actuators")) actuators = [];
    if (led !== undefined) mistake(ledMistakes, "statusLed", "a sleeping board drives no status LED: leave out statusLed, or sleep", 0);
    let words = RETAINED_HEADER_WORDS;
    for (const s of sensors) words += 1 + s.readings.length;
    if (words > RETAINED_WORDS) {
      mistake(found, "sleep", "the memory kept through deep sleep holds " + (RETAINED_WORDS - RETAINED_HEADER_WORDS) +
        " words, one per sensor and one per reading; this configuration needs " + (words - RETAINED_HEADER_WORDS), 0);
    }
  }
  const ledKept = settled(found, leaveOut, ledMistakes, "statusLed");
  if (found.length > 0) throw found.length === 1 ? found[0] : new ConfigError(found[0].field, "", found);

  return {
    nodeId,
    prefix,
    broker: resolvedBroker,
    sampleInterval,
    maxSilence,
    sensors,
    actuators,
    discovery,
    discoveryPrefix,
    device: resolvedDevice,
    statusLed: ledKept ? led : undefined,
    sleep: sleepMode,
    diagnosticsInterval,
  };
}

/** Battery mode's settings; its availability is Home Assistant's expire_after, which needs a reading at least every maxSilence. */
function sleep(found: Found, leaveOut: ((mistake: ConfigError) => void) | undefined, input: SleepConfig, maxSilence: number): Config["sleep"] {
  const given = objectAt(found, input, "sleep") as SleepConfig | undefined;
  if (given === undefined) return undefined;
  unknownKeys(found, leaveOut, given, SLEEP_KEYS, "sleep.");
  if (given.interval === undefined) mistake(found, "sleep.interval", "is needed: ms from one wake to the next, 1000 to 86400000", 0);
  if (maxSilence === 0) {
    mistake(found, "maxSilence", "with sleep, must be more than 0: Home Assistant shows a sleeping board's sensors unavailable " +
      "(expire_after) unless a reading comes at least every maxSilence", 0);
  }
  return {
    interval: given.interval === undefined ? 0 : whole(found, given.interval, undefined, 1_000, 86_400_000, "sleep.interval"),
    ackTimeout: whole(found, given.ackTimeout, 5_000, 100, 60_000, "sleep.ackTimeout"),
    pipeline: flag(found, given.pipeline, true, "sleep.pipeline"),
  };
}

/**
 * Each item of `items` resolved by `resolve` (`at[i]` names it). An item with a mistake (or
 * an id or key already in `ids`) is left out (see settled()).
 */
function entities<T, R extends { readonly id?: string; readonly key?: string }>(
  found: Found, leaveOut: ((mistake: ConfigError) => void) | undefined, items: readonly T[], at: string,
  ids: string[], resolve: (own: Found, item: T, at: string) => R,
): R[] {
  const out: R[] = [];
  items.forEach((item, i) => {
    const where = at + "[" + i + "]";
    const own: Found = [];
    const resolved = resolve(own, item, where);
    const name = resolved.id ?? resolved.key;
    if (own.length === 0 && name !== undefined) {
      if (ids.indexOf(name) >= 0) mistake(own, where + (resolved.id !== undefined ? ".id" : ".key"), JSON.stringify(name) + " is used twice", 0);
      else if (resolved.id !== undefined && /^diagnostics(_|$)/.test(name)) mistake(own, where + ".id", JSON.stringify(name) + " is kept for the node's diagnostics: choose another id", 0);
      else ids.push(name);
    }
    if (settled(found, leaveOut, own, where)) out.push(resolved);
  });
  return out;
}

/**
 * Whether the part named `where` is free of mistakes (`own`). Its mistakes go to `leaveOut`
 * when there is one (the part is then left out), else to `found`.
 */
function settled(found: Found, leaveOut: ((mistake: ConfigError) => void) | undefined, own: Found, where: string): boolean {
  if (own.length === 0) return true;
  if (leaveOut === undefined) for (const m of own) found.push(m);
  else for (const m of own) report(leaveOut, new ConfigError(m.field, problemOf(m) + " (" + where + " is left out)"));
  return false;
}

/** A mistake's text without its "config <field>: " start. */
function problemOf(error: ConfigError): string {
  return error.message.slice(("config " + error.field + ": ").length);
}

function report(leaveOut: (mistake: ConfigError) => void, error: ConfigError): void {
  try {
    leaveOut(error);
  } catch {
    // a broken reporter must not stop the check
  }
}

/** Every key of `given` that is not in `known`: a mistake, with the nearest known key when one is close. */
function unknownKeys(found: Found, leaveOut: ((mistake: ConfigError) => void) | undefined, given: object, known: readonly string[], at: string): void {
  for (const key of Object.keys(given)) {
    if (known.indexOf(key) >= 0) continue;
    const error = new ConfigError(at + key, "unknown key" + didYouMean(key, known));
    if (leaveOut === undefined) found.push(error);
    else report(leaveOut, new ConfigError(error.field, problemOf(error) + " (ignored)"));
  }
}

function broker(
  found: Found, leaveOut: ((mistake: ConfigError) => void) | undefined, input: BrokerConfig, prefix: string, nodeId: string,
): Config["broker"] {
  const given = objectAt(found, input, "broker") as BrokerConfig | undefined;
  if (given === undefined) return {} as Config["broker"]; // a stand-in: the mistake is recorded
  unknownKeys(found, leaveOut, given, BROKER_KEYS, "broker.");
  if (typeof given.host !== "string" || given.host.length === 0) mistake(found, "broker.host", "must be an IP address or a host name", 0);
  const tls = flag(found, given.tls, false, "broker.tls");
  const username = optionalText(found, given.username, "broker.username");
  const password = optionalText(found, given.password, "broker.password");
  if (password !== undefined && username === undefined) {
    mistake(found, "broker.password", "MQTT 3.1.1 sends a password only with a user name: give broker.username too", 0);
  }
  const protocolVersion = whole(found, given.protocolVersion, 4, 4, 5, "broker.protocolVersion");
  const sessionExpiry = whole(found, given.sessionExpiry, 0, 0, 4_294_967_295, "broker.sessionExpiry");
  if (sessionExpiry > 0 && protocolVersion !== 5) mistake(found, "broker.sessionExpiry", "needs broker.protocolVersion 5", 0);
  return {
    host: given.host,
    port: whole(found, given.port, tls ? 8883 : 1883, 1, 65_535, "broker.port"),
    username,
    password,
    tls,
    keepAlive: whole(found, given.keepAlive, DEFAULTS.keepAlive, 0, 65_535, "broker.keepAlive"),
    clientId: text(found, given.clientId, prefix + "-" + nodeId, "broker.clientId"),
    protocolVersion,
    sessionExpiry,
  };
}

function sensor(found: Found, leaveOut: ((mistake: ConfigError) => void) | undefined, input: SensorConfig, at: string): SensorSpec {
  const given = objectAt(found, input, at) as SensorConfig | undefined;
  if (given === undefined) return {} as SensorSpec; // a stand-in: the mistake is recorded
  unknownKeys(found, undefined, given, SENSOR_KEYS, at + ".");
  const sensorId = id(found, given.id, at + ".id");
  if (typeof given.driver !== "string" || given.driver.length === 0) mistake(found, at + ".driver", "must name the driver, e.g. \"sht3x\"", 0);
  const readingList = list(found, given.readings, at + ".readings");
  const readings = entities(found, leaveOut, readingList, at + ".readings", [], reading);
  if (readings.length === 0 && found.length === 0) mistake(found, at + ".readings", "must list at least one reading", 0);
  return {
    id: sensorId,
    name: text(found, given.name, sensorId, at + ".name"),
    driver: given.driver,
    address: given.address === undefined ? undefined : whole(found, given.address, undefined, 0, 127, at + ".address"),
    readings: shared(readingList, readings),
  };
}

function reading(found: Found, input: ReadingConfig, at: string): ReadingSpec {
  const given = objectAt(found, input, at) as ReadingConfig | undefined;
  if (given === undefined) return {} as ReadingSpec; // a stand-in: the mistake is recorded
  unknownKeys(found, undefined, given, READING_KEYS, at + ".");
  const key = given.key;
  if (!isKey(key)) mistake(found, at + ".key", "must be 1 to 32 characters: a letter or _, then letters, digits or _", 0);
  const deadband = given.deadband === undefined ? DEFAULTS.deadband : given.deadband;
  if (typeof deadband !== "number" || !(deadband >= 0) || deadband === Infinity) {
    mistake(found, at + ".deadband", "must be a number, 0 or more", 0);
  }
  const deviceClass = optionalText(found, given.device_class, at + ".device_class");
  const unit = optionalText(found, given.unit, at + ".unit");
  const classes = deviceClass === undefined ? undefined : sensorDeviceClass(deviceClass);
  if (deviceClass !== undefined && classes === undefined) {
    const names = Object.keys(SENSOR_DEVICE_CLASSES);
    const hint = didYouMean(deviceClass, names);
    mistake(found, at + ".device_class", JSON.stringify(deviceClass) + " is not a Home Assistant sensor device class accepted here" +
      (hint !== "" ? hint : " (one of: " + names.join(", ") + ")"), 0);
  }
  if (classes !== undefined && unit === undefined && classes.units.length > 0) {
    mistake(found, at + ".unit", "device_class " + deviceClass + " needs a unit: " + classes.units.join(", "), 0);
  }
  if (classes !== undefined && unit !== undefined && classes.units.indexOf(unit) < 0) {
    mistake(found, at + ".unit", classes.units.length === 0
      ? "device_class " + deviceClass + " takes no unit: leave unit out"
      : JSON.stringify(unit) + " is not a unit of device_class " + deviceClass + didYouMean(unit, classes.units) + " (one of: " + classes.units.join(", ") + ")", 0);
  }
  const allowedStates = classes === undefined ? STATE_CLASSES : classes.stateClasses;
  const stateClass = text(found, given.state_class, allowedStates[0], at + ".state_class");
  if (STATE_CLASSES.indexOf(stateClass) < 0) {
    mistake(found, at + ".state_class", JSON.stringify(stateClass) + " is not a Home Assistant state class" + didYouMean(stateClass, STATE_CLASSES) +
      " (one of: " + STATE_CLASSES.join(", ") + ")", 0);
  } else if (allowedStates.indexOf(stateClass) < 0) {
    mistake(found, at + ".state_class", "device_class " + deviceClass + " takes state_class " + allowedStates.join(" or "), 0);
  }
  return {
    key,
    name: text(found, given.name, isKey(key) ? humanise(key) : "", at + ".name"),
    unit,
    device_class: deviceClass,
    state_class: stateClass,
    decimals: whole(found, given.decimals, DEFAULTS.decimals, 0, 6, at + ".decimals"),
    deadband,
  };
}

function actuator(found: Found, input: ActuatorConfig, at: string): ActuatorSpec {
  const given = objectAt(found, input, at) as ActuatorConfig | undefined;
  if (given === undefined) return {} as ActuatorSpec; // a stand-in: the mistake is recorded
  unknownKeys(found, undefined, given, ACTUATOR_KEYS, at + ".");
  const actuatorId = id(found, given.id, at + ".id");
  const component = given.component === undefined ? "switch" : given.component;
  if (component !== "switch" && component !== "light") mistake(found, at + ".component", "must be \"switch\" or \"light\"", 0);
  const initial = given.initial === undefined ? "OFF" : given.initial;
  if (initial !== "ON" && initial !== "OFF") mistake(found, at + ".initial", "must be \"ON\" or \"OFF\"", 0);
  return {
    id: actuatorId,
    name: text(found, given.name, actuatorId, at + ".name"),
    pin: whole(found, given.pin, undefined, 0, 1023, at + ".pin"),
    component,
    initial,
    activeLow: flag(found, given.activeLow, false, at + ".activeLow"),
  };
}

function statusLed(found: Found, input: StatusLedConfig, at: string): { readonly pin: number; readonly activeLow: boolean } {
  const given = objectAt(found, input, at) as StatusLedConfig | undefined;
  if (given === undefined) return {} as NonNullable<Config["statusLed"]>; // a stand-in: the mistake is recorded
  unknownKeys(found, undefined, given, STATUS_LED_KEYS, at + ".");
  return {
    pin: whole(found, given.pin, undefined, 0, 1023, at + ".pin"),
    activeLow: flag(found, given.activeLow, false, at + ".activeLow"),
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

/** "air_quality" -> "Air quality". */
function humanise(key: string): string {
  const words = key.split("_").join(" ").trim();
  return words.length === 0 ? key : words.charAt(0).toUpperCase() + words.slice(1);
}
