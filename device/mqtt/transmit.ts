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
   * packets gather and go out together when the socket reports room again (one write per
   * round trip, not one per packet).
   */
  get gathering(): boolean {
    return this.writable < this.window && this.fill < this.bytes.length >> 1;
  }

  /**
   * Writes as much of the staged bytes as the socket takes and moves the rest to the front.
   * Throws what the socket throws, and Error "write failed" when write() returns undefined
   * (Moddable's Linux socket after a failed write, whose onError never comes:
   * modules/io/socket/lin/tcp.c tcpTask returns at once once `error` is set).
   */
  write(socket: Socket): void {
    const fill = this.fill;
    let count = Math.min(fill, this.writable);
    if (count < fill) count = Math.min(count, this.#spare.length);
    if (count === fill) {
      this.writable = writePrefix(socket, this.buffer, count);
    } else {
      // a prefix only: copy it out, write it, move the rest to the front
      const spare = this.#spare;
      const bytes = this.bytes;
      for (let i = 0; i < count; i++) spare[i] = bytes[i];
      this.writable = writePrefix(socket, this.#spareBuffer, count);
      bytes.copyWithin(0, count, fill);
    }
    this.fill = fill - count;
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
