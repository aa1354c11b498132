/*
 * Unit tests of device/mqtt/transport.ts: which hosts count as IP addresses, resolving a
 * host (no resolver, an IP address, the simulator's HostResolver, a resolver that throws),
 * and openSocket() choosing TCP or TLS with the options each takes, with the simulator's
 * socket classes (host-sim/io/sockets.ts) against servers on 127.0.0.1 and a throw-away CA.
 * Everything is closed after each test.
 */
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ClientIo, Resolver, Socket, SocketOptions } from "../device/mqtt/io.js";
import { checkOptions, type ClientOptions } from "../device/mqtt/options.js";
import { isIpAddress, openSocket, resolveHost, type SocketEvents } from "../device/mqtt/transport.js";
import { BoardAbort } from "../host-sim/io/abort.js";
import { HostResolver } from "../host-sim/io/dns.js";
import { BoardNetwork } from "../host-sim/io/network.js";
import { DEFAULT_WINDOW, TCP, TLS, TLS_OVERHEAD } from "../host-sim/io/sockets.js";
import { makeCa, makeServerCert, type TestCa } from "./brokers/certs.js";
import { freePort, sleep, waitFor } from "./brokers/helpers.js";
import { LoopbackServer } from "./support/loopback.js";

const timer = { repeat: () => 0, clear: () => {} };

describe("isIpAddress", () => {
  it("a dotted quad of digits is an address", () => {
    for (const host of ["127.0.0.1", "10.0.0.255", "0.0.0.0", "192.168.1.20"]) expect(isIpAddress(host)).toBe(true);
  });

  it("anything with a colon is an IPv6 address", () => {
    for (const host of ["::1", "fe80::1", "2001:db8::8a2e:370:7334", "::ffff:127.0.0.1"]) expect(isIpAddress(host)).toBe(true);
  });

  it("names and partial or long quads are not", () => {
    for (const host of ["localhost", "broker.example", "test.mosquitto.org", "1.2.3", "10.1", "10", "1.2.3.4.5", "1.2.3.x", "", "1e2.0.0.1"]) {
      expect(isIpAddress(host), host).toBe(false);
    }
  });
});

describe("resolveHost", () => {
  function io(resolver?: Resolver): ClientIo {
    return { TCP, Timer: timer, TextEncoder, TextDecoder, resolver };
  }

  function resolve(clientIo: ClientIo, host: string): { calls: string[] } {
    const calls: string[] = [];
    resolveHost(clientIo, host, (address) => calls.push("address " + address), () => calls.push("error"));
    return { calls };
  }

  it("without a resolver the host is used as it is, at once", () => {
    expect(resolve(io(), "broker.example").calls).toEqual(["address broker.example"]);
    expect(resolve(io(), "127.0.0.1").calls).toEqual(["address 127.0.0.1"]);
  });

  it("an IP address is used at once, without asking the resolver", () => {
    const asked: string[] = [];
    const resolver: Resolver = { resolve(options) { asked.push(options.host); } };
    expect(resolve(io(resolver), "10.1.2.3").calls).toEqual(["address 10.1.2.3"]);
    expect(resolve(io(resolver), "::1").calls).toEqual(["address ::1"]);
    expect(asked).toEqual([]);
  });

  it("a name goes to the resolver; its address is what onAddress gets", () => {
    const asked: string[] = [];
    const resolver: Resolver = { resolve(options) { asked.push(options.host); options.onResolved(options.host, "192.0.2.7"); } };
    expect(resolve(io(resolver), "broker.example").calls).toEqual(["address 192.0.2.7"]);
    expect(asked).toEqual(["broker.example"]);
  });

  it("with the simulator's HostResolver: \"localhost\" resolves to 127.0.0.1, later, not inside resolveHost()", async () => {
    const { calls } = resolve(io(new HostResolver()), "localhost");
    expect(calls).toEqual([]);
    await waitFor(() => calls.length === 1, "the answer");
    expect(calls).toEqual(["address 127.0.0.1"]);
  });

  it("with the simulator's HostResolver: a name that does not resolve calls onError", async () => {
    const { calls } = resolve(io(new HostResolver()), "no-such-host.invalid");
    await waitFor(() => calls.length === 1, "the failure", 8_000);
    expect(calls).toEqual(["error"]);
  });

  it("a resolver whose resolve() throws: onError, at once", () => {
    const resolver: Resolver = { resolve() { throw new Error("no DNS server"); } };
    expect(resolve(io(resolver), "broker.example").calls).toEqual(["error"]);
    const closed = new HostResolver();
    closed.close(); // Moddable's throws once closed
    expect(resolve(io(closed), "localhost").calls).toEqual(["error"]);
  });
});

describe("openSocket", () => {
  let dir = "";
  let ca: TestCa;
  let certFile = "";
  let keyFile = "";
  const loopback = new LoopbackServer();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "xs-mqtt-transport-"));
    ca = await makeCa(dir, "ca");
    const cert = await makeServerCert(dir, ca, "server");
    certFile = cert.certFile;
    keyFile = cert.keyFile;
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => loopback.close());

  async function listen(tls: boolean): Promise<number> {
    return loopback.listen(tls ? { tls: { cert: readFileSync(certFile), key: readFileSync(keyFile) } } : {});
  }

  /** Socket classes that record the options they were made with. */
  function recordingIo(): { io: ClientIo; made: [string, SocketOptions][] } {
    const made: [string, SocketOptions][] = [];
    class RecordingTCP extends TCP {
      constructor(options: SocketOptions) {
        made.push(["TCP", { ...options }]);
        super(options);
        loopback.sockets.push(this);
      }
    }
    class RecordingTLS extends TLS {
      constructor(options: SocketOptions) {
        made.push(["TLS", { ...options }]);
        super(options);
        loopback.sockets.push(this);
      }
    }
    return { io: { TCP: RecordingTCP, TLS: RecordingTLS, Timer: timer, TextEncoder, TextDecoder }, made };
  }

  interface Seen { writable: number[]; readable: number[]; errors: number }

  function events(): SocketEvents & { seen: Seen } {
    const seen: Seen = { writable: [], readable: [], errors: 0 };
    return {
      seen,
      onWritable: (count) => { seen.writable.push(count); },
      onReadable: (count) => { seen.readable.push(count); },
      onError: () => { seen.errors++; },
    };
  }

  function settings(io: ClientIo, extra: Partial<ClientOptions>) {
    return checkOptions({ host: "localhost", clientId: "unit", io, ...extra });
  }

  it("without TLS: a TCP socket to the address and port, no delay, no host or CA; its events reach the callbacks given", async () => {
    const port = await listen(false);
    const { io, made } = recordingIo();
    const handlers = events();
    const socket = openSocket(io, settings(io, { port }), "127.0.0.1", handlers);
    expect(made).toHaveLength(1);
    const [kind, options] = made[0];
    expect(kind).toBe("TCP");
    expect(options).toMatchObject({ address: "127.0.0.1", port, nodelay: true });
    expect([options.host, options.TCP, options.secure]).toEqual([undefined, undefined, undefined]);
    await waitFor(() => handlers.seen.writable.length === 1 && loopback.peers.length === 1, "the connection");
    expect(handlers.seen.writable).toEqual([DEFAULT_WINDOW]);
    loopback.peers[0].write("abc");
    await waitFor(() => handlers.seen.readable.length === 1, "onReadable");
    expect(handlers.seen.readable).toEqual([3]);
    expect(socket.read(new Uint8Array(3))).toBe(3); // onError waits for the bytes that came first
    loopback.peers[0].destroy();
    await waitFor(() => handlers.seen.errors === 1, "onError");
  });

  it("with TLS: a TLS socket given the host as the name to check and the CA; the handshake succeeds", async () => {
    const port = await listen(true);
    const { io, made } = recordingIo();
    const handlers = events();
    openSocket(io, settings(io, { port, tls: { ca: ca.pem } }), "127.0.0.1", handlers);
    expect(made.map(([kind]) => kind)).toEqual(["TLS"]);
    // Moddable's TLS socket's shape: the TCP class as TCP.io, the CA as DER in secure.certificate
    const given = made[0][1];
    expect(given).toMatchObject({ address: "127.0.0.1", port, nodelay: true, host: "localhost" });
    expect(given.TCP?.base).toBe(io.TCP);
    expect(typeof given.TCP?.io).toBe("function");
    expect(Buffer.from(given.secure!.certificate as Uint8Array)).toEqual(Buffer.from(new X509Certificate(ca.pem).raw));
    expect(Object.keys(given.secure!)).toEqual(["certificate"]);
    expect("ca" in given).toBe(false);
    await waitFor(() => handlers.seen.writable.length === 1, "the handshake");
    expect(handlers.seen.writable).toEqual([DEFAULT_WINDOW - TLS_OVERHEAD]);
    expect(handlers.seen.errors).toBe(0);
  });

  it("with TLS and a serverName: that name is checked instead of the host (a name the certificate lacks fails)", async () => {
    const port = await listen(true);
    const { io, made } = recordingIo();
    const handlers = events();
    openSocket(io, settings(io, { port, tls: { ca: ca.pem, serverName: "other.example" } }), "127.0.0.1", handlers);
    expect(made[0][1].host).toBe("other.example");
    await waitFor(() => handlers.seen.errors === 1, "the refused handshake");
    expect(handlers.seen.writable).toEqual([]);
  });

  it("with tls: true the socket is TLS with no CA given; the default port is 8883", async () => {
    const { io, made } = recordingIo();
    expect(settings(io, { tls: true }).port).toBe(8883);
    const port = await listen(true); // its certificate is signed by a CA the socket was not given
    const handlers = events();
    openSocket(io, settings(io, { tls: true, port }), "127.0.0.1", handlers);
    expect(made[0][0]).toBe("TLS");
    expect(made[0][1]).toMatchObject({ port, host: "localhost", secure: {} });
    await waitFor(() => handlers.seen.errors === 1, "the refused certificate");
    expect(handlers.seen.writable).toEqual([]);
  });

  it("the TCP class under TLS guards the TLS socket's callbacks: a throw (Moddable's TLS session throws on a refused handshake) closes the connection and becomes one onError, and the board does not abort", async () => {
    const port = await listen(false);
    const aborts: Error[] = [];
    const network = new BoardNetwork({ abort: new BoardAbort((error) => aborts.push(error)) });
    const { io, made } = recordingIo();
    // the TLS socket itself goes to a port nobody listens on: only the guarded one reaches the server
    openSocket({ ...io, TCP: network.TCP }, settings(io, { port: await freePort(), tls: { ca: ca.pem } }), "127.0.0.1", events());
    const Guarded = made[0][1].TCP!.io;
    expect(made[0][1].TCP!.base).toBe(network.TCP);
    // as tlssocket.js makes its TCP socket: its own options spread, its own callbacks
    let errors = 0;
    let readable = 0;
    const under = new Guarded({
      ...made[0][1],
      port,
      onReadable() { readable++; throw new Error("alert: 2, 48"); },
      onWritable() {},
      onError() { errors++; },
    }) as Socket & { readable: number; writable: number };
    expect([under.readable, under.writable]).toEqual([0, 0]);
    await waitFor(() => loopback.peers.length === 1, "the connection");
    const closed = new Promise<void>((resolve) => loopback.peers[0].once("close", () => resolve()));
    loopback.peers[0].write("x");
    await waitFor(() => errors === 1, "onError");
    await closed; // the guard closed the connection
    await sleep(50);
    expect([readable, errors, aborts.length]).toEqual([1, 1, 0]);
    expect(() => under.close()).not.toThrow(); // closing again does nothing
  });

  it("throws what the socket class throws: a host name is not an address", () => {
    const { io } = recordingIo();
    expect(() => openSocket(io, settings(io, {}), "broker.example", events())).toThrow("invalid address");
  });
});
