/*
 * The client's one error type and its stable codes.
 * Every failure the codec or the client reports is an MqttError whose `code` never changes
 * between releases and whose message says what to do. Must not hold run-time state: this
 * module is preloaded and frozen on the device.
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
  | "outbox-full"
  | "offline"
  | "closed"
  | "oversize-skipped"
  | "busy"
  | "too-many-subscriptions"
  | "handler-threw";

const messages: { readonly [K in ErrorCode]: string } = {
  "buffer-too-small": "the packet does not fit in the buffer: give a larger buffer or a smaller packet",
  "topic-invalid": "the topic name is not valid: 1 to 65,535 bytes of UTF-8, no U+0000, no '+' or '#'",
  "filter-invalid": "the topic filter is not valid: '+' must fill a whole level, '#' must be last and alone, 1 to 65,535 bytes, no U+0000",
  "qos-invalid": "QoS must be 0 or 1 to publish (0, 1 or 2 to subscribe)",
  "packet-id-invalid": "a packet identifier must be a whole number from 1 to 65,535",
  "string-too-long": "a string field is longer than 65,535 bytes of UTF-8",
  "payload-too-large": "the payload does not fit: MQTT allows 268,435,455 bytes in a packet and this client's transmit buffer may allow fewer",
  "client-id-invalid": "an empty client id needs a clean session [MQTT-3.1.3-7]: set clean to true or give an id",
  "keepalive-invalid": "keepalive must be a whole number of seconds from 0 to 65,535",
  "password-without-username": "MQTT 3.1.1 sends a password only with a user name [MQTT-3.1.2-22]: give a user name too",
  "argument-invalid": "an argument has the wrong type or range: check the call against the documentation",
  "packet-type-invalid": "the server sent a packet type that a server never sends",
  "reserved-flags": "the server sent a packet whose fixed-header flags are reserved [MQTT-2.2.2-1]",
  "length-too-long": "the server sent a remaining length longer than 4 bytes",
  "length-mismatch": "the server sent a packet whose length disagrees with its contents",
  "packet-id-zero": "the server sent packet identifier 0 where one is required [MQTT-2.3.1-1]",
  "utf8-invalid": "the server sent a string that is not well-formed UTF-8 [MQTT-1.5.3-1]",
  "utf8-null": "the server sent a string containing U+0000 [MQTT-1.5.3-2]",
  "topic-wildcard": "the server sent a PUBLISH whose topic contains a wildcard [MQTT-3.3.2-2]",
  "topic-empty": "the server sent a PUBLISH with an empty topic [MQTT-4.7.3-1]",
  "dup-invalid": "the server sent a QoS 0 PUBLISH with DUP set [MQTT-3.3.1-2]",
  "suback-code-invalid": "the server sent a SUBACK return code other than 0, 1, 2 or 0x80 [MQTT-3.9.3-2]",
  "connack-flags-invalid": "the server sent a CONNACK with reserved acknowledge-flag bits set (section 3.2.2.1), or with session present and a refusal [MQTT-3.2.2-4]",
  "connack-code-unknown": "the server sent a CONNACK return code that MQTT 3.1.1 does not define",
  "protocol-violation": "the server broke the MQTT protocol: the connection was closed and will be reopened",
  "unacceptable-protocol": "the server does not speak MQTT 3.1.1 (CONNACK 1): use a broker that does",
  "identifier-rejected": "the server rejected the client id (CONNACK 2): choose another id",
  "server-unavailable": "the server is unavailable (CONNACK 3): the client keeps retrying with backoff",
  "bad-credentials": "the user name or password was refused (CONNACK 4): check the credentials",
  "not-authorized": "the client is not authorized to connect (CONNACK 5): check the broker's access rules",
  "subscription-refused": "the server refused the subscription (SUBACK 0x80): check the broker's access rules",
  "connect-timeout": "no CONNACK arrived in time: check the broker's address and the network",
  "keepalive-timeout": "nothing arrived from the server for 1.5 times the keepalive: the link was declared dead",
  "connection-lost": "the connection to the server was lost: the client reconnects",
  "dns-failed": "the broker's host name could not be resolved: check the name and the DNS server",
  "tls-failed": "the TLS handshake failed: check the CA certificate and the host name",
  "outbox-full": "the outbox is full: wait for acknowledgements or give a larger outboxBytes",
  "offline": "the client is not connected and the message was not queued",
  "closed": "the client was closed: create a new one",
  "oversize-skipped": "a message larger than the receive buffer was skipped: give a larger receiveBufferSize",
  "busy": "the transmit buffer is full (the link is slow): the QoS 0 message was dropped",
  "too-many-subscriptions": "the subscription table is full: give a larger maxSubscriptions",
  "handler-threw": "a message handler threw: the exception was caught and the client goes on",
};

export class MqttError extends Error {
  // a field, not `this.name = ...`: after preload Error.prototype is frozen, and assigning
  // over its read-only `name` throws; a field defines the property on the instance instead
  override readonly name = "MqttError";
  readonly code: ErrorCode;
  constructor(code: ErrorCode, detail?: string) {
    super(detail === undefined ? messages[code] : messages[code] + " (" + detail + ")");
    this.code = code;
  }
}

export function isMqttError(value: unknown): value is MqttError {
  return value instanceof MqttError;
}
