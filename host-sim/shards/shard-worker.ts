/*
 * A worker process of a simulator (pool.ts forks it; built to dist/shard-worker.mjs): it
 * runs the boards first..last it is told to, in its own event loop, and sends the parent
 * their events (status changes, log lines, aborts: in order, batched every few ms), their
 * reports (reports.ts) and its progress; it acts on a board when asked, measures itself,
 * and on "stop" (or when the parent is gone) stops its boards gracefully and exits. It
 * ignores SIGINT: Ctrl-C on a terminal reaches the whole process group, and the parent
 * decides how to stop. It prints nothing. Node side only.
 */

import { ReportStream, reportOf } from "./reports.js";
import type { BoardReport } from "./reports.js";
import type { BoardEvent, FromWorker, ToWorker } from "./protocol.js";
import { measureProcess } from "./pool.js";
import { startSimulatorRange } from "../simulator.js";
import type { FleetBoard, Simulator } from "../simulator.js";

/** Events wait at most this long before they go to the parent, ms. */
const EVENT_DELAY = 20;

let sim: Simulator<FleetBoard> | undefined;
let first = 1;
let events: BoardEvent[] = [];
let eventTimer: ReturnType<typeof setTimeout> | undefined;
let stopping: Promise<void> | undefined;
let reportTimer: ReturnType<typeof setInterval> | undefined;

function send(message: FromWorker): void {
  if (process.connected) process.send!(message);
}

function queue(event: BoardEvent): void {
  events.push(event);
  eventTimer ??= setTimeout(flushEvents, EVENT_DELAY);
}

function flushEvents(): void {
  clearTimeout(eventTimer);
  eventTimer = undefined;
  if (events.length === 0) return;
  send({ type: "batch", events, reports: [] });
  events = [];
}

async function start(message: Extract<ToWorker, { type: "start" }>): Promise<void> {
  const options = message.start;
  first = options.first;
  try {
    sim = await startSimulatorRange({
      broker: options.broker, devices: options.devices, engine: options.engine, seed: options.seed, config: options.config,
      ca: options.ca, firmware: options.firmware, rtt: options.rtt, stack: options.stack, reportEvery: options.reportEvery,
      onStatus: (board, status) => queue(["status", board.number, status]),
      onLog: (board, line) => queue(["log", board.number, line]),
      logLines: 0, // the parent keeps each board's lines (remote-board.ts)
      onAbort: (board, error) => queue(["abort", board.number, error.message, error.stack ?? String(error)]),
      onStarted: (started) => send({ type: "progress", started }),
    }, { first: options.first, last: options.last });
  } catch (error) {
    flushEvents();
    send({ type: "failed", message: (error as Error).message });
    return;
  }
  flushEvents();
  send({ type: "batch", events: [], reports: sim.boards.map(reportOf) });
  send({ type: "started", ids: sim.boards.map((board) => board.id) });
  // every reportEvery ms the boards that changed, each packed after its first report (reports.ts)
  const stream = new ReportStream(() => sim?.boards ?? [], options.reportEvery);
  reportTimer = setInterval(() => {
    const whole: BoardReport[] = [];
    const packed: (number | null)[] = [];
    stream.changedPacked(whole, packed);
    if (whole.length === 0 && packed.length === 0) return;
    flushEvents();
    send({ type: "batch", events: [], reports: whole, packed });
  }, options.reportEvery);
  reportTimer.unref();
}

async function ask(message: Extract<ToWorker, { type: "ask" }>): Promise<unknown> {
  const board = sim?.boards[message.board - first];
  if (board === undefined || board.number !== message.board) throw new RangeError(`no board number ${message.board} here`);
  if (message.action === "setActuator") return board.setActuator(String(message.args[0]), message.args[1] === true);
  if (message.action === "cutNetwork") return board.cutNetwork();
  if (message.action === "restoreNetwork") return board.restoreNetwork();
  if (message.action === "setChip") return board.setChip(message.args[0] === "bh1750" ? "bh1750" : "sht3x", message.args[1] as Record<string, number>);
  return board.stop();
}

function stop(): Promise<void> {
  stopping ??= (async () => {
    clearInterval(reportTimer);
    if (sim !== undefined) {
      await sim.stop();
      flushEvents();
      send({ type: "batch", events: [], reports: sim.boards.map(reportOf) });
    }
    if (process.connected) process.send!({ type: "stopped" } satisfies FromWorker, () => process.exit(0));
    else process.exit(0);
  })();
  return stopping;
}

process.on("SIGINT", () => {});
process.on("disconnect", () => void stop());
process.on("message", (message: ToWorker) => {
  if (message.type === "start") void start(message);
  else if (message.type === "stop") void stop();
  else if (message.type === "measure") send({ type: "result", id: message.id, ok: true, value: measureProcess(message.collect) });
  else {
    ask(message).then(
      (value) => send({ type: "result", id: message.id, ok: true, value: value ?? null }),
      (error: Error) => send({ type: "result", id: message.id, ok: false, value: error.message }),
    );
  }
});
