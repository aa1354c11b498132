// Memory per idle connected client: N clients of ours (MqttClient from dist/xs-mqtt.js on
// the host simulator's IO, default buffer sizes) in one child process, then N MQTT.js 5
// clients in another child process, so that neither disturbs the other, all connected to
// one private mosquitto (max_connections -1). In each child: a few clients are connected
// and closed first (code and caches warm), then a forced GC (node --expose-gc) and a
// baseline; then N clients connect (100 at a time) and stay idle; then a forced GC again.
// heap per client = growth of (heapUsed + arrayBuffers) / N, so preallocated buffers count;
// the two parts and RSS are printed too. Node 20 leaves resizable ArrayBuffers out of
// arrayBuffers (V8 reserves them itself): our client's transmit buffer and its spare
// (2 x transmitBufferSize, 2 KB by default) show only in RSS, so ours is low by that much.
//
// Prints one JSON object:
//   {"bench":"memory","clients":N,"ours_heap_per_client_kb":A,"mqttjs_heap_per_client_kb":B,
//    "ours_js_heap_per_client_kb":.., "ours_array_buffers_per_client_kb":.., "ours_rss_per_client_kb":..,
//    (the same three for mqttjs), "ratio": A/B}
// Optional: --clients N (default 2,000); --ours-options '{"outboxBytes":1024}' (client
// options for ours, to see what other default sizes would give).
//
// Sockets: only to 127.0.0.1, to the mosquitto this bench starts (bench/mosquitto.mjs, its
// own config file, a free port). A child and mosquitto each hold an open file per client;
// both inherit this process's open-file limit (Node has already raised its soft limit to
// the hard one): when that limit (openFileLimit() from dist/simulator.mjs) is below what N
// clients need, it throws before starting anything (lower --clients). It stops what it
// starts: each child closes its clients and exits; mosquitto is stopped in a finally block
// (and an exit hook), also after an error.
// Usage: npm run bench:memory (builds dist/ first).

import { spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const DEFAULT_CLIENTS = 2_000;
const WARMUP_CLIENTS = 20;
const BATCH = 100;
const CONNECT_TIMEOUT_MS = 60_000;
const CHILD_TIMEOUT_MS = 120_000;

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};

if (args[0] === "--child") {
  await child(args[1], Number(args[2]), Number(args[3]), args[4], JSON.parse(args[5]));
  process.exit(0);
} else {
  await main();
}

// ---------------------------------------------------------------- the parent

async function main() {
  const clients = Number(option("--clients", DEFAULT_CLIENTS));
  const oursOptions = option("--ours-options", "{}");
  JSON.parse(oursOptions); // fail early on a typo
  const { startMosquitto } = await import("./mosquitto.mjs");
  const { loadHostIo } = await import("./host-io.mjs");
  const { openFileLimit } = await import("../dist/simulator.mjs");

  // file descriptors: one per client (in a child, and in mosquitto), plus room for the runtime
  const needed = clients + 500;
  const limit = openFileLimit(); // undefined off Linux: not checked
  if (limit !== undefined && limit < needed) {
    throw new Error(`the open-file limit (${limit}) is below the ${needed} that ${clients} clients need: lower --clients ` +
      "(only root can raise the hard limit, ulimit -Hn)");
  }

  const broker = await startMosquitto({ config: ["max_connections -1"] });
  try {
    await loadHostIo(broker.dir); // bundled once here; the child imports the same file
    const ours = await runChild("ours", broker.port, clients, broker.dir, oursOptions);
    const mqttjs = await runChild("mqttjs", broker.port, clients, broker.dir, "{}");
    const kb = (x) => Math.round((x / 1024) * 100) / 100;
    const line = {
      bench: "memory", clients,
      ours_heap_per_client_kb: kb(ours.heap / clients),
      mqttjs_heap_per_client_kb: kb(mqttjs.heap / clients),
      ours_js_heap_per_client_kb: kb(ours.heapUsed / clients),
      ours_array_buffers_per_client_kb: kb(ours.arrayBuffers / clients),
      ours_rss_per_client_kb: kb(ours.rss / clients),
      mqttjs_js_heap_per_client_kb: kb(mqttjs.heapUsed / clients),
      mqttjs_array_buffers_per_client_kb: kb(mqttjs.arrayBuffers / clients),
      mqttjs_rss_per_client_kb: kb(mqttjs.rss / clients),
      ratio: Math.round((ours.heap / mqttjs.heap) * 100) / 100,
    };
    if (oursOptions !== "{}") line.ours_options = JSON.parse(oursOptions);
    console.log(JSON.stringify(line));
  } finally {
    await broker.stop();
  }
}

/** Runs one side in its own process; resolves with the growth figures it prints. */
async function runChild(side, port, clients, dir, options) {
  const child = spawn(process.execPath, ["--expose-gc", self, "--child", side, String(port), String(clients), dir, options],
    { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
  const [code] = await once(child, "exit");
  clearTimeout(timer);
  if (code !== 0) throw new Error(`the ${side} child failed (exit ${code}): ${out}`);
  return JSON.parse(out.trim().split("\n").pop());
}

// ---------------------------------------------------------------- a child: one side

async function child(side, port, clients, dir, options) {
  if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
  let open; // (id) => Promise that resolves once that client is connected; returns a closer
  if (side === "ours") {
    const { MqttClient } = await import("../dist/xs-mqtt.js");
    const { hostIo } = await import(pathToFileURL(`${dir}/host-io.mjs`).href);
    const io = hostIo();
    open = (id) => new Promise((resolve, reject) => {
      const client = new MqttClient({
        host: "127.0.0.1", port, clientId: id, io, keepAlive: 60, ...options,
        onConnected: () => resolve(() => client.close()),
        onError: (e) => reject(e),
      });
      client.connect();
    });
  } else {
    const mqtt = createRequire(import.meta.url)("mqtt");
    open = (id) => new Promise((resolve, reject) => {
      const client = mqtt.connect({ host: "127.0.0.1", port, clientId: id, keepalive: 60, protocolVersion: 4 });
      client.once("connect", () => resolve(() => client.end(true)));
      client.once("error", reject);
    });
  }
  const connectAll = async (count, prefix) => {
    const closers = new Array(count);
    const deadline = Date.now() + CONNECT_TIMEOUT_MS;
    for (let i = 0; i < count; i += BATCH) {
      const batch = [];
      for (let k = i; k < Math.min(count, i + BATCH); k++) batch.push(open(`${prefix}-${k}`).then((c) => { closers[k] = c; }));
      await Promise.all(batch);
      if (Date.now() > deadline) throw new Error(`${side}: connecting took over ${CONNECT_TIMEOUT_MS} ms`);
    }
    return closers;
  };
  const settle = async () => {
    for (let k = 0; k < 4; k++) {
      await new Promise((r) => setTimeout(r, 100));
      globalThis.gc();
    }
  };

  for (const close of await connectAll(WARMUP_CLIENTS, `${side}-warm`)) close();
  await new Promise((r) => setTimeout(r, 500));
  await settle();
  const before = process.memoryUsage();
  const closers = await connectAll(clients, `${side}-idle`);
  await new Promise((r) => setTimeout(r, 1000)); // idle: keepalive timers tick, nothing else
  await settle();
  const after = process.memoryUsage();
  const heapUsed = after.heapUsed - before.heapUsed;
  const arrayBuffers = after.arrayBuffers - before.arrayBuffers;
  console.log(JSON.stringify({
    side, clients, heap: heapUsed + arrayBuffers, heapUsed, arrayBuffers, rss: after.rss - before.rss,
  }));
  for (const close of closers) close();
  await new Promise((r) => setTimeout(r, 200));
}
