// `npm run test:moddable`: the firmware on Moddable's own runtime. Builds manifests/lin with
// the installed SDK's mcconfig (release, `-t build`: the default target would `pkill mcsim`),
// runs the app in mcsim on a private Xvfb display against a mosquitto of its own on a free
// 127.0.0.1 port, and checks from the broker's side, with MQTT.js playing Home Assistant:
// birth, discovery, a relay command applied and echoed, the diagnostics (Moddable's Linux
// build has no Wi-Fi: uptime and the IP address, no RSSI) and the restart button (no
// System.restart() there: the firmware starts again in the app), reconnection after a broker
// restart, and the will after the app is killed. Then it reports what the build costs on the board:
// Moddable's alias count and the XS bytecode of the board and of the client alone.
// It needs an SDK the user installed ($MODDABLE, its tools on PATH); without one it says
// why it is skipped and exits 0. It never fetches or builds the SDK, listens only on
// loopback, bounds every wait, and stops every process it starts.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "../..");
const NODE = "moddable-check";
const PREFIX = "xs-mqtt";
const STATUS = `${PREFIX}/${NODE}/status`;
const RELAY_SET = `${PREFIX}/${NODE}/relay/set`;
const RELAY_STATE = `${PREFIX}/${NODE}/relay/state`;
const RELAY_CONFIG = `homeassistant/switch/${NODE}/${PREFIX}_relay/config`;
const DIAGNOSTICS = `${PREFIX}/${NODE}/diagnostics/state`;
const RESTART = `${PREFIX}/${NODE}/diagnostics/restart`;
const diagnosticConfig = (component, key) => `homeassistant/${component}/${NODE}/${PREFIX}_diagnostics_${key}/config`;
const WAIT_MS = 30_000;

const skip = whySkipped();
if (skip !== undefined) {
  console.log(`test:moddable: skipped: ${skip}`);
  process.exit(0);
}

const work = mkdtempSync(path.join(tmpdir(), "xs-mqtt-moddable-"));
const children = new Set();
const results = [];
let peer;
/** The app's mcsim process, once started. */
let app;

try {
  await main();
} catch (error) {
  const detail = error instanceof Error ? error.message : String(error);
  results.push({ name: "the run itself", ok: false, detail });
  console.log(`not ok - the run stopped: ${detail}`);
} finally {
  const traced = app === undefined ? "" : app.output.trim();
  if (traced !== "") console.log(`\nthe app's output (last lines):\n${traced.split("\n").slice(-25).join("\n")}`);
  await cleanUp();
}
const failed = results.filter((r) => !r.ok).length;
console.log(`\n${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

async function main() {
  const sdk = process.env.MODDABLE;
  const commit = gitCommit(sdk);
  console.log(`Moddable SDK: ${sdk}${commit ? ` (commit ${commit})` : ""}`);

  const port = await freePort();
  const mosquitto = await startMosquitto(port);
  console.log(`mosquitto on 127.0.0.1:${port}`);

  const out = path.join(work, "build");
  execFileSync("mkdir", ["-p", out]);
  progress("building manifests/lin with mcconfig (about 30 s)");
  const buildLog = run("mcconfig", [
    "-m", "-p", "lin", "-t", "build", "-o", out, path.join(root, "manifests/lin/manifest.json"),
    "broker=127.0.0.1", `port=${port}`, `node=${NODE}`,
  ]);
  const appFile = findFile(out, "mc.so");
  if (appFile === undefined) throw new Error("mcconfig built no mc.so:\n" + buildLog.slice(-2000));
  report(buildLog, out);

  peer = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: "home-assistant", reconnectPeriod: 200 });
  const seen = recorder(peer);
  await peer.subscribeAsync([`${PREFIX}/${NODE}/#`, `homeassistant/+/${NODE}/+/config`], { qos: 1 });

  const display = await startXvfb();
  progress(`starting the app in mcsim on display :${display}`);
  const mcsim = app = start("mcsim", [appFile], { env: { ...process.env, DISPLAY: `:${display}` } });

  await check("online: the board publishes its retained birth", () => seen.wait(STATUS, "online"));
  await check("discovery: the relay's retained config names its command and state topics and its origin; the manifest lists the relay and the diagnostics (no sensor runs here)", async () => {
    const config = JSON.parse(await seen.wait(RELAY_CONFIG));
    if (config.command_topic !== RELAY_SET || config.state_topic !== RELAY_STATE || config.origin?.name !== "xs-mqtt") throw new Error(JSON.stringify(config));
    await seen.wait(`${PREFIX}/${NODE}/discovery`,
      `switch/${PREFIX}_relay sensor/${PREFIX}_diagnostics_uptime sensor/${PREFIX}_diagnostics_ip button/${PREFIX}_diagnostics_restart`);
  });
  await check("relay: \"on\" (any letter case) on the command topic is applied and echoed as ON on the state topic", async () => {
    await seen.wait(RELAY_STATE, "OFF");
    const echoed = seen.next(RELAY_STATE, "ON");
    await peer.publishAsync(RELAY_SET, "on", { qos: 1 });
    await echoed;
  });
  await check("diagnostics: uptime and IP address as diagnostic sensors and a restart button; no Wi-Fi here, so no RSSI entity and rssi null; the IP is one of this host's (Net.get(\"IP\"))", async () => {
    const uptime = JSON.parse(await seen.wait(diagnosticConfig("sensor", "uptime")));
    const ip = JSON.parse(await seen.wait(diagnosticConfig("sensor", "ip")));
    const restart = JSON.parse(await seen.wait(diagnosticConfig("button", "restart")));
    if (uptime.entity_category !== "diagnostic" || uptime.device_class !== "duration" || uptime.unit_of_measurement !== "s") throw new Error(JSON.stringify(uptime));
    if (ip.entity_category !== "diagnostic" || ip.state_topic !== DIAGNOSTICS) throw new Error(JSON.stringify(ip));
    if (restart.command_topic !== RESTART || restart.payload_press !== "PRESS" || restart.device_class !== "restart") throw new Error(JSON.stringify(restart));
    const manifest = (await seen.wait(`${PREFIX}/${NODE}/discovery`)).split(" ");
    if (manifest.some((entry) => entry.endsWith("_diagnostics_rssi")) || !manifest.includes(`button/${PREFIX}_diagnostics_restart`)) throw new Error(manifest.join(" "));
    const state = JSON.parse(await seen.wait(DIAGNOSTICS));
    const hostAddresses = Object.values(networkInterfaces()).flat().filter((a) => a?.family === "IPv4").map((a) => a.address);
    if (!Number.isInteger(state.uptime) || state.rssi !== null || !hostAddresses.includes(state.ip)) throw new Error(JSON.stringify(state));
  });
  await check("restart button: \"PRESS\" takes the board offline (its own \"offline\", no will) and the firmware, started again, comes back online", async () => {
    const offline = seen.next(STATUS, "offline");
    const online = seen.next(STATUS, "online");
    await peer.publishAsync(RESTART, "PRESS", { qos: 1 });
    await offline;
    await online;
  });
  await check("reconnect: after the broker restarts, the board comes back online", async () => {
    const again = seen.next(STATUS, "online");
    await stop(mosquitto.process, "SIGTERM");
    progress("broker stopped; starting it again on the same port");
    await startMosquitto(port);
    await again;
  });
  await check("will: when the app is killed, the broker publishes offline", async () => {
    const offline = seen.next(STATUS, "offline");
    await stop(mcsim, "SIGKILL");
    await offline;
  });
}

/** undefined when an SDK is installed as Moddable users have it, else why not. */
function whySkipped() {
  if (process.platform !== "linux") return "Moddable's desktop target is checked on Linux only";
  const sdk = process.env.MODDABLE;
  if (!sdk) return "$MODDABLE is not set (install the Moddable SDK and its Linux tools: see docs/board.md)";
  if (!existsSync(path.join(sdk, "tools/mcconfig.js"))) return `$MODDABLE (${sdk}) is not a Moddable SDK`;
  for (const tool of ["mcconfig", "mcsim", "xsc"]) {
    if (!onPath(tool)) return `${tool} is not on PATH (add $MODDABLE/build/bin/lin/release)`;
  }
  if (!onPath("Xvfb")) return "Xvfb is not installed (Debian: apt-get install xvfb)";
  if (process.env.MOSQUITTO ? !existsSync(process.env.MOSQUITTO) : !onPath("mosquitto")) {
    return "mosquitto is neither on the PATH nor at $MOSQUITTO (Debian: apt-get install mosquitto)";
  }
  return undefined;
}

function onPath(tool) {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir !== "" && existsSync(path.join(dir, tool)));
}

function gitCommit(dir) {
  try {
    return execFileSync("git", ["-C", dir, "log", "-1", "--format=%H"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

/** The build's cost on the board: aliases, "no const" warnings, XS bytecode. */
function report(buildLog, out) {
  const xsC = findFile(out, "mc.xs.c");
  const aliases = xsC && /#define mxAliasCount (\d+)/.exec(readFileSync(xsC, "utf8"))?.[1];
  const noConst = buildLog.split("\n").filter((line) => line.includes(": no const")).length;
  const ours = buildLog.split("\n").filter((line) => line.startsWith("### warning: main"));
  const boardXsb = findFile(out, "main.xsb");
  const clientXsb = path.join(work, "xs-mqtt.xsb");
  run("xsc", ["-e", "-o", work, path.join(root, "dist/xs-mqtt.js")]);
  console.log(JSON.stringify({
    bench: "moddable-build",
    aliases: Number(aliases),
    no_const_warnings: noConst,
    board_warnings: ours.length,
    board_bytecode_bytes: boardXsb && statSync(boardXsb).size,
    client_bytecode_bytes: statSync(clientXsb).size,
  }));
  for (const line of ours.slice(0, 10)) console.log(line);
  if (ours.length > 10) console.log(`... and ${ours.length - 10} more warnings about the board's modules`);
}

/** Every message the peer receives, and waits for one (seen already, or the next). */
function recorder(client) {
  const latest = new Map();
  const waiters = new Set();
  client.on("message", (topic, payload) => {
    const text = payload.toString();
    latest.set(topic, text);
    for (const waiter of waiters) if (waiter.topic === topic && (waiter.payload === undefined || waiter.payload === text)) waiter.resolve(text);
  });
  const next = (topic, payload) => bounded(new Promise((resolve) => {
    const waiter = { topic, payload, resolve: (text) => { waiters.delete(waiter); resolve(text); } };
    waiters.add(waiter);
  }), `${topic}${payload === undefined ? "" : ` = ${payload}`}`);
  return {
    next,
    wait(topic, payload) {
      const text = latest.get(topic);
      if (text !== undefined && (payload === undefined || text === payload)) return Promise.resolve(text);
      return next(topic, payload);
    },
  };
}

function bounded(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS / 1000} s`)), WAIT_MS); });
  const bound = Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  // a wait made ahead (e.g. "online" after "offline") whose check already failed must not crash the run
  bound.catch(() => {});
  return bound;
}

async function check(name, body) {
  try {
    await body();
    results.push({ name, ok: true });
    console.log(`ok ${results.length} - ${name}`);
  } catch (error) {
    let detail = error instanceof Error ? error.message : String(error);
    if (app !== undefined && app.exitCode !== null) detail += ` (the app exited with ${app.exitCode}: ${app.output.trim().split("\n").slice(-3).join(" | ")})`;
    results.push({ name, ok: false, detail });
    console.log(`not ok ${results.length} - ${name}: ${detail}`);
  }
}

function progress(text) {
  console.log(`... ${text}`);
}

async function startMosquitto(port) {
  const config = path.join(work, "mosquitto.conf");
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const child = start(process.env.MOSQUITTO || "mosquitto", ["-c", config]);
  await bounded(waitForPort(port), `mosquitto listening on ${port}`);
  return { process: child };
}

async function waitForPort(port) {
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = new Socket();
      socket.once("connect", () => { socket.destroy(); resolve(true); });
      socket.once("error", () => resolve(false));
      socket.connect(port, "127.0.0.1");
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A private X display: Xvfb picks a free number and writes it on its stdout. */
async function startXvfb() {
  const xvfb = start("Xvfb", ["-displayfd", "1", "-nolisten", "tcp", "-screen", "0", "800x600x24"]);
  return bounded(new Promise((resolve) => {
    const poll = setInterval(() => {
      const number = /^(\d+)\n/.exec(xvfb.output)?.[1];
      if (number !== undefined) { clearInterval(poll); resolve(number); }
    }, 50);
  }), "Xvfb display");
}

/** Starts a process, keeping its output; every started process is stopped at the end. */
function start(command, args, options = {}) {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  child.output = "";
  child.stdout.on("data", (data) => { child.output += data; });
  child.stderr.on("data", (data) => { child.output += data; });
  child.exited = new Promise((resolve) => child.once("exit", resolve));
  children.add(child);
  return child;
}

async function stop(child, signal) {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  children.delete(child);
}

/** Runs a tool to its end; its output (stdout and stderr), or an error with it. */
function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (result.status !== 0) throw new Error(`${command} failed (${result.status ?? result.signal ?? result.error?.message}):\n${output.slice(-3000)}`);
  return output;
}

function findFile(dir, name) {
  for (const entry of readdirSync(dir, { recursive: true })) {
    if (path.basename(entry) === name) return path.join(dir, entry);
  }
  return undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function cleanUp() {
  if (peer !== undefined) await peer.endAsync(true).catch(() => {});
  for (const child of [...children].reverse()) await stop(child, "SIGTERM");
  rmSync(work, { recursive: true, force: true });
}
