/*
 * Deep sleep of a simulated board in battery mode (device/app/battery.ts): the SleepIo the
 * firmware is handed (device/app/io.ts, the shape of Moddable's sleep modules). Its 32
 * retained words hold seeded noise at power-on, as RTC memory does, and keep what the
 * firmware wrote through every sleep. deep(ms) ends the wake: the cycle is recorded (awake
 * time from the wake to deep(), and the round trips the board waited for on its link),
 * every socket the firmware left open is destroyed (a sleeping board has no socket: its
 * radio is off), and after `ms` the board wakes, i.e. the engine starts the firmware afresh
 * with these words. Bytes the board wrote before deep() (a DISCONNECT, its FIN) are on the
 * wire already and still arrive. On a board deep() does not return; here it returns and
 * the firmware does nothing after it. Node side only.
 */

import { now } from "./io/monotonic.js";
import type { BoardNetwork } from "./io/network.js";
import { Prng } from "./chips/prng.js";

/** The retained words: as many as Moddable's retained values (build/devices/nrf52/modules/sleep). */
export const RETAINED_WORDS = 32;
/** How many wake cycles a board keeps. */
const CYCLES_KEPT = 100;

/** One wake of a board in battery mode, from its start to its deep sleep. */
export interface WakeCycle {
  /** 1 for the first wake after power-on, then 2, 3, ... */
  readonly wake: number;
  /** ms from the wake (the firmware starting) to deep(). */
  readonly awakeMs: number;
  /** Times the board waited for an answer on its link (network.ts): 0 when it did not connect. */
  readonly roundTrips: number;
  /** What the board asked to sleep, ms. */
  readonly sleepMs: number;
}

export interface BoardSleepOptions {
  seed: number;
  network: BoardNetwork;
  /** The board fell asleep after this cycle. */
  onSleep(cycle: WakeCycle): void;
  /** Time to wake: start the firmware again. */
  onWake(): void;
}

export class BoardSleep {
  readonly #words = new Int32Array(RETAINED_WORDS);
  readonly #options: BoardSleepOptions;
  #cycles: readonly WakeCycle[] = [];
  #wokeAt = now();
  #roundTripsAt = 0;
  #timer: NodeJS.Timeout | undefined = undefined;
  #asleep = false;
  #stopped = false;

  constructor(options: BoardSleepOptions) {
    this.#options = options;
    const noise = new Prng(options.seed ^ 0x51ee9);
    for (let i = 0; i < RETAINED_WORDS; i++) this.#words[i] = Math.floor(noise.next() * 2 ** 32) | 0;
  }

  /** The wake cycles so far, oldest first (the last 100). */
  get cycles(): readonly WakeCycle[] {
    return this.#cycles;
  }

  get asleep(): boolean {
    return this.#asleep;
  }

  /** Moddable's sleep modules check the index: a RangeError here outside 0 to 31. */
  getRetainedValue(index: number): number {
    return this.#words[checkIndex(index)];
  }

  setRetainedValue(index: number, value: number): void {
    this.#words[checkIndex(index)] = Number(value) | 0;
  }

  deep(ms: number): void {
    if (this.#asleep || this.#stopped) return;
    if (!(ms > 0) || !Number.isFinite(ms)) throw new RangeError("invalid sleep time");
    const network = this.#options.network;
    const cycle: WakeCycle = {
      wake: this.#cycles.length === 0 ? 1 : this.#cycles[this.#cycles.length - 1].wake + 1,
      awakeMs: now() - this.#wokeAt,
      roundTrips: network.roundTrips - this.#roundTripsAt,
      sleepMs: ms,
    };
    this.#cycles = [...this.#cycles.slice(-(CYCLES_KEPT - 1)), cycle];
    this.#asleep = true;
    network.powerOff();
    this.#options.onSleep(cycle);
    this.#timer = setTimeout(() => this.#wake(), ms);
  }

  /** No more wakes (the board is stopped). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #wake(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    this.#asleep = false;
    this.#wokeAt = now();
    this.#roundTripsAt = this.#options.network.roundTrips;
    this.#options.onWake();
  }
}

function checkIndex(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= RETAINED_WORDS) throw new RangeError("invalid index");
  return index;
}
