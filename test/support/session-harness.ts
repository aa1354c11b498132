/*
 * The harness of the client's byte-level session tests: an MqttClient on the fake clock and
 * network, with every callback it makes recorded, and compact views of the packets it wrote.
 * Only the session tests use it; it opens no socket and reads no real time.
 */

import { expect } from "vitest";
import type * as mqtt from "mqtt-packet";
import { MqttClient } from "../../device/mqtt/index.js";
import type { ClientOptions, MqttError } from "../../device/mqtt/index.js";
import { FakeClock, Loop } from "./fake-clock.js";
import { Link, Net } from "./fake-network.js";


export interface Received {
  topic: string;
  payload: Buffer;
  qos: number;
  dup: boolean;
  retain: boolean;
  packetId: number;
}

export interface Harness {
  client: MqttClient;
  loop: Loop;
  clock: FakeClock;
  net: Net;
  errors: MqttError[];
  disconnects: MqttError[];
  connects: boolean[];
  published: number[];
  messages: Received[];
  settle(): void;
  /** connect() and run the loop: with the default script, the client is connected after. */
  start(): Link;
  codes(): string[];
}

export interface HarnessConfig {
  random?: () => number;
  window?: number;
  autoDrain?: boolean;
}

export const ADDRESS = "127.0.0.1";

export function harness(options: Partial<ClientOptions> = {}, config: HarnessConfig = {}): Harness {
  const loop = new Loop();
  const clock = new FakeClock(loop);
  const net = new Net(loop, clock);
  if (config.window !== undefined) net.window = config.window;
  if (config.autoDrain !== undefined) net.autoDrain = config.autoDrain;
  const errors: MqttError[] = [];
  const disconnects: MqttError[] = [];
  const connects: boolean[] = [];
  const published: number[] = [];
  const messages: Received[] = [];
  const random = config.random ?? (() => 0);
  const client = new MqttClient({
    host: ADDRESS,
    clientId: "sensor-1",
    io: {
      TCP: net.TCP,
      Timer: clock.Timer,
      TextEncoder,
      TextDecoder,
      now: () => clock.now,
      random,
    },
    onError: (e) => errors.push(e),
    onDisconnected: (e) => disconnects.push(e),
    onConnected: (sessionPresent) => connects.push(sessionPresent),
    onPublished: (id) => published.push(id),
    onMessage: (message) => messages.push({
      topic: message.topic, payload: Buffer.from(message.payload), qos: message.qos, dup: message.dup, retain: message.retain, packetId: message.packetId,
    }),
    ...options,
  });
  const session: Harness = {
    client, loop, clock, net, errors, disconnects, connects, published, messages,
    settle: () => loop.settle(),
    start: () => {
      client.connect();
      loop.settle();
      return net.last;
    },
    codes: () => errors.map((e) => e.code),
  };
  return session;
}

/** A compact, comparable view of a packet the client wrote. */
export function brief(packet: mqtt.Packet): Record<string, unknown> {
  switch (packet.cmd) {
    case "publish":
      return {
        cmd: "publish", topic: packet.topic, payload: Buffer.from(packet.payload as Buffer).toString(),
        qos: packet.qos, dup: packet.dup, retain: packet.retain, ...(packet.qos > 0 ? { id: packet.messageId } : {}),
      };
    case "subscribe":
      return { cmd: "subscribe", id: packet.messageId, subs: packet.subscriptions.map((s) => [s.topic, s.qos]) };
    case "unsubscribe":
      return { cmd: "unsubscribe", id: packet.messageId, filters: packet.unsubscriptions };
    case "puback":
      return { cmd: "puback", id: packet.messageId };
    default:
      return { cmd: packet.cmd };
  }
}

export function publishes(packets: mqtt.Packet[]): mqtt.IPublishPacket[] {
  return packets.filter((p): p is mqtt.IPublishPacket => p.cmd === "publish");
}

export function cmds(packets: mqtt.Packet[]): string[] {
  return packets.map((p) => p.cmd);
}

/** A number just below 1: "the top of the jitter range". */
export const ALMOST_ONE = 1 - 2 ** -40;

export function expectNoMisuse(session: Harness): void {
  expect(session.net.misuse).toEqual([]);
  for (const link of session.net.links) expect(link.parseErrors).toEqual([]);
}
