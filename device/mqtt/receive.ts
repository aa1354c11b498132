/*
 * The receive stage: reads what the socket says is waiting into one chunk buffer and hands
 * it to the decoder. Moddable's `read(buffer)` fills the whole buffer and throws when fewer
 * bytes are waiting, so the buffer is resized to exactly what is waiting for each read, then
 * back (within its first allocation: no new memory). Allocates only in its constructor;
 * never parses MQTT.
 */

import type { PacketDecoder } from "./decode.js";
import type { Socket } from "./io.js";

/** The most bytes read at once. */
const CHUNK_MAX = 256;

export class Receive {
  /** Bytes the socket last said are waiting. */
  waiting = 0;
  readonly #buffer: ArrayBuffer;
  /** All of #buffer, tracking its length: what the socket fills and the decoder reads. */
  readonly #chunk: Uint8Array;

  /** A chunk buffer for packets of at most `receiveBufferSize` bytes of body (and their header). */
  constructor(receiveBufferSize: number) {
    const size = Math.min(receiveBufferSize + 5, CHUNK_MAX);
    this.#buffer = new ArrayBuffer(size, { maxByteLength: size });
    this.#chunk = new Uint8Array(this.#buffer);
  }

  /**
   * Reads up to a chunk of what is waiting and feeds it to `decoder`. False when nothing was
   * waiting after all (then `waiting` is 0). Throws what the socket throws.
   */
  read(socket: Socket, decoder: PacketDecoder): boolean {
    const buffer = this.#buffer;
    const wanted = Math.min(this.waiting, buffer.maxByteLength);
    let count: number | undefined;
    buffer.resize(wanted);
    try {
      // a view, not the ArrayBuffer: Moddable's TLS socket (tlssocket.js, read) fills a view,
      // and throws a RangeError for an ArrayBuffer
      count = socket.read(this.#chunk);
    } finally {
      buffer.resize(buffer.maxByteLength);
    }
    if (count !== wanted) { // undefined: nothing was waiting
      this.waiting = 0;
      return false;
    }
    this.waiting -= count;
    decoder.feed(this.#chunk, 0, count);
    return true;
  }
}
