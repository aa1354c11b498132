/*
 * The dashboard's memory, all of it bounded: the fleet's history (online count and
 * messages/s, one point per tick for the last hour), each board's readings over the last
 * hour (one point per history step, in a ring per board) and the MQTT message log of the
 * boards someone watches (the last LOG_ENTRIES each). It reads a DashboardSource when
 * tick() is called and never drives a board. Node side only.
 */

import type { DashboardSource } from "./source.js";

/** How long the histories reach back, ms. */
export const HISTORY_MS = 3_600_000;
/** Messages a watched board's log keeps. */
export const LOG_ENTRIES = 200;
/** Messages/s is averaged over this many ticks (boards sampling in step publish in bursts). */
const RATE_TICKS = 6;
/** A logged payload is cut to this many characters. */
const PAYLOAD_CHARS = 1_000;

export interface LogEntry {
  /** Numbers every entry of the feed, so a client asks for what is new. */
  seq: number;
  /** ms since the epoch. */
  t: number;
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** A series of points: times (ms since the epoch) and, per key, values (null: none). */
export interface Series {
  t: number[];
  values: Record<string, (number | null)[]>;
}

/** A ring of `capacity` points, each a time and `width` numbers (NaN: none). */
class Ring {
  readonly times: Float64Array;
  readonly values: Float32Array;
  #next = 0;
  #size = 0;

  constructor(readonly capacity: number, readonly width: number) {
    this.times = new Float64Array(capacity);
    this.values = new Float32Array(capacity * width).fill(NaN);
  }

  push(t: number, values: ArrayLike<number>): void {
    const at = this.#next;
    this.times[at] = t;
    for (let i = 0; i < this.width; i++) this.values[at * this.width + i] = values[i];
    this.#next = (at + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  /** The points at or after `since`, oldest first. */
  series(keys: readonly string[], since: number): Series {
    const out: Series = { t: [], values: {} };
    for (const key of keys) out.values[key] = [];
    for (let n = 0; n < this.#size; n++) {
      const at = (this.#next - this.#size + n + this.capacity) % this.capacity;
      if (this.times[at] < since) continue;
      out.t.push(this.times[at]);
      keys.forEach((key, i) => {
        const value = this.values[at * this.width + i];
        out.values[key].push(Number.isNaN(value) ? null : Math.round(value * 100) / 100);
      });
    }
    return out;
  }
}

export interface FeedOptions {
  /** ms between fleet points (the dashboard's tick). */
  tickMs: number;
  /** ms between two points of a board's readings history. */
  historyStepMs: number;
}

export class DashboardFeed {
  readonly #source: DashboardSource;
  readonly #historyStep: number;
  readonly #fleet: Ring;
  /** Per board: its reading keys and their ring, made at its first history point. */
  readonly #boards = new Map<string, { keys: string[]; ring: Ring }>();
  readonly #logs = new Map<string, LogEntry[]>();
  #seq = 0;
  /** Ticks taken; a board's readings are recorded on the ticks where tick % slots = its index % slots. */
  #ticks = 0;
  /** Ticks per history step: each tick records one slot's share of the boards (no burst of them all at once). */
  readonly #slots: number;
  /** The message totals of the last RATE_TICKS ticks, oldest first: messages/s is over them all. */
  readonly #counts: { t: number; count: number }[] = [];
  /** The latest fleet point. */
  #latest = { t: 0, boards: 0, online: 0, rate: 0 };

  constructor(source: DashboardSource, options: FeedOptions) {
    this.#source = source;
    this.#historyStep = options.historyStepMs;
    this.#slots = Math.max(1, Math.round(options.historyStepMs / options.tickMs));
    this.#fleet = new Ring(Math.ceil(HISTORY_MS / options.tickMs), 2);
  }

  get latest(): { t: number; boards: number; online: number; rate: number } {
    return this.#latest;
  }

  /** Takes the fleet's point, and the readings of the boards whose turn it is (each board's once a history step). */
  tick(now = Date.now()): void {
    const totals = this.#source.totals();
    const counts = this.#counts;
    counts.push({ t: now, count: totals.messages });
    if (counts.length > RATE_TICKS) counts.shift();
    const first = counts[0];
    const rate = now <= first.t ? 0 : Math.max(0, (totals.messages - first.count) * 1000 / (now - first.t));
    this.#latest = { t: now, boards: totals.boards, online: totals.online, rate: Math.round(rate * 10) / 10 };
    this.#fleet.push(now, [totals.online, rate]);
    const ids = this.#source.ids();
    const slot = this.#ticks++ % this.#slots;
    for (let at = slot; at < ids.length; at += this.#slots) this.#record(ids[at], now);
  }

  #record(id: string, now: number): void {
    const readings = this.#source.readings(id);
    if (readings === undefined) return;
    let board = this.#boards.get(id);
    if (board === undefined) {
      const keys = readings.map((r) => r.key);
      board = { keys, ring: new Ring(Math.ceil(HISTORY_MS / this.#historyStep), keys.length) };
      this.#boards.set(id, board);
    }
    const values = board.keys.map((key) => readings.find((r) => r.key === key)?.value ?? NaN);
    board.ring.push(now, values);
  }

  fleetHistory(now = Date.now()): Series {
    return this.#fleet.series(["online", "rate"], now - HISTORY_MS);
  }

  /** A board's readings over the last hour, or undefined for an unknown board. */
  boardHistory(id: string, now = Date.now()): Series | undefined {
    if (this.#source.status(id) === undefined) return undefined;
    const board = this.#boards.get(id);
    return board === undefined ? { t: [], values: {} } : board.ring.series(board.keys, now - HISTORY_MS);
  }

  /** Starts keeping a board's log (the server subscribes to its topics). */
  watch(id: string): void {
    if (!this.#logs.has(id)) this.#logs.set(id, []);
  }

  /** Stops keeping a board's log and forgets it. */
  unwatch(id: string): void {
    this.#logs.delete(id);
  }

  /** A message seen on a watched board's topics. */
  message(id: string, topic: string, payload: string, qos: number, retain: boolean, now = Date.now()): void {
    const log = this.#logs.get(id);
    if (log === undefined) return;
    const text = payload.length > PAYLOAD_CHARS ? payload.slice(0, PAYLOAD_CHARS) + "…" : payload;
    log.push({ seq: ++this.#seq, t: now, topic, payload: text, qos, retain });
    if (log.length > LOG_ENTRIES) log.splice(0, log.length - LOG_ENTRIES);
  }

  /** A watched board's log entries after `seq`, oldest first. */
  log(id: string, after = 0): LogEntry[] {
    const log = this.#logs.get(id) ?? [];
    let from = log.length;
    while (from > 0 && log[from - 1].seq > after) from--;
    return log.slice(from);
  }
}
