/*
 * The outbox: a fixed ring of bytes holding encoded PUBLISH packets, in the order they were
 * published, until they are acknowledged (QoS 1) or written (QoS 0 queued while offline).
 * Entry bookkeeping lives in one table sized at construction; nothing is allocated after
 * that, and memory never grows: when the ring is full, reserve() says so.
 *
 * Memory: the byte ring and the table are two views of ONE ArrayBuffer (the ring first, then
 * the table at the next multiple of 4), its own or a part of its owner's (Outbox.size()
 * bytes at a multiple of 4), so an outbox costs at most one ArrayBuffer and two views
 * whatever its size (each typed array is ~180 bytes of heap on Node, and thousands of
 * clients share a process). The table is a Uint32Array of 3 words per entry:
 *   word 0: offset in `bytes` (any size the ring may have: a whole word)
 *   word 1: length in bytes (likewise a whole word)
 *   word 2: packetId (bits 0-15) | state (bits 16-17) | sent (bit 18)
 * and after the entries, the held-id counts: a power of two words, at least one per entry,
 * counting the entries not yet done by packet id modulo their number. A new packet id whose
 * count is 0 is known free without looking at any entry, so holds() costs the same with 16
 * messages in flight or with 1,000; and a cursor skips the entries known to have nothing to
 * write, so stage() does not look again at every in-flight entry for each packet it stages.
 * Also stages its queued entries into the transmit buffer, in order (stage()).
 */

import { DUP, QOS_MASK, QOS_SHIFT } from "./constants.js";
import { encodePubrel } from "./encode.js";
import type { ClientStats } from "./options.js";
import { TX_RESERVE, type Transmit } from "./transmit.js";

/** An entry not yet written on this connection. */
export const QUEUED = 0;
/** Written, waiting for its PUBACK (QoS 1) or PUBREC (QoS 2). */
export const INFLIGHT = 1;
/** Done (acknowledged, or a QoS 0 entry written): freed when every older entry is done. */
export const DONE = 2;
/** QoS 2: its PUBREC came; its PUBREL goes (again after a reconnect) and the PUBCOMP is awaited. */
export const RELEASED = 3;

/** The bytes of a PUBREL. */
const PUBREL_SIZE = 4;

/** Words per entry in the table, and where each field is. */
const WORDS = 3;
const OFFSET = 0;
const LENGTH = 1;
const META = 2;
/** In the META word. */
const PACKET_ID = 0xffff;
const STATE_SHIFT = 16;
const STATE = 3 << STATE_SHIFT;
/** The entry was written on an earlier connection (resend with DUP). */
const SENT = 1 << 18;
/** RELEASED: its PUBREL is not written on this connection yet. */
const RELEASE_DUE = 1 << 19;

export class Outbox {
  /** The ring: exactly `bytes` long (a view of the start of the outbox's one ArrayBuffer). */
  readonly bytes: Uint8Array;
  readonly capacity: number;
  /** Entries with a packet to write on this connection: a PUBLISH, or a QoS 2 entry's PUBREL. */
  queued = 0;
  /** QoS 1 and 2 entries written and not yet complete (PUBACK, or PUBCOMP for QoS 2). */
  inflight = 0;
  /** WORDS words per entry: offset, length, packetId | state << 16 | sent << 18 | release due << 19. */
  readonly #table: Uint32Array;
  #head = 0;
  #count = 0;
  #headByte = 0;
  #tailByte = 0;
  #usedBytes = 0;
  /** Where the held-id counts start in #table, and the mask of a packet id's count. */
  readonly #idsAt: number;
  readonly #idMask: number;
  /** Entries from the head known to have nothing to write on this connection (firstQueued() starts after them). */
  #written = 0;

  /** The bytes an outbox of `bytes` and `entries` takes in a buffer (a multiple of 4). */
  static size(bytes: number, entries: number): number {
    return Math.ceil(bytes / 4) * 4 + (entries * WORDS + idCounts(entries)) * 4;
  }

  /**
   * An outbox of `bytes` bytes for `entries` packets, in `buffer` from `at` (a multiple of 4,
   * with Outbox.size() bytes there), or in an ArrayBuffer of its own.
   */
  constructor(bytes: number, entries: number, buffer?: ArrayBuffer, at = 0) {
    const tableAt = at + Math.ceil(bytes / 4) * 4; // a Uint32Array view must start 4-aligned
    const memory = buffer ?? new ArrayBuffer(Outbox.size(bytes, entries));
    this.bytes = new Uint8Array(memory, at, bytes);
    this.capacity = entries;
    this.#idsAt = entries * WORDS;
    this.#idMask = idCounts(entries) - 1;
    this.#table = new Uint32Array(memory, tableAt, this.#idsAt + this.#idMask + 1);
  }

  /** Entries held (queued, in flight or done but not yet freed). */
  get count(): number {
    return this.#count;
  }

  /** Nothing queued, and at most half of the entries and bytes held: room for a refused publisher to try again. */
  get roomy(): boolean {
    return this.queued === 0 && this.#count * 2 <= this.capacity && this.#usedBytes * 2 <= this.bytes.length;
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
    const table = this.#table;
    const at = index * WORDS;
    table[at + OFFSET] = offset;
    table[at + LENGTH] = size;
    table[at + META] = (packetId & PACKET_ID) | (QUEUED << STATE_SHIFT); // not sent
    if (packetId !== 0) table[this.#idsAt + (packetId & this.#idMask)]++;
    this.#count++;
    this.queued++;
    this.#usedBytes += size;
    this.#tailByte = offset + size;
    return index;
  }

  offsetOf(index: number): number { return this.#table[index * WORDS + OFFSET]; }
  lengthOf(index: number): number { return this.#table[index * WORDS + LENGTH]; }
  packetIdOf(index: number): number { return this.#table[index * WORDS + META] & PACKET_ID; }
  stateOf(index: number): number { return (this.#table[index * WORDS + META] & STATE) >> STATE_SHIFT; }
  wasSent(index: number): boolean { return (this.#table[index * WORDS + META] & SENT) !== 0; }

  /** Marks a queued entry written on this connection. */
  markInflight(index: number): void {
    const at = index * WORDS + META;
    this.#table[at] = (this.#table[at] & PACKET_ID) | (INFLIGHT << STATE_SHIFT) | SENT;
    this.queued--;
    this.inflight++;
  }

  /** Marks an entry done (written QoS 0, or acknowledged) and frees every done entry at the head. */
  markDone(index: number): void {
    const table = this.#table;
    const at = index * WORDS + META;
    const state = table[at] & STATE;
    if (state === QUEUED << STATE_SHIFT || (table[at] & RELEASE_DUE) !== 0) this.queued--;
    if (state === INFLIGHT << STATE_SHIFT || state === RELEASED << STATE_SHIFT) this.inflight--;
    const packetId = table[at] & PACKET_ID;
    if (packetId !== 0) table[this.#idsAt + (packetId & this.#idMask)]--;
    table[at] = (table[at] & ~(STATE | RELEASE_DUE)) | (DONE << STATE_SHIFT);
    while (this.#count > 0 && (table[this.#head * WORDS + META] & STATE) === DONE << STATE_SHIFT) {
      this.#usedBytes -= table[this.#head * WORDS + LENGTH];
      this.#head = (this.#head + 1) % this.capacity;
      this.#count--;
      if (this.#written > 0) this.#written--;
      if (this.#count > 0) this.#headByte = table[this.#head * WORDS + OFFSET];
    }
    if (this.#count === 0) {
      this.#head = 0;
      this.#headByte = 0;
      this.#tailByte = 0;
    }
  }

  /** A PUBACK: marks the in-flight QoS 1 entry with this packet id done; false when there is none. */
  acknowledge(packetId: number): boolean {
    const index = this.find(packetId, INFLIGHT, 1);
    if (index < 0) return false;
    this.markDone(index);
    return true;
  }

  /**
   * A PUBREC [MQTT-4.3.3-3]: the in-flight QoS 2 entry with this packet id is released, its
   * PUBREL due; a repeated PUBREC makes the PUBREL due again. False when there is no such entry.
   */
  received(packetId: number): boolean {
    let index = this.find(packetId, INFLIGHT, 2);
    if (index < 0) index = this.find(packetId, RELEASED, 2);
    if (index < 0) return false;
    const at = index * WORDS + META;
    const meta = this.#table[at];
    if ((meta & RELEASE_DUE) === 0) this.queued++;
    this.#table[at] = (meta & (PACKET_ID | SENT)) | (RELEASED << STATE_SHIFT) | RELEASE_DUE;
    this.#written = Math.min(this.#written, (index - this.#head + this.capacity) % this.capacity);
    return true;
  }

  /** A PUBCOMP: marks the released entry with this packet id done; false when there is none. */
  complete(packetId: number): boolean {
    const index = this.find(packetId, RELEASED, 2);
    if (index < 0) return false;
    this.markDone(index);
    return true;
  }

  /** The entry with this packet id, state and QoS, or -1. */
  find(packetId: number, state: number, qos: number): number {
    const table = this.#table;
    const bytes = this.bytes;
    for (let i = 0; i < this.#count; i++) {
      const index = (this.#head + i) % this.capacity;
      const meta = table[index * WORDS + META];
      if ((meta & PACKET_ID) !== packetId || (meta & STATE) !== state << STATE_SHIFT) continue;
      if (((bytes[table[index * WORDS + OFFSET]] >> QOS_SHIFT) & QOS_MASK) === qos) return index;
    }
    return -1;
  }

  /**
   * The oldest entry with a packet to write on this connection (its PUBLISH, or its PUBREL),
   * or -1. After a reconnect these need not be the newest entries: done entries
   * (acknowledged out of order, or QoS 0 already written) may lie between them.
   */
  firstQueued(): number {
    const table = this.#table;
    for (let i = this.#written; i < this.#count; i++) {
      const index = (this.#head + i) % this.capacity;
      const meta = table[index * WORDS + META];
      if ((meta & STATE) === QUEUED << STATE_SHIFT || (meta & RELEASE_DUE) !== 0) {
        this.#written = i;
        return index;
      }
    }
    this.#written = this.#count;
    return -1;
  }

  /** Whether a packet id is held by an entry not yet done. */
  holds(packetId: number): boolean {
    const table = this.#table;
    if (table[this.#idsAt + (packetId & this.#idMask)] === 0) return false;
    for (let i = 0; i < this.#count; i++) {
      const meta = table[((this.#head + i) % this.capacity) * WORDS + META];
      if ((meta & PACKET_ID) === packetId && (meta & STATE) !== DONE << STATE_SHIFT) return true;
    }
    return false;
  }

  /**
   * Stages what the entries have to write, oldest first, after what `tx` holds, while it keeps
   * TX_RESERVE free and fewer than `maxInflight` QoS 1 and 2 entries are in flight. A QoS 0
   * entry is done once copied; a QoS 1 or 2 entry goes in flight, with DUP set when an earlier
   * connection wrote it; a released QoS 2 entry gets its PUBREL [MQTT-4.3.3-3].
   */
  stage(tx: Transmit, maxInflight: number, stats: ClientStats): void {
    const bytes = this.bytes;
    const staged = tx.bytes;
    const table = this.#table;
    while (this.queued > 0) {
      const index = this.firstQueued();
      if (index < 0) return;
      const meta = index * WORDS + META;
      if ((table[meta] & RELEASE_DUE) !== 0) {
        if (tx.room < PUBREL_SIZE + TX_RESERVE) return;
        tx.fill += encodePubrel(staged, tx.fill, table[meta] & PACKET_ID);
        table[meta] &= ~RELEASE_DUE;
        this.queued--;
        continue;
      }
      const offset = this.offsetOf(index);
      const length = this.lengthOf(index);
      const qos = (bytes[offset] >> QOS_SHIFT) & QOS_MASK;
      if (qos > 0 && this.inflight >= maxInflight) return;
      if (tx.room < length + TX_RESERVE) return;
      const at = tx.fill;
      for (let i = 0; i < length; i++) staged[at + i] = bytes[offset + i];
      tx.fill = at + length;
      if (qos === 0) {
        stats.sent++;
        this.markDone(index);
        continue;
      }
      if (this.wasSent(index)) {
        staged[at] |= DUP; // this message may have reached the broker before [MQTT-3.3.1-1]
        stats.resent++;
      } else {
        stats.sent++;
      }
      this.markInflight(index);
    }
  }

  /**
   * After a connection ends: every in-flight PUBLISH is queued again and every released QoS 2
   * entry's PUBREL is due again, in their original order [MQTT-4.4.0-1]. Returns the entries
   * with a packet to write now (those and those never written).
   */
  requeue(): number {
    const table = this.#table;
    let queued = 0;
    let inflight = 0;
    for (let i = 0; i < this.#count; i++) {
      const at = ((this.#head + i) % this.capacity) * WORDS + META;
      const meta = table[at];
      const state = meta & STATE;
      // keeps the packet id and the sent bit: a requeued entry is resent with DUP
      if (state === INFLIGHT << STATE_SHIFT) table[at] = (meta & ~STATE) | (QUEUED << STATE_SHIFT);
      if (state === RELEASED << STATE_SHIFT) {
        table[at] = meta | RELEASE_DUE;
        inflight++;
      }
      if (state !== DONE << STATE_SHIFT) queued++;
    }
    this.queued = queued;
    this.inflight = inflight;
    this.#written = 0;
    return queued;
  }
}

/** How many held-id counts an outbox of `entries` keeps: the least power of two not below it. */
function idCounts(entries: number): number {
  let counts = 1;
  while (counts < entries) counts *= 2;
  return counts;
}
