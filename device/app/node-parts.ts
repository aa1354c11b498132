/*
 * What both kinds of node (firmware.ts, which stays awake, and battery.ts, one wake of a
 * sleeping board) do the same way: the client's connection options from the broker
 * configuration, the readings as plain objects, a log line and a status change through
 * user callbacks that must not stop the node when they throw, and the clock. Functions
 * only; brokerOptions() and readingStates() allocate (start-up and displays, not a hot path);
 * pushReadingValues() builds no objects (a host polling thousands of boards).
 */

import type { ClientOptions, Mqtt5, PublishStatus } from "../mqtt/index.js";
import type { Config } from "./config.js";
import type { FirmwareCounts, ReadingState } from "./firmware-types.js";
import type { FirmwareIo } from "./io.js";
import type { SensorReadings } from "./readings.js";
import type { FirmwareStatus } from "./status-led.js";

/** The client's options given by the broker's configuration. */
type BrokerOptions = Pick<ClientOptions,
  "host" | "port" | "clientId" | "username" | "password" | "keepAlive" | "clean" | "tls" | "protocolVersion" | "mqtt5" | "sessionExpiry">;

/**
 * The client's options for the configured broker: address, identity, keepalive, TLS with the
 * board's certificates, the protocol level (MQTT 5.0 with `mqtt5`, the package's 5.0 code), and
 * a clean session unless a 5.0 session expiry lets the node resume its session.
 */
export function brokerOptions(config: Config, io: FirmwareIo, mqtt5: Mqtt5 | undefined): BrokerOptions {
  const broker = config.broker;
  return {
    host: broker.host,
    port: broker.port,
    clientId: broker.clientId,
    username: broker.username,
    password: broker.password,
    keepAlive: broker.keepAlive,
    clean: broker.sessionExpiry === 0,
    tls: broker.tls ? io.tls ?? true : undefined,
    protocolVersion: broker.protocolVersion,
    mqtt5,
    sessionExpiry: broker.protocolVersion === 5 ? broker.sessionExpiry : undefined,
  };
}

/** The statuses taken() looks for, made once (in XS a string literal is a new string each time it runs). */
const SENT: PublishStatus = "sent";
const QUEUED: PublishStatus = "queued";

/** Whether the client took a message (sent it, or queued it in the outbox). Allocates nothing. */
export function taken(status: PublishStatus): boolean {
  return status === SENT || status === QUEUED;
}

/** A node's counts at its start: all 0. */
export function zeroCounts(): FirmwareCounts {
  return {
    samples: 0, sampleFailures: 0, readingsPublished: 0, statesPublished: 0, discoveryPublished: 0,
    commands: 0, badCommands: 0, connects: 0, disconnects: 0, diagnosticsPublished: 0, wifiJoins: 0,
  };
}

/** Every reading of every sensor, in configuration order (a new array each call). */
export function readingStates(channels: readonly SensorReadings[]): ReadingState[] {
  const out: ReadingState[] = [];
  for (const channel of channels) {
    channel.spec.readings.forEach((reading, index) => {
      out.push({ sensor: channel.spec.id, key: reading.key, name: reading.name, unit: reading.unit, value: channel.value(index) });
    });
  }
  return out;
}

/**
 * Appends every reading's value (null until the sensor gave one) to `out`, in readingStates()
 * order; returns how many. Builds no objects: only `out` may grow.
 */
export function pushReadingValues(channels: readonly SensorReadings[], out: (number | null)[]): number {
  let count = 0;
  for (let c = 0; c < channels.length; c++) {
    const channel = channels[c];
    const readings = channel.spec.readings.length;
    for (let index = 0; index < readings; index++) out.push(channel.value(index));
    count += readings;
  }
  return count;
}

/** Hands `line` to the log, if any; a broken logger must not stop the node. */
export function say(log: ((line: string) => void) | undefined, line: string): void {
  if (log === undefined) return;
  try {
    log(line);
  } catch {
    // a broken logger must not stop the node
  }
}

/** Tells the status listener, if any; one that throws is logged. */
export function tellStatus(listener: ((status: FirmwareStatus) => void) | undefined, status: FirmwareStatus, log: ((line: string) => void) | undefined): void {
  if (listener === undefined) return;
  try {
    listener(status);
  } catch (error) {
    say(log, "onStatus threw: " + String(error));
  }
}

/** The node's clock, ms: the IO's, else Date.now. */
export function nowOf(io: FirmwareIo): number {
  const now = io.now;
  return now === undefined ? Date.now() : now();
}
