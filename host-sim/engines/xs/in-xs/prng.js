// mulberry32, a tiny seeded pseudo-random generator: the same seed gives the same sequence
// on every run and every machine, inside XS (the board's backoff jitter) and on Node (the
// simulated chips' noise). Plain JavaScript for both places; not for real randomness.

/**
 * A function returning numbers in [0, 1), the same sequence for the same seed.
 * @param {number} seed
 * @returns {() => number}
 */
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    let mixed = (state = (state + 0x6d2b79f5) >>> 0);
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}
