/*
 * The byte buffers ECMA-419 IO takes (an ArrayBuffer, a SharedArrayBuffer or any view) as
 * a Uint8Array over the same memory, for the simulated IO classes. Pure; Node side only.
 */

export type ByteBuffer = ArrayBuffer | SharedArrayBuffer | ArrayBufferView;

/** A Uint8Array over the buffer's bytes (no copy); TypeError for anything else. */
export function bytesOf(buffer: ByteBuffer): Uint8Array {
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buffer instanceof ArrayBuffer || buffer instanceof SharedArrayBuffer) return new Uint8Array(buffer);
  throw new TypeError("invalid buffer");
}
