/*
 * Reproducible noise for the simulated chips: mulberry32 (its one copy is shared with the
 * code that runs inside XS) and normally distributed values from it. The same seed gives
 * the same sequence on every run and every machine. Not for real randomness. Node side only.
 */

import { MULBERRY32_STEP, mulberry32Value } from "../engines/xs/in-xs/prng.js";

/**
 * mulberry32's sequence, its state a field (no closure per generator: a fleet's boards have
 * two each), kept as a signed 32-bit integer: a small integer in V8 rather than a boxed
 * number (mulberry32Value reads only its 32 bits, so the sequence is the same).
 */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed | 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.#state = (this.#state + MULBERRY32_STEP) | 0;
    return mulberry32Value(this.#state);
  }

  /** A normally distributed number with mean 0 and the given standard deviation (Box-Muller). */
  gaussian(sigma: number): number {
    const radial = 1 - this.next(); // (0, 1]: log(0) never happens
    const angular = this.next();
    return sigma * Math.sqrt(-2 * Math.log(radial)) * Math.cos(2 * Math.PI * angular);
  }
}
