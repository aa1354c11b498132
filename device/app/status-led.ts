/*
 * The optional status LED: blinking fast while connecting for the first time, lit while
 * online, a short flash every two seconds while offline. Driven by the firmware's
 * 250 ms tick (slower while online: the LED is steady then); allocates nothing after construction.
 */

import type { DigitalClass, DigitalPin } from "./io.js";

export type FirmwareStatus = "connecting" | "online" | "offline";

/** The statuses compared with, made once (in XS a string literal is a new string each time it runs). */
export const ONLINE: FirmwareStatus = "online";
const CONNECTING: FirmwareStatus = "connecting";

/** The firmware's housekeeping tick, ms (the LED's time base). */
export const TICK_MS = 250;
/**
 * The housekeeping tick while online with nothing pending (the LED steady), ms: at least
 * IDLE_TICK_MS, else until the diagnostics are due, at most MAX_IDLE_TICK_MS (with no
 * diagnostics, nothing else needs it then: a lost link makes the node offline first).
 */
export const IDLE_TICK_MS = 1_000;
export const MAX_IDLE_TICK_MS = 60_000;

export class StatusLed {
  readonly #pin: DigitalPin;
  readonly #activeLow: boolean;
  #lit = -1;
  #closed = false;

  /** Throws if the pin cannot be opened. */
  constructor(spec: { pin: number; activeLow: boolean }, Digital: DigitalClass) {
    this.#pin = new Digital({ pin: spec.pin, mode: Digital.Output });
    this.#activeLow = spec.activeLow;
  }

  /** Shows `status` at tick number `tick`. */
  show(status: FirmwareStatus, tick: number): void {
    let lit: boolean;
    if (status === ONLINE) lit = true;
    else if (status === CONNECTING) lit = (tick & 1) === 0;
    else lit = tick % 8 === 0;
    this.#write(lit);
  }

  /** Turns the LED off and releases the pin. */
  close(): void {
    if (this.#closed) return;
    this.#write(false);
    this.#closed = true;
    if (this.#pin.close !== undefined) this.#pin.close();
  }

  #write(lit: boolean): void {
    if (this.#closed) return;
    const level = lit ? 1 : 0;
    if (level === this.#lit) return;
    this.#lit = level;
    this.#pin.write(lit !== this.#activeLow ? 1 : 0);
  }
}
