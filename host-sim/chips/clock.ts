/*
 * Simulated time for the simulated chips: a time source is a function returning
 * milliseconds (Date.now by default), and the hour of the day the chips' curves follow.
 * ManualClock is one that a test steps by hand, so measurement times and day curves are
 * reproducible. Node side only.
 */

/** Milliseconds since the epoch, like Date.now. */
export type TimeSource = () => number;

/** The hour of the day (UTC, fractional, 0 to 24) at a time in ms since the epoch. */
export function hourOfDay(ms: number): number {
  return (((ms / 3_600_000) % 24) + 24) % 24;
}

export class ManualClock {
  #ms: number;

  /** Starts at `start` ms since the epoch; default 2026-06-01 12:00 UTC. */
  constructor(start: number = Date.UTC(2026, 5, 1, 12)) {
    this.#ms = start;
  }

  /** The time source to hand to chips: bound, so it can be passed around alone. */
  readonly now: TimeSource = () => this.#ms;

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError("ManualClock: time only moves forward");
    this.#ms += ms;
  }

  set(ms: number): void {
    if (!(ms >= this.#ms)) throw new RangeError("ManualClock: time only moves forward");
    this.#ms = ms;
  }
}
