/*
 * Differential property tests of the MQTT 5.0 codec against mqtt-packet (npm) with
 * protocolVersion 5, both ways: every packet a client sends, encoded by us with arbitrary
 * properties, mqtt-packet parses to the same fields; every packet a server sends, generated
 * by mqtt-packet with arbitrary properties, PacketDecoder5 decodes to the same fields (read
 * back through its accessors), in any chunking. Valid packets only: invalid input belongs
 * to the fuzz suite. Must not weaken a comparison to get green.
 */

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as mqtt from "mqtt-packet";
import * as lib from "../device/mqtt/index.js";
import type { Properties, UserProperty } from "../device/mqtt/index.js";
import { mqttParse, type Parsed } from "./support/mqtt-parse.js";

const utf8 = new TextEncoder();
const text = new TextDecoder("utf-8", { fatal: true });
type Their = Record<string, unknown>;

/* ------------------------------------------------------------------ arbitraries */

const char = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0x7ff }) },
  { weight: 1, arbitrary: fc.constantFrom(0x1f600, 0xe9, 0x4e2d) },
).map((c) => String.fromCodePoint(c));
const str = fc.string({ unit: char, maxLength: 12 });
const topicChar = char.map((c) => (c === "+" || c === "#" ? "_" : c));
const topic = fc.string({ unit: topicChar, minLength: 1, maxLength: 20 });
const filter = fc.tuple(topic, fc.constantFrom("", "/+", "/#")).map(([t, w]) => t + w);
const data = fc.uint8Array({ maxLength: 24 });
const u16 = fc.integer({ min: 1, max: 65_535 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const packetId = u16;
/**
 * User properties: names start with a letter so that they are plain keys of mqtt-packet's
 * object, values are never empty (its parser takes an empty first value of a repeated name
 * for none, and drops it).
 */
const users = fc.array(fc.tuple(str.map((s) => "k" + s), str.map((s) => "v" + s)), { maxLength: 3 });

/** A chosen set of properties, kept as strings (for mqtt-packet) and as bytes (for us). */
interface Chosen {
  ours: Properties;
  theirs: Their;
}

function userProps(pairs: [string, string][]): { ours: UserProperty[]; theirs: Record<string, string | string[]> } {
  const theirs: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const old = theirs[name];
    theirs[name] = old === undefined ? value : Array.isArray(old) ? [...old, value] : [old, value];
  }
  return { ours: pairs.map(([name, value]) => ({ name: utf8.encode(name), value: utf8.encode(value) })), theirs };
}

/** Arbitrary properties of the given kinds: each one present or not. */
function chosen(kinds: { [K in keyof Properties]?: fc.Arbitrary<unknown> }): fc.Arbitrary<Chosen> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, arb] of Object.entries(kinds)) record[key] = fc.option(arb as fc.Arbitrary<unknown>, { nil: undefined });
  return fc.record(record).map((values) => {
    const ours: Record<string, unknown> = {};
    const theirs: Their = {};
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      const [name, mine, their] = translate(key as keyof Properties, value);
      ours[key] = mine;
      if (name === "userProperties" && Object.keys(their as object).length === 0) continue;
      theirs[name] = their;
    }
    return { ours: ours as Properties, theirs };
  });
}

/** Our property's value and mqtt-packet's name and value for it. */
function translate(key: keyof Properties, value: unknown): [string, unknown, unknown] {
  switch (key) {
    case "payloadFormat": return ["payloadFormatIndicator", value, value === 1];
    case "messageExpiry": return ["messageExpiryInterval", value, value];
    case "sessionExpiry": return ["sessionExpiryInterval", value, value];
    case "willDelay": return ["willDelayInterval", value, value];
    case "requestResponseInformation": case "requestProblemInformation": return [key, value, value === 1];
    case "contentType": case "responseTopic": case "authenticationMethod": case "reasonString":
      return [key, utf8.encode(value as string), value];
    case "correlationData": case "authenticationData": return [key, value, Buffer.from(value as Uint8Array)];
    case "userProperties": {
      const { ours, theirs } = userProps(value as [string, string][]);
      return [key, ours, theirs];
    }
    default: return [key, value, value];
  }
}

const bit = fc.constantFrom(0, 1);
const publishProps = chosen({
  payloadFormat: bit, messageExpiry: u32, contentType: str, responseTopic: topic, correlationData: data, topicAlias: u16, userProperties: users,
});
const ackProps = chosen({ reasonString: str, userProperties: users });

/* ------------------------------------------------------------------ helpers */

/** The one packet mqtt-packet parses out of `bytes` at protocol level 5. */
function parseOne(bytes: Uint8Array): Parsed {
  const packets = mqttParse(bytes, 5);
  expect(packets.length).toBe(1);
  return packets[0];
}

function encodeWith(encode: (buf: Uint8Array, offset: number) => number): Uint8Array {
  const buf = new Uint8Array(4096);
  const written = encode(buf, 2);
  return buf.slice(2, 2 + written);
}

/** mqtt-packet's properties, or none: it leaves out an empty set. */
function theirProps(parsed: Parsed): Their {
  return (parsed.properties ?? {}) as Their;
}

/** Reads every property of the packet PacketDecoder5 returned last back into mqtt-packet's shape. */
function ourProps(dec: lib.PacketDecoder5): Their {
  const out: Their = {};
  const bytes = (id: number): Uint8Array => dec.buf.slice(dec.bytesOffset(id), dec.bytesOffset(id) + dec.bytesLength(id));
  const numbers: [number, string][] = [
    [lib.PROP_MESSAGE_EXPIRY, "messageExpiryInterval"], [lib.PROP_SUBSCRIPTION_ID, "subscriptionIdentifier"],
    [lib.PROP_SESSION_EXPIRY, "sessionExpiryInterval"], [lib.PROP_SERVER_KEEPALIVE, "serverKeepAlive"],
    [lib.PROP_RECEIVE_MAXIMUM, "receiveMaximum"], [lib.PROP_TOPIC_ALIAS_MAXIMUM, "topicAliasMaximum"],
    [lib.PROP_TOPIC_ALIAS, "topicAlias"], [lib.PROP_MAXIMUM_QOS, "maximumQoS"], [lib.PROP_MAXIMUM_PACKET_SIZE, "maximumPacketSize"],
  ];
  for (const [id, name] of numbers) if (dec.has(id)) out[name] = dec.number(id, -1);
  const flags: [number, string][] = [
    [lib.PROP_PAYLOAD_FORMAT, "payloadFormatIndicator"], [lib.PROP_RETAIN_AVAILABLE, "retainAvailable"],
    [lib.PROP_WILDCARD_AVAILABLE, "wildcardSubscriptionAvailable"], [lib.PROP_SUBSCRIPTION_ID_AVAILABLE, "subscriptionIdentifiersAvailable"],
    [lib.PROP_SHARED_AVAILABLE, "sharedSubscriptionAvailable"],
  ];
  for (const [id, name] of flags) if (dec.has(id)) out[name] = dec.number(id, -1) === 1;
  const strings: [number, string][] = [
    [lib.PROP_CONTENT_TYPE, "contentType"], [lib.PROP_RESPONSE_TOPIC, "responseTopic"], [lib.PROP_ASSIGNED_CLIENT_ID, "assignedClientIdentifier"],
    [lib.PROP_AUTH_METHOD, "authenticationMethod"], [lib.PROP_RESPONSE_INFO, "responseInformation"],
    [lib.PROP_SERVER_REFERENCE, "serverReference"], [lib.PROP_REASON_STRING, "reasonString"],
  ];
  for (const [id, name] of strings) if (dec.has(id)) out[name] = text.decode(bytes(id));
  for (const [id, name] of [[lib.PROP_CORRELATION_DATA, "correlationData"], [lib.PROP_AUTH_DATA, "authenticationData"]] as const) {
    if (dec.has(id)) out[name] = Buffer.from(bytes(id));
  }
  const pairs: [string, string][] = [];
  for (let i = 0; dec.userProperty(i); i++) {
    pairs.push([
      text.decode(dec.buf.subarray(dec.nameOffset, dec.nameOffset + dec.nameLength)),
      text.decode(dec.buf.subarray(dec.valueOffset, dec.valueOffset + dec.valueLength)),
    ]);
  }
  if (pairs.length > 0) out.userProperties = userProps(pairs).theirs;
  return out;
}

/** Decodes a stream cut at the given points; returns, per packet, its type, fields and properties. */
function decodeChunked(stream: Uint8Array, cuts: number[], size = 8192): Their[] {
  const dec = new lib.PacketDecoder5(size);
  const out: Their[] = [];
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  for (const end of [...points, stream.length]) {
    if (end < start) continue;
    // a fresh copy per chunk: a decoder that kept reading an old chunk would see other bytes
    const chunk = stream.slice(start, end);
    dec.feed(chunk, 0, chunk.length);
    for (let type = dec.next(); type !== lib.NEED_MORE; type = dec.next()) {
      const fields: Their = { type, reasonCode: dec.reasonCode, props: ourProps(dec) };
      if (type === lib.PUBLISH) {
        Object.assign(fields, {
          qos: dec.qos, retain: dec.retain, dup: dec.dup, packetId: dec.packetId,
          topic: text.decode(dec.buf.subarray(dec.topicOffset, dec.topicOffset + dec.topicLength)),
          payload: Buffer.from(dec.buf.subarray(dec.payloadOffset, dec.payloadOffset + dec.payloadLength)),
        });
      } else if (type === lib.CONNACK) {
        fields.sessionPresent = dec.sessionPresent;
      } else if (type === lib.SUBACK || type === lib.UNSUBACK) {
        Object.assign(fields, { packetId: dec.packetId, codes: [...dec.buf.subarray(dec.codesOffset, dec.codesOffset + dec.codesLength)] });
      } else if (type !== lib.PINGRESP && type !== lib.DISCONNECT && type !== lib.AUTH) {
        fields.packetId = dec.packetId;
      }
      out.push(fields);
    }
    start = end;
  }
  return out;
}

/* ------------------------------------------------------------------ ours → mqtt-packet */

describe("encode (5.0) → mqtt-packet parses the same fields", () => {
  it("CONNECT: level 5, CONNECT properties, will properties, credentials [MQTT-3.1.2-2]", () => {
    const connectProps = chosen({
      sessionExpiry: u32, receiveMaximum: u16, maximumPacketSize: fc.integer({ min: 1, max: 0xffffffff }), topicAliasMaximum: fc.integer({ min: 0, max: 65_535 }),
      requestResponseInformation: bit, requestProblemInformation: bit, userProperties: users, authenticationMethod: str, authenticationData: data,
    });
    const willProps = chosen({
      willDelay: u32, payloadFormat: bit, messageExpiry: u32, contentType: str, responseTopic: topic, correlationData: data, userProperties: users,
    });
    fc.assert(fc.property(
      str, fc.boolean(), fc.integer({ min: 0, max: 65_535 }), connectProps, fc.option(fc.tuple(topic, data, fc.constantFrom(0, 1, 2), fc.boolean(), willProps), { nil: undefined }),
      fc.option(str, { nil: undefined }), fc.option(data, { nil: undefined }),
      (clientId, cleanWish, keepAlive, props, will, username, passwordWish) => {
        const clean = cleanWish || clientId === "";
        const password = username === undefined ? undefined : passwordWish;
        const bytes = encodeWith((buf, offset) => lib.encodeConnect5(buf, offset, {
          clientId: utf8.encode(clientId), clean, keepAlive, properties: props.ours,
          username: username === undefined ? undefined : utf8.encode(username), password,
          will: will === undefined ? undefined : { topic: lib.prepareTopic(will[0], utf8), payload: will[1], qos: will[2], retain: will[3], properties: will[4].ours },
        }));
        const parsed = parseOne(bytes);
        expect(parsed).toMatchObject({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clean, keepalive: keepAlive, clientId });
        expect(theirProps(parsed)).toEqual(props.theirs);
        expect(parsed.username).toBe(username);
        expect(parsed.password === undefined ? undefined : new Uint8Array(parsed.password as Buffer)).toEqual(password);
        if (will === undefined) {
          expect(parsed.will).toBeUndefined();
        } else {
          const theirWill = parsed.will as Parsed;
          expect(theirWill).toMatchObject({ topic: will[0], qos: will[2], retain: will[3] });
          expect(new Uint8Array(theirWill.payload as Buffer)).toEqual(will[1]);
          expect(theirProps(theirWill)).toEqual(will[4].theirs);
        }
      },
    ), { numRuns: 600 });
  });

  it("PUBLISH: topic (or an alias alone), packet id, every PUBLISH property, payload [MQTT-3.3.2-1]", () => {
    fc.assert(fc.property(
      topic, fc.boolean(), data, fc.constantFrom(0, 1, 2), fc.boolean(), fc.boolean(), packetId, publishProps,
      (name, aliasOnlyWish, payload, qos, retain, dupWish, id, props) => {
        const aliasOnly = aliasOnlyWish && props.ours.topicAlias !== undefined;
        const dup = qos > 0 && dupWish;
        const size = lib.propertiesSize(props.ours, lib.PUBLISH);
        const t = aliasOnly ? undefined : lib.prepareTopic(name, utf8);
        const bytes = encodeWith((buf, offset) => lib.encodePublish5(buf, offset, t, payload, qos, retain, dup, id, props.ours, size));
        expect(bytes.length).toBe(lib.publishSize5(t === undefined ? 0 : t.bytes.length, payload.length, qos, size));
        const parsed = parseOne(bytes);
        expect(parsed).toMatchObject({ cmd: "publish", topic: aliasOnly ? "" : name, qos, retain, dup });
        expect(parsed.messageId).toBe(qos > 0 ? id : undefined);
        expect(new Uint8Array(parsed.payload as Buffer)).toEqual(payload);
        expect(theirProps(parsed)).toEqual(props.theirs);
      },
    ), { numRuns: 800 });
  });

  it("PUBACK, PUBREC, PUBREL, PUBCOMP: packet id, reason code, reason string, user properties", () => {
    const cases = fc.oneof(
      fc.tuple(fc.constantFrom(lib.PUBACK, lib.PUBREC), fc.constantFrom(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99)),
      fc.tuple(fc.constantFrom(lib.PUBREL, lib.PUBCOMP), fc.constantFrom(0x00, 0x92)),
    );
    const names: Record<number, string> = { [lib.PUBACK]: "puback", [lib.PUBREC]: "pubrec", [lib.PUBREL]: "pubrel", [lib.PUBCOMP]: "pubcomp" };
    fc.assert(fc.property(cases, packetId, ackProps, ([type, reason], id, props) => {
      const bytes = encodeWith((buf, offset) => lib.encodeAck5(buf, offset, type, id, reason, props.ours));
      const parsed = parseOne(bytes);
      expect(parsed).toMatchObject({ cmd: names[type], messageId: id });
      expect(parsed.reasonCode ?? 0).toBe(reason);
      expect(theirProps(parsed)).toEqual(props.theirs);
    }), { numRuns: 400 });
  });

  it("SUBSCRIBE: filters with QoS, No Local, Retain As Published, Retain Handling; subscription identifier [MQTT-3.8.3-1]", () => {
    const sub = fc.record({ filter, qos: fc.constantFrom(0, 1, 2), noLocal: fc.boolean(), retainAsPublished: fc.boolean(), retainHandling: fc.constantFrom(0, 1, 2) });
    const props = chosen({ subscriptionIdentifier: fc.integer({ min: 1, max: 268_435_455 }), userProperties: users });
    fc.assert(fc.property(packetId, fc.array(sub, { minLength: 1, maxLength: 4 }), props, (id, subs, p) => {
      const bytes = encodeWith((buf, offset) => lib.encodeSubscribe5(buf, offset, id, subs.map((s) => ({ ...s, filter: utf8.encode(s.filter) })), p.ours));
      const parsed = parseOne(bytes);
      expect(parsed).toMatchObject({ cmd: "subscribe", messageId: id });
      expect(parsed.subscriptions).toEqual(subs.map((s) => ({ topic: s.filter, qos: s.qos, nl: s.noLocal, rap: s.retainAsPublished, rh: s.retainHandling })));
      expect(theirProps(parsed)).toEqual(p.theirs);
    }), { numRuns: 400 });
  });

  it("UNSUBSCRIBE: filters and user properties", () => {
    fc.assert(fc.property(packetId, fc.array(filter, { minLength: 1, maxLength: 4 }), chosen({ userProperties: users }), (id, filters, p) => {
      const bytes = encodeWith((buf, offset) => lib.encodeUnsubscribe5(buf, offset, id, filters.map((f) => utf8.encode(f)), p.ours));
      const parsed = parseOne(bytes);
      expect(parsed).toMatchObject({ cmd: "unsubscribe", messageId: id, unsubscriptions: filters });
      expect(theirProps(parsed)).toEqual(p.theirs);
    }), { numRuns: 300 });
  });

  it("DISCONNECT and AUTH: reason code and properties", () => {
    const disconnectProps = chosen({ sessionExpiry: u32, reasonString: str, userProperties: users });
    fc.assert(fc.property(fc.constantFrom(0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9e, 0xa1, 0xa2), disconnectProps, (reason, p) => {
      const parsed = parseOne(encodeWith((buf, offset) => lib.encodeDisconnect5(buf, offset, reason, p.ours)));
      expect(parsed.cmd).toBe("disconnect");
      expect(parsed.reasonCode ?? 0).toBe(reason);
      expect(theirProps(parsed)).toEqual(p.theirs);
    }), { numRuns: 300 });
    const authProps = chosen({ authenticationMethod: str, authenticationData: data, reasonString: str, userProperties: users });
    fc.assert(fc.property(fc.constantFrom(0x18, 0x19), authProps, (reason, p) => {
      const parsed = parseOne(encodeWith((buf, offset) => lib.encodeAuth(buf, offset, reason, p.ours)));
      expect(parsed).toMatchObject({ cmd: "auth", reasonCode: reason });
      expect(theirProps(parsed)).toEqual(p.theirs);
    }), { numRuns: 300 });
  });
});

/* ------------------------------------------------------------------ mqtt-packet → ours */

describe("mqtt-packet generates (5.0) → PacketDecoder5 decodes the same fields, in any chunking", () => {
  const connack = fc.record({
    sessionPresent: fc.boolean(),
    reasonCode: fc.constantFrom(0x00, 0x80, 0x81, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x9c, 0x9f),
    props: chosen({
      sessionExpiry: u32, receiveMaximum: u16, maximumPacketSize: fc.integer({ min: 1, max: 0xffffffff }), topicAliasMaximum: fc.integer({ min: 0, max: 65_535 }),
      reasonString: str, userProperties: users, authenticationMethod: str, authenticationData: data,
    }),
    more: fc.record({
      maximumQoS: fc.option(fc.constantFrom(0, 1), { nil: undefined }),
      retainAvailable: fc.option(fc.boolean(), { nil: undefined }),
      assignedClientIdentifier: fc.option(str, { nil: undefined }),
      serverKeepAlive: fc.option(fc.integer({ min: 0, max: 65_535 }), { nil: undefined }),
      responseInformation: fc.option(str, { nil: undefined }),
      serverReference: fc.option(str, { nil: undefined }),
      wildcardSubscriptionAvailable: fc.option(fc.boolean(), { nil: undefined }),
      subscriptionIdentifiersAvailable: fc.option(fc.boolean(), { nil: undefined }),
      sharedSubscriptionAvailable: fc.option(fc.boolean(), { nil: undefined }),
    }, { requiredKeys: [] }),
  }).map(({ sessionPresent, reasonCode, props, more }) => {
    const properties: Their = { ...props.theirs };
    for (const [k, v] of Object.entries(more)) if (v !== undefined) properties[k] = v;
    const present = reasonCode === 0 && sessionPresent;
    return {
      packet: { cmd: "connack", sessionPresent: present, reasonCode, properties },
      expected: { type: lib.CONNACK, reasonCode, sessionPresent: present, props: properties },
    };
  });
  const publish = fc.tuple(topic, data, fc.constantFrom(0, 1, 2), fc.boolean(), fc.boolean(), packetId, publishProps, fc.option(fc.integer({ min: 1, max: 268_435_455 }), { nil: undefined }))
    .map(([name, payload, qos, retain, dupWish, id, props, subId]) => {
      const properties: Their = { ...props.theirs };
      if (subId !== undefined) properties.subscriptionIdentifier = subId;
      const dup = qos > 0 && dupWish;
      return {
        packet: { cmd: "publish", topic: name, payload: Buffer.from(payload), qos, retain, dup, messageId: qos > 0 ? id : undefined, properties },
        expected: { type: lib.PUBLISH, reasonCode: 0, qos, retain, dup, packetId: qos > 0 ? id : 0, topic: name, payload: Buffer.from(payload), props: properties },
      };
    });
  const ack = fc.tuple(
    fc.oneof(
      fc.tuple(fc.constantFrom(["puback", lib.PUBACK], ["pubrec", lib.PUBREC]), fc.constantFrom(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99)),
      fc.tuple(fc.constantFrom(["pubrel", lib.PUBREL], ["pubcomp", lib.PUBCOMP]), fc.constantFrom(0x00, 0x92)),
    ),
    packetId, ackProps,
  ).map(([[[cmd, type], reasonCode], id, props]) => ({
    packet: { cmd, messageId: id, reasonCode, properties: props.theirs },
    expected: { type, reasonCode, packetId: id, props: props.theirs },
  }));
  const subOrUnsub = fc.tuple(fc.boolean(), packetId, ackProps, fc.array(fc.constantFrom<number>(0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91), { minLength: 1, maxLength: 5 }), fc.array(fc.constantFrom(0x01, 0x02, 0x97, 0x9e, 0xa1, 0xa2), { maxLength: 2 }))
    .map(([isSub, id, props, codes, subOnly]) => {
      // 0x11 (no subscription existed) is for UNSUBACK only
      const subCodes = [...codes.filter((c) => c !== 0x11), ...subOnly];
      const all = isSub ? (subCodes.length > 0 ? subCodes : [0]) : codes;
      return {
        packet: isSub ? { cmd: "suback", messageId: id, granted: all, properties: props.theirs } : { cmd: "unsuback", messageId: id, granted: all, properties: props.theirs },
        expected: { type: isSub ? lib.SUBACK : lib.UNSUBACK, reasonCode: 0, packetId: id, codes: all, props: props.theirs },
      };
    });
  const disconnect = fc.tuple(fc.constantFrom(0x00, 0x04, 0x80, 0x8b, 0x8d, 0x8e, 0x93, 0x9c, 0xa0), chosen({ sessionExpiry: u32, reasonString: str, userProperties: users }), fc.option(str, { nil: undefined }))
    .map(([reasonCode, props, reference]) => {
      const properties: Their = { ...props.theirs };
      if (reference !== undefined) properties.serverReference = reference;
      return { packet: { cmd: "disconnect", reasonCode, properties }, expected: { type: lib.DISCONNECT, reasonCode, props: properties } };
    });
  const auth = fc.tuple(fc.constantFrom(0x00, 0x18, 0x19), chosen({ authenticationMethod: str, authenticationData: data, reasonString: str, userProperties: users }))
    .map(([reasonCode, props]) => ({ packet: { cmd: "auth", reasonCode, properties: props.theirs }, expected: { type: lib.AUTH, reasonCode, props: props.theirs } }));
  const pingresp = fc.constant({ packet: { cmd: "pingresp" }, expected: { type: lib.PINGRESP, reasonCode: 0, props: {} } });
  const serverPacket = fc.oneof(connack, publish, ack, subOrUnsub, disconnect, auth, pingresp);

  it("streams of CONNACK, PUBLISH, acknowledgements, SUBACK, UNSUBACK, PINGRESP, DISCONNECT and AUTH, cut anywhere", () => {
    fc.assert(fc.property(fc.array(serverPacket, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (packets, cuts) => {
      const parts = packets.map(({ packet }) => new Uint8Array(mqtt.generate(packet as unknown as mqtt.Packet, { protocolVersion: 5 })));
      const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const part of parts) {
        stream.set(part, at);
        at += part.length;
      }
      const decoded = decodeChunked(stream, cuts);
      expect(decoded).toEqual(packets.map(({ expected }) => expected));
    }), { numRuns: 1500 });
  });
});
