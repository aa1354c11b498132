/*
 * Hand-written MQTT 3.1.1 codec vectors, worked out byte by byte from the standard: what the
 * client encodes, what the decoder reads from a server, the invalid inputs each with the
 * error code it must give (and the MQTT statement id in its name), and a topic validation
 * and matching table (section 4.7).
 * Plain data only: no Node APIs, no test framework, no library import. The file is bundled
 * with run-vectors.ts and also runs inside the real XS engine. Bytes are hex strings
 * (spaces ignored); text fields are UTF-8 encoded by the runner.
 */

// Packet types (a local copy, so that this file needs nothing but plain JS).
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBACK = 9;
export const UNSUBACK = 11;
export const PINGRESP = 13;

/** n copies of one hex byte, e.g. rep("AB", 3) is "ABABAB". */
function rep(hexByte: string, count: number): string {
  return hexByte.repeat(count);
}

// ---------------------------------------------------------------- client -> server (encode)

export interface WillCall {
  topic: string;
  /** hex */
  payload: string;
  qos: number;
  retain: boolean;
}

/** One encoder call; strings are UTF-8 encoded by the runner, `*Hex` fields given as bytes. */
export type EncodeCall =
  | {
    packet: "connect"; clientId: string; clean: boolean; keepAlive: number;
    username?: string; password?: string; will?: WillCall;
    /** raw client id bytes (hex), used instead of clientId when present */
    clientIdHex?: string;
  }
  | { packet: "publish"; topic: string; payload: string; qos: number; retain: boolean; dup: boolean; packetId: number }
  | { packet: "puback" | "pubrec" | "pubrel" | "pubcomp"; packetId: number }
  | { packet: "subscribe"; packetId: number; filters: { filter: string; qos: number }[] }
  | { packet: "unsubscribe"; packetId: number; filters: string[] }
  | { packet: "pingreq" }
  | { packet: "disconnect" };

export interface EncodeVector {
  name: string;
  call: EncodeCall;
  /** the whole packet, hex */
  bytes: string;
}

const CONNECT_HEADER = "00 04 4D 51 54 54 04"; // protocol name "MQTT", level 4 [MQTT-3.1.2-1][MQTT-3.1.2-2]

export const encodeVectors: EncodeVector[] = [
  // CONNECT (section 3.1)
  {
    name: "CONNECT clean session, keepalive 60, client id \"a\"",
    call: { packet: "connect", clientId: "a", clean: true, keepAlive: 60 },
    bytes: "10 0D " + CONNECT_HEADER + " 02 00 3C 00 01 61",
  },
  {
    name: "CONNECT empty client id with clean session, keepalive 0 [MQTT-3.1.3-6]",
    call: { packet: "connect", clientId: "", clean: true, keepAlive: 0 },
    bytes: "10 0C " + CONNECT_HEADER + " 02 00 00 00 00",
  },
  {
    name: "CONNECT persistent session, keepalive 65535",
    call: { packet: "connect", clientId: "dev1", clean: false, keepAlive: 65_535 },
    bytes: "10 10 " + CONNECT_HEADER + " 00 FF FF 00 04 64 65 76 31",
  },
  {
    name: "CONNECT will QoS 0, not retained [MQTT-3.1.2-9]",
    call: { packet: "connect", clientId: "a", clean: true, keepAlive: 60, will: { topic: "t", payload: "01", qos: 0, retain: false } },
    bytes: "10 13 " + CONNECT_HEADER + " 06 00 3C 00 01 61 00 01 74 00 01 01",
  },
  {
    name: "CONNECT will QoS 1 retained [MQTT-3.1.2-14][MQTT-3.1.2-17]",
    call: { packet: "connect", clientId: "c1", clean: true, keepAlive: 30, will: { topic: "st/c1", payload: "6F6666", qos: 1, retain: true } },
    bytes: "10 1A " + CONNECT_HEADER + " 2E 00 1E 00 02 63 31 00 05 73 74 2F 63 31 00 03 6F 66 66",
  },
  {
    name: "CONNECT will QoS 2 with empty payload, user name and password, persistent session",
    call: {
      packet: "connect", clientId: "id", clean: false, keepAlive: 10, username: "u", password: "pw",
      will: { topic: "w", payload: "", qos: 2, retain: false },
    },
    bytes: "10 1A " + CONNECT_HEADER + " D4 00 0A 00 02 69 64 00 01 77 00 00 00 01 75 00 02 70 77",
  },
  {
    name: "CONNECT user name only [MQTT-3.1.2-19]",
    call: { packet: "connect", clientId: "x", clean: true, keepAlive: 60, username: "user" },
    bytes: "10 13 " + CONNECT_HEADER + " 82 00 3C 00 01 78 00 04 75 73 65 72",
  },
  {
    name: "CONNECT user name and password [MQTT-3.1.2-19][MQTT-3.1.2-21]",
    call: { packet: "connect", clientId: "x", clean: true, keepAlive: 60, username: "u", password: "secret" },
    bytes: "10 18 " + CONNECT_HEADER + " C2 00 3C 00 01 78 00 01 75 00 06 73 65 63 72 65 74",
  },
  {
    name: "CONNECT empty user name is still a user name, with a password",
    call: { packet: "connect", clientId: "x", clean: true, keepAlive: 60, username: "", password: "p" },
    bytes: "10 12 " + CONNECT_HEADER + " C2 00 3C 00 01 78 00 00 00 01 70",
  },
  {
    name: "CONNECT remaining length 128 (two-byte length field)",
    call: { packet: "connect", clientId: "c".repeat(116), clean: true, keepAlive: 60 },
    bytes: "10 80 01 " + CONNECT_HEADER + " 02 00 3C 00 74 " + rep("63", 116),
  },

  // PUBLISH (section 3.3)
  {
    name: "PUBLISH QoS 0",
    call: { packet: "publish", topic: "a/b", payload: "6869", qos: 0, retain: false, dup: false, packetId: 0 },
    bytes: "30 07 00 03 61 2F 62 68 69",
  },
  {
    name: "PUBLISH QoS 0 retained with an empty payload [MQTT-3.3.1-5]",
    call: { packet: "publish", topic: "a/b", payload: "", qos: 0, retain: true, dup: false, packetId: 0 },
    bytes: "31 05 00 03 61 2F 62",
  },
  {
    name: "PUBLISH QoS 1 packet id 1",
    call: { packet: "publish", topic: "t", payload: "0102", qos: 1, retain: false, dup: false, packetId: 1 },
    bytes: "32 07 00 01 74 00 01 01 02",
  },
  {
    name: "PUBLISH QoS 1 DUP retained [MQTT-3.3.1-1]",
    call: { packet: "publish", topic: "sensors/temp", payload: "32312E35", qos: 1, retain: true, dup: true, packetId: 0x1234 },
    bytes: "3B 14 00 0C 73 65 6E 73 6F 72 73 2F 74 65 6D 70 12 34 32 31 2E 35",
  },
  {
    name: "PUBLISH QoS 2 packet id 65535",
    call: { packet: "publish", topic: "x", payload: "7A", qos: 2, retain: false, dup: false, packetId: 65_535 },
    bytes: "34 06 00 01 78 FF FF 7A",
  },
  {
    name: "PUBLISH QoS 2 DUP with an empty payload",
    call: { packet: "publish", topic: "x", payload: "", qos: 2, retain: false, dup: true, packetId: 10 },
    bytes: "3C 05 00 01 78 00 0A",
  },
  {
    name: "PUBLISH QoS 2 DUP retained",
    call: { packet: "publish", topic: "ab", payload: "FF00", qos: 2, retain: true, dup: true, packetId: 3 },
    bytes: "3D 08 00 02 61 62 00 03 FF 00",
  },
  {
    name: "PUBLISH UTF-8 multibyte topic (2, 3 and 4 byte sequences) [MQTT-1.5.3-1]",
    call: { packet: "publish", topic: "\u00e9/\u65e5/\u{1D11E}", payload: "", qos: 0, retain: false, dup: false, packetId: 0 },
    bytes: "30 0D 00 0B C3 A9 2F E6 97 A5 2F F0 9D 84 9E",
  },
  {
    name: "PUBLISH remaining length 127 (largest one-byte length field)",
    call: { packet: "publish", topic: "t", payload: rep("AB", 124), qos: 0, retain: false, dup: false, packetId: 0 },
    bytes: "30 7F 00 01 74 " + rep("AB", 124),
  },
  {
    name: "PUBLISH remaining length 128 (smallest two-byte length field)",
    call: { packet: "publish", topic: "t", payload: rep("AB", 125), qos: 0, retain: false, dup: false, packetId: 0 },
    bytes: "30 80 01 00 01 74 " + rep("AB", 125),
  },
  {
    name: "PUBLISH remaining length 16383 (largest two-byte length field)",
    call: { packet: "publish", topic: "t", payload: rep("AB", 16_380), qos: 0, retain: false, dup: false, packetId: 0 },
    bytes: "30 FF 7F 00 01 74 " + rep("AB", 16_380),
  },
  {
    name: "PUBLISH remaining length 16384 (smallest three-byte length field)",
    call: { packet: "publish", topic: "t", payload: rep("AB", 16_379), qos: 1, retain: false, dup: false, packetId: 2 },
    bytes: "32 80 80 01 00 01 74 00 02 " + rep("AB", 16_379),
  },

  // acknowledgements (sections 3.4 to 3.7)
  { name: "PUBACK packet id 1", call: { packet: "puback", packetId: 1 }, bytes: "40 02 00 01" },
  { name: "PUBREC packet id 258", call: { packet: "pubrec", packetId: 258 }, bytes: "50 02 01 02" },
  { name: "PUBREL packet id 65535, flags 0010 [MQTT-3.6.1-1]", call: { packet: "pubrel", packetId: 65_535 }, bytes: "62 02 FF FF" },
  { name: "PUBCOMP packet id 256", call: { packet: "pubcomp", packetId: 256 }, bytes: "70 02 01 00" },

  // SUBSCRIBE (section 3.8) and UNSUBSCRIBE (section 3.10)
  {
    name: "SUBSCRIBE three filters with QoS 0, 1, 2, flags 0010 [MQTT-3.8.1-1]",
    call: { packet: "subscribe", packetId: 10, filters: [{ filter: "a/b", qos: 0 }, { filter: "c/+", qos: 1 }, { filter: "#", qos: 2 }] },
    bytes: "82 12 00 0A 00 03 61 2F 62 00 00 03 63 2F 2B 01 00 01 23 02",
  },
  {
    name: "SUBSCRIBE one filter sport/tennis/+",
    call: { packet: "subscribe", packetId: 1, filters: [{ filter: "sport/tennis/+", qos: 1 }] },
    bytes: "82 13 00 01 00 0E 73 70 6F 72 74 2F 74 65 6E 6E 69 73 2F 2B 01",
  },
  {
    name: "SUBSCRIBE $SYS/# and a UTF-8 filter",
    call: { packet: "subscribe", packetId: 0xBEEF, filters: [{ filter: "$SYS/#", qos: 0 }, { filter: "\u00fc/+", qos: 1 }] },
    bytes: "82 12 BE EF 00 06 24 53 59 53 2F 23 00 00 04 C3 BC 2F 2B 01",
  },
  {
    name: "SUBSCRIBE remaining length 135 (two-byte length field)",
    call: { packet: "subscribe", packetId: 1, filters: [{ filter: "f".repeat(130), qos: 0 }] },
    bytes: "82 87 01 00 01 00 82 " + rep("66", 130) + " 00",
  },
  {
    name: "UNSUBSCRIBE three filters, flags 0010 [MQTT-3.10.1-1]",
    call: { packet: "unsubscribe", packetId: 11, filters: ["a/b", "c/+", "#"] },
    bytes: "A2 0F 00 0B 00 03 61 2F 62 00 03 63 2F 2B 00 01 23",
  },
  {
    name: "UNSUBSCRIBE one filter",
    call: { packet: "unsubscribe", packetId: 65_535, filters: ["sport/+/player1"] },
    bytes: "A2 13 FF FF 00 0F 73 70 6F 72 74 2F 2B 2F 70 6C 61 79 65 72 31",
  },

  // PINGREQ (section 3.12), DISCONNECT (section 3.14)
  { name: "PINGREQ", call: { packet: "pingreq" }, bytes: "C0 00" },
  { name: "DISCONNECT", call: { packet: "disconnect" }, bytes: "E0 00" },
];

/** An encoder call that must be refused with `code`, leaving the buffer untouched. */
export interface EncodeErrorVector {
  name: string;
  call: EncodeCall;
  code: string;
  /** size of the buffer given to the encoder (default 256) */
  bufferSize?: number;
  /** offset given to the encoder (default 0) */
  offset?: number;
}

const publishCall = (topic: string, qos: number, packetId: number, dup = false): EncodeCall =>
  ({ packet: "publish", topic, payload: "01", qos, retain: false, dup, packetId });
const subscribeCall = (...filters: string[]): EncodeCall =>
  ({ packet: "subscribe", packetId: 1, filters: filters.map((filter) => ({ filter, qos: 0 })) });

export const encodeErrorVectors: EncodeErrorVector[] = [
  // topic names [MQTT-4.7.1-1][MQTT-4.7.3-1][MQTT-4.7.3-2]
  { name: "PUBLISH topic with '+' [MQTT-4.7.1-1][MQTT-3.3.2-2]", call: publishCall("a/+", 0, 0), code: "topic-invalid" },
  { name: "PUBLISH topic with '#' [MQTT-4.7.1-1][MQTT-3.3.2-2]", call: publishCall("a/#", 0, 0), code: "topic-invalid" },
  { name: "PUBLISH topic '+' inside a level [MQTT-4.7.1-1]", call: publishCall("a+b", 0, 0), code: "topic-invalid" },
  { name: "PUBLISH empty topic [MQTT-4.7.3-1]", call: publishCall("", 1, 1), code: "topic-invalid" },
  { name: "PUBLISH topic with U+0000 [MQTT-4.7.3-2][MQTT-1.5.3-2]", call: publishCall("a\u0000b", 0, 0), code: "topic-invalid" },
  { name: "PUBLISH topic of 65536 bytes [MQTT-4.7.3-3]", call: publishCall("t".repeat(65_536), 0, 0), code: "topic-invalid" },
  // topic filters [MQTT-4.7.1-2][MQTT-4.7.1-3][MQTT-4.7.3-1]
  { name: "SUBSCRIBE filter sport/tennis# ('#' not alone in its level) [MQTT-4.7.1-2]", call: subscribeCall("sport/tennis#"), code: "filter-invalid" },
  { name: "SUBSCRIBE filter sport/tennis/#/ranking ('#' not last) [MQTT-4.7.1-2]", call: subscribeCall("sport/tennis/#/ranking"), code: "filter-invalid" },
  { name: "SUBSCRIBE filter #/ [MQTT-4.7.1-2]", call: subscribeCall("#/"), code: "filter-invalid" },
  { name: "SUBSCRIBE filter sport+ ('+' not alone in its level) [MQTT-4.7.1-3]", call: subscribeCall("sport+"), code: "filter-invalid" },
  { name: "SUBSCRIBE filter a/+b [MQTT-4.7.1-3]", call: subscribeCall("a/+b"), code: "filter-invalid" },
  { name: "SUBSCRIBE empty filter [MQTT-4.7.3-1]", call: subscribeCall(""), code: "filter-invalid" },
  { name: "SUBSCRIBE filter with U+0000 [MQTT-4.7.3-2]", call: subscribeCall("a/\u0000"), code: "filter-invalid" },
  { name: "SUBSCRIBE second of two filters invalid [MQTT-4.7.1-3]", call: subscribeCall("a/b", "x/y+"), code: "filter-invalid" },
  { name: "SUBSCRIBE with no filter [MQTT-3.8.3-3]", call: { packet: "subscribe", packetId: 1, filters: [] }, code: "argument-invalid" },
  { name: "UNSUBSCRIBE filter a/#/b [MQTT-4.7.1-2]", call: { packet: "unsubscribe", packetId: 1, filters: ["a/#/b"] }, code: "filter-invalid" },
  { name: "UNSUBSCRIBE filter +a [MQTT-4.7.1-3]", call: { packet: "unsubscribe", packetId: 1, filters: ["ok", "+a"] }, code: "filter-invalid" },
  { name: "UNSUBSCRIBE with no filter [MQTT-3.10.3-2]", call: { packet: "unsubscribe", packetId: 1, filters: [] }, code: "argument-invalid" },
  // QoS [MQTT-3.3.1-4]
  { name: "PUBLISH QoS 3 [MQTT-3.3.1-4]", call: publishCall("t", 3, 1), code: "qos-invalid" },
  { name: "PUBLISH QoS -1", call: publishCall("t", -1, 1), code: "qos-invalid" },
  { name: "PUBLISH QoS 1.5", call: publishCall("t", 1.5, 1), code: "qos-invalid" },
  { name: "SUBSCRIBE QoS 3 [MQTT-3.8.3-4]", call: { packet: "subscribe", packetId: 1, filters: [{ filter: "a", qos: 3 }] }, code: "qos-invalid" },
  {
    name: "CONNECT will QoS 3 [MQTT-3.1.2-14]",
    call: { packet: "connect", clientId: "a", clean: true, keepAlive: 60, will: { topic: "t", payload: "", qos: 3, retain: false } },
    code: "qos-invalid",
  },
  {
    name: "CONNECT will topic with a wildcard [MQTT-4.7.1-1]",
    call: { packet: "connect", clientId: "a", clean: true, keepAlive: 60, will: { topic: "t/#", payload: "", qos: 0, retain: false } },
    code: "topic-invalid",
  },
  // DUP [MQTT-3.3.1-2]
  { name: "PUBLISH QoS 0 with DUP [MQTT-3.3.1-2]", call: publishCall("t", 0, 0, true), code: "argument-invalid" },
  // packet identifiers [MQTT-2.3.1-1]
  { name: "PUBLISH QoS 1 packet id 0 [MQTT-2.3.1-1]", call: publishCall("t", 1, 0), code: "packet-id-invalid" },
  { name: "PUBLISH QoS 2 packet id 65536 [MQTT-2.3.1-1]", call: publishCall("t", 2, 65_536), code: "packet-id-invalid" },
  { name: "PUBLISH QoS 1 packet id 1.5", call: publishCall("t", 1, 1.5), code: "packet-id-invalid" },
  { name: "PUBACK packet id 0 [MQTT-2.3.1-1]", call: { packet: "puback", packetId: 0 }, code: "packet-id-invalid" },
  { name: "PUBREC packet id 65536 [MQTT-2.3.1-1]", call: { packet: "pubrec", packetId: 65_536 }, code: "packet-id-invalid" },
  { name: "PUBREL packet id 0 [MQTT-2.3.1-1]", call: { packet: "pubrel", packetId: 0 }, code: "packet-id-invalid" },
  { name: "PUBCOMP packet id -1 [MQTT-2.3.1-1]", call: { packet: "pubcomp", packetId: -1 }, code: "packet-id-invalid" },
  { name: "SUBSCRIBE packet id 0 [MQTT-2.3.1-1]", call: { packet: "subscribe", packetId: 0, filters: [{ filter: "a", qos: 0 }] }, code: "packet-id-invalid" },
  { name: "UNSUBSCRIBE packet id 65536 [MQTT-2.3.1-1]", call: { packet: "unsubscribe", packetId: 65_536, filters: ["a"] }, code: "packet-id-invalid" },
  // CONNECT fields
  {
    name: "CONNECT password without user name [MQTT-3.1.2-22]",
    call: { packet: "connect", clientId: "a", clean: true, keepAlive: 60, password: "pw" },
    code: "password-without-username",
  },
  {
    name: "CONNECT empty client id without clean session [MQTT-3.1.3-7]",
    call: { packet: "connect", clientId: "", clean: false, keepAlive: 60 },
    code: "client-id-invalid",
  },
  {
    name: "CONNECT client id that is not UTF-8 (overlong) [MQTT-3.1.3-4]",
    call: { packet: "connect", clientId: "", clientIdHex: "C0 AF", clean: true, keepAlive: 60 },
    code: "client-id-invalid",
  },
  {
    name: "CONNECT user name with U+0000 [MQTT-1.5.3-2][MQTT-3.1.3-11]",
    call: { packet: "connect", clientId: "a", clean: true, keepAlive: 60, username: "u\u0000" },
    code: "argument-invalid",
  },
  { name: "CONNECT keepalive 65536", call: { packet: "connect", clientId: "a", clean: true, keepAlive: 65_536 }, code: "keepalive-invalid" },
  { name: "CONNECT keepalive -1", call: { packet: "connect", clientId: "a", clean: true, keepAlive: -1 }, code: "keepalive-invalid" },
  // buffer too small: nothing is written
  { name: "PINGREQ into a 1-byte buffer", call: { packet: "pingreq" }, code: "buffer-too-small", bufferSize: 1 },
  { name: "DISCONNECT at an offset 1 byte short", call: { packet: "disconnect" }, code: "buffer-too-small", bufferSize: 10, offset: 9 },
  { name: "PUBACK into a 3-byte buffer", call: { packet: "puback", packetId: 1 }, code: "buffer-too-small", bufferSize: 3 },
  { name: "PUBLISH one byte larger than the buffer", call: publishCall("a/b", 1, 1), code: "buffer-too-small", bufferSize: 9 },
  { name: "PUBLISH at an offset past the buffer's end", call: publishCall("a/b", 0, 0), code: "buffer-too-small", bufferSize: 64, offset: 65 },
  {
    name: "CONNECT one byte larger than the buffer",
    call: { packet: "connect", clientId: "a", clean: true, keepAlive: 60, username: "u", password: "secret" },
    code: "buffer-too-small", bufferSize: 25,
  },
  { name: "SUBSCRIBE one byte larger than the buffer", call: subscribeCall("a/b", "c/+"), code: "buffer-too-small", bufferSize: 15 },
  {
    name: "UNSUBSCRIBE one byte larger than the buffer",
    call: { packet: "unsubscribe", packetId: 11, filters: ["a/b", "c/+", "#"] },
    code: "buffer-too-small", bufferSize: 16,
  },
];

// ---------------------------------------------------------------- server -> client (decode)

/** The fields the decoder must report; absent fields are not checked. */
export interface ExpectedPacket {
  type: number;
  flags?: number;
  remainingLength?: number;
  packetId?: number;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  /** text, compared as its UTF-8 bytes */
  topic?: string;
  /** hex */
  payload?: string;
  sessionPresent?: boolean;
  returnCode?: number;
  /** SUBACK return codes, hex */
  codes?: string;
}

export interface DecodeVector {
  name: string;
  bytes: string;
  packet: ExpectedPacket;
}

const publish = (flags: number, remainingLength: number, qos: number, packetId: number, topic: string, payload: string): ExpectedPacket =>
  ({ type: PUBLISH, flags, remainingLength, qos, retain: (flags & 1) === 1, dup: (flags & 8) === 8, packetId, topic, payload });
const ack = (type: number, packetId: number): ExpectedPacket =>
  ({ type, flags: type === PUBREL ? 2 : 0, remainingLength: 2, packetId });
const connack = (sessionPresent: boolean, returnCode: number): ExpectedPacket =>
  ({ type: CONNACK, flags: 0, remainingLength: 2, sessionPresent, returnCode });

export const decodeVectors: DecodeVector[] = [
  // CONNACK (section 3.2)
  { name: "CONNACK accepted, no session present", bytes: "20 02 00 00", packet: connack(false, 0) },
  { name: "CONNACK accepted, session present [MQTT-3.2.2-2]", bytes: "20 02 01 00", packet: connack(true, 0) },
  { name: "CONNACK return code 1: unacceptable protocol version [MQTT-3.2.2-4]", bytes: "20 02 00 01", packet: connack(false, 1) },
  { name: "CONNACK return code 2: identifier rejected [MQTT-3.2.2-4]", bytes: "20 02 00 02", packet: connack(false, 2) },
  { name: "CONNACK return code 3: server unavailable [MQTT-3.2.2-4]", bytes: "20 02 00 03", packet: connack(false, 3) },
  { name: "CONNACK return code 4: bad user name or password [MQTT-3.2.2-4]", bytes: "20 02 00 04", packet: connack(false, 4) },
  { name: "CONNACK return code 5: not authorized [MQTT-3.2.2-4]", bytes: "20 02 00 05", packet: connack(false, 5) },

  // PUBLISH (section 3.3)
  { name: "PUBLISH QoS 0", bytes: "30 07 00 03 61 2F 62 68 69", packet: publish(0x0, 7, 0, 0, "a/b", "6869") },
  { name: "PUBLISH QoS 0 retained, empty payload [MQTT-3.3.1-5]", bytes: "31 05 00 03 61 2F 62", packet: publish(0x1, 5, 0, 0, "a/b", "") },
  { name: "PUBLISH QoS 1", bytes: "32 07 00 01 74 00 01 01 02", packet: publish(0x2, 7, 1, 1, "t", "0102") },
  {
    name: "PUBLISH QoS 1 DUP retained [MQTT-3.3.1-1]",
    bytes: "3B 14 00 0C 73 65 6E 73 6F 72 73 2F 74 65 6D 70 12 34 32 31 2E 35",
    packet: publish(0xB, 20, 1, 0x1234, "sensors/temp", "32312E35"),
  },
  { name: "PUBLISH QoS 2 packet id 65535", bytes: "34 06 00 01 78 FF FF 7A", packet: publish(0x4, 6, 2, 65_535, "x", "7A") },
  { name: "PUBLISH QoS 2 DUP, empty payload", bytes: "3C 05 00 01 78 00 0A", packet: publish(0xC, 5, 2, 10, "x", "") },
  { name: "PUBLISH QoS 2 DUP retained", bytes: "3D 08 00 02 61 62 00 03 FF 00", packet: publish(0xD, 8, 2, 3, "ab", "FF00") },
  {
    name: "PUBLISH UTF-8 multibyte topic (2, 3 and 4 byte sequences) [MQTT-1.5.3-1]",
    bytes: "30 0D 00 0B C3 A9 2F E6 97 A5 2F F0 9D 84 9E",
    packet: publish(0x0, 13, 0, 0, "\u00e9/\u65e5/\u{1D11E}", ""),
  },
  { name: "PUBLISH QoS 1 UTF-8 topic and payload", bytes: "32 08 00 02 C3 BC 00 02 C3 9F", packet: publish(0x2, 8, 1, 2, "\u00fc", "C39F") },
  {
    name: "PUBLISH $SYS topic",
    bytes: "30 16 00 12 24 53 59 53 2F 62 72 6F 6B 65 72 2F 75 70 74 69 6D 65 31 32",
    packet: publish(0x0, 22, 0, 0, "$SYS/broker/uptime", "3132"),
  },
  {
    name: "PUBLISH payload is binary: NUL and bytes that are not UTF-8 are allowed",
    bytes: "30 07 00 01 74 00 C0 FF 23",
    packet: publish(0x0, 7, 0, 0, "t", "00C0FF23"),
  },
  { name: "PUBLISH topic \"/\"", bytes: "30 04 00 01 2F 41", packet: publish(0x0, 4, 0, 0, "/", "41") },
  {
    name: "PUBLISH remaining length 127 (largest one-byte length field)",
    bytes: "30 7F 00 01 74 " + rep("AB", 124),
    packet: publish(0x0, 127, 0, 0, "t", rep("AB", 124)),
  },
  {
    name: "PUBLISH remaining length 128 (smallest two-byte length field)",
    bytes: "30 80 01 00 01 74 " + rep("AB", 125),
    packet: publish(0x0, 128, 0, 0, "t", rep("AB", 125)),
  },
  {
    name: "PUBLISH remaining length 16383 (largest two-byte length field)",
    bytes: "32 FF 7F 00 01 74 00 05 " + rep("CD", 16_378),
    packet: publish(0x2, 16_383, 1, 5, "t", rep("CD", 16_378)),
  },
  {
    name: "PUBLISH remaining length 16384 (smallest three-byte length field)",
    bytes: "30 80 80 01 00 01 74 " + rep("AB", 16_381),
    packet: publish(0x0, 16_384, 0, 0, "t", rep("AB", 16_381)),
  },

  // acknowledgements
  { name: "PUBACK (section 3.4)", bytes: "40 02 00 01", packet: ack(PUBACK, 1) },
  { name: "PUBREC (section 3.5)", bytes: "50 02 12 34", packet: ack(PUBREC, 0x1234) },
  { name: "PUBREL, flags 0010 [MQTT-3.6.1-1]", bytes: "62 02 00 07", packet: ack(PUBREL, 7) },
  { name: "PUBCOMP (section 3.7)", bytes: "70 02 FF FF", packet: ack(PUBCOMP, 65_535) },

  // SUBACK (section 3.9), UNSUBACK (section 3.11), PINGRESP (section 3.13)
  {
    name: "SUBACK codes 0, 1, 2 and 0x80 failure [MQTT-3.9.3-1]",
    bytes: "90 06 00 01 00 01 02 80",
    packet: { type: SUBACK, flags: 0, remainingLength: 6, packetId: 1, codes: "00010280" },
  },
  { name: "SUBACK one failure code 0x80", bytes: "90 03 00 02 80", packet: { type: SUBACK, flags: 0, remainingLength: 3, packetId: 2, codes: "80" } },
  { name: "SUBACK one code, packet id 0xABCD", bytes: "90 03 AB CD 01", packet: { type: SUBACK, flags: 0, remainingLength: 3, packetId: 0xABCD, codes: "01" } },
  { name: "UNSUBACK (section 3.11)", bytes: "B0 02 00 0B", packet: ack(UNSUBACK, 11) },
  { name: "PINGRESP (section 3.13)", bytes: "D0 00", packet: { type: PINGRESP, flags: 0, remainingLength: 0 } },
];

/** The stream must make next() throw an MqttError with `code`, and the decoder must then decode a new stream. */
export interface DecodeErrorVector {
  name: string;
  bytes: string;
  code: string;
  /** receive buffer size (default 64) */
  receiveBufferSize?: number;
}

export const decodeErrorVectors: DecodeErrorVector[] = [
  // reserved fixed-header flags [MQTT-2.2.2-1][MQTT-2.2.2-2]
  { name: "CONNACK with flags 0001 [MQTT-2.2.2-1][MQTT-2.2.2-2]", bytes: "21 02 00 00", code: "reserved-flags" },
  { name: "PUBACK with flags 0010 [MQTT-2.2.2-1][MQTT-2.2.2-2]", bytes: "42 02 00 01", code: "reserved-flags" },
  { name: "PUBREC with flags 1000 [MQTT-2.2.2-1][MQTT-2.2.2-2]", bytes: "58 02 00 01", code: "reserved-flags" },
  { name: "PUBREL with flags 0000 [MQTT-3.6.1-1][MQTT-2.2.2-2]", bytes: "60 02 00 01", code: "reserved-flags" },
  { name: "PUBREL with flags 0011 [MQTT-3.6.1-1][MQTT-2.2.2-2]", bytes: "63 02 00 01", code: "reserved-flags" },
  { name: "PUBCOMP with flags 0001 [MQTT-2.2.2-1][MQTT-2.2.2-2]", bytes: "71 02 00 01", code: "reserved-flags" },
  { name: "SUBACK with flags 0010 [MQTT-2.2.2-1][MQTT-2.2.2-2]", bytes: "92 03 00 01 00", code: "reserved-flags" },
  { name: "UNSUBACK with flags 0100 [MQTT-2.2.2-1][MQTT-2.2.2-2]", bytes: "B4 02 00 01", code: "reserved-flags" },
  { name: "PINGRESP with flags 1111 [MQTT-2.2.2-1][MQTT-2.2.2-2]", bytes: "DF 00", code: "reserved-flags" },

  // remaining length
  { name: "PUBLISH remaining length of 5 bytes (section 2.2.3)", bytes: "30 FF FF FF FF 7F", code: "length-too-long" },
  { name: "PINGRESP remaining length of 5 bytes (section 2.2.3)", bytes: "D0 80 80 80 80 00", code: "length-too-long" },
  { name: "PUBACK remaining length 3 (section 3.4.1)", bytes: "40 03 00 01 00", code: "length-mismatch" },
  { name: "CONNACK remaining length 3 (section 3.2.1)", bytes: "20 03 00 00 00", code: "length-mismatch" },
  { name: "UNSUBACK remaining length 1 (section 3.11.1)", bytes: "B0 01 00", code: "length-mismatch" },
  { name: "PINGRESP remaining length 1 (section 3.13.1)", bytes: "D0 01 00", code: "length-mismatch" },
  { name: "SUBACK with no return code [MQTT-3.9.3-1]", bytes: "90 02 00 01", code: "length-mismatch" },
  { name: "PUBLISH remaining length 2 (no topic) [MQTT-3.3.2-1]", bytes: "30 02 00 01", code: "length-mismatch" },
  { name: "PUBLISH topic length beyond the packet [MQTT-3.3.2-1]", bytes: "30 05 00 09 61 62 63", code: "length-mismatch" },
  { name: "PUBLISH QoS 1 with no room for the packet id [MQTT-2.3.1-1]", bytes: "32 04 00 01 74 00", code: "length-mismatch" },

  // PUBLISH flags [MQTT-3.3.1-4][MQTT-3.3.1-2]
  { name: "PUBLISH QoS 3 [MQTT-3.3.1-4]", bytes: "36 05 00 01 74 00 01", code: "qos-invalid" },
  { name: "PUBLISH QoS 3 with DUP and retain [MQTT-3.3.1-4]", bytes: "3F 05 00 01 74 00 01", code: "qos-invalid" },
  { name: "PUBLISH QoS 0 with DUP [MQTT-3.3.1-2]", bytes: "38 04 00 01 74 00", code: "dup-invalid" },

  // packet identifier 0 [MQTT-2.3.1-1]
  { name: "PUBLISH QoS 1 packet id 0 [MQTT-2.3.1-1]", bytes: "32 05 00 01 74 00 00", code: "packet-id-zero" },
  { name: "PUBLISH QoS 2 packet id 0 [MQTT-2.3.1-1]", bytes: "34 06 00 01 74 00 00 41", code: "packet-id-zero" },
  { name: "PUBACK packet id 0 [MQTT-2.3.1-1]", bytes: "40 02 00 00", code: "packet-id-zero" },
  { name: "PUBREC packet id 0 [MQTT-2.3.1-1]", bytes: "50 02 00 00", code: "packet-id-zero" },
  { name: "PUBREL packet id 0 [MQTT-2.3.1-1]", bytes: "62 02 00 00", code: "packet-id-zero" },
  { name: "PUBCOMP packet id 0 [MQTT-2.3.1-1]", bytes: "70 02 00 00", code: "packet-id-zero" },
  { name: "SUBACK packet id 0 [MQTT-2.3.1-1]", bytes: "90 03 00 00 00", code: "packet-id-zero" },
  { name: "UNSUBACK packet id 0 [MQTT-2.3.1-1]", bytes: "B0 02 00 00", code: "packet-id-zero" },
  {
    name: "oversize PUBLISH QoS 1 packet id 0 [MQTT-2.3.1-1]",
    bytes: "32 11 00 03 61 2F 62 00 00 " + rep("30", 10),
    code: "packet-id-zero", receiveBufferSize: 10,
  },
  {
    name: "oversize PUBLISH QoS 1 whose packet id runs past the packet [MQTT-2.3.1-1]",
    bytes: "32 11 00 0E 61 62 63 64 65 66 67 68 69 6A 6B 6C 6D 6E 0A",
    code: "length-mismatch", receiveBufferSize: 10,
  },
  {
    name: "oversize PUBLISH QoS 0 topic length beyond the packet [MQTT-3.3.2-1]",
    bytes: "30 11 00 20 61 62 63 64 65 66 67 68 69 6A 6B 6C 6D 6E 6F",
    code: "length-mismatch", receiveBufferSize: 10,
  },
  {
    name: "oversize PUBLISH QoS 1 empty topic [MQTT-4.7.3-1]",
    bytes: "32 11 00 00 00 05 " + rep("61", 13),
    code: "topic-empty", receiveBufferSize: 10,
  },

  // topic strings [MQTT-1.5.3-1][MQTT-1.5.3-2][MQTT-3.3.2-2][MQTT-4.7.3-1]
  { name: "PUBLISH topic overlong 2-byte '/' (C0 AF) [MQTT-1.5.3-1]", bytes: "30 04 00 02 C0 AF", code: "utf8-invalid" },
  { name: "PUBLISH topic overlong 3-byte (E0 80 AF) [MQTT-1.5.3-1]", bytes: "30 05 00 03 E0 80 AF", code: "utf8-invalid" },
  { name: "PUBLISH topic overlong 4-byte (F0 80 80 AF) [MQTT-1.5.3-1]", bytes: "30 06 00 04 F0 80 80 AF", code: "utf8-invalid" },
  { name: "PUBLISH topic UTF-8 encoded surrogate U+D800 (ED A0 80) [MQTT-1.5.3-1]", bytes: "30 05 00 03 ED A0 80", code: "utf8-invalid" },
  { name: "PUBLISH topic UTF-8 encoded surrogate U+DFFF (ED BF BF) [MQTT-1.5.3-1]", bytes: "30 05 00 03 ED BF BF", code: "utf8-invalid" },
  { name: "PUBLISH topic truncated 3-byte sequence, rest in the payload [MQTT-1.5.3-1]", bytes: "30 05 00 02 E6 97 A5", code: "utf8-invalid" },
  { name: "PUBLISH topic truncated 2-byte sequence at its end [MQTT-1.5.3-1]", bytes: "30 04 00 02 61 C3", code: "utf8-invalid" },
  { name: "PUBLISH topic above U+10FFFF (F4 90 80 80) [MQTT-1.5.3-1]", bytes: "30 06 00 04 F4 90 80 80", code: "utf8-invalid" },
  { name: "PUBLISH topic with a lone continuation byte [MQTT-1.5.3-1]", bytes: "30 04 00 02 61 80", code: "utf8-invalid" },
  { name: "PUBLISH topic with byte FF [MQTT-1.5.3-1]", bytes: "30 03 00 01 FF", code: "utf8-invalid" },
  { name: "PUBLISH topic with U+0000 [MQTT-1.5.3-2]", bytes: "30 05 00 03 61 00 62", code: "utf8-null" },
  { name: "PUBLISH QoS 1 topic with U+0000 [MQTT-1.5.3-2]", bytes: "32 06 00 02 00 61 00 01", code: "utf8-null" },
  { name: "PUBLISH topic with '+' [MQTT-3.3.2-2]", bytes: "30 05 00 03 61 2F 2B", code: "topic-wildcard" },
  { name: "PUBLISH topic with '#' [MQTT-3.3.2-2]", bytes: "30 05 00 03 61 2F 23", code: "topic-wildcard" },
  { name: "PUBLISH topic '+' [MQTT-3.3.2-2]", bytes: "30 04 00 01 2B 41", code: "topic-wildcard" },
  { name: "PUBLISH empty topic [MQTT-4.7.3-1]", bytes: "30 03 00 00 41", code: "topic-empty" },
  { name: "PUBLISH QoS 1 empty topic [MQTT-4.7.3-1]", bytes: "32 05 00 00 00 01 41", code: "topic-empty" },

  // SUBACK and CONNACK contents [MQTT-3.9.3-2][MQTT-3.2.2-4] (section 3.2.2.1)
  { name: "SUBACK return code 3 [MQTT-3.9.3-2]", bytes: "90 03 00 01 03", code: "suback-code-invalid" },
  { name: "SUBACK return code 0x81 after valid codes [MQTT-3.9.3-2]", bytes: "90 05 00 01 00 80 81", code: "suback-code-invalid" },
  { name: "CONNACK reserved acknowledge flag bit 1 (section 3.2.2.1)", bytes: "20 02 02 00", code: "connack-flags-invalid" },
  { name: "CONNACK reserved acknowledge flag bit 7 (section 3.2.2.1)", bytes: "20 02 80 00", code: "connack-flags-invalid" },
  { name: "CONNACK unknown return code 6 (section 3.2.2.3)", bytes: "20 02 00 06", code: "connack-code-unknown" },
  { name: "CONNACK unknown return code 255 (section 3.2.2.3)", bytes: "20 02 00 FF", code: "connack-code-unknown" },
  { name: "CONNACK session present with refusal code 5 [MQTT-3.2.2-4]", bytes: "20 02 01 05", code: "connack-flags-invalid" },
  { name: "CONNACK session present with refusal code 1 [MQTT-3.2.2-4]", bytes: "20 02 01 01", code: "connack-flags-invalid" },

  // packet types a server never sends
  { name: "CONNECT from the server (section 2.2.1: client to server only)", bytes: "10 0D " + CONNECT_HEADER + " 02 00 3C 00 01 61", code: "packet-type-invalid" },
  { name: "SUBSCRIBE from the server (section 2.2.1: client to server only)", bytes: "82 06 00 01 00 01 61 00", code: "packet-type-invalid" },
  { name: "UNSUBSCRIBE from the server (section 2.2.1: client to server only)", bytes: "A2 05 00 01 00 01 61", code: "packet-type-invalid" },
  { name: "PINGREQ from the server (section 2.2.1: client to server only)", bytes: "C0 00", code: "packet-type-invalid" },
  { name: "DISCONNECT from the server (section 2.2.1: client to server only)", bytes: "E0 00", code: "packet-type-invalid" },
  { name: "reserved packet type 0 (section 2.2.1)", bytes: "00 00", code: "packet-type-invalid" },
  { name: "reserved packet type 15 (section 2.2.1)", bytes: "F0 00", code: "packet-type-invalid" },
];

/**
 * A packet larger than the receive buffer: skipped and reported as OVERSIZE (with its packet
 * id for a QoS > 0 PUBLISH, so that it can be acknowledged), then `next` decodes normally.
 */
export interface OversizeVector {
  name: string;
  receiveBufferSize: number;
  bytes: string;
  oversize: { type: number; remainingLength: number; qos?: number; packetId?: number };
  next: DecodeVector;
}

export const oversizeVectors: OversizeVector[] = [
  {
    name: "PUBLISH QoS 1 of 17 bytes into an 8-byte receive buffer, then PUBACK",
    receiveBufferSize: 8,
    bytes: "32 11 00 03 61 2F 62 01 02 30 31 32 33 34 35 36 37 38 39",
    oversize: { type: PUBLISH, remainingLength: 17, qos: 1, packetId: 0x0102 },
    next: { name: "PUBACK", bytes: "40 02 00 05", packet: ack(PUBACK, 5) },
  },
  {
    name: "PUBLISH QoS 0 of 20 bytes into an 8-byte receive buffer, then PINGRESP",
    receiveBufferSize: 8,
    bytes: "30 14 00 03 61 2F 62 " + rep("AA", 15),
    oversize: { type: PUBLISH, remainingLength: 20, qos: 0, packetId: 0 },
    next: { name: "PINGRESP", bytes: "D0 00", packet: { type: PINGRESP, remainingLength: 0 } },
  },
  {
    name: "PUBLISH QoS 1 whose topic is longer than the receive buffer, then PUBLISH QoS 0",
    receiveBufferSize: 8,
    bytes: "32 11 00 0C 61 62 63 64 65 66 67 68 69 6A 6B 6C 0A 0B 7A",
    oversize: { type: PUBLISH, remainingLength: 17, qos: 1, packetId: 0x0A0B },
    next: { name: "PUBLISH QoS 0", bytes: "30 05 00 01 74 68 69", packet: publish(0x0, 5, 0, 0, "t", "6869") },
  },
  {
    name: "PUBLISH QoS 2 DUP retained of 10 bytes into an 8-byte receive buffer, then UNSUBACK",
    receiveBufferSize: 8,
    bytes: "3D 0A 00 01 78 00 2A 01 02 03 04 05",
    oversize: { type: PUBLISH, remainingLength: 10, qos: 2, packetId: 42 },
    next: { name: "UNSUBACK", bytes: "B0 02 00 0B", packet: ack(UNSUBACK, 11) },
  },
  {
    name: "PUBLISH QoS 1 of 200 bytes (two-byte length) into a 64-byte receive buffer, then PUBREL",
    receiveBufferSize: 64,
    bytes: "32 C8 01 00 03 61 2F 62 00 09 " + rep("5A", 193),
    oversize: { type: PUBLISH, remainingLength: 200, qos: 1, packetId: 9 },
    next: { name: "PUBREL", bytes: "62 02 00 09", packet: ack(PUBREL, 9) },
  },
  {
    name: "PUBLISH QoS 1 with a 300-byte topic (two-byte topic length) into a 64-byte receive buffer, then PUBACK",
    receiveBufferSize: 64,
    bytes: "32 B2 02 01 2C " + rep("74", 300) + " 01 02 AA BB",
    oversize: { type: PUBLISH, remainingLength: 306, qos: 1, packetId: 0x0102 },
    next: { name: "PUBACK", bytes: "40 02 01 02", packet: ack(PUBACK, 0x0102) },
  },
  {
    name: "SUBACK of 6 bytes into a 4-byte receive buffer, then CONNACK",
    receiveBufferSize: 4,
    bytes: "90 06 00 01 00 01 02 80",
    oversize: { type: SUBACK, remainingLength: 6 },
    next: { name: "CONNACK", bytes: "20 02 01 00", packet: connack(true, 0) },
  },
];

// ---------------------------------------------------------------- topics (section 4.7)

/** A topic name or filter given as text or, for bytes that are not UTF-8, as hex. */
export type TopicText = { text: string } | { hex: string };

export interface TopicNameVector { name: TopicText; valid: boolean; why: string }
export interface TopicFilterVector { filter: TopicText; valid: boolean; why: string }
export interface TopicMatchVector { filter: string; topic: string; matches: boolean; why: string }

export const topicNameVectors: TopicNameVector[] = [
  { name: { text: "a" }, valid: true, why: "one level" },
  { name: { text: "/" }, valid: true, why: "two empty levels (section 4.7.3)" },
  { name: { text: "sport/tennis/player1" }, valid: true, why: "three levels" },
  { name: { text: "a//b" }, valid: true, why: "an empty level in the middle" },
  { name: { text: "Accounts payable" }, valid: true, why: "spaces are allowed (section 4.7.3)" },
  { name: { text: "$SYS/monitor/Clients" }, valid: true, why: "a $ topic is a valid name" },
  { name: { text: "\u00e9/\u65e5/\u{1D11E}" }, valid: true, why: "UTF-8 multibyte characters" },
  { name: { text: "t".repeat(65_535) }, valid: true, why: "65,535 bytes [MQTT-4.7.3-3]" },
  { name: { text: "" }, valid: false, why: "empty [MQTT-4.7.3-1]" },
  { name: { text: "t".repeat(65_536) }, valid: false, why: "65,536 bytes [MQTT-4.7.3-3]" },
  { name: { text: "+" }, valid: false, why: "'+' in a topic name [MQTT-4.7.1-1]" },
  { name: { text: "a/+/b" }, valid: false, why: "'+' in a topic name [MQTT-4.7.1-1]" },
  { name: { text: "#" }, valid: false, why: "'#' in a topic name [MQTT-4.7.1-1]" },
  { name: { text: "sport/tennis#" }, valid: false, why: "'#' inside a level of a topic name [MQTT-4.7.1-1]" },
  { name: { text: "a\u0000b" }, valid: false, why: "U+0000 [MQTT-4.7.3-2]" },
  { name: { hex: "C0 AF" }, valid: false, why: "overlong UTF-8 [MQTT-1.5.3-1]" },
  { name: { hex: "ED A0 80" }, valid: false, why: "UTF-8 encoded surrogate [MQTT-1.5.3-1]" },
  { name: { hex: "61 E6 97" }, valid: false, why: "truncated UTF-8 [MQTT-1.5.3-1]" },
  { name: { hex: "F4 90 80 80" }, valid: false, why: "above U+10FFFF [MQTT-1.5.3-1]" },
  { name: { hex: "F8 88 80 80 80" }, valid: false, why: "5-byte form [MQTT-1.5.3-1]" },
  { name: { hex: "EF BF BF" }, valid: true, why: "U+FFFF is a non-character but well-formed UTF-8 (section 1.5.3)" },
  { name: { hex: "01 7F" }, valid: true, why: "control characters other than U+0000 are well-formed" },
];

export const topicFilterVectors: TopicFilterVector[] = [
  { filter: { text: "#" }, valid: true, why: "'#' alone [MQTT-4.7.1-2]" },
  { filter: { text: "+" }, valid: true, why: "'+' alone [MQTT-4.7.1-3]" },
  { filter: { text: "sport/tennis/#" }, valid: true, why: "'#' last, after a separator [MQTT-4.7.1-2]" },
  { filter: { text: "+/tennis/#" }, valid: true, why: "'+' and '#' together [MQTT-4.7.1-3]" },
  { filter: { text: "sport/+/player1" }, valid: true, why: "'+' in the middle [MQTT-4.7.1-3]" },
  { filter: { text: "+/+" }, valid: true, why: "two '+' levels" },
  { filter: { text: "/+" }, valid: true, why: "'+' after a leading separator" },
  { filter: { text: "/#" }, valid: true, why: "'#' after a leading separator" },
  { filter: { text: "$SYS/#" }, valid: true, why: "a $ filter" },
  { filter: { text: "a//b" }, valid: true, why: "an empty level" },
  { filter: { text: "/" }, valid: true, why: "two empty levels" },
  { filter: { text: "\u00fc/+" }, valid: true, why: "UTF-8 multibyte characters" },
  { filter: { text: "" }, valid: false, why: "empty [MQTT-4.7.3-1]" },
  { filter: { text: "sport/tennis#" }, valid: false, why: "'#' not alone in its level [MQTT-4.7.1-2]" },
  { filter: { text: "sport/tennis/#/ranking" }, valid: false, why: "'#' not last [MQTT-4.7.1-2]" },
  { filter: { text: "#/" }, valid: false, why: "'#' followed by a separator [MQTT-4.7.1-2]" },
  { filter: { text: "##" }, valid: false, why: "'#' twice [MQTT-4.7.1-2]" },
  { filter: { text: "sport+" }, valid: false, why: "'+' not alone in its level [MQTT-4.7.1-3]" },
  { filter: { text: "a/+b" }, valid: false, why: "'+' not alone in its level [MQTT-4.7.1-3]" },
  { filter: { text: "++" }, valid: false, why: "'+' twice in a level [MQTT-4.7.1-3]" },
  { filter: { text: "+#" }, valid: false, why: "'+' and '#' in one level [MQTT-4.7.1-2][MQTT-4.7.1-3]" },
  { filter: { text: "a/\u0000" }, valid: false, why: "U+0000 [MQTT-4.7.3-2]" },
  { filter: { hex: "2B 2F C0 AF" }, valid: false, why: "overlong UTF-8 [MQTT-1.5.3-1]" },
  { filter: { hex: "ED B0 80 2F 23" }, valid: false, why: "UTF-8 encoded surrogate [MQTT-1.5.3-1]" },
];

export const topicMatchVectors: TopicMatchVector[] = [
  // the examples of section 4.7.1
  { filter: "sport/tennis/player1/#", topic: "sport/tennis/player1", matches: true, why: "'#' includes the parent level [MQTT-4.7.1-2]" },
  { filter: "sport/tennis/player1/#", topic: "sport/tennis/player1/ranking", matches: true, why: "'#' one level down" },
  { filter: "sport/tennis/player1/#", topic: "sport/tennis/player1/score/wimbledon", matches: true, why: "'#' two levels down" },
  { filter: "sport/#", topic: "sport", matches: true, why: "'#' includes the parent level [MQTT-4.7.1-2]" },
  { filter: "sport/tennis/+", topic: "sport/tennis/player1", matches: true, why: "'+' one level" },
  { filter: "sport/tennis/+", topic: "sport/tennis/player2", matches: true, why: "'+' one level" },
  { filter: "sport/tennis/+", topic: "sport/tennis/player1/ranking", matches: false, why: "'+' is exactly one level" },
  { filter: "sport/+", topic: "sport", matches: false, why: "'+' needs its level" },
  { filter: "sport/+", topic: "sport/", matches: true, why: "'+' matches an empty level" },
  { filter: "+/+", topic: "/finance", matches: true, why: "'+' matches the empty first level" },
  { filter: "/+", topic: "/finance", matches: true, why: "leading separator, then a level" },
  { filter: "+", topic: "/finance", matches: false, why: "'+' cannot span a separator" },
  { filter: "+/+", topic: "/", matches: true, why: "two empty levels" },
  { filter: "+", topic: "/", matches: false, why: "'/' has two levels" },
  { filter: "/+", topic: "/", matches: true, why: "'+' matches the empty second level" },
  { filter: "#", topic: "/", matches: true, why: "'#' matches everything not starting with $" },
  { filter: "#", topic: "sport/tennis/player1", matches: true, why: "'#' matches every level" },
  { filter: "sport/+/player1", topic: "sport/tennis/player1", matches: true, why: "'+' in the middle" },
  { filter: "sport/+/player1", topic: "sport/tennis/player2", matches: false, why: "the last level differs" },
  { filter: "a/+/b", topic: "a//b", matches: true, why: "'+' matches an empty middle level" },
  { filter: "a/+/#", topic: "a/x", matches: true, why: "'#' includes the parent of its level" },
  // exact matches, case and separators (section 4.7.3) [MQTT-4.7.3-4]
  { filter: "sport/tennis", topic: "sport/tennis", matches: true, why: "identical" },
  { filter: "ACCOUNTS", topic: "Accounts", matches: false, why: "case sensitive (section 4.7.3)" },
  { filter: "/finance", topic: "finance", matches: false, why: "a leading separator makes a distinct topic (section 4.7.3)" },
  { filter: "finance/", topic: "finance", matches: false, why: "a trailing separator makes a distinct topic" },
  { filter: "sport", topic: "sport/tennis", matches: false, why: "a filter without wildcards matches one topic" },
  { filter: "sport/tennis", topic: "sport", matches: false, why: "the topic is shorter" },
  { filter: "sport/tennis/+", topic: "sport/tennis", matches: false, why: "'+' needs its level" },
  { filter: "\u00fc/+", topic: "\u00fc/\u65e5", matches: true, why: "UTF-8 levels" },
  { filter: "\u00fc/#", topic: "\u00fd/x", matches: false, why: "UTF-8 levels differ in the last byte" },
  // topics starting with $ [MQTT-4.7.2-1]
  { filter: "#", topic: "$SYS/x", matches: false, why: "'#' does not match a topic starting with $ [MQTT-4.7.2-1]" },
  { filter: "#", topic: "$SYS", matches: false, why: "'#' does not match a topic starting with $ [MQTT-4.7.2-1]" },
  { filter: "+/x", topic: "$SYS/x", matches: false, why: "'+' first does not match a topic starting with $ [MQTT-4.7.2-1]" },
  { filter: "+/monitor/Clients", topic: "$SYS/monitor/Clients", matches: false, why: "the standard's example [MQTT-4.7.2-1]" },
  { filter: "+", topic: "$SYS", matches: false, why: "'+' does not match a topic starting with $ [MQTT-4.7.2-1]" },
  { filter: "$SYS/#", topic: "$SYS/x", matches: true, why: "an explicit $SYS filter [MQTT-4.7.2-1]" },
  { filter: "$SYS/#", topic: "$SYS/monitor/Clients", matches: true, why: "the standard's example [MQTT-4.7.2-1]" },
  { filter: "$SYS/#", topic: "$SYS", matches: true, why: "'#' includes the parent level" },
  { filter: "$SYS/monitor/+", topic: "$SYS/monitor/Clients", matches: true, why: "the standard's example [MQTT-4.7.2-1]" },
  { filter: "$SYS/x", topic: "$SYS/x", matches: true, why: "identical" },
  { filter: "#", topic: "x/$SYS", matches: true, why: "$ only matters as the first character" },
  { filter: "+/$SYS", topic: "x/$SYS", matches: true, why: "$ only matters as the first character" },
];
