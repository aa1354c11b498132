/*
 * MQTT 3.1.1 wire constants: packet types, the protocol level, return codes.
 * Plain numbers only; nothing here changes at run time.
 */

export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;

/** Protocol level 4 is MQTT 3.1.1 [MQTT-3.1.2-2]. */
export const PROTOCOL_LEVEL = 4;

/** The largest remaining length a 4-byte length field can carry. */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** The largest UTF-8 string or binary field (a 2-byte length prefix). */
export const MAX_STRING_BYTES = 65_535;

/** SUBACK return code for a refused subscription. */
export const SUBACK_FAILURE = 0x80;
