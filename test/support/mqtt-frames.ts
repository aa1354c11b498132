/*
 * Where MQTT packets start and end in a byte stream, read from each fixed header's
 * remaining-length field (MQTT 3.1.1 section 2.2.3) and nothing else: the one framer the
 * tests, the vector runner and the fault proxy share. It never decodes a packet's fields (the
 * code under test and mqtt-packet do that). Plain Uint8Array code with no Node API, because the
 * vector runner is bundled into the XS engine too.
 */

/** The next byte starts a packet. */
const START = 0;
/** Inside the remaining-length field. */
const LENGTH = 1;
/** Inside the body. */
const BODY = 2;

/**
 * Follows packet boundaries through a stream, fed from its first byte in any chunking.
 * It trusts the length field: it neither limits it to 4 bytes nor checks the packet type.
 */
export class PacketFramer {
  /** START, LENGTH or BODY. */
  #phase = START;
  /** The remaining length read so far; the whole of it once the field has ended. */
  #remainingLength = 0;
  /** Bytes of the length field read so far. */
  #lengthBytes = 0;
  #multiplier = 1;
  /** Body bytes still to come. */
  #bodyLeft = 0;

  /** True when the next byte starts a packet: the stream so far ends on a packet boundary. */
  get atBoundary(): boolean {
    return this.#phase === START;
  }

  /** True while the remaining-length field is being read. */
  get inLengthField(): boolean {
    return this.#phase === LENGTH;
  }

  /** The current packet's remaining length (complete once inLengthField is false again). */
  get remainingLength(): number {
    return this.#remainingLength;
  }

  /** A framer in the same place of the same stream. */
  copy(): PacketFramer {
    const twin = new PacketFramer();
    twin.#phase = this.#phase;
    twin.#remainingLength = this.#remainingLength;
    twin.#lengthBytes = this.#lengthBytes;
    twin.#multiplier = this.#multiplier;
    twin.#bodyLeft = this.#bodyLeft;
    return twin;
  }

  /** Takes one byte of the stream. */
  step(byte: number): void {
    switch (this.#phase) {
      case START:
        this.#phase = LENGTH;
        this.#remainingLength = 0;
        this.#lengthBytes = 0;
        this.#multiplier = 1;
        return;
      case LENGTH:
        this.#remainingLength += (byte & 0x7f) * this.#multiplier;
        this.#multiplier *= 128;
        this.#lengthBytes++;
        if ((byte & 0x80) === 0) {
          this.#bodyLeft = this.#remainingLength;
          this.#phase = this.#bodyLeft === 0 ? START : BODY;
        }
        return;
      default:
        if (--this.#bodyLeft === 0) this.#phase = START;
    }
  }

  /** Takes bytes[from, to): body bytes in one step, header bytes one by one. */
  feed(bytes: Uint8Array, from = 0, to = bytes.length): void {
    let index = from;
    while (index < to) {
      if (this.#phase === BODY) {
        const take = Math.min(this.#bodyLeft, to - index);
        index += take;
        this.#bodyLeft -= take;
        if (this.#bodyLeft === 0) this.#phase = START;
      } else {
        this.step(bytes[index++]);
      }
    }
  }

  /**
   * How many of these next bytes to let through so that the stream stops inside a packet:
   * the count nearest the middle, in [0, bytes.length), or -1 when every such stop is a
   * packet boundary. The framer itself does not move.
   */
  cutPoint(bytes: Uint8Array): number {
    const probe = this.copy();
    const middle = bytes.length >> 1;
    let best = -1;
    for (let count = 0; count < bytes.length; count++) {
      if (probe.#phase !== START) {
        if (count >= middle) return count;
        best = count;
      }
      probe.step(bytes[count]);
    }
    return best;
  }
}

/** A packet's fixed header: its remaining length and the index where its body starts. */
export interface FixedHeader {
  remainingLength: number;
  bodyStart: number;
}

/**
 * The fixed header of the packet at bytes[at], or undefined when its length field runs past
 * the bytes or past 4 bytes (the most section 2.2.3 allows).
 */
export function readFixedHeader(bytes: Uint8Array, at: number): FixedHeader | undefined {
  const framer = new PacketFramer();
  framer.step(bytes[at]);
  for (let offset = 1; offset <= 4; offset++) {
    if (at + offset >= bytes.length) return undefined;
    framer.step(bytes[at + offset]);
    if (!framer.inLengthField) return { remainingLength: framer.remainingLength, bodyStart: at + offset + 1 };
  }
  return undefined;
}

/**
 * Splits a byte stream into its packets (views into it, of the stream's own class, a Buffer
 * for a Buffer). A packet cut short by the stream's end comes last, as far as it goes.
 */
export function splitPackets<Bytes extends Uint8Array>(stream: Bytes): Bytes[] {
  const packets: Bytes[] = [];
  const framer = new PacketFramer();
  let start = 0;
  let index = 0;
  while (index < stream.length) {
    framer.step(stream[index++]);
    while (index < stream.length && framer.inLengthField) framer.step(stream[index++]);
    if (!framer.inLengthField) {
      const end = Math.min(stream.length, index + framer.remainingLength);
      framer.feed(stream, index, end);
      index = end;
    }
    packets.push(stream.subarray(start, index) as Bytes);
    start = index;
  }
  return packets;
}
