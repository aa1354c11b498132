/*
 * MQTT 5.0 reason codes [MQTT-2.4]: their values as a typed union, their names, which
 * packet may carry which, and the client error a refusing CONNACK maps to.
 * Plain numbers and switch statements only: no tables at module level (each would be a RAM
 * alias on the board), no state, no allocation.
 */

import type { ErrorCode } from "./errors.js";
import { AUTH, CONNACK, DISCONNECT, PUBACK, PUBCOMP, PUBREC, PUBREL, SUBACK, UNSUBACK } from "./constants.js";

/** Every reason code MQTT 5.0 defines (Table 2-6). */
export type ReasonCode =
  | 0x00 | 0x01 | 0x02 | 0x04 | 0x10 | 0x11 | 0x18 | 0x19
  | 0x80 | 0x81 | 0x82 | 0x83 | 0x84 | 0x85 | 0x86 | 0x87 | 0x88 | 0x89 | 0x8a | 0x8b | 0x8c | 0x8d | 0x8e | 0x8f
  | 0x90 | 0x91 | 0x92 | 0x93 | 0x94 | 0x95 | 0x96 | 0x97 | 0x98 | 0x99 | 0x9a | 0x9b | 0x9c | 0x9d | 0x9e | 0x9f
  | 0xa0 | 0xa1 | 0xa2;

/** The name of each reason code, as the standard spells it, in kebab case. */
export type ReasonName =
  | "success" | "granted-qos-1" | "granted-qos-2" | "disconnect-with-will" | "no-matching-subscribers"
  | "no-subscription-existed" | "continue-authentication" | "re-authenticate" | "unspecified-error"
  | "malformed-packet" | "protocol-error" | "implementation-specific-error" | "unsupported-protocol-version"
  | "client-identifier-not-valid" | "bad-user-name-or-password" | "not-authorized" | "server-unavailable"
  | "server-busy" | "banned" | "server-shutting-down" | "bad-authentication-method" | "keep-alive-timeout"
  | "session-taken-over" | "topic-filter-invalid" | "topic-name-invalid" | "packet-identifier-in-use"
  | "packet-identifier-not-found" | "receive-maximum-exceeded" | "topic-alias-invalid" | "packet-too-large"
  | "message-rate-too-high" | "quota-exceeded" | "administrative-action" | "payload-format-invalid"
  | "retain-not-supported" | "qos-not-supported" | "use-another-server" | "server-moved"
  | "shared-subscriptions-not-supported" | "connection-rate-exceeded" | "maximum-connect-time"
  | "subscription-identifiers-not-supported" | "wildcard-subscriptions-not-supported" | "unknown";

export const REASON_SUCCESS = 0x00;
export const REASON_GRANTED_QOS_1 = 0x01;
export const REASON_GRANTED_QOS_2 = 0x02;
export const REASON_DISCONNECT_WITH_WILL = 0x04;
export const REASON_NO_MATCHING_SUBSCRIBERS = 0x10;
export const REASON_NO_SUBSCRIPTION_EXISTED = 0x11;
export const REASON_CONTINUE_AUTHENTICATION = 0x18;
export const REASON_REAUTHENTICATE = 0x19;
export const REASON_UNSPECIFIED_ERROR = 0x80;
export const REASON_MALFORMED_PACKET = 0x81;
export const REASON_PROTOCOL_ERROR = 0x82;
export const REASON_NOT_AUTHORIZED = 0x87;
export const REASON_PACKET_ID_NOT_FOUND = 0x92;
export const REASON_RECEIVE_MAXIMUM_EXCEEDED = 0x93;
export const REASON_TOPIC_ALIAS_INVALID = 0x94;
export const REASON_PACKET_TOO_LARGE = 0x95;

/** The name of a reason code; "unknown" for a value MQTT 5.0 does not define. */
export function reasonName(code: number): ReasonName {
  switch (code) {
    case 0x00: return "success";
    case 0x01: return "granted-qos-1";
    case 0x02: return "granted-qos-2";
    case 0x04: return "disconnect-with-will";
    case 0x10: return "no-matching-subscribers";
    case 0x11: return "no-subscription-existed";
    case 0x18: return "continue-authentication";
    case 0x19: return "re-authenticate";
    case 0x80: return "unspecified-error";
    case 0x81: return "malformed-packet";
    case 0x82: return "protocol-error";
    case 0x83: return "implementation-specific-error";
    case 0x84: return "unsupported-protocol-version";
    case 0x85: return "client-identifier-not-valid";
    case 0x86: return "bad-user-name-or-password";
    case 0x87: return "not-authorized";
    case 0x88: return "server-unavailable";
    case 0x89: return "server-busy";
    case 0x8a: return "banned";
    case 0x8b: return "server-shutting-down";
    case 0x8c: return "bad-authentication-method";
    case 0x8d: return "keep-alive-timeout";
    case 0x8e: return "session-taken-over";
    case 0x8f: return "topic-filter-invalid";
    case 0x90: return "topic-name-invalid";
    case 0x91: return "packet-identifier-in-use";
    case 0x92: return "packet-identifier-not-found";
    case 0x93: return "receive-maximum-exceeded";
    case 0x94: return "topic-alias-invalid";
    case 0x95: return "packet-too-large";
    case 0x96: return "message-rate-too-high";
    case 0x97: return "quota-exceeded";
    case 0x98: return "administrative-action";
    case 0x99: return "payload-format-invalid";
    case 0x9a: return "retain-not-supported";
    case 0x9b: return "qos-not-supported";
    case 0x9c: return "use-another-server";
    case 0x9d: return "server-moved";
    case 0x9e: return "shared-subscriptions-not-supported";
    case 0x9f: return "connection-rate-exceeded";
    case 0xa0: return "maximum-connect-time";
    case 0xa1: return "subscription-identifiers-not-supported";
    case 0xa2: return "wildcard-subscriptions-not-supported";
    default: return "unknown";
  }
}

/** Whether `code` is a reason code this packet type may carry (Table 2-6 and each packet's section). */
export function reasonAllowed(type: number, code: number): boolean {
  switch (type) {
    case CONNACK: // [MQTT-3.2.2.2]
      return code === 0x00 || (code >= 0x80 && code <= 0x9f && code !== 0x8b && code !== 0x8d && code !== 0x8e
        && code !== 0x8f && code !== 0x91 && code !== 0x92 && code !== 0x93 && code !== 0x94 && code !== 0x96
        && code !== 0x98 && code !== 0x9e);
    case PUBACK: case PUBREC: // [MQTT-3.4.2.1][MQTT-3.5.2.1]
      return code === 0x00 || code === 0x10 || code === 0x80 || code === 0x83 || code === 0x87 || code === 0x90
        || code === 0x91 || code === 0x97 || code === 0x99;
    case PUBREL: case PUBCOMP: // [MQTT-3.6.2.1][MQTT-3.7.2.1]
      return code === 0x00 || code === 0x92;
    case SUBACK: // [MQTT-3.9.3]
      return code <= 0x02 || code === 0x80 || code === 0x83 || code === 0x87 || code === 0x8f || code === 0x91
        || code === 0x97 || code === 0x9e || code === 0xa1 || code === 0xa2;
    case UNSUBACK: // [MQTT-3.11.3]
      return code === 0x00 || code === 0x11 || code === 0x80 || code === 0x83 || code === 0x87 || code === 0x8f
        || code === 0x91;
    case DISCONNECT: // [MQTT-3.14.2.1]
      return code === 0x00 || code === 0x04 || (code >= 0x80 && code <= 0xa2 && code !== 0x84 && code !== 0x85
        && code !== 0x86 && code !== 0x88 && code !== 0x8a && code !== 0x8c && code !== 0x91 && code !== 0x92);
    case AUTH: // [MQTT-3.15.2.1]
      return code === 0x00 || code === 0x18 || code === 0x19;
    default:
      return false;
  }
}

/** The client error for a CONNACK reason code that refuses the connection (0x80 and above). */
export function connackRefusal5(code: number): ErrorCode {
  switch (code) {
    case 0x84: return "unacceptable-protocol";
    case 0x85: return "identifier-rejected";
    case 0x86: case 0x8c: return "bad-credentials";
    case 0x87: case 0x8a: return "not-authorized";
    case 0x88: case 0x89: case 0x9c: case 0x9d: case 0x9f: return "server-unavailable";
    default: return "connection-refused";
  }
}
