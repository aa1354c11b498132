/*
 * Keepalive timing: when a PINGREQ is due, so that no gap between the packets the client
 * sends exceeds the keepalive [MQTT-3.1.2-23], and when a silent broker counts as dead (1.5
 * times the keepalive, as a broker judges a client [MQTT-3.1.2-24]); and the client's one
 * timer, whose period changes without a new timer. Arithmetic on the times it is told and
 * the Timer module it is handed; allocates nothing after start().
 */

import type { TimerId, TimerModule } from "./io.js";

/** The longest a connected client's timer waits between keepalive checks, ms. */
const CONNECTED_TICK_MAX = 5_000;

/** check(): nothing to do. */
export const KEEPALIVE_IDLE = 0;
/** check(): send a PINGREQ now. */
export const KEEPALIVE_PING = 1;
/** check(): the broker has been silent too long: drop the connection. */
export const KEEPALIVE_DEAD = 2;

export class Keepalive {
  /** When the client last wrote to the socket, ms. */
  lastSent = 0;
  /** When the client last read from the socket (or connected), ms. */
  lastReceived = 0;
  /** A PINGREQ is out and its PINGRESP not yet read. */
  pingOutstanding = false;
  /** The keepalive, ms; 0 turns it off. */
  #period: number;
  /** The client's timer period while not connected, ms. */
  readonly #tick: number;

  constructor(keepAliveSeconds: number, tickInterval: number) {
    this.#period = keepAliveSeconds * 1000;
    this.#tick = tickInterval;
  }

  /**
   * The connected client's timer period, ms: an eighth of the keepalive, within the shorter
   * tick and 5 s (a PINGREQ goes a period early so that it is never late; a silent broker is
   * found dead at most a period after 1.5 times the keepalive).
   */
  get interval(): number {
    const period = this.#period;
    return Math.max(this.#tick, Math.min(period === 0 ? CONNECTED_TICK_MAX : period / 8, CONNECTED_TICK_MAX));
  }

  /** Sets the keepalive, ms: MQTT 5.0's Server Keep Alive replaces the client's [MQTT-3.2.2-21]. */
  set period(ms: number) {
    this.#period = ms;
  }

  /** What the connected client's timer tick at `now` calls for. */
  check(now: number): number {
    const period = this.#period;
    if (period === 0) return KEEPALIVE_IDLE;
    if (now - this.lastReceived >= period * 1.5) return KEEPALIVE_DEAD;
    const idle = now - this.lastSent >= period - this.interval; // the next tick would be too late
    return !this.pingOutstanding && (idle || now - this.lastReceived >= period) ? KEEPALIVE_PING : KEEPALIVE_IDLE;
  }
}

/**
 * The client's timer: a repeating Timer whose period changes with Timer.schedule (Moddable's
 * `timer` module; a Timer without it keeps the first period).
 */
export class Ticker {
  #id: TimerId | undefined = undefined;
  #Timer: TimerModule | undefined = undefined;
  #period = 0;

  start(Timer: TimerModule, callback: () => void, period: number): void {
    this.#Timer = Timer;
    this.#period = period;
    this.#id = Timer.repeat(callback, period);
  }

  /** Fires every `period` ms from now on (nothing when that is already its period). */
  set period(period: number) {
    const Timer = this.#Timer;
    if (this.#id === undefined || Timer === undefined || Timer.schedule === undefined || period === this.#period) return;
    this.#period = period;
    Timer.schedule(this.#id, period, period);
  }

  stop(): void {
    if (this.#id !== undefined) this.#Timer?.clear(this.#id);
    this.#id = undefined;
  }
}
