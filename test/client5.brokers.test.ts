/*
 * The client with protocolVersion 5 against mosquitto 2 (which speaks MQTT 5.0), with an
 * MQTT.js client at protocolVersion 5 as the independent peer: CONNECT and CONNACK
 * properties, PUBLISH properties both ways, topic aliases, reason codes on acknowledgements,
 * Receive Maximum, Maximum Packet Size, Server Keep Alive, session expiry, DISCONNECT with a
 * reason, and enhanced authentication refused. What mosquitto 2.0 cannot be made to send (a
 * DISCONNECT of its own, refusing SUBACK codes, AUTH) is in client5.session.test.ts. aedes
 * 1.x does not speak 5.0: the last test shows what a 5.0 client sees there. Each test asserts what a user observes and cites the MQTT 5.0
 * statement it checks. Every wait is bounded; everything started is stopped.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as mqttPacket from "mqtt-packet";
import { MqttClient } from "../device/mqtt/client.js";
import { mqtt5 } from "../device/mqtt/mqtt5.js";
import type { ClientOptions } from "../device/mqtt/options.js";
import type { MqttError } from "../device/mqtt/errors.js";
import type { Message5 } from "../device/mqtt/message5.js";
import { AedesBroker, closeAllAedes } from "./brokers/aedes.js";
import { connectPeer, recordingIo, runCleanups, sleep, uniqueName, waitFor } from "./brokers/helpers.js";
import type { Peer, RecordedSocket } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";
import { TcpProxy } from "./support/proxy.js";

const utf8 = new TextEncoder();
const b = (text: string): Uint8Array => utf8.encode(text);

interface Seen {
  connected: boolean[];
  errors: { code: string; reasonCode: number | undefined; message: string }[];
  disconnected: { code: string; reasonCode: number | undefined }[];
  published: [number, number][];
  subscribed: [string, number][];
  unsubscribed: [string, number][];
  messages: Record<string, unknown>[];
}

interface Ours {
  client: MqttClient;
  seen: Seen;
  sockets: RecordedSocket[];
}

const reasonOf = (error: MqttError): number | undefined => (error as MqttError & { reasonCode?: number }).reasonCode;

/** What a handler saw of a 5.0 message (copied while the handler runs). */
function snapshot(message: Message5): Record<string, unknown> {
  return {
    topic: message.topic, text: message.text(), qos: message.qos, contentType: message.contentType,
    responseTopic: message.responseTopic, correlationData: message.correlationData?.slice(), messageExpiry: message.messageExpiry,
    payloadFormat: message.payloadFormat, userProperties: message.userProperties(), unit: message.userProperty("unit"),
  };
}

/** The 5.0 packets our client wrote on its socket number `index`. */
function written(mine: Ours, index = 0): mqttPacket.Packet[] {
  const packets: mqttPacket.Packet[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  parser.on("packet", (packet) => packets.push(packet));
  parser.on("error", (error) => {
    throw error;
  });
  for (const chunk of mine.sockets[index].written) parser.parse(Buffer.from(chunk));
  return packets;
}

describe("client with protocolVersion 5 against mosquitto, MQTT.js v5 as the peer", () => {
  let broker: Mosquitto;
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    broker = await Mosquitto.start({ config: ["max_inflight_messages 3", "max_keepalive 30", "max_packet_size 2000"] });
  });

  afterEach(() => runCleanups(cleanups));
  afterAll(() => stopAllMosquittos());

  function ours(options: Partial<ClientOptions> = {}, port = broker.port): Ours {
    const recording = recordingIo();
    const seen: Seen = { connected: [], errors: [], disconnected: [], published: [], subscribed: [], unsubscribed: [], messages: [] };
    const client = new MqttClient({
      host: "127.0.0.1", port, clientId: uniqueName("ours5"), protocolVersion: 5, mqtt5, reconnect: { minDelay: 50, maxDelay: 200 }, connectTimeout: 3_000,
      ...options,
      io: recording.io,
      onConnected: (sessionPresent) => seen.connected.push(sessionPresent),
      onDisconnected: (error) => seen.disconnected.push({ code: error.code, reasonCode: reasonOf(error) }),
      onError: (error) => seen.errors.push({ code: error.code, reasonCode: reasonOf(error), message: error.message }),
      onPublished: (packetId, reasonCode) => seen.published.push([packetId, reasonCode]),
      onSubscribed: (filter, qos) => seen.subscribed.push([filter, qos]),
      onUnsubscribed: (filter, reasonCode) => seen.unsubscribed.push([filter, reasonCode]),
      onMessage: (message) => seen.messages.push(snapshot(message as Message5)),
    });
    cleanups.push(() => client.close());
    return { client, seen, sockets: recording.sockets };
  }

  async function connect(mine: Ours): Promise<void> {
    const count = mine.seen.connected.length;
    mine.client.connect();
    await waitFor(() => mine.seen.connected.length > count, "onConnected");
  }

  async function peer(options: Record<string, unknown> = {}): Promise<Peer> {
    const theirs = await connectPeer(broker.port, { protocolVersion: 5, ...options });
    cleanups.push(() => theirs.client.endAsync(true));
    return theirs;
  }

  it("CONNECT at level 5 carries Session Expiry, Receive Maximum, Maximum Packet Size and Topic Alias Maximum; CONNACK's limits and assigned client id are taken [MQTT-3.1.2-2][MQTT-3.2.2-16]", async () => {
    const mine = ours({ clientId: "", sessionExpiry: 120, maxInflight: 7, receiveBufferSize: 300, keepAlive: 60 });
    await connect(mine);
    const [connect5] = written(mine) as mqttPacket.IConnectPacket[];
    expect(connect5).toMatchObject({ cmd: "connect", protocolVersion: 5, clientId: "", keepalive: 60 });
    // the largest packet a 300-byte receive buffer takes: header byte, 2 length bytes, body [MQTT-3.1.2-24]
    expect(connect5.properties).toEqual({ sessionExpiryInterval: 120, receiveMaximum: 7, maximumPacketSize: 303, topicAliasMaximum: 2 });
    const session = mine.client.session5!;
    expect(session.assignedClientId).toMatch(/^auto-/);
    expect(session.receiveMaximum).toBe(3); // max_inflight_messages 3
    expect(session.inflightLimit).toBe(3);
    expect(session.topicAliasMaximum).toBeGreaterThan(0);
  });

  it("PUBLISH properties reach the peer; PUBACK reason codes reach onPublished: 0x00, and 0x10 with no subscriber [MQTT-3.4.2-1]", async () => {
    const topic = uniqueName("t5");
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/#", { qos: 1 });
    const mine = ours();
    await connect(mine);
    const properties = {
      contentType: b("application/json"), responseTopic: b(topic + "/reply"), correlationData: new Uint8Array([1, 2, 3]),
      messageExpiry: 300, payloadFormat: 1, userProperties: [{ name: b("unit"), value: b("°C") }, { name: b("unit"), value: b("K") }],
    };
    expect(mine.client.publish(topic + "/a", '{"t":21}', { qos: 1, properties })).toBe("sent");
    const first = mine.client.lastPacketId;
    mine.client.publish(uniqueName("nobody"), "x", { qos: 1 });
    const second = mine.client.lastPacketId;
    await waitFor(() => mine.seen.published.length === 2 && theirs.messages.length === 1, "both PUBACKs and the peer's message");
    expect(mine.seen.published).toEqual([[first, 0x00], [second, 0x10]]);
    const got = await new Promise<mqttPacket.IPublishPacket>((resolve) => {
      theirs.client.once("message", (_topic, _payload, packet) => resolve(packet));
      mine.client.publish(topic + "/b", '{"t":22}', { qos: 0, properties });
    });
    expect(got.topic).toBe(topic + "/b");
    expect(got.properties).toMatchObject({
      contentType: "application/json", responseTopic: topic + "/reply", correlationData: Buffer.from([1, 2, 3]), payloadFormatIndicator: true,
      userProperties: { unit: ["°C", "K"] },
    });
    // the broker forwards what is left of the expiry [MQTT-3.3.2-6]
    expect(got.properties!.messageExpiryInterval).toBeLessThanOrEqual(300);
  });

  it("a prepared topic goes as a topic alias: topic and alias first, then the alias alone; the peer sees the topic every time [MQTT-3.3.2-9]", async () => {
    const topic = uniqueName("alias");
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic, { qos: 0 });
    const mine = ours();
    await connect(mine);
    const prepared = mine.client.prepareTopic(topic);
    for (let i = 0; i < 3; i++) mine.client.publish(prepared, "m" + i);
    await waitFor(() => theirs.messages.length === 3, "three messages");
    expect(theirs.messages.map((m) => [m.topic, m.payload.toString()])).toEqual([[topic, "m0"], [topic, "m1"], [topic, "m2"]]);
    const publishes = written(mine).filter((p): p is mqttPacket.IPublishPacket => p.cmd === "publish");
    expect(publishes.map((p) => [p.topic, p.properties?.topicAlias])).toEqual([[topic, 1], ["", 1], ["", 1]]);
    expect(1).toBeLessThanOrEqual(mine.client.session5!.topicAliasMaximum);
  });

  it("a received message's properties are read by accessor: content type, response topic, correlation data, expiry, user properties", async () => {
    const topic = uniqueName("in5");
    const mine = ours();
    await connect(mine);
    mine.client.subscribe(topic, { qos: 1 });
    await waitFor(() => mine.seen.subscribed.length === 1, "onSubscribed");
    const theirs = await peer();
    await theirs.client.publishAsync(topic, "21.5", {
      qos: 1,
      properties: {
        contentType: "text/plain", responseTopic: topic + "/r", correlationData: Buffer.from("id-7"), messageExpiryInterval: 60,
        payloadFormatIndicator: true, userProperties: { unit: "C", site: ["a", "b"] },
      },
    });
    await waitFor(() => mine.seen.messages.length === 1, "the message");
    const [message] = mine.seen.messages;
    expect(message).toMatchObject({
      topic, text: "21.5", qos: 1, contentType: "text/plain", responseTopic: topic + "/r", correlationData: new Uint8Array(Buffer.from("id-7")),
      payloadFormat: 1, unit: "C",
    });
    expect(message.messageExpiry as number).toBeLessThanOrEqual(60);
    expect(message.userProperties).toEqual([["unit", "C"], ["site", "a"], ["site", "b"]]);
  });

  it("the broker's Receive Maximum bounds the QoS 1 messages in flight; the rest go as acknowledgements return [MQTT-3.3.4-7]", async () => {
    const link = await TcpProxy.start(broker.port);
    cleanups.push(() => link.close());
    const mine = ours({}, link.port);
    await connect(mine);
    link.stall("down"); // PUBACKs are held
    for (let i = 0; i < 6; i++) mine.client.publish(uniqueName("rm"), "m" + i, { qos: 1 });
    await waitFor(() => written(mine).filter((p) => p.cmd === "publish").length === 3, "three PUBLISH");
    await sleep(200);
    expect(written(mine).filter((p) => p.cmd === "publish").length).toBe(3); // max_inflight_messages 3
    link.flow("down");
    await waitFor(() => mine.seen.published.length === 6, "all six acknowledged");
    expect(mine.seen.errors).toEqual([]);
  });

  it("SUBACK and UNSUBACK reason codes reach onSubscribed and onUnsubscribed: granted QoS 2, then 0x00 success [MQTT-3.9.3-2][MQTT-3.11.3-2]", async () => {
    const mine = ours();
    await connect(mine);
    const filter = uniqueName("u") + "/+";
    mine.client.subscribe(filter, { qos: 2 });
    await waitFor(() => mine.seen.subscribed.length === 1, "onSubscribed");
    expect(mine.seen.subscribed).toEqual([[filter, 2]]);
    mine.client.unsubscribe(filter);
    await waitFor(() => mine.seen.unsubscribed.length === 1, "onUnsubscribed");
    expect(mine.seen.unsubscribed).toEqual([[filter, 0x00]]);
    const [subscribe] = written(mine).filter((p): p is mqttPacket.ISubscribePacket => p.cmd === "subscribe");
    expect(subscribe.subscriptions).toEqual([{ topic: filter, qos: 2, nl: false, rap: false, rh: 0 }]);
  });

  it("subscription identifiers: each message carries the identifier of the subscription that brought it (Message5.subscriptionIdentifier) [MQTT-3.3.4-3]", async () => {
    const topic = uniqueName("sid");
    const ids: [string, number][] = [];
    const mine = ours();
    await connect(mine);
    mine.client.subscribe(topic + "/a/#", { qos: 1, subscriptionIdentifier: 7 }, (m) => ids.push([m.text(), (m as Message5).subscriptionIdentifier]));
    mine.client.subscribe(topic + "/b/+", { qos: 1, subscriptionIdentifier: 300_000 }, (m) => ids.push([m.text(), (m as Message5).subscriptionIdentifier]));
    mine.client.subscribe(topic + "/c", { qos: 1 }, (m) => ids.push([m.text(), (m as Message5).subscriptionIdentifier]));
    await waitFor(() => mine.seen.subscribed.length === 3, "three SUBACKs");
    const theirs = await peer();
    for (const [sub, text] of [["a/x", "one"], ["b/y", "two"], ["c", "three"]]) await theirs.client.publishAsync(topic + "/" + sub, text, { qos: 1 });
    await waitFor(() => ids.length === 3, "three messages");
    expect(ids).toEqual([["one", 7], ["two", 300_000], ["three", 0]]);
  });

  it("noLocal: the broker does not send back what this client publishes on its own subscription; the peer's comes through [MQTT-3.8.3-3]", async () => {
    const topic = uniqueName("nl");
    const mine = ours();
    await connect(mine);
    mine.client.subscribe(topic, { qos: 1, noLocal: true });
    await waitFor(() => mine.seen.subscribed.length === 1, "onSubscribed");
    mine.client.publish(topic, "mine", { qos: 1 });
    await waitFor(() => mine.seen.published.length === 1, "the PUBACK");
    const theirs = await peer();
    await theirs.client.publishAsync(topic, "theirs", { qos: 1 });
    await waitFor(() => mine.seen.messages.length === 1, "the peer's message");
    await sleep(100);
    expect(mine.seen.messages.map((m) => m.text)).toEqual(["theirs"]);
  });

  it("the broker's Maximum Packet Size (max_packet_size 2000) bounds publish(): a larger message throws and nothing is sent [MQTT-3.2.2-15]", async () => {
    const mine = ours({ transmitBufferSize: 4096, outboxBytes: 4096 });
    await connect(mine);
    expect(mine.client.session5!.maximumPacketSize).toBe(2000);
    expect(() => mine.client.publish(uniqueName("big"), new Uint8Array(2000), { qos: 1 })).toThrow(expect.objectContaining({ code: "payload-too-large" }));
    expect(mine.client.publish(uniqueName("small"), new Uint8Array(1900), { qos: 1 })).toBe("sent");
    await waitFor(() => mine.seen.published.length === 1, "the PUBACK");
    expect(mine.seen.errors).toEqual([]);
    expect(written(mine).filter((p) => p.cmd === "publish").length).toBe(1);
  });

  it("close(0x04): DISCONNECT with Disconnect with Will Message makes the broker publish the will [MQTT-3.14.2.1]; close() does not", async () => {
    const topic = uniqueName("will");
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/#", { qos: 0 });
    const withWill = ours({ will: { topic: topic + "/a", payload: "gone", properties: { contentType: b("text/plain") } } });
    await connect(withWill);
    withWill.client.close(0x04);
    const quiet = ours({ will: { topic: topic + "/b", payload: "gone" } });
    await connect(quiet);
    quiet.client.close();
    await waitFor(() => theirs.messages.length === 1, "the will");
    await sleep(200);
    expect(theirs.messages.map((m) => [m.topic, m.payload.toString()])).toEqual([[topic + "/a", "gone"]]);
    const disconnect = written(withWill).at(-1) as mqttPacket.IDisconnectPacket;
    expect(disconnect).toMatchObject({ cmd: "disconnect", reasonCode: 0x04 });
    expect(() => ours().client.close(0x84)).toThrow(/reason/);
  });

  it("session expiry: a session kept for 60 s holds the QoS 1 messages published while the client was away [MQTT-3.1.2-23]", async () => {
    const id = uniqueName("keep");
    const topic = uniqueName("kept");
    const first = ours({ clientId: id, clean: false, sessionExpiry: 60 });
    await connect(first);
    first.client.subscribe(topic, { qos: 1 });
    await waitFor(() => first.seen.subscribed.length === 1, "onSubscribed");
    first.client.close();
    await waitFor(() => first.client.state === "closed", "closed");
    const theirs = await peer();
    await theirs.client.publishAsync(topic, "while away", { qos: 1 });
    const second = ours({ clientId: id, clean: false, sessionExpiry: 60 });
    await connect(second);
    expect(second.seen.connected).toEqual([true]);
    await waitFor(() => second.seen.messages.length === 1, "the kept message");
    expect(second.seen.messages[0]).toMatchObject({ topic, text: "while away" });
    // with close(0, 0) the session ends with the connection: the next one finds none
    second.client.close(0, 0);
    await waitFor(() => second.client.state === "closed", "closed");
    const third = ours({ clientId: id, clean: false, sessionExpiry: 60 });
    await connect(third);
    expect(third.seen.connected).toEqual([false]);
  });

  it("the broker's Server Keep Alive replaces the client's (max_keepalive 30) [MQTT-3.2.2-21]", async () => {
    const mine = ours({ keepAlive: 600 });
    await connect(mine);
    const [connect5] = written(mine) as mqttPacket.IConnectPacket[];
    expect(connect5.keepalive).toBe(600);
    expect(mine.client.session5!.keepAlive).toBe(30);
  });

  it("enhanced authentication with a method mosquitto has no plugin for: CONNACK 0x8C, reported as bad-credentials with the reason code", async () => {
    const answers: [number, Uint8Array | undefined][] = [];
    const mine = ours({
      reconnect: false,
      connectProperties: { authenticationMethod: b("SCRAM-SHA-256"), authenticationData: b("n,,n=user,r=abc") },
      onAuth: (reasonCode, data) => {
        answers.push([reasonCode, data]);
        return undefined;
      },
    });
    mine.client.connect();
    await waitFor(() => mine.seen.errors.length === 1, "the refusal");
    expect(mine.seen.errors[0]).toMatchObject({ code: "bad-credentials", reasonCode: 0x8c });
    expect(answers).toEqual([]);
  });
});

describe("protocolVersion 5 against aedes, which speaks MQTT 3.1.1 only", () => {
  afterAll(() => closeAllAedes());

  it("the connection is refused as unacceptable-protocol, and the client keeps trying", async () => {
    const aedes = await AedesBroker.start();
    const errors: string[] = [];
    const recording = recordingIo();
    const client = new MqttClient({
      host: "127.0.0.1", port: aedes.port, clientId: uniqueName("v5-aedes"), protocolVersion: 5, mqtt5, io: recording.io,
      reconnect: { minDelay: 50, maxDelay: 100 }, onError: (error) => errors.push(error.code),
    });
    try {
      client.connect();
      await waitFor(() => errors.length >= 2, "two refusals");
      expect(new Set(errors)).toEqual(new Set(["unacceptable-protocol"]));
      expect(client.connected).toBe(false);
    } finally {
      client.close();
    }
  });
});
