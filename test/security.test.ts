/*
 * The client's security behaviour against a real mosquitto 2.0 with credentials made by this
 * suite in a temp dir of its own: a CA and a server certificate for 127.0.0.1 and localhost
 * (openssl), another CA that signed nothing here, a password file (mosquitto_passwd -b -c,
 * through the fixture) and an ACL file. mosquitto serves a plain listener and a TLS one.
 * Covered: TLS with the right CA works end to end and puts only TLS on the wire; a wrong CA,
 * a wrong host name or no CA fail as tls-failed with no plain-TCP fallback; a listener with
 * require_certificate takes the right client certificate and refuses none or another CA's
 * as tls-failed, with nothing sent in clear; a wrong password
 * is reported and retried with backoff, never as a storm; ACL denials (what mosquitto 2.0.11
 * really does with them); and passwords never show in anything the client reports or prints.
 * MQTT.js is the independent peer. Every wait is bounded; every client, peer, proxy and the
 * broker are closed in afterEach/afterAll.
 */

import { randomBytes, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as util from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ISubackPacket, IConnackPacket } from "mqtt-packet";
import { MqttClient } from "../device/mqtt/client.js";
import type { ClientOptions } from "../device/mqtt/options.js";
import type { ErrorCode } from "../device/mqtt/errors.js";
import { MqttError } from "../device/mqtt/errors.js";
import type { ClientIo, SocketOptions } from "../device/mqtt/io.js";
import { hostIo, TCP, TLS } from "../host-sim/io/io.js";
import { makeCa, makeClientCert, makeServerCert, tlsListenerConfig } from "./brokers/certs.js";
import type { TestCa, TestClientCert } from "./brokers/certs.js";
import { accepts, connectPeer, freePort, parsePackets, sleep, uniqueName, waitFor } from "./brokers/helpers.js";
import type { Peer } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";
import { TcpProxy } from "./support/proxy.js";

// ---- the suite's secrets (random per run, so that a match can only come from a leak)

const PASSWORD = "alice-pw-" + randomBytes(12).toString("hex");
const WRONG_PASSWORD = "wrong-pw-" + randomBytes(12).toString("hex");
const WRITER_PASSWORD = "writer-pw-" + randomBytes(12).toString("hex");
const SECRETS = [PASSWORD, WRONG_PASSWORD, WRITER_PASSWORD];

const ACL = [
  "# alice: her own subtree read and write, telemetry read only, nothing else",
  "user alice",
  "topic readwrite sec/allowed/#",
  "topic read sec/readonly/#",
  "",
  "# writer: the MQTT.js peer on the other side, everything under sec/",
  "user writer",
  "topic readwrite sec/#",
  "",
].join("\n");

/** The first bytes of a plain MQTT 3.1.1 CONNECT's variable header: the protocol name. */
const MQTT_PROTOCOL_NAME = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]);
/** A TLS record carrying a handshake message (the ClientHello opens every TLS connection). */
const TLS_HANDSHAKE_RECORD = 0x16;

// ---- our client's IO, recorded: which socket class, when, and every byte both ways

interface SocketRecord {
  readonly kind: "tcp" | "tls";
  readonly createdAt: number;
  readonly port: number;
  readonly host: string | undefined;
  readonly written: Uint8Array[];
  readonly received: Uint8Array[];
}

function copyOf(buffer: ArrayBuffer | ArrayBufferView, count?: number): Uint8Array {
  const bytes = buffer instanceof ArrayBuffer
    ? new Uint8Array(buffer)
    : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return bytes.slice(0, count ?? bytes.length);
}

function recordedIo(overrides: Partial<ClientIo> = {}): { io: ClientIo; sockets: SocketRecord[] } {
  const sockets: SocketRecord[] = [];
  const start = (kind: "tcp" | "tls", options: SocketOptions): SocketRecord => {
    const record = { kind, createdAt: Date.now(), port: options.port, host: options.host, written: [], received: [] };
    sockets.push(record);
    return record;
  };
  /** The socket class `Base`, recording what each instance writes and reads. */
  const recorded = (Base: new (...args: any[]) => TCP, kind: "tcp" | "tls") => class extends Base {
    readonly #record: SocketRecord;
    constructor(options: SocketOptions) {
      super(options);
      this.#record = start(kind, options);
    }
    override write(buffer: ArrayBuffer | ArrayBufferView): number | undefined {
      const count = super.write(buffer);
      this.#record.written.push(copyOf(buffer));
      return count;
    }
    override read(buffer?: ArrayBuffer | ArrayBufferView | number): any {
      const result = super.read(buffer);
      if (typeof result === "number" && result > 0 && typeof buffer === "object") this.#record.received.push(copyOf(buffer, result));
      return result;
    }
  };
  const RecordedTCP = recorded(TCP, "tcp");
  const RecordedTLS = recorded(TLS, "tls");
  return { io: { ...hostIo(), TCP: RecordedTCP, TLS: RecordedTLS, ...overrides }, sockets };
}

// ---- what every client reported, kept for the credentials check at the end

interface Seen {
  errors: MqttError[];
  disconnects: MqttError[];
  connected: number;
  subscribed: [string, number][];
  published: number[];
  messages: { topic: string; text: string }[];
}

interface Ours {
  client: MqttClient;
  seen: Seen;
  sockets: SocketRecord[];
}

/** Every error and disconnect reason any client of this suite reported, in order. */
const everyReport: MqttError[] = [];
/** Everything written to the console or to stdout/stderr while the suite ran. */
const printed: string[] = [];

let clients: MqttClient[] = [];
let peers: Peer[] = [];
let proxies: TcpProxy[] = [];

function startClient(options: Partial<ClientOptions> & { port: number }, ioOverrides: Partial<ClientIo> = {}): Ours {
  const { io, sockets } = recordedIo(ioOverrides);
  const seen: Seen = { errors: [], disconnects: [], connected: 0, subscribed: [], published: [], messages: [] };
  const client = new MqttClient({
    host: "127.0.0.1",
    clientId: uniqueName("sec"),
    io,
    connectTimeout: 3_000,
    reconnect: { minDelay: 100, maxDelay: 400 },
    onConnected: () => {
      seen.connected++;
    },
    onDisconnected: (error) => {
      seen.disconnects.push(error);
      everyReport.push(error);
    },
    onError: (error) => {
      seen.errors.push(error);
      everyReport.push(error);
    },
    onSubscribed: (filter, qos) => {
      seen.subscribed.push([filter, qos]);
    },
    onPublished: (id) => {
      seen.published.push(id);
    },
    onMessage: (message) => {
      seen.messages.push({ topic: message.topic, text: message.text() });
    },
    ...options,
  });
  clients.push(client);
  client.connect();
  return { client, seen, sockets };
}

async function proxyTo(port: number): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(port, { record: true });
  proxies.push(proxy);
  return proxy;
}

async function writerPeer(): Promise<Peer> {
  const peer = await connectPeer(broker.port, { username: "writer", password: WRITER_PASSWORD });
  peers.push(peer);
  return peer;
}

function bytesOf(chunks: readonly Uint8Array[]): Buffer {
  return Buffer.concat(chunks.map((c) => Buffer.from(c)));
}

/**
 * Connections mosquitto logged on one of its listeners ("New connection from ... on port N."),
 * read from its log file: mosquitto flushes that file per line, not its stdout.
 */
async function loggedConnections(port: number): Promise<number> {
  const log = await readFile(logFile, "utf8");
  let count = 0;
  for (const match of log.matchAll(/New connection from \S+ on port (\d+)\./g)) if (Number(match[1]) === port) count++;
  return count;
}

/** TLS handshakes mosquitto logged as failed while accepting ("Client connection from ... failed: ..."). */
async function loggedTlsFailures(): Promise<number> {
  const log = await readFile(logFile, "utf8");
  return [...log.matchAll(/Client connection from \S+ failed: /g)].length;
}

function codes(errors: readonly MqttError[]): ErrorCode[] {
  return errors.map((e) => e.code);
}

// ---- the broker and the TLS material, one set per suite

let dir: string;
let ca: TestCa;
let otherCa: TestCa;
let broker: Mosquitto;
let tlsPort: number;
/** mosquitto's listener with require_certificate true (certificates of `ca`). */
let mtlsPort: number;
/** A client certificate of `ca`, and one of `otherCa`. */
let device: TestClientCert;
let stranger: TestClientCert;
let logFile: string;
const restoreOutput: (() => void)[] = [];

beforeAll(async () => {
  // capture everything printed while the suite runs (and still print it)
  for (const name of ["log", "info", "warn", "error", "debug", "trace"] as const) {
    const original = console[name];
    console[name] = (...args: unknown[]) => {
      printed.push(util.format(...args));
      original.apply(console, args);
    };
    restoreOutput.push(() => {
      console[name] = original;
    });
  }
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write;
    stream.write = function write(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      printed.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
      return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
    restoreOutput.push(() => {
      stream.write = original;
    });
  }

  dir = await mkdtemp(join(tmpdir(), "xs-mqtt-security-"));
  ca = await makeCa(dir, "ca");
  otherCa = await makeCa(dir, "other-ca");
  const server = await makeServerCert(dir, ca, "server");
  logFile = join(dir, "mosquitto.log");
  device = await makeClientCert(dir, ca, "device");
  stranger = await makeClientCert(dir, otherCa, "stranger");
  tlsPort = await freePort();
  mtlsPort = await freePort();
  broker = await Mosquitto.start({
    users: { alice: PASSWORD, writer: WRITER_PASSWORD },
    acl: ACL,
    config: [...tlsListenerConfig(tlsPort, ca, server), ...tlsListenerConfig(mtlsPort, ca, server, true), "log_dest file " + logFile],
  });
  const until = Date.now() + 5_000;
  while (!(await accepts(tlsPort)) || !(await accepts(mtlsPort))) {
    if (Date.now() >= until) throw new Error("mosquitto's TLS listeners did not open:\n" + broker.log);
    await sleep(20);
  }
});

afterEach(async () => {
  for (const client of clients) client.close();
  clients = [];
  await Promise.all(peers.map((p) => p.client.endAsync(true).catch(() => undefined)));
  peers = [];
  await Promise.all(proxies.map((p) => p.close()));
  proxies = [];
});

afterAll(async () => {
  for (const restore of restoreOutput) restore();
  await stopAllMosquittos();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

// ---- TLS

describe("TLS (MQTT 3.1.1 section 5.4.9) against mosquitto's TLS listener", () => {
  it("with the broker's CA: connects, subscribes, publishes and receives, and only TLS goes on the wire", async () => {
    const proxy = await proxyTo(tlsPort);
    const peer = await writerPeer();
    await peer.client.subscribeAsync("sec/allowed/out", { qos: 1 });
    const { client, seen, sockets } = startClient({
      port: proxy.port, tls: { ca: ca.pem }, username: "alice", password: PASSWORD,
    });
    client.subscribe("sec/allowed/in", { qos: 1 });
    await waitFor(() => seen.subscribed.length === 1, "SUBACK over TLS");
    expect(seen.subscribed).toEqual([["sec/allowed/in", 1]]);
    expect(client.publish("sec/allowed/out", "over tls", { qos: 1 })).toBe("sent");
    await waitFor(() => peer.messages.length === 1 && seen.published.length === 1, "the peer to get our message");
    expect(peer.messages[0].topic).toBe("sec/allowed/out");
    expect(peer.messages[0].payload.toString()).toBe("over tls");
    await peer.client.publishAsync("sec/allowed/in", "to the device", { qos: 1 });
    await waitFor(() => seen.messages.length === 1, "the peer's message over TLS");
    expect(seen.messages).toEqual([{ topic: "sec/allowed/in", text: "to the device" }]);
    expect(seen.errors).toEqual([]);
    expect(seen.connected).toBe(1);
    // one TLS socket, no plain one; the proxy saw a TLS handshake and never the password or a plain CONNECT
    expect(sockets.map((s) => s.kind)).toEqual(["tls"]);
    expect(sockets[0].host).toBe("127.0.0.1");
    expect(proxy.connections).toBe(1);
    const wire = Buffer.concat(proxy.upstream[0]);
    expect(wire[0]).toBe(TLS_HANDSHAKE_RECORD);
    expect(wire.includes(PASSWORD)).toBe(false);
    expect(wire.includes(MQTT_PROTOCOL_NAME)).toBe(false);
    // while what the client handed its TLS socket was the CONNECT with the password
    expect(bytesOf(sockets[0].written).includes(PASSWORD)).toBe(true);
  });

  it("with the broker's CA given as DER bytes (TlsOptions.ca takes PEM text or DER): connects", async () => {
    const der = new X509Certificate(ca.pem).raw;
    const view = startClient({ port: tlsPort, tls: { ca: new Uint8Array(der) }, username: "alice", password: PASSWORD });
    const buffer = startClient({
      port: tlsPort, tls: { ca: new Uint8Array(der).buffer }, username: "alice", password: PASSWORD,
    });
    await waitFor(() => view.seen.connected === 1 && buffer.seen.connected === 1, "both connected", 5_000)
      .catch((error: Error) => {
        throw new Error(error.message + ": " + [...view.seen.errors, ...buffer.seen.errors].slice(0, 2).map((x) => x.message).join("; "));
      });
    expect(view.seen.errors).toEqual([]);
    expect(buffer.seen.errors).toEqual([]);
    // and DER bytes of another CA still fail
    const other = startClient({
      port: tlsPort, tls: { ca: new Uint8Array(new X509Certificate(otherCa.pem).raw) }, username: "alice", password: PASSWORD,
    });
    await waitFor(() => other.seen.errors.length >= 1, "the other CA refused");
    expect(codes(other.seen.errors)[0]).toBe("tls-failed");
    expect(other.seen.connected).toBe(0);
  });

  it("with another CA: tls-failed on every attempt, never connected, and no plain-TCP fallback", async () => {
    const proxy = await proxyTo(tlsPort);
    const plainBefore = await loggedConnections(broker.port);
    const tlsBefore = await loggedConnections(tlsPort);
    const tlsFailuresBefore = await loggedTlsFailures();
    const { client, seen, sockets } = startClient({
      port: proxy.port, tls: { ca: otherCa.pem }, username: "alice", password: PASSWORD,
    });
    await waitFor(() => seen.errors.length >= 3, "three failed attempts", 10_000);
    client.close();
    // mosquitto logged attempts on its TLS listener, and not one on its plain listener
    // (mosquitto logs a TLS connection whose handshake fails at accept as "Client connection from
    // ... failed", or not at all when the peer is already gone, so the TLS side is a lower bound)
    const tlsSeen = async () => await loggedConnections(tlsPort) - tlsBefore + await loggedTlsFailures() - tlsFailuresBefore;
    const until = Date.now() + 5_000;
    while (await tlsSeen() < 1 && Date.now() < until) await sleep(20);
    await sleep(100);
    expect(await tlsSeen(), "the TLS listener's log of the attempts").toBeGreaterThanOrEqual(1);
    expect(await loggedConnections(broker.port) - plainBefore, "connections on the plain listener").toBe(0);
    expect(new Set(codes(seen.errors))).toEqual(new Set(["tls-failed"]));
    // Moddable's TLS socket reports a failed handshake by onError() alone, without a reason
    for (const e of seen.errors) expect(e).toBeInstanceOf(MqttError);
    expect(seen.connected).toBe(0);
    expect(seen.disconnects).toEqual([]);
    // every attempt was a TLS socket to the TLS port: no plain TCP socket was ever made
    expect(sockets.length).toBe(client.stats.attempts);
    expect(sockets.every((s) => s.kind === "tls" && s.port === proxy.port)).toBe(true);
    // and nothing the client handed a socket got past the handshake: no CONNECT, no password
    expect(sockets.every((s) => s.written.length === 0)).toBe(true);
    // what reached the listener was TLS handshakes only, never a plain CONNECT
    expect(proxy.connections).toBe(sockets.length);
    for (const chunks of proxy.upstream) {
      const wire = Buffer.concat(chunks);
      expect(wire[0]).toBe(TLS_HANDSHAKE_RECORD);
      expect(wire.includes(MQTT_PROTOCOL_NAME)).toBe(false);
      expect(wire.includes(PASSWORD)).toBe(false);
    }
  });

  it("with the right CA but serverName 'wrong.example' (the certificate names 127.0.0.1 and localhost): tls-failed; 'localhost' passes", async () => {
    const wrong = startClient({
      port: tlsPort, tls: { ca: ca.pem, serverName: "wrong.example" }, username: "alice", password: PASSWORD,
    });
    await waitFor(() => wrong.seen.errors.length >= 2, "two failed attempts", 10_000);
    wrong.client.close();
    expect(new Set(codes(wrong.seen.errors))).toEqual(new Set(["tls-failed"]));
    expect(wrong.seen.connected).toBe(0);
    expect(wrong.sockets.every((s) => s.kind === "tls" && s.host === "wrong.example")).toBe(true);
    expect(wrong.sockets.every((s) => s.written.length === 0)).toBe(true);

    const right = startClient({
      port: tlsPort, tls: { ca: ca.pem, serverName: "localhost" }, username: "alice", password: PASSWORD,
    });
    await waitFor(() => right.seen.connected === 1, "connected with serverName localhost");
    expect(right.seen.errors).toEqual([]);
    expect(right.sockets.map((s) => [s.kind, s.host])).toEqual([["tls", "localhost"]]);
  });

  it("tls: true (the platform's trust store only) does not trust a private CA: tls-failed, no plain fallback", async () => {
    const { client, seen, sockets } = startClient({ port: tlsPort, tls: true, username: "alice", password: PASSWORD });
    await waitFor(() => seen.errors.length >= 2, "two failed attempts", 10_000);
    client.close();
    expect(new Set(codes(seen.errors))).toEqual(new Set(["tls-failed"]));
    expect(seen.connected).toBe(0);
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    expect(sockets.every((s) => s.kind === "tls" && s.written.length === 0)).toBe(true);
  });
});

// ---- client certificates

describe("TLS with a client certificate, against mosquitto's listener with require_certificate true", () => {
  const keyOf = (cert: TestClientCert) => readFile(cert.keyFile, "utf8");

  it("with the right pair (a certificate of the broker's CA and its key): connects, publishes and receives, only TLS on the wire", async () => {
    const proxy = await proxyTo(mtlsPort);
    const peer = await writerPeer();
    await peer.client.subscribeAsync("sec/allowed/out", { qos: 1 });
    const { client, seen, sockets } = startClient({
      port: proxy.port, tls: { ca: ca.pem, cert: device.pem, key: await keyOf(device) }, username: "alice", password: PASSWORD,
    });
    await waitFor(() => seen.connected === 1, "connected with the client certificate", 5_000).catch((error: Error) => {
      throw new Error(error.message + ": " + seen.errors.map((e) => e.message).join("; "));
    });
    client.subscribe("sec/allowed/in", { qos: 1 });
    await waitFor(() => seen.subscribed.length === 1, "SUBACK");
    expect(client.publish("sec/allowed/out", "with a certificate", { qos: 1 })).toBe("sent");
    await waitFor(() => peer.messages.length === 1 && seen.published.length === 1, "the peer to get our message");
    expect(peer.messages[0].payload.toString()).toBe("with a certificate");
    await peer.client.publishAsync("sec/allowed/in", "to the device", { qos: 1 });
    await waitFor(() => seen.messages.length === 1, "the peer's message");
    expect(seen.errors).toEqual([]);
    expect(sockets.map((s) => s.kind)).toEqual(["tls"]);
    const wire = Buffer.concat(proxy.upstream[0]);
    expect(wire[0]).toBe(TLS_HANDSHAKE_RECORD);
    expect(wire.includes(PASSWORD)).toBe(false);
    expect(wire.includes(MQTT_PROTOCOL_NAME)).toBe(false);
  });

  for (const [what, tls] of [
    ["without a client certificate", () => Promise.resolve({ ca: ca.pem })],
    ["with a client certificate of another CA", async () => ({ ca: ca.pem, cert: stranger.pem, key: await keyOf(stranger) })],
  ] as const) {
    it(what + ": tls-failed on every attempt, never connected, nothing sent in clear and no plain-TCP fallback", async () => {
      const proxy = await proxyTo(mtlsPort);
      const plainBefore = await loggedConnections(broker.port);
      const { client, seen, sockets } = startClient({ port: proxy.port, tls: await tls(), username: "alice", password: PASSWORD });
      await waitFor(() => seen.errors.length >= 2, "two refused attempts", 10_000);
      client.close();
      expect(new Set(codes(seen.errors))).toEqual(new Set(["tls-failed"]));
      expect(seen.errors[0].message).toContain("TLS failed: check CA, host name, client cert");
      expect(seen.connected).toBe(0);
      expect(seen.disconnects).toEqual([]);
      // every attempt a TLS socket to the TLS port; the client never handed one its CONNECT
      expect(sockets.length).toBe(client.stats.attempts);
      expect(sockets.every((s) => s.kind === "tls" && s.port === proxy.port && s.written.length === 0)).toBe(true);
      expect(await loggedConnections(broker.port) - plainBefore, "connections on the plain listener").toBe(0);
      for (const chunks of proxy.upstream) {
        const wire = Buffer.concat(chunks);
        expect(wire[0]).toBe(TLS_HANDSHAKE_RECORD);
        expect(wire.includes(MQTT_PROTOCOL_NAME)).toBe(false);
        expect(wire.includes(PASSWORD)).toBe(false);
      }
    });
  }
});

// ---- wrong password

/** The CONNACK return codes the broker sent on each of these sockets (mqtt-packet parses them). */
function connackCodes(sockets: readonly SocketRecord[]): number[] {
  return sockets.flatMap((s) => parsePackets(s.received)
    .filter((p): p is IConnackPacket => p.cmd === "connack")
    .map((p) => p.returnCode as number));
}

/** The client's code for a CONNACK refusal [MQTT-3.2.2-5]: 4 bad user name or password, 5 not authorized. */
const REFUSAL: Record<number, ErrorCode> = { 4: "bad-credentials", 5: "not-authorized" };

describe("a wrong password (MQTT 3.1.1 section 3.2.2.3)", () => {
  it("mosquitto 2.0.11 answers CONNACK 5; the client reports it typed and retries with doubling delays up to maxDelay [MQTT-3.2.2-5]", async () => {
    const proxy = await proxyTo(broker.port);
    const WINDOW = 3_000;
    const started = Date.now();
    // random() = 0.999: each delay is its cap, minDelay * 2^n up to maxDelay
    const { client, seen, sockets } = startClient({
      port: proxy.port, username: "alice", password: WRONG_PASSWORD, reconnect: { minDelay: 100, maxDelay: 1_000 },
    }, { random: () => 0.999 });
    await sleep(WINDOW);
    client.close();
    const attempts = sockets.map((s) => s.createdAt - started);
    // what mosquitto sends: CONNACK 5 (not authorized), not 4, on every attempt
    const wireCodes = connackCodes(sockets);
    expect(wireCodes.length).toBeGreaterThanOrEqual(attempts.length - 1);
    expect(new Set(wireCodes)).toEqual(new Set([5]));
    expect(["bad-credentials", "not-authorized"]).toContain(REFUSAL[wireCodes[0]]);
    expect(new Set(codes(seen.errors))).toEqual(new Set([REFUSAL[wireCodes[0]]]));
    expect(seen.errors.length).toBe(wireCodes.length);
    expect(seen.connected).toBe(0);
    // a handful of attempts, each of which reached the broker: 0, ~0.1, ~0.3, ~0.7, ~1.5, ~2.5 s
    expect(attempts.length, "attempts at " + attempts.join(", ") + " ms").toBeGreaterThanOrEqual(5);
    expect(attempts.length, "attempts at " + attempts.join(", ") + " ms").toBeLessThanOrEqual(6);
    expect(proxy.connections).toBe(attempts.length);
    expect(client.stats.attempts).toBe(attempts.length);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
    const delays = [100, 200, 400, 800, 1_000, 1_000].map((cap) => 100 + 0.999 * (cap - 100));
    gaps.forEach((gap, index) => {
      expect(gap, "gap " + index + " of " + gaps.join(", ")).toBeGreaterThanOrEqual(delays[index] - 2);
      // at most one timer tick (50 ms) late, plus the refused handshake and some scheduling slack
      expect(gap, "gap " + index + " of " + gaps.join(", ")).toBeLessThanOrEqual(delays[index] + 50 + 250);
    });
    for (let i = 1; i < Math.min(gaps.length, 4); i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 1]);
  });

  it("with the default jittered backoff there is still no storm: every retry waits at least minDelay and at most its doubling cap", async () => {
    const WINDOW = 3_000;
    const started = Date.now();
    const { client, seen, sockets } = startClient({
      port: broker.port, username: "alice", password: WRONG_PASSWORD, reconnect: { minDelay: 100, maxDelay: 1_000 },
    });
    await sleep(WINDOW);
    client.close();
    const attempts = sockets.map((s) => s.createdAt - started);
    // 100 ms at least between attempts: 31 at the very most in 3 s; the caps (0.1, 0.2, 0.4, 0.8 s) force at least 4
    expect(attempts.length).toBeGreaterThanOrEqual(4);
    expect(attempts.length).toBeLessThanOrEqual(WINDOW / 100 + 1);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
    gaps.forEach((gap, index) => {
      const cap = Math.min(1_000, 100 * 2 ** index);
      expect(gap, "gap " + index + " of " + gaps.join(", ")).toBeGreaterThanOrEqual(100 - 2);
      expect(gap, "gap " + index + " of " + gaps.join(", ")).toBeLessThanOrEqual(cap + 50 + 250);
    });
    expect(new Set(codes(seen.errors))).toEqual(new Set(["not-authorized"]));
    expect(seen.connected).toBe(0);
  });
});

// ---- ACL

describe("ACL denials (mosquitto 2.0.11, MQTT 3.1.1)", () => {
  it("a subscription the ACL denies is granted anyway (SUBACK 0x01, not the failure code 0x80 of section 3.9.3) and nothing on it is delivered", async () => {
    const peer = await writerPeer();
    const { client, seen, sockets } = startClient({ port: broker.port, username: "alice", password: PASSWORD });
    const deniedHandler: string[] = [];
    const allowedHandler: string[] = [];
    client.subscribe("sec/denied/#", { qos: 1 }, (m) => deniedHandler.push(m.text()));
    client.subscribe("sec/allowed/#", { qos: 1 }, (m) => allowedHandler.push(m.text()));
    await waitFor(() => seen.subscribed.length === 2, "two SUBACKs");
    // what mosquitto 2.0.11 sends on the wire for the denied filter: granted QoS 1
    const subacks = sockets.flatMap((s) => parsePackets(s.received)).filter((p): p is ISubackPacket => p.cmd === "suback");
    expect(subacks.map((p) => p.granted)).toEqual([[1], [1]]);
    expect(seen.subscribed).toEqual([["sec/denied/#", 1], ["sec/allowed/#", 1]]);
    expect(codes(seen.errors)).toEqual([]);
    // the writer may publish there; mosquitto sends alice only what her ACL lets her read, in order
    await peer.client.publishAsync("sec/denied/x", "denied", { qos: 1 });
    await peer.client.publishAsync("sec/allowed/x", "allowed", { qos: 1 });
    await waitFor(() => allowedHandler.length === 1, "the allowed message");
    expect(deniedHandler).toEqual([]);
    expect(seen.messages.map((m) => m.topic)).toEqual(["sec/allowed/x"]);
    expect(client.connected).toBe(true);
  });

  it("a publish the ACL denies is acknowledged and dropped by the broker; the client keeps working [MQTT-3.3.4-1]", async () => {
    const peer = await writerPeer();
    await peer.client.subscribeAsync("sec/#", { qos: 1 });
    const { client, seen } = startClient({ port: broker.port, username: "alice", password: PASSWORD });
    await waitFor(() => client.connected, "connected");
    expect(client.publish("sec/denied/x", "no", { qos: 1 })).toBe("sent");
    expect(client.publish("sec/readonly/x", "no", { qos: 1 })).toBe("sent");
    expect(client.publish("sec/denied/y", "no", { qos: 0 })).toBe("sent");
    expect(client.publish("sec/allowed/after", "yes", { qos: 1 })).toBe("sent");
    await waitFor(() => peer.messages.length === 1 && seen.published.length === 3, "the allowed message and three PUBACKs");
    // mosquitto PUBACKs the denied QoS 1 messages (3.1.1 has no way to refuse) and drops them
    expect(client.stats.acknowledged).toBe(3);
    expect(peer.messages.map((m) => [m.topic, m.payload.toString()])).toEqual([["sec/allowed/after", "yes"]]);
    expect(seen.errors).toEqual([]);
    expect(seen.disconnects).toEqual([]);
    expect(client.connected).toBe(true);
    expect(client.stats.attempts).toBe(1);
    expect(client.outboxCount).toBe(0);
  });
});

// ---- credentials

describe("credentials never appear in what the client reports or prints", () => {
  it("errors, disconnect reasons, stats, inspection and console output carry no password (run last: covers the whole suite)", async () => {
    // more failure paths, each with a password in the options
    const closedPort = await freePort();
    const refused = startClient({ port: closedPort, username: "alice", password: PASSWORD });
    const silent = await proxyTo(broker.port);
    silent.dropToClient = true; // the broker's CONNACK never arrives
    const timeout = startClient({ port: silent.port, username: "alice", password: PASSWORD, connectTimeout: 300 });
    const badCa = startClient({ port: tlsPort, tls: { ca: otherCa.pem }, username: "alice", password: WRONG_PASSWORD });
    const bad = startClient({ port: broker.port, username: "alice", password: WRONG_PASSWORD });
    const good = startClient({ port: broker.port, username: "alice", password: PASSWORD, keepAlive: 1 });
    await waitFor(() => refused.seen.errors.length >= 1 && timeout.seen.errors.length >= 1 && badCa.seen.errors.length >= 1
      && bad.seen.errors.length >= 1 && good.seen.connected === 1, "every failure path", 10_000);
    // a connection lost while connected: the broker goes away
    const lost = startClient({ port: broker.port, username: "alice", password: PASSWORD });
    await waitFor(() => lost.seen.connected === 1, "connected");
    await broker.stop();
    await waitFor(() => lost.seen.disconnects.length >= 1, "the disconnect");
    await broker.start();
    for (const ours of [refused, timeout, badCa, bad, good, lost]) ours.client.close();

    const reported = new Set(codes(everyReport));
    for (const code of ["connection-lost", "connect-timeout", "tls-failed", "not-authorized"] as ErrorCode[]) {
      expect(reported, "the suite saw " + code).toContain(code);
    }
    const texts: string[] = [];
    for (const error of everyReport) {
      texts.push(error.message, String(error), error.stack ?? "", JSON.stringify(error), util.inspect(error, { depth: 5, showHidden: true }));
    }
    for (const ours of [refused, timeout, badCa, bad, good, lost]) {
      texts.push(JSON.stringify(ours.client.stats), util.inspect(ours.client, { depth: 5, showHidden: true }));
    }
    texts.push(...printed);
    texts.push(broker.log, await readFile(logFile, "utf8"));
    expect(texts.length).toBeGreaterThan(50);
    const corpus = texts.join("\n");
    for (const secret of SECRETS) {
      expect(corpus.includes(secret), "a password in the client's output").toBe(false);
      // nor in a form a log would show it in
      expect(corpus.includes(Buffer.from(secret).toString("base64")), "a password, base64").toBe(false);
      expect(corpus.includes(Buffer.from(secret).toString("hex")), "a password, hex").toBe(false);
    }
    // the check is not vacuous: the passwords were really used on the plain connections
    expect(bytesOf(bad.sockets[0].written).includes(WRONG_PASSWORD)).toBe(true);
    expect(bytesOf(good.sockets[0].written).includes(PASSWORD)).toBe(true);
  });
});
