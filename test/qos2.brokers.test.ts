/*
 * QoS 2 exactly once against a real mosquitto with persistence, on MQTT 3.1.1 and on 5.0
 * with a session expiry, with MQTT.js as the peer: our client (clean start off, through the
 * fault proxy of test/support/proxy.ts) publishes to an MQTT.js subscriber and receives from
 * an MQTT.js publisher, both with stored sessions, connected to mosquitto directly. Each
 * exchange is stopped at one step (the PUBLISH delivered but its PUBREC lost, the PUBREC
 * delivered but the PUBREL lost, the PUBREL delivered but the PUBCOMP lost) by holding bytes
 * in the proxy, then the link is cut, or mosquitto is stopped (it writes its persistence
 * file) and started again. What a user observes: every message arrives exactly once, on
 * each side. Every wait is bounded; every client, peer, proxy and broker is stopped.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as mqttPacket from "mqtt-packet";
import { MqttClient } from "../device/mqtt/client.js";
import { mqtt5 } from "../device/mqtt/mqtt5.js";
import type { ClientOptions } from "../device/mqtt/options.js";
import { connectPeer, runCleanups, sleep, uniqueName, waitFor } from "./brokers/helpers.js";
import type { Peer } from "./brokers/helpers.js";
import { hostIo } from "../host-sim/io/io.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";
import { TcpProxy } from "./support/proxy.js";

/** The acknowledgement packets of a QoS 2 exchange are 4 bytes each (reason code 0 left out on 5.0). */
const ACK = 4;

interface Version {
  name: string;
  ours: Partial<ClientOptions>;
  peer: Record<string, unknown>;
}

const versions: Version[] = [
  { name: "3.1.1", ours: {}, peer: { protocolVersion: 4 } },
  {
    name: "5.0",
    ours: { protocolVersion: 5, mqtt5, sessionExpiry: 3600 },
    peer: { protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } },
  },
];

/** The packets in what our client sent on one connection (mqtt-packet, the independent codec). */
function packets(chunks: readonly Uint8Array[], version: Version): mqttPacket.Packet[] {
  const found: mqttPacket.Packet[] = [];
  const parser = mqttPacket.parser({ protocolVersion: version.name === "5.0" ? 5 : 4 });
  parser.on("packet", (packet) => found.push(packet));
  parser.on("error", (error) => {
    throw error;
  });
  for (const chunk of chunks) parser.parse(Buffer.from(chunk));
  return found;
}

/** Where the exchange stops: the last packet that got through before the fault. */
type Step = "PUBLISH" | "PUBREC" | "PUBREL";
type Fault = "cut link" | "broker restart";

const cases: { step: Step; fault: Fault }[] = [];
for (const fault of ["cut link", "broker restart"] as const) {
  for (const step of ["PUBLISH", "PUBREC", "PUBREL"] as const) cases.push({ step, fault });
}

describe.each(versions)("QoS 2 exactly once against mosquitto with persistence, MQTT $name", (version) => {
  let broker: Mosquitto;
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: true });
  });

  afterEach(() => runCleanups(cleanups));
  afterAll(() => stopAllMosquittos());

  interface World {
    topic: string;
    link: TcpProxy;
    client: MqttClient;
    connected: boolean[];
    subscribed: number;
    published: number[];
    /** What our client's handler got, as text. */
    got: string[];
    /** The MQTT.js peer's client id, and every connection it made (a restart ends one). */
    peerId: string;
    peers: Peer[];
  }

  async function peer(world: World): Promise<Peer> {
    const theirs = await connectPeer(broker.port, { ...version.peer, clientId: world.peerId, clean: false });
    cleanups.push(() => theirs.client.endAsync(true));
    world.peers.push(theirs);
    return theirs;
  }

  /** What the MQTT.js peer received over all its connections. */
  const peerGot = (world: World): string[] => world.peers.flatMap((p) => p.messages.map((m) => m.payload.toString()));

  async function start(): Promise<World> {
    const link = await TcpProxy.start(broker.port, { record: true });
    cleanups.push(() => link.close());
    const world: World = {
      topic: uniqueName("q2"), link, client: undefined as unknown as MqttClient, connected: [], subscribed: 0, published: [], got: [],
      peerId: uniqueName("peer"), peers: [],
    };
    const theirs = await peer(world);
    await theirs.client.subscribeAsync(world.topic + "/out", { qos: 2 });
    world.client = new MqttClient({
      host: "127.0.0.1", port: link.port, clientId: uniqueName("ours"), clean: false, keepAlive: 60,
      reconnect: { minDelay: 50, maxDelay: 200 }, connectTimeout: 3_000, ...version.ours, io: hostIo(),
      onConnected: (sessionPresent) => world.connected.push(sessionPresent),
      onPublished: (packetId) => world.published.push(packetId),
      onSubscribed: () => world.subscribed++,
    });
    cleanups.push(() => world.client.close());
    world.client.subscribe(world.topic + "/in", { qos: 2 }, (message) => world.got.push(message.text()));
    world.client.connect();
    await waitFor(() => world.connected.length === 1 && world.subscribed === 1, "onConnected and onSubscribed");
    return world;
  }

  /** The fault: the link cut (what the proxy holds is lost), or mosquitto stopped and started again. */
  async function fault(world: World, kind: Fault): Promise<void> {
    const reconnects = world.connected.length;
    if (kind === "broker restart") {
      await broker.stop(); // SIGTERM: mosquitto writes its persistence file
      world.link.cut();
      world.link.flow();
      await sleep(100);
      await broker.start();
      await peer(world); // MQTT.js does not reconnect by itself here; its stored session resumes
    } else {
      world.link.cut();
      world.link.flow();
    }
    await waitFor(() => world.connected.length > reconnects, "the reconnect");
    expect(world.connected.at(-1)).toBe(true); // the session was kept [MQTT-4.1.0-1]
  }

  it.each(cases)("our QoS 2 PUBLISH, $fault after the $step: the MQTT.js subscriber gets it exactly once; PUBLISH again with DUP or PUBREL as the state requires [MQTT-4.3.3-1][MQTT-4.3.3-2][MQTT-4.4.0-1]", async ({ step, fault: kind }) => {
    const world = await start();
    const { link, client, topic } = world;
    link.stall("down"); // the broker's PUBREC waits in the proxy
    expect(client.publish(topic + "/out", "once", { qos: 2 })).toBe("sent");
    const id = client.lastPacketId;
    await waitFor(() => link.held("down") >= ACK, "the broker's PUBREC");
    if (step === "PUBREC") {
      link.stall("up"); // our PUBREL waits in the proxy
      link.flow("down");
      await waitFor(() => link.held("up") >= ACK, "our PUBREL");
    } else if (step === "PUBREL") {
      link.flow("down"); // the PUBREC goes to the client (written now) ...
      link.stall("down"); // ... and the broker's PUBCOMP waits in the proxy
      await waitFor(() => link.held("down") >= ACK, "the broker's PUBCOMP");
    }
    expect(world.published).toEqual([]);
    await fault(world, kind);
    await waitFor(() => world.published.includes(id), "the PUBCOMP after the reconnect");
    // a marker after it: once the subscriber has the marker, it has whatever came before
    client.publish(topic + "/out", "marker", { qos: 2 });
    await waitFor(() => peerGot(world).includes("marker"), "the marker at the subscriber");
    await sleep(100);
    expect(peerGot(world)).toEqual(["once", "marker"]);
    expect(client.outboxCount).toBe(0);
    // what went again on the connection that completed the exchange [MQTT-4.4.0-1]
    const again = packets(link.upstream.at(-1)!, version).filter((p) => p.cmd === "pubrel" || p.cmd === "publish");
    expect(again[0]).toMatchObject(step === "PUBLISH" ? { cmd: "publish", dup: true, qos: 2, messageId: id } : { cmd: "pubrel", messageId: id });
    expect(again.filter((p) => p.cmd === "publish" && p.payload.toString() === "once")).toHaveLength(step === "PUBLISH" ? 1 : 0);
  });

  it.each(cases)("a QoS 2 PUBLISH from MQTT.js to our client, $fault after the $step: the handler runs exactly once [MQTT-4.3.3-2][MQTT-4.4.0-1]", async ({ step, fault: kind }) => {
    const world = await start();
    const { link, topic } = world;
    link.stall("up"); // our PUBREC waits in the proxy
    await world.peers[0].client.publishAsync(topic + "/in", "once", { qos: 2 });
    await waitFor(() => world.got.length === 1 && link.held("up") >= ACK, "the delivery and our PUBREC");
    if (step === "PUBREC" || step === "PUBREL") {
      link.stall("down"); // the broker's PUBREL waits in the proxy
      link.flow("up");
      await waitFor(() => link.held("down") >= ACK, "the broker's PUBREL");
    }
    if (step === "PUBREL") {
      link.stall("up"); // our PUBCOMP waits in the proxy
      link.flow("down");
      await waitFor(() => link.held("up") >= ACK, "our PUBCOMP");
    }
    await fault(world, kind);
    const theirs = world.peers.at(-1)!;
    await theirs.client.publishAsync(topic + "/in", "marker", { qos: 2 });
    await waitFor(() => world.got.includes("marker"), "the marker at our client");
    await sleep(100);
    expect(world.got).toEqual(["once", "marker"]);
  });
});
