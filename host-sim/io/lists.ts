/*
 * Small lists of the simulator's per-board state (open sockets, pins in use, log lines),
 * kept at their exact length: an array grown by push() gets room for 17 elements in V8,
 * which a fleet of thousands of boards pays for thousands of times. These lists hold a
 * few items and change rarely, so a change makes a new array. Pure functions; Node side
 * only.
 */

/**
 * The empty list: one array for every list that is empty (a new empty array costs a fleet
 * one header per board). Frozen: the lists are never changed in place.
 */
export const EMPTY: readonly never[] = Object.freeze([]);

/** `list` with `item` appended (the oldest dropped past `max` items), as a new array of exactly that length. */
export function withItem<T>(list: readonly T[], item: T, max = Infinity): readonly T[] {
  const from = Math.max(0, list.length + 1 - max);
  const out = new Array<T>(list.length - from + 1);
  for (let i = from; i < list.length; i++) out[i - from] = list[i];
  out[list.length - from] = item;
  return out;
}

/** `list` without the first occurrence of `item` (the same array when it has none). */
export function withoutItem<T>(list: readonly T[], item: T): readonly T[] {
  const at = list.indexOf(item);
  return at < 0 ? list : withoutAt(list, at);
}

/** `list` without its item at index `at`, as a new array of exactly that length (EMPTY when none is left). */
export function withoutAt<T>(list: readonly T[], at: number): readonly T[] {
  if (list.length === 1) return EMPTY;
  const out = new Array<T>(list.length - 1);
  for (let i = 0, j = 0; i < list.length; i++) if (i !== at) out[j++] = list[i];
  return out;
}

/** Adds `listener` to `listeners`; returns a function that removes it again. */
export function addListener<T>(listeners: T[], listener: T): () => void {
  listeners.push(listener);
  return () => {
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  };
}
