// Dashboard overhead: what the web dashboard costs the simulator's process, against what
// the boards themselves cost. N simulated boards (default 5,000) on the Node engine in this
// process (dist/simulator.mjs) against a private mosquitto (bench/mosquitto.mjs, 127.0.0.1);
// once all are online and settled, this process's CPU time (user + system,
// process.cpuUsage) is measured over WINDOW seconds without a dashboard, then with the
// dashboard (dist/dashboard.mjs, on 127.0.0.1) and one page's feed open: a child process
// reads its Server-Sent Events as a browser would, with a board chosen (its message log
// subscribed, its readings sent every frame), so its own parsing is not counted here. The
// two are alternated ROUNDS times (the boards' load drifts with their sampling).
//
// Prints one JSON object:
//   {"bench":"dashboard","devices":N,"all_online":true,"boards_cpu_pct":..,"with_dashboard_cpu_pct":..,
//    "difference_pct":..,"ticks_cpu_pct":..,"overhead_pct":..,"goal_pct":10,"frames":..,"frame_bytes":..,"window_s":..}
// where *_cpu_pct is CPU time / wall time of this process (100 = one core); difference_pct
// = (with - without) / without (noisy on a shared machine: the boards' load drifts);
// ticks_cpu_pct the time the dashboard itself spent on its ticks (sampling the fleet, every
// frame built and written: dashboard.busyMs) per wall time; overhead_pct = ticks_cpu_pct /
// boards_cpu_pct, the dashboard's cost as a share of the boards' own.
// Options: --devices N, --window S (default 20), --rounds R (default 2), --tick MS (the
// dashboard's frame interval, default its own 1000).
// Progress goes to stderr. It stops what it starts (the child, the dashboard, the boards,
// mosquitto), also after an error.
// Usage: npm run bench:dashboard (builds dist/ first); the machine should be otherwise idle.

import { spawn } from "node:child_process";
import { startDashboard, simulatorSource } from "../dist/dashboard.mjs";
import { openFileLimit, startSimulator } from "../dist/simulator.mjs";
import { startMosquitto } from "./mosquitto.mjs";
import { progress } from "./progress.mjs";

const GOAL_PCT = 10;
const ONLINE_TIMEOUT_MS = 180_000;
const SETTLE_MS = 15_000;

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const devices = option("--devices", 5_000);
const windowMs = option("--window", 20) * 1000;
const rounds = option("--rounds", 2);
const tickMs = option("--tick", undefined);

const limit = openFileLimit();
if (limit !== undefined && limit < devices + 1_000) {
  throw new Error(`the open-file limit (${limit}) is below the ${devices + 1_000} that ${devices} boards need: lower --devices`);
}

/** The page's part, in a child: reads the feed, chooses board-1, counts frames and bytes; prints them on SIGTERM. */
const READER = `
const url = process.argv[1];
let frames = 0, bytes = 0, chosen = false;
const response = await fetch(url + "events");
const decoder = new TextDecoder();
let text = "";
process.on("SIGTERM", () => { process.stdout.write(JSON.stringify({ frames, bytes })); process.exit(0); });
for await (const chunk of response.body) {
  bytes += chunk.length;
  text += decoder.decode(chunk, { stream: true });
  let end;
  while ((end = text.indexOf("\\n\\n")) >= 0) {
    const event = text.slice(0, end);
    text = text.slice(end + 2);
    if (event.startsWith("event: hello") && !chosen) {
      chosen = true;
      const hello = JSON.parse(event.slice(event.indexOf("data: ") + 6));
      await fetch(url + "api/view", { method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ client: hello.client, board: "board-1", page: 0, filter: "", status: "" }) });
    } else if (event.startsWith("data: ")) {
      JSON.parse(event.slice(6));
      frames++;
    }
  }
}`;

const broker = await startMosquitto({ config: ["max_connections -1"] });
const shown = progress("bench:dashboard", 3 + 2 * rounds);
let sim;
try {
  shown.step(`starting ${devices} boards`);
  sim = await startSimulator({ broker: `mqtt://127.0.0.1:${broker.port}`, devices, onStarted: (n) => shown.update(`${n}/${devices} started`) });
  shown.step(`${devices} boards connecting`);
  const allOnline = await until(() => sim.boards.every((b) => b.status === "online"), ONLINE_TIMEOUT_MS);
  shown.step(`settling for ${SETTLE_MS / 1000} s`);
  await sleep(SETTLE_MS);
  const without = [];
  const withDashboard = [];
  const ticks = [];
  let reads = { frames: 0, bytes: 0 };
  for (let round = 1; round <= rounds; round++) {
    shown.step(`round ${round}/${rounds}: ${windowMs / 1000} s without a dashboard`);
    without.push(await cpu(windowMs));
    shown.step(`round ${round}/${rounds}: ${windowMs / 1000} s with the dashboard and a page open`);
    const dashboard = await startDashboard({ source: simulatorSource(sim), tickMs });
    const reader = spawn(process.execPath, ["--input-type=module", "-e", READER, dashboard.url], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    reader.stdout.on("data", (chunk) => (out += chunk));
    const readerDone = new Promise((resolve) => reader.once("close", resolve));
    try {
      await sleep(2_000); // the page connected, its board chosen
      const busy = dashboard.busyMs;
      const began = performance.now();
      withDashboard.push(await cpu(windowMs));
      ticks.push(((dashboard.busyMs - busy) / (performance.now() - began)) * 100);
    } finally {
      reader.kill("SIGTERM");
      await readerDone;
      await dashboard.close();
    }
    const counted = JSON.parse(out || '{"frames":0,"bytes":0}');
    reads = { frames: reads.frames + counted.frames, bytes: reads.bytes + counted.bytes };
  }
  const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
  const boards = mean(without);
  const dashboard = mean(withDashboard);
  shown.clear();
  console.log(JSON.stringify({
    bench: "dashboard",
    devices,
    all_online: allOnline,
    boards_cpu_pct: round1(boards),
    with_dashboard_cpu_pct: round1(dashboard),
    difference_pct: round1(((dashboard - boards) / boards) * 100),
    ticks_cpu_pct: round2(mean(ticks)),
    overhead_pct: round1((mean(ticks) / boards) * 100),
    goal_pct: GOAL_PCT,
    frames: reads.frames,
    frame_bytes: reads.frames === 0 ? 0 : Math.round(reads.bytes / reads.frames),
    window_s: windowMs / 1000,
    rounds,
  }));
} finally {
  shown.clear();
  if (sim !== undefined) await sim.stop();
  await broker.stop();
}

/** This process's CPU time over `ms` of wall time, as a percentage of one core. */
async function cpu(ms) {
  const before = process.cpuUsage();
  const began = performance.now();
  await sleep(ms);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) / 1000 / (performance.now() - began)) * 100;
}

function round2(value) {
  return Math.round(value * 100) / 100;
}

function round1(value) {
  return Math.round(value * 10) / 10;
}

async function until(condition, timeout) {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
  return true;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
