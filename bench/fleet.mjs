// Fleet: N simulated boards (default 5,000) running the built firmware on the Node engine,
// all in this one process (dist/simulator.mjs, startSimulator), against a private
// mosquitto (bench/mosquitto.mjs: its own config file, a free 127.0.0.1 port,
// max_connections -1). This process and mosquitto (which inherits its limits) each hold an
// open file per board: when this process's open-file limit (openFileLimit() from
// dist/simulator.mjs; Node has already raised its soft limit to the hard one) is below
// what N boards need, it throws before starting anything (lower --devices).
// Steps: a few boards are started and stopped first (code and caches warm); forced GC
// (node --expose-gc) and a baseline; the fleet starts (100 boards at a time) and must be
// all online within ONLINE_TIMEOUT; it runs SETTLE_MS (discovery and first readings done);
// then the PUBLISH packets the boards send in WINDOW_MS give msgs_s; forced GC again.
// heap per device = growth of (heapUsed + arrayBuffers) / N, so the boards' preallocated
// buffers count; the JS heap and ArrayBuffer parts, RSS, and what one board's MQTT client
// preallocates (from its resolved configuration, as the firmware sizes it) are printed too.
//
// Prints one JSON object:
//   {"bench":"fleet","devices":N,"all_online":true|false,"heap_per_device_kb":K,"msgs_s":R,
//    "online_s":..,"js_heap_per_device_kb":..,"array_buffers_per_device_kb":..,
//    "rss_per_device_kb":..,"client_buffer_bytes":{..},"goal_kb":16}
// (client_buffer_bytes describes dist/firmware.js as built from device/app/firmware.ts; it is
// left out with --firmware.)
// Options: --devices N, --window S, --settle S, --firmware FILE (another build of the
// firmware bundle, e.g. one with other client buffer sizes; default dist/firmware.js).
// Its progress goes to stderr (bench/progress.mjs). It stops what it starts: the boards
// (gracefully), then mosquitto, also after an error.
// Usage: npm run bench:fleet (builds dist/ first).

import { createRequire } from "node:module";
import { CLIENT_BUFFERS, openFileLimit, startSimulator } from "../dist/simulator.mjs";
import { startMosquitto } from "./mosquitto.mjs";
import { progress } from "./progress.mjs";

const DEFAULT_DEVICES = 5_000;
const WARMUP_DEVICES = 20;
const ONLINE_TIMEOUT_MS = 120_000;
const GOAL_KB = 16;

const args = process.argv.slice(2);
const text = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const option = (name, fallback) => (text(name) === undefined ? fallback : Number(text(name)));
const firmware = text("--firmware");
const devices = option("--devices", DEFAULT_DEVICES);
const windowMs = option("--window", 10) * 1000;
const settleMs = option("--settle", 10) * 1000;

// file descriptors: one per board here, one per board in mosquitto, plus room for the runtime
const needed = devices + 1_000;
const limit = openFileLimit(); // undefined off Linux: not checked
if (limit !== undefined && limit < needed) {
  throw new Error(`the open-file limit (${limit}) is below the ${needed} that ${devices} boards need: lower --devices ` +
    "(only root can raise the hard limit, ulimit -Hn)");
}
await main();

async function main() {
  if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc (npm run bench:fleet does)");
  const broker = await startMosquitto({ config: ["max_connections -1"] });
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const shown = progress("bench:fleet", 5);
  let sim;
  try {
    shown.step(`warm-up: ${WARMUP_DEVICES} boards`);
    const warm = await startSimulator({ broker: url, devices: WARMUP_DEVICES, seed: 99, config: { nodeId: "warmup" }, firmware });
    await until(() => warm.boards.every((b) => b.status === "online"), 20_000);
    await warm.stop();

    const before = measure();
    const started = Date.now();
    shown.step(`starting ${devices} boards`);
    sim = await startSimulator({ broker: url, devices, firmware, onStarted: (started) => shown.update(`${started}/${devices} boards started`) });
    shown.step(`${devices} boards connecting`);
    const allOnline = await until(() => {
      const online = sim.boards.filter((b) => b.status === "online").length;
      shown.update(`${online}/${devices} boards online`);
      return online === devices;
    }, ONLINE_TIMEOUT_MS);
    const onlineSeconds = (Date.now() - started) / 1000;
    shown.step(`settling for ${settleMs / 1000} s (discovery, first readings)`);
    await sleep(settleMs);
    shown.step(`counting PUBLISH packets for ${windowMs / 1000} s, then the heap`);
    const sentBefore = sent(sim);
    const windowStart = Date.now();
    await sleep(windowMs);
    const msgsPerSecond = (sent(sim) - sentBefore) / ((Date.now() - windowStart) / 1000);
    const after = measure();
    const stillOnline = sim.boards.filter((b) => b.status === "online").length;

    shown.clear();
    const kb = (bytes) => Math.round((bytes / 1024) * 100) / 100;
    const per = (key) => kb((after[key] - before[key]) / devices);
    console.log(JSON.stringify({
      bench: "fleet",
      devices,
      all_online: allOnline && stillOnline === devices,
      heap_per_device_kb: kb((after.heap - before.heap) / devices),
      msgs_s: Math.round(msgsPerSecond),
      online_s: Math.round(onlineSeconds * 10) / 10,
      online_at_end: stillOnline,
      js_heap_per_device_kb: per("heapUsed"),
      array_buffers_per_device_kb: per("arrayBuffers"),
      rss_per_device_kb: per("rss"),
      ...(firmware === undefined ? { client_buffer_bytes: await clientBuffers(url, sim.boards[0], CLIENT_BUFFERS) } : { firmware }),
      goal_kb: GOAL_KB,
    }));
  } finally {
    shown.clear();
    if (sim !== undefined) await sim.stop();
    await broker.stop();
  }
}

/** heapUsed + arrayBuffers (and the parts, and RSS) after forced collections. */
function measure() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed + usage.arrayBuffers, heapUsed: usage.heapUsed, arrayBuffers: usage.arrayBuffers, rss: usage.rss };
}

/** PUBLISH packets written by every board so far. */
function sent(sim) {
  let total = 0;
  for (const board of sim.boards) total += board.messages.sent;
  return total;
}

/**
 * What one board's MQTT client preallocates, bytes, as device/app/sizing.ts sizes it from
 * the simulator's CLIENT_BUFFERS (each raised to what the board needs): a transmit buffer
 * of max(transmit, largest PUBLISH + 16 (the client's reserve) + 64 (staging room)) and its
 * spare of min(transmit, 256); an outbox of
 * max(outbox, largest PUBLISH); a receive buffer of max(receive, 2 + longest command topic
 * + 2 + 32) and a read chunk of min(receive + 5, 256) (the client's sizes as of this
 * writing). The largest PUBLISH (a discovery config) is read back retained from the broker.
 */
async function clientBuffers(url, board, buffers) {
  const mqtt = createRequire(import.meta.url)("mqtt");
  const peer = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });
  const config = board.config;
  const node = `${config.prefix}/${board.id}`;
  let largest = 0;
  try {
    peer.on("message", (topic, payload, packet) => {
      // a QoS 1 PUBLISH: fixed header (1 byte and the remaining length's), topic length, topic, packet id, payload
      const remaining = 2 + Buffer.byteLength(topic) + 2 + payload.length;
      if (packet.retain) largest = Math.max(largest, 1 + (remaining < 128 ? 1 : remaining < 16_384 ? 2 : 3) + remaining);
    });
    await peer.subscribeAsync([`${config.discoveryPrefix}/+/${board.id}/+/config`, `${node}/#`], { qos: 1 });
    await sleep(500);
  } finally {
    await peer.endAsync(true);
  }
  const transmit = Math.max(buffers.transmit, largest + 16 + 64);
  const spare = Math.min(transmit, 256);
  const outbox = Math.max(buffers.outbox, largest);
  let longest = 0;
  for (const a of config.actuators) longest = Math.max(longest, Buffer.byteLength(`${node}/${a.id}/set`));
  const receive = Math.max(buffers.receive, 2 + longest + 2 + 32);
  const chunk = Math.min(receive + 5, 256);
  return {
    largest_publish: largest,
    transmit,
    transmit_spare: spare,
    outbox,
    receive,
    read_chunk: chunk,
    total: transmit + spare + outbox + receive + chunk,
  };
}

async function until(condition, timeout) {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
