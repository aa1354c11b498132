/*
 * Writing JSON text straight into byte buffers as ASCII: fixed-point numbers and null.
 * Used on the publish path of every reading, so these functions allocate nothing: they
 * work on numbers and the caller's Uint8Array only. Besides, asciiBytes() encodes a string
 * at set-up.
 */

const ZERO = 0x30;
const MINUS = 0x2d;
const DOT = 0x2e;
/** What typeof says of a number, made once (in XS a string literal is a new string each time it runs). */
export const NUMBER = "number";

/** Powers of ten for 0 to 6 decimals. */
export const POWERS_OF_TEN = Object.freeze([1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]);

/** The largest scaled value written exactly (2^53). */
const MAX_SCALED = 9_007_199_254_740_992;

/** Most bytes writeScaled() writes: a sign, 16 digits, a dot and 6 decimals. */
export const MAX_NUMBER_BYTES = 24;

/**
 * `value` rounded to `decimals` places (half away from zero), as a whole number of
 * 10^-decimals units; NaN when it is not finite or too large to write exactly.
 */
export function scale(given: unknown, decimals: number): number {
  if (typeof given !== NUMBER) return NaN;
  const value = given as number;
  const magnitude = Math.round(Math.abs(value) * POWERS_OF_TEN[decimals]);
  if (!(magnitude < MAX_SCALED)) return NaN; // also NaN and Infinity
  return value < 0 && magnitude !== 0 ? -magnitude : magnitude;
}

/**
 * Writes a scaled whole number (see scale()) with exactly `decimals` digits after the
 * point, e.g. (2153, 2) -> "21.53", (-5, 1) -> "-0.5", (7, 0) -> "7"; NaN writes "null".
 * Returns the offset after the last byte written. The caller makes sure that
 * MAX_NUMBER_BYTES fit.
 */
export function writeScaled(out: Uint8Array, at: number, scaled: number, decimals: number): number {
  if (scaled !== scaled) return writeNull(out, at);
  let magnitude = scaled;
  if (scaled < 0) {
    out[at++] = MINUS;
    magnitude = -scaled;
  }
  const unit = POWERS_OF_TEN[decimals];
  let whole = Math.floor(magnitude / unit);
  let fraction = magnitude - whole * unit;
  let digits = 1;
  for (let limit = 10; limit <= whole; limit *= 10) digits++;
  for (let i = at + digits - 1; i >= at; i--) {
    const next = Math.floor(whole / 10);
    out[i] = ZERO + (whole - next * 10);
    whole = next;
  }
  at += digits;
  if (decimals === 0) return at;
  out[at++] = DOT;
  for (let i = at + decimals - 1; i >= at; i--) {
    const next = Math.floor(fraction / 10);
    out[i] = ZERO + (fraction - next * 10);
    fraction = next;
  }
  return at + decimals;
}

/** Writes "null"; returns the offset after it. */
function writeNull(out: Uint8Array, at: number): number {
  out[at] = 0x6e;
  out[at + 1] = 0x75;
  out[at + 2] = 0x6c;
  out[at + 3] = 0x6c;
  return at + 4;
}

/** The bytes of an ASCII string (set-up only: allocates). */
export function asciiBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
