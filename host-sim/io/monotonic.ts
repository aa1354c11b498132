/*
 * The simulator's monotonic clock: whole milliseconds since this process started. Timers
 * and the boards' `io.now` read it (the chips' day curves read chips/clock.ts's epoch time).
 * Whole numbers below 2^30 (about 12 days) are small integers to V8, kept inside the
 * objects that hold them, where Date.now() values would each take a separate heap number:
 * that matters for a fleet of thousands of boards. Node side only.
 */

/** Whole milliseconds since this process started. */
export function now(): number {
  return Math.floor(performance.now());
}
