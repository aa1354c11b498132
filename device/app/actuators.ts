/*
 * Actuators: outputs driven by commands on <prefix>/<node>/<id>/set. "ON" and "OFF"
 * (exactly those bytes) drive the Digital pin; anything else is refused and reported,
 * never thrown. The resulting state is published retained (by the firmware) on
 * <prefix>/<node>/<id>/state. Parsing a command allocates nothing.
 */

import type { Message } from "../mqtt/message.js";
import { asciiBytes } from "./ascii.js";
import type { ActuatorSpec } from "./config.js";
import type { DigitalClass, DigitalPin } from "./io.js";

export const ON_TEXT = "ON";
export const OFF_TEXT = "OFF";

/** What a command asks for. */
export const COMMAND_OFF = 0;
export const COMMAND_ON = 1;
export const COMMAND_INVALID = -1;

export class Actuator {
  readonly spec: ActuatorSpec;
  /** The bytes of "ON" and "OFF", for comparing and publishing. */
  readonly onBytes: Uint8Array;
  readonly offBytes: Uint8Array;
  #on: boolean;
  #pin: DigitalPin | undefined = undefined;

  /** Opens the pin (when a Digital class is given) and drives the initial state. Throws if the pin cannot be opened. */
  constructor(spec: ActuatorSpec, Digital: DigitalClass | undefined) {
    this.spec = spec;
    this.onBytes = asciiBytes(ON_TEXT);
    this.offBytes = asciiBytes(OFF_TEXT);
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
    return this.#on ? this.onBytes : this.offBytes;
  }

  /** COMMAND_ON, COMMAND_OFF or COMMAND_INVALID for a received command. */
  parse(message: Message): number {
    if (message.payloadEquals(this.onBytes)) return COMMAND_ON;
    if (message.payloadEquals(this.offBytes)) return COMMAND_OFF;
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
