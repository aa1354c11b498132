/*
 * The seeded generator of the tests (xorshift32): tiny, fast, and the same seed gives the
 * same sequence on Node and inside XS, so a fuzz run or a random chunking replays from its
 * seed. Plain JS with no Node API (the vector runner is bundled into XS). Not for simulated
 * sensor noise (host-sim's mulberry32 does that) nor for anything that needs real randomness.
 */

export class Rng {
  #state: number;

  /** Seed 0 would stay 0 for ever, so it starts from a fixed odd constant instead. */
  constructor(seed: number) {
    this.#state = (seed >>> 0) || 0x9e3779b9;
  }

  /** The next 32-bit value, 0 .. 2^32 - 1. */
  u32(): number {
    let state = this.#state;
    state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
    return (this.#state = state >>> 0);
  }

  /** 0 .. count-1 */
  below(count: number): number {
    return this.u32() % count;
  }

  /** low .. high inclusive */
  int(low: number, high: number): number {
    return low + this.below(high - low + 1);
  }

  /** True with probability `probability`. */
  chance(probability: number): boolean {
    return this.u32() < probability * 4_294_967_296;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.below(list.length)];
  }
}
