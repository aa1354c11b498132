/*
 * Shared pieces of the real-broker suites: the shape every broker fixture has, a free
 * loopback port, a server listening on one, bounded waits, MQTT.js peers (the independent
 * client on the other side), and an IO bundle for our client that records its sockets and
 * every byte it writes.
 * Test side only. Every wait here is bounded; nothing here mocks a broker.
 */

import * as net from "node:net";
import { connect } from "mqtt";
import type { IClientOptions, MqttClient as PeerClient } from "mqtt";
import * as mqttPacket from "mqtt-packet";
import type { ClientIo, SocketOptions } from "../../device/mqtt/io.js";
import { hostIo, TCP } from "../../host-sim/io/io.js";

/** A broker the suites run against, started on a loopback port of its own. */
export interface TestBroker {
  readonly name: string;
  readonly port: number;
  /** A retained `$SYS` topic the broker publishes itself, when it has one. */
  readonly retainedSysTopic: string | undefined;
  /** Stops the broker: every connection to it is cut. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it for good and removes what it left behind. */
  close(): Promise<void>;
}

export interface BrokerOptions {
  /** User names and passwords the broker accepts; with them it refuses everyone else. */
  users?: Record<string, string>;
  /** Keep sessions across a restart (mosquitto: `persistence true`). */
  persistence?: boolean;
}

/**
 * Starts `server` listening on 127.0.0.1:port (0: a port the OS picks); resolves with the
 * port it listens on, rejects with the listen error (e.g. EADDRINUSE).
 */
export function listenLoopback(server: net.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** A TCP port free on 127.0.0.1 right now: bind port 0, read it, close. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listenLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every `interval` ms until it holds; throws after `timeout` ms. */
export async function waitFor(condition: () => boolean, what: string, timeout = 5_000, interval = 10): Promise<void> {
  const until = Date.now() + timeout;
  for (;;) {
    if (condition()) return;
    if (Date.now() >= until) throw new Error("timed out after " + timeout + " ms waiting for " + what);
    await sleep(interval);
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Runs the cleanups a test registered, newest first; one that fails (already stopped) does not stop the rest. */
export async function runCleanups(cleanups: (() => unknown)[]): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch {
      // already stopped
    }
  }
}

let serial = 0;
/** A name no other test (or earlier run against a persistent broker) has used. */
export function uniqueName(prefix: string): string {
  serial++;
  return prefix + "-" + process.pid + "-" + serial + "-" + Math.floor(Math.random() * 1e6).toString(36);
}

// ---- MQTT.js peers

export interface PeerMessage {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  dup: boolean;
}

export interface Peer {
  client: PeerClient;
  /** Every message this peer received, in arrival order. */
  messages: PeerMessage[];
}

/** Connects an MQTT.js 3.1.1 client to 127.0.0.1:port (no automatic reconnect). */
export async function connectPeer(port: number, options: IClientOptions = {}): Promise<Peer> {
  const client = connect("mqtt://127.0.0.1:" + port, {
    protocolVersion: 4,
    clientId: uniqueName("peer"),
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...options,
  });
  // listen before CONNACK: a resumed session's messages may come in the same read
  const messages: PeerMessage[] = [];
  client.on("message", (topic, payload, packet) => {
    messages.push({ topic, payload, qos: packet.qos, retain: packet.retain, dup: packet.dup });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
      client.once("close", () => reject(new Error("the peer's connection closed before CONNACK")));
    });
  } catch (error) {
    client.end(true);
    throw error;
  }
  return { client, messages };
}

// ---- packets on the wire

/** Parses MQTT 3.1.1 packets out of a byte stream (mqtt-packet, the independent codec). */
export function parsePackets(chunks: readonly Uint8Array[]): mqttPacket.Packet[] {
  const packets: mqttPacket.Packet[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", (packet) => packets.push(packet));
  parser.on("error", (error) => {
    throw error;
  });
  for (const chunk of chunks) parser.parse(Buffer.from(chunk));
  return packets;
}

// ---- our client's IO, recorded

export interface RecordedSocket {
  readonly socket: TCP;
  /** Every buffer the client wrote, copied, in order. */
  readonly written: Uint8Array[];
}

export interface RecordingIo {
  io: ClientIo;
  /** Every socket the client opened, in order. */
  sockets: RecordedSocket[];
}

/** The Node IO (host-sim), with a TCP class that records its instances and their writes. */
export function recordingIo(): RecordingIo {
  const sockets: RecordedSocket[] = [];
  class RecordingTCP extends TCP {
    readonly #written: Uint8Array[] = [];
    constructor(options: SocketOptions) {
      super(options);
      sockets.push({ socket: this, written: this.#written });
    }
    override write(buffer: ArrayBuffer | ArrayBufferView): number | undefined {
      const count = super.write(buffer); // throws (and records nothing) when it would block
      const bytes = buffer instanceof ArrayBuffer
        ? new Uint8Array(buffer)
        : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      this.#written.push(bytes.slice());
      return count;
    }
  }
  return { io: { ...hostIo(), TCP: RecordingTCP }, sockets };
}
