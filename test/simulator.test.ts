/*
 * The host simulator end to end (issue "Device runtime and host simulator", items 6-8),
 * through exactly its library API (startSimulator, sim.boards[i], sim.waitForMessage,
 * sim.stop) against a real mosquitto, with an MQTT.js peer playing Home Assistant: the
 * boards run the BUILT firmware bundle (dist/firmware.js; `npm test` builds it first) on
 * Node and inside real XS. Also the CLI (dist/sim.mjs) as CI would run it, and the built
 * device bundles checked for anything Node-only. Every wait is bounded; every simulator,
 * peer, broker and child process is stopped in afterEach/afterAll.
 */

import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LED_PIN, RELAY_PIN, startSimulator } from "../host-sim/simulator.js";
import type { Engine, SimBoard, Simulator, SimulatorOptions } from "../host-sim/simulator.js";
import { makeCa, makeServerCert, tlsListenerConfig } from "./brokers/certs.js";
import { connectPeer, freePort, sleep, waitFor } from "./brokers/helpers.js";
import type { Peer, PeerMessage } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";

const root = join(import.meta.dirname, "..");
const BUILT = ["dist/xs-mqtt.js", "dist/firmware.js", "dist/sim.mjs"];

beforeAll(() => {
  const missing = BUILT.filter((file) => !existsSync(join(root, file)));
  if (missing.length > 0) throw new Error(`${missing.join(", ")} missing: run npm run build (npm test does it first)`);
});

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => stopAllMosquittos());

let mosquitto: Mosquitto;
beforeAll(async () => {
  mosquitto = await Mosquitto.start();
});

async function simulate(options: SimulatorOptions): Promise<Simulator> {
  const sim = await startSimulator({ broker: `mqtt://127.0.0.1:${mosquitto.port}`, ...options });
  cleanups.push(() => sim.stop());
  return sim;
}

/** Home Assistant: an MQTT.js client subscribed to `filters` (on `port`), recording what it receives. */
async function homeAssistant(filters: string[], port = mosquitto.port): Promise<Peer> {
  const peer = await connectPeer(port);
  cleanups.push(() => peer.client.endAsync(true));
  if (filters.length > 0) await peer.client.subscribeAsync(filters, { qos: 1 });
  return peer;
}

function online(sim: Simulator, board: SimBoard, timeout = 10_000) {
  return sim.waitForMessage(board.topics.status, { timeout, predicate: (m) => m.payload === "online" });
}

/**
 * The retained messages on `filter`, once `count` topics have them. A board paces its
 * burst after a connect on the broker's acknowledgements, so a subscriber may see some of
 * it live (retain flag clear) rather than retained: one subscriber waits until it has seen
 * `count` topics either way, then a fresh one gets what the broker retains (waiting for
 * `count`, then a little longer for extras).
 */
async function retainedOn(filter: string, count: number, port = mosquitto.port): Promise<Map<string, PeerMessage>> {
  const watcher = await homeAssistant([filter], port);
  await waitFor(() => new Set(watcher.messages.map((m) => m.topic)).size >= count, `${count} topics published on ${filter}`, 10_000);
  const peer = await homeAssistant([filter], port);
  const retained = () => peer.messages.filter((m) => m.retain);
  await waitFor(() => retained().length >= count, `${count} retained messages on ${filter}`, 10_000);
  await sleep(200);
  return new Map(retained().map((m) => [m.topic, m]));
}

/** The JSON object in a message, e.g. a sensor state. */
function json(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}

/** Connect, readings, ON/OFF: the scenario both engines must pass. */
function basicScenario(engine: Engine) {
  it("comes online and publishes readings that match the simulated chips", async () => {
    const sim = await simulate({ engine, devices: 1, seed: 7 });
    const board = sim.boards[0];
    expect(board.id).toBe("board-1");
    await online(sim, board);
    await waitFor(() => board.status === "online", "board-1 online");

    const climateWait = sim.waitForMessage(board.topics.state("climate"), {
      timeout: 10_000,
      predicate: (m) => json(m.payload).temperature === 23.45,
    });
    const lightWait = sim.waitForMessage(board.topics.state("light"), {
      timeout: 10_000,
      predicate: (m) => json(m.payload).illuminance === 321,
    });
    await Promise.all([climateWait.subscribed, lightWait.subscribed]);
    board.chip("sht3x").set({ temperature: 23.45, humidity: 51.2 });
    board.chip("bh1750").set({ illuminance: 321 });
    const climate = await climateWait;
    expect(json(climate.payload)).toEqual({ temperature: 23.45, humidity: 51.2 });
    expect(climate.retain).toBe(false);
    const light = await lightWait;
    expect(json(light.payload)).toEqual({ illuminance: 321 });
    await waitFor(() => board.readings.find((r) => r.key === "illuminance")?.value === 321, "the board's own readings to show 321 lx", 2_000);
    expect(board.readings.map((r) => [r.sensor, r.key, r.value])).toEqual([
      ["climate", "temperature", 23.45], ["climate", "humidity", 51.2], ["light", "illuminance", 321],
    ]);
  });

  it("drives the relay and LED pins on ON/OFF and keeps their state retained", async () => {
    const sim = await simulate({ engine, devices: 1 });
    const board = sim.boards[0];
    await online(sim, board);
    const ha = await homeAssistant([]);
    expect(board.pin(RELAY_PIN)).toBe(0);

    const relayOn = sim.waitForMessage(board.topics.state("relay"), { predicate: (m) => m.payload === "ON" });
    await relayOn.subscribed;
    await ha.client.publishAsync(board.topics.command("relay"), "ON", { qos: 1 });
    await relayOn;
    await waitFor(() => board.pin(RELAY_PIN) === 1, "the relay pin high");
    expect((await retainedOn(board.topics.state("relay"), 1)).get(board.topics.state("relay"))?.payload.toString()).toBe("ON");
    await waitFor(() => board.actuators.find((a) => a.id === "relay")?.state === "ON", "the board to report the relay ON", 2_000);

    const ledOn = sim.waitForMessage(board.topics.state("led"), { predicate: (m) => m.payload === "ON" });
    await ledOn.subscribed;
    await ha.client.publishAsync(board.topics.command("led"), "ON", { qos: 1 });
    await ledOn;
    await waitFor(() => board.pin(LED_PIN) === 1, "the LED pin high");

    const relayOff = sim.waitForMessage(board.topics.state("relay"), { predicate: (m) => m.payload === "OFF" });
    await relayOff.subscribed;
    await ha.client.publishAsync(board.topics.command("relay"), "OFF", { qos: 1 });
    await relayOff;
    await waitFor(() => board.pin(RELAY_PIN) === 0, "the relay pin low");
    expect(board.pin(LED_PIN)).toBe(1);
    expect((await retainedOn(board.topics.state("relay"), 1)).get(board.topics.state("relay"))?.payload.toString()).toBe("OFF");
  });
}

describe("simulator on the Node engine, against mosquitto", () => {
  basicScenario("node");

  it("publishes well-formed Home Assistant discovery configs, retained, for every board", async () => {
    const sim = await simulate({ devices: 2 });
    await Promise.all(sim.boards.map((board) => online(sim, board)));
    // per board: 3 readings, 2 actuators, and 4 diagnostic entities (test/wifi.test.ts, test/firmware.diagnostics.test.ts)
    const configs = await retainedOn("homeassistant/#", 18);
    expect(configs.size).toBe(18);
    for (const board of sim.boards) {
      const id = board.id;
      const device = { identifiers: [`xs-mqtt_${id}`], name: `Simulated board ${board.number}` };
      for (const [sensor, key, unit, deviceClass] of [
        ["climate", "temperature", "°C", "temperature"], ["climate", "humidity", "%", "humidity"], ["light", "illuminance", "lx", "illuminance"],
      ]) {
        const message = configs.get(`homeassistant/sensor/${id}/xs-mqtt_${sensor}_${key}/config`);
        expect(message, `${id} ${key} config`).toBeDefined();
        expect(message!.qos).toBe(1);
        expect(json(message!.payload.toString())).toMatchObject({
          unique_id: `xs-mqtt_${id}_${sensor}_${key}`,
          state_topic: `xs-mqtt/${id}/${sensor}/state`,
          value_template: `{{ value_json.${key} }}`,
          unit_of_measurement: unit,
          device_class: deviceClass,
          availability_topic: `xs-mqtt/${id}/status`,
          payload_available: "online",
          payload_not_available: "offline",
          device,
        });
      }
      for (const [actuator, component] of [["relay", "switch"], ["led", "light"]]) {
        const message = configs.get(`homeassistant/${component}/${id}/xs-mqtt_${actuator}/config`);
        expect(message, `${id} ${actuator} config`).toBeDefined();
        expect(json(message!.payload.toString())).toMatchObject({
          unique_id: `xs-mqtt_${id}_${actuator}`,
          command_topic: `xs-mqtt/${id}/${actuator}/set`,
          state_topic: `xs-mqtt/${id}/${actuator}/state`,
          payload_on: "ON",
          payload_off: "OFF",
          availability_topic: `xs-mqtt/${id}/status`,
          device,
        });
      }
    }
  });

  it("reports its start progress batch by batch, and every board of a larger fleet comes online", async () => {
    const progress: [number, number][] = [];
    // topics of their own (no discovery), apart from what the other tests count
    const config = { nodeId: "batch", prefix: "batch", discovery: false };
    const sim = await simulate({ devices: 150, config, onStarted: (started, total) => progress.push([started, total]) });
    expect(progress).toEqual([[100, 150], [150, 150]]);
    await waitFor(() => sim.boards.every((board) => board.status === "online"), "150 boards online", 20_000);
  });

  it("gives each board its own seeded chips: the same seed, the same values", async () => {
    const firstRun = await simulate({ devices: 2, seed: 42 });
    const first = [firstRun.boards[0].chip("sht3x").environment(0), firstRun.boards[1].chip("sht3x").environment(0)];
    expect(first[0]).not.toEqual(first[1]);
    await firstRun.stop();
    const secondRun = await simulate({ devices: 2, seed: 42 });
    expect([secondRun.boards[0].chip("sht3x").environment(0), secondRun.boards[1].chip("sht3x").environment(0)]).toEqual(first);
  });

  it("comes back online after a broker restart and publishes its state again", async () => {
    const broker = await Mosquitto.start(); // a broker of this test's own, without persistence
    cleanups.push(() => broker.close());
    const sim = await startSimulator({ broker: `mqtt://127.0.0.1:${broker.port}`, devices: 1 });
    cleanups.push(() => sim.stop());
    const board = sim.boards[0];
    await online(sim, board);
    const relayOn = sim.waitForMessage(board.topics.state("relay"), { predicate: (m) => m.payload === "ON" });
    await relayOn.subscribed;
    expect(await board.setActuator("relay", true)).toBe(true);
    await relayOn;

    await broker.stop();
    await waitFor(() => board.status === "offline", "the board to see the broker gone", 10_000);
    await broker.start(); // empty: the retained messages were lost with it
    await waitFor(() => board.status === "online", "the board back online", 30_000);
    // the broker lost everything: what it retains now the board published again
    expect((await retainedOn("homeassistant/#", 9, broker.port)).size).toBe(9); // 5 entities, 4 diagnostic
    const retained = async (topic: string) => (await retainedOn(topic, 1, broker.port)).get(topic)?.payload.toString();
    expect(await retained(board.topics.status)).toBe("online");
    expect(await retained(board.topics.state("relay"))).toBe("ON");
    expect(await retained(board.topics.state("led"))).toBe("OFF");
    expect(board.counts.connects).toBe(2);
  });

  it("a cut network link: the broker publishes the will (offline), and the board returns when the link does", async () => {
    const sim = await simulate({ devices: 2 });
    const [board, other] = sim.boards;
    await Promise.all(sim.boards.map((b) => online(sim, b)));
    const ha = await homeAssistant([board.topics.status]);

    const will = sim.waitForMessage(board.topics.status, { predicate: (m) => m.payload === "offline" });
    await will.subscribed;
    board.cutNetwork();
    await will; // the board cannot publish with its link cut: this is the broker's will
    await waitFor(() => board.status === "offline", "the board to see its link lost", 5_000);
    expect(other.status).toBe("online");
    await waitFor(() => ha.messages.some((m) => m.payload.toString() === "offline"), "Home Assistant to get the will too", 5_000);

    await sleep(1_500); // reconnect attempts fail while the link is cut
    expect(board.status).toBe("offline");
    const back = online(sim, board, 20_000);
    await back.subscribed;
    board.restoreNetwork();
    await back;
    await waitFor(() => board.status === "online", "the board back online", 5_000);
  });

  it("stop() closes every board gracefully: each publishes offline itself, retained, and no will follows [MQTT-3.14.4-3]", async () => {
    const sim = await simulate({ devices: 2 });
    await Promise.all(sim.boards.map((b) => online(sim, b)));
    const ha = await homeAssistant(["xs-mqtt/+/status"]);
    await waitFor(() => ha.messages.length >= 2, "the retained births");
    await sim.stop();
    expect(sim.boards.map((b) => b.status)).toEqual(["offline", "offline"]);
    // each board's own "offline", once: a socket closed with the broker's PUBACK unread would be
    // reset, and mosquitto, taking the reset before DISCONNECT, would publish the will as well
    const offline = () => ha.messages.filter((m) => m.payload.toString() === "offline").map((m) => m.topic);
    await waitFor(() => new Set(offline()).size === 2, "each board's offline", 5_000);
    await sleep(500); // time for a will, had the broker missed a DISCONNECT
    expect(offline().sort()).toEqual(sim.boards.map((b) => b.topics.status).sort());
    const retained = await retainedOn("xs-mqtt/+/status", 2);
    expect([...retained.values()].map((m) => m.payload.toString())).toEqual(["offline", "offline"]);
  });
});

describe("simulator over TLS (mqtts://), against mosquitto with a CA of the test's own", () => {
  it("connects with the given CA, publishes readings, and the watcher sees them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xs-mqtt-sim-tls-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const ca = await makeCa(dir, "ca");
    const server = await makeServerCert(dir, ca, "broker");
    const tlsPort = await freePort();
    const broker = await Mosquitto.start({ config: tlsListenerConfig(tlsPort, ca, server) });
    cleanups.push(() => broker.close());
    const sim = await startSimulator({ broker: `mqtts://127.0.0.1:${tlsPort}`, devices: 1, ca: ca.pem });
    cleanups.push(() => sim.stop());
    const board = sim.boards[0];
    expect(board.config.broker.tls).toBe(true);
    await online(sim, board);
    const reading = sim.waitForMessage(board.topics.state("climate"), { predicate: (m) => json(m.payload).temperature === 30 });
    await reading.subscribed;
    board.chip("sht3x").set({ temperature: 30 });
    expect(json((await reading).payload).temperature).toBe(30);
  });
});

describe("restartBroker(): the embedded broker restarts on its port", () => {
  it("cuts every connection, keeps nothing retained, and the boards come back online by themselves", async () => {
    const sim = await startSimulator({ devices: 2 });
    cleanups.push(() => sim.stop());
    expect(sim.embeddedBroker).toBe(true);
    const [first, second] = sim.boards;
    await online(sim, first);
    await online(sim, second);
    const reconnects = first.stats.reconnects;
    await sim.restartBroker();
    // the restarted broker kept nothing: "online" is retained again only once each board reconnected
    await online(sim, first);
    await online(sim, second);
    expect(first.stats.reconnects).toBeGreaterThan(reconnects);
    expect(sim.brokerUrl).toBe(`mqtt://127.0.0.1:${new URL(sim.brokerUrl).port}`);
  });

  it("rejects with an external broker", async () => {
    const sim = await simulate({ devices: 1 });
    expect(sim.embeddedBroker).toBe(false);
    await expect(sim.restartBroker()).rejects.toThrow(/is not the embedded one/);
  });
});

describe("simulator configuration mistakes", () => {
  it.each(["node", "xs"] as const)("refuses to start, naming every mistake, with a suggestion for a near miss (%s engine)", async (engine) => {
    const config = { sampleIntervl: 500, maxSilence: -1 } as unknown as SimulatorOptions["config"];
    const started = startSimulator({ broker: `mqtt://127.0.0.1:${mosquitto.port}`, devices: 1, engine, config });
    await expect(started).rejects.toMatchObject({
      name: "ConfigError",
      message: 'config has 2 mistakes:\n  config sampleIntervl: unknown key; did you mean "sampleInterval"?\n  config maxSilence: must be a whole number from 0 to 86400000',
    });
  }, 30_000);
});

describe("simulator on the XS engine (each board inside real XS), against mosquitto", () => {
  basicScenario("xs");

  it("loses and regains its link inside XS: the will fires, then it comes back", async () => {
    const sim = await simulate({ engine: "xs", devices: 1 });
    const board = sim.boards[0];
    await online(sim, board);
    const will = sim.waitForMessage(board.topics.status, { predicate: (m) => m.payload === "offline" });
    await will.subscribed;
    board.cutNetwork();
    await will;
    const back = online(sim, board, 20_000);
    await back.subscribed;
    board.restoreNetwork();
    await back;
  });
});

/** Runs the CLI to its end (killed after 30 s), optionally under an open-file limit set by bash's ulimit. */
function runCli(args: string[], openFiles?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const command = [process.execPath, join(root, "dist/sim.mjs"), ...args];
  const [file, argv] = openFiles === undefined ? [command[0], command.slice(1)]
    : ["bash", ["-c", `ulimit -n ${openFiles} && exec "$@"`, "bash", ...command]];
  return new Promise((resolve) => {
    const child = execFile(file, argv, { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr });
    });
    cleanups.push(() => child.kill("SIGKILL"));
  });
}

describe("the simulator CLI (dist/sim.mjs)", () => {
  it("runs 2 boards for 5 s on its embedded broker, prints a summary and exits 0", async () => {
    const { code, stdout, stderr } = await runCli(["--duration", "5", "--devices", "2"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/mosquitto_sub -h 127\.0\.0\.1 -p \d+ -t 'xs-mqtt\/#' -v/);
    expect(stdout).toMatch(/mosquitto_pub -h 127\.0\.0\.1 -p \d+ -t xs-mqtt\/board-1\/relay\/set -m ON/);
    expect(stdout).toMatch(/board-1 online/);
    expect(stdout).toMatch(/summary \(5 s passed\): .*online 2\/2/);
    expect(stdout).toMatch(/2\/2 boards came online/);
    expect(stdout).toMatch(/board-2 +online +relay OFF, led OFF \| temperature [\d.]+ °C, humidity [\d.]+ %, illuminance \d+ lx \| wifi -\d+ dBm \| sent \d+, received \d+/);
    expect(stdout).toMatch(/stopped: 2\/2 boards offline/);
  });

  it("exits 1 when a board never came online, and prints the board's last error", async () => {
    const port = await freePort(); // nothing listens there
    const { code, stdout, stderr } = await runCli(["--duration", "2", "--devices", "1", "--broker", `mqtt://127.0.0.1:${port}`]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/0\/1 boards came online/);
    expect(stderr).toContain(`sim: 1 board(s) never came online: is the broker at mqtt://127.0.0.1:${port} reachable?`);
    expect(stderr).toMatch(/the last error of board-1: mqtt connection-lost: .*\(network: .*ECONNREFUSED/);
  });

  it("warns before starting more boards than the open-file limit allows, and those past it report why", async () => {
    const { code, stdout, stderr } = await runCli(["--duration", "3", "--devices", "200", "--workers", "0"], 300);
    expect(stderr).toMatch(/^sim: warning: 200 boards need about 656 open files and this process may open 300: boards past that will not connect/);
    expect(code).toBe(1);
    expect(stdout).toMatch(/\d+\/200 boards came online/);
    expect(stderr).toMatch(/the last error of board-\d+: mqtt connection-lost: /); // EMFILE for the board, or ECONNRESET when the broker could not accept
  });

  it("stops cleanly on Ctrl-C: every board publishes offline, then it exits 0", async () => {
    const child = spawn(process.execPath, [join(root, "dist/sim.mjs"), "--devices", "2", "--broker", `mqtt://127.0.0.1:${mosquitto.port}`, "--config", configFile()], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    cleanups.push(() => child.kill("SIGKILL"));
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await waitFor(() => /cli-1 online/.test(stdout) && /cli-2 online/.test(stdout), "both boards online in the CLI's output", 10_000);
    child.kill("SIGINT");
    const code = await Promise.race([exited, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 15_000))]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/summary \(Ctrl-C\)/);
    expect(stdout).toMatch(/stopped: 2\/2 boards offline/);
    const statuses = await retainedOn("xs-mqtt/+/status", 2);
    expect(statuses.get("xs-mqtt/cli-1/status")?.payload.toString()).toBe("offline");
    expect(statuses.get("xs-mqtt/cli-2/status")?.payload.toString()).toBe("offline");
  });
});

/** A --config file for the CLI: node ids cli-1, cli-2 (apart from the other tests' boards), a faster sample interval. */
function configFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "xs-mqtt-sim-test-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "boards.json");
  writeFileSync(file, JSON.stringify({ nodeId: "cli", sampleInterval: 1000 }));
  return file;
}

describe("the built device bundles", () => {
  // what XS (and a board) lacks: Node's module system, globals and built-ins, timers, console
  const nodeOnly: [string, RegExp][] = [
    ["require(", /\brequire\s*\(/],
    ["process.", /\bprocess\s*\./],
    ["Buffer", /\bBuffer\b/],
    ["node: imports", /["']node:/],
    ["setTimeout", /\bsetTimeout\b/],
    ["setInterval", /\bsetInterval\b/],
    ["setImmediate", /\bsetImmediate\b/],
    ["clearTimeout", /\bclearTimeout\b/],
    ["console.", /\bconsole\s*\./],
    ["__dirname", /\b__dirname\b/],
    ["__filename", /\b__filename\b/],
    ["global.", /\bglobal\s*\./],
    ["module.exports", /\bmodule\.exports\b/],
    ["import.meta", /\bimport\.meta\b/],
    ["an import left unbundled", /^\s*import\s/m],
    ["a dynamic import", /\bimport\s*\(/],
  ];
  for (const file of ["dist/xs-mqtt.js", "dist/firmware.js"]) {
    it(`${file} refers to nothing Node-only`, () => {
      const code = readFileSync(join(root, file), "utf8");
      const found = nodeOnly.filter(([, pattern]) => pattern.test(code)).map(([name]) => name);
      expect(found).toEqual([]);
    });
  }

  it("dist/firmware.js exports what a simulated board starts", async () => {
    const firmware = await import(join(root, "dist/firmware.js"));
    for (const name of ["startFirmware", "resolveConfig", "statusTopic", "stateTopic", "commandTopic", "SHT3x", "BH1750"]) {
      expect(typeof firmware[name], name).toBe("function");
    }
  });
});

/** A built firmware whose Timer callback throws once the board is online (test/fixtures). */
const THROWING_FIRMWARE = join(root, "test/fixtures/throwing-firmware.mjs");

/**
 * An exception that escapes an IO callback aborts the board, as fxAbort resets a real one
 * (xs/platforms/esp/xsPlatform.c): the board stops with no DISCONNECT (the broker publishes
 * its will), reports "aborted", and the run fails (sim.aborted, waitForMessage rejects).
 */
function abortScenario(engine: Engine) {
  return async () => {
    const aborts: string[] = [];
    const sim = await simulate({ engine, devices: 2, firmware: THROWING_FIRMWARE, onAbort: (board, error) => aborts.push(`${board.id}: ${error.message}`) });
    const [board] = sim.boards;
    const will = sim.waitForMessage(board.topics.status, { ignoreAborts: true, timeout: 15_000, predicate: (m) => m.payload === "offline" });
    const pending = sim.waitForMessage("xs-mqtt/nothing/comes/here", { timeout: 15_000 });
    pending.catch(() => {});
    await will; // the broker's will: the board sent no "offline" and no DISCONNECT
    await waitFor(() => sim.aborted.length === 2, "both boards aborted", 10_000);
    expect(board.status).toBe("aborted");
    expect(board.abortError?.message).toContain("thrown in a timer callback");
    expect(aborts).toHaveLength(2);
    expect(aborts[0]).toContain("thrown in a timer callback");
    await expect(pending).rejects.toThrow(/board-\d aborted: .*thrown in a timer callback/);
    await expect(sim.waitForMessage(board.topics.status)).rejects.toThrow(/aborted/);
    await sim.stop();
    expect(board.status).toBe("aborted"); // stop() does not pretend it went offline
  };
}

describe("a board whose IO callback throws aborts", () => {
  it("on the Node engine", abortScenario("node"), 30_000);
  it("on the XS engine", abortScenario("xs"), 30_000);
  it("in the CLI: said on stderr, and the exit code is 1", async () => {
    const { code, stderr } = await runCli(["--duration", "3", "--devices", "1", "--firmware", THROWING_FIRMWARE]);
    expect(stderr).toMatch(/sim: board-1 aborted: Error: thrown in a timer callback/);
    expect(stderr).toMatch(/sim: 1 board\(s\) aborted/);
    expect(code).toBe(1);
  }, 30_000);
});
