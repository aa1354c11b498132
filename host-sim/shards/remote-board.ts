/*
 * A board that runs in a worker process (shard-worker.ts), as the parent sees it: its
 * state from the worker's reports and events (status changes, log lines and aborts in
 * order, snapshots every half second, packed after the first), its configuration resolved here as the worker
 * resolves it (the same inputs give the same result), and the few things a test or a view
 * may ask of it (an actuator, its network, stop), sent to the worker. It holds no socket
 * and runs no firmware. Node side only.
 */

import type { Config } from "../../device/app/config.js";
import type { ActuatorState, FirmwareCounts, ReadingState } from "../../device/app/firmware.js";
import type { ClientStats } from "../../device/mqtt/index.js";
import { BoardTopics } from "../board.js";
import type { BoardStatus, Engine, FleetBoard } from "../board.js";
import type { FirmwareModule } from "../firmware-module.js";
import { addListener, EMPTY, withItem } from "../io/lists.js";
import { packedLength, unpackReport } from "./reports.js";
import type { BoardReport } from "./reports.js";
import type { BoardAction } from "./protocol.js";

/** How many log lines a board keeps (as SimBoard). */
const LOG_LINES = 50;

const NO_COUNTS: FirmwareCounts = Object.freeze({
  samples: 0, sampleFailures: 0, readingsPublished: 0, statesPublished: 0, discoveryPublished: 0, commands: 0, badCommands: 0,
  connects: 0, disconnects: 0, diagnosticsPublished: 0, wifiJoins: 0,
});
const NO_STATS: ClientStats = Object.freeze({
  sent: 0, acknowledged: 0, resent: 0, dropped: 0, received: 0, oversize: 0, reconnects: 0, attempts: 0, strayAcks: 0,
});

/** What a remote board needs from the simulator that holds it. */
export interface RemoteLink {
  /** The board's resolved configuration (made once, on first use). */
  config(number: number): Config;
  firmware: FirmwareModule;
  /** Asks the worker that runs the board; resolves with its answer. */
  ask(number: number, action: BoardAction, args: unknown[]): Promise<unknown>;
}

export class RemoteBoard implements FleetBoard {
  readonly id: string;
  readonly number: number;
  readonly seed: number;
  readonly engine: Engine;
  readonly #link: RemoteLink;
  #report: BoardReport | undefined;
  /** The numbers of the latest packed report (applyPacked), newer than #report while #stale; let go once unpacked. */
  #values: number[] | undefined = undefined;
  #stale = false;
  #status: BoardStatus = "connecting";
  #everOnline = false;
  #abortError: Error | undefined;
  #log: readonly string[] = EMPTY;
  #config: Config | undefined;
  #topics: BoardTopics | undefined;
  #listeners: ((status: BoardStatus) => void)[] | undefined;
  #stopping: Promise<void> | undefined;

  constructor(number: number, id: string, seed: number, engine: Engine, link: RemoteLink) {
    this.number = number;
    this.seed = seed;
    this.id = id;
    this.engine = engine;
    this.#link = link;
  }

  get status(): BoardStatus {
    return this.#status;
  }

  get everOnline(): boolean {
    return this.#everOnline;
  }

  get abortError(): Error | undefined {
    return this.#abortError;
  }

  get log(): readonly string[] {
    return this.#log;
  }

  get config(): Config {
    this.#config ??= this.#link.config(this.number);
    return this.#config;
  }

  get topics(): BoardTopics {
    this.#topics ??= new BoardTopics(this, this.#link.firmware);
    return this.#topics;
  }

  /** As of the worker's last report. */
  get readings(): ReadingState[] {
    return this.report?.readings ?? [];
  }

  get actuators(): ActuatorState[] {
    return this.report?.actuators ?? [];
  }

  get counts(): FirmwareCounts {
    return this.report?.counts ?? NO_COUNTS;
  }

  get stats(): ClientStats {
    return this.report?.stats ?? NO_STATS;
  }

  get messages(): { sent: number; received: number } {
    const stats = this.stats;
    return { sent: stats.sent, received: stats.received };
  }

  get wifi(): { readonly up: boolean; rssi(): number } {
    const wifi = this.report?.wifi ?? { up: true, rssi: 0 };
    return { up: wifi.up, rssi: () => wifi.rssi };
  }

  /** The latest report from the worker, undefined before the first. */
  get report(): BoardReport | undefined {
    if (this.#stale) {
      this.#report = unpackReport(this.#report as BoardReport, this.#values as number[], 0);
      this.#stale = false;
      this.#values = undefined; // (a board's view keeps one of the two: its report, or the numbers of a newer one)
    }
    return this.#report;
  }

  onStatus(listener: (status: BoardStatus) => void): () => void {
    return addListener((this.#listeners ??= []), listener);
  }

  setActuator(id: string, on: boolean): Promise<boolean> {
    return this.#running().ask(this.number, "setActuator", [id, on]) as Promise<boolean>;
  }

  /** Sent to the worker; applied there before any later request to this board. */
  cutNetwork(): void {
    this.#running().ask(this.number, "cutNetwork", []).catch(() => {});
  }

  restoreNetwork(): void {
    this.#running().ask(this.number, "restoreNetwork", []).catch(() => {});
  }

  setChip(chip: "sht3x" | "bh1750", values: Record<string, number>): Promise<void> {
    return this.#running().ask(this.number, "setChip", [chip, values]) as Promise<void>;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#link.ask(this.number, "stop", []).then(() => {}, () => {});
    return this.#stopping;
  }

  /** @internal A report from the worker. */
  applyReport(report: BoardReport): void {
    this.#report = report;
    this.#stale = false;
  }

  /**
   * @internal A packed report from the worker (reports.ts packReport), at `at` in `packed`:
   * unpacked when first read, with the names of the report before it (a worker packs a
   * board's reports only after sending one whole).
   */
  applyPacked(packed: readonly (number | null)[], at: number): void {
    if (this.#report === undefined) return; // (never: see above)
    // copied into numbers of the board's own (null as NaN, in an array of doubles: no
    // ArrayBuffer and its backing store per board): the worker's message is left to the
    // young generation's collection rather than kept by the boards it updated
    const length = packedLength(packed, at);
    let values = this.#values;
    if (values === undefined || values.length !== length) values = this.#values = new Array<number>(length).fill(NaN);
    for (let i = 0; i < length; i++) values[i] = packed[at + i] ?? NaN;
    this.#stale = true;
  }

  /** @internal A status change, in the order the worker saw it. */
  applyStatus(status: BoardStatus): void {
    if (status === this.#status || this.#status === "aborted") return;
    this.#status = status;
    if (status === "online") this.#everOnline = true;
    if (this.#listeners !== undefined) for (const listener of [...this.#listeners]) listener(status);
  }

  /** @internal A log line of the firmware. */
  applyLog(line: string): void {
    this.#log = withItem(this.#log, line, LOG_LINES);
  }

  /** @internal The board aborted (or its worker ended): for good. */
  applyAbort(error: Error): void {
    if (this.#abortError !== undefined) return;
    this.#abortError = error;
    this.applyStatus("aborted");
  }

  #running(): RemoteLink {
    if (this.#stopping !== undefined) throw new Error(`${this.id} is stopped`);
    return this.#link;
  }
}
