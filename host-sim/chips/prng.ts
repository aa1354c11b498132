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
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A normally distributed number with mean 0 and the given standard deviation (Box-Muller). */
  gaussian(sigma: number): number {
    const u = 1 - this.next(); // (0, 1]: log(0) never happens
    const v = this.next();
    return sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
