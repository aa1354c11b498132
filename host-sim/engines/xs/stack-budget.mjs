// The board's XS stack budget inside an xsnap worker (used by harness.mjs): how many padding
// slots put a callback that runs inside xsnap (4,096 stack slots, xsnap-worker.c's
// stackCount, not settable) where it would run on a board whose manifest gives XS
// `creation.stack` slots. It measures xsnap once (kept in the temporary folder for the same
// worker binary and prelude) and must not keep a worker running after the measurement, nor
// start one when the budget is switched off.
//
// The model (XS's frame layout: xsAll.h mxThis..mxArgv, xsRun.c XS_CODE_RUN_ALL, xsAPI.c
// fxBeginHost, fxCall and fxCloneMachine; every push is checked, so an overflow is exact to
// the slot and, in xsnap as on a board, it aborts: xsnap's worker exits with code 12):
// - A board's machine is a clone of the preloaded one: its stack holds 13 machine slots
//   (global, exception, program, hosts, module queue, jobs, inspectors; the intrinsics stay
//   in the preparation). A callback comes from C inside xsBeginHost (7 slots: this, function,
//   target, result, frame, count, var) through xsCallFunction1/0: BOARD_ENTRY = 20 slots are
//   in use when the callback's own frame (this, function, target, result, frame, count, its
//   arguments, its environment and locals) starts: that frame and all below it get
//   `stack - 20` slots (492 of 512).
// - In xsnap, a delivery's callbacks are queued by the bridge and each is called, with
//   Function.prototype.call, from the bottom of a padding call whose arguments are the
//   padding (one slot each), always from the same depth (harness-prelude.mjs, deliver).
//   `reach` is the most padding with which an empty one-argument callback (8 slots, the
//   frame above with one argument and no locals) still runs: measured here by letting a
//   worker overflow (a binary search, each overflow costing a worker). With padding
//   `reach + 8 - (stack - 20)`, the callback's frame and all below it get `stack - 20` slots,
//   as on the board.
// - Evaluated scripts (XsWorker.evaluate: main() and the tests' calls into the client) run
//   from the same padding through indirect eval: eval's host frame and the script's frame
//   (about 15 slots) count against them, which a board's start-up does not have.

import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Slots in use on a board when a callback's frame starts (13 machine slots + xsBeginHost's 7). */
export const BOARD_ENTRY = 20;
/** Slots an empty one-argument callback's frame takes (this, function, target, result, frame, count, argument, environment). */
export const EMPTY_CALLBACK = 8;

/** The board's budget: creation.stack of manifests/esp32/manifest.json (manifests/lin's is kept equal by test/manifests.test.ts). */
export const BOARD_STACK = (() => {
  try {
    // from host-sim/engines/xs/ in the repository, or from dist/ once bundled
    for (const candidate of ["../../../manifests/esp32/manifest.json", "../manifests/esp32/manifest.json"]) {
      const file = fileURLToPath(new URL(candidate, import.meta.url));
      if (!existsSync(file)) continue;
      const stack = JSON.parse(readFileSync(file, "utf8")).creation?.stack;
      if (Number.isInteger(stack) && stack > BOARD_ENTRY) return stack;
    }
  } catch {
    // an unreadable manifest: the manifests' figure below
  }
  // outside the repository (the published simulator has no manifests)
  return 512;
})();

/** @type {Promise<number> | undefined} */
let measured;

/** Where measured reaches are kept between processes, by what they depend on (the worker binary and the prelude). */
const CACHE = path.join(tmpdir(), "xs-mqtt-xsnap-stack.json");

/** @param {string} key @returns {number | undefined} */
function cached(key) {
  try {
    const value = JSON.parse(readFileSync(CACHE, "utf8"))[key];
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Measures kept at most (one per checkout and xsnap build): the newest. */
const CACHE_ENTRIES = 8;

/** @param {string} key @param {number} value */
function keep(key, value) {
  try {
    /** @type {Record<string, number>} */
    let known = {};
    try {
      const parsed = JSON.parse(readFileSync(CACHE, "utf8"));
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) known = parsed;
    } catch {
      // none yet, or unreadable: this one alone
    }
    delete known[key];
    const entries = [...Object.entries(known), [key, value]].slice(-CACHE_ENTRIES);
    const temporary = `${CACHE}.${process.pid}`;
    writeFileSync(temporary, JSON.stringify(Object.fromEntries(entries)));
    renameSync(temporary, CACHE);
  } catch {
    // a read-only temporary folder: measured again next time
  }
}

/**
 * The most padding with which an empty callback still runs in xsnap (see above), measured
 * once with throwaway workers, then kept for this process and, under `key`, for later ones.
 * @param {string} key names what the reach depends on: the worker binary (path, size, time)
 *   and the prelude's source
 * @param {(probe: number) => Promise<boolean>} runs tells, in a worker without a budget,
 *   whether a delivery with `probe` padding slots ran (false: the worker overflowed)
 * @param {() => Promise<void>} done stops the probes' worker
 * @returns {Promise<number>}
 */
export function reach(key, runs, done) {
  const hash = createHash("sha256").update(key).digest("hex");
  measured ??= (async () => {
    const known = cached(hash);
    if (known !== undefined) return known;
    let low = 0; // runs
    let high = 4096; // overflows: the whole of xsnap's stack
    try {
      if (!(await runs(low))) throw new Error("the XS stack model: an empty callback overflows without padding");
      while (high - low > 1) {
        const middle = (low + high) >> 1;
        if (await runs(middle)) low = middle;
        else high = middle;
      }
    } finally {
      await done();
    }
    keep(hash, low);
    return low;
  })();
  measured.catch(() => { measured = undefined; });
  return measured;
}

/**
 * The padding that leaves a callback `stack` slots as a board's would, from `reachSlots`.
 * @param {number} reachSlots @param {number} stack
 */
export function paddingFor(reachSlots, stack) {
  if (!Number.isInteger(stack) || stack <= BOARD_ENTRY + EMPTY_CALLBACK) throw new RangeError(`stack must be a whole number of slots above ${BOARD_ENTRY + EMPTY_CALLBACK}, not ${stack}`);
  const padding = reachSlots + EMPTY_CALLBACK - (stack - BOARD_ENTRY);
  if (padding < 0) throw new RangeError(`a stack of ${stack} slots is more than xsnap's worker can give a callback (${reachSlots + EMPTY_CALLBACK + BOARD_ENTRY})`);
  return padding;
}
