/*
 * The node's diagnostics, as Home Assistant shows them on the device page (the
 * "Diagnostic" and "Configuration" cards): uptime, Wi-Fi signal strength, IP address
 * (sensors with entity_category "diagnostic", one JSON state for the three) and a restart
 * button. diagnosticEntities() says which a node announces, diagnosticConfig() the fields of
 * each one's discovery config; DiagnosticsState writes the JSON state, e.g.
 * {"uptime":3605,"rssi":-61,"ip":"192.168.1.23"}, into a buffer made at construction: writing
 * it allocates nothing (the address is encoded when it changes, not per publish).
 *
 * Uptime is whole seconds since the firmware started, with device_class "duration" and
 * state_class "total_increasing": it needs no wall clock (a board may never learn the time),
 * Home Assistant shows a duration in readable units, and a restart is a drop to 0 that its
 * statistics take as a reset. A timestamp ("up since") would need the time of day and a
 * date string formatted on the board.
 */

import { prepareTopic } from "../mqtt/index.js";
import type { PreparedTopic, Utf8Encoder } from "../mqtt/index.js";
import { asciiBytes, MAX_NUMBER_BYTES, writeScaled } from "./ascii.js";
import type { Config } from "./config.js";
import { diagnosticsTopic, objectPrefix, restartTopic } from "./topics.js";

export type DiagnosticKey = "uptime" | "rssi" | "ip" | "restart";

export interface DiagnosticEntity {
  readonly key: DiagnosticKey;
  readonly component: "sensor" | "button";
}

const UPTIME: DiagnosticEntity = Object.freeze({ key: "uptime", component: "sensor" });
const RSSI: DiagnosticEntity = Object.freeze({ key: "rssi", component: "sensor" });
const IP: DiagnosticEntity = Object.freeze({ key: "ip", component: "sensor" });
const RESTART: DiagnosticEntity = Object.freeze({ key: "restart", component: "button" });

const NO_ENTITIES: readonly DiagnosticEntity[] = Object.freeze([]);
/** The four sets diagnosticEntities() answers, by (Wi-Fi ? 1 : 0) + (restart ? 2 : 0): made once, shared by every node. */
const ENTITY_SETS: readonly (readonly DiagnosticEntity[])[] = Object.freeze([
  Object.freeze([UPTIME, IP]), Object.freeze([UPTIME, RSSI, IP]), Object.freeze([UPTIME, IP, RESTART]), Object.freeze([UPTIME, RSSI, IP, RESTART]),
]);

/** What Home Assistant's button publishes when pressed (its default payload_press). */
export const PRESS = "PRESS";
export const PRESS_BYTES = asciiBytes(PRESS);

/** Seconds added to a diagnostic sensor's expire_after for delivery, as for the readings. */
const EXPIRY_SLACK_S = 10;

/**
 * The diagnostic entities of a node, in the order they are announced: none when
 * diagnosticsInterval is 0; the RSSI only on a board with a Wi-Fi interface; the restart
 * button only on a board that can restart.
 */
export function diagnosticEntities(config: Config, wifi: boolean, restart: boolean): readonly DiagnosticEntity[] {
  if (config.diagnosticsInterval === 0) return NO_ENTITIES;
  return ENTITY_SETS[(wifi ? 1 : 0) + (restart ? 2 : 0)];
}

/** The object id of a diagnostic entity's discovery config: <p>_diagnostics_<key>. */
export function diagnosticObjectId(config: Config, entity: DiagnosticEntity): string {
  return objectPrefix(config) + "_diagnostics_" + entity.key;
}

/** A diagnostic entity's own discovery fields (discovery.ts adds availability, device and origin). */
export function diagnosticConfig(config: Config, entity: DiagnosticEntity): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    name: NAMES[entity.key],
    unique_id: config.prefix + "_" + config.nodeId + "_diagnostics_" + entity.key,
  };
  if (entity.component === "button") {
    // "config": a button acts on the device; Home Assistant keeps "diagnostic" for read-only entities
    fields.command_topic = restartTopic(config);
    fields.payload_press = PRESS;
    fields.device_class = "restart";
    fields.entity_category = "config";
    fields.qos = 1;
    fields.retain = false; // a retained press would restart the board at every connect
    return fields;
  }
  fields.state_topic = diagnosticsTopic(config);
  fields.value_template = "{{ value_json." + entity.key + " }}";
  if (entity.key === "uptime") {
    fields.device_class = "duration";
    fields.unit_of_measurement = "s";
    fields.state_class = "total_increasing";
  } else if (entity.key === "rssi") {
    fields.device_class = "signal_strength";
    fields.unit_of_measurement = "dBm";
    fields.state_class = "measurement";
  } else {
    fields.icon = "mdi:ip-network";
  }
  fields.entity_category = "diagnostic";
  // published every diagnosticsInterval: a board that stops is shown unavailable after two missed
  fields.expire_after = Math.ceil(2 * config.diagnosticsInterval / 1000) + EXPIRY_SLACK_S;
  return fields;
}

const NAMES: Readonly<Record<DiagnosticKey, string>> = Object.freeze({
  uptime: "Uptime", rssi: "Wi-Fi signal", ip: "IP address", restart: "Restart",
});

const UPTIME_KEY = asciiBytes("{\"uptime\":");
const RSSI_KEY = asciiBytes(",\"rssi\":");
const IP_KEY = asciiBytes(",\"ip\":");
const NULL_END = asciiBytes("null}");
/** The longest address written: an IPv6 address in full text. */
const ADDRESS_ROOM = 45;
/** Most bytes writeScaled() writes for the uptime or the RSSI. */
const NUMBER_ROOM = MAX_NUMBER_BYTES;
/** The longest diagnostics state, bytes (its buffer's size). */
export const DIAGNOSTICS_PAYLOAD_BYTES = UPTIME_KEY.length + RSSI_KEY.length + IP_KEY.length + 2 * NUMBER_ROOM + ADDRESS_ROOM + 3;
const QUOTE = 0x22;
const CLOSE = 0x7d;

/**
 * The diagnostics' state message: its prepared topic and the JSON written into one buffer.
 * The address is kept as its bytes (setAddress(), when it changes), so encode() only
 * copies bytes and writes two whole numbers. The payload (the address's bytes past its
 * longest state) and the topic's bytes are views of one ArrayBuffer (each buffer and each
 * view costs a header, on XS and on Node alike).
 */
export class DiagnosticsState {
  readonly topic: PreparedTopic;
  /** The JSON state: valid in its first `length` bytes after encode() (the address's bytes lie past the longest state). */
  readonly payload: Uint8Array;
  /** Bytes of the address (in payload from DIAGNOSTICS_PAYLOAD_BYTES on); 0 while it is unknown. */
  #addressLength = 0;

  /** Throws MqttError "topic-invalid" for an invalid topic (a prefix that makes one). */
  constructor(config: Config, encoder: Utf8Encoder) {
    const name = diagnosticsTopic(config);
    const encoded = encoder.encode(name);
    const memory = new ArrayBuffer(DIAGNOSTICS_PAYLOAD_BYTES + ADDRESS_ROOM + encoded.length);
    this.payload = new Uint8Array(memory, 0, DIAGNOSTICS_PAYLOAD_BYTES + ADDRESS_ROOM);
    const topicBytes = new Uint8Array(memory, DIAGNOSTICS_PAYLOAD_BYTES + ADDRESS_ROOM, encoded.length);
    topicBytes.set(encoded);
    this.topic = prepareTopic(name, { encode: () => topicBytes });
  }

  /** The board's address, or undefined: kept as ASCII bytes (anything else counts as unknown). Allocates nothing. */
  setAddress(address: string | undefined): void {
    this.#addressLength = 0;
    if (typeof address !== "string" || address.length === 0 || address.length > ADDRESS_ROOM) return;
    const bytes = this.payload;
    for (let i = 0; i < address.length; i++) {
      const code = address.charCodeAt(i);
      if (code <= 0x20 || code >= 0x7f || code === QUOTE || code === 0x5c) return;
      bytes[DIAGNOSTICS_PAYLOAD_BYTES + i] = code;
    }
    this.#addressLength = address.length;
  }

  /** Writes the state for `uptimeSeconds` and `rssi` (NaN: null); returns its length in bytes. */
  encode(uptimeSeconds: number, rssi: number): number {
    const out = this.payload;
    let at = copy(out, 0, UPTIME_KEY);
    at = writeScaled(out, at, uptimeSeconds, 0);
    at = copy(out, at, RSSI_KEY);
    at = writeScaled(out, at, rssi === rssi ? Math.round(rssi) : NaN, 0);
    at = copy(out, at, IP_KEY);
    const length = this.#addressLength;
    if (length === 0) return copy(out, at, NULL_END);
    out[at++] = QUOTE;
    for (let i = 0; i < length; i++) out[at++] = out[DIAGNOSTICS_PAYLOAD_BYTES + i]; // (at stays below it: no overlap)
    out[at++] = QUOTE;
    out[at++] = CLOSE;
    return at;
  }
}

function copy(out: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i];
  return at + bytes.length;
}
