// Netstrings (`<length>:<payload>,`), the framing of xsnap's pipes: splits the byte stream
// from a worker into payloads for harness.mjs. No IO of its own; throws on a malformed stream.

export /** Splits a byte stream into netstring payloads. */
class NetstringReader {
  /** @param {(message: Buffer) => void} onMessage */
  constructor(onMessage) {
    this.onMessage = onMessage;
    /** @type {Buffer[]} */
    this.chunks = [];
    this.buffered = 0;
    /** @type {number | undefined} */
    this.needed = undefined; // bytes of header + payload + ',' once the header is known
    /** @type {number} */
    this.headerLength = 0;
  }

  /** @param {Buffer} chunk */
  push(chunk) {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.needed === undefined) {
        const head = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
        this.chunks = [head];
        const colon = head.indexOf(0x3a);
        if (colon < 0) {
          if (head.length > 10) throw new Error("xsnap protocol error: netstring length prefix too long");
          return;
        }
        const length = Number(head.subarray(0, colon).toString("latin1"));
        if (!Number.isSafeInteger(length) || length < 0) throw new Error("xsnap protocol error: bad netstring length");
        this.headerLength = colon + 1;
        this.needed = colon + 1 + length + 1;
      }
      if (this.buffered < this.needed) return;
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      if (all[this.needed - 1] !== 0x2c) throw new Error("xsnap protocol error: netstring without trailing comma");
      const message = all.subarray(this.headerLength, this.needed - 1);
      const rest = all.subarray(this.needed);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.needed = undefined;
      this.onMessage(message);
      if (this.buffered === 0) return;
    }
  }
}
