/*
 * The MQTT 5.0 codec (encode5.ts, decode5.ts, props.ts, reasons.ts) against byte vectors
 * written out from the OASIS MQTT 5.0 standard: the variable byte integer table (1.5.5),
 * the CONNECT and PUBLISH variable header examples (3.1.2.12, 3.3.2.4), the short forms of
 * the acknowledgements and DISCONNECT, properties read in place by accessor, and the
 * refusals each statement calls for. Must not depend on the other codec suites.
 */

import { describe, expect, it } from "vitest";
import * as lib from "../device/mqtt/index.js";

const utf8 = new TextEncoder();
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex").toUpperCase();
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/ /g, ""), "hex"));
const b = (text: string): Uint8Array => utf8.encode(text);
const SENTINEL = 0xa5;

/** Encodes at offset 3 of a sentinel-filled buffer; checks nothing outside the packet changed; returns its hex. */
function encoded(encode: (buf: Uint8Array, offset: number) => number, size = 512): string {
  const buf = new Uint8Array(size).fill(SENTINEL);
  const written = encode(buf, 3);
  expect(buf.subarray(0, 3).every((x) => x === SENTINEL)).toBe(true);
  expect(buf.subarray(3 + written).every((x) => x === SENTINEL)).toBe(true);
  return hex(buf.subarray(3, 3 + written));
}

function thrownCode(call: () => unknown): unknown {
  try {
    return call();
  } catch (error) {
    return lib.isMqttError(error) ? error.code : error;
  }
}

function decode(bytes: Uint8Array): { type: number; dec: lib.PacketDecoder5 } {
  const dec = new lib.PacketDecoder5(1024);
  dec.feed(bytes, 0, bytes.length);
  return { type: dec.next(), dec };
}

describe("variable byte integers (section 1.5.5, Table 1-1)", () => {
  const table: [number, string][] = [
    [0, "00"], [127, "7F"], [128, "8001"], [16_383, "FF7F"], [16_384, "808001"], [2_097_151, "FFFF7F"],
    [2_097_152, "80808001"], [268_435_455, "FFFFFF7F"],
  ];
  it.each(table)("%i is written as %s, in the fewest bytes [MQTT-1.5.5-1]", (value, bytes) => {
    const buf = new Uint8Array(4);
    const end = lib.writeVarInt(buf, 0, value);
    expect(hex(buf.subarray(0, end))).toBe(bytes);
    expect(lib.varIntSize(value)).toBe(bytes.length / 2);
  });
  it("268,435,456 is out of range", () => {
    expect(lib.varIntSize(268_435_456)).toBe(0);
  });
  it("a property length of five bytes, or not in its shortest form, is refused", () => {
    // PUBACK id 1, reason 0, property length 80 80 80 80 01
    expect(thrownCode(() => decode(fromHex("40 08 0001 00 8080808001")))).toBe("length-mismatch");
    // the same length 0 written in two bytes: 80 00 [MQTT-1.5.5-1]
    expect(thrownCode(() => decode(fromHex("40 05 0001 00 8000")))).toBe("length-mismatch");
  });
});

describe("encoding what a client sends", () => {
  it("CONNECT: the variable header of the standard's example (3.1.2.12): level 5, flags CE, keepalive 10, Session Expiry 10", () => {
    const out = encoded((buf, offset) => lib.encodeConnect5(buf, offset, {
      clientId: b("c"), clean: true, keepAlive: 10, username: b("u"), password: b("p"),
      will: { topic: lib.prepareTopic("w", utf8), payload: b("x"), qos: 1, retain: false },
      properties: { sessionExpiry: 10 },
    }));
    // fixed header 10 xx, then the example's bytes: 00 04 MQTT 05 CE 000A 05 11 0000000A
    expect(out.slice(4, 36)).toBe("00044D5154540" + "5CE000A0511" + "0000000A");
    // the payload: client id, will properties (none: length 0), will topic and payload, user name, password
    expect(out.slice(36)).toBe("000163" + "00" + "000177" + "000178" + "000175" + "000170");
    expect(out.slice(0, 4)).toBe("10" + (out.length / 2 - 2).toString(16).toUpperCase().padStart(2, "0"));
  });

  it("CONNECT without properties still carries a property length of 0 [MQTT-3.1.2.11]", () => {
    expect(encoded((buf, offset) => lib.encodeConnect5(buf, offset, { clientId: b("id"), clean: false, keepAlive: 60 })))
      .toBe("100F00044D515454" + "0500003C00" + "00026964");
  });

  it("PUBLISH: the variable header of the standard's example (3.3.2.4): a/b, packet id 10, no properties", () => {
    const out = encoded((buf, offset) => lib.encodePublish5(buf, offset, lib.prepareTopic("a/b", utf8), b("hi"), 1, false, false, 10, undefined, 0));
    expect(out).toBe("320A" + "0003612F62000A00" + "6869");
  });

  it("PUBLISH with a topic alias and an empty topic name [MQTT-3.3.2-1], properties in identifier order", () => {
    const props: lib.Properties = { topicAlias: 3, correlationData: fromHex("0102"), contentType: b("t") };
    const size = lib.propertiesSize(props, lib.PUBLISH);
    expect(size).toBe(3 + 4 + 5);
    const out = encoded((buf, offset) => lib.encodePublish5(buf, offset, undefined, b("v"), 0, true, false, 0, props, size));
    expect(out).toBe("3110" + "0000" + "0C" + "03000174" + "0900020102" + "230003" + "76");
    expect(lib.publishSize5(0, 1, 0, size)).toBe(out.length / 2);
  });

  it("PUBACK with reason 0 and no properties is the 2-byte form; a reason and a reason string are written when given", () => {
    expect(encoded((buf, offset) => lib.encodeAck5(buf, offset, lib.PUBACK, 7))).toBe("40020007");
    expect(encoded((buf, offset) => lib.encodeAck5(buf, offset, lib.PUBREC, 7, 0x10))).toBe("5004000710" + "00");
    expect(encoded((buf, offset) => lib.encodeAck5(buf, offset, lib.PUBREL, 7, 0x92, { reasonString: b("no") })))
      .toBe("6209000792" + "05" + "1F00026E6F");
    expect(encoded((buf, offset) => lib.encodeAck5(buf, offset, lib.PUBCOMP, 7))).toBe("70020007");
  });

  it("DISCONNECT: reason 0 without properties is E0 00; with a reason and Session Expiry [MQTT-3.14.2.1]", () => {
    expect(encoded((buf, offset) => lib.encodeDisconnect5(buf, offset))).toBe("E000");
    expect(encoded((buf, offset) => lib.encodeDisconnect5(buf, offset, 0x04, { sessionExpiry: 60 }))).toBe("E00704" + "05" + "110000003C");
  });

  it("AUTH with Continue Authentication, the method and the data (3.15)", () => {
    expect(encoded((buf, offset) => lib.encodeAuth(buf, offset, 0x18, { authenticationMethod: b("M"), authenticationData: fromHex("AB") })))
      .toBe("F00A18" + "08" + "1500014D" + "160001AB");
  });

  it("SUBSCRIBE: subscription options in bits 0-5 (3.8.3.1) and a subscription identifier as a variable byte integer", () => {
    expect(encoded((buf, offset) => lib.encodeSubscribe5(buf, offset, 1, [
      { filter: b("a/#"), qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2 },
    ], { subscriptionIdentifier: 200 }))).toBe("820C0001" + "030BC801" + "0003612F23" + "2D");
  });

  it("UNSUBSCRIBE with a user property", () => {
    expect(encoded((buf, offset) => lib.encodeUnsubscribe5(buf, offset, 2, [b("a")], { userProperties: [{ name: b("k"), value: b("v") }] })))
      .toBe("A20D0002" + "07" + "2600016B000176" + "000161");
  });
});

describe("encode refusals write nothing", () => {
  const topic = lib.prepareTopic("t", utf8);
  const publish = (props: lib.Properties): unknown => thrownCode(() => {
    const buf = new Uint8Array(64).fill(SENTINEL);
    try {
      return lib.encodePublish5(buf, 0, topic, b("x"), 1, false, false, 1, props, lib.propertiesSize(props, lib.PUBLISH));
    } finally {
      expect(buf.every((x) => x === SENTINEL)).toBe(true);
    }
  });
  it("a Topic Alias of 0 [MQTT-3.3.2-8]", () => {
    expect(publish({ topicAlias: 0 })).toBe("argument-invalid");
  });
  it("a Subscription Identifier on a client's PUBLISH [MQTT-3.3.4-6]", () => {
    expect(publish({ subscriptionIdentifier: 1 })).toBe("argument-invalid");
  });
  it("a Response Topic with a wildcard [MQTT-3.3.2-14]", () => {
    expect(publish({ responseTopic: b("a/#") })).toBe("topic-invalid");
  });
  it("a user property that is not UTF-8 [MQTT-1.5.4-1]", () => {
    expect(publish({ userProperties: [{ name: fromHex("C0AF"), value: b("v") }] })).toBe("argument-invalid");
  });
  it("a Session Expiry on PUBLISH, a Receive Maximum of 0 on CONNECT", () => {
    expect(publish({ sessionExpiry: 1 })).toBe("argument-invalid");
    expect(thrownCode(() => lib.propertiesSize({ receiveMaximum: 0 }, lib.CONNECT))).toBe("argument-invalid");
  });
  it("an empty topic without a Topic Alias [MQTT-3.3.2-1]", () => {
    expect(thrownCode(() => lib.encodePublish5(new Uint8Array(64), 0, undefined, b("x"), 0, false, false, 0, undefined, 0))).toBe("topic-invalid");
  });
  it("a reason code the packet may not carry: PUBACK 0x92, DISCONNECT 0x84, AUTH 0x87 [MQTT-3.4.2-1][MQTT-3.14.2-1][MQTT-3.15.2-1]", () => {
    const buf = new Uint8Array(16).fill(SENTINEL);
    expect(thrownCode(() => lib.encodeAck5(buf, 0, lib.PUBACK, 1, 0x92))).toBe("argument-invalid");
    expect(thrownCode(() => lib.encodeDisconnect5(buf, 0, 0x84))).toBe("argument-invalid");
    expect(thrownCode(() => lib.encodeAuth(buf, 0, 0x87))).toBe("argument-invalid");
    expect(buf.every((x) => x === SENTINEL)).toBe(true);
  });
  it("SUBSCRIBE and UNSUBSCRIBE: a bad filter, a Retain Handling of 3, a buffer one byte short", () => {
    const buf = new Uint8Array(32).fill(SENTINEL);
    expect(thrownCode(() => lib.encodeSubscribe5(buf, 0, 1, [{ filter: b("a/#/b"), qos: 0 }]))).toBe("filter-invalid");
    expect(thrownCode(() => lib.encodeSubscribe5(buf, 0, 1, [{ filter: b("a"), qos: 0, retainHandling: 3 }]))).toBe("argument-invalid");
    expect(thrownCode(() => lib.encodeUnsubscribe5(buf, 0, 1, []))).toBe("argument-invalid");
    const props = { userProperties: [{ name: b("k"), value: b("v") }] };
    const size = lib.encodeUnsubscribe5(new Uint8Array(64), 0, 2, [b("a/b")], props);
    expect(thrownCode(() => lib.encodeUnsubscribe5(buf.subarray(0, size - 1), 0, 2, [b("a/b")], props))).toBe("buffer-too-small");
    expect(buf.every((x) => x === SENTINEL)).toBe(true);
  });

  it("a CONNECT that does not fit once its properties are added", () => {
    const fields = { clientId: b("abcdef"), clean: true, keepAlive: 0, properties: { userProperties: [{ name: b("n"), value: b("v") }] } };
    const size = lib.encodeConnect5(new Uint8Array(64), 0, fields);
    const buf = new Uint8Array(size - 1).fill(SENTINEL);
    expect(thrownCode(() => lib.encodeConnect5(buf, 0, fields))).toBe("buffer-too-small");
    expect(buf.every((x) => x === SENTINEL)).toBe(true);
  });
});

describe("decoding what a server sends: properties read in place", () => {
  it("CONNACK: reason, session present and every property by accessor, in the chunk itself", () => {
    const bytes = fromHex("20 1E 01 00 1B" + "2100 14" + "2200 0A" + "1200 03 617574" + "1300 1E" + "27 0000 0400" + "26 0001 61 0001 62");
    const { type, dec } = decode(bytes);
    expect(type).toBe(lib.CONNACK);
    expect(dec.buf).toBe(bytes);
    expect(dec.sessionPresent).toBe(true);
    expect(dec.reasonCode).toBe(0);
    expect(dec.number(lib.PROP_RECEIVE_MAXIMUM, 65_535)).toBe(20);
    expect(dec.number(lib.PROP_TOPIC_ALIAS_MAXIMUM, 0)).toBe(10);
    expect(dec.number(lib.PROP_SERVER_KEEPALIVE, -1)).toBe(30);
    expect(dec.number(lib.PROP_MAXIMUM_PACKET_SIZE, -1)).toBe(1024);
    expect(dec.number(lib.PROP_MAXIMUM_QOS, 2)).toBe(2);
    expect(dec.has(lib.PROP_SESSION_EXPIRY)).toBe(false);
    const at = dec.bytesOffset(lib.PROP_ASSIGNED_CLIENT_ID);
    expect(new TextDecoder().decode(bytes.subarray(at, at + dec.bytesLength(lib.PROP_ASSIGNED_CLIENT_ID)))).toBe("aut");
    expect(dec.userProperty(0)).toBe(true);
    expect([bytes[dec.nameOffset], dec.nameLength, bytes[dec.valueOffset], dec.valueLength]).toEqual([0x61, 1, 0x62, 1]);
    expect(dec.userProperty(1)).toBe(false);
  });

  it("PUBLISH: topic, packet id, properties, then the payload; an empty topic with a Topic Alias [MQTT-3.3.2-1]", () => {
    const { type, dec } = decode(fromHex("34 0D 0000 0009 06 2300 02 0B 8001 7879"));
    expect(type).toBe(lib.PUBLISH);
    expect([dec.qos, dec.packetId, dec.topicLength, dec.payloadLength]).toEqual([2, 9, 0, 2]);
    expect(dec.number(lib.PROP_TOPIC_ALIAS, 0)).toBe(2);
    expect(dec.number(lib.PROP_SUBSCRIPTION_ID, 0)).toBe(128);
    expect(hex(dec.buf.subarray(dec.payloadOffset, dec.payloadOffset + dec.payloadLength))).toBe("7879");
  });

  it("a packet without properties leaves none of the last packet's behind", () => {
    const dec = new lib.PacketDecoder5(256);
    const bytes = fromHex("40 07 0001 10 03 1F0000" + "40 02 0002");
    dec.feed(bytes, 0, bytes.length);
    expect(dec.next()).toBe(lib.PUBACK);
    expect([dec.reasonCode, dec.has(lib.PROP_REASON_STRING)]).toEqual([0x10, true]);
    expect(dec.next()).toBe(lib.PUBACK);
    expect([dec.packetId, dec.reasonCode, dec.has(lib.PROP_REASON_STRING)]).toEqual([2, 0, false]);
  });

  it("SUBACK and UNSUBACK: reason codes after the properties", () => {
    const suback = decode(fromHex("90 06 0005 00 01 87 A2")).dec;
    expect(hex(suback.buf.subarray(suback.codesOffset, suback.codesOffset + suback.codesLength))).toBe("0187A2");
    const unsuback = decode(fromHex("B0 04 0005 00 11")).dec;
    expect([unsuback.type, unsuback.codesLength, unsuback.buf[unsuback.codesOffset]]).toEqual([lib.UNSUBACK, 1, 0x11]);
  });

  it("DISCONNECT and AUTH from the server, with and without a reason code (3.14, 3.15)", () => {
    expect(decode(fromHex("E0 00")).dec.reasonCode).toBe(0);
    const dis = decode(fromHex("E0 08 8E 06 1F 0003 616263")).dec;
    expect([dis.type, dis.reasonCode, dis.bytesLength(lib.PROP_REASON_STRING)]).toEqual([lib.DISCONNECT, 0x8e, 3]);
    const auth = decode(fromHex("F0 07 18 05 15 0002 4D31")).dec;
    expect([auth.type, auth.reasonCode, auth.bytesLength(lib.PROP_AUTH_METHOD)]).toEqual([lib.AUTH, 0x18, 2]);
  });

  it("a 3.1.1 server's refusal of level 5, CONNACK 20 02 00 01, reads as 0x84 unsupported protocol version [MQTT-3.1.2-2]", () => {
    const { type, dec } = decode(fromHex("20 02 00 01"));
    expect([type, dec.reasonCode, dec.sessionPresent]).toEqual([lib.CONNACK, 0x84, false]);
    expect(decode(fromHex("20 02 00 05")).dec.reasonCode).toBe(0x87);
    // an acceptance needs its properties
    expect(thrownCode(() => decode(fromHex("20 02 00 00")))).toBe("length-mismatch");
  });

  it("reason codes are typed and named", () => {
    const code: lib.ReasonCode = 0x97;
    expect(lib.reasonName(code)).toBe("quota-exceeded");
    expect(lib.reasonName(0x03)).toBe("unknown");
    expect(lib.connackRefusal5(0x86)).toBe("bad-credentials");
    expect(lib.connackRefusal5(0x95)).toBe("connection-refused");
  });
});

describe("decode refusals: the connection must be closed", () => {
  const refusals: [string, string, string][] = [
    ["session present with a refusing CONNACK [MQTT-3.2.2-6]", "20 03 01 87 00", "connack-flags-invalid"],
    ["a CONNACK reason code CONNACK may not carry [MQTT-3.2.2-8]", "20 03 00 04 00", "reason-code-invalid"],
    ["a PUBACK reason code PUBACK may not carry [MQTT-3.4.2-1]", "40 03 0001 92", "reason-code-invalid"],
    ["a SUBACK reason code SUBACK may not carry [MQTT-3.9.3-2]", "90 04 0001 00 03", "reason-code-invalid"],
    ["a DISCONNECT reason code a server may not send [MQTT-3.14.2-1]", "E0 01 84", "reason-code-invalid"],
    ["a Topic Alias of 0 [MQTT-3.3.2-8]", "30 07 0001 61 03 230000", "property-invalid"],
    ["a Subscription Identifier of 0", "30 06 0001 61 02 0B00", "property-invalid"],
    ["a property twice (Receive Maximum)", "20 09 00 00 06 210001 210002", "property-invalid"],
    ["a property the packet may not carry (Session Expiry on PUBACK)", "40 09 0001 00 05 1100000001", "property-invalid"],
    ["an unknown property identifier", "40 06 0001 00 02 0500", "property-invalid"],
    ["a reason string that is not UTF-8 [MQTT-1.5.4-1]", "40 08 0001 00 04 1F0001FF", "utf8-invalid"],
    ["properties that run past the packet", "40 06 0001 00 05 1F00", "length-mismatch"],
    ["properties that stop short of the end of a PUBACK", "40 06 0001 00 00 1F00", "length-mismatch"],
    ["an empty topic without a Topic Alias", "30 03 0000 00", "topic-empty"],
    ["a Maximum QoS of 2", "20 05 00 00 02 2402", "property-invalid"],
  ];
  it.each(refusals)("%s", (_, bytes, code) => {
    expect(thrownCode(() => decode(fromHex(bytes)))).toBe(code);
  });
  it("the 3.1.1 decoder still refuses DISCONNECT and AUTH from a server", () => {
    const dec = new lib.PacketDecoder(64);
    dec.feed(fromHex("E000"), 0, 2);
    expect(thrownCode(() => dec.next())).toBe("packet-type-invalid");
  });
});
