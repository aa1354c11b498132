/*
 * The client's `pipeline` and `lastPacketId` options against real brokers (mosquitto 2.0 as a
 * child process, aedes in process), with MQTT.js as the peer that receives. MQTT 3.1.1
 * section 3.1.4: a client may send further packets right after CONNECT without waiting for
 * the CONNACK; a server that refuses the CONNECT must not process anything sent after it
 * [MQTT-3.1.4-5]; the server's first packet is the CONNACK [MQTT-3.2.0-1]. Each test reads
 * what our client wrote, socket write by socket write, and what the peer received. Every
 * wait is bounded; every client, peer and broker is stopped.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { IPublishPacket } from "mqtt-packet";
import { MqttClient } from "../device/mqtt/client.js";
import type { ClientOptions } from "../device/mqtt/options.js";
import type { ErrorCode } from "../device/mqtt/errors.js";
import { AedesBroker, closeAllAedes } from "./brokers/aedes.js";
import { connectPeer, parsePackets, recordingIo, runCleanups, sleep, uniqueName, waitFor } from "./brokers/helpers.js";
import type { BrokerOptions, RecordedSocket, TestBroker } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";

interface Ours {
  client: MqttClient;
  sockets: RecordedSocket[];
  published: number[];
  connected: boolean[];
  errors: ErrorCode[];
}

const kinds: { name: string; start(options?: BrokerOptions): Promise<TestBroker> }[] = [
  { name: "mosquitto", start: (options) => Mosquitto.start(options) },
  { name: "aedes", start: (options) => AedesBroker.start(options) },
];

const RETAINED_QOS1 = { qos: 1, retain: true } as const;

describe.each(kinds)("pipelining against $name", (kind) => {
  let broker: TestBroker;
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    broker = await kind.start();
  });
  afterEach(() => runCleanups(cleanups));
  afterAll(async () => {
    await stopAllMosquittos();
    await closeAllAedes();
  });

  function ours(port: number, options: Partial<ClientOptions> = {}): Ours {
    const recording = recordingIo();
    const mine: Ours = { client: undefined as never, sockets: recording.sockets, published: [], connected: [], errors: [] };
    mine.client = new MqttClient({
      host: "127.0.0.1",
      port,
      clientId: uniqueName("ours"),
      reconnect: false,
      connectTimeout: 3_000,
      ...options,
      io: recording.io,
      onConnected: (present) => mine.connected.push(present),
      onPublished: (id) => mine.published.push(id),
      onError: (error) => mine.errors.push(error.code),
    });
    cleanups.push(() => mine.client.close());
    return mine;
  }

  async function peer(port: number, filter: string) {
    const theirs = await connectPeer(port);
    cleanups.push(() => theirs.client.endAsync(true));
    await theirs.client.subscribeAsync(filter, { qos: 1 });
    return theirs;
  }

  it("pipeline: CONNECT and a retained QoS 1 PUBLISH in one write before the CONNACK; the broker answers CONNACK then PUBACK, the peer gets the message [MQTT-3.1.4-5] [MQTT-3.2.0-1]", async () => {
    const topic = uniqueName("t") + "/state";
    const theirs = await peer(broker.port, topic);
    const mine = ours(broker.port, { pipeline: true });
    expect(mine.client.publish(topic, "{\"t\":21.5}", RETAINED_QOS1)).toBe("queued");
    mine.client.connect();
    await waitFor(() => mine.published.length === 1, "the PUBACK");
    expect(mine.connected).toEqual([false]);
    const written = mine.sockets[0].written;
    // the first write holds both packets: nothing waited for the CONNACK
    expect(parsePackets([written[0]]).map((p) => p.cmd)).toEqual(["connect", "publish"]);
    expect(mine.client.outboxCount).toBe(0);
    await waitFor(() => theirs.messages.length === 1, "the peer's copy");
    expect(theirs.messages[0].payload.toString()).toBe("{\"t\":21.5}");
    expect(mine.errors).toEqual([]);
    mine.client.close();
    await waitFor(() => mine.client.state === "closed", "closed");
    expect(parsePackets(written).map((p) => p.cmd)).toEqual(["connect", "publish", "disconnect"]);
  });

  it("without pipeline (the default) the PUBLISH waits for the CONNACK: CONNECT is written alone first [MQTT-3.1.0-1]", async () => {
    const topic = uniqueName("t") + "/state";
    const mine = ours(broker.port);
    expect(mine.client.publish(topic, "x", RETAINED_QOS1)).toBe("queued");
    mine.client.connect();
    await waitFor(() => mine.published.length === 1, "the PUBACK");
    const written = mine.sockets[0].written;
    expect(parsePackets([written[0]]).map((p) => p.cmd)).toEqual(["connect"]);
    expect(parsePackets(written).map((p) => p.cmd)).toEqual(["connect", "publish"]);
  });

  it("a refused CONNECT: the PUBLISH written behind it is not processed (the peer never gets it) and stays in the outbox [MQTT-3.1.4-5]", async () => {
    const guarded = await kind.start({ users: { alice: "secret" } });
    const topic = uniqueName("t") + "/state";
    const watcher = await connectPeer(guarded.port, { username: "alice", password: "secret" });
    cleanups.push(() => watcher.client.endAsync(true));
    await watcher.client.subscribeAsync(topic, { qos: 1 });
    const mine = ours(guarded.port, { pipeline: true, username: "alice", password: "wrong" });
    mine.client.publish(topic, "must not arrive", RETAINED_QOS1);
    mine.client.connect();
    await waitFor(() => mine.client.state === "closed", "the refusal");
    expect(parsePackets([mine.sockets[0].written[0]]).map((p) => p.cmd)).toEqual(["connect", "publish"]);
    expect(mine.errors.length).toBe(1);
    expect(["not-authorized", "bad-credentials"]).toContain(mine.errors[0]);
    expect(mine.connected).toEqual([]);
    expect(mine.published).toEqual([]);
    expect(mine.client.outboxCount).toBe(1);
    // a later subscriber would get a retained copy, had the broker taken it: it has none
    const late = await connectPeer(guarded.port, { username: "alice", password: "secret" });
    cleanups.push(() => late.client.endAsync(true));
    await late.client.subscribeAsync(topic, { qos: 1 });
    await sleep(200);
    expect(watcher.messages).toEqual([]);
    expect(late.messages).toEqual([]);
  });

  it("lastPacketId: numbering goes on after it (42 after 41) and wraps from 65,535 to 1 [MQTT-2.3.1-1]", async () => {
    const topic = uniqueName("t") + "/state";
    const after41 = ours(broker.port, { pipeline: true, lastPacketId: 41 });
    after41.client.publish(topic, "a", RETAINED_QOS1);
    expect(after41.client.lastPacketId).toBe(42);
    after41.client.connect();
    await waitFor(() => after41.published.length === 1, "the PUBACK");
    expect(after41.published).toEqual([42]);
    const sent = parsePackets(after41.sockets[0].written).filter((p) => p.cmd === "publish") as IPublishPacket[];
    expect(sent.map((p) => p.messageId)).toEqual([42]);

    const atTop = ours(broker.port, { pipeline: true, lastPacketId: 65_535 });
    atTop.client.publish(topic, "b", RETAINED_QOS1);
    atTop.client.connect();
    await waitFor(() => atTop.published.length === 1, "the PUBACK");
    expect(atTop.published).toEqual([1]);
  });
});
