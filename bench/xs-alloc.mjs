// Slots allocated per operation on the real XS engine (xsnap), for the codec, for the
// whole client in its steady state, and for one reading through the sensor-node firmware
// (dist/firmware.js): the cases and how they are measured live in
// bench/xs-alloc-cases.mjs (shared with test/xs-alloc.test.ts). Each case runs in an XS
// worker of its own, which is closed afterwards; Node itself only prints.
//
// Prints one JSON object per case:
//   {"bench":"xs-alloc","case":CASE,"slots_per_op":N}
// except firmware-idle, whose op is one simulated second of an idle connected board:
//   {"bench":"xs-alloc","case":"firmware-idle","slots_per_second":N}
// and, on stderr, a note for each case above its goal (the allocation targets).
// Usage: npm run bench:xs (builds dist/ first).

import { CASES, DEFAULT_N, GOALS, measureCase } from "./xs-alloc-cases.mjs";

let failed = false;
for (const name of /** @type {(keyof typeof CASES)[]} */ (Object.keys(CASES))) {
  try {
    const slots = await measureCase(name, DEFAULT_N);
    const figure = name === "firmware-idle" ? { slots_per_second: slots } : { slots_per_op: slots };
    console.log(JSON.stringify({ bench: "xs-alloc", case: name, ...figure }));
    if (slots > GOALS[name]) console.error(`xs-alloc: ${name} allocates ${slots} slots per op; the goal is at most ${GOALS[name]}`);
  } catch (error) {
    failed = true;
    console.error(`xs-alloc: ${name} could not be measured: ${/** @type {Error} */ (error).message}`);
  }
}
if (failed) process.exitCode = 1;
