// Tests of the XS host bridge (host-sim/engines/xs): XS code using the bridged Timer and TCP
// inside a real xsnap worker, against Node timers and a plain node:net server made here.
// Each test closes every host, server and socket it starts; nothing is skipped without
// xsnap: XsHost.start() then fails with the reason.
import * as net from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { XsHost } from "../host-sim/engines/xs/host.js";
import { freePort, listenLoopback, sleep, waitFor } from "./brokers/helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startHost(errors: string[] = []): Promise<XsHost> {
  const host = await XsHost.start({ name: "xs-host test", onError: (error) => errors.push(error.message) });
  cleanups.push(() => host.close());
  return host;
}

/** A loopback TCP server; `peers` are its accepted sockets, `received` what each sent. */
async function startServer(): Promise<{ port: number; peers: net.Socket[]; received: Buffer[] }> {
  const peers: net.Socket[] = [];
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    peers.push(socket);
    socket.on("data", (data) => received.push(data));
    socket.on("error", () => {});
  });
  const port = await listenLoopback(server);
  cleanups.push(() => {
    for (const peer of peers) peer.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port, peers, received };
}

/** Opens a bridged socket in XS as `sock`, recording its callbacks in `events`. */
const OPEN = (port: number) => `
  globalThis.events = [];
  globalThis.sock = new hostIo.TCP({
    address: "127.0.0.1", port: ${port},
    onWritable(count) { events.push(["writable", count, this === sock]); },
    onReadable(count) { events.push(["readable", count]); },
    onError(message) { events.push(["error", typeof message]); },
  });
  events.length`;

async function value<T>(host: XsHost, source: string): Promise<T> {
  return (await host.evaluate<T>(source)).value;
}

/** Polls an expression in XS until it is truthy; throws after `timeout` ms. */
async function xsUntil(host: XsHost, expression: string, timeout = 3_000): Promise<void> {
  const until = Date.now() + timeout;
  while (!(await value<boolean>(host, `!!(${expression})`))) {
    if (Date.now() >= until) throw new Error(`timed out waiting in XS for ${expression}`);
    await sleep(10);
  }
}

describe("Timer bridged into XS", () => {
  it("fires one-shot and repeating timers from Node, passes the id, and stops on clear", async () => {
    const host = await startHost();
    const armed = await value(host, `
      globalThis.ticks = [];
      globalThis.once = hostIo.Timer.set((id) => ticks.push(id === once ? "once" : "wrong id"), 10);
      globalThis.every = hostIo.Timer.repeat((id) => { ticks.push("repeat"); if (ticks.length >= 5) hostIo.Timer.clear(id); }, 15);
      ticks.length`);
    expect(armed).toBe(0); // nothing runs inside the call that arms it
    await waitFor(() => host.timer.active === 0, "both timers to end", 3_000);
    const ticks = await value<string[]>(host, "ticks");
    expect(ticks.filter((t) => t === "once")).toEqual(["once"]);
    expect(ticks.filter((t) => t === "repeat")).toHaveLength(4);
    await sleep(60);
    expect(await value(host, "ticks.length")).toBe(5);
  });

  it("drops a tick of a timer cleared before it fires", async () => {
    const host = await startHost();
    await host.evaluate("globalThis.fired = 0; hostIo.Timer.clear(hostIo.Timer.set(() => { fired++; }, 5))");
    expect(host.timer.active).toBe(0);
    await sleep(40);
    expect(await value(host, "fired")).toBe(0);
  });
});

describe("TCP bridged into XS", () => {

  it("connects (onWritable first, with the 1,536-byte window), writes, and throws past the window", async () => {
    const server = await startServer();
    const host = await startHost();
    expect(await value(host, OPEN(server.port))).toBe(0);
    await waitFor(() => server.peers.length === 1, "the connection");
    await waitFor(() => host.tcp.connections === 1, "the bridged socket");
    await xsUntil(host, "events.length > 0");
    expect(await value(host, "events")).toEqual([["writable", 1536, true]]);
    const left = await value(host, "sock.write(new TextEncoder().encode('hello').buffer)");
    expect(left).toBe(1531);
    expect(await value(host, "try { sock.write(new Uint8Array(1537)); 'no throw' } catch (e) { e.message }")).toMatch(/would block/);
    await waitFor(() => Buffer.concat(server.received).toString() === "hello", "the server to get hello");
  });

  it("delivers received bytes through onReadable; read(buffer), read(n) and read() take them", async () => {
    const server = await startServer();
    const host = await startHost();
    await host.evaluate(OPEN(server.port));
    await waitFor(() => server.peers.length === 1, "the connection");
    server.peers[0].write(Buffer.from("abcdefgh"));
    await xsUntil(host, "events.some((e) => e[0] === 'readable')");
    expect(await value(host, `(() => {
      const into = new Uint8Array(3);
      const n = sock.read(into);
      const two = new Uint8Array(sock.read(2));
      const rest = new Uint8Array(sock.read());
      return [n, Array.from(into), Array.from(two), Array.from(rest), sock.read() === undefined];
    })()`)).toEqual([
      3, [97, 98, 99], [100, 101], [102, 103, 104], true,
    ]);
    expect(await value(host, "events.find((e) => e[0] === 'readable')")).toEqual(["readable", 8]);
  });

  it("reports a connection the peer ends, and a refused connection, through onError without arguments, as Moddable's socket does", async () => {
    const server = await startServer();
    const host = await startHost();
    await host.evaluate(OPEN(server.port));
    await waitFor(() => server.peers.length === 1, "the connection");
    server.peers[0].destroy();
    await xsUntil(host, "events.some((e) => e[0] === 'error')");
    expect(await value(host, "events.filter((e) => e[0] === 'error')")).toEqual([["error", "undefined"]]);
    // an ESP32's socket (lwip/tcp.c): the failure cleared `ready`, so write() is "not ready"
    expect(await value(host, "try { sock.write(new Uint8Array(1)); 'no throw' } catch (e) { e.message }")).toBe("not ready");
    expect(await value(host, "try { sock.close(); sock.write(new Uint8Array(1)); 'no throw' } catch (e) { e.message }")).toMatch(/closed/);

    const closedPort = await freePort();
    await host.evaluate(OPEN(closedPort));
    await xsUntil(host, "events.some((e) => e[0] === 'error')");
    expect(await value(host, "events")).toEqual([["error", "undefined"]]);
  });
});

describe("XsHost", () => {
  it("reports an exception thrown by an XS callback through onError", async () => {
    const errors: string[] = [];
    const host = await startHost(errors);
    await host.evaluate("hostIo.Timer.set(() => { throw new RangeError('callback failed'); }, 1)");
    await waitFor(() => errors.length === 1, "the error");
    expect(errors[0]).toMatch(/timer delivery .*RangeError: callback failed/);
  });

  it("close() during a delivery whose callback then calls Node: the worker stops after it, not while XS waits for Node's answer", async () => {
    const server = await startServer();
    const host = await XsHost.start({ name: "xs-host busy close" });
    // onReadable spins 300 ms, then writes (a command to Node, made after close() began)
    await host.evaluate(`globalThis.sock = new hostIo.TCP({ address: "127.0.0.1", port: ${server.port},
      onReadable() { const end = Date.now() + 300; while (Date.now() < end); try { this.write(new Uint8Array(1)); } catch {} } })`);
    await waitFor(() => server.peers.length === 1, "the connection");
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((text) => {
      written.push(String(text));
      return true;
    });
    try {
      server.peers[0].write("x");
      await sleep(100);
      await host.close();
      await sleep(100);
    } finally {
      spy.mockRestore();
    }
    // stopped while waiting for an answer, xsnap prints "Got EOF on netstring read" on its stderr
    expect(written.filter((text) => text.includes("xs-host busy close"))).toEqual([]);
    await expect(host.evaluate("1")).rejects.toThrow(/closed/);
  });

  it("close() ends the worker, every socket and every timer", async () => {
    const server = await startServer();
    const host = await XsHost.start({ name: "xs-host close" });
    await host.evaluate(OPEN(server.port) + "; hostIo.Timer.repeat(() => {}, 5)");
    await waitFor(() => server.peers.length === 1, "the connection");
    await host.close();
    await host.close();
    expect(host.timer.active).toBe(0);
    await waitFor(() => host.tcp.connections === 0, "the socket to close");
    await new Promise<void>((resolve) => (server.peers[0].destroyed ? resolve() : server.peers[0].once("close", () => resolve())));
    await expect(host.evaluate("1")).rejects.toThrow(/closed/);
  });
});
