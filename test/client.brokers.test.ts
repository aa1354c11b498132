/*
 * The client against real brokers (issue acceptance): every scenario runs against mosquitto
 * 2.0 (a child process with a config of its own) and aedes 1.x (in process), with MQTT.js 5
 * as the independent peer on the other side. Each test asserts what a user of the client
 * observes (return values, callbacks, state, what the peer receives) and cites the MQTT 3.1.1
 * statement it checks. Nothing is mocked: faults come from a TCP proxy (lost bytes, cut
 * links, a broker that looks down) or a real broker restart. Every wait is bounded; every
 * client, peer, proxy and broker is stopped in afterEach/afterAll.
 */

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IPublishPacket } from "mqtt-packet";
import { MqttClient } from "../device/mqtt/client.js";
import type { ClientOptions } from "../device/mqtt/options.js";
import type { TimerId, TimerModule } from "../device/mqtt/io.js";
import { Timer as hostTimer } from "../host-sim/io/timer.js";
import type { ErrorCode } from "../device/mqtt/errors.js";
import { MqttError } from "../device/mqtt/errors.js";
import type { Message } from "../device/mqtt/message.js";
import { AedesBroker, closeAllAedes } from "./brokers/aedes.js";
import { connectPeer, parsePackets, recordingIo, runCleanups, sleep, uniqueName, waitFor } from "./brokers/helpers.js";
import type { BrokerOptions, Peer, RecordedSocket, TestBroker } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";
import { TcpProxy } from "./support/proxy.js";

/** A message as a handler saw it (the client's Message is reused: copy while the handler runs). */
interface Received {
  topic: string;
  payload: Uint8Array;
  text: string;
  qos: number;
  retain: boolean;
  dup: boolean;
}

function snapshot(message: Message): Received {
  return {
    topic: message.topic,
    payload: message.payload.slice(),
    text: message.text(),
    qos: message.qos,
    retain: message.retain,
    dup: message.dup,
  };
}

/** Everything the client reported through its callbacks, in order. */
interface Seen {
  connected: boolean[];
  /** Date.now() at each onConnected / onDisconnected. */
  connectedAt: number[];
  disconnectedAt: number[];
  disconnected: ErrorCode[];
  errors: ErrorCode[];
  published: number[];
  subscribed: [string, number][];
  messages: Received[];
}

interface Ours {
  client: MqttClient;
  seen: Seen;
  sockets: RecordedSocket[];
}

interface BrokerKind {
  name: string;
  start(options?: BrokerOptions): Promise<TestBroker>;
  /** The error a wrong password gives. */
  badPassword: ErrorCode;
}

const kinds: BrokerKind[] = [
  // mosquitto 2.0 answers a wrong password for MQTT 3.1.1 with CONNACK 5
  { name: "mosquitto", start: (options) => Mosquitto.start(options), badPassword: "not-authorized" },
  // the aedes fixture answers it with CONNACK 4
  { name: "aedes", start: (options) => AedesBroker.start(options), badPassword: "bad-credentials" },
];

/** Our client on 127.0.0.1:port, recording every callback; closed by the given cleanups. `Timer`: another Timer module. */
function ourClient(port: number, cleanups: (() => unknown)[], options: Partial<ClientOptions> = {}, Timer?: TimerModule): Ours {
  const recording = recordingIo();
  if (Timer !== undefined) recording.io.Timer = Timer;
  const seen: Seen = {
    connected: [], connectedAt: [], disconnected: [], disconnectedAt: [], errors: [], published: [], subscribed: [], messages: [],
  };
  const client = new MqttClient({
    host: "127.0.0.1",
    port,
    clientId: uniqueName("ours"),
    reconnect: { minDelay: 50, maxDelay: 200 },
    connectTimeout: 3_000,
    ...options,
    io: recording.io,
    onConnected: (sessionPresent) => {
      seen.connected.push(sessionPresent);
      seen.connectedAt.push(Date.now());
    },
    onDisconnected: (error) => {
      seen.disconnected.push(error.code);
      seen.disconnectedAt.push(Date.now());
    },
    onError: (error) => seen.errors.push(error.code),
    onPublished: (packetId) => seen.published.push(packetId),
    onSubscribed: (filter, qos) => seen.subscribed.push([filter, qos]),
    onMessage: (message) => seen.messages.push(snapshot(message)),
  });
  cleanups.push(() => client.close());
  return { client, seen, sockets: recording.sockets };
}

const QOS1 = { qos: 1 } as const;

describe.each(kinds)("client against $name", (kind) => {
  let broker: TestBroker;
  const cleanups: (() => unknown)[] = [];
  let topic = "";

  beforeAll(async () => {
    broker = await kind.start();
  });

  beforeEach(() => {
    topic = uniqueName("t"); // every test has topics of its own (retained messages outlive tests)
  });

  afterEach(() => runCleanups(cleanups));

  afterAll(async () => {
    await stopAllMosquittos();
    await closeAllAedes();
  });

  /** Our client, on the test broker unless `port` says otherwise. */
  function ours(options: Partial<ClientOptions> = {}, Timer?: TimerModule): Ours {
    return ourClient(broker.port, cleanups, options, Timer);
  }

  /** connect() and wait for the next onConnected. */
  async function connect(mine: Ours): Promise<void> {
    const count = mine.seen.connected.length;
    mine.client.connect();
    await waitFor(() => mine.seen.connected.length > count, "onConnected");
  }

  /** subscribe() and wait for its onSubscribed. */
  async function subscribe(mine: Ours, filter: string, qos: number, into?: Received[]): Promise<void> {
    const count = mine.seen.subscribed.length;
    mine.client.subscribe(filter, { qos }, into === undefined ? undefined : (m) => into.push(snapshot(m)));
    await waitFor(() => mine.seen.subscribed.length > count, "onSubscribed for " + filter);
  }

  async function peer(port = broker.port): Promise<Peer> {
    const theirs = await connectPeer(port);
    cleanups.push(() => theirs.client.endAsync(true));
    return theirs;
  }

  async function proxy(): Promise<TcpProxy> {
    const started = await TcpProxy.start(broker.port, { record: true });
    cleanups.push(() => started.close());
    return started;
  }

  it("connects with a clean session (onConnected(false), state 'connected') and closes with DISCONNECT [MQTT-3.2.2-1]", async () => {
    const mine = ours();
    expect(mine.client.state).toBe("idle");
    mine.client.connect();
    expect(mine.client.state).toBe("connecting");
    await waitFor(() => mine.seen.connected.length === 1, "onConnected");
    expect(mine.seen.connected).toEqual([false]);
    expect(mine.client.state).toBe("connected");
    expect(mine.client.connected).toBe(true);

    mine.client.close();
    await waitFor(() => mine.client.state === "closed", "state closed");
    expect(mine.seen.disconnected).toEqual(["closed"]);
    expect(mine.seen.errors).toEqual([]);
    expect(mine.client.stats.attempts).toBe(1);
    const sent = parsePackets(mine.sockets[0].written).map((p) => p.cmd);
    expect(sent[0]).toBe("connect");
    expect(sent.at(-1)).toBe("disconnect");
    expect(() => mine.client.publish(topic + "/x", "late")).toThrow(MqttError);
  });

  it("connects by host name, resolved through the IO's resolver (localhost)", async () => {
    const mine = ours({ host: "localhost" });
    await connect(mine);
    expect(mine.client.state).toBe("connected");
    expect(mine.seen.errors).toEqual([]);
  });

  it("a broker that accepts TCP but never answers CONNECT: connect-timeout, then the next attempt connects", async () => {
    const link = await proxy();
    link.dropToClient = true; // the CONNACK never arrives
    const mine = ours({ port: link.port, connectTimeout: 500 });
    const started = Date.now();
    mine.client.connect();
    await waitFor(() => mine.seen.errors.length === 1, "onError");
    expect(mine.seen.errors).toEqual(["connect-timeout"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(480);
    expect(mine.seen.connected).toEqual([]);
    expect(mine.seen.disconnected).toEqual([]); // it never was connected
    link.dropToClient = false;
    await waitFor(() => mine.seen.connected.length === 1, "the next attempt");
    expect(mine.client.stats.attempts).toBeGreaterThanOrEqual(2);
    expect(mine.client.state).toBe("connected");
  });

  it("publishes QoS 0 and QoS 1: the peer gets topic, payload, QoS and retain=false; QoS 1 ends in onPublished [MQTT-3.3.1-9]", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/#", QOS1);
    const mine = ours();
    await connect(mine);
    const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
    const prepared = mine.client.prepareTopic(topic + "/q0");
    expect(mine.client.publish(prepared, binary, { qos: 0 })).toBe("sent");
    expect(mine.client.publish(topic + "/q1", "héllo ✓", { qos: 1 })).toBe("sent");
    await waitFor(() => theirs.messages.length === 2 && mine.seen.published.length === 1, "both messages at the peer and the PUBACK");

    const q0 = theirs.messages.find((m) => m.topic === topic + "/q0");
    const q1 = theirs.messages.find((m) => m.topic === topic + "/q1");
    expect(q0).toMatchObject({ qos: 0, retain: false });
    expect(new Uint8Array(q0!.payload)).toEqual(binary);
    expect(q1).toMatchObject({ qos: 1, retain: false });
    expect(q1!.payload.toString("utf8")).toBe("héllo ✓");
    expect(mine.seen.published[0]).toBeGreaterThanOrEqual(1);
    expect(mine.seen.published[0]).toBeLessThanOrEqual(65_535);
    expect(mine.client.stats).toMatchObject({ sent: 2, acknowledged: 1, dropped: 0 });
    expect(mine.client.outboxCount).toBe(0);
    expect(mine.seen.errors).toEqual([]);
  });

  it("batch(): the publishes inside leave in one write, in order; without it the second waits for the first write's room", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/#", QOS1);
    const mine = ours();
    await connect(mine);
    const written = mine.sockets[0].written;
    const publishTopics = (from: number) => written.slice(from).map((bytes) => parsePackets([bytes]).filter((p) => p.cmd === "publish").map((p) => (p as IPublishPacket).topic));

    let before = written.length;
    mine.client.batch(() => {
      expect(mine.client.publish(topic + "/a", "1")).toBe("sent");
      expect(mine.client.publish(topic + "/b", "2", QOS1)).toBe("sent");
      expect(mine.client.publish(topic + "/c", "3")).toBe("sent");
      expect(written.length).toBe(before); // nothing written yet
    });
    expect(publishTopics(before)).toEqual([[topic + "/a", topic + "/b", topic + "/c"]]);
    await waitFor(() => theirs.messages.length === 3 && mine.seen.published.length === 1, "the three messages at the peer and the PUBACK");
    // (a broker keeps order per topic [MQTT-4.6.0-6], and these are three: aedes may forward the QoS 1 one last)
    expect(theirs.messages.map((m) => m.topic).sort()).toEqual([topic + "/a", topic + "/b", topic + "/c"]);

    before = written.length;
    mine.client.publish(topic + "/d", "4");
    mine.client.publish(topic + "/e", "5");
    await waitFor(() => theirs.messages.length === 5, "the two unbatched messages at the peer");
    expect(publishTopics(before)).toEqual([[topic + "/d"], [topic + "/e"]]);
    expect(mine.seen.errors).toEqual([]);
  });

  it("receives QoS 0 and QoS 1 from the peer: topic, payload bytes and text(), QoS, retain=false; onSubscribed gives the granted QoS", async () => {
    const mine = ours();
    await connect(mine);
    const got: Received[] = [];
    await subscribe(mine, topic + "/in/+", 1, got);
    expect(mine.seen.subscribed).toEqual([[topic + "/in/+", 1]]);
    const theirs = await peer();
    await theirs.client.publishAsync(topic + "/in/zero", "zéro ✓", { qos: 0 });
    // resolves on the broker's PUBACK: the broker took the message
    await theirs.client.publishAsync(topic + "/in/one", Buffer.from([0, 1, 2, 0xfe, 0xff]), QOS1);
    await waitFor(() => got.length === 2, "both messages in the handler");

    const zero = got.find((m) => m.topic === topic + "/in/zero");
    const one = got.find((m) => m.topic === topic + "/in/one");
    expect(zero).toMatchObject({ text: "zéro ✓", qos: 0, retain: false, dup: false });
    expect(zero!.payload).toEqual(new TextEncoder().encode("zéro ✓"));
    expect(one).toMatchObject({ qos: 1, retain: false, dup: false });
    expect(one!.payload).toEqual(Uint8Array.from([0, 1, 2, 0xfe, 0xff]));
    expect(mine.seen.messages.map((m) => m.topic).sort()).toEqual([topic + "/in/one", topic + "/in/zero"]);
    expect(mine.client.stats.received).toBe(2);
  });

  it("acknowledges a received QoS 1 message (a resumed session does not redeliver it) and gets what came while it was away [MQTT-4.3.2-2] [MQTT-3.1.2-5] [MQTT-3.2.2-2]", async () => {
    const clientId = uniqueName("session");
    const first = ours({ clientId, clean: false });
    await connect(first);
    expect(first.seen.connected).toEqual([false]);
    const got: Received[] = [];
    await subscribe(first, topic + "/s", 1, got);
    const theirs = await peer();
    await theirs.client.publishAsync(topic + "/s", "one", QOS1);
    await waitFor(() => got.length === 1, "the first message");
    first.client.close();
    await waitFor(() => first.client.state === "closed", "the first client closed");

    await theirs.client.publishAsync(topic + "/s", "two", QOS1); // while no connection holds the session
    const second = ours({ clientId, clean: false });
    await connect(second);
    expect(second.seen.connected).toEqual([true]);
    await waitFor(() => second.seen.messages.length >= 1, "the message stored while away");
    await theirs.client.publishAsync(topic + "/s", "three", QOS1);
    await waitFor(() => second.seen.messages.some((m) => m.text === "three"), "a later message");
    // "one" was acknowledged by the first client: had its PUBACK been lost, the session would resend it
    expect(second.seen.messages.map((m) => [m.text, m.qos])).toEqual([["two", 1], ["three", 1]]);
    expect(got.map((m) => m.text)).toEqual(["one"]);
  });

  it("a retained message reaches a later subscription with retain=true; on an established one it arrives with retain=false [MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-8] [MQTT-3.3.1-9]", async () => {
    const mine = ours();
    await connect(mine);
    expect(mine.client.publish(topic + "/state", "on", { qos: 1, retain: true })).toBe("sent");
    await waitFor(() => mine.seen.published.length === 1, "the PUBACK");

    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/state", QOS1);
    await waitFor(() => theirs.messages.length === 1, "the retained message at the peer");
    expect(theirs.messages[0]).toMatchObject({ topic: topic + "/state", qos: 1, retain: true });
    expect(theirs.messages[0].payload.toString()).toBe("on");

    expect(mine.client.publish(topic + "/state", "off", { qos: 1, retain: true })).toBe("sent");
    await waitFor(() => theirs.messages.length === 2, "the live message at the peer");
    expect(theirs.messages[1]).toMatchObject({ topic: topic + "/state", retain: false });
    expect(theirs.messages[1].payload.toString()).toBe("off");

    // our client as the later subscriber: the newest retained message, flagged
    const got: Received[] = [];
    await subscribe(mine, topic + "/state", 1, got);
    await waitFor(() => got.length === 1, "the retained message in our handler");
    expect(got[0]).toMatchObject({ topic: topic + "/state", text: "off", qos: 1, retain: true });
  });

  it("an empty retained payload clears the retained message: current subscribers get it, later ones get nothing [MQTT-3.3.1-10] [MQTT-3.3.1-11]", async () => {
    const mine = ours();
    await connect(mine);
    mine.client.publish(topic + "/state", "on", { qos: 1, retain: true });
    await waitFor(() => mine.seen.published.length === 1, "the PUBACK");
    const before = await peer();
    await before.client.subscribeAsync(topic + "/state", QOS1);
    await waitFor(() => before.messages.length === 1, "the retained message");

    expect(mine.client.publish(topic + "/state", new Uint8Array(0), { qos: 1, retain: true })).toBe("sent");
    await waitFor(() => mine.seen.published.length === 2, "the PUBACK of the empty message");
    await waitFor(() => before.messages.length === 2, "the empty message at the current subscriber");
    expect(before.messages[1]).toMatchObject({ retain: false });
    expect(before.messages[1].payload.length).toBe(0);

    const after = await peer();
    await after.client.subscribeAsync(topic + "/state", QOS1);
    mine.client.publish(topic + "/state", "marker", { qos: 1 });
    await waitFor(() => after.messages.length >= 1, "the marker");
    await sleep(50);
    expect(after.messages.map((m) => [m.payload.toString(), m.retain])).toEqual([["marker", false]]);
  });

  it("the will is published when the connection is cut without DISCONNECT [MQTT-3.1.2-8]", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/status", QOS1);
    const mine = ours({ will: { topic: topic + "/status", payload: "offline", qos: 1, retain: false }, reconnect: false });
    await connect(mine);
    expect(theirs.messages).toEqual([]);

    mine.sockets[0].socket.destroy(); // the link dies: no DISCONNECT
    await waitFor(() => theirs.messages.length === 1, "the will at the peer");
    expect(theirs.messages[0]).toMatchObject({ topic: topic + "/status", qos: 1, retain: false });
    expect(theirs.messages[0].payload.toString()).toBe("offline");
    await waitFor(() => mine.seen.disconnected.length === 1, "onDisconnected");
    expect(mine.seen.disconnected).toEqual(["connection-lost"]);
    expect(mine.client.state).toBe("closed"); // reconnect: false
  });

  it("close() right after publishing: what was staged still goes out (past the send window), then DISCONNECT, and no will", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/#", QOS1);
    const mine = ours({ transmitBufferSize: 4_096, will: { topic: topic + "/status", payload: "offline" } });
    await connect(mine);
    const payload = new Uint8Array(1_000).fill(0x42);
    for (let i = 0; i < 3; i++) expect(mine.client.publish(topic + "/last/" + i, payload, { qos: 0 })).toBe("sent");
    mine.client.close(); // 3 kB staged, the window takes 1.5 kB: close must wait for the rest
    expect(mine.client.state).toBe("closing");
    await waitFor(() => mine.client.state === "closed", "state closed");
    await waitFor(() => theirs.messages.length >= 3, "the three messages at the peer");
    await sleep(300);
    expect(theirs.messages.map((m) => [m.topic, m.payload.length])).toEqual([0, 1, 2].map((i) => [topic + "/last/" + i, 1_000]));
    expect(parsePackets(mine.sockets[0].written).map((x) => x.cmd).at(-1)).toBe("disconnect");
    expect(mine.seen.disconnected).toEqual(["closed"]);
  });

  it("close() with messages queued behind the in-flight limit: they go first as acknowledgements free room, then DISCONNECT, nothing after it, and no will [MQTT-3.14.4-1]", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/#", QOS1);
    const mine = ours({ maxInflight: 1, will: { topic: topic + "/status", payload: "will", qos: 1 } });
    await connect(mine);
    // the first goes on the wire; the other two wait in the outbox for its PUBACK, the board's "offline" last
    expect(mine.client.publish(topic + "/a", "1", QOS1)).toBe("sent");
    expect(mine.client.publish(topic + "/a", "2", QOS1)).toBe("queued");
    expect(mine.client.publish(topic + "/status", "offline", { qos: 1, retain: true })).toBe("queued");
    mine.client.close();
    expect(mine.client.state).toBe("closing");
    await waitFor(() => mine.client.state === "closed", "state closed");
    await waitFor(() => theirs.messages.length >= 3, "the three messages at the peer");
    await sleep(300);
    expect(theirs.messages.map((m) => [m.topic, m.payload.toString()])).toEqual([[topic + "/a", "1"], [topic + "/a", "2"], [topic + "/status", "offline"]]);
    const written = parsePackets(mine.sockets[0].written).map((x) => x.cmd);
    expect(written.filter((cmd) => cmd === "publish")).toHaveLength(3);
    expect(written.at(-1)).toBe("disconnect"); // nothing after it, not even a late PUBACK
    expect(mine.seen.disconnected).toEqual(["closed"]);
  });

  it("the will is not published after close() [MQTT-3.1.2-10] [MQTT-3.14.4-3]", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/status", QOS1);
    const mine = ours({ will: { topic: topic + "/status", payload: "offline", qos: 1, retain: false } });
    await connect(mine);
    mine.client.close();
    await waitFor(() => mine.client.state === "closed", "state closed");
    await sleep(300);
    await theirs.client.publishAsync(topic + "/status", "marker", QOS1);
    await waitFor(() => theirs.messages.length >= 1, "the marker");
    await sleep(100);
    expect(theirs.messages.map((m) => m.payload.toString())).toEqual(["marker"]);
  });

  it("keepAlive 1 without traffic: sends PINGREQ and stays connected for seconds [MQTT-3.1.2-23] [MQTT-3.1.2-24]", async () => {
    const mine = ours({ keepAlive: 1 });
    await connect(mine);
    // the broker closes a connection silent for 1.5 s; 3.5 s later this one must still be up
    await sleep(3_500);
    expect(mine.client.state).toBe("connected");
    expect(mine.seen.disconnected).toEqual([]);
    expect(mine.seen.errors).toEqual([]);
    expect(mine.client.stats.attempts).toBe(1);
    expect(mine.sockets).toHaveLength(1);
    const pings = parsePackets(mine.sockets[0].written).filter((p) => p.cmd === "pingreq").length;
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(pings).toBeLessThanOrEqual(5); // about one per keepalive period, not a flood
  });

  it("declares a broker that went silent dead after 1.5 × keepAlive and reconnects (keepalive-timeout)", async () => {
    const link = await proxy();
    const mine = ours({ port: link.port, keepAlive: 1 });
    await connect(mine);
    link.dropToClient = true; // nothing from the broker after CONNACK reaches the client
    await waitFor(() => mine.seen.disconnected.length === 1, "onDisconnected", 5_000);
    expect(mine.seen.disconnected).toEqual(["keepalive-timeout"]);
    // the last bytes heard were the CONNACK: dead 1.5 s after it (plus at most a tick or two)
    const silence = mine.seen.disconnectedAt[0] - mine.seen.connectedAt[0];
    expect(silence).toBeGreaterThanOrEqual(1_490);
    expect(silence).toBeLessThan(3_000);
    link.dropToClient = false;
    await waitFor(() => mine.seen.connected.length === 2, "the reconnect");
    expect(mine.client.state).toBe("connected");
    expect(mine.client.stats.reconnects).toBe(1);
  });

  it("the client's timer: every eighth of the keepalive (at most 5 s) while connected, the short tick while connecting, reconnecting and closing", async () => {
    // the host's Timer module, with the periods the client gives it recorded
    const periods: number[] = [];
    const Timer: TimerModule = {
      repeat: (callback, interval) => {
        periods.push(interval);
        return hostTimer.repeat(callback as (id: unknown) => void, interval);
      },
      clear: (id) => hostTimer.clear(id as Parameters<typeof hostTimer.clear>[0]),
      schedule: (id: TimerId, delay: number, repeat: number) => {
        periods.push(repeat);
        hostTimer.schedule(id as Parameters<typeof hostTimer.schedule>[0], delay, repeat);
      },
    };
    const link = await proxy();
    const mine = ours({ port: link.port, keepAlive: 60 }, Timer);
    await connect(mine);
    expect(periods).toEqual([25, 5_000]); // min(1 s, keepalive / 4, minDelay / 2) until CONNACK (minDelay 50 here); 60 s / 8 is over 5 s
    link.cut();
    await waitFor(() => mine.seen.connected.length === 2, "the reconnect");
    expect(periods).toEqual([25, 5_000, 25, 5_000]);
    mine.client.close();
    await waitFor(() => mine.client.state === "closed", "closed");
    expect(periods).toEqual([25, 5_000, 25, 5_000, 25]);
  });

  it("overlapping subscriptions a/# and a/+: every delivery of a/b reaches both handlers, a/b/c only a/#", async () => {
    const mine = ours();
    await connect(mine);
    const hash: Received[] = [];
    const plus: Received[] = [];
    await subscribe(mine, topic + "/a/#", 1, hash);
    await subscribe(mine, topic + "/a/+", 0, plus);
    const theirs = await peer();
    await theirs.client.publishAsync(topic + "/a/b", "ab", QOS1);
    await theirs.client.publishAsync(topic + "/a/b/c", "abc", QOS1);
    await waitFor(() => hash.some((m) => m.text === "abc"), "a/b/c in the a/# handler");
    await sleep(50);

    const ab = mine.seen.messages.filter((m) => m.topic === topic + "/a/b");
    // a broker may send one copy, or one per matching filter [MQTT-3.3.5-1]; each copy goes to both
    expect(ab.length).toBeGreaterThanOrEqual(1);
    expect(hash.filter((m) => m.topic === topic + "/a/b")).toHaveLength(ab.length);
    expect(plus.filter((m) => m.topic === topic + "/a/b")).toHaveLength(ab.length);
    expect(plus.some((m) => m.topic === topic + "/a/b/c")).toBe(false);
    expect(hash.filter((m) => m.topic === topic + "/a/b/c")).toHaveLength(1);
  });

  it("a '#' subscription gets no $-topics, while an explicit $ filter does [MQTT-4.7.2-1]", async () => {
    const mine = ours();
    await connect(mine);
    const all: Received[] = [];
    const dollar: Received[] = [];
    const sys: Received[] = [];
    await subscribe(mine, "#", 0, all);
    await subscribe(mine, "$test/" + topic + "/#", 1, dollar);
    if (broker.retainedSysTopic !== undefined) await subscribe(mine, broker.retainedSysTopic, 0, sys);
    const theirs = await peer();
    await theirs.client.publishAsync("$test/" + topic + "/x", "dollar", QOS1);
    await waitFor(() => dollar.length === 1, "the $test message in its own handler");
    if (broker.retainedSysTopic !== undefined) await waitFor(() => sys.length >= 1, "the retained $SYS message");
    await theirs.client.publishAsync(topic + "/marker", "marker", QOS1);
    await waitFor(() => all.some((m) => m.topic === topic + "/marker"), "the marker in the # handler");
    await sleep(50);
    expect(dollar[0]).toMatchObject({ topic: "$test/" + topic + "/x", text: "dollar" });
    expect(all.filter((m) => m.topic.startsWith("$")).map((m) => m.topic)).toEqual([]);
  });

  it("after unsubscribe the handler is not called and the broker stops sending [MQTT-3.10.4-2]", async () => {
    const mine = ours();
    await connect(mine);
    const gone: Received[] = [];
    const kept: Received[] = [];
    await subscribe(mine, topic + "/gone", 1, gone);
    await subscribe(mine, topic + "/kept", 1, kept);
    const theirs = await peer();
    await theirs.client.publishAsync(topic + "/gone", "before", QOS1);
    await waitFor(() => gone.length === 1, "the message before unsubscribe");

    mine.client.unsubscribe(topic + "/gone");
    // the broker handles our packets in order: once our own publish comes back, it has the UNSUBSCRIBE
    mine.client.publish(topic + "/kept", "sync", { qos: 1 });
    await waitFor(() => kept.some((m) => m.text === "sync"), "our own message back");
    await theirs.client.publishAsync(topic + "/gone", "after", QOS1);
    await theirs.client.publishAsync(topic + "/kept", "marker", QOS1);
    await waitFor(() => kept.some((m) => m.text === "marker"), "the marker");
    await sleep(100);
    expect(gone.map((m) => m.text)).toEqual(["before"]);
    expect(mine.seen.messages.filter((m) => m.topic === topic + "/gone").map((m) => m.text)).toEqual(["before"]);
  });

  it("unsubscribe while the link is down (clean:false): after the reconnect the broker stops sending [MQTT-3.10.4-2]", async () => {
    const link = await proxy();
    const mine = ours({ port: link.port, clean: false, clientId: uniqueName("unsub") });
    await connect(mine);
    const gone: Received[] = [];
    const kept: Received[] = [];
    await subscribe(mine, topic + "/gone", 1, gone);
    await subscribe(mine, topic + "/kept", 1, kept);
    await link.refuse();
    await waitFor(() => mine.seen.disconnected.length === 1, "onDisconnected");
    mine.client.unsubscribe(topic + "/gone");
    await link.accept();
    await waitFor(() => mine.seen.connected.length === 2, "the reconnect");
    expect(mine.seen.connected).toEqual([false, true]); // the session, with both subscriptions, was kept

    // once our own publish comes back, the broker has handled whatever we sent before it
    mine.client.publish(topic + "/kept", "sync", { qos: 1 });
    await waitFor(() => kept.some((m) => m.text === "sync"), "our own message back");
    const theirs = await peer();
    await theirs.client.publishAsync(topic + "/gone", "after", QOS1);
    await theirs.client.publishAsync(topic + "/kept", "marker", QOS1);
    await waitFor(() => kept.some((m) => m.text === "marker"), "the marker");
    await sleep(100);
    expect(gone).toEqual([]);
    expect(mine.seen.messages.filter((m) => m.topic === topic + "/gone").map((m) => m.text)).toEqual([]);
  });

  it("clean:false, link lost: messages published while away arrive in order after the reconnect, sessionPresent=true [MQTT-3.1.2-5] [MQTT-3.2.2-2]", async () => {
    const link = await proxy();
    const mine = ours({ port: link.port, clean: false, clientId: uniqueName("away") });
    await connect(mine);
    const got: Received[] = [];
    await subscribe(mine, topic + "/cmd", 1, got);
    await link.refuse(); // the link dies and the broker cannot be reached
    await waitFor(() => mine.seen.disconnected.length === 1, "onDisconnected");
    expect(mine.client.connected).toBe(false);

    const theirs = await peer();
    for (let i = 0; i < 3; i++) await theirs.client.publishAsync(topic + "/cmd", "m" + i, QOS1);
    await link.accept();
    await waitFor(() => got.length >= 3, "the messages stored while away");
    expect(mine.seen.connected).toEqual([false, true]);
    expect(got.map((m) => [m.text, m.qos])).toEqual([["m0", 1], ["m1", 1], ["m2", 1]]);
  });

  it("QoS 1 publishes whose PUBACKs were lost are resent after the reconnect with DUP, the same packet ids, in order; the peer gets every one [MQTT-4.4.0-1] [MQTT-3.3.1-1] [MQTT-4.6.0-1]", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/out", QOS1);
    const link = await proxy();
    const mine = ours({ port: link.port, clean: false, clientId: uniqueName("resend") });
    await connect(mine);
    // a device's session holds its command subscription (aedes reports a session only when it has one)
    await subscribe(mine, topic + "/cmd", 1);
    link.dropToClient = true; // the broker's PUBACKs never reach the client
    for (let i = 0; i < 5; i++) expect(mine.client.publish(topic + "/out", "m" + i, { qos: 1 })).toBe("sent");
    await waitFor(() => theirs.messages.length === 5, "the first sends at the peer");
    await sleep(50);
    expect(mine.seen.published).toEqual([]);
    expect(mine.client.outboxCount).toBe(5);

    link.dropToClient = false;
    link.cut();
    await waitFor(() => mine.seen.connected.length === 2, "the reconnect");
    expect(mine.seen.connected).toEqual([false, true]);
    await waitFor(() => mine.seen.published.length === 5, "every PUBACK");
    expect(mine.client.outboxCount).toBe(0);
    expect(mine.client.stats).toMatchObject({ sent: 5, resent: 5, acknowledged: 5 });

    const firstSends = parsePackets(link.upstream[0]).filter((x) => x.cmd === "publish") as IPublishPacket[];
    const resends = parsePackets(link.upstream[1]).filter((x) => x.cmd === "publish") as IPublishPacket[];
    expect(firstSends.map((x) => [x.payload.toString(), x.dup])).toEqual([0, 1, 2, 3, 4].map((i) => ["m" + i, false]));
    expect(resends.map((x) => [x.payload.toString(), x.dup, x.messageId]))
      .toEqual(firstSends.map((x) => [x.payload.toString(), true, x.messageId]));
    expect([...mine.seen.published].sort()).toEqual(firstSends.map((x) => x.messageId).sort());

    // at least once, and in order: the peer saw m0..m4, then (brokers forward resends) maybe again
    await sleep(100);
    const texts = theirs.messages.map((m) => m.payload.toString());
    expect(texts.slice(0, 5)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(texts.length === 5 || texts.slice(5).join() === "m0,m1,m2,m3,m4").toBe(true);
  });

  it("QoS 2 both ways with the peer: each message arrives exactly once; onPublished at the PUBCOMP, the handler sees QoS 2 [MQTT-4.3.3-1][MQTT-4.3.3-2]", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/out2", { qos: 2 });
    const mine = ours();
    await connect(mine);
    const got: Received[] = [];
    await subscribe(mine, topic + "/in2", 2, got);
    expect(mine.seen.subscribed).toEqual([[topic + "/in2", 2]]);
    for (let i = 0; i < 3; i++) expect(mine.client.publish(topic + "/out2", "out" + i, { qos: 2 })).toBe("sent");
    for (let i = 0; i < 3; i++) await theirs.client.publishAsync(topic + "/in2", "in" + i, { qos: 2 });
    await waitFor(() => theirs.messages.length === 3 && mine.seen.published.length === 3 && got.length === 3, "three messages each way, three PUBCOMPs");
    await sleep(100);
    expect(theirs.messages.map((m) => [m.payload.toString(), m.qos])).toEqual([["out0", 2], ["out1", 2], ["out2", 2]]);
    expect(got.map((m) => [m.text, m.qos])).toEqual([["in0", 2], ["in1", 2], ["in2", 2]]);
    expect(mine.client.stats).toMatchObject({ sent: 3, acknowledged: 3, strayAcks: 0 });
    expect(mine.client.outboxCount).toBe(0);
    expect(mine.seen.errors).toEqual([]);
  });

  it("QoS 2 publishes whose PUBRECs were lost: resent with DUP after the reconnect (session kept), and the peer still gets each exactly once [MQTT-4.3.3-1][MQTT-4.4.0-1]", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/once", { qos: 2 });
    const link = await proxy();
    const mine = ours({ port: link.port, clean: false, clientId: uniqueName("qos2") });
    await connect(mine);
    await subscribe(mine, topic + "/cmd", 1); // a session to keep
    link.dropToClient = true; // the broker's PUBRECs never reach the client
    for (let i = 0; i < 4; i++) expect(mine.client.publish(topic + "/once", "m" + i, { qos: 2 })).toBe("sent");
    await sleep(200);
    expect(mine.seen.published).toEqual([]);
    link.dropToClient = false;
    link.cut();
    await waitFor(() => mine.seen.connected.length === 2 && mine.seen.published.length === 4, "the reconnect and every PUBCOMP");
    expect(mine.seen.connected).toEqual([false, true]);
    const resends = parsePackets(link.upstream[1]).filter((x) => x.cmd === "publish") as IPublishPacket[];
    expect(resends.map((x) => [x.payload.toString(), x.dup, x.qos])).toEqual([0, 1, 2, 3].map((i) => ["m" + i, true, 2]));
    await sleep(200);
    expect(theirs.messages.map((m) => m.payload.toString())).toEqual(["m0", "m1", "m2", "m3"]);
    expect(mine.client.outboxCount).toBe(0);
  });

  it("QoS 1 publishes while the broker cannot be reached are queued, then delivered in order after the reconnect", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/queued", QOS1);
    const link = await proxy();
    const mine = ours({ port: link.port });
    await connect(mine);
    await link.refuse();
    await waitFor(() => mine.seen.disconnected.length === 1, "onDisconnected");
    for (let i = 0; i < 5; i++) expect(mine.client.publish(topic + "/queued", "q" + i, { qos: 1 })).toBe("queued");
    expect(mine.client.publish(topic + "/queued", "lost", { qos: 0 })).toBe("dropped");
    expect(mine.client.stats.dropped).toBe(1);
    await sleep(300); // a few refused attempts
    expect(mine.client.connected).toBe(false);
    expect(theirs.messages).toEqual([]);

    await link.accept();
    await waitFor(() => theirs.messages.length === 5 && mine.seen.published.length === 5, "the queued messages at the peer");
    expect(theirs.messages.map((m) => [m.payload.toString(), m.qos])).toEqual([0, 1, 2, 3, 4].map((i) => ["q" + i, 1]));
    expect(mine.client.outboxCount).toBe(0);
    expect(mine.client.stats.resent).toBe(0);
  });

  it("reconnects after the broker is stopped and started again, and renews its subscriptions (clean session)", async () => {
    const own = await kind.start();
    const mine = ours({ port: own.port });
    await connect(mine);
    const got: Received[] = [];
    await subscribe(mine, topic + "/r", 1, got);
    const before = await peer(own.port);
    await before.client.publishAsync(topic + "/r", "before", QOS1);
    await waitFor(() => got.length === 1, "the message before the restart");

    await own.stop();
    await waitFor(() => mine.seen.disconnected.length === 1, "onDisconnected");
    expect(mine.seen.disconnected).toEqual(["connection-lost"]);
    await sleep(300); // refused attempts while it is down
    expect(mine.client.connected).toBe(false);
    await own.start();
    await waitFor(() => mine.seen.connected.length === 2, "the reconnect");
    expect(mine.seen.connected).toEqual([false, false]);
    await waitFor(() => mine.seen.subscribed.length === 2, "the subscription renewed");
    expect(mine.seen.subscribed).toEqual([[topic + "/r", 1], [topic + "/r", 1]]);

    const after = await peer(own.port);
    await after.client.publishAsync(topic + "/r", "after", QOS1);
    await waitFor(() => got.length === 2, "the message after the restart");
    expect(got.map((m) => m.text)).toEqual(["before", "after"]);
    expect(mine.client.stats.reconnects).toBe(1);
  });

  it("a wrong password is refused with a typed error and never connects; the right one connects", async () => {
    const guarded = await kind.start({ users: { alice: "secret" } });
    const wrong = ours({ port: guarded.port, username: "alice", password: "wrong", reconnect: false });
    wrong.client.connect();
    await waitFor(() => wrong.client.state === "closed", "the refusal");
    expect(wrong.seen.errors).toEqual([kind.badPassword]);
    expect(wrong.seen.connected).toEqual([]);
    expect(wrong.seen.disconnected).toEqual([]);

    const right = ours({ port: guarded.port, username: "alice", password: "secret" });
    await connect(right);
    expect(right.seen.errors).toEqual([]);
    expect(right.client.state).toBe("connected");
  });

  it("a 3,000-byte message crosses the 1,536-byte send window in pieces and arrives whole, both ways", async () => {
    const mine = ours({ transmitBufferSize: 4_096, receiveBufferSize: 4_096, outboxBytes: 8_192 });
    await connect(mine);
    const got: Received[] = [];
    await subscribe(mine, topic + "/big/in", 1, got);
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/big/out", QOS1);
    const big = Uint8Array.from({ length: 3_000 }, (_, i) => (i * 7) & 0xff);
    expect(mine.client.publish(topic + "/big/out", big, { qos: 1 })).toBe("sent");
    expect(mine.client.publish(topic + "/big/out", big.subarray(0, 2_000), { qos: 0 })).toBe("sent");
    await waitFor(() => theirs.messages.length === 2 && mine.seen.published.length === 1, "both messages at the peer");
    // (a broker need not keep the order between QoS 0 and QoS 1 messages: match by QoS)
    expect(new Uint8Array(theirs.messages.find((m) => m.qos === 1)!.payload)).toEqual(big);
    expect(new Uint8Array(theirs.messages.find((m) => m.qos === 0)!.payload)).toEqual(big.subarray(0, 2_000));
    // on the wire: in order, and no write larger than the send window
    const written = mine.sockets[0].written;
    expect(Math.max(...written.map((w) => w.length))).toBeLessThanOrEqual(1_536);
    const publishes = parsePackets(written).filter((x) => x.cmd === "publish") as IPublishPacket[];
    expect(publishes.map((x) => [x.qos, x.payload.length])).toEqual([[1, 3_000], [0, 2_000]]);

    await theirs.client.publishAsync(topic + "/big/in", Buffer.from(big), QOS1);
    await waitFor(() => got.length === 1, "the big message in the handler");
    expect(got[0].payload).toEqual(big);
    expect(mine.seen.errors).toEqual([]);
  });

  it("a message larger than receiveBufferSize is skipped and counted; the link stays up, later messages arrive, and the QoS 1 one is acknowledged", async () => {
    const clientId = uniqueName("small");
    const mine = ours({ clientId, clean: false, receiveBufferSize: 256 });
    await connect(mine);
    const got: Received[] = [];
    await subscribe(mine, topic + "/rx", 1, got);
    const theirs = await peer();
    await theirs.client.publishAsync(topic + "/rx", Buffer.alloc(1_000, 0x61), QOS1);
    await theirs.client.publishAsync(topic + "/rx", "small", QOS1);
    await waitFor(() => got.length === 1, "the small message");
    expect(got.map((m) => m.text)).toEqual(["small"]);
    expect(mine.client.stats.oversize).toBe(1);
    expect(mine.seen.errors).toEqual(["oversize-skipped"]);
    expect(mine.seen.disconnected).toEqual([]);
    expect(mine.client.state).toBe("connected");

    // had the skipped QoS 1 message gone unacknowledged, the resumed session would send it again
    mine.client.close();
    await waitFor(() => mine.client.state === "closed", "closed");
    const again = ours({ clientId, clean: false, receiveBufferSize: 256 });
    await connect(again);
    expect(again.seen.connected).toEqual([true]);
    await theirs.client.publishAsync(topic + "/rx", "marker", QOS1);
    await waitFor(() => again.seen.messages.length >= 1, "the marker");
    await sleep(50);
    expect(again.seen.messages.map((m) => m.text)).toEqual(["marker"]);
    expect(again.client.stats.oversize).toBe(0);
  });

  it("a burst of 300 QoS 1 publishes: every one arrives at the peer, in order, and is acknowledged", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/burst", QOS1);
    const mine = ours({ outboxBytes: 65_536, outboxMessages: 512, maxInflight: 16 });
    await connect(mine);
    const prepared = mine.client.prepareTopic(topic + "/burst");
    const statuses = new Set<string>();
    for (let i = 0; i < 300; i++) statuses.add(mine.client.publish(prepared, "n" + i, { qos: 1 }));
    expect([...statuses].every((x) => x === "sent" || x === "queued")).toBe(true);
    await waitFor(() => theirs.messages.length === 300 && mine.seen.published.length === 300, "300 messages at the peer", 15_000);
    expect(theirs.messages.map((m) => m.payload.toString())).toEqual(Array.from({ length: 300 }, (_, i) => "n" + i));
    expect(new Set(mine.seen.published).size).toBe(300);
    expect(mine.client.outboxCount).toBe(0);
    expect(mine.client.stats).toMatchObject({ sent: 300, acknowledged: 300, resent: 0 });
  });

  it("a burst of 500 QoS 1 messages from the peer: every one reaches the handler in order, and every publish is acknowledged", async () => {
    const mine = ours();
    await connect(mine);
    const got: Received[] = [];
    await subscribe(mine, topic + "/flood", 1, got);
    const theirs = await peer();
    // all at once: the client reads and answers while the broker keeps sending
    await Promise.all(Array.from({ length: 500 }, (_, i) => theirs.client.publishAsync(topic + "/flood", "f" + i, QOS1)));
    await waitFor(() => got.length === 500, "500 messages in the handler", 15_000);
    expect(got.map((m) => m.text)).toEqual(Array.from({ length: 500 }, (_, i) => "f" + i));
    expect(got.every((m) => m.qos === 1 && !m.dup)).toBe(true);
    // every PUBLISH got its PUBACK: the client wrote exactly 500
    const pubacks = parsePackets(mine.sockets[0].written).filter((x) => x.cmd === "puback").length;
    expect(pubacks).toBe(500);
    expect(mine.seen.errors).toEqual([]);
    expect(mine.seen.disconnected).toEqual([]);
  });

  it("bad input is rejected synchronously with a typed error and changes nothing", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/#", QOS1);
    const mine = ours({ transmitBufferSize: 256 });
    await connect(mine);
    const stats = { ...mine.client.stats };
    const code = (call: () => unknown): string => {
      try {
        call();
      } catch (error) {
        return error instanceof MqttError ? error.code : "not an MqttError: " + String(error);
      }
      return "no error";
    };
    expect(code(() => mine.client.publish(topic + "/+/b", "x"))).toBe("topic-invalid");
    expect(code(() => mine.client.publish(topic + "/#", "x", { qos: 1 }))).toBe("topic-invalid");
    expect(code(() => mine.client.publish("", "x"))).toBe("topic-invalid");
    expect(code(() => mine.client.publish(topic + "/nul\u0000", "x"))).toBe("topic-invalid");
    expect(code(() => mine.client.prepareTopic(topic + "/+"))).toBe("topic-invalid");
    expect(code(() => mine.client.publish(topic + "/qos", "x", { qos: 3 }))).toBe("qos-invalid");
    expect(code(() => mine.client.publish(topic + "/big", new Uint8Array(300), { qos: 0 }))).toBe("payload-too-large");
    expect(code(() => mine.client.publish(topic + "/big", new Uint8Array(300), { qos: 1 }))).toBe("payload-too-large");
    expect(code(() => mine.client.subscribe(topic + "/#/x", { qos: 0 }))).toBe("filter-invalid");
    expect(code(() => mine.client.subscribe(topic + "/x", { qos: 3 }))).toBe("qos-invalid");

    expect(mine.client.stats).toEqual(stats);
    expect(mine.client.outboxCount).toBe(0);
    expect(mine.client.outboxUsed).toBe(0);
    expect(mine.client.state).toBe("connected");
    // nothing reached the broker: the next valid message is the only one the peer sees
    expect(mine.client.publish(topic + "/ok", "ok", { qos: 1 })).toBe("sent");
    await waitFor(() => theirs.messages.length >= 1 && mine.seen.published.length === 1, "the valid message");
    await sleep(50);
    expect(theirs.messages.map((m) => [m.topic, m.payload.toString()])).toEqual([[topic + "/ok", "ok"]]);
    expect(mine.seen.subscribed).toEqual([]);
    expect(mine.seen.errors).toEqual([]);
  });

  it("offline with a full outbox, publish says 'outbox-full' at once; everything accepted is delivered in order after connecting", async () => {
    const theirs = await peer();
    await theirs.client.subscribeAsync(topic + "/box", QOS1);
    const link = await proxy();
    await link.refuse(); // the broker cannot be reached
    const mine = ours({ port: link.port, outboxBytes: 256, outboxMessages: 8 });
    mine.client.connect();
    const accepted: string[] = [];
    let status = "";
    for (let i = 0; i < 100; i++) {
      status = mine.client.publish(topic + "/box", "message " + i, { qos: 1 });
      if (status !== "queued") break;
      accepted.push("message " + i);
    }
    expect(status).toBe("outbox-full");
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    const count = mine.client.outboxCount;
    const used = mine.client.outboxUsed;
    expect(count).toBe(accepted.length);
    const started = performance.now();
    expect(mine.client.publish(topic + "/box", "one more", { qos: 1 })).toBe("outbox-full");
    expect(mine.client.publish(topic + "/box", "queued qos 0", { qos: 0, queue: true })).toBe("outbox-full");
    expect(performance.now() - started).toBeLessThan(50);
    expect([mine.client.outboxCount, mine.client.outboxUsed]).toEqual([count, used]);

    await link.accept();
    await waitFor(() => mine.seen.connected.length === 1, "onConnected");
    await waitFor(() => theirs.messages.length === accepted.length && mine.seen.published.length === accepted.length, "every accepted message at the peer");
    expect(theirs.messages.map((m) => m.payload.toString())).toEqual(accepted);
    expect(mine.client.outboxCount).toBe(0);
    expect(mine.client.publish(topic + "/box", "room again", { qos: 1 })).toBe("sent");
    await waitFor(() => theirs.messages.length === accepted.length + 1, "the next message");
    await sleep(50);
    expect(theirs.messages.map((m) => m.payload.toString())).toEqual([...accepted, "room again"]);
  });
});

describe("client against mosquitto with persistence", () => {
  const cleanups: (() => unknown)[] = [];

  afterEach(() => runCleanups(cleanups));

  afterAll(async () => {
    await stopAllMosquittos();
  });

  it("a restart keeps the session: the clean:false client resumes (sessionPresent=true) without resubscribing; what it queued while the broker was down reaches a peer's stored session [MQTT-3.1.2-4] [MQTT-3.2.2-2]", async () => {
    const broker = await Mosquitto.start({ persistence: true });
    cleanups.push(() => broker.close());
    const topic = uniqueName("persist");
    const { client, seen } = ourClient(broker.port, cleanups, { clean: false });
    const got: Received[] = [];
    client.subscribe(topic + "/cmd", { qos: 1 }, (m) => got.push(snapshot(m)));
    client.connect();
    await waitFor(() => seen.subscribed.length === 1, "onSubscribed");
    expect(seen.connected).toEqual([false]);

    // a peer with a stored session of its own, subscribed to what our client publishes
    const peerId = uniqueName("peer");
    const first = await connectPeer(broker.port, { clientId: peerId, clean: false });
    cleanups.push(() => first.client.endAsync(true));
    await first.client.subscribeAsync(topic + "/out", QOS1);
    await first.client.endAsync();

    await broker.stop(); // SIGTERM: mosquitto writes its persistence file
    await waitFor(() => seen.disconnected.length === 1, "onDisconnected");
    for (let i = 0; i < 3; i++) expect(client.publish(topic + "/out", "p" + i, { qos: 1 })).toBe("queued");
    await broker.start();
    await waitFor(() => seen.connected.length === 2 && seen.published.length === 3, "the reconnect and three PUBACKs");
    expect(seen.connected).toEqual([false, true]);
    expect(seen.subscribed).toHaveLength(1); // the session kept the subscription: no SUBSCRIBE again

    const second = await connectPeer(broker.port, { clientId: peerId, clean: false });
    cleanups.push(() => second.client.endAsync(true));
    await waitFor(() => second.messages.length === 3, "the stored messages at the peer");
    expect(second.messages.map((m) => [m.payload.toString(), m.qos])).toEqual([["p0", 1], ["p1", 1], ["p2", 1]]);
    await second.client.publishAsync(topic + "/cmd", "after the restart", QOS1);
    await waitFor(() => got.length === 1, "a message on the kept subscription");
    expect(got[0]).toMatchObject({ text: "after the restart", qos: 1 });
  });
});
