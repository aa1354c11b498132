/*
 * Home Assistant MQTT discovery: the retained config message for each sensor reading
 * (component "sensor", reading its value out of the sensor's JSON state with a
 * value_template) and for each actuator (component "switch" or "light", with its command
 * topic), then for each diagnostic entity of the node (diagnostics.ts: uptime, Wi-Fi RSSI,
 * IP address, the restart button). Each payload is built when it is sent (at connect, and when Home Assistant comes
 * back online), so none is kept in memory in between; the firmware paces the sending.
 * Only sensors whose driver started are announced. The set announced is also kept on the
 * broker, retained, as a manifest (`<component>/<object id>` entries, space-separated), so
 * that a node can clear the configs of entities a later configuration dropped. Object ids
 * and unique ids start with the topic prefix; the node id stays the topic's node level, so
 * the configs an earlier version announced under object ids without the prefix (listed
 * in its manifest) are cleared the same way.
 */

import type { ActuatorSpec, Config, ReadingSpec, SensorSpec } from "./config.js";
import { ONLINE, OFFLINE } from "./availability.js";
import { OFF_TEXT, ON_TEXT } from "./actuators.js";
import { diagnosticConfig, diagnosticObjectId } from "./diagnostics.js";
import type { DiagnosticEntity } from "./diagnostics.js";
import {
  actuatorDiscoveryTopic, actuatorObjectId, commandTopic, discoveryTopic, sensorDiscoveryTopic, sensorObjectId, stateTopic, statusTopic,
} from "./topics.js";

/**
 * The software that announces the entities (Home Assistant's `origin`, shown in its MQTT
 * logs and device info): this firmware. sw_version is package.json's version (a test
 * keeps the two equal).
 */
export const ORIGIN = Object.freeze({ name: "xs-mqtt", sw_version: "0.1.0", support_url: "https://www.npmjs.com/package/xs-mqtt" });

/** Seconds added to expire_after for delivery (pacing, the broker, Home Assistant itself). */
const EXPIRY_SLACK_S = 10;

/**
 * Home Assistant's expire_after for the node's sensors, seconds: a reading is published at
 * least every maxSilence, at the first sample after it (so up to a sampleInterval later, or
 * a sleep interval for a board in battery mode, which samples once a wake); a sensor that
 * misses one more sample is shown unavailable. Undefined when maxSilence is 0 (an unchanged
 * reading is then never published again, so it must not expire; battery mode refuses 0).
 */
export function expireAfter(config: Config): number | undefined {
  if (config.maxSilence === 0) return undefined;
  const interval = config.sleep === undefined ? config.sampleInterval : config.sleep.interval;
  return Math.ceil((config.maxSilence + 2 * interval) / 1000) + EXPIRY_SLACK_S;
}

/** The device block shared by every entity of this node. */
function deviceBlock(config: Config): Record<string, unknown> {
  const device = config.device;
  const block: Record<string, unknown> = {
    identifiers: [config.prefix + "_" + config.nodeId],
    name: device.name,
    model: device.model,
    manufacturer: device.manufacturer,
  };
  if (device.sw_version !== undefined) block.sw_version = device.sw_version;
  if (device.configuration_url !== undefined) block.configuration_url = device.configuration_url;
  return block;
}

/**
 * The availability, device and origin blocks. A board in battery mode has no availability
 * topic: it is offline between wakes by design and registers no will; expire_after says
 * when its readings are stale instead.
 */
function availability(config: Config, entity: Record<string, unknown>): Record<string, unknown> {
  if (config.sleep === undefined) {
    entity.availability_topic = statusTopic(config);
    entity.payload_available = ONLINE;
    entity.payload_not_available = OFFLINE;
  }
  entity.device = deviceBlock(config);
  // a copy: JSON.stringify throws "read only value" on a preloaded object (the module-level
  // ORIGIN on a board: XS marks objects it visits, xs/sources/xsJSON.c fxStringifyJSONProperty)
  entity.origin = { name: ORIGIN.name, sw_version: ORIGIN.sw_version, support_url: ORIGIN.support_url };
  return entity;
}

export function sensorDiscoveryPayload(config: Config, sensor: SensorSpec, reading: ReadingSpec): string {
  const entity: Record<string, unknown> = {
    name: reading.name,
    unique_id: config.prefix + "_" + config.nodeId + "_" + sensor.id + "_" + reading.key,
    state_topic: stateTopic(config, sensor.id),
    value_template: "{{ value_json." + reading.key + " }}",
  };
  if (reading.unit !== undefined) entity.unit_of_measurement = reading.unit;
  if (reading.device_class !== undefined) entity.device_class = reading.device_class;
  entity.state_class = reading.state_class;
  entity.suggested_display_precision = reading.decimals;
  const expiry = expireAfter(config);
  if (expiry !== undefined) entity.expire_after = expiry;
  return JSON.stringify(availability(config, entity));
}

export function actuatorDiscoveryPayload(config: Config, actuator: ActuatorSpec): string {
  const entity: Record<string, unknown> = {
    name: actuator.name,
    unique_id: config.prefix + "_" + config.nodeId + "_" + actuator.id,
    command_topic: commandTopic(config, actuator),
    state_topic: stateTopic(config, actuator.id),
    payload_on: ON_TEXT,
    payload_off: OFF_TEXT,
  };
  if (actuator.component === "switch") {
    entity.state_on = ON_TEXT;
    entity.state_off = OFF_TEXT;
  }
  entity.qos = 1;
  entity.optimistic = false;
  return JSON.stringify(availability(config, entity));
}

export function diagnosticDiscoveryPayload(config: Config, entity: DiagnosticEntity): string {
  return JSON.stringify(availability(config, diagnosticConfig(config, entity)));
}

export function diagnosticDiscoveryTopic(config: Config, entity: DiagnosticEntity): string {
  return discoveryTopic(config, entity.component, diagnosticObjectId(config, entity));
}

/** What a manifest entry may look like: a component, a slash, an object id (no wildcards, no spaces). */
const MANIFEST_ENTRY = /^[a-z_]+\/[^\s/+#]+$/;

/**
 * The node's discovery messages, in a fixed order: every reading of the sensors given (those
 * whose driver started), then every actuator, then every diagnostic entity. Topics and payloads are built from the
 * configuration when asked for (they are sent only at connect and when Home Assistant comes
 * back): nothing is kept per entry.
 */
export class Discovery {
  readonly #config: Config;
  readonly #sensors: readonly SensorSpec[];
  readonly #diagnostics: readonly DiagnosticEntity[];
  readonly count: number;

  constructor(config: Config, sensors: readonly SensorSpec[], diagnostics: readonly DiagnosticEntity[] = []) {
    this.#config = config;
    this.#sensors = sensors;
    this.#diagnostics = diagnostics;
    let count = config.actuators.length + diagnostics.length;
    for (const s of sensors) count += s.readings.length;
    this.count = count;
  }

  /** The manifest of this set, as it is published (built now: allocates; it goes out at connect only). */
  get manifest(): string {
    const config = this.#config;
    const entries: string[] = [];
    for (const s of this.#sensors) for (const r of s.readings) entries.push("sensor/" + sensorObjectId(config, s, r));
    for (const a of config.actuators) entries.push(a.component + "/" + actuatorObjectId(config, a));
    for (const d of this.#diagnostics) entries.push(d.component + "/" + diagnosticObjectId(config, d));
    return entries.join(" ");
  }

  /** Every entry's topic, in order (a new array each call). */
  get topics(): string[] {
    const topics: string[] = [];
    for (let i = 0; i < this.count; i++) topics.push(this.topic(i));
    return topics;
  }

  /** The topic of entry `index` (built now: allocates). */
  topic(index: number): string {
    return this.#entry(index, sensorDiscoveryTopic, actuatorDiscoveryTopic, diagnosticDiscoveryTopic);
  }

  /** The JSON config of entry `index` (built now: allocates). */
  payload(index: number): string {
    return this.#entry(index, sensorDiscoveryPayload, actuatorDiscoveryPayload, diagnosticDiscoveryPayload);
  }

  /**
   * The config topics an earlier manifest announced that this set no longer has (their
   * retained configs are to be cleared). Entries that are not `<component>/<object id>` are
   * left alone.
   */
  staleTopics(earlier: string): string[] {
    const current = this.manifest.split(" ");
    const stale: string[] = [];
    for (const entry of earlier.split(" ")) {
      if (!MANIFEST_ENTRY.test(entry) || current.includes(entry) || stale.includes(entry)) continue;
      stale.push(entry);
    }
    const config = this.#config;
    return stale.map((entry) => {
      const slash = entry.indexOf("/");
      return discoveryTopic(config, entry.slice(0, slash), entry.slice(slash + 1));
    });
  }

  /** What `ofReading`, `ofActuator` or `ofDiagnostic` makes of entry `index`: a sensor's reading, past them an actuator, past those a diagnostic entity. */
  #entry(
    index: number,
    ofReading: (config: Config, sensor: SensorSpec, reading: ReadingSpec) => string,
    ofActuator: (config: Config, actuator: ActuatorSpec) => string,
    ofDiagnostic: (config: Config, entity: DiagnosticEntity) => string,
  ): string {
    const config = this.#config;
    const sensors = this.#sensors;
    let at = index;
    for (let sensorIndex = 0; sensorIndex < sensors.length; sensorIndex++) {
      const readings = sensors[sensorIndex].readings;
      if (at < readings.length) return ofReading(config, sensors[sensorIndex], readings[at]);
      at -= readings.length;
    }
    if (at < config.actuators.length) return ofActuator(config, config.actuators[at]);
    return ofDiagnostic(config, this.#diagnostics[at - config.actuators.length]);
  }
}
