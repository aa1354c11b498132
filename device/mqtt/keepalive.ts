/*
 * Keepalive timing: when a PINGREQ is due, so that no gap between the packets the client
 * sends exceeds the keepalive [MQTT-3.1.2-23], and when a silent broker counts as dead (1.5
 * times the keepalive, as a broker judges a client [MQTT-3.1.2-24]). Arithmetic on the times
 * it is told; no IO, no allocation.
 */

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
  /** The client's timer period, ms: a PINGREQ goes a period early so that it is never late. */
  readonly #tick: number;

  constructor(keepAliveSeconds: number, tickInterval: number) {
    this.#period = keepAliveSeconds * 1000;
    this.#tick = tickInterval;
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
    const idle = now - this.lastSent >= period - this.#tick; // the next tick would be too late
    return !this.pingOutstanding && (idle || now - this.lastReceived >= period) ? KEEPALIVE_PING : KEEPALIVE_IDLE;
  }
}
