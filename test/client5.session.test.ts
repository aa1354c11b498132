/*
 * Session-logic tests of MqttClient with protocolVersion 5 at the byte level, on the fake
 * clock and scripted sockets of test/support/ (as client.session.test.ts does for 3.1.1):
 * the scripted server answers in MQTT 5.0 (mqtt-packet generates its packets, or they are
 * written out by hand) and mqtt-packet parses what the client writes. Covers what mosquitto
 * cannot be made to send: AUTH exchanges, a server's DISCONNECT, refusing reason codes, the
 * server's limits, and a server that breaks the alias rules. No real network, no real time.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as mqtt from "mqtt-packet";
import { MqttClient, mqtt5 } from "../device/mqtt/index.js";
import type { ClientOptions, MqttError } from "../device/mqtt/index.js";
import type { Link } from "./support/fake-network.js";
import { expectNoMisuse, harness } from "./support/session-harness.js";
import type { Harness } from "./support/session-harness.js";

const utf8 = new TextEncoder();
const b = (text: string): Uint8Array => utf8.encode(text);
const reasonOf = (error: MqttError): number | undefined => (error as MqttError & { reasonCode?: number }).reasonCode;

/** A 5.0 client on the fake network, recording the reason codes of its acknowledgements too. */
function harness5(options: Partial<ClientOptions> = {}): Harness & { acks: [number, number][] } {
  const acks: [number, number][] = [];
  const session = harness({ protocolVersion: 5, mqtt5, onPublished: (id, reason) => acks.push([id, reason]), ...options });
  return Object.assign(session, { acks });
}

function sent(link: Link): mqtt.Packet[] {
  return link.packets.map((p) => p.packet);
}

/** A server's PUBLISH with a topic alias (and an empty topic: the alias alone). */
function aliased(topic: string, alias: number, payload: string, qos: 0 | 1 = 0, messageId?: number): mqtt.IPublishPacket {
  return { cmd: "publish", topic, payload: Buffer.from(payload), qos, messageId, retain: false, dup: false, properties: { topicAlias: alias } } as mqtt.IPublishPacket;
}

/** The CONNACK a scripted server sends, with properties. */
function connackWith(session: Harness, properties: Record<string, unknown>): Link {
  session.net.connack = null;
  session.net.onPacket = (link, packet) => {
    if (packet.cmd !== "connect") return false;
    link.send({ cmd: "connack", sessionPresent: false, reasonCode: 0, properties } as mqtt.IConnackPacket);
    return true;
  };
  return session.start();
}

describe("CONNECT and CONNACK at 5.0", () => {
  it("a 3.1.1 client refuses close() with a reason code or a session expiry: its DISCONNECT carries neither", () => {
    const session = harness();
    session.start();
    expect(() => session.client.close(0x04)).toThrow(expect.objectContaining({ code: "argument-invalid" }));
    expect(() => session.client.close(0, 10)).toThrow(expect.objectContaining({ code: "argument-invalid" }));
    expect(session.client.state).toBe("connected");
  });

  it("a 3.1.1 client refuses the options only 5.0 has", () => {
    for (const extra of [{ sessionExpiry: 10 }, { connectProperties: {} }, { maxTopicAliases: 2 }, { maxIncomingAliases: 2 }, { onAuth: () => undefined }]) {
      expect(() => harness(extra)).toThrow(/protocolVersion 5/);
    }
    expect(() => harness({ protocolVersion: 3 })).toThrow(/protocolVersion/);
  });

  it("protocolVersion 5 needs the mqtt5 option, which brings the 5.0 code in", () => {
    expect(() => harness({ protocolVersion: 5 })).toThrow(/mqtt5/);
    expect(harness({ protocolVersion: 5, mqtt5 }).client.session5).toBeDefined();
  });

  it("a 3.1.1 program carries none of the 5.0 code: the board bundle (dist/board.js, built by npm test) has no 5.0 session, decoder or reason names", () => {
    const board = readFileSync(join(import.meta.dirname, "..", "dist", "board.js"), "utf8");
    const library = readFileSync(join(import.meta.dirname, "..", "dist", "xs-mqtt.js"), "utf8");
    // esbuild writes each class as `const Name = class`
    for (const name of ["Session5 = class", "IncomingAliases = class", "PacketDecoder5 = class", "SubscriptionTable5 = class", "Message5 = class", "session-taken-over"]) {
      expect(library, name).toContain(name);
      expect(board, name).not.toContain(name);
    }
  });

  it("a refusing CONNACK reports its reason code on the error: 0x86 bad user name or password [MQTT-3.2.2-8]", () => {
    const session = harness5({ reconnect: false });
    session.net.connack = { sessionPresent: false, returnCode: 0x86 };
    session.start();
    expect(session.codes()).toEqual(["bad-credentials"]);
    expect(reasonOf(session.errors[0])).toBe(0x86);
    expect(session.errors[0].message).toContain("bad-user-name-or-password");
  });

  it("the server's Maximum QoS, Retain Available and Maximum Packet Size bound publish(), which then sends nothing [MQTT-3.2.2-11][MQTT-3.2.2-14][MQTT-3.2.2-15]", () => {
    const session = harness5();
    const link = connackWith(session, { maximumQoS: 1, retainAvailable: false, maximumPacketSize: 40 });
    expect(() => session.client.publish("t", "x", { qos: 2 })).toThrow(expect.objectContaining({ code: "qos-invalid" }));
    expect(() => session.client.publish("t", "x", { retain: true })).toThrow(expect.objectContaining({ code: "argument-invalid" }));
    expect(() => session.client.publish("t", "x".repeat(40))).toThrow(expect.objectContaining({ code: "payload-too-large" }));
    expect(session.client.publish("t", "x".repeat(30))).toBe("sent");
    session.settle();
    expect(sent(link).map((p) => p.cmd)).toEqual(["connect", "publish"]);
  });
});

describe("enhanced authentication (AUTH) through onAuth", () => {
  it("the server's AUTH goes to onAuth; its answer goes back as AUTH 0x18 with the method; then CONNACK [MQTT-3.15.2-1]", () => {
    const calls: [number, string | undefined][] = [];
    const session = harness5({
      connectProperties: { authenticationMethod: b("TOKEN"), authenticationData: b("step-0") },
      onAuth: (reason, data) => {
        calls.push([reason, data === undefined ? undefined : Buffer.from(data).toString()]);
        return b("step-" + calls.length);
      },
    });
    session.net.connack = null;
    let rounds = 0;
    session.net.onPacket = (link, packet) => {
      if (packet.cmd === "connect" || packet.cmd === "auth") {
        rounds++;
        if (rounds < 3) link.send({ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "TOKEN", authenticationData: Buffer.from("challenge-" + rounds) } });
        else link.send({ cmd: "connack", reasonCode: 0, sessionPresent: false, properties: { authenticationMethod: "TOKEN" } } as mqtt.IConnackPacket);
        return true;
      }
      return false;
    };
    const link = session.start();
    expect(calls).toEqual([[0x18, "challenge-1"], [0x18, "challenge-2"]]);
    const packets = sent(link);
    expect(packets.map((p) => p.cmd)).toEqual(["connect", "auth", "auth"]);
    expect((packets[0] as mqtt.IConnectPacket).properties).toMatchObject({ authenticationMethod: "TOKEN", authenticationData: Buffer.from("step-0") });
    expect((packets[2] as mqtt.IAuthPacket)).toMatchObject({ reasonCode: 0x18, properties: { authenticationMethod: "TOKEN", authenticationData: Buffer.from("step-2") } });
    expect(session.connects).toEqual([false]);
    expect(session.codes()).toEqual([]);
    expectNoMisuse(session);
  });

  it("onAuth giving up (undefined) ends the attempt with auth-failed; no AUTH is sent", () => {
    const session = harness5({ reconnect: false, connectProperties: { authenticationMethod: b("TOKEN") }, onAuth: () => undefined });
    session.net.connack = null;
    session.net.onPacket = (link, packet) => {
      if (packet.cmd !== "connect") return false;
      link.send({ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "TOKEN" } });
      return true;
    };
    const link = session.start();
    expect(session.codes()).toEqual(["auth-failed"]);
    expect(reasonOf(session.errors[0])).toBe(0x18);
    expect(sent(link).map((p) => p.cmd)).toEqual(["connect"]);
  });

  it("onAuth needs an authentication method", () => {
    expect(() => harness5({ onAuth: () => undefined })).toThrow(/authenticationMethod/);
  });
});

describe("reason codes on acknowledgements and DISCONNECT", () => {
  it("PUBREC 0x97 (quota exceeded) ends a QoS 2 exchange: onPublished(id, 0x97), no PUBREL [MQTT-3.5.2.1]", () => {
    const session = harness5();
    const link = session.start();
    session.net.onPacket = (l, packet) => {
      if (packet.cmd === "publish" && packet.qos === 2) l.send({ cmd: "pubrec", messageId: packet.messageId, reasonCode: 0x97 });
    };
    session.client.publish("t", "x", { qos: 2 });
    const id = session.client.lastPacketId;
    session.settle();
    expect(session.acks).toEqual([[id, 0x97]]);
    expect(session.client.outboxCount).toBe(0);
    expect(sent(link).map((p) => p.cmd)).toEqual(["connect", "publish"]);
  });

  it("PUBACK 0x87 (not authorized) reaches onPublished with its code; the message is done", () => {
    const session = harness5();
    session.net.autoPuback = false;
    const link = session.start();
    session.client.publish("t", "x", { qos: 1 });
    const id = session.client.lastPacketId;
    session.settle();
    link.send({ cmd: "puback", messageId: id, reasonCode: 0x87, properties: { reasonString: "no" } });
    session.settle();
    expect(session.acks).toEqual([[id, 0x87]]);
    expect(session.client.outboxCount).toBe(0);
  });

  it("subscribe() options No Local, Retain As Published and Retain Handling go into SUBSCRIBE's options byte [MQTT-3.8.3-1]; the QoS granted reaches onSubscribed", () => {
    const granted: [string, number][] = [];
    const session = harness5({ onSubscribed: (filter, qos) => granted.push([filter, qos]) });
    const link = session.start();
    session.client.subscribe("a/+", { qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 });
    session.client.subscribe("b", { qos: 1 });
    expect(() => session.client.subscribe("c", { retainHandling: 3 })).toThrow(expect.objectContaining({ code: "argument-invalid" }));
    session.settle();
    const subscribes = sent(link).filter((p): p is mqtt.ISubscribePacket => p.cmd === "subscribe");
    expect(subscribes.map((p) => p.subscriptions)).toEqual([
      [{ topic: "a/+", qos: 2, nl: true, rap: true, rh: 2 }],
      [{ topic: "b", qos: 1, nl: false, rap: false, rh: 0 }],
    ]);
    expect(granted).toEqual([["a/+", 2], ["b", 1]]);
  });

  it("subscribe() with a subscriptionIdentifier puts it in SUBSCRIBE, again when the subscription is renewed after a lost session; a bad one throws, and 3.1.1 refuses any (MQTT 5.0 3.8.2.1.2: 0 is a protocol error)", () => {
    const session = harness5();
    const link = session.start();
    session.client.subscribe("a/#", { qos: 1, subscriptionIdentifier: 268_435_455 });
    session.client.subscribe("b", { qos: 0 });
    for (const bad of [0, -1, 268_435_456, 1.5, "3"]) {
      expect(() => session.client.subscribe("c", { subscriptionIdentifier: bad as number })).toThrow(expect.objectContaining({ code: "argument-invalid" }));
    }
    session.settle();
    const ids = (l: Link) => sent(l).filter((p): p is mqtt.ISubscribePacket => p.cmd === "subscribe")
      .map((p) => [p.subscriptions[0].topic, p.properties?.subscriptionIdentifier]);
    expect(ids(link)).toEqual([["a/#", 268_435_455], ["b", undefined]]);
    session.client.subscribe("b", { qos: 0, subscriptionIdentifier: 3 }); // subscribing again replaces it
    session.settle();
    expect(ids(link).at(-1)).toEqual(["b", 3]);
    link.cut();
    session.clock.advance(5_000);
    session.settle();
    expect(ids(session.net.last)).toEqual([["a/#", 268_435_455], ["b", 3]]); // no session: renewed with their ids
    expect(() => harness().client.subscribe("a", { subscriptionIdentifier: 1 })).toThrow(/protocolVersion 5/);
  });

  it("SUBACK 0x87 refuses the subscription: subscription-refused names the filter and the code [MQTT-3.9.3-2]", () => {
    const session = harness5();
    session.net.autoSuback = false;
    const link = session.start();
    session.client.subscribe("secret/#", { qos: 1 });
    session.settle();
    const subscribe = sent(link).at(-1) as mqtt.ISubscribePacket;
    link.send({ cmd: "suback", messageId: subscribe.messageId!, granted: [0x87] });
    session.settle();
    expect(session.codes()).toEqual(["subscription-refused"]);
    expect(session.errors[0].message).toContain("secret/#");
    expect(session.errors[0].message).toContain("0x87");
  });

  it("a server's DISCONNECT ends the connection with server-disconnected, its reason code and reason string; the client reconnects [MQTT-3.14.2-1]", () => {
    const session = harness5();
    const link = session.start();
    link.send({ cmd: "disconnect", reasonCode: 0x8b, properties: { reasonString: "maintenance" } });
    session.settle();
    expect(session.disconnects.map((e) => [e.code, reasonOf(e)])).toEqual([["server-disconnected", 0x8b]]);
    expect(session.disconnects[0].message).toContain("server-shutting-down: maintenance");
    session.clock.advance(5_000);
    session.settle();
    expect(session.connects).toEqual([false, false]);
  });

  it("close(0x04, 0) sends DISCONNECT with the reason and a Session Expiry of 0; a bad reason code throws and changes nothing", () => {
    const session = harness5({ sessionExpiry: 600 });
    const link = session.start();
    expect(() => session.client.close(0x92)).toThrow(expect.objectContaining({ code: "argument-invalid" }));
    expect(session.client.state).toBe("connected");
    session.client.close(0x04, 0);
    session.settle();
    expect(sent(link).at(-1)).toMatchObject({ cmd: "disconnect", reasonCode: 0x04, properties: { sessionExpiryInterval: 0 } });
  });
});

describe("topic aliases and the receive side", () => {
  it("aliases go to prepared topics up to the server's Topic Alias Maximum; a new connection sets them again [MQTT-3.3.2-9]", () => {
    const session = harness5();
    const link = connackWith(session, { topicAliasMaximum: 1 });
    const a = session.client.prepareTopic("a/1");
    const other = session.client.prepareTopic("b/2");
    session.client.publish(a, "1");
    session.client.publish(a, "2");
    session.client.publish(other, "3"); // no alias left: the whole topic, no alias
    session.settle();
    const wire = (l: Link) => sent(l).filter((p): p is mqtt.IPublishPacket => p.cmd === "publish").map((p) => [p.topic, p.properties?.topicAlias]);
    expect(wire(link)).toEqual([["a/1", 1], ["", 1], ["b/2", undefined]]);
    link.cut();
    session.clock.advance(5_000);
    session.settle();
    const again = session.net.last;
    expect(again).not.toBe(link);
    session.client.publish(a, "4");
    session.settle();
    expect(wire(again)).toEqual([["a/1", 1]]);
  });

  it("a topic given as a string gets no alias: it would take a new one on every publish", () => {
    const session = harness5();
    const link = connackWith(session, { topicAliasMaximum: 5 });
    session.client.publish("s/1", "a");
    session.client.publish("s/1", "b");
    session.settle();
    const wire = sent(link).filter((p): p is mqtt.IPublishPacket => p.cmd === "publish").map((p) => [p.topic, p.properties?.topicAlias]);
    expect(wire).toEqual([["s/1", undefined], ["s/1", undefined]]);
  });

  it("QoS 1 messages keep their whole topic, so that a resend on a new connection is valid", () => {
    const session = harness5();
    session.net.autoPuback = false;
    const link = connackWith(session, { topicAliasMaximum: 5 });
    const topic = session.client.prepareTopic("q/1");
    session.client.publish(topic, "x", { qos: 1 });
    session.settle();
    link.cut();
    session.clock.advance(5_000);
    session.settle();
    const resent = sent(session.net.last).filter((p): p is mqtt.IPublishPacket => p.cmd === "publish");
    expect(resent.map((p) => [p.topic, p.dup, p.properties?.topicAlias])).toEqual([["q/1", true, undefined]]);
  });

  it("a PUBLISH with a topic alias from the server, which was allowed none, is a protocol violation [MQTT-3.1.2-26]", () => {
    const session = harness5({ maxIncomingAliases: 0 });
    const link = session.start();
    expect(sent(link)[0]).toMatchObject({ cmd: "connect" });
    expect((sent(link)[0] as mqtt.IConnectPacket).properties?.topicAliasMaximum).toBeUndefined();
    link.send(aliased("a", 1, "x"));
    session.settle();
    expect(session.codes()).toEqual(["protocol-violation"]);
    expect(reasonOf(session.errors[0])).toBe(0x94);
  });

  it("incoming topic aliases: CONNECT announces maxIncomingAliases (default 2); the topic an alias set reaches handlers and subscriptions when the alias comes alone; a new connection forgets them [MQTT-3.3.2-10][MQTT-3.3.2-7]", () => {
    const got: string[] = [];
    const session = harness5();
    const link = session.start();
    expect((sent(link)[0] as mqtt.IConnectPacket).properties?.topicAliasMaximum).toBe(2);
    const kitchen = session.client.prepareTopic("home/kitchen");
    session.client.subscribe("home/+", { qos: 1 }, (m) => got.push(`${m.topic} ${m.text()} ${m.topicIs(kitchen)}`));
    session.settle();
    link.send(aliased("home/kitchen", 1, "a"));
    link.send(aliased("home/hall", 2, "b"));
    link.send(aliased("", 1, "c"));
    link.send(aliased("", 2, "d", 1, 7));
    link.send(aliased("home/kitchen", 2, "e")); // an alias set again takes its new topic
    link.send(aliased("", 2, "f"));
    session.settle();
    expect(got).toEqual(["home/kitchen a true", "home/hall b false", "home/kitchen c true", "home/hall d false", "home/kitchen e true", "home/kitchen f true"]);
    expect(session.messages.map((m) => m.topic)).toEqual(["home/kitchen", "home/hall", "home/kitchen", "home/hall", "home/kitchen", "home/kitchen"]);
    expect(sent(link).at(-1)).toMatchObject({ cmd: "puback", messageId: 7 });
    expect(session.errors).toEqual([]);
    link.cut();
    session.clock.advance(5_000);
    session.settle();
    const again = session.net.last;
    expect(again).not.toBe(link);
    again.send(aliased("", 1, "g")); // set on the old connection only: used alone here, a protocol error
    session.settle();
    expect(session.codes()).toContain("protocol-violation");
    expect(reasonOf(session.errors.at(-1)!)).toBe(0x82);
    expect(sent(again).at(-1)).toMatchObject({ cmd: "disconnect", reasonCode: 0x82 });
    expect(got).toHaveLength(6);
  });

  it("an incoming topic alias above maxIncomingAliases is a protocol violation, reason 0x94 (topic alias invalid); an alias of 0 one the decoder refuses [MQTT-3.3.2-10][MQTT-3.3.2-8]", () => {
    for (const alias of [4, 0]) {
      const session = harness5({ maxIncomingAliases: 3 });
      const link = session.start();
      expect((sent(link)[0] as mqtt.IConnectPacket).properties?.topicAliasMaximum).toBe(3);
      link.send(aliased("a", alias, "x"));
      session.settle();
      expect(session.codes()).toEqual(["protocol-violation"]);
      if (alias === 0) expect(session.errors[0].message).toMatch(/property-invalid/);
      else expect(reasonOf(session.errors[0])).toBe(0x94);
      // the client says why before it closes: 0x94 topic alias invalid, 0x81 malformed packet
      expect(sent(link).at(-1)).toMatchObject({ cmd: "disconnect", reasonCode: alias === 0 ? 0x81 : 0x94 });
      expect(link.open).toBe(false);
      expect(session.messages).toEqual([]);
    }
  });

  it("a protocol violation the client finds ends with DISCONNECT and its reason code before the close: 0x81 for a packet the decoder refuses, 0x82 for one out of place (MQTT 5.0 4.13.1)", () => {
    const malformed = harness5();
    const first = malformed.start();
    // a PUBACK whose property length runs past the packet's end
    first.deliver(new Uint8Array([0x40, 4, 0, 1, 0x00, 9]));
    malformed.settle();
    expect(malformed.codes()).toEqual(["protocol-violation"]);
    expect(sent(first).at(-1)).toMatchObject({ cmd: "disconnect", reasonCode: 0x81 });
    expect(first.open).toBe(false);

    const outOfPlace = harness5();
    const second = outOfPlace.start();
    second.send({ cmd: "suback", messageId: 77, granted: [0], properties: {} } as mqtt.ISubackPacket); // no SUBSCRIBE has id 77
    outOfPlace.settle();
    expect(outOfPlace.codes()).toEqual(["protocol-violation"]);
    expect(sent(second).at(-1)).toMatchObject({ cmd: "disconnect", reasonCode: 0x82 });
    expect(second.open).toBe(false);
  });

  it("a 3.1.1 client closes on a protocol violation without DISCONNECT (3.1.1 has no reason to give)", () => {
    const session = harness();
    const link = session.start();
    link.send({ cmd: "suback", messageId: 77, granted: [0] } as mqtt.ISubackPacket);
    session.settle();
    expect(session.codes()).toEqual(["protocol-violation"]);
    expect(sent(link).map((p) => p.cmd)).toEqual(["connect"]);
  });

  it("a received message reads its properties in place, by accessor", () => {
    const seen: unknown[] = [];
    const session = harness5({
      onMessage: (message) => {
        const m = message as unknown as import("../device/mqtt/message5.js").Message5;
        seen.push([m.topic, m.messageExpiry, m.contentType, m.propertyEquals(0x09, b("c-1")), m.subscriptionIdentifier, m.userProperty("k"), m.userProperty("none")]);
      },
    });
    const link = session.start();
    link.send({
      cmd: "publish", topic: "in", payload: Buffer.from("x"), qos: 1, messageId: 3, retain: false, dup: false,
      properties: { messageExpiryInterval: 9, contentType: "text/plain", correlationData: Buffer.from("c-1"), subscriptionIdentifier: 4, userProperties: { k: "v" } },
    } as mqtt.IPublishPacket);
    session.settle();
    expect(seen).toEqual([["in", 9, "text/plain", true, 4, "v", undefined]]);
    expect(sent(link).at(-1)).toMatchObject({ cmd: "puback", messageId: 3 });
  });

  it("MqttClient is the same class for both versions: a 3.1.1 client has no session5", () => {
    expect(harness().client.session5).toBeUndefined();
    expect(harness5().client.session5).toBeDefined();
    expect(MqttClient).toBe(harness().client.constructor);
  });
});
