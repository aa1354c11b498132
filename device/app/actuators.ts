/*
 * Actuators: outputs driven by commands on <prefix>/<node>/<id>/set. "ON", "OFF" and
 * "TOGGLE", in any letter case ("on", "Off"), drive the Digital pin; anything else is
 * refused and reported, never thrown. The resulting state is published retained (by the
 * firmware) on <prefix>/<node>/<id>/state, always as "ON" or "OFF". Parsing a command
 * allocates nothing: it reads the message's bytes in place.
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
const TOGGLE_BYTES = asciiBytes("TOGGLE");

/** What a command asks for. */
export const COMMAND_OFF = 0;
export const COMMAND_ON = 1;
export const COMMAND_TOGGLE = 2;
export const COMMAND_INVALID = -1;

/** Whether the message's payload is `upper` (ASCII capitals) in any letter case. Reads the receive buffer in place. */
function isCommand(message: Message, upper: Uint8Array): boolean {
  const length = message.payloadLength;
  if (length !== upper.length) return false;
  const buffer = message.buffer;
  for (let i = 0, at = message.payloadOffset; i < length; i++, at++) {
    const byte = buffer[at];
    // a-z folded onto A-Z; every other byte must match exactly
    if (byte !== upper[i] && !(byte >= 0x61 && byte <= 0x7a && byte - 0x20 === upper[i])) return false;
  }
  return true;
}

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

  /** COMMAND_ON, COMMAND_OFF, COMMAND_TOGGLE or COMMAND_INVALID for a received command. */
  parse(message: Message): number {
    if (isCommand(message, ON_BYTES)) return COMMAND_ON;
    if (isCommand(message, OFF_BYTES)) return COMMAND_OFF;
    if (isCommand(message, TOGGLE_BYTES)) return COMMAND_TOGGLE;
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
