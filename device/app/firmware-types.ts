/*
 * The sensor node's public shapes: what startFirmware() takes (FirmwareOptions, or
 * ResolvedFirmwareOptions for a configuration resolved already), the client buffer sizes a
 * board may ask for, and the Firmware object it returns with its counts and states. Types
 * only: nothing here runs.
 */

import type { MqttClient, Mqtt5 } from "../mqtt/index.js";
import type { Config, FirmwareConfig, SwitchState } from "./config.js";
import type { DigitalClass, FirmwareIo, Sensor, SleepIo } from "./io.js";
import type { FirmwareStatus } from "./status-led.js";

export type { FirmwareStatus } from "./status-led.js";

/** What the node runs on, besides its configuration. */
export interface FirmwareParts {
  io: FirmwareIo;
  /** The sensor objects by sensor id. A configured sensor without one is reported and never published. */
  sensors?: { readonly [id: string]: Sensor | undefined };
  /** Needed when the configuration has actuators or a status LED. */
  Digital?: DigitalClass;
  /** One line per event worth telling (connection changes, bad commands, sensor failures). */
  log?: (line: string) => void;
  /** Hears every status change. */
  onStatus?: (status: FirmwareStatus) => void;
  /** Deep sleep and the memory kept through it: needed in battery mode (config.sleep, battery.ts). */
  sleep?: SleepIo;
  /**
   * Restarts the board (Moddable on an ESP32: System.restart(); the simulator: the firmware
   * started anew). With it, the node announces Home Assistant's restart button; a press
   * stops the node gracefully first, then calls this.
   */
  restart?: () => void;
  /**
   * MQTT 5.0's code (`mqtt5` of the package), needed by a configuration with
   * broker.protocolVersion 5; a board that leaves it out carries none of it.
   */
  mqtt5?: Mqtt5;
  /**
   * The MQTT client's buffers, bytes, for a board that wants them other than the defaults
   * (e.g. a fleet of small nodes). Each is raised to what the node needs (see
   * ClientBuffers): the transmit buffer and the outbox hold the node's largest PUBLISH (its
   * largest discovery config), the receive buffer a command.
   */
  buffers?: ClientBuffers;
}

/** startFirmware()'s options with the configuration as written. */
export interface FirmwareOptions extends FirmwareParts {
  /** Checked by resolveConfig(): a mistake throws ConfigError before anything starts. */
  config: FirmwareConfig;
}

/** startFirmware()'s options with a configuration that resolveConfig() returned: used as it is, not checked again. */
export interface ResolvedFirmwareOptions extends FirmwareParts {
  resolved: Config;
  config?: undefined;
}

export interface ClientBuffers {
  /**
   * Default 1,024 (bad commands, however long, are reported). The default or a size given
   * is raised to hold a command on the longest command topic, with 32 bytes of payload, and
   * twice the discovery manifest (sizing.ts); a longer PUBLISH is skipped by the client.
   */
  receive?: number;
  /**
   * Default 1,024; raised to the largest PUBLISH with the client's reserve for a PUBACK or
   * PINGREQ and room for the small packets staged beside it (sizing.ts).
   */
  transmit?: number;
  /**
   * Default max(4,096, 2 x transmit), which holds the QoS 1 burst after a connect (birth,
   * discovery configs, actuator states) of most nodes at once. A size given is raised to
   * the largest PUBLISH; a burst larger than the outbox goes out as acknowledgements free
   * room (a few round trips more after each connect).
   */
  outbox?: number;
  /** Most messages in the outbox (default: the client's); a number given is raised to the burst's messages + one per sensor. */
  outboxMessages?: number;
}

export interface FirmwareCounts {
  /** Samples that gave values. */
  samples: number;
  /** Samples that threw. */
  sampleFailures: number;
  /** Sensor state messages handed to the client. */
  readingsPublished: number;
  /** Actuator state messages handed to the client. */
  statesPublished: number;
  /** Discovery configs handed to the client. */
  discoveryPublished: number;
  /** Commands applied. */
  commands: number;
  /** Commands refused (not "ON" or "OFF"). */
  badCommands: number;
  connects: number;
  disconnects: number;
  /** Diagnostics states handed to the client (health.ts). */
  diagnosticsPublished: number;
  /** Joins of the Wi-Fi access point the firmware started after the link was lost (wifi.ts). */
  wifiJoins: number;
}

export interface ReadingState {
  sensor: string;
  key: string;
  name: string;
  unit: string | undefined;
  /** null until the sensor gave a value. */
  value: number | null;
}

export interface ActuatorState {
  id: string;
  name: string;
  state: SwitchState;
}

/** What startFirmware() returns. */
export interface Firmware {
  /** "connecting" until the first connection, then "online" or "offline". */
  readonly status: FirmwareStatus;
  readonly counts: Readonly<FirmwareCounts>;
  /** The configuration with every default filled in. */
  readonly config: Config;
  /** The MQTT client (for its stats and state). */
  readonly client: MqttClient;
  /** The latest readings (a new array each call). */
  readings(): ReadingState[];
  /** The actuators' states (a new array each call). */
  actuators(): ActuatorState[];
  /** Appends each reading's value (null until the sensor gave one) to `out`, in readings() order; returns how many. Builds no objects. */
  pushReadingValues(out: (number | null)[]): number;
  /** Appends 1 for each actuator that is on and 0 for each that is off to `out`, in actuators() order; returns how many. Builds no objects. */
  pushActuatorStates(out: (number | null)[]): number;
  /** Samples every sensor now, as the timer does. */
  sampleNow(): void;
  /** Sets an actuator as a command would (e.g. from a local button). false for an unknown id. */
  setActuator(id: string, on: boolean): boolean;
  /** Publishes "offline", closes the connection gracefully, stops the timers and releases the pins. */
  stop(): void;
}
