// The client as built (dist/xs-mqtt.js) with protocolVersion 5, running inside the real XS
// engine (xsnap) with its TCP and Timer bridged to Node by host-sim/engines/xs (XsHost),
// against a real mosquitto on a free loopback port, with MQTT.js at protocolVersion 5 as the
// peer: CONNECT and CONNACK properties, PUBLISH properties both ways, a topic alias, a
// PUBACK reason code, and DISCONNECT with the will. Nothing is skipped when xsnap or
// mosquitto is missing. Every process and peer started here is stopped in afterAll.
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
  xs = await XsHost.start({ name: "client5.xs", onError: (error) => hostErrors.push(error.message) });
  await xs.load(BUNDLE, "M");
  peer = await connectPeer(broker.port, { protocolVersion: 5 });
  await peer.client.subscribeAsync("xs5/out/#", { qos: 1 });
});

afterAll(async () => {
  await peer?.client.endAsync(true);
  await xs?.close();
  await stopAllMosquittos();
});

describe("the built client inside XS at protocolVersion 5, against mosquitto, with MQTT.js v5 as the peer", () => {
  it("connects at level 5 with a session expiry; takes the broker's limits and an assigned client id", async () => {
    await xs.evaluate(`
      globalThis.enc = new TextEncoder();
      globalThis.log = { connected: 0, subscribed: 0, published: [], messages: [], errors: [], disconnected: [] };
      globalThis.client = new M.MqttClient({
        host: "127.0.0.1", port: ${broker.port}, clientId: "", protocolVersion: 5, mqtt5: M.mqtt5, sessionExpiry: 30,
        keepAlive: 30, reconnect: false,
        will: { topic: "xs5/out/will", payload: "gone", qos: 1, properties: { contentType: enc.encode("text/plain") } },
        io: hostIo.io,
        onConnected(sessionPresent) { log.connected++; },
        onSubscribed(filter, qos) { log.subscribed++; },
        onPublished(packetId, reasonCode) { log.published.push([packetId, reasonCode]); },
        onError(error) { log.errors.push(error.code + ": " + error.message); },
        onDisconnected(error) { log.disconnected.push(error.code); },
        onMessage(message) {
          log.messages.push({ topic: message.topic, text: message.text(), contentType: message.contentType,
            unit: message.userProperty("unit"), expiry: message.messageExpiry });
        },
      });
      client.connect();
      client.state`);
    await xsUntil("log.connected === 1", "the CONNACK");
    const [state, assigned, aliases] = await xsValue<[string, string, number]>("[client.state, client.session5.assignedClientId, client.session5.topicAliasMaximum]");
    expect(state).toBe("connected");
    expect(assigned).toMatch(/^auto-/);
    expect(aliases).toBeGreaterThan(0);
  });

  it("publishes with properties and a topic alias; onPublished gets the PUBACK's reason code", async () => {
    const statuses = await xsValue<string[]>(`
      globalThis.props = { contentType: enc.encode("application/json"), userProperties: [{ name: enc.encode("unit"), value: enc.encode("C") }] };
      globalThis.out = client.prepareTopic("xs5/out/t");
      [client.publish(out, "{\\"t\\":1}", { properties: props }), client.publish(out, "{\\"t\\":2}"),
       client.publish("xs5/nobody/" + Date.now(), "x", { qos: 1 })]`);
    expect(statuses).toEqual(["sent", "sent", "sent"]);
    await waitFor(() => peer.messages.length >= 2, "MQTT.js to receive both messages");
    expect(peer.messages.map((m) => [m.topic, m.payload.toString()])).toEqual([["xs5/out/t", '{"t":1}'], ["xs5/out/t", '{"t":2}']]);
    await xsUntil("log.published.length === 1", "the PUBACK");
    expect(await xsValue("log.published[0][1]")).toBe(0x10); // no matching subscribers
  });

  it("receives a message whose properties its handler reads by accessor", async () => {
    const topic = "xs5/in/" + uniqueName("m");
    await xs.evaluate(`client.subscribe(${JSON.stringify(topic)}, { qos: 1 })`);
    await xsUntil("log.subscribed === 1", "the SUBACK");
    await peer.client.publishAsync(topic, "21.5", { qos: 1, properties: { contentType: "text/plain", userProperties: { unit: "C" }, messageExpiryInterval: 60 } });
    await xsUntil("log.messages.length === 1", "the message");
    const [message] = await xsValue<Record<string, unknown>[]>("log.messages");
    expect(message).toMatchObject({ topic, text: "21.5", contentType: "text/plain", unit: "C" });
    expect(message.expiry as number).toBeLessThanOrEqual(60);
  });

  it("close(0x04) sends DISCONNECT with the will: the broker publishes it", async () => {
    peer.messages.length = 0;
    await xs.evaluate("client.close(0x04)");
    await xsUntil("client.state === 'closed'", "the client to close");
    await waitFor(() => peer.messages.length >= 1, "the will");
    expect(peer.messages.map((m) => [m.topic, m.payload.toString()])).toEqual([["xs5/out/will", "gone"]]);
    expect(await xsValue("[log.errors, log.disconnected]")).toEqual([[], ["closed"]]);
    expect(hostErrors).toEqual([]);
  });
});
