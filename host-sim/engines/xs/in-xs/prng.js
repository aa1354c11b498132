// mulberry32, a tiny seeded pseudo-random generator: the same seed gives the same sequence
// on every run and every machine, inside XS (the board's backoff jitter) and on Node (the
// simulated chips' noise). Plain JavaScript for both places; not for real randomness.

/** What each draw adds to the state. */
export const MULBERRY32_STEP = 0x6d2b79f5;

/**
 * The number in [0, 1) that a state gives once the draw has added MULBERRY32_STEP to it.
 * @param {number} state
 * @returns {number}
 */
export function mulberry32Value(state) {
  let mixed = Math.imul(state ^ (state >>> 15), state | 1);
  mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
  return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
}

/**
 * A function returning numbers in [0, 1), the same sequence for the same seed.
 * @param {number} seed
 * @returns {() => number}
 */
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => mulberry32Value(state = (state + MULBERRY32_STEP) >>> 0);
}
