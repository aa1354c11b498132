/*
 * Every topic the node uses, named in one place. The functions build the strings from the
 * configuration (for discovery, subscriptions and the will); Topics prepares the ones
 * published while running once (validated, and encoded into one buffer for all of them),
 * so publishing never encodes a topic.
 *   <prefix>/<node>/status             availability: "online" / "offline", retained
 *   <prefix>/<node>/<sensor>/state     a sensor's readings as JSON
 *   <prefix>/<node>/<actuator>/state   "ON" / "OFF", retained
 *   <prefix>/<node>/<actuator>/set     commands: "ON" / "OFF"
 *   <discovery>/sensor/<node>/<p>_<sensor>_<key>/config, <discovery>/<switch|light>/<node>/<p>_<actuator>/config
 *                                      (<p>: the prefix as an object id, see objectPrefix())
 *   <discovery>/status                 Home Assistant's own birth: "online"
 *   <prefix>/<node>/discovery          the discovery configs announced last, retained
 *   <prefix>/<node>/diagnostics/state  uptime, Wi-Fi RSSI, IP address as JSON (diagnostics.ts)
 *   <prefix>/<node>/diagnostics/restart  Home Assistant's restart button: "PRESS"
 */

import { prepareTopic } from "../mqtt/index.js";
import type { PreparedTopic, Utf8Encoder } from "../mqtt/index.js";
import type { ActuatorSpec, Config, ReadingSpec, SensorSpec } from "./config.js";

export function nodeTopic(config: Config): string {
  return config.prefix + "/" + config.nodeId;
}

export function statusTopic(config: Config): string {
  return nodeTopic(config) + "/status";
}

export function stateTopic(config: Config, id: string): string {
  return nodeTopic(config) + "/" + id + "/state";
}

export function commandTopic(config: Config, actuator: ActuatorSpec): string {
  return nodeTopic(config) + "/" + actuator.id + "/set";
}

/**
 * The topic prefix as it starts every discovery object id: each character outside
 * A-Z a-z 0-9 _ - (what Home Assistant allows in an object id) as "_". With it, two
 * installations (two prefixes) that use the same node id announce on different topics.
 */
export function objectPrefix(config: Config): string {
  const prefix = config.prefix;
  let out = "";
  for (let i = 0; i < prefix.length; i++) {
    const char = prefix.charAt(i);
    out += (char >= "0" && char <= "9") || (char >= "A" && char <= "Z") || (char >= "a" && char <= "z") || char === "_" || char === "-" ? char : "_";
  }
  return out;
}

/** The object id of a reading's discovery config: <p>_<sensor>_<key>. */
export function sensorObjectId(config: Config, sensor: SensorSpec, reading: ReadingSpec): string {
  return objectPrefix(config) + "_" + sensor.id + "_" + reading.key;
}

/** The object id of an actuator's discovery config: <p>_<actuator>. */
export function actuatorObjectId(config: Config, actuator: ActuatorSpec): string {
  return objectPrefix(config) + "_" + actuator.id;
}

/** <discovery>/<component>/<node>/<object id>/config. */
export function discoveryTopic(config: Config, component: string, objectId: string): string {
  return config.discoveryPrefix + "/" + component + "/" + config.nodeId + "/" + objectId + "/config";
}

export function sensorDiscoveryTopic(config: Config, sensor: SensorSpec, reading: ReadingSpec): string {
  return discoveryTopic(config, "sensor", sensorObjectId(config, sensor, reading));
}

export function actuatorDiscoveryTopic(config: Config, actuator: ActuatorSpec): string {
  return discoveryTopic(config, actuator.component, actuatorObjectId(config, actuator));
}

/** Where the node keeps, retained, the list of discovery configs it announced last. */
export function discoveryManifestTopic(config: Config): string {
  return nodeTopic(config) + "/discovery";
}

/** The diagnostics' JSON state (the id "diagnostics" is kept from sensors and actuators: config.ts). */
export function diagnosticsTopic(config: Config): string {
  return nodeTopic(config) + "/diagnostics/state";
}

/** Where Home Assistant's restart button publishes "PRESS". */
export function restartTopic(config: Config): string {
  return nodeTopic(config) + "/diagnostics/restart";
}

export function homeAssistantStatusTopic(config: Config): string {
  return config.discoveryPrefix + "/status";
}

/** The topics published while running, prepared once, their bytes in one buffer. */
export class Topics {
  readonly status: PreparedTopic;
  /** One per sensor, in configuration order. */
  readonly sensorState: readonly PreparedTopic[];
  /** One per actuator, in configuration order. */
  readonly actuatorState: readonly PreparedTopic[];

  /** Throws MqttError "topic-invalid" for a topic that is not a valid topic name. */
  constructor(config: Config, encoder: Utf8Encoder) {
    const names = [statusTopic(config)];
    for (const s of config.sensors) names.push(stateTopic(config, s.id));
    for (const a of config.actuators) names.push(stateTopic(config, a.id));
    // encoded once each to size the buffer, then each prepared topic gets its slice of it
    const encoded = names.map((name) => encoder.encode(name));
    let size = 0;
    for (const bytes of encoded) size += bytes.length;
    const all = new Uint8Array(size);
    let at = 0;
    const slices = encoded.map((bytes) => {
      all.set(bytes, at);
      at += bytes.length;
      return all.subarray(at - bytes.length, at);
    });
    let next = 0;
    const carve: Utf8Encoder = { encode: () => slices[next++] };
    const prepared = names.map((name) => prepareTopic(name, carve));
    this.status = prepared[0];
    this.sensorState = prepared.slice(1, 1 + config.sensors.length);
    this.actuatorState = prepared.slice(1 + config.sensors.length);
  }
}
