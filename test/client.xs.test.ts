// The client as built (dist/xs-mqtt.js, which npm test builds first) running inside the
// real XS engine (xsnap) with its TCP and Timer bridged to Node by host-sim/engines/xs (XsHost),
// against a real mosquitto started on a free loopback port with a config file of its own
// (test/brokers/mosquitto.ts), with MQTT.js as the independent peer on the other side.
// Nothing is skipped when xsnap or mosquitto is missing: starting them fails with the reason.
// Every process started here (mosquitto, the XS worker) and every peer is stopped in afterAll.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XsHost } from "../host-sim/engines/xs/host.js";
import { connectPeer, uniqueName, waitFor } from "./brokers/helpers.js";
import type { Peer } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";
import { xsUntil as waitInXs, xsValue as valueInXs } from "./support/xs-eval.js";

const BUNDLE = path.join(import.meta.dirname, "..", "dist", "xs-mqtt.js");

let broker: Mosquitto;
let xs: XsHost;
let peer: Peer;
const hostErrors: string[] = [];

const xsUntil = (expression: string, what: string, timeout?: number): Promise<void> => waitInXs(xs, expression, what, timeout);
const xsValue = <T>(expression: string): Promise<T> => valueInXs<T>(xs, expression);

beforeAll(async () => {
  broker = await Mosquitto.start();
  xs = await XsHost.start({ name: "client.xs", onError: (error) => hostErrors.push(error.message) });
  await xs.load(BUNDLE, "M");
  peer = await connectPeer(broker.port);
  await peer.client.subscribeAsync("xs/out/#", { qos: 1 });
});

afterAll(async () => {
  await peer?.client.endAsync(true);
  await xs?.close();
  await stopAllMosquittos();
});

describe("the built client inside XS, against mosquitto, with MQTT.js as the peer", () => {
  it("runs in XS, not in Node", async () => {
    expect(await xsValue("[typeof process, typeof Buffer, typeof M.MqttClient, typeof hostIo.io.TCP]"))
      .toEqual(["undefined", "undefined", "function", "function"]);
  });

  it("connects through the bridged TCP socket and Timer", async () => {
    await xs.evaluate(`
      globalThis.log = { connected: 0, subscribed: [], published: [], messages: [], errors: [], disconnected: [] };
      globalThis.client = new M.MqttClient({
        host: "127.0.0.1", port: ${broker.port}, clientId: ${JSON.stringify(uniqueName("xs-client"))},
        keepAlive: 30, reconnect: false, transmitBufferSize: 4096, receiveBufferSize: 4096, outboxBytes: 8192,
        will: { topic: "xs/out/will", payload: "the XS client went away", qos: 1 },
        io: hostIo.io,
        onConnected(sessionPresent) { log.connected++; log.sessionPresent = sessionPresent; },
        onSubscribed(filter, qos) { log.subscribed.push([filter, qos]); },
        onPublished(packetId) { log.published.push(packetId); },
        onError(error) { log.errors.push(error.code + ": " + error.message); },
        onDisconnected(error) { log.disconnected.push(error.code); },
      });
      client.connect();
      client.state`);
    await xsUntil("log.connected === 1", "the CONNACK");
    expect(await xsValue("[client.state, log.sessionPresent, log.errors]")).toEqual(["connected", false, []]);
    expect(xs.tcp.connections).toBe(1);
    expect(xs.timer.active).toBe(1); // the client's tick
  });

  it("subscribes, and gets the SUBACK with the granted QoS", async () => {
    await xs.evaluate(`
      client.subscribe("xs/in/+", { qos: 1 }, (message) => {
        log.messages.push({ topic: message.topic, payload: Array.from(message.payload), qos: message.qos, retain: message.retain });
      })`);
    await xsUntil("log.subscribed.length === 1", "the SUBACK");
    expect(await xsValue("log.subscribed")).toEqual([["xs/in/+", 1]]);
  });

  it("publishes QoS 0 and QoS 1 that MQTT.js receives, topic and payload intact", async () => {
    const statuses = await xsValue<string[]>(`
      globalThis.binary = new Uint8Array(300).map((_, i) => (i * 7) & 0xff);
      [client.publish("xs/out/zero", "hello from XS, QoS 0 \\u00e9\\u20ac"),
       client.publish(client.prepareTopic("xs/out/one"), binary, { qos: 1 })]`);
    expect(statuses).toEqual(["sent", "sent"]);
    await waitFor(() => peer.messages.length >= 2, "MQTT.js to receive both messages");
    const [zero, one] = peer.messages;
    expect(zero.topic).toBe("xs/out/zero");
    expect(zero.payload.toString("utf8")).toBe("hello from XS, QoS 0 \u00e9\u20ac");
    expect(zero.qos).toBe(0);
    expect(one.topic).toBe("xs/out/one");
    expect([...one.payload]).toEqual(Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff));
    expect(one.qos).toBe(1);
    // the broker's PUBACK came back into XS and freed the outbox
    await xsUntil("log.published.length === 1", "the PUBACK");
    expect(await xsValue("[client.outboxCount, client.stats.sent, client.stats.acknowledged]")).toEqual([0, 2, 1]);
  });

  it("publishes a QoS 1 message larger than the 1,536-byte send window (written in parts)", async () => {
    peer.messages.length = 0;
    const writes: number[] = [];
    const command = xs.tcp.command.bind(xs.tcp);
    xs.tcp.command = (request) => {
      if (request.header.op === "write") writes.push(request.body.length);
      return command(request);
    };
    const status = await xsValue(`
      globalThis.big = new Uint8Array(3500).map((_, i) => (i * 13 + 1) & 0xff);
      client.publish("xs/out/big", big, { qos: 1 })`);
    expect(status).toBe("sent");
    await waitFor(() => peer.messages.length >= 1, "MQTT.js to receive the large message");
    expect(peer.messages[0].topic).toBe("xs/out/big");
    expect([...peer.messages[0].payload]).toEqual(Array.from({ length: 3500 }, (_, i) => (i * 13 + 1) & 0xff));
    await xsUntil("log.published.length === 2", "the PUBACK of the large message");
    expect(await xsValue("client.outboxCount")).toBe(0);
    xs.tcp.command = command;
    // the PUBLISH went out in several writes, none past the window
    expect(writes.length).toBeGreaterThan(2);
    expect(Math.max(...writes)).toBeLessThanOrEqual(1536);
    expect(writes.reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(3500);
  });

  it("receives QoS 0 and QoS 1 messages MQTT.js publishes, in its handler, topic and payload intact", async () => {
    await peer.client.publishAsync("xs/in/zero", "from MQTT.js, QoS 0 \u00fc", { qos: 0 });
    await peer.client.publishAsync("xs/in/one", Buffer.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]), { qos: 1 });
    await xsUntil("log.messages.length >= 2", "both messages");
    expect(await xsValue("log.messages")).toEqual([
      { topic: "xs/in/zero", payload: [...Buffer.from("from MQTT.js, QoS 0 \u00fc")], qos: 0, retain: false },
      { topic: "xs/in/one", payload: [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff], qos: 1, retain: false },
    ]);
    expect(await xsValue("client.stats.received")).toBe(2);
  });

  it("closes with DISCONNECT: the connection ends, the broker does not publish the will", async () => {
    peer.messages.length = 0;
    await xs.evaluate("client.close()");
    await xsUntil("client.state === 'closed'", "the client to close");
    await waitFor(() => xs.tcp.connections === 0, "the bridged connection to end");
    expect(xs.timer.active).toBe(0);
    // a round trip through the broker after the connection ended: a will would come first
    await peer.client.publishAsync("xs/out/marker", "after close", { qos: 1 });
    await waitFor(() => peer.messages.length >= 1, "the marker");
    expect(peer.messages.map((m) => m.topic)).toEqual(["xs/out/marker"]);
    expect(await xsValue("[log.errors, log.disconnected, log.connected]")).toEqual([[], ["closed"], 1]);
    expect(hostErrors).toEqual([]);
  });
});
