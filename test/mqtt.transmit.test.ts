/*
 * Unit tests of device/mqtt/transmit.ts: room and hasRoomFor() with TX_RESERVE, the writable
 * count and window, gathering, and write()/writeAllOrNothing() into the simulator's
 * Moddable-exact TCP socket (host-sim/io/sockets.ts) connected to a node:net server on
 * 127.0.0.1, which records every byte it receives (and that socket's one onWritable for a turn's
 * writes). Everything is closed after each test.
 */
import { afterEach, describe, expect, it } from "vitest";
import { TX_RESERVE, Transmit } from "../device/mqtt/transmit.js";
import { DEFAULT_WINDOW, TCP } from "../host-sim/io/sockets.js";
import { waitFor } from "./brokers/helpers.js";
import { LoopbackServer } from "./support/loopback.js";

const loopback = new LoopbackServer();

afterEach(() => loopback.close());

interface Link {
  socket: TCP;
  /** Every byte the server received, in order. */
  received: () => Buffer;
  /** The counts onWritable reported. */
  writable: number[];
}

/** A TCP socket connected to a server on 127.0.0.1; `onWritable` also gets each count. */
async function connect(onWritable?: (count: number) => void): Promise<Link> {
  const chunks: Buffer[] = [];
  const port = await loopback.listen({ onPeer: (peer) => peer.on("data", (data) => chunks.push(data)) });
  const writable: number[] = [];
  const socket = new TCP({
    address: "127.0.0.1",
    port,
    onWritable(count) {
      writable.push(count);
      onWritable?.(count);
    },
  });
  loopback.sockets.push(socket);
  await waitFor(() => writable.length === 1 && loopback.peers.length === 1, "the connection");
  return { socket, received: () => Buffer.concat(chunks), writable };
}

/** `count` bytes that never repeat with a period of a chunk (a shifted copy differs from them). */
function pattern(count: number, seed = 0): Uint8Array {
  let state = seed + 1;
  return Uint8Array.from({ length: count }, () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state >>> 24;
  });
}

function stage(tx: Transmit, bytes: Uint8Array): void {
  tx.bytes.set(bytes, tx.fill);
  tx.fill += bytes.length;
}

describe("Transmit: room", () => {
  it("room is the size less what is staged", () => {
    const tx = new Transmit(100);
    expect([tx.room, tx.fill, tx.bytes.length, tx.buffer.byteLength]).toEqual([100, 0, 100, 100]);
    tx.fill = 37;
    expect(tx.room).toBe(63);
  });

  it("hasRoomFor(remaining): the header, the body and TX_RESERVE must fit", () => {
    expect(TX_RESERVE).toBe(16);
    const tx = new Transmit(100);
    tx.fill = 10; // 90 free: a body of 72 with a 2-byte header leaves exactly TX_RESERVE
    expect(tx.hasRoomFor(72)).toBe(true);
    expect(tx.hasRoomFor(73)).toBe(false);
    const big = new Transmit(200);
    big.fill = 200 - (1 + 2 + 128 + TX_RESERVE); // a body of 128 takes a 2-byte length field
    expect(big.hasRoomFor(128)).toBe(true);
    expect(big.hasRoomFor(127)).toBe(true);
    big.fill++;
    expect(big.hasRoomFor(128)).toBe(false);
    expect(big.hasRoomFor(127)).toBe(true); // one byte of length field less
  });

  it("onWritable() sets writable and raises window to the largest count; reset() clears all three counters", () => {
    const tx = new Transmit(64);
    tx.onWritable(500);
    tx.onWritable(200);
    expect([tx.writable, tx.window]).toEqual([200, 500]);
    tx.onWritable(800);
    expect([tx.writable, tx.window]).toEqual([800, 800]);
    tx.fill = 9;
    tx.reset();
    expect([tx.fill, tx.writable, tx.window, tx.room]).toEqual([0, 0, 0, 64]);
  });

  it("gathering: while writes are outstanding and less than half the buffer is staged", () => {
    const tx = new Transmit(100);
    tx.onWritable(1000);
    tx.onWritable(400); // 600 bytes outstanding
    tx.fill = 49;
    expect(tx.gathering).toBe(true);
    tx.fill = 50;
    expect(tx.gathering).toBe(false); // half full: write now
    tx.fill = 10;
    tx.onWritable(1000); // nothing outstanding
    expect(tx.gathering).toBe(false);
  });

  it("gathering: while writes are outstanding, only until the staged bytes fill the room the socket has left", () => {
    const tx = new Transmit(1000);
    tx.onWritable(1536);
    tx.onWritable(120); // 1,416 bytes outstanding, 120 of room left
    tx.fill = 119;
    expect(tx.gathering).toBe(true);
    tx.fill = 120;
    expect(tx.gathering).toBe(false); // the room is filled: one write takes it all
  });
});

describe("Transmit: writing to a Moddable-exact TCP socket", () => {
  it("write() sends everything staged when the socket takes it all; writable is what the socket reports", async () => {
    const tx = new Transmit(512);
    const link = await connect();
    tx.onWritable(link.writable[0]);
    expect(link.writable).toEqual([DEFAULT_WINDOW]);
    const bytes = pattern(300, 7);
    stage(tx, bytes);
    tx.write(link.socket);
    expect([tx.fill, tx.writable, tx.room]).toEqual([0, DEFAULT_WINDOW - 300, 512]);
    expect(tx.gathering).toBe(true); // 300 bytes outstanding, nothing staged
    await waitFor(() => link.received().length === 300, "300 bytes at the server");
    expect(link.received()).toEqual(Buffer.from(bytes));
  });

  it("staged bytes beyond the socket's window, more than the spare buffer holds: a partial write of at most 256 bytes, the rest moved to the front; all arrive in order after further writes", async () => {
    const total = 4000; // more than DEFAULT_WINDOW (1,536)
    const tx = new Transmit(total);
    const bytes = pattern(total, 3);
    const writes: number[] = [];
    let link: Link | undefined;
    const pump = (): void => {
      while (link !== undefined && tx.fill > 0 && tx.writable > 0) {
        const before = tx.fill;
        tx.write(link.socket);
        writes.push(before - tx.fill);
      }
    };
    link = await connect((count) => {
      tx.onWritable(count);
      pump();
    });
    stage(tx, bytes);

    // the first write: 256 bytes (of the 1,536 the socket takes), the rest at the front
    tx.write(link.socket);
    expect([tx.fill, tx.writable]).toEqual([total - 256, DEFAULT_WINDOW - 256]);
    expect(tx.bytes.subarray(0, tx.fill)).toEqual(bytes.subarray(256));
    expect(tx.bytes.length).toBe(total); // the buffer keeps its size

    pump();
    // 256 at a time until the window is used up: 1,536 / 256 = 6 writes in all, 1,536 bytes
    expect(writes).toEqual([256, 256, 256, 256, 256]);
    expect([tx.fill, tx.writable]).toEqual([total - DEFAULT_WINDOW, 0]);

    // onWritable as the peer takes the bytes: the pump writes the rest
    await waitFor(() => tx.fill === 0, "everything written");
    await waitFor(() => link!.received().length === total, "every byte at the server");
    expect(link.received()).toEqual(Buffer.from(bytes));
    expect(writes.length).toBeGreaterThan(5);
  });

  it("a write of as much as the socket takes when what is left fits the spare buffer; the rest moves to the front", async () => {
    const tx = new Transmit(2048);
    const link = await connect();
    tx.onWritable(link.writable[0]);
    const bytes = pattern(600);
    stage(tx, bytes);
    tx.writable = 599; // one byte short: 599 bytes in one write, the last one kept
    tx.write(link.socket);
    expect(tx.fill).toBe(1);
    expect(tx.bytes[0]).toBe(bytes[599]);
    expect(tx.bytes.length).toBe(2048); // the buffer keeps its size
    tx.writable = 1; // exactly what is left: all of it in one write
    tx.write(link.socket);
    expect(tx.fill).toBe(0);
    expect(tx.writable).toBe(DEFAULT_WINDOW - 600);
    await waitFor(() => link.received().length === 600, "600 bytes at the server");
    expect(link.received()).toEqual(Buffer.from(bytes));
  });

  it("the simulator's socket: writes of one turn go out together and their room comes back in one onWritable, never sooner", async () => {
    const link = await connect();
    const first = pattern(100, 1);
    const second = pattern(200, 2);
    expect(link.socket.write(first.slice().buffer)).toBe(DEFAULT_WINDOW - 100);
    expect(link.socket.write(second.slice().buffer)).toBe(DEFAULT_WINDOW - 300);
    await waitFor(() => link.received().length === 300, "300 bytes at the server");
    await waitFor(() => link.writable.length === 2, "onWritable");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(link.writable).toEqual([DEFAULT_WINDOW, DEFAULT_WINDOW]); // at connect, then once for both writes
    expect(link.received()).toEqual(Buffer.concat([first, second]));
  });

  it("write() throws what the socket throws, and the buffer keeps its full size", async () => {
    const tx = new Transmit(128);
    const link = await connect();
    stage(tx, pattern(20));
    tx.writable = 20;
    link.socket.close();
    expect(() => tx.write(link.socket)).toThrow("closed");
    expect([tx.bytes.length, tx.buffer.byteLength, tx.room]).toEqual([128, 128, 108]);
    tx.writable = 10;
    expect(() => tx.write(link.socket)).toThrow("closed"); // the partial path too
    expect([tx.bytes.length, tx.room]).toEqual([128, 108]);
  });

  it("writeAllOrNothing(): everything when the socket takes it all, nothing otherwise, and it never throws", async () => {
    const tx = new Transmit(256);
    const link = await connect();
    tx.writeAllOrNothing(link.socket); // nothing staged
    const bytes = pattern(40, 100);
    stage(tx, bytes);
    tx.writable = 39;
    tx.writeAllOrNothing(link.socket);
    expect(tx.fill).toBe(40); // not all of it fits: nothing
    tx.writable = 40;
    tx.writeAllOrNothing(link.socket);
    expect(tx.fill).toBe(0);
    await waitFor(() => link.received().length === 40, "40 bytes at the server");
    expect(link.received()).toEqual(Buffer.from(bytes));

    stage(tx, pattern(8));
    tx.writable = 100;
    link.socket.close();
    expect(() => tx.writeAllOrNothing(link.socket)).not.toThrow(); // the socket throws "closed"
    expect([tx.fill, tx.bytes.length]).toEqual([8, 256]);
  });
});

describe("Transmit: a socket whose write() returns undefined", () => {
  it("throws \"write failed\": Moddable's Linux socket returns nothing from a failed write and never calls onError (modules/io/socket/lin/tcp.c)", () => {
    const tx = new Transmit(64);
    stage(tx, pattern(10));
    tx.onWritable(DEFAULT_WINDOW);
    // xs_tcp_write after write(2) failed: no result; tcpTask then returns at once (error set), so no onError ever comes
    const failed = { write: () => undefined, read: () => undefined, close: () => {} } as unknown as TCP;
    expect(() => tx.write(failed)).toThrow("write failed");
    expect(tx.fill).toBe(10); // nothing was taken
  });
});
