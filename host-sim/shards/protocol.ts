/*
 * The messages between a simulator and its worker processes (shard-worker.ts), over
 * Node's IPC channel as JSON: the parent starts a worker on a range of board numbers, asks
 * it to act on a board, to measure its memory and CPU, or to stop; the worker answers with
 * its progress, the boards' events (status changes, log lines, aborts: in order, batched)
 * and reports (shards/reports.ts; after a board's first, packed), and results. Types only, and the worker's entry path.
 * Node side only.
 */

import { dirname, join } from "node:path";
import type { FirmwareConfig } from "../../device/app/config.js";
import type { BoardStatus, Engine } from "../board.js";
import { DEFAULT_FIRMWARE } from "../firmware-module.js";
import type { BoardReport } from "./reports.js";

/** The worker's built entry (dist/shard-worker.mjs, next to dist/firmware.js). */
export const WORKER_ENTRY = join(dirname(DEFAULT_FIRMWARE), "shard-worker.mjs");

/** What a worker is started with: the simulator's options for its boards first..last. */
export interface WorkerStart {
  broker: string;
  /** The fleet's size (board numbers go up to it). */
  devices: number;
  first: number;
  last: number;
  engine: Engine;
  seed: number;
  config: Partial<FirmwareConfig> | undefined;
  ca: string | undefined;
  firmware: string | undefined;
  rtt: number;
  stack: number | null | undefined;
  /** ms between reports. */
  reportEvery: number;
}

export type BoardAction = "setActuator" | "cutNetwork" | "restoreNetwork" | "setChip" | "stop";

/** A process's memory and CPU (after forced collections when asked and it has gc). */
export interface WorkerMeasure {
  /** The process measured. */
  pid: number;
  heapUsed: number;
  arrayBuffers: number;
  rss: number;
  /** CPU time used so far, µs (user + system). */
  cpu: number;
}

export type ToWorker =
  | { type: "start"; start: WorkerStart }
  | { type: "ask"; id: number; board: number; action: BoardAction; args: unknown[] }
  | { type: "measure"; id: number; collect: boolean }
  | { type: "stop" };

/** A board event: [kind, board number, ...]. */
export type BoardEvent =
  | ["status", number, BoardStatus]
  | ["log", number, string]
  | ["abort", number, string, string];

export type FromWorker =
  | { type: "progress"; started: number }
  | { type: "started"; ids: string[] }
  | { type: "failed"; message: string }
  /** `packed`: reports of boards whose report came whole before, packed one after another (reports.ts packReport). */
  | { type: "batch"; events: BoardEvent[]; reports: BoardReport[]; packed?: (number | null)[] }
  | { type: "result"; id: number; ok: boolean; value: unknown }
  | { type: "stopped" };
