/*
 * The transmit stage: the one buffer outgoing packets are encoded into, how much room it has,
 * and writing what it holds to a socket as far as the socket takes it. Allocates its two
 * buffers once, in the constructor; writing resizes them within that first allocation.
 * Knows nothing of MQTT beyond packet sizes, and never decides when to write: the client does.
 */

import { lengthFieldSize } from "./encode.js";
import type { Socket } from "./io.js";

/** Bytes kept back from publishes and subscriptions, so that a PUBACK, PINGREQ or DISCONNECT always fits. */
export const TX_RESERVE = 16;
/** The most bytes written at once when the socket takes only part of what is staged. */
const PARTIAL_WRITE_MAX = 256;

export class Transmit {
  /** Resizable, so that a prefix of it can be written without a view. */
  readonly buffer: ArrayBuffer;
  /** All of `buffer`: packets are encoded here, at `fill`. */
  readonly bytes: Uint8Array;
  /** Bytes staged, from the start of `bytes`. */
  fill = 0;
  /** What the socket last said it takes. */
  writable = 0;
  /** The largest writable count seen on this connection: below it, writes are outstanding. */
  window = 0;
  /** Holds the prefix written when the socket takes less than what is staged. */
  readonly #spareBuffer: ArrayBuffer;
  readonly #spare: Uint8Array;

  constructor(size: number) {
    this.buffer = new ArrayBuffer(size, { maxByteLength: size });
    this.bytes = new Uint8Array(this.buffer);
    const spareSize = Math.min(size, PARTIAL_WRITE_MAX);
    this.#spareBuffer = new ArrayBuffer(spareSize, { maxByteLength: spareSize });
    this.#spare = new Uint8Array(this.#spareBuffer);
  }

  /** Bytes free after what is staged. */
  get room(): number {
    return this.bytes.length - this.fill;
  }

  /** Whether a packet with this remaining length fits now, leaving TX_RESERVE. */
  hasRoomFor(remaining: number): boolean {
    return this.room >= 1 + lengthFieldSize(remaining) + remaining + TX_RESERVE;
  }

  /** A new connection: nothing staged, nothing writable yet. */
  reset(): void {
    this.fill = 0;
    this.writable = 0;
    this.window = 0;
  }

  /** The socket reported room for `count` bytes. */
  onWritable(count: number): void {
    this.writable = count;
    if (count > this.window) this.window = count;
  }

  /**
   * Whether staged bytes should wait: while earlier writes are still outstanding, small
   * packets gather until they fill the room the socket has left (or half the buffer), and go
   * out in one write: few writes per round trip, not one per packet.
   */
  get gathering(): boolean {
    const writable = this.writable;
    return writable < this.window && this.fill < Math.min(writable, this.bytes.length >> 1);
  }

  /**
   * Writes as much of the staged bytes as the socket takes and moves the rest to the front.
   * Throws what the socket throws, and Error "write failed" when write() returns undefined
   * (Moddable's Linux socket after a failed write, whose onError never comes:
   * modules/io/socket/lin/tcp.c tcpTask returns at once once `error` is set).
   */
  write(socket: Socket): void {
    const fill = this.fill;
    const count = Math.min(fill, this.writable);
    const rest = fill - count;
    const spare = this.#spare;
    const bytes = this.bytes;
    if (rest <= spare.length) {
      // the part that does not fit waits in the spare buffer while the buffer is cut to what does
      for (let i = 0; i < rest; i++) spare[i] = bytes[count + i];
      this.writable = writePrefix(socket, this.buffer, count);
      for (let i = 0; i < rest; i++) bytes[i] = spare[i];
      this.fill = rest;
      return;
    }
    // more waits than the spare buffer holds: a prefix of that size goes out through it
    const prefix = Math.min(count, spare.length);
    for (let i = 0; i < prefix; i++) spare[i] = bytes[i];
    this.writable = writePrefix(socket, this.#spareBuffer, prefix);
    bytes.copyWithin(0, prefix, fill);
    this.fill = fill - prefix;
  }

  /** Writes everything staged when the socket takes all of it at once; otherwise nothing. Never throws. */
  writeAllOrNothing(socket: Socket): void {
    if (this.fill === 0 || this.writable < this.fill) return;
    try {
      writePrefix(socket, this.buffer, this.fill);
      this.fill = 0;
    } catch {
      // the connection is being closed anyway
    }
  }
}

/** Writes the first `count` bytes of a resizable buffer; returns the socket's writable count. */
function writePrefix(socket: Socket, buffer: ArrayBuffer, count: number): number {
  buffer.resize(count);
  try {
    const writable = socket.write(buffer);
    if (writable === undefined) throw new Error("write failed");
    return writable;
  } finally {
    buffer.resize(buffer.maxByteLength);
  }
}
