/*
 * A simulator's boards spread over worker processes (child_process.fork of
 * dist/shard-worker.mjs), each with its own event loop and open-file limit: worker w of W
 * runs slice w of W of the simulator's board numbers (slice.ts), so a board's number, id
 * and seed do not depend on the worker. This side holds a RemoteBoard per board, fed by the
 * workers' events and reports, merges the reports into one stream, forwards requests to
 * boards, measures the workers and stops them (gracefully: each board publishes "offline").
 * A worker that ends while its boards run makes them aborted. Starting is all or nothing.
 * Node side only; it runs no firmware itself.
 */

import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { boardConfig, boardSeed } from "../board-config.js";
import type { FleetBoard } from "../board.js";
import type { BoardFleet, BoardSettings } from "../simulator.js";
import { RemoteBoard } from "./remote-board.js";
import type { RemoteLink } from "./remote-board.js";
import { WORKER_ENTRY } from "./protocol.js";
import type { BoardAction, FromWorker, ToWorker, WorkerMeasure, WorkerStart } from "./protocol.js";
import { REPORT_INTERVAL, packedLength } from "./reports.js";
import type { BoardReport, ReportListener } from "./reports.js";
import { rangeSize, sliceRange } from "./slice.js";
import type { BoardRange } from "./slice.js";

/** How long a worker gets to stop its boards before it is killed, ms. */
const STOP_TIMEOUT = 20_000;

/** This process's memory and CPU; with `collect`, after forced collections when gc is exposed (node --expose-gc). */
export function measureProcess(collect = true): WorkerMeasure {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (collect && gc !== undefined) for (let i = 0; i < 3; i++) gc();
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  return { pid: process.pid, heapUsed: memory.heapUsed, arrayBuffers: memory.arrayBuffers, rss: memory.rss, cpu: cpu.user + cpu.system };
}

/** One worker process and the boards it runs. */
class ShardWorker {
  readonly child: ChildProcess;
  readonly range: BoardRange;
  readonly boards: RemoteBoard[];
  started = 0;
  #asked = 0;
  readonly #answers = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  #stopping = false;

  constructor(range: BoardRange, boards: RemoteBoard[], settings: BoardSettings, onMessage: (worker: ShardWorker, message: FromWorker) => void) {
    this.range = range;
    this.boards = boards;
    this.child = fork(WORKER_ENTRY, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: ["--expose-gc"] });
    let startedResolve!: () => void;
    let startedReject!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      startedResolve = resolve;
      startedReject = reject;
    });
    this.ready.catch(() => {}); // start() reports it
    this.child.on("message", (message: FromWorker) => {
      if (message.type === "started") startedResolve();
      else if (message.type === "failed") startedReject(new Error(message.message));
      else if (message.type === "result") {
        const answer = this.#answers.get(message.id);
        this.#answers.delete(message.id);
        if (message.ok) answer?.resolve(message.value);
        else answer?.reject(new Error(String(message.value)));
      } else onMessage(this, message);
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        const how = signal === null ? `with code ${code}` : `by ${signal}`;
        const error = new Error(`its worker process (pid ${this.child.pid}) ended ${how}`);
        startedReject(new Error(`a worker process (pid ${this.child.pid}) ended ${how} while starting boards ${range.first} to ${range.last}`));
        for (const answer of this.#answers.values()) answer.reject(error);
        this.#answers.clear();
        if (!this.#stopping) {
          for (const board of this.boards) {
            if (board.status === "aborted" || board.status === "offline") continue;
            board.applyAbort(error);
            settings.onAbort(board, error);
          }
        }
        resolve();
      });
    });
    this.child.on("error", (error) => startedReject(error));
  }

  send(message: ToWorker): void {
    if (this.child.connected) this.child.send(message);
  }

  ask(message: { type: "ask"; board: number; action: BoardAction; args: unknown[] } | { type: "measure"; collect: boolean }): Promise<unknown> {
    const id = ++this.#asked;
    return new Promise((resolve, reject) => {
      if (!this.child.connected) return reject(new Error("the worker process has ended"));
      this.#answers.set(id, { resolve, reject });
      this.send({ ...message, id } as ToWorker);
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ type: "stop" });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_TIMEOUT);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Starts the boards first..last over `workers` worker processes (fewer when there are fewer boards). */
export async function startWorkerBoards(settings: BoardSettings, range: BoardRange, workers: number): Promise<BoardFleet> {
  const { options, address, sensors, firmware } = settings;
  const total = rangeSize(range);
  // the same configuration goes to every board: a mistake is named here, before any process starts
  const configOf = (number: number) => firmware.resolveConfig(boardConfig(number, address, sensors, options.config));
  if (total > 0) configOf(range.first);
  const nodeIdOf = (number: number) => boardConfig(number, address, sensors, options.config).nodeId;
  const listeners = new Set<ReportListener>();
  const byNumber = new Map<number, { worker: ShardWorker; board: RemoteBoard }>();
  const link: RemoteLink = {
    config: configOf,
    firmware,
    ask: (number, action, args) => {
      const found = byNumber.get(number);
      if (found === undefined) return Promise.reject(new RangeError(`no board number ${number}`));
      return found.worker.ask({ type: "ask", board: number, action, args });
    },
  };
  const onMessage = (worker: ShardWorker, message: FromWorker): void => {
    if (message.type === "progress") {
      worker.started = message.started;
      options.onStarted?.(pool.reduce((sum, w) => sum + w.started, 0), total);
    } else if (message.type === "batch") {
      for (const event of message.events) {
        const board = byNumber.get(event[1])?.board;
        if (board === undefined) continue;
        if (event[0] === "status") {
          board.applyStatus(event[2]);
          options.onStatus?.(board, event[2]);
        } else if (event[0] === "log") {
          board.applyLog(event[2]);
          options.onLog?.(board, event[2]);
        } else {
          const error = new Error(event[2]);
          error.stack = event[3];
          board.applyAbort(error);
          settings.onAbort(board, error);
        }
      }
      for (const report of message.reports) byNumber.get(report.number)?.board.applyReport(report);
      // packed reports are unpacked when read (RemoteBoard.report), here only for listeners
      const heard: BoardReport[] | undefined = listeners.size > 0 ? [...message.reports] : undefined;
      const packed = message.packed ?? [];
      for (let at = 0; at < packed.length; at += packedLength(packed, at)) {
        const board = byNumber.get(packed[at] as number)?.board;
        if (board === undefined) continue;
        board.applyPacked(packed, at);
        const report = heard === undefined ? undefined : board.report;
        if (report !== undefined) heard!.push(report);
      }
      if (heard !== undefined && heard.length > 0) for (const listener of [...listeners]) listener(heard);
    }
  };

  const count = Math.max(1, Math.min(workers, total));
  const pool: ShardWorker[] = [];
  const boards: RemoteBoard[] = [];
  for (let w = 1; w <= count; w++) {
    const slice = sliceRange(range, { index: w, count });
    const own: RemoteBoard[] = [];
    for (let number = slice.first; number <= slice.last; number++) own.push(new RemoteBoard(number, nodeIdOf(number), boardSeed(settings.seed, number), settings.engine, link));
    const worker = new ShardWorker(slice, own, settings, onMessage);
    for (const board of own) byNumber.set(board.number, { worker, board });
    boards.push(...own);
    pool.push(worker);
    worker.send({
      type: "start",
      start: {
        broker: settings.brokerUrl, devices: options.devices ?? 3, first: slice.first, last: slice.last, engine: settings.engine,
        seed: settings.seed, config: options.config as WorkerStart["config"], ca: options.ca, firmware: options.firmware, rtt: settings.rtt,
        stack: options.stack, reportEvery: options.reportEvery ?? REPORT_INTERVAL,
      },
    });
  }
  const stop = async (): Promise<void> => {
    await Promise.all(pool.map((worker) => worker.stop()));
  };
  try {
    await Promise.all(pool.map((worker) => worker.ready));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    boards: boards as FleetBoard[],
    onReports: (listener) => {
      listeners.add(listener);
      // the current state of every board first, as a stream in this process starts
      const current = boards.flatMap((board) => (board.report === undefined ? [] : [board.report]));
      if (current.length > 0) queueMicrotask(() => listeners.has(listener) && listener(current));
      return () => listeners.delete(listener);
    },
    measure: async (collect) => (await Promise.all(pool.map((worker) => worker.ask({ type: "measure", collect })))) as WorkerMeasure[],
    stop,
  };
}
