/*
 * The simulator's watcher: one MQTT.js client (connected on first use, reconnecting on its
 * own after a broker restart) behind waitForMessage(). Each wait subscribes to its topic
 * filter (so retained messages on it are sent again, [MQTT-3.8.4-3]) and resolves with the
 * first message on it that arrives after the call and passes the predicate; it rejects
 * after its timeout. Its `subscribed` promise resolves once the broker acknowledged the
 * subscription: from then on nothing published on the filter is missed (await it before
 * causing the message). A filter is unsubscribed once nobody waits on it. Node side only.
 */

import { connect } from "mqtt";
import type { MqttClient } from "mqtt";
import { topicMatches } from "../device/mqtt/index.js";

const utf8 = new TextEncoder();

export interface WatchedMessage {
  topic: string;
  /** The payload as UTF-8 text. */
  payload: string;
  retain: boolean;
}

export interface WaitOptions {
  /** ms (default 10,000). */
  timeout?: number;
  /** Only a message for which this returns true resolves the wait. */
  predicate?: (message: WatchedMessage) => boolean;
}

/** A pending waitForMessage(): the message, and when the subscription is in place. */
export type MessageWait = Promise<WatchedMessage> & {
  /** Resolves once the broker acknowledged the subscription (or the wait ended first). */
  subscribed: Promise<void>;
};

interface Waiter {
  filter: string;
  options: WaitOptions;
  resolve(message: WatchedMessage): void;
  reject(error: Error): void;
}

const DEFAULT_TIMEOUT = 10_000;

export class MessageWatcher {
  readonly #url: string;
  readonly #ca: string | undefined;
  #client: MqttClient | undefined;
  readonly #waiters = new Set<Waiter>();
  #closed = false;

  constructor(url: string, ca?: string) {
    this.#url = url;
    this.#ca = ca;
  }

  /** Resolves with the first message on `filter` (wildcards allowed) after this call that passes the predicate. */
  waitForMessage(filter: string, options: WaitOptions = {}): MessageWait {
    if (this.#closed) {
      const failed = Promise.reject(new Error("waitForMessage: the simulator is stopped")) as MessageWait;
      failed.subscribed = Promise.resolve();
      return failed;
    }
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    const client = this.#connected();
    let subscribed!: () => void;
    const acknowledged = new Promise<void>((resolve) => (subscribed = resolve));
    const wait = new Promise<WatchedMessage>((resolve, reject) => {
      const waiter: Waiter = {
        filter,
        options,
        resolve: (message) => {
          done();
          resolve(message);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`waitForMessage: no message on ${filter}${options.predicate ? " passing the predicate" : ""} within ${timeout} ms`));
      }, timeout);
      const done = () => {
        subscribed();
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        if (!this.#closed && ![...this.#waiters].some((w) => w.filter === filter)) client.unsubscribe(filter);
      };
      this.#waiters.add(waiter);
      client.subscribe(filter, { qos: 1 }, () => subscribed());
    }) as MessageWait;
    wait.subscribed = acknowledged;
    return wait;
  }

  /** Disconnects; pending waits reject. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.reject(new Error(`waitForMessage: the simulator stopped while waiting on ${waiter.filter}`));
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) await client.endAsync(true);
  }

  #connected(): MqttClient {
    if (this.#client !== undefined) return this.#client;
    const client = connect(this.#url, {
      protocolVersion: 4,
      clientId: `xs-mqtt-sim-watcher-${process.pid}-${Math.floor(Math.random() * 1e9).toString(36)}`,
      clean: true,
      reconnectPeriod: 500,
      connectTimeout: 5_000,
      ca: this.#ca,
    });
    client.on("error", () => {}); // it reconnects by itself; a wait that sees nothing times out
    client.on("message", (topic, payload, packet) => {
      const message: WatchedMessage = { topic, payload: payload.toString("utf8"), retain: packet.retain };
      for (const waiter of [...this.#waiters]) {
        if (!filterMatches(waiter.filter, topic)) continue;
        let passes = true;
        try {
          passes = waiter.options.predicate === undefined || waiter.options.predicate(message);
        } catch {
          passes = false;
        }
        if (passes) waiter.resolve(message);
      }
    });
    this.#client = client;
    return client;
  }
}

/** Whether an MQTT topic filter (with + and #) matches a topic name: the client's own matching, on their UTF-8 bytes. */
export function filterMatches(filter: string, topic: string): boolean {
  const filterBytes = utf8.encode(filter);
  const topicBytes = utf8.encode(topic);
  return topicMatches(filterBytes, 0, filterBytes.length, topicBytes, 0, topicBytes.length);
}
