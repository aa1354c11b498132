// Wake: a board in battery mode (device/app/battery.ts) on a link with 50 ms of round-trip
// time, in the simulator (dist/simulator.mjs, Node engine, embedded aedes broker on
// 127.0.0.1; the latency is the board link's own, host-sim/io/network.ts: the TCP handshake
// takes one RTT, every byte half of one each way). One climate sensor (SHT3x: its first
// measurement 15 ms after the wake), discovery off, maxSilence = the sleep interval so that
// every wake publishes. Two runs in this process, one after the other:
//   pipelined  CONNECT and the QoS 1 PUBLISH in one write (sleep.pipeline true, the default)
//   plain      CONNECT, wait for the CONNACK, PUBLISH, wait for the PUBACK (sleep.pipeline false)
// Each run lets the board wake WAKES times and takes the median of the wakes after the
// first (the first one starts the retained memory): awake_ms from the wake to the deep
// sleep, mqtt_round_trips the times the board waited for an answer on its link (the TCP
// handshake is not counted: it is not MQTT's); sensor_wait_ms is the part of awake_ms spent
// waiting for the SHT3x's first measurement (the driver's firstSampleAfter, not measured).
// Prints one JSON object per run, then the comparison:
//   {"bench":"wake","mode":"pipelined"|"plain","rtt_ms":50,"mqtt_round_trips":N,"awake_ms":M,"sensor_wait_ms":S,"wakes":K}
//   {"bench":"wake","mode":"ratio","rtt_ms":50,"awake_ratio_plain_to_pipelined":R,
//    "pipelined_goal_ms":G,"pipelined_within_goal":true|false}
// where G = 1.3 x (one RTT + the TCP handshake's RTT): the goal for the pipelined wake.
// Options: --rtt MS (default 50), --wakes N (default 6). Every wait is bounded; each
// simulator (its board, the broker) is stopped, also after an error.
// Usage: npm run bench:wake (builds dist/ first).

import { startSimulator } from "../dist/simulator.mjs";
import { climateSensor } from "../dist/firmware.js";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const RTT = option("--rtt", 50);
const WAKES = option("--wakes", 6);
if (!Number.isInteger(RTT) || RTT < 1 || RTT > 1_000) throw new Error("--rtt must be a whole number of ms from 1 to 1000");
if (!Number.isInteger(WAKES) || WAKES < 2 || WAKES > 50) throw new Error("--wakes must be a whole number from 2 to 50");
const INTERVAL = 1_000;
/** The bound on one run: its wakes, and slack for the first (its retained memory is new). */
const RUN_TIMEOUT_MS = (WAKES + 5) * INTERVAL + 10_000;
/** The SHT3x driver's first measurement, ms after the wake (device/drivers/sht3x.ts, high repeatability). */
const SENSOR_WAIT_MS = 15;

const pipelined = await run("pipelined", true);
const plain = await run("plain", false);
const goal = 1.3 * (RTT + RTT);
print({
  bench: "wake", mode: "ratio", rtt_ms: RTT,
  awake_ratio_plain_to_pipelined: round(plain.awake_ms / pipelined.awake_ms),
  pipelined_goal_ms: round(goal),
  pipelined_within_goal: pipelined.mqtt_round_trips === 1 && pipelined.awake_ms <= goal,
});

async function run(mode, pipeline) {
  const sim = await startSimulator({
    devices: 1,
    rtt: RTT,
    config: {
      sensors: [climateSensor(0x44)],
      discovery: false,
      maxSilence: INTERVAL,
      sleep: { interval: INTERVAL, pipeline },
    },
  });
  try {
    const board = sim.boards[0];
    const until = Date.now() + RUN_TIMEOUT_MS;
    while (board.wakes.length < WAKES) {
      if (Date.now() > until) throw new Error(`${mode}: ${board.wakes.length} of ${WAKES} wakes within ${RUN_TIMEOUT_MS} ms`);
      if (board.status === "aborted") throw new Error(`${mode}: the board aborted: ${board.abortError?.message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const steady = board.wakes.slice(1, WAKES);
    const result = {
      bench: "wake", mode, rtt_ms: RTT,
      mqtt_round_trips: median(steady.map((cycle) => cycle.roundTrips)),
      awake_ms: round(median(steady.map((cycle) => cycle.awakeMs))),
      sensor_wait_ms: SENSOR_WAIT_MS,
      wakes: steady.length,
    };
    print(result);
    return result;
  } finally {
    await sim.stop();
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function round(value) {
  return Math.round(value * 10) / 10;
}

function print(object) {
  process.stdout.write(JSON.stringify(object) + "\n");
}
