/*
 * The frames the Node host and the XS side of the bridge (in-xs/bridge.js) exchange: a
 * 2-byte big-endian header length, the header as JSON (it names its `service`), then the
 * body bytes. Node side only; pure functions, no IO.
 */

export interface FrameHeader {
  service: string;
  [key: string]: unknown;
}

export interface Frame {
  header: FrameHeader;
  /** The bytes after the header (a view: copy it to keep it). */
  body: Uint8Array;
}

export function encodeFrame(header: FrameHeader | Record<string, unknown>, body?: Uint8Array): Uint8Array {
  const head = Buffer.from(JSON.stringify(header), "utf8");
  if (head.length > 0xffff) throw new RangeError("bridge header too large");
  const out = new Uint8Array(2 + head.length + (body?.length ?? 0));
  out[0] = head.length >> 8;
  out[1] = head.length & 0xff;
  out.set(head, 2);
  if (body !== undefined) out.set(body, 2 + head.length);
  return out;
}

export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length < 2) throw new Error("bridge: a frame shorter than its header length");
  const headLength = (bytes[0] << 8) | bytes[1];
  if (2 + headLength > bytes.length) throw new Error("bridge: a frame shorter than its header");
  const header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 2, headLength).toString("utf8")) as FrameHeader;
  if (header === null || typeof header !== "object" || typeof header.service !== "string") {
    throw new Error("bridge: a frame header without a service");
  }
  return { header, body: bytes.subarray(2 + headLength) };
}
