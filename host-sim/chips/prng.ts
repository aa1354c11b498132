/*
 * Reproducible noise for the simulated chips: mulberry32 (the one copy, shared with the
 * code that runs inside XS) and normally distributed values from it. The same seed gives
 * the same sequence on every run and every machine. Not for real randomness. Node side only.
 */

import { mulberry32 } from "../engines/xs/in-xs/prng.js";

export class Prng {
  readonly #next: () => number;

  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }

  /** A number in [0, 1). */
  next(): number {
    return this.#next();
  }

  /** A normally distributed number with mean 0 and the given standard deviation (Box-Muller). */
  gaussian(sigma: number): number {
    const radial = 1 - this.next(); // (0, 1]: log(0) never happens
    const angular = this.next();
    return sigma * Math.sqrt(-2 * Math.log(radial)) * Math.cos(2 * Math.PI * angular);
  }
}
