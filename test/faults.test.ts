/*
 * The fault matrix: our client (clean: false, a fixed client id) publishes a numbered stream
 * of QoS 1 messages through a fault-injecting TCP proxy (test/support/proxy.ts) to a real
 * mosquitto, while an MQTT.js subscriber (QoS 1, clean: false, connected to mosquitto
 * directly, never through the proxy) records what arrives. Faults: cuts every ~1,000
 * messages (both directions at once, and inside a packet), a stall (keepalive must declare
 * the link dead within 1.5 x keepAlive), mosquitto SIGKILLed and restarted with persistence,
 * 1-byte fragmentation, a throttled and delayed link, and an outbox filled while the broker
 * cannot be reached. Each test asserts what a user observes (every message arrives at least
 * once, first arrivals in order, repeats only of messages that were unacknowledged when a
 * connection ended) and prints its counts as one JSON line. Every loop and wait is bounded;
 * every client, subscriber, proxy and broker is stopped in afterEach/afterAll.
 */

import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCleanups, sleep, uniqueName, waitFor } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";
import { TcpProxy } from "./support/proxy.js";
import {
  arrivals, firstMissing, killMosquitto, lastSave, Publisher, savedAfter, subscribe,
} from "./faults/stream.js";
import type { Arrivals, Subscriber } from "./faults/stream.js";

/**
 * mosquitto drops QoS 1 messages beyond 1,000 queued for one subscriber unless told not to:
 * that would be the broker's loss, not the client's, so the limit is lifted.
 */
const BROKER_CONFIG = ["max_queued_messages 0"];

/** Polls `condition` every 20 ms until it holds or `timeout` ms pass; says which. */
async function settled(condition: () => boolean, timeout: number): Promise<boolean> {
  const until = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() >= until) return false;
    await sleep(20);
  }
  return true;
}

/** Bytes of one stream PUBLISH: fixed header 2, topic length 2 + topic, packet id 2, payload 8. */
function publishBytes(topic: string): number {
  return 2 + 2 + Buffer.byteLength(topic) + 2 + 8;
}

/** One JSON line of counts per test. */
function report(test: string, publisher: Publisher, result: Arrivals, extra: Record<string, unknown> = {}): void {
  const stats = publisher.client.stats;
  console.log(JSON.stringify({
    test,
    published: publisher.accepted,
    sent: stats.sent,
    resent: stats.resent,
    acknowledged: stats.acknowledged,
    received: result.received,
    distinct: result.distinct,
    duplicates: result.duplicates,
    lost: result.lost,
    reconnects: stats.reconnects,
    attempts: stats.attempts,
    ...extra,
  }));
}

/** What every stream must show: all arrived, first arrivals in order, nothing foreign. */
function expectComplete(result: Arrivals): void {
  expect(result.strangers).toEqual([]);
  expect(result.outOfOrder).toEqual([]);
  expect(result.lost).toBe(0);
}

describe("faults between our client and mosquitto", () => {
  let broker: Mosquitto;
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    broker = await Mosquitto.start({ config: BROKER_CONFIG });
  });

  afterEach(() => runCleanups(cleanups));

  afterAll(async () => {
    await stopAllMosquittos();
  });

  async function proxyTo(port: number): Promise<TcpProxy> {
    const proxy = await TcpProxy.start(port);
    cleanups.push(() => proxy.close());
    return proxy;
  }

  async function subscriber(port: number, topic: string, reconnectPeriod = 0): Promise<Subscriber> {
    const sub = await subscribe(port, topic, uniqueName("sub"), reconnectPeriod);
    cleanups.push(() => sub.peer.client.endAsync(true));
    return sub;
  }

  function publisher(port: number, topic: string, options: ConstructorParameters<typeof Publisher>[2] = {}): Publisher {
    const pub = new Publisher(port, topic, { clientId: uniqueName("pub"), ...options });
    cleanups.push(() => pub.client.close());
    return pub;
  }

  /**
   * Waits (bounded) until the subscriber has every number below `total`; says whether it
   * did, so that a test prints its counts before its assertions show what went missing.
   */
  async function allArrived(sub: Subscriber, total: number, timeout: number): Promise<boolean> {
    return settled(() => firstMissing(sub.seqs, total) === total, timeout);
  }

  it("cut every ~1,000 messages, 10,000 messages: every message arrives, in order apart from resent unacknowledged ones, 0 lost [MQTT-4.4.0-1] [MQTT-4.6.0-2]", async () => {
    const started = performance.now();
    const total = 10_000;
    const topic = uniqueName("faults/cut");
    const sub = await subscriber(broker.port, topic);
    const proxy = await proxyTo(broker.port);
    const pub = publisher(proxy.port, topic, { keepAlive: 10, reconnect: { minDelay: 20, maxDelay: 100 } });
    await pub.connect();
    // a cut after every ~1,000 messages' worth of bytes going up, in turn at once and inside a PUBLISH
    proxy.cutEvery(1_000 * publishBytes(topic), "alternate");
    await pub.run(total, Date.now() + 60_000);
    await pub.drained(20_000);
    await allArrived(sub, total, 20_000);
    proxy.cutEvery(0);
    proxy.cancelCut();
    await sleep(100); // anything still on its way to the subscriber
    const windows = pub.disconnects.map((d) => d.unacked);
    const result = arrivals(sub.seqs, total, windows);
    report("cut", pub, result, { cuts: proxy.cuts, cutsInsidePacket: proxy.cutsInsidePacket, connections: proxy.connections, ms: Math.round(performance.now() - started) });

    expectComplete(result);
    expect(result.unexplainedRepeats).toEqual([]);
    expect(pub.other).toEqual([]);
    // ~10 cuts; one that lands while a CONNECT waits for its CONNACK costs an attempt, not a connection
    expect(proxy.cuts).toBeGreaterThanOrEqual(9);
    expect(proxy.cutsInsidePacket).toBeGreaterThanOrEqual(4);
    expect(pub.disconnects.length).toBeGreaterThanOrEqual(8);
    expect(pub.disconnects.length).toBeLessThanOrEqual(proxy.cuts);
    expect(pub.disconnects.every((d) => d.code === "connection-lost")).toBe(true);
    expect(pub.client.stats.reconnects).toBe(pub.disconnects.length);
    expect(pub.client.stats.attempts).toBe(proxy.connections);
    // the session survived every cut; what was unacknowledged went again, with DUP [MQTT-3.3.1-1]
    expect(pub.connects.slice(1).every((c) => c.sessionPresent)).toBe(true);
    expect(pub.client.stats.resent).toBeGreaterThan(0);
    expect(pub.client.stats.resent).toBeLessThanOrEqual(windows.reduce((n, [from, to]) => n + to - from, 0));
    expect(pub.client.stats.acknowledged).toBe(total);
  }, 120_000);

  it("stall: the link is declared dead (keepalive-timeout) within 1.5 x keepAlive plus a tick, then a fresh connection completes the stream [MQTT-3.1.2-24]", async () => {
    const started = performance.now();
    const total = 2_000;
    const keepAlive = 1;
    const minDelay = 200;
    // the client's timer period for these options: min(1 s, keepAlive / 4, minDelay / 2), at least 20 ms
    const tick = Math.max(20, Math.min(1_000, (keepAlive * 1_000) / 4, minDelay / 2));
    const topic = uniqueName("faults/stall");
    const sub = await subscriber(broker.port, topic);
    const proxy = await proxyTo(broker.port);
    const pub = publisher(proxy.port, topic, { keepAlive, reconnect: { minDelay, maxDelay: 400 } });
    await pub.connect();
    const lag = monitorEventLoopDelay({ resolution: 2 });
    let stalledAt = 0;
    let heldDuringStall = 0;
    const publishing = pub.run(total, Date.now() + 60_000, (seq) => {
      if (seq === 500) {
        proxy.stall();
        stalledAt = performance.now();
        lag.enable();
        proxy.at(500, (later) => {
          heldDuringStall = later.held();
        });
      }
    });
    await waitFor(() => pub.disconnects.length > 0, "onDisconnected after the stall", 10_000);
    lag.disable();
    const stalledFor = pub.disconnects[0].at - stalledAt;
    // bytes already past the proxy when it stalled still reach the client: its silence starts at its last read
    const lastHeard = pub.read.lastAt;
    const silence = pub.disconnects[0].at - lastHeard;
    proxy.flow();
    await publishing;
    await pub.drained(20_000);
    await allArrived(sub, total, 20_000);
    await sleep(100);
    const result = arrivals(sub.seqs, total, pub.disconnects.map((d) => d.unacked));
    // scheduling slack: how late the event loop ran while stalled, and 5 ms for Date.now()'s and the timers' whole milliseconds
    const slack = lag.max / 1e6 + 5;
    report("stall", pub, result, {
      keepAliveMs: keepAlive * 1_000, tickMs: tick, stalledForMs: Math.round(stalledFor), silenceMs: Math.round(silence),
      heardAfterStallMs: Math.round(Math.max(0, lastHeard - stalledAt)), slackMs: Math.round(slack),
      connections: proxy.connections, ms: Math.round(performance.now() - started),
    });

    expect(pub.disconnects.map((d) => d.code)).toEqual(["keepalive-timeout"]);
    // dead after 1.5 x keepAlive of silence (less the 1 ms of Date.now()), no later than a tick and the slack after
    expect(silence).toBeGreaterThanOrEqual(1.5 * keepAlive * 1_000 - 2);
    expect(silence).toBeLessThanOrEqual(1.5 * keepAlive * 1_000 + tick + slack);
    // from the stall: the same, plus what was already on its way when the proxy stalled
    expect(stalledFor).toBeGreaterThanOrEqual(keepAlive * 1_000);
    expect(stalledFor).toBeLessThanOrEqual(1.5 * keepAlive * 1_000 + tick + slack + Math.max(0, lastHeard - stalledAt));
    // the stall swallowed bytes and kept the connection open: only the keepalive could notice
    expect(heldDuringStall).toBeGreaterThan(0);
    // recovered on a fresh connection through the proxy, with the session
    expect(proxy.connections).toBe(2);
    expect(pub.connects.map((c) => c.sessionPresent)).toEqual([false, true]);
    expect(pub.client.stats.reconnects).toBe(1);
    expectComplete(result);
    expect(result.unexplainedRepeats).toEqual([]);
    expect(pub.other).toEqual([]);
  }, 90_000);

  it("1-byte fragments both ways, 1,000 messages: every message exactly once, in order, no reconnect", async () => {
    const started = performance.now();
    const total = 1_000;
    const topic = uniqueName("faults/fragment");
    const sub = await subscriber(broker.port, topic);
    const proxy = await proxyTo(broker.port);
    proxy.fragment(true); // from the first byte of CONNECT
    const pub = publisher(proxy.port, topic, { keepAlive: 10, reconnect: { minDelay: 50, maxDelay: 200 } });
    await pub.connect();
    await pub.run(total, Date.now() + 60_000);
    await pub.drained(30_000);
    await allArrived(sub, total, 20_000);
    await waitFor(() => pub.read.bytes === proxy.forwarded.down, "the client to read every byte forwarded", 5_000);
    await sleep(100);
    const result = arrivals(sub.seqs, total, []);
    const bytesPerRead = pub.read.bytes / pub.read.calls;
    report("fragment", pub, result, {
      up: proxy.forwarded.up, down: proxy.forwarded.down, clientReads: pub.read.calls, bytesPerRead: +bytesPerRead.toFixed(2),
      ms: Math.round(performance.now() - started),
    });

    expectComplete(result);
    expect(result.duplicates).toBe(0);
    expect(pub.client.stats).toMatchObject({ reconnects: 0, attempts: 1, resent: 0, acknowledged: total });
    expect(pub.errors).toEqual([]);
    // the client really got its CONNACK and PUBACKs in pieces: about one byte per read
    expect(pub.read.bytes).toBe(proxy.forwarded.down);
    expect(bytesPerRead).toBeLessThan(1.5);
  }, 90_000);

  it("throttled to 20 KB/s with 10 ms per chunk, 1,000 messages: every message exactly once, in order, no reconnect, no faster than the rate", async () => {
    const started = performance.now();
    const total = 1_000;
    const rate = 20_000;
    const topic = uniqueName("faults/throttle");
    const sub = await subscriber(broker.port, topic);
    const proxy = await proxyTo(broker.port);
    proxy.throttle(rate);
    proxy.delay(10);
    const pub = publisher(proxy.port, topic, { keepAlive: 10, reconnect: { minDelay: 50, maxDelay: 200 } });
    await pub.connect();
    const streamStart = performance.now();
    await pub.run(total, Date.now() + 60_000);
    await pub.drained(30_000);
    const streamMs = performance.now() - streamStart;
    await allArrived(sub, total, 20_000);
    await sleep(100);
    const result = arrivals(sub.seqs, total, []);
    const up = proxy.forwarded.up;
    report("throttle", pub, result, {
      up, down: proxy.forwarded.down, streamMs: Math.round(streamMs), bytesPerSecond: Math.round((up * 1000) / streamMs),
      ms: Math.round(performance.now() - started),
    });

    expectComplete(result);
    expect(result.duplicates).toBe(0);
    expect(pub.client.stats).toMatchObject({ reconnects: 0, attempts: 1, resent: 0, acknowledged: total });
    expect(pub.errors).toEqual([]);
    // the stream's bytes could not pass faster than the rate (less one 20 ms burst)
    const streamBytes = total * publishBytes(topic);
    expect(streamMs).toBeGreaterThanOrEqual(((streamBytes - rate / 50) * 1000) / rate);
  }, 90_000);

  it("outbox full while offline: publish says \"outbox-full\", the heap stays flat, and every accepted message arrives once the broker is reachable", async () => {
    const started = performance.now();
    const topic = uniqueName("faults/outbox");
    const sub = await subscriber(broker.port, topic);
    const proxy = await proxyTo(broker.port);
    const pub = publisher(proxy.port, topic, {
      keepAlive: 10, outboxBytes: 4_096, outboxMessages: 128, reconnect: { minDelay: 50, maxDelay: 200 },
    });
    await pub.connect();
    await pub.run(100, Date.now() + 20_000);
    expect(await pub.drained(10_000)).toBe(true);

    await proxy.refuse(); // cut, and nothing listens: every reconnect attempt is refused
    await waitFor(() => pub.disconnects.length === 1, "onDisconnected", 5_000);
    let attempts = 0;
    while (pub.publishNext() !== "outbox-full") {
      if (++attempts > 10_000) throw new Error("the outbox never filled");
    }
    const accepted = pub.accepted;
    const held = pub.client.outboxCount;
    const heldBytes = pub.client.outboxUsed;

    // keep publishing into the full outbox while the client keeps trying to reconnect
    const batches = 40;
    const perBatch = 10_000;
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    let full = 0;
    for (let batch = 0; batch < batches; batch++) {
      for (let i = 0; i < perBatch; i++) if (pub.publishNext() === "outbox-full") full++;
      peak = Math.max(peak, process.memoryUsage().heapUsed);
      await sleep(20);
    }
    const growth = peak - baseline;
    const attemptsOffline = pub.client.stats.attempts;

    await proxy.accept();
    expect(await pub.drained(10_000)).toBe(true);
    expect(await allArrived(sub, accepted, 10_000)).toBe(true);
    // the outbox has room again: the stream goes on
    await pub.run(accepted + 50, Date.now() + 10_000);
    await pub.drained(10_000);
    const total = pub.accepted;
    await allArrived(sub, total, 10_000);
    await sleep(100);
    const result = arrivals(sub.seqs, total, pub.disconnects.map((d) => d.unacked));
    report("outbox-full", pub, result, {
      acceptedOffline: accepted - 100, outboxCount: held, outboxBytes: heldBytes, refused: pub.refused,
      heapGrowthBytes: growth, ms: Math.round(performance.now() - started),
    });

    expect(held).toBe(accepted - 100); // everything accepted offline is held, nothing else
    expect(heldBytes).toBeLessThanOrEqual(4_096);
    expect(full).toBe(batches * perBatch); // nothing was accepted once full, and nothing thrown
    expect(pub.other).toEqual([]);
    expect(attemptsOffline).toBeGreaterThan(2); // it kept trying while refused
    // 400,000 refused publishes: a queue that grew would hold at least 400,000 x 8 payload bytes
    expect(growth).toBeLessThan(2 * 1024 * 1024);
    expectComplete(result); // the refused message (number `accepted`) would show as a stranger
    expect(result.unexplainedRepeats).toEqual([]);
    expect(pub.client.stats.reconnects).toBe(1);
  }, 90_000);
});

/*
 * mosquitto killed with SIGKILL, then restarted with its persistence file.
 *
 * What mosquitto guarantees: it writes its in-memory state (sessions, subscriptions, queued
 * messages) to mosquitto.db every autosave_interval seconds (here 1; it checks once per
 * loop, so a save comes every 1-2 s) and at a clean shutdown, never per message, and it
 * sends PUBACK before any save. After SIGKILL it restarts from its last save: a message it
 * acknowledged after that save, and had not yet handed to the subscriber, is gone. No
 * client can prevent that: once the PUBACK came, the message is the broker's [MQTT-4.3.2-2].
 *
 * What the test asserts, and how it makes that exact: at the kill, every message our
 * client has seen acknowledged has already reached the subscriber. From the moment the test
 * decides to kill, the proxy holds what the client sends (so at least one PUBLISH never
 * reaches the broker: only a resend can deliver it), then what the broker sends back (its
 * PUBACKs from then on never reach the client); the test waits until the client has read
 * everything already forwarded, then until the subscriber has every acknowledged message,
 * and kills. The held bytes go with the connection, so every other message is still
 * unacknowledged in the client's outbox. Then 0 lost is the client's guarantee alone: it
 * keeps every unacknowledged message and sends it again (DUP) after the reconnect. The
 * persistence is what keeps both sessions (sessionPresent on both sides, and the
 * subscriber's subscription: it does not subscribe again) and the messages the broker held
 * at its last save (delivered again: repeats, not checked against the client's windows).
 */
describe("faults: mosquitto SIGKILLed while publishing, restarted with persistence", () => {
  const cleanups: (() => unknown)[] = [];

  afterAll(async () => {
    await runCleanups(cleanups);
    await stopAllMosquittos();
  });

  it("0 QoS 1 messages lost: the unacknowledged ones are sent again after the restart; both sessions survive [MQTT-3.1.2-4] [MQTT-4.4.0-1]", async () => {
    const started = performance.now();
    const total = 3_000;
    const killAt = 1_000;
    const broker = await Mosquitto.start({ persistence: true, config: [...BROKER_CONFIG, "autosave_interval 1"] });
    cleanups.push(() => broker.close());
    const topic = uniqueName("faults/kill");
    const sub = await subscribe(broker.port, topic, uniqueName("sub"), 100);
    cleanups.push(() => sub.peer.client.endAsync(true));
    const proxy = await TcpProxy.start(broker.port);
    cleanups.push(() => proxy.close());
    const pub = new Publisher(proxy.port, topic, {
      clientId: uniqueName("pub"), keepAlive: 10, reconnect: { minDelay: 50, maxDelay: 200 },
    });
    cleanups.push(() => pub.client.close());
    await pub.connect();
    // both sessions (and the subscription) in a save before anything else
    await savedAfter(broker, Date.now());

    const at = {
      acknowledged: 0, accepted: 0, heldUp: 0, heldDown: 0, sinceSaveMs: 0, firstMissing: 0,
    };
    const packet = publishBytes(topic);
    let killed: Promise<void> | undefined;
    const kill = async () => {
      // what the client sends from now on never reaches the broker: only a resend can deliver it
      proxy.stall("up");
      await waitFor(() => proxy.held("up") >= packet, "a PUBLISH held in the proxy", 5_000, 2);
      // and the broker's PUBACKs stop here: what it acknowledges from now on, the client never hears of
      proxy.stall("down");
      await waitFor(() => pub.read.bytes === proxy.forwarded.down, "the client to read what was forwarded", 5_000, 2);
      const acknowledged = pub.client.stats.acknowledged; // cannot grow now
      await waitFor(() => firstMissing(sub.seqs, total) >= acknowledged, "the acknowledged messages at the subscriber", 10_000, 5);
      at.acknowledged = acknowledged;
      at.accepted = pub.accepted;
      at.heldUp = proxy.held("up");
      at.heldDown = proxy.held("down");
      at.sinceSaveMs = Math.round(Date.now() - lastSave(broker));
      at.firstMissing = firstMissing(sub.seqs, total);
      await killMosquitto(broker);
      proxy.cut(); // the held PUBLISHes and PUBACKs go with the connection
      proxy.flow();
      await sleep(300); // down for a while: the client's attempts and the subscriber's fail
      await broker.start();
    };
    await pub.run(total, Date.now() + 60_000, (seq) => {
      if (seq === killAt) killed = kill();
    });
    expect(killed).toBeDefined();
    await killed;
    await pub.drained(20_000);
    await settled(() => firstMissing(sub.seqs, total) === total, 20_000);
    await sleep(100);
    const result = arrivals(sub.seqs, total, pub.disconnects.map((d) => d.unacked));
    report("broker-kill", pub, result, {
      acknowledgedAtKill: at.acknowledged, unacknowledgedAtKill: at.accepted - at.acknowledged,
      publishesHeldAtKill: Math.round(at.heldUp / packet), pubacksHeldAtKill: at.heldDown / 4, msSinceLastSave: at.sinceSaveMs,
      subscriberReconnects: sub.reconnects.length, redeliveredWithDup: sub.dupFlags,
      ms: Math.round(performance.now() - started),
    });

    expectComplete(result);
    expect(pub.other).toEqual([]);
    expect(at.firstMissing).toBeGreaterThanOrEqual(at.acknowledged);
    // the kill came in the middle of the stream, with messages unacknowledged
    expect(at.acknowledged).toBeGreaterThan(0);
    expect(at.accepted - at.acknowledged).toBeGreaterThan(0);
    expect(at.heldUp).toBeGreaterThanOrEqual(packet); // at least one message the broker never saw
    expect(pub.client.stats.resent).toBeGreaterThan(0);
    // our session survived the SIGKILL (it was in a save); so did the subscriber's, with its subscription
    expect(pub.connects.map((c) => c.sessionPresent)).toEqual([false, true]);
    expect(pub.client.stats.reconnects).toBe(1);
    expect(sub.reconnects.length).toBeGreaterThanOrEqual(1);
    expect(sub.reconnects.every((present) => present)).toBe(true);
    expect(pub.client.stats.acknowledged).toBe(total);
  }, 120_000);
});
