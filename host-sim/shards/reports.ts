/*
 * The stream of board reports: every `interval` ms, a snapshot (status, readings,
 * actuators, counts, client stats, Wi-Fi) of each board that changed since the last one
 * (all of them the first time), as plain JSON-able objects. The same stream comes from a
 * simulator running its boards in its own process and, merged, from one running them in
 * worker processes (each worker sends its own over IPC): what a live view or a dashboard
 * consumes. Between a worker and its parent, a board's reports after its first go packed
 * (packReport, unpackReport): its changing figures only, as numbers, the names from the
 * report before. Reads boards only; never changes one. Node side only.
 */

import type { ActuatorState, FirmwareCounts, ReadingState } from "../../device/app/firmware.js";
import type { ClientStats } from "../../device/mqtt/index.js";
import { SimBoard } from "../board.js";
import type { BoardStatus, FleetBoard } from "../board.js";
import { activityOf } from "../io/activity.js";

/** One board's state at a moment. */
export interface BoardReport {
  number: number;
  id: string;
  seed: number;
  status: BoardStatus;
  everOnline: boolean;
  readings: ReadingState[];
  actuators: ActuatorState[];
  counts: FirmwareCounts;
  stats: ClientStats;
  wifi: { up: boolean; rssi: number };
}

/** How often reports go out by default, ms. */
export const REPORT_INTERVAL = 500;

const STATUS_CODES: Readonly<Record<BoardStatus, number>> = { connecting: 1, online: 2, offline: 3, asleep: 4, aborted: 5 };
/** The statuses by code (STATUS_CODES). */
const STATUSES: readonly BoardStatus[] = ["connecting", "connecting", "online", "offline", "asleep", "aborted"];

/** A report's counts and stats in the order a packed report carries them. */
const COUNT_KEYS = ["samples", "sampleFailures", "readingsPublished", "statesPublished", "discoveryPublished", "commands", "badCommands",
  "connects", "disconnects", "diagnosticsPublished", "wifiJoins"] as const satisfies readonly (keyof FirmwareCounts)[];
const STAT_KEYS = ["sent", "acknowledged", "resent", "dropped", "received", "oversize", "reconnects", "attempts",
  "strayAcks"] as const satisfies readonly (keyof ClientStats)[];
// every key is carried: a key added to FirmwareCounts or ClientStats and not above fails to compile here
const EVERY_COUNT: [Exclude<keyof FirmwareCounts, (typeof COUNT_KEYS)[number]>] extends [never] ? true : never = true;
const EVERY_STAT: [Exclude<keyof ClientStats, (typeof STAT_KEYS)[number]>] extends [never] ? true : never = true;
void EVERY_COUNT;
void EVERY_STAT;

/** Before the counts: number, readings, actuators, status, everOnline, Wi-Fi up, RSSI. */
const HEADER = 7;

/** A number as JSON carries it: NaN and the infinities are null, as in a report sent whole. */
function jsonNumber(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

/**
 * Appends the board's report, packed, to `out`: its number, how many readings and
 * actuators, the status (a code), everOnline and the Wi-Fi (1 or 0, and the RSSI), the
 * counts and the stats (COUNT_KEYS, STAT_KEYS), each reading's value (null when none),
 * each actuator's state (1: ON). About a tenth of the report's JSON, and no names. The
 * readings and actuators are read as numbers (SimBoard.pushReadingValues): none of their
 * report objects is built, as a worker packs thousands of boards every half second.
 */
export function packReport(board: SimBoard, out: (number | null)[]): void {
  const counts = board.counts;
  const stats = board.stats;
  const wifi = board.wifi;
  const at = out.length;
  // the readings' and actuators' counts (at + 1, at + 2) are known once their values are in
  out.push(board.number, 0, 0, STATUS_CODES[board.status], board.everOnline ? 1 : 0, wifi.up ? 1 : 0, jsonNumber(wifi.rssi()));
  for (const key of COUNT_KEYS) out.push(counts[key]);
  for (const key of STAT_KEYS) out.push(stats[key]);
  const values = out.length;
  out[at + 1] = board.pushReadingValues(out);
  for (let i = values; i < out.length; i++) out[i] = jsonNumber(out[i]);
  out[at + 2] = board.pushActuatorStates(out);
}

/** A packed number as a report has it: null for null or NaN (the numbers a board's view keeps hold null as NaN). */
function orNull(value: number | null): number | null {
  return value === null || Number.isNaN(value) ? null : value;
}

/** How many numbers the packed report at `at` takes. */
export function packedLength(packed: ArrayLike<number | null>, at: number): number {
  return HEADER + COUNT_KEYS.length + STAT_KEYS.length + (packed[at + 1] as number) + (packed[at + 2] as number);
}

/**
 * The report packed at `at` (packReport), with the id, seed and names of `previous`, the
 * board's report before it (whose readings and actuators are the same, in the same order).
 */
export function unpackReport(previous: BoardReport, packed: ArrayLike<number | null>, at: number): BoardReport {
  let next = at + HEADER;
  const counts = {} as FirmwareCounts;
  for (const key of COUNT_KEYS) counts[key] = packed[next++] as number;
  const stats = {} as ClientStats;
  for (const key of STAT_KEYS) stats[key] = packed[next++] as number;
  const readings = previous.readings.map((reading) => ({ ...reading, value: orNull(packed[next++]) }));
  const actuators = previous.actuators.map((actuator): ActuatorState => ({ ...actuator, state: packed[next++] === 1 ? "ON" : "OFF" }));
  return {
    number: previous.number,
    id: previous.id,
    seed: previous.seed,
    status: STATUSES[packed[at + 3] as number],
    everOnline: packed[at + 4] === 1,
    readings,
    actuators,
    counts,
    stats,
    // (rssi null as in a report sent whole: JSON has no NaN)
    wifi: { up: packed[at + 5] === 1, rssi: orNull(packed[at + 6]) as number },
  };
}

export function reportOf(board: FleetBoard): BoardReport {
  const wifi = board.wifi;
  return {
    number: board.number,
    id: board.id,
    seed: board.seed,
    status: board.status,
    everOnline: board.everOnline,
    readings: board.readings,
    actuators: board.actuators,
    counts: board.counts,
    stats: board.stats,
    wifi: { up: wifi.up, rssi: wifi.rssi() },
  };
}

/**
 * A number that changes whenever a report of the board would (its counters only grow, the
 * status and Wi-Fi are coded in): comparing it spares building a report per board per tick.
 */
function fingerprint(board: FleetBoard): number {
  const stats = board.stats;
  const counts = board.counts;
  return STATUS_CODES[board.status] + (board.wifi.up ? 8 : 0) + 16 * (stats.sent + 3 * stats.received + 7 * stats.attempts +
    11 * counts.samples + 13 * counts.commands + 17 * counts.statesPublished + 19 * counts.sampleFailures);
}

export type ReportListener = (reports: readonly BoardReport[]) => void;

/** Reports of `boards()` every `interval` ms while anyone listens. */
export class ReportStream {
  readonly #boards: () => readonly FleetBoard[];
  readonly #interval: number;
  readonly #listeners = new Set<ReportListener>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = new Float64Array(0);
  /** Per board: its activity slot (io/activity.ts; -1: none, looked at every time) and its count at the last look. */
  #slots = new Int32Array(0);
  #seen = new Int32Array(0);
  /** Per board: 0 before its first whole report, then 1 + its readings * 65,536 + its actuators as of that report. */
  #shapes = new Int32Array(0);

  constructor(boards: () => readonly FleetBoard[], interval = REPORT_INTERVAL) {
    this.#boards = boards;
    this.#interval = interval;
  }

  /** Hears every batch (the first: every board); returns a function that stops listening. */
  listen(listener: ReportListener): () => void {
    this.#listeners.add(listener);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.flush(), this.#interval);
      this.#timer.unref();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.close();
    };
  }

  /** The reports of the boards changed since the last call, to every listener (none when nothing changed). */
  flush(): void {
    const reports = this.changed();
    if (reports.length === 0) return;
    for (const listener of [...this.#listeners]) listener(reports);
  }

  /** The reports of the boards changed since the last call (all of them the first time). */
  changed(): BoardReport[] {
    const reports: BoardReport[] = [];
    this.changedPacked(reports, undefined);
    return reports;
  }

  /**
   * The boards changed since the last call: packed into `packed` (packReport) when given, the
   * board runs here (a SimBoard) and this stream has sent its report whole before with as
   * many readings and actuators; else whole into `whole`.
   */
  changedPacked(whole: BoardReport[], packed: (number | null)[] | undefined): void {
    const boards = this.#boards();
    if (this.#last.length !== boards.length) {
      const grown = new Float64Array(boards.length).fill(-1);
      grown.set(this.#last.subarray(0, Math.min(this.#last.length, boards.length)));
      this.#last = grown;
      const shapes = new Int32Array(boards.length);
      shapes.set(this.#shapes.subarray(0, Math.min(this.#shapes.length, boards.length)));
      this.#shapes = shapes;
      this.#slots = Int32Array.from(boards, (board) => (board instanceof SimBoard ? board.activity : -1));
      this.#seen = new Int32Array(boards.length);
      for (let at = 0; at < boards.length; at++) if (this.#slots[at] >= 0) this.#seen[at] = activityOf(this.#slots[at]) - 1;
    }
    const slots = this.#slots;
    const seen = this.#seen;
    for (let at = 0; at < boards.length; at++) {
      // a board that did nothing since the last look has nothing new to report
      const slot = slots[at];
      if (slot >= 0) {
        const count = activityOf(slot);
        if (count === seen[at]) continue;
        seen[at] = count;
      }
      const board = boards[at];
      const print = fingerprint(board);
      if (print === this.#last[at]) continue;
      this.#last[at] = print;
      if (packed !== undefined && board instanceof SimBoard) {
        const start = packed.length;
        packReport(board, packed);
        // (readings and actuators below 65,536 each: a board has a few)
        const shape = 1 + (packed[start + 1] as number) * 65_536 + (packed[start + 2] as number);
        if (shape === this.#shapes[at]) continue;
        packed.length = start;
        this.#shapes[at] = shape;
      }
      whole.push(reportOf(board));
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
