/*
 * The outbox: a fixed ring of bytes holding encoded PUBLISH packets, in the order they were
 * published, until they are acknowledged (QoS 1) or written (QoS 0 queued while offline).
 * Entry bookkeeping lives in typed arrays sized at construction; nothing is allocated after
 * that, and memory never grows: when the ring is full, reserve() says so.
 */

/** An entry not yet written on this connection. */
export const QUEUED = 0;
/** Written, waiting for its PUBACK. */
export const INFLIGHT = 1;
/** Done (acknowledged, or a QoS 0 entry written): freed when every older entry is done. */
export const DONE = 2;

export class Outbox {
  readonly bytes: Uint8Array;
  readonly capacity: number;
  readonly #offset: Uint32Array;
  readonly #length: Uint32Array;
  readonly #packetId: Uint16Array;
  readonly #state: Uint8Array;
  /** Bit 1: the entry was written on an earlier connection (resend with DUP). */
  readonly #sent: Uint8Array;
  #head = 0;
  #count = 0;
  #headByte = 0;
  #tailByte = 0;
  #usedBytes = 0;

  constructor(bytes: number, entries: number) {
    this.bytes = new Uint8Array(bytes);
    this.capacity = entries;
    this.#offset = new Uint32Array(entries);
    this.#length = new Uint32Array(entries);
    this.#packetId = new Uint16Array(entries);
    this.#state = new Uint8Array(entries);
    this.#sent = new Uint8Array(entries);
  }

  /** Entries held (queued, in flight or done but not yet freed). */
  get count(): number {
    return this.#count;
  }

  /** Bytes held by entries. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /**
   * Finds room for a packet of `size` bytes after the newest entry. Returns the offset in
   * `bytes` where it may be encoded, or -1 when the outbox is full. Nothing changes until add().
   */
  reserve(size: number): number {
    if (this.#count === this.capacity || size > this.bytes.length) return -1;
    if (this.#count === 0) return 0;
    const head = this.#headByte;
    const tail = this.#tailByte;
    if (tail > head || (tail === head && this.#usedBytes === 0)) {
      if (tail + size <= this.bytes.length) return tail;
      return size <= head ? 0 : -1;
    }
    return tail + size <= head ? tail : -1;
  }

  /** Records the packet just encoded at `offset` (as given by reserve()). Returns its entry index. */
  add(offset: number, size: number, packetId: number): number {
    if (this.#count === 0) this.#headByte = offset;
    const index = (this.#head + this.#count) % this.capacity;
    this.#offset[index] = offset;
    this.#length[index] = size;
    this.#packetId[index] = packetId;
    this.#state[index] = QUEUED;
    this.#sent[index] = 0;
    this.#count++;
    this.#usedBytes += size;
    this.#tailByte = offset + size;
    return index;
  }

  /** The entry index of the i-th oldest entry (0 is the oldest). */
  at(i: number): number {
    return (this.#head + i) % this.capacity;
  }

  offsetOf(index: number): number { return this.#offset[index]; }
  lengthOf(index: number): number { return this.#length[index]; }
  packetIdOf(index: number): number { return this.#packetId[index]; }
  stateOf(index: number): number { return this.#state[index]; }
  wasSent(index: number): boolean { return this.#sent[index] === 1; }

  /** Marks an entry written on this connection. */
  markInflight(index: number): void {
    this.#state[index] = INFLIGHT;
    this.#sent[index] = 1;
  }

  /** Marks an entry done and frees every done entry at the head. */
  markDone(index: number): void {
    this.#state[index] = DONE;
    while (this.#count > 0 && this.#state[this.#head] === DONE) {
      this.#usedBytes -= this.#length[this.#head];
      this.#head = (this.#head + 1) % this.capacity;
      this.#count--;
      if (this.#count > 0) this.#headByte = this.#offset[this.#head];
    }
    if (this.#count === 0) {
      this.#head = 0;
      this.#headByte = 0;
      this.#tailByte = 0;
    }
  }

  /** The in-flight entry with this packet id, or -1. */
  findInflight(packetId: number): number {
    for (let i = 0; i < this.#count; i++) {
      const index = (this.#head + i) % this.capacity;
      if (this.#packetId[index] === packetId && this.#state[index] === INFLIGHT) return index;
    }
    return -1;
  }

  /**
   * The oldest entry not yet written on this connection, or -1. After a reconnect the queued
   * entries need not be the newest ones: done entries (acknowledged out of order, or QoS 0
   * already written) may lie between them.
   */
  firstQueued(): number {
    for (let i = 0; i < this.#count; i++) {
      const index = (this.#head + i) % this.capacity;
      if (this.#state[index] === QUEUED) return index;
    }
    return -1;
  }

  /** Whether a packet id is held by an entry not yet done. */
  holds(packetId: number): boolean {
    for (let i = 0; i < this.#count; i++) {
      const index = (this.#head + i) % this.capacity;
      if (this.#packetId[index] === packetId && this.#state[index] !== DONE) return true;
    }
    return false;
  }

  /** After a connection ends: every in-flight entry is queued again, in its original order. */
  requeue(): void {
    for (let i = 0; i < this.#count; i++) {
      const index = (this.#head + i) % this.capacity;
      if (this.#state[index] === INFLIGHT) this.#state[index] = QUEUED;
    }
  }

  /** After a reconnect without a session: nothing was sent before, as far as the broker knows. */
  forgetSent(): void {
    this.#sent.fill(0);
  }
}
