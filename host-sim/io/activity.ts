/*
 * Each simulated board's activity count, in one Int32Array for the whole process: it grows
 * whenever something may have changed what a report of the board says (a callback its IO
 * delivered, a request from outside, a status change, its Wi-Fi station). A report stream
 * (shards/reports.ts) compares these dense counts to pass over the boards that did nothing
 * since its last look, rather than reading each board's objects every half second. Boards
 * without a slot (-1: inside XS) are always looked at. Node side only.
 */

let counts = new Int32Array(1024);
let used = 0;

/** A new board's slot (never reused: a fleet's boards live as long as the process, near enough). */
export function activitySlot(): number {
  if (used === counts.length) {
    const grown = new Int32Array(counts.length * 2);
    grown.set(counts);
    counts = grown;
  }
  return used++;
}

/** Something happened on the board with `slot` (nothing for -1). */
export function markActivity(slot: number): void {
  if (slot >= 0) counts[slot] = (counts[slot] + 1) | 0;
}

/** The board's count so far (it only changes, so a different value means activity). */
export function activityOf(slot: number): number {
  return counts[slot];
}
