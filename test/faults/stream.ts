/*
 * The moving parts of the fault suite besides the proxy: a publisher that drives our client
 * with a numbered stream of QoS 1 messages (the payload is the sequence number, 8 ASCII
 * digits; prepared topic, one reused payload buffer) and records every connect and
 * disconnect with the messages unacknowledged at that moment; an MQTT.js subscriber that
 * records the sequence numbers in arrival order; the check of an arrival order (lost, out
 * of order, repeats and whether each repeat was allowed); and the SIGKILL of a mosquitto
 * started by test/brokers/mosquitto.ts. Test side only; every wait here is bounded.
 */

import { statSync } from "node:fs";
import { join } from "node:path";
import { MqttClient } from "../../device/mqtt/client.js";
import type { ClientOptions, PublishStatus } from "../../device/mqtt/options.js";
import type { ErrorCode } from "../../device/mqtt/errors.js";
import type { ClientIo } from "../../device/mqtt/io.js";
import type { PreparedTopic } from "../../device/mqtt/topic.js";
import { hostIo, TCP } from "../../host-sim/io/io.js";
import { connectPeer, sleep, waitFor } from "../brokers/helpers.js";
import type { Peer } from "../brokers/helpers.js";
import type { Mosquitto } from "../brokers/mosquitto.js";

const DIGITS = 8;
const QOS1 = { qos: 1 } as const;

/** The sequence number a payload carries. */
function sequenceOf(payload: Uint8Array): number {
  let sequence = 0;
  for (let i = 0; i < payload.length; i++) sequence = sequence * 10 + (payload[i] - 0x30);
  return payload.length === DIGITS ? sequence : -1;
}

/** What our client has read from its sockets, over every connection. */
export interface ReadCount {
  bytes: number;
  /** read() calls that returned bytes. */
  calls: number;
  /** performance.now() of the last read() that returned bytes: when the client last heard anything. */
  lastAt: number;
}

/** The Node IO (host-sim), with a TCP class that counts what the client reads. */
function countingIo(count: ReadCount): ClientIo {
  class CountingTCP extends TCP {
    override read(buffer?: ArrayBuffer | ArrayBufferView | number): any {
      const result = super.read(buffer);
      if (typeof result === "number" && result > 0) {
        count.bytes += result;
        count.calls++;
        count.lastAt = performance.now();
      }
      return result;
    }
  }
  return { ...hostIo(), TCP: CountingTCP };
}

export interface Disconnect {
  code: ErrorCode;
  /** performance.now() when onDisconnected ran. */
  at: number;
  /** Sequence numbers [from, to) accepted and not yet acknowledged then: the ones that may come twice. */
  unacked: [number, number];
}

/** Our client on 127.0.0.1:port, publishing sequence numbers 0, 1, 2, ... to one topic at QoS 1. */
export class Publisher {
  readonly client: MqttClient;
  readonly connects: { sessionPresent: boolean; at: number }[] = [];
  readonly disconnects: Disconnect[] = [];
  readonly errors: string[] = [];
  /** Messages publish() accepted ("sent" or "queued"): the next sequence number. */
  accepted = 0;
  /** "outbox-full" answers. */
  refused = 0;
  /** Any other answer ("dropped" must never come for QoS 1). */
  readonly other: PublishStatus[] = [];
  /** Packet ids in onPublished order. */
  readonly acks: number[] = [];
  /** What the client has read from its sockets. */
  readonly read: ReadCount = { bytes: 0, calls: 0, lastAt: 0 };
  readonly #topic: PreparedTopic;
  readonly #payload = new Uint8Array(DIGITS);

  constructor(port: number, topic: string, options: Partial<ClientOptions>) {
    this.client = new MqttClient({
      host: "127.0.0.1",
      port,
      clientId: "unset",
      clean: false,
      connectTimeout: 3_000,
      ...options,
      io: countingIo(this.read),
      onConnected: (sessionPresent) => this.connects.push({ sessionPresent, at: performance.now() }),
      onDisconnected: (error) => {
        const unacked = this.client.outboxCount;
        this.disconnects.push({ code: error.code, at: performance.now(), unacked: [this.accepted - unacked, this.accepted] });
      },
      onPublished: (packetId) => this.acks.push(packetId),
      onError: (error) => {
        if (this.errors.length < 100) this.errors.push(error.code);
      },
    });
    this.#topic = this.client.prepareTopic(topic);
  }

  /** Connects and waits for the first onConnected. */
  async connect(timeout = 5_000): Promise<void> {
    this.client.connect();
    await waitFor(() => this.connects.length > 0, "our client's first CONNACK", timeout);
  }

  /** Publishes the next sequence number once; moves on only if the client accepted it. */
  publishNext(): PublishStatus {
    let rest = this.accepted;
    for (let i = DIGITS - 1; i >= 0; i--) {
      this.#payload[i] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    }
    const status = this.client.publish(this.#topic, this.#payload, QOS1);
    if (status === "sent" || status === "queued") this.accepted++;
    else if (status === "outbox-full") this.refused++;
    else this.other.push(status);
    return status;
  }

  /**
   * Publishes until `total` messages are accepted: as many as the outbox takes, then a pause
   * of a millisecond for room. `onAccepted(seq)` runs after each accepted message (not awaited).
   * Throws when `deadline` (Date.now()) passes first.
   */
  async run(total: number, deadline: number, onAccepted?: (seq: number) => void): Promise<void> {
    while (this.accepted < total) {
      if (Date.now() > deadline) {
        throw new Error("publishing timed out at " + this.accepted + " of " + total + " accepted; state " + this.client.state);
      }
      for (let burst = 0; burst < 256 && this.accepted < total; burst++) {
        const before = this.accepted;
        const status = this.publishNext();
        if (this.accepted > before) onAccepted?.(before);
        if (status !== "sent" && status !== "queued") break;
      }
      await sleep(1);
    }
  }

  /** Waits (bounded) until every accepted message is acknowledged and the client is connected; says whether that came. */
  async drained(timeout: number): Promise<boolean> {
    const until = Date.now() + timeout;
    while (!(this.client.outboxCount === 0 && this.client.connected)) {
      if (Date.now() >= until) return false;
      await sleep(10);
    }
    return true;
  }
}

/** An MQTT.js subscriber (QoS 1, persistent session) recording the sequence numbers in arrival order. */
export interface Subscriber {
  peer: Peer;
  /** Sequence numbers in arrival order. */
  seqs: number[];
  /** How many arrived with the DUP flag set (redelivered by the broker). */
  dupFlags: number;
  /** sessionPresent of every CONNACK after the first. */
  reconnects: boolean[];
}

export async function subscribe(port: number, topic: string, clientId: string, reconnectPeriod = 0): Promise<Subscriber> {
  const peer = await connectPeer(port, { clientId, clean: false, reconnectPeriod, resubscribe: false });
  const sub: Subscriber = { peer, seqs: [], dupFlags: 0, reconnects: [] };
  peer.client.on("error", () => {}); // a refused reconnect is expected in the kill test: the counts tell
  peer.client.on("connect", (connack) => sub.reconnects.push(connack.sessionPresent));
  peer.client.on("message", (_topic, payload, packet) => {
    sub.seqs.push(sequenceOf(payload));
    if (packet.dup) sub.dupFlags++;
  });
  await peer.client.subscribeAsync(topic, { qos: 1 });
  return sub;
}

/** The lowest sequence number that has not arrived (total when all have). */
export function firstMissing(seqs: readonly number[], total: number): number {
  const seen = new Uint8Array(total);
  for (const seq of seqs) if (seq >= 0 && seq < total) seen[seq] = 1;
  const at = seen.indexOf(0);
  return at < 0 ? total : at;
}

export interface Arrivals {
  /** Messages that arrived, repeats included. */
  received: number;
  distinct: number;
  duplicates: number;
  lost: number;
  /** Sequence numbers whose first arrival came before an earlier number's. */
  outOfOrder: number[];
  /** Repeats of messages that were never unacknowledged when a connection ended. */
  unexplainedRepeats: number[];
  /** Payloads that are not a sequence number below the total. */
  strangers: number[];
}

/**
 * Checks an arrival order against 0 .. total-1: each number's first arrival must come in
 * order; a repeat is explained when it lay in one of `windows` (unacknowledged when a
 * connection ended, so our client sent it again).
 */
export function arrivals(seqs: readonly number[], total: number, windows: readonly [number, number][]): Arrivals {
  const seen = new Uint8Array(total);
  let next = 0;
  let distinct = 0;
  const result: Arrivals = {
    received: seqs.length, distinct: 0, duplicates: 0, lost: 0, outOfOrder: [], unexplainedRepeats: [], strangers: [],
  };
  for (const seq of seqs) {
    if (!(seq >= 0 && seq < total)) {
      result.strangers.push(seq);
      continue;
    }
    if (seen[seq] === 1) {
      result.duplicates++;
      if (!windows.some(([from, to]) => seq >= from && seq < to)) result.unexplainedRepeats.push(seq);
      continue;
    }
    if (seq !== next) result.outOfOrder.push(seq);
    seen[seq] = 1;
    distinct++;
    while (next < total && seen[next] === 1) next++;
  }
  result.distinct = distinct;
  result.lost = total - distinct;
  return result;
}

// ---- mosquitto: SIGKILL, and its persistence file

/** SIGKILL: mosquitto dies at once, without saving; resolves once it has exited. */
export async function killMosquitto(broker: Mosquitto): Promise<void> {
  if (!broker.kill("SIGKILL")) throw new Error("mosquitto is not running: " + broker.configFile);
  await waitFor(() => !broker.running, "mosquitto to exit after SIGKILL", 5_000);
}

/** When mosquitto last wrote its persistence file (ms since the epoch), or 0 before the first save. */
export function lastSave(broker: Mosquitto): number {
  try {
    return statSync(join(broker.dir, "mosquitto.db")).mtimeMs;
  } catch {
    return 0;
  }
}

/** Waits for mosquitto to write its persistence file again after `since` (Date.now()). */
export async function savedAfter(broker: Mosquitto, since: number, timeout = 5_000): Promise<void> {
  await waitFor(() => lastSave(broker) > since, "mosquitto's autosave", timeout, 20);
}
