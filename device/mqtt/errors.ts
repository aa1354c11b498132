/*
 * The client's one error type and its stable codes.
 * Every failure the codec or the client reports is an MqttError whose `code` never changes
 * between releases and whose message says what to do. Must not hold run-time state: this
 * module is preloaded and frozen on the device.
 *
 * How errors travel, everywhere in device/mqtt:
 * - Codec and validation functions (encode*, PacketDecoder.next, prepareTopic, prepareFilter,
 *   the option checks) return a plain value (a length, a packet type, prepared bytes) and
 *   THROW an MqttError for bad input or a broken stream. They never return an error object,
 *   and they change nothing before throwing.
 * - The client's public methods throw too, for the caller's mistakes, before changing anything.
 * - Inside IO callbacks nothing may throw (on a board that aborts): the client catches what
 *   the codec and the socket throw and ends the connection with #fail(code), which reports
 *   the MqttError to onError (and onDisconnected) and schedules a reconnect. A broken
 *   internal invariant (a control packet without its reserved room) fails the same way.
 * - Status strings are outcomes, not errors: publish() says "sent", "queued", "outbox-full"
 *   or "dropped"; `state` says where the connection stands.
 */

export type ErrorCode =
  // caller mistakes (rejected before anything is written or sent)
  | "buffer-too-small"
  | "topic-invalid"
  | "filter-invalid"
  | "qos-invalid"
  | "packet-id-invalid"
  | "string-too-long"
  | "payload-too-large"
  | "client-id-invalid"
  | "keepalive-invalid"
  | "password-without-username"
  | "argument-invalid"
  // what a server sent that breaks MQTT 3.1.1
  | "packet-type-invalid"
  | "reserved-flags"
  | "length-too-long"
  | "length-mismatch"
  | "packet-id-zero"
  | "utf8-invalid"
  | "utf8-null"
  | "topic-wildcard"
  | "topic-empty"
  | "dup-invalid"
  | "suback-code-invalid"
  | "connack-flags-invalid"
  | "connack-code-unknown"
  | "protocol-violation"
  // what a server sent that breaks MQTT 5.0
  | "property-invalid"
  | "reason-code-invalid"
  // connection and session outcomes
  | "unacceptable-protocol"
  | "identifier-rejected"
  | "server-unavailable"
  | "bad-credentials"
  | "not-authorized"
  | "subscription-refused"
  | "connect-timeout"
  | "keepalive-timeout"
  | "connection-lost"
  | "dns-failed"
  | "tls-failed"
  | "closed"
  | "oversize-skipped"
  | "stray-ack"
  | "qos2-table-full"
  | "too-many-subscriptions"
  | "handler-threw"
  // MQTT 5.0 outcomes: the reason code's name is in the detail
  | "connection-refused"
  | "server-disconnected"
  | "auth-failed";

// Short on purpose: every byte of text is flash on the board. Each says what went wrong
// and, for the caller's mistakes, what to give instead; the table in docs/client.md explains more.
const messages: { readonly [K in ErrorCode]: string } = Object.freeze({
  "buffer-too-small": "packet over the buffer",
  "topic-invalid": "topic: 1-65535 bytes, no +, # or U+0000",
  "filter-invalid": "filter: 1-65535 bytes, + fills a level, # last, no U+0000",
  "qos-invalid": "QoS: 0, 1 or 2",
  "packet-id-invalid": "packet id: 1-65535",
  "string-too-long": "string over 65535 bytes",
  "payload-too-large": "packet over transmit buffer or outbox",
  "client-id-invalid": "empty client id needs clean: true [MQTT-3.1.3-7]",
  "keepalive-invalid": "keepAlive: whole seconds 0-65535",
  "password-without-username": "password needs a username [MQTT-3.1.2-22]",
  "argument-invalid": "bad argument",
  "packet-type-invalid": "server sent a client packet type",
  "reserved-flags": "server set reserved flags [MQTT-2.2.2-1]",
  "length-too-long": "server sent a length over 4 bytes",
  "length-mismatch": "server packet length wrong",
  "packet-id-zero": "server sent packet id 0 [MQTT-2.3.1-1]",
  "utf8-invalid": "server sent bad UTF-8 [MQTT-1.5.3-1]",
  "utf8-null": "server sent U+0000 [MQTT-1.5.3-2]",
  "topic-wildcard": "server topic has a wildcard [MQTT-3.3.2-2]",
  "topic-empty": "server topic is empty [MQTT-4.7.3-1]",
  "dup-invalid": "server set DUP on QoS 0 [MQTT-3.3.1-2]",
  "suback-code-invalid": "server SUBACK code not 0-2 or 0x80 [MQTT-3.9.3-2]",
  "connack-flags-invalid": "server CONNACK flags invalid [MQTT-3.2.2-4]",
  "connack-code-unknown": "server CONNACK code unknown",
  "protocol-violation": "server broke MQTT: reconnecting",
  "unacceptable-protocol": "CONNACK 1: broker lacks MQTT 3.1.1",
  "identifier-rejected": "CONNACK 2: try another client id",
  "server-unavailable": "CONNACK 3: server unavailable, retrying",
  "bad-credentials": "CONNACK 4: check username and password",
  "not-authorized": "CONNACK 5: check broker access rules",
  "subscription-refused": "SUBACK 0x80: check broker access rules",
  "connect-timeout": "no CONNACK in time: check broker and network",
  "keepalive-timeout": "server silent 1.5 x keepAlive",
  "connection-lost": "connection lost: reconnecting",
  "dns-failed": "host name not resolved: check it and DNS",
  "tls-failed": "TLS failed: check CA, host name, client cert",
  "closed": "client closed: create a new one",
  "oversize-skipped": "message over receiveBufferSize: skipped",
  "stray-ack": "ack for no message in flight: ignored",
  "qos2-table-full": "maxInflight QoS 2 messages await PUBREL: reconnecting",
  "too-many-subscriptions": "subscription table full: raise maxSubscriptions",
  "handler-threw": "a handler threw: caught",
  "property-invalid": "server property unknown, repeated or misplaced",
  "reason-code-invalid": "server reason code not allowed here",
  "connection-refused": "CONNACK refused: see the reason",
  "server-disconnected": "server sent DISCONNECT: see the reason",
  "auth-failed": "AUTH exchange failed: see the reason",
});

/** The error for each CONNACK return code that refuses the connection (1 to 5) [MQTT-3.2.2-3]. */
const CONNACK_REFUSALS: readonly ErrorCode[] = Object.freeze([
  "protocol-violation", "unacceptable-protocol", "identifier-rejected", "server-unavailable", "bad-credentials",
  "not-authorized",
]);

/** The error code for a CONNACK return code from 1 to 5 (the decoder refuses the others). */
export function connackRefusal(returnCode: number): ErrorCode {
  return CONNACK_REFUSALS[returnCode];
}

export class MqttError extends Error {
  // a field, not `this.name = ...`: after preload Error.prototype is frozen, and assigning
  // over its read-only `name` throws; a field defines the property on the instance instead
  override readonly name = "MqttError";
  readonly code: ErrorCode;
  /** MQTT 5.0: the reason code of a refusing CONNACK, a server's DISCONNECT or AUTH (set by the client; no field on other errors). */
  declare reasonCode?: number;
  constructor(code: ErrorCode, detail?: string) {
    super(detail === undefined ? messages[code] : messages[code] + " (" + detail + ")");
    this.code = code;
  }
}

export function isMqttError(value: unknown): value is MqttError {
  return value instanceof MqttError;
}
