/*
 * Actuators: outputs driven by commands on <prefix>/<node>/<id>/set. "ON" and "OFF"
 * (exactly those bytes) drive the Digital pin; anything else is refused and reported,
 * never thrown. The resulting state is published retained (by the firmware) on
 * <prefix>/<node>/<id>/state. Parsing a command allocates nothing.
 */

import type { Message } from "../mqtt/index.js";
import { asciiBytes } from "./ascii.js";
import type { ActuatorSpec } from "./config.js";
import type { DigitalClass, DigitalPin } from "./io.js";

export const ON_TEXT = "ON";
export const OFF_TEXT = "OFF";
/**
 * The bytes of "ON" and "OFF", shared by every actuator: only ever read (compared, and
 * copied into the client's outbox when published). Never write into them.
 */
const ON_BYTES = asciiBytes(ON_TEXT);
const OFF_BYTES = asciiBytes(OFF_TEXT);

/** What a command asks for. */
const COMMAND_OFF = 0;
export const COMMAND_ON = 1;
export const COMMAND_INVALID = -1;

export class Actuator {
  readonly spec: ActuatorSpec;
  #on: boolean;
  #pin: DigitalPin | undefined = undefined;

  /** Opens the pin (when a Digital class is given) and drives the initial state. Throws if the pin cannot be opened. */
  constructor(spec: ActuatorSpec, Digital: DigitalClass | undefined) {
    this.spec = spec;
    this.#on = spec.initial === "ON";
    if (Digital !== undefined) {
      this.#pin = new Digital({ pin: spec.pin, mode: Digital.Output });
      this.#drive();
    }
  }

  get on(): boolean {
    return this.#on;
  }

  /** The bytes of the current state, "ON" or "OFF". */
  get stateBytes(): Uint8Array {
    return this.#on ? ON_BYTES : OFF_BYTES;
  }

  /** COMMAND_ON, COMMAND_OFF or COMMAND_INVALID for a received command. */
  parse(message: Message): number {
    if (message.payloadEquals(ON_BYTES)) return COMMAND_ON;
    if (message.payloadEquals(OFF_BYTES)) return COMMAND_OFF;
    return COMMAND_INVALID;
  }

  /** Sets the state and drives the pin. */
  set(on: boolean): void {
    this.#on = on;
    this.#drive();
  }

  /** Releases the pin. */
  close(): void {
    const pin = this.#pin;
    this.#pin = undefined;
    if (pin !== undefined && pin.close !== undefined) pin.close();
  }

  #drive(): void {
    const pin = this.#pin;
    if (pin === undefined) return;
    const high = this.#on !== this.spec.activeLow;
    pin.write(high ? 1 : 0);
  }
}
