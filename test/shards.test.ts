/*
 * Fleets over processes: the slices of a fleet (every board in exactly one, with the same
 * number, id and seed wherever it runs), a board's packed report, the report stream, the simulator with worker processes (boards,
 * events, reports, requests, aborts, stop, through the real dist/shard-worker.mjs against
 * mosquitto), and three CLI shard processes on loopback against one mosquitto (--shard and
 * a Kubernetes Indexed Job's environment) whose union of boards is exactly the fleet. Every
 * process it starts is stopped (children killed in afterEach, at most 30 s each).
 */

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { boardSeed } from "../host-sim/board-config.js";
import { ReportStream, packedLength, packReport, reportOf, unpackReport } from "../host-sim/shards/reports.js";
import { parseShard, shardFromEnvironment, sliceRange, startSimulator } from "../host-sim/simulator.js";
import type { BoardReport, FleetBoard, Simulator } from "../host-sim/simulator.js";
import { connectPeer, waitFor } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";

const root = join(import.meta.dirname, "..");
const SIM = join(root, "dist/sim.mjs");
const THROWING_FIRMWARE = join(root, "test/fixtures/throwing-firmware.mjs");

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => stopAllMosquittos());

let mosquitto: Mosquitto;
beforeAll(async () => {
  mosquitto = await Mosquitto.start();
});
const brokerUrl = () => `mqtt://127.0.0.1:${mosquitto.port}`;

/** Runs the CLI to its end (killed after 30 s); its workers end with it. */
function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [SIM, ...args], { timeout: 30_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr });
    });
    cleanups.push(() => child.kill("SIGKILL"));
  });
}

async function withWorkers(options: Parameters<typeof startSimulator>[0] & { workers: number }): Promise<Simulator<FleetBoard>> {
  const sim = await startSimulator({ broker: brokerUrl(), ...options });
  cleanups.push(() => sim.stop());
  return sim;
}

describe("slices of a fleet", () => {
  it("every board is in exactly one slice, slices are contiguous and differ in size by at most one", () => {
    for (const devices of [1, 2, 3, 7, 10, 15_000]) {
      for (const count of [1, 2, 3, 4, 7].filter((n) => n <= devices)) {
        const seen: number[] = [];
        const sizes: number[] = [];
        for (let index = 1; index <= count; index++) {
          const { first, last } = sliceRange({ first: 1, last: devices }, { index, count });
          sizes.push(last - first + 1);
          for (let n = first; n <= last; n++) seen.push(n);
        }
        expect(seen, `${devices} boards in ${count} slices`).toEqual(Array.from({ length: devices }, (_, i) => i + 1));
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });

  it("--shard I/N counts from 1; an Indexed Job's JOB_COMPLETION_INDEX counts from 0", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
    for (const bad of ["0/3", "4/3", "1/0", "1", "a/b", "-1/3", "1.5/3"]) expect(parseShard(bad), bad).toBeUndefined();
    expect(shardFromEnvironment({})).toBeUndefined();
    expect(shardFromEnvironment({ JOB_COMPLETION_INDEX: "0", JOB_COMPLETIONS: "3" })).toEqual({ index: 1, count: 3 });
    expect(shardFromEnvironment({ JOB_COMPLETION_INDEX: "2", JOB_COMPLETIONS: "3" })).toEqual({ index: 3, count: 3 });
    expect(String(shardFromEnvironment({ JOB_COMPLETION_INDEX: "3", JOB_COMPLETIONS: "3" }))).toMatch(/do not make a shard/);
    expect(String(shardFromEnvironment({ JOB_COMPLETION_INDEX: "1" }))).toMatch(/set JOB_COMPLETIONS/);
  });
});

describe("a board's packed report (what a worker sends after a board's first report)", () => {
  it("unpacks to the report JSON carries whole: every count, stat, reading, actuator, the status and the Wi-Fi", async () => {
    const sim = await startSimulator({ broker: brokerUrl(), devices: 1, seed: 5 });
    cleanups.push(() => sim.stop());
    const board = sim.boards[0];
    const whole = () => JSON.parse(JSON.stringify(reportOf(board))) as BoardReport;
    const first = whole();
    await waitFor(() => board.status === "online" && board.stats.sent > 0 && board.readings.every((r) => r.value !== null), "online with readings", 15_000);
    expect(await board.setActuator("relay", true)).toBe(true);
    board.wifi.drop(); // the status offline, the Wi-Fi down
    await waitFor(() => board.status === "offline", "offline", 15_000);
    const packed: (number | null)[] = [7];
    packReport(board, packed);
    const now = whole();
    expect(packedLength(packed, 1)).toBe(packed.length - 1);
    expect(now.wifi.up).toBe(false);
    expect(now.actuators.find((a) => a.id === "relay")!.state).toBe("ON");
    expect(unpackReport(first, packed, 1)).toEqual(now);
    // kept as numbers (null as NaN) by the parent's view of the board
    expect(unpackReport(first, Float64Array.from(packed.slice(1), (v) => v ?? NaN), 0)).toEqual(now);
    // a reading without a value yet (null) comes back null, from the message and from the numbers kept
    const none: (number | null)[] = [];
    packReport(board, none);
    none[none.length - board.actuators.length - 1] = null;
    const expected = { ...now, readings: now.readings.map((r, i) => (i === now.readings.length - 1 ? { ...r, value: null } : r)) };
    expect(unpackReport(first, none, 0)).toEqual(expected);
    expect(unpackReport(first, Float64Array.from(none, (v) => v ?? NaN), 0)).toEqual(expected);
    board.wifi.restore();
  }, 30_000);

  // packReport reads the readings and actuators as numbers from each engine (and from a
  // battery node, which has no actuators), not from their report objects: the same report
  for (const [kind, engine, config] of [
    ["the Node engine", "node", {}],
    ["the XS engine", "xs", {}],
    ["a battery node", "node", { sleep: { interval: 60_000 }, discovery: false }],
  ] as const) {
    it(`${kind}: the readings' values and the actuators' states it packs are those its report has`, async () => {
      const sim = await startSimulator({ broker: brokerUrl(), devices: 1, seed: 9, engine, config });
      cleanups.push(() => sim.stop());
      const board = sim.boards[0];
      const first = JSON.parse(JSON.stringify(reportOf(board))) as BoardReport;
      await waitFor(() => board.readings.length > 0 && board.readings.every((r) => r.value !== null), "readings", 20_000);
      if (board.actuators.length > 0) expect(await board.setActuator(board.actuators[0].id, true)).toBe(true);
      const packed: (number | null)[] = [];
      packReport(board, packed);
      const now = JSON.parse(JSON.stringify(reportOf(board))) as BoardReport;
      expect(packed[1]).toBe(now.readings.length);
      expect(packed[2]).toBe(now.actuators.length);
      expect(packedLength(packed, 0)).toBe(packed.length);
      expect(unpackReport(first, packed, 0)).toEqual(now);
      if (config === undefined || !("sleep" in config)) expect(now.actuators.some((a) => a.state === "ON")).toBe(true);
    }, 40_000);
  }
});

describe("the report stream of boards in one process", () => {
  it("reports the boards that changed since its last look, and only those: a request's effect, a stop", async () => {
    // no sample in the test's time after the first: the boards change only when asked to
    const sim = await startSimulator({ broker: brokerUrl(), devices: 2, seed: 9, config: { sampleInterval: 600_000, maxSilence: 600_000 } });
    cleanups.push(() => sim.stop());
    await waitFor(() => sim.boards.every((board) => board.status === "online" && board.stats.sent > 0 && board.counts.samples > 0), "both online", 15_000);
    const stream = new ReportStream(() => sim.boards);
    expect(stream.changed().map((r) => r.number)).toEqual([1, 2]); // every board the first time
    expect(stream.changed()).toEqual([]); // nothing ran in between
    const [first, second] = sim.boards;
    const published = second.counts.statesPublished;
    expect(await second.setActuator("relay", true)).toBe(true);
    await waitFor(() => second.counts.statesPublished > published, "the relay's state published", 5_000);
    const after = stream.changed();
    expect(after.map((r) => r.number)).toEqual([2]);
    expect(after[0].actuators.find((a) => a.id === "relay")!.state).toBe("ON");
    await first.stop();
    const stopped = stream.changed().find((r) => r.number === 1);
    expect(stopped?.status).toBe("offline");
  }, 30_000);
});

describe("the simulator with worker processes, against mosquitto", () => {
  it("runs every board once, with the ids and seeds it has in one process; reports, requests and stop reach the workers", async () => {
    const reports = new Map<number, BoardReport>();
    const statuses: string[] = [];
    const sim = await withWorkers({ devices: 5, workers: 2, seed: 3, onStatus: (board, status) => statuses.push(`${board.id} ${status}`) });
    expect(sim.workers).toBe(2);
    expect(sim.boards.map((board) => board.id)).toEqual(["board-1", "board-2", "board-3", "board-4", "board-5"]);
    sim.onReports((batch) => batch.forEach((report) => reports.set(report.number, report)));
    await waitFor(() => sim.boards.every((board) => board.status === "online"), "every board online", 15_000);
    for (let n = 1; n <= 5; n++) expect(statuses).toContain(`board-${n} online`);
    // the seeds the workers' boards run with, as one process gives them
    await waitFor(() => reports.size === 5 && [...reports.values()].every((r) => r.status === "online"), "a report of every board, online", 5_000);
    for (const board of sim.boards) {
      expect(reports.get(board.number)!.id).toBe(board.id);
      expect(reports.get(board.number)!.seed).toBe(boardSeed(3, board.number));
      expect(board.seed).toBe(boardSeed(3, board.number));
    }

    // an actuator switched in its worker: the state is published, and the next report carries it
    const board = sim.board("board-4")!;
    const relayOn = sim.waitForMessage(board.topics.state("relay"), { predicate: (m) => m.payload === "ON" });
    await relayOn.subscribed;
    expect(await board.setActuator("relay", true)).toBe(true);
    await relayOn;
    await waitFor(() => board.actuators.find((a) => a.id === "relay")?.state === "ON", "the relay ON in board-4's report", 5_000);
    expect(await board.setActuator("no-such-actuator", true)).toBe(false);

    // its network cut in its worker: the broker publishes the will
    const will = sim.waitForMessage(board.topics.status, { predicate: (m) => m.payload === "offline" });
    await will.subscribed;
    board.cutNetwork();
    await will;
    board.restoreNetwork();
    await waitFor(() => board.status === "online" && board.stats.reconnects === 1, "board-4 back online", 15_000);

    const measured = await sim.measure();
    expect(measured).toHaveLength(2);
    for (const worker of measured) expect(worker.heapUsed).toBeGreaterThan(0);

    await sim.stop();
    expect(sim.boards.map((b) => b.status)).toEqual(["offline", "offline", "offline", "offline", "offline"]);
    // each board published "offline" itself (retained) before its worker ended
    const peer = await connectPeer(mosquitto.port);
    cleanups.push(() => peer.client.endAsync());
    await peer.client.subscribeAsync("xs-mqtt/+/status");
    await waitFor(() => peer.messages.filter((m) => m.retain).length >= 5, "5 retained statuses", 5_000);
    const retained = peer.messages.filter((m) => m.retain && /^xs-mqtt\/board-\d\/status$/.test(m.topic));
    expect(new Set(retained.map((m) => `${m.topic} ${m.payload}`))).toEqual(new Set([1, 2, 3, 4, 5].map((n) => `xs-mqtt/board-${n}/status offline`)));
  }, 60_000);

  it("a board that aborts in a worker is reported as in one process: onAbort, sim.aborted, waits reject", async () => {
    const aborts: string[] = [];
    const sim = await withWorkers({ devices: 2, workers: 2, firmware: THROWING_FIRMWARE, onAbort: (board, error) => aborts.push(`${board.id}: ${error.message}`) });
    const pending = sim.waitForMessage("xs-mqtt/nothing/comes/here", { timeout: 15_000 });
    pending.catch(() => {});
    await waitFor(() => sim.aborted.length === 2, "both boards aborted", 15_000);
    expect(aborts.sort()).toEqual(["board-1: thrown in a timer callback", "board-2: thrown in a timer callback"]);
    expect(sim.boards.map((b) => b.status)).toEqual(["aborted", "aborted"]);
    await expect(pending).rejects.toThrow(/board-\d aborted: thrown in a timer callback/);
    await sim.stop();
    expect(sim.boards.map((b) => b.status)).toEqual(["aborted", "aborted"]);
  }, 30_000);

  it("a worker process that ends while its boards run: they abort (onAbort names it), the others run on, stop() completes", async () => {
    const aborts: string[] = [];
    const sim = await withWorkers({ devices: 4, workers: 2, onAbort: (board, error) => aborts.push(`${board.id}: ${error.message}`) });
    await waitFor(() => sim.boards.every((board) => board.status === "online"), "every board online", 15_000);
    const [first] = await sim.measure(false);
    process.kill(first.pid, "SIGKILL");
    await waitFor(() => sim.aborted.length === 2, "the first worker's two boards aborted", 10_000);
    expect(aborts.map((line) => line.split(":")[0]).sort()).toEqual(["board-1", "board-2"]);
    expect(aborts[0]).toMatch(/its worker process \(pid \d+\) ended by SIGKILL/);
    expect(sim.boards.map((board) => board.status)).toEqual(["aborted", "aborted", "online", "online"]);
    await sim.stop();
    expect(sim.boards.map((board) => board.status)).toEqual(["aborted", "aborted", "offline", "offline"]);
  }, 30_000);

  it("refuses what cannot go to a worker, and names a configuration mistake before starting one", async () => {
    await expect(startSimulator({ broker: brokerUrl(), devices: 2, workers: 2, config: (i) => ({ nodeId: `n${i}` }) })).rejects.toThrow(/config as a function cannot go to worker processes/);
    await expect(startSimulator({ broker: brokerUrl(), devices: 2, workers: 2, config: { sampleIntervl: 5 } as never })).rejects.toThrow(/sampleIntervl: unknown key; did you mean "sampleInterval"/);
    await expect(startSimulator({ broker: brokerUrl(), devices: 2, workers: -1 })).rejects.toThrow(/workers must be a whole number from 0/);
  });
});

describe("shards of one fleet in separate processes (the CLI), against one mosquitto", () => {
  it("three shards, by --shard and by an Indexed Job's environment, run exactly the fleet's boards, each once", async () => {
    const peer = await connectPeer(mosquitto.port);
    cleanups.push(() => peer.client.endAsync());
    const prefix = `shard${Date.now() % 100_000}`;
    await peer.client.subscribeAsync(`${prefix}/+/status`);
    const common = ["--devices", "9", "--broker", brokerUrl(), "--duration", "4", "--config", "-"];
    const config = JSON.stringify({ prefix });
    const withConfig = (args: string[]) => args.map((word) => (word === "-" ? configFile(config) : word));
    const runs = await Promise.all([
      runCli(withConfig([...common, "--shard", "1/3", "--workers", "0"])),
      runCli(withConfig([...common, "--shard", "2/3", "--workers", "2"])),
      runCli(withConfig(common), { JOB_COMPLETION_INDEX: "2", JOB_COMPLETIONS: "3" }),
    ]);
    const ranges = ["1 to 3", "4 to 6", "7 to 9"];
    runs.forEach((run, at) => {
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`xs-mqtt simulator: boards ${ranges[at]} of 9 on the node engine`);
      expect(run.stdout).toMatch(/ {2}3\/3 boards came online/);
    });
    const onlineBy = new Map<string, number>();
    for (const message of peer.messages) {
      if (message.payload.toString() !== "online") continue;
      const id = message.topic.split("/")[1];
      onlineBy.set(id, (onlineBy.get(id) ?? 0) + 1);
    }
    // the union is the fleet, and no board ran twice (a second run would take over its client id: more "online"s)
    expect([...onlineBy.keys()].sort()).toEqual(Array.from({ length: 9 }, (_, i) => `board-${i + 1}`).sort());
    for (const [id, times] of onlineBy) expect(times, id).toBe(1);
  }, 60_000);

  it("refuses a shard that cannot be: out of range, more shards than boards, no shared broker, a broken Job environment", async () => {
    const broker = ["--broker", brokerUrl()];
    expect((await runCli(["--shard", "4/3", ...broker])).stderr).toBe('sim: --shard must be I/N: slice I (a whole number from 1 to N) of N, as in 2/3, not "4/3"\n');
    expect((await runCli(["--shard", "1/4", "--devices", "3", ...broker])).stderr).toMatch(/^sim: --shard: 4 shards of 3 boards would leave shards without a board/);
    expect((await runCli(["--shard", "1/2"])).stderr).toMatch(/^sim: --shard: the shards of a fleet share one broker: give its --broker/);
    const job = await runCli(broker, { JOB_COMPLETION_INDEX: "5", JOB_COMPLETIONS: "3" });
    expect(job.code).toBe(2);
    expect(job.stderr).toMatch(/^sim: JOB_COMPLETION_INDEX="5" and JOB_COMPLETIONS="3" do not make a shard/);
  }, 30_000);
});

/** A JSON file with `text`, removed in afterEach. */
function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "xs-mqtt-shards-test-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "config.json");
  writeFileSync(file, text);
  return file;
}
