// Fleet: N simulated boards (default 15,000) running the built firmware on the Node engine,
// spread over W worker processes (dist/simulator.mjs, startSimulator with `workers`),
// against a private mosquitto (bench/mosquitto.mjs: its own config file, a free 127.0.0.1
// port, max_connections -1, its open-file limit raised to what the fleet needs), then a
// comparison fleet of MQTT.js clients publishing the same load against the same broker.
// Each board publishes its two sensor states (QoS 0, retained) every 2 / rate seconds
// (sampleInterval = maxSilence: every sample publishes both), so `--rate` is messages per
// board per second.
// Steps: a baseline simulator of one board per worker (the workers' code, caches and one
// board: subtracted from the fleet's heap); the fleet starts and must be all online within
// ONLINE_TIMEOUT (start_seconds: from the start call to the last board online); it runs
// SETTLE_MS; then PUBLISH packets sent and CPU time (every worker and this process, which
// holds the boards' views) in WINDOW_MS give msgs_s and cpu_s_per_1k_msgs; forced GC in
// every worker, and heap per device = growth of (heapUsed + arrayBuffers) over the workers
// / boards beyond the baseline's (V8 counts resizable ArrayBuffers in neither: the client's
// three, resizable_per_device_kb, show only in the RSS; docs/scale.md). This process's own
// growth (the boards' views and their latest reports) is printed apart
// (parent_heap_per_device_kb). The fleet stops, then the
// MQTT.js fleet (in this process: it has one event loop, like one worker) connects, runs
// SETTLE_MS and is measured over the same window: its msgs per CPU-second against ours.
// Then the floor, as many plain sockets writing the same load encoded beforehand (no MQTT
// client: the write system calls and the loopback's delivery to the broker), measured the
// same way ("raw"): what no client can go below, ours and MQTT.js's against it (its heap per
// socket too, as MQTT.js's: a connected socket on a timer, the floor of a board's heap).
//
// Prints one JSON object:
//   {"bench":"fleet","devices":N,"workers":W,"all_online":true|false,"heap_per_device_kb":K,
//    "start_seconds":S,"msgs_s":R,"cpu_s_per_1k_msgs":C,"rate":..,"parent_heap_per_device_kb":..,
//    "rss_per_device_kb":..,"mqttjs":{"devices","msgs_s","cpu_s_per_1k_msgs","heap_per_device_kb"},
//    "msgs_per_cpu_s_vs_mqttjs":X,"raw":{"devices","msgs_s","cpu_s_per_1k_msgs","heap_per_device_kb"},"msgs_per_cpu_s_vs_raw":..,
//    "mqttjs_msgs_per_cpu_s_vs_raw":..,"client_buffer_bytes":{..},"resizable_per_device_kb":..,
//    "goal_kb":10,"goal_start_seconds":60}
// (resizable_per_device_kb: the bytes of a board's transmit buffer, its spare and its read
// chunk, the client's resizable buffers: not in heap_per_device_kb, see above)
// Options: --devices N, --workers W (default: the cores, at most one per board), --rate R
// (default 0.2), --mqttjs N (MQTT.js clients and plain sockets, default the boards per worker; 0: none),
// --window S (default two sample intervals, at least 10), --settle S, --firmware FILE
// (another build of the firmware bundle).
// Needs: this process's open-file limit at least devices / W plus room, and the hard limit
// at least the larger of devices and the MQTT.js clients, plus room (mosquitto holds one
// fleet at a time); it throws
// before starting anything otherwise. Its progress goes to stderr (bench/progress.mjs). It
// stops what it starts (boards gracefully, workers, MQTT.js clients, mosquitto), also after
// an error. Usage: npm run bench:fleet (builds dist/ first); the machine's both cores for
// about a minute and a half: run it alone.

import { createRequire } from "node:module";
import * as net from "node:net";
import { CLIENT_BUFFERS, defaultWorkers, openFileLimit, startSimulator } from "../dist/simulator.mjs";
import { startMosquitto } from "./mosquitto.mjs";
import { progress } from "./progress.mjs";

const require = createRequire(import.meta.url);
const mqtt = require("mqtt");
const mqttPacket = require("mqtt-packet");

const DEFAULT_DEVICES = 15_000;
const ONLINE_TIMEOUT_MS = 120_000;
const GOAL_KB = 10;
const GOAL_START_SECONDS = 60;
/** Open files beyond the boards': the runtime, pipes, the broker's listener. */
const SPARE_FILES = 500;

const args = process.argv.slice(2);
const text = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const option = (name, fallback) => (text(name) === undefined ? fallback : Number(text(name)));
const firmware = text("--firmware");
const devices = option("--devices", DEFAULT_DEVICES);
const workers = option("--workers", defaultWorkers(devices));
const rate = option("--rate", 0.2);
// as many as a worker runs boards: a fleet's CPU per message falls as more sockets share each
// wake-up of its event loop, so the comparison fleets run at a worker's density
const mqttjsDevices = option("--mqttjs", Math.ceil(devices / workers));
/** ms between a board's samples: each publishes its two sensor states. */
const interval = Math.round(2_000 / rate);
// the boards sample in step from their start: a window of whole intervals counts each once
const windowMs = option("--window", Math.max(10, 2 * Math.ceil(interval / 1000))) * 1000;
const settleMs = option("--settle", 10) * 1000;
if (!(Number.isInteger(devices) && devices >= 1)) throw new Error("--devices must be a whole number from 1");
if (!(Number.isInteger(workers) && workers >= 1)) throw new Error("--workers must be a whole number from 1");
if (!(rate > 0 && interval >= 20)) throw new Error("--rate must be above 0 and at most 100 (a board samples at most every 20 ms)");

const limit = openFileLimit(); // undefined off Linux: not checked
// (the fleets run one after the other: the broker holds one of them at a time)
const brokerFiles = Math.max(devices, mqttjsDevices) + SPARE_FILES;
if (limit !== undefined && limit < Math.max(Math.ceil(devices / workers), mqttjsDevices) + SPARE_FILES) {
  throw new Error(`the open-file limit (${limit}) is below what ${devices} boards over ${workers} workers need: lower --devices or add --workers`);
}
if (limit !== undefined && limit < brokerFiles) {
  throw new Error(`mosquitto needs ${brokerFiles} open files for ${devices} boards and ${mqttjsDevices} MQTT.js clients, and the limit is ${limit}: ` +
    "lower --devices or --mqttjs (only root can raise the hard limit, ulimit -Hn)");
}
await main();

async function main() {
  if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc (npm run bench:fleet does)");
  const broker = await startMosquitto({ config: ["max_connections -1"], openFiles: limit === undefined ? undefined : Math.min(limit, brokerFiles * 2) });
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const shown = progress("bench:fleet", mqttjsDevices > 0 ? 7 : 5);
  const config = { sampleInterval: interval, maxSilence: interval };
  let sim;
  let clients = [];
  try {
    shown.step(`baseline: ${workers} workers of one board`);
    const base = await startSimulator({ broker: url, devices: workers, workers, seed: 99, config: { ...config, nodeId: "baseline" }, firmware });
    await until(() => base.boards.every((b) => b.status === "online"), 20_000);
    await sleep(1_000);
    const baseHeap = sum(await base.measure(), heapOf);
    await base.stop();

    const parentBefore = measureHere();
    shown.step(`starting ${devices} boards in ${workers} workers`);
    const started = Date.now();
    sim = await startSimulator({ broker: url, devices, workers, config, firmware, onStarted: (n) => shown.update(`${n}/${devices} boards started`) });
    shown.step(`${devices} boards connecting`);
    const allOnline = await until(() => {
      const online = countOnline(sim);
      shown.update(`${online}/${devices} boards online`);
      return online === devices;
    }, ONLINE_TIMEOUT_MS);
    const startSeconds = (Date.now() - started) / 1000;
    shown.step(`settling for ${settleMs / 1000} s`);
    await sleep(settleMs);
    shown.step(`counting PUBLISH packets and CPU time for ${windowMs / 1000} s, then the heap`);
    const ours = await window(() => sent(sim), async () => sum(await sim.measure(false), (m) => m.cpu) + cpuHere());
    const measured = await sim.measure();
    const parentAfter = measureHere();
    const stillOnline = countOnline(sim);
    const bufferBytes = firmware === undefined ? await clientBuffers(url, sim.boards[0], CLIENT_BUFFERS) : undefined;
    await sim.stop();
    sim = undefined;

    /**
     * A comparison fleet of mqttjsDevices in this process (`label` in the progress), started
     * by `start(onConnected)`, settled, then measured over the window: its rates and its heap
     * per client.
     */
    const compare = async (label, start) => {
      const before = measureHere();
      clients = await start((n) => shown.update(`${label}: ${n}/${mqttjsDevices} connected`));
      await sleep(settleMs);
      const rates = await window(() => clients.sent, async () => cpuHere());
      const after = measureHere();
      return { devices: mqttjsDevices, ...rates, heap_per_device_kb: kb((heapOf(after) - heapOf(before)) / mqttjsDevices) };
    };
    let theirs;
    let floor;
    if (mqttjsDevices > 0) {
      shown.step(`MQTT.js: ${mqttjsDevices} clients, the same load`);
      theirs = await compare("MQTT.js", (onConnected) => mqttjsFleet(url, mqttjsDevices, interval, onConnected));
      await stopClients(clients);
      clients = [];

      shown.step(`the floor: ${mqttjsDevices} plain sockets writing pre-encoded packets, the same load`);
      floor = await compare("plain sockets", (onConnected) => rawFleet(broker.port, mqttjsDevices, interval, onConnected));
    }

    shown.clear();
    const boardsBeyondBase = Math.max(1, devices - workers);
    const perCpuSecond = (r) => 1000 / r.cpu_s_per_1k_msgs;
    console.log(JSON.stringify({
      bench: "fleet",
      devices,
      workers,
      all_online: allOnline && stillOnline === devices,
      heap_per_device_kb: kb((sum(measured, heapOf) - baseHeap) / boardsBeyondBase),
      start_seconds: round(startSeconds, 1),
      ...ours,
      rate,
      online_at_end: stillOnline,
      parent_heap_per_device_kb: kb((heapOf(parentAfter) - heapOf(parentBefore)) / devices),
      rss_per_device_kb: kb(sum(measured, (m) => m.rss) / devices),
      ...(theirs === undefined ? {} : { mqttjs: theirs, msgs_per_cpu_s_vs_mqttjs: round(perCpuSecond(ours) / perCpuSecond(theirs), 2) }),
      ...(floor === undefined ? {} : {
        raw: floor,
        msgs_per_cpu_s_vs_raw: round(perCpuSecond(ours) / perCpuSecond(floor), 2),
        mqttjs_msgs_per_cpu_s_vs_raw: round(perCpuSecond(theirs) / perCpuSecond(floor), 2),
      }),
      ...(bufferBytes === undefined ? { firmware } : {
        client_buffer_bytes: bufferBytes,
        // what heap_per_device_kb does not see: V8 keeps resizable ArrayBuffers out of arrayBuffers
        resizable_per_device_kb: kb(bufferBytes.transmit + bufferBytes.transmit_spare + bufferBytes.read_chunk),
      }),
      goal_kb: GOAL_KB,
      goal_start_seconds: GOAL_START_SECONDS,
    }));
  } finally {
    shown.clear();
    await stopClients(clients);
    if (sim !== undefined) await sim.stop();
    await broker.stop();
  }
}

/** Messages and CPU time over WINDOW_MS: msgs_s and cpu_s_per_1k_msgs. `cpu()` in µs. */
async function window(sentSoFar, cpu) {
  const sentBefore = sentSoFar();
  const cpuBefore = await cpu();
  const began = Date.now();
  await sleep(windowMs);
  // the CPU first: counting the fleet's messages reads every board's view in this process,
  // work of the bench's, not of the fleet's (the count at the start is outside the window too)
  const cpuAfter = await cpu();
  const seconds = (Date.now() - began) / 1000;
  const messages = sentSoFar() - sentBefore;
  const cpuSeconds = (cpuAfter - cpuBefore) / 1e6;
  return { msgs_s: Math.round(messages / seconds), cpu_s_per_1k_msgs: round(cpuSeconds / Math.max(1, messages / 1000), 4) };
}

/**
 * `count` MQTT.js clients (100 connecting at a time), each publishing two sensor states
 * like a board's (QoS 0, retained, JSON of the same size) every `interval` ms from a random
 * phase; `fleet.sent` counts the publishes handed to MQTT.js.
 */
async function mqttjsFleet(url, count, every, onConnected) {
  const fleet = [];
  fleet.sent = 0;
  for (let first = 0; first < count; first += 100) {
    const batch = [];
    for (let i = first; i < Math.min(count, first + 100); i++) {
      batch.push(mqtt.connectAsync(url, { clientId: `mqttjs-${i + 1}`, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 30_000 }).then((client) => {
        const base = `xs-mqtt/mqttjs-${i + 1}`;
        const publish = () => {
          const t = (20 + Math.random() * 5).toFixed(2);
          const h = (40 + Math.random() * 20).toFixed(1);
          client.publish(`${base}/climate/state`, `{"temperature":${t},"humidity":${h}}`, { qos: 0, retain: true });
          client.publish(`${base}/light/state`, `{"illuminance":${Math.round(Math.random() * 800)}}`, { qos: 0, retain: true });
          fleet.sent += 2;
        };
        schedule(client, publish, every);
        fleet.push(client);
      }));
    }
    await Promise.all(batch);
    onConnected(fleet.length);
  }
  return fleet;
}

/**
 * The floor of the same load: `count` plain TCP sockets (100 connecting at a time), each
 * sending a CONNECT, then, on a board's schedule, the two PUBLISH packets of a sample (QoS 0,
 * retained, payloads of a board's length) encoded once beforehand, in one write: what the
 * load costs with no MQTT client at all (the write system calls and the loopback's delivery
 * to the broker, in this process). `fleet.sent` counts the packets written.
 */
async function rawFleet(port, count, every, onConnected) {
  const fleet = [];
  fleet.sent = 0;
  for (let first = 0; first < count; first += 100) {
    const batch = [];
    for (let i = first; i < Math.min(count, first + 100); i++) batch.push(rawClient(port, `raw-${i + 1}`, every, fleet));
    await Promise.all(batch);
    onConnected(fleet.length);
  }
  return fleet;
}

/** One socket of rawFleet(), connected (CONNACK read) and on its schedule; an `endAsync()` as MQTT.js clients have. */
function rawClient(port, clientId, every, fleet) {
  const publish = (topic, payload) => mqttPacket.generate({ cmd: "publish", topic, payload: Buffer.from(payload), qos: 0, retain: true, dup: false });
  const base = `xs-mqtt/${clientId}`;
  const sample = Buffer.concat([
    publish(`${base}/climate/state`, '{"temperature":22.41,"humidity":51.3}'),
    publish(`${base}/light/state`, '{"illuminance":431}'),
  ]);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const client = {
      phase: undefined,
      timer: undefined,
      endAsync: () => new Promise((done) => {
        socket.end(mqttPacket.generate({ cmd: "disconnect" }), () => done());
        setTimeout(() => {
          socket.destroy();
          done();
        }, 2_000).unref();
      }),
    };
    socket.once("error", reject);
    socket.once("connect", () => socket.write(mqttPacket.generate({ cmd: "connect", clientId, protocolVersion: 4, keepalive: 0, clean: true })));
    socket.once("data", (data) => {
      if (data.length < 4 || data[0] !== 0x20 || data[3] !== 0) return reject(new Error(`${clientId}: no CONNACK accepting it`));
      socket.on("data", () => {});
      socket.on("error", () => {});
      schedule(client, () => {
        socket.write(sample);
        fleet.sent += 2;
      }, every);
      fleet.push(client);
      resolve(client);
    });
  });
}

/** Runs `sample` every `every` ms from a random phase, as a board samples (stopClients() stops it). */
function schedule(client, sample, every) {
  client.phase = setTimeout(() => {
    client.timer = setInterval(sample, every);
    sample();
  }, Math.random() * every);
}

async function stopClients(clients) {
  for (const client of clients) {
    clearTimeout(client.phase);
    clearInterval(client.timer);
  }
  await Promise.all(clients.map((client) => client.endAsync(true).catch(() => {})));
}

function heapOf(m) {
  return m.heapUsed + m.arrayBuffers;
}

function sum(list, of) {
  return list.reduce((total, item) => total + of(item), 0);
}

/** This process after forced collections. */
function measureHere() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  const usage = process.memoryUsage();
  return { heapUsed: usage.heapUsed, arrayBuffers: usage.arrayBuffers };
}

/** This process's CPU time so far, µs. */
function cpuHere() {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

function countOnline(sim) {
  let online = 0;
  for (const board of sim.boards) if (board.status === "online") online++;
  return online;
}

/** PUBLISH packets written by every board so far (as of the workers' latest reports). */
function sent(sim) {
  let total = 0;
  for (const board of sim.boards) total += board.stats.sent;
  return total;
}

function kb(bytes) {
  return round(bytes / 1024, 2);
}

function round(value, digits) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
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
