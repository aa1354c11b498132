/*
 * The stream of board reports: every `interval` ms, a snapshot (status, readings,
 * actuators, counts, client stats, Wi-Fi) of each board that changed since the last one
 * (all of them the first time), as plain JSON-able objects. The same stream comes from a
 * simulator running its boards in its own process and, merged, from one running them in
 * worker processes (each worker sends its own over IPC): what a live view or a dashboard
 * consumes. Reads boards only; never changes one. Node side only.
 */

import type { ActuatorState, FirmwareCounts, ReadingState } from "../../device/app/firmware.js";
import type { ClientStats } from "../../device/mqtt/index.js";
import type { BoardStatus, FleetBoard } from "../board.js";

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
    const boards = this.#boards();
    if (this.#last.length !== boards.length) {
      const grown = new Float64Array(boards.length).fill(-1);
      grown.set(this.#last.subarray(0, Math.min(this.#last.length, boards.length)));
      this.#last = grown;
    }
    const reports: BoardReport[] = [];
    for (let at = 0; at < boards.length; at++) {
      const print = fingerprint(boards[at]);
      if (print === this.#last[at]) continue;
      this.#last[at] = print;
      reports.push(reportOf(boards[at]));
    }
    return reports;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
