/*
 * The simulator's TCP socket (host-sim/sockets.ts) against Moddable's, row by row of
 * docs/moddable-io.md (modules/io/socket/lwip/tcp.c): exact-length reads and their throws,
 * "not ready" before the connection is up, onError() without arguments and held back until
 * the bytes that came first are read, write() after an error, any method after close().
 * The peer is a plain node:net server on 127.0.0.1, closed after each test.
 */
import { createServer } from "node:net";
import type { Server, Socket as NodeSocket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { TCP } from "../host-sim/sockets.js";
import { sleep, waitFor } from "./brokers/helpers.js";

let server: Server | undefined;
const peers: NodeSocket[] = [];
const sockets: TCP[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) {
    try { socket.close(); } catch { /* closed already */ }
  }
  for (const peer of peers.splice(0)) peer.destroy();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

async function listen(): Promise<number> {
  server = createServer((peer) => peers.push(peer));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return (server!.address() as { port: number }).port;
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
  sockets.push(socket);
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
    await waitFor(() => peers.length === 1 && events.writable.length === 1, "the connection");
    expect(socket.read(new Uint8Array(4))).toBeUndefined(); // nothing waiting yet
    peers[0].write(Buffer.from("0123456789"));
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
    await waitFor(() => peers.length === 1 && events.writable.length === 1, "the connection");
    peers[0].end(Buffer.from("bye!"));
    await waitFor(() => events.readable.at(-1) === 4, "4 bytes waiting");
    await sleep(100); // the peer has closed by now: Moddable still holds the error back
    expect(events.errors).toEqual([]);
    expect(socket.read(new Uint8Array(4))).toBe(4);
    await waitFor(() => events.errors.length === 1, "onError");
    expect(events.errors).toEqual([[]]);
    expect(events.insideRead).toBe(false);
    expect(socket.write(new Uint8Array(1))).toBeUndefined(); // after an error: nothing, no throw
  });

  it("a refused connection reports onError() without arguments", async () => {
    const port = await listen();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
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
