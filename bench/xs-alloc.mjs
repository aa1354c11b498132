// Slots allocated per operation on the real XS engine (xsnap), for the codec, for the
// whole client in its steady state, and for one reading through the sensor-node firmware
// (dist/firmware.js); and the chunk bytes (string and buffer contents) of an idle connected
// board. The cases and how they are measured live in bench/xs-alloc-cases.mjs (shared with
// test/xs-alloc.test.ts); the chunk probe is chunkBytesPerOp in
// host-sim/engines/xs/chunk-probe.mjs (its header says how it measures). Each
// measurement runs in an XS worker of its own, which is closed afterwards; Node only prints.
//
// Prints one JSON object per case:
//   {"bench":"xs-alloc","case":CASE,"slots_per_op":N}
// with, for the client's publish cases (publish-qos0, publish-qos1-acked: QoS 1 with its
// PUBACK), "computrons_per_op": C, XS's compute meter per op (xsnap counts the instructions
// XS runs: the CPU a publish costs on a board, in the engine's own unit; measureCompute);
// except firmware-idle, whose op is one simulated second of an idle connected board:
//   {"bench":"xs-alloc","case":"firmware-idle","slots_per_second":N,"chunk_bytes_per_second":M}
// M is the chunk heap (string and buffer contents, XS's 16-byte chunk headers included)
// taken per simulated second over IDLE_SECONDS simulated seconds, exact to within
// CHUNK_RESOLUTION bytes over the whole run. Then one line per positive control of that
// measurement (the idle board plus a loop making a known number of chunk bytes):
//   {"bench":"xs-alloc","case":"chunk-control-NAME","chunk_bytes_per_second":M,"expected":E}
// and, on stderr, a note for each figure above its goal or control off its expected value.
// Usage: npm run bench:xs (builds dist/ first).

import {
  CASES, CHUNK_GOALS, CHUNK_RESOLUTION, CONTROLS, DEFAULT_N, GOALS, IDLE_SECONDS, measureCase, measureChunks, measureCompute, measureControl,
} from "./xs-alloc-cases.mjs";

/** The cases whose XS compute meter is printed too: the client's publish paths. */
const COMPUTE_CASES = ["publish-qos0", "publish-qos1-acked"];

let failed = false;
/** @param {string} what @param {() => Promise<void>} measure */
async function attempt(what, measure) {
  try {
    await measure();
  } catch (error) {
    failed = true;
    console.error(`xs-alloc: ${what} could not be measured: ${/** @type {Error} */ (error).message}`);
  }
}

for (const name of /** @type {(keyof typeof CASES)[]} */ (Object.keys(CASES))) {
  await attempt(name, async () => {
    // a failed join waits out the backoff (up to 60 s: 240 ticks) each time: fewer ops
    const slots = await measureCase(name, name === "firmware-rejoin" ? 100 : DEFAULT_N);
    if (name === "firmware-idle") {
      const chunks = await measureChunks(name, IDLE_SECONDS);
      console.log(JSON.stringify({ bench: "xs-alloc", case: name, slots_per_second: slots, chunk_bytes_per_second: chunks }));
      if (chunks > CHUNK_GOALS[name]) console.error(`xs-alloc: ${name} allocates ${chunks} chunk bytes per second; the goal is at most ${CHUNK_GOALS[name]}`);
    } else if (COMPUTE_CASES.includes(name)) {
      const compute = await measureCompute(name);
      console.log(JSON.stringify({ bench: "xs-alloc", case: name, slots_per_op: slots, computrons_per_op: compute }));
    } else {
      console.log(JSON.stringify({ bench: "xs-alloc", case: name, slots_per_op: slots }));
    }
    if (slots > GOALS[name]) console.error(`xs-alloc: ${name} allocates ${slots} slots per op; the goal is at most ${GOALS[name]}`);
  });
}
for (const name of /** @type {(keyof typeof CONTROLS)[]} */ (Object.keys(CONTROLS))) {
  await attempt(`chunk-control-${name}`, async () => {
    const chunks = await measureControl(name, IDLE_SECONDS);
    const expected = CONTROLS[name].expected;
    console.log(JSON.stringify({ bench: "xs-alloc", case: `chunk-control-${name}`, chunk_bytes_per_second: chunks, expected }));
    if (Math.abs(chunks - expected) > CHUNK_RESOLUTION / IDLE_SECONDS) {
      failed = true;
      console.error(`xs-alloc: the chunk control ${name} read ${chunks} bytes per second, not ${expected}: the chunk figures are not to be trusted`);
    }
  });
}
if (failed) process.exitCode = 1;
