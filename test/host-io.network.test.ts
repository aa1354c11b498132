/*
 * The simulator's TCP socket (host-sim/io/sockets.ts) against Moddable's, row by row of
 * docs/moddable-io.md (modules/io/socket/lwip/tcp.c): exact-length reads and their throws,
 * "not ready" before the connection is up, onError() without arguments and held back until
 * the bytes that came first are read, write() after an error, any method after close().
 * The peer is a plain node:net server on 127.0.0.1, closed after each test.
 */
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SocketOptions } from "../device/mqtt/io.js";
import { BoardAbort } from "../host-sim/io/abort.js";
import { VirtualPins } from "../host-sim/io/digital.js";
import { HostResolver } from "../host-sim/io/dns.js";
import { BoardNetwork } from "../host-sim/io/network.js";
import { DEFAULT_WINDOW, TCP, TLS, TLS_OVERHEAD } from "../host-sim/io/sockets.js";
import { makeCa, makeServerCert, type TestCa } from "./brokers/certs.js";
import { sleep, waitFor } from "./brokers/helpers.js";
import { LoopbackServer } from "./support/loopback.js";

const loopback = new LoopbackServer();

afterEach(() => loopback.close());

function listen(): Promise<number> {
  return loopback.listen();
}

interface Events { readable: number[]; writable: number[]; errors: unknown[][]; insideRead: boolean }

function open(port: number): { socket: TCP; events: Events } {
  const events: Events = { readable: [], writable: [], errors: [], insideRead: false };
  let reading = false;
  const socket = new TCP({
    address: "127.0.0.1",
    port,
    onReadable(count) { events.readable.push(count); },
    onWritable(count) { events.writable.push(count); },
    onError(...args: unknown[]) {
      events.errors.push(args);
      if (reading) events.insideRead = true;
    },
  });
  const read = socket.read.bind(socket);
  socket.read = ((buffer?: ArrayBuffer | ArrayBufferView | number) => {
    reading = true;
    try { return read(buffer as ArrayBuffer); } finally { reading = false; }
  }) as typeof socket.read;
  loopback.sockets.push(socket);
  return { socket, events };
}

describe("host-sim TCP, as Moddable's (modules/io/socket/lwip/tcp.c)", () => {
  it("write() before the connection is up throws \"not ready\"", async () => {
    const { socket } = open(await listen());
    expect(() => socket.write(new Uint8Array(1))).toThrow("not ready");
  });

  it("read(buffer) takes exactly its length and throws \"invalid\" past what is waiting; read() gives the rest, then undefined", async () => {
    const port = await listen();
    const { socket, events } = open(port);
    await waitFor(() => loopback.peers.length === 1 && events.writable.length === 1, "the connection");
    expect(socket.read(new Uint8Array(4))).toBeUndefined(); // nothing waiting yet
    loopback.peers[0].write(Buffer.from("0123456789"));
    await waitFor(() => events.readable.at(-1) === 10, "10 bytes waiting");
    expect(() => socket.read(new Uint8Array(16))).toThrow("invalid");
    const four = new Uint8Array(4);
    expect(socket.read(four)).toBe(4);
    expect(Buffer.from(four).toString()).toBe("0123");
    expect(() => socket.read(7)).toThrow("invalid");
    const rest = socket.read() as ArrayBuffer;
    expect(Buffer.from(rest).toString()).toBe("456789");
    expect(socket.read()).toBeUndefined();
  });

  it("onError() has no arguments and waits until the bytes that came before it are read, outside read()", async () => {
    const port = await listen();
    const { socket, events } = open(port);
    await waitFor(() => loopback.peers.length === 1 && events.writable.length === 1, "the connection");
    loopback.peers[0].end(Buffer.from("bye!"));
    await waitFor(() => events.readable.at(-1) === 4, "4 bytes waiting");
    await sleep(100); // the peer has closed by now: Moddable still holds the error back
    expect(events.errors).toEqual([]);
    expect(socket.read(new Uint8Array(4))).toBe(4);
    await waitFor(() => events.errors.length === 1, "onError");
    expect(events.errors).toEqual([[]]);
    expect(events.insideRead).toBe(false);
    expect(() => socket.write(new Uint8Array(1))).toThrow("not ready"); // an ESP32's: the failure cleared `ready`
  });

  it("a refused connection reports onError() without arguments", async () => {
    const port = await listen();
    await loopback.closeServer();
    const { events } = open(port);
    await waitFor(() => events.errors.length === 1, "onError");
    expect(events.errors).toEqual([[]]);
  });

  it("after close() every method throws", async () => {
    const { socket } = open(await listen());
    socket.close();
    expect(() => socket.read()).toThrow("closed");
    expect(() => socket.write(new Uint8Array(1))).toThrow("closed");
  });
});

describe("host-sim TCP constructor, as Moddable's (xs_tcp_constructor, lwip/tcp.c and lin/tcp.c)", () => {
  it("takes an IP address only: a host name is Error \"invalid address\", a port past 65535 RangeError \"invalid port\"", () => {
    expect(() => new TCP({ address: "localhost", port: 1883 })).toThrow("invalid address");
    expect(() => new TCP({ address: undefined as unknown as string, port: 1883 })).toThrow("invalid address");
    expect(() => new TCP({ address: "127.0.0.1", port: 70000 })).toThrow(RangeError);
  });

  it("write() once the connection failed, even while unread bytes hold onError back, throws \"not ready\" (an ESP32's)", async () => {
    const port = await listen();
    const { socket, events } = open(port);
    await waitFor(() => loopback.peers.length === 1 && events.writable.length === 1, "the connection");
    loopback.peers[0].end(Buffer.from("x"));
    await waitFor(() => events.readable.length === 1, "1 byte waiting");
    await sleep(100);
    expect(() => socket.write(new Uint8Array(1))).toThrow("not ready");
  });
});

describe("host-sim DNS, as Moddable's UDP resolver (examples/io/udp/dns/dns.js)", () => {
  it("answers later, never inside resolve(), with this = the resolver and (host, address); localhost is 127.0.0.1", async () => {
    const resolver = new HostResolver();
    const calls: { self: unknown; args: unknown[] }[] = [];
    resolver.resolve({ host: "localhost", onResolved(...args: unknown[]) { calls.push({ self: this, args }); }, onError() { calls.push({ self: this, args: ["error"] }); } });
    expect(calls).toEqual([]);
    await waitFor(() => calls.length === 1, "onResolved");
    expect(calls[0].self).toBe(resolver);
    expect(calls[0].args).toEqual(["127.0.0.1", "127.0.0.1"]); // Moddable's turns "localhost" into the address first
  });

  it("throws Error without a host or without callbacks; a name that does not resolve is onError(host)", async () => {
    const resolver = new HostResolver();
    expect(() => resolver.resolve({ host: "", onResolved() {} })).toThrow(Error);
    expect(() => resolver.resolve({ host: "example.invalid" } as never)).toThrow(Error);
    const errors: unknown[][] = [];
    resolver.resolve({ host: "no-such-host.invalid", onResolved() { errors.push(["resolved?"]); }, onError(...args: unknown[]) { errors.push(args); } });
    await waitFor(() => errors.length === 1, "onError", 8_000);
    expect(errors).toEqual([["no-such-host.invalid"]]);
  });
});

describe("a board's IO callbacks run through its BoardAbort (host-sim/io/abort.ts): an escaping exception aborts the board", () => {
  it("a socket's onReadable that throws: the board aborts, its connection is destroyed (no FIN wait), later callbacks are dropped", async () => {
    const port = await listen();
    const aborts: Error[] = [];
    let network: BoardNetwork | undefined;
    const abort = new BoardAbort((error) => { aborts.push(error); network?.cut(); });
    network = new BoardNetwork({ abort });
    let readable = 0;
    let errors = 0;
    new network.TCP({
      address: "127.0.0.1",
      port,
      onReadable() { readable++; throw new Error("thrown in onReadable"); },
      onError() { errors++; },
    });
    await waitFor(() => loopback.peers.length === 1, "the connection");
    const closed = new Promise<void>((resolve) => loopback.peers[0].once("close", () => resolve()));
    loopback.peers[0].on("error", () => {});
    loopback.peers[0].write("a");
    await closed; // the board's side was destroyed
    expect(aborts.map((e) => e.message)).toEqual(["thrown in onReadable"]);
    expect(abort.error?.message).toBe("thrown in onReadable");
    expect(readable).toBe(1);
    expect(errors).toBe(0); // nothing is delivered to an aborted board
  });

  it("a Timer callback that throws aborts the board and clears its other timers", async () => {
    const aborts: Error[] = [];
    const abort = new BoardAbort((error) => aborts.push(error));
    const Timer = abort.timer();
    let ticks = 0;
    Timer.repeat(() => { ticks++; }, 10);
    Timer.set(() => { throw new Error("thrown in a timer"); }, 30);
    await waitFor(() => aborts.length === 1, "the abort");
    const seen = ticks;
    await sleep(60);
    expect(ticks).toBe(seen);
    expect(aborts[0].message).toBe("thrown in a timer");
  });

  it("an abort clears every timer of the board, the repeating one whose callback threw included (scheduling one again throws, as on a gone timer)", async () => {
    const aborts: Error[] = [];
    const abort = new BoardAbort((error) => aborts.push(error));
    const Timer = abort.timer();
    const other = Timer.repeat(() => {}, 1000);
    const thrower = Timer.repeat(() => { throw new Error("thrown in a repeating timer"); }, 10);
    await waitFor(() => aborts.length === 1, "the abort");
    expect(() => Timer.schedule(other, 10)).toThrow(SyntaxError);
    expect(() => Timer.schedule(thrower, 10)).toThrow(SyntaxError);
    expect(aborts[0].message).toBe("thrown in a repeating timer");
  });

  it("a Digital onReadable that throws aborts the board", async () => {
    const aborts: Error[] = [];
    const abort = new BoardAbort((error) => aborts.push(error));
    const pins = new VirtualPins();
    const Digital = abort.digital(pins);
    const button = new Digital({ pin: 0, mode: Digital.InputPullUp, edge: Digital.Falling, onReadable() { throw new Error("thrown in onReadable"); } });
    pins.set(0, 0);
    await waitFor(() => aborts.length === 1, "the abort");
    expect(aborts[0].message).toBe("thrown in onReadable");
    button.close();
  });
});

/** Runs `test` with a TLS server on 127.0.0.1 whose certificate (for localhost) a CA of its own signed. */
async function withTlsServer(test: (port: number, ca: TestCa) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "xs-mqtt-tls-"));
  try {
    const ca = await makeCa(dir, "ca");
    const cert = await makeServerCert(dir, ca, "server");
    await test(await loopback.listen({ tls: { cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) } }), ca);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A TLS socket in Moddable's shape to `port`, trusting `ca` (DER), closed after the test. */
function connectTls(port: number, ca: TestCa, callbacks: Pick<SocketOptions, "onReadable" | "onWritable">): TLS {
  const socket = new TLS({
    address: "127.0.0.1", port, host: "localhost", TCP: { io: TCP }, secure: { certificate: new X509Certificate(ca.pem).raw }, ...callbacks,
  });
  loopback.sockets.push(socket);
  return socket;
}

describe("host-sim TLS, as Moddable's TLS socket (examples/io/tcp/tlssocket/tlssocket.js)", () => {
  it("onWritable reports the TCP room less 96 bytes (its estimate of a record's overhead), from the handshake on", async () => {
    await withTlsServer(async (port, ca) => {
      const writable: number[] = [];
      connectTls(port, ca, { onWritable(count) { writable.push(count); } });
      await waitFor(() => writable.length === 1, "the handshake");
      expect(writable).toEqual([DEFAULT_WINDOW - TLS_OVERHEAD]);
    });
  });

  it("takes Moddable's options only: no TCP.io is a TypeError, PEM where DER goes throws, a top-level ca is not read", async () => {
    await withTlsServer(async (port, ca) => {
      const der = new X509Certificate(ca.pem).raw;
      // tlssocket.js makes its TCP socket with `new options.TCP.io(...)`
      expect(() => new TLS({ address: "127.0.0.1", port, host: "localhost", secure: { certificate: der } })).toThrow(TypeError);
      // ssl_cert.js decodes DER only
      expect(() => new TLS({
        address: "127.0.0.1", port, host: "localhost", TCP: { io: TCP }, secure: { certificate: Buffer.from(ca.pem) },
      })).toThrow("not DER");
      expect(() => new TLS({
        address: "127.0.0.1", port, host: "localhost", TCP: { io: TCP }, secure: { certificate: ca.pem as never },
      })).toThrow(TypeError);
      // the CA given at the top level, where Moddable's socket never looks: the private CA is not trusted
      const errors: number[] = [];
      const wrongShape = new TLS({
        address: "127.0.0.1", port, host: "localhost", TCP: { io: TCP }, ca: ca.pem, onError() { errors.push(1); },
      } as never);
      loopback.sockets.push(wrongShape);
      await waitFor(() => errors.length === 1, "the refused certificate");
    });
  });

  it("read(buffer) as Moddable's: an ArrayBuffer is a RangeError once data waits; a view gets at most what is waiting", async () => {
    await withTlsServer(async (port, ca) => {
      const readable: number[] = [];
      const socket = connectTls(port, ca, { onReadable(count) { readable.push(count); } });
      await waitFor(() => loopback.peers.length === 1, "the connection");
      loopback.peers[0].write("hello");
      await waitFor(() => readable.length > 0 && readable[readable.length - 1] === 5, "onReadable");
      expect(() => socket.read(new ArrayBuffer(5))).toThrow(RangeError);
      const into = new Uint8Array(8);
      expect(socket.read(into)).toBe(5);
      expect(Buffer.from(into.subarray(0, 5)).toString()).toBe("hello");
    });
  });
});
