/*
 * Every topic the node uses, named in one place. topicNames() builds the strings from the
 * configuration (for discovery payloads and subscriptions); Topics prepares the ones
 * published on the hot path once, through the client, so publishing never encodes a topic.
 *   <prefix>/<node>/status             availability: "online" / "offline", retained
 *   <prefix>/<node>/<sensor>/state     a sensor's readings as JSON
 *   <prefix>/<node>/<actuator>/state   "ON" / "OFF", retained
 *   <prefix>/<node>/<actuator>/set     commands: "ON" / "OFF"
 *   <discovery>/sensor/<node>/<sensor>_<key>/config, <discovery>/<switch|light>/<node>/<actuator>/config
 *   <discovery>/status                 Home Assistant's own birth: "online"
 */

import type { PreparedTopic } from "../mqtt/topic.js";
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

export function sensorDiscoveryTopic(config: Config, sensor: SensorSpec, reading: ReadingSpec): string {
  return config.discoveryPrefix + "/sensor/" + config.nodeId + "/" + sensor.id + "_" + reading.key + "/config";
}

export function actuatorDiscoveryTopic(config: Config, actuator: ActuatorSpec): string {
  return config.discoveryPrefix + "/" + actuator.component + "/" + config.nodeId + "/" + actuator.id + "/config";
}

export function homeAssistantStatusTopic(config: Config): string {
  return config.discoveryPrefix + "/status";
}

/** The topics published while running, prepared once. */
export class Topics {
  readonly status: PreparedTopic;
  /** One per sensor, in configuration order. */
  readonly sensorState: readonly PreparedTopic[];
  /** One per actuator, in configuration order. */
  readonly actuatorState: readonly PreparedTopic[];
  /** One per actuator, in configuration order (compared with received topics). */
  readonly actuatorCommand: readonly PreparedTopic[];

  constructor(config: Config, prepare: (name: string) => PreparedTopic) {
    this.status = prepare(statusTopic(config));
    this.sensorState = config.sensors.map((s) => prepare(stateTopic(config, s.id)));
    this.actuatorState = config.actuators.map((a) => prepare(stateTopic(config, a.id)));
    this.actuatorCommand = config.actuators.map((a) => prepare(commandTopic(config, a)));
  }
}
