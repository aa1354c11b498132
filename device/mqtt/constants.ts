/*
 * MQTT 3.1.1 wire constants: packet types, the protocol level, return codes, and the name of
 * every bit the codec and the client set or test.
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
/** MQTT 5.0 only: enhanced authentication [MQTT-3.15]. */
export const AUTH = 15;

/** Protocol level 4 is MQTT 3.1.1 [MQTT-3.1.2-2]. */
export const PROTOCOL_LEVEL = 4;
/** Protocol level 5 is MQTT 5.0 [MQTT-3.1.2-2]. */
export const PROTOCOL_LEVEL_5 = 5;

/** The largest remaining length a 4-byte length field can carry. */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** The largest UTF-8 string or binary field (a 2-byte length prefix). */
export const MAX_STRING_BYTES = 65_535;

/** SUBACK return code for a refused subscription. */
export const SUBACK_FAILURE = 0x80;

// ---- bits of the fixed header's first byte (flags in its low four bits) [MQTT-2.2.2]
/** Where the packet type sits in the first byte. */
export const TYPE_SHIFT = 4;
/** The flags: the first byte's low four bits. */
export const FLAGS_MASK = 0x0f;
/** PUBLISH: a message that may have been sent before [MQTT-3.3.1-1]. */
export const DUP = 0x08;
/** PUBLISH: where the QoS sits, and its mask once shifted. */
export const QOS_SHIFT = 1;
export const QOS_MASK = 3;
/** PUBLISH: the broker keeps the message for new subscribers [MQTT-3.3.1-5]. */
export const RETAIN = 0x01;
/** SUBSCRIBE, UNSUBSCRIBE and PUBREL carry these flags [MQTT-3.8.1-1][MQTT-3.10.1-1][MQTT-3.6.1-1]. */
export const FLAGS_0010 = 0x02;

// ---- CONNECT flags [MQTT-3.1.2]
export const CONNECT_CLEAN = 0x02;
export const CONNECT_WILL = 0x04;
export const CONNECT_WILL_QOS_SHIFT = 3;
export const CONNECT_WILL_RETAIN = 0x20;
export const CONNECT_PASSWORD = 0x40;
export const CONNECT_USERNAME = 0x80;

/** CONNACK's acknowledge flags: bit 0 is session present, the rest are reserved [MQTT-3.2.2-1]. */
export const CONNACK_SESSION_PRESENT = 0x01;

// ---- the client's subscription table flags (not on the wire)
/** The subscription's QoS (0, 1 or 2). */
export const SUB_QOS = 0x03;
/** The filter has no wildcard: it is the topic of everything it matches. */
export const SUB_EXACT = 0x04;
/** MQTT 5.0 subscription options, above those: No Local, Retain As Published, Retain Handling (2 bits). */
export const SUB_NO_LOCAL = 0x08;
export const SUB_RETAIN_AS_PUBLISHED = 0x10;
export const SUB_RETAIN_HANDLING_SHIFT = 5;
