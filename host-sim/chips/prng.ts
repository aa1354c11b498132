/*
 * A tiny seeded pseudo-random generator (mulberry32) for reproducible simulated noise:
 * the same seed gives the same sequence on every run and every machine. Not for anything
 * that needs real randomness. Node side only.
 */

export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    let mixed = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  }

  /** A normally distributed number with mean 0 and the given standard deviation (Box-Muller). */
  gaussian(sigma: number): number {
    const radial = 1 - this.next(); // (0, 1]: log(0) never happens
    const angular = this.next();
    return sigma * Math.sqrt(-2 * Math.log(radial)) * Math.cos(2 * Math.PI * angular);
  }
}
