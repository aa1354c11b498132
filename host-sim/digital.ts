/*
 * Virtual GPIO pins for the simulated board, and `pins.Digital`, a class with the ECMA-419
 * `embedded:io/digital` shape behaving as Moddable's ESP32 implementation does: modes
 * Input 0, InputPullUp 1, InputPullDown 2, InputPullUpDown 3, Output 8, OutputOpenDrain 9;
 * edges Rising 1, Falling 2 (or both, 3); an output starts at 0; `write(v)` writes 1 for any
 * truthy v; `read()` of an output and `write()` of an input throw Error("unimplemented");
 * a pin held by an open instance throws Error("in use"); onReadable needs an input mode
 * (RangeError "invalid mode") and an edge (RangeError "invalid edges"); pins 34 to 39 are
 * input only. onReadable is called with `this` = the instance, never from inside a call:
 * queued as a microtask, and several edges before it runs make one call.
 *
 * The simulator side sees and drives the wires: `pins.level(n)`, `pins.onChange(listener)`
 * and `pins.set(n, level)`, which drives a pin from outside (a button, another board) and
 * triggers onReadable on an input whose edge matches. A pin's level: an output drives it
 * (open drain: 0, or released to the outside drive, else 1 through the board's pull-up);
 * otherwise the outside drive if any, else the input's pull (up 1; down, up-and-down,
 * or none 0). Node side only.
 */

import { withItem } from "./lists.js";

export type Level = 0 | 1;

export interface SimDigitalOptions {
  pin: number;
  /** One of the mode constants; `unknown` as in Moddable's typings, checked at run time. */
  mode: unknown;
  edge?: number;
  onReadable?: ((this: SimDigital) => void) | null;
  format?: "number";
  target?: unknown;
}

const INPUT = 0;
const INPUT_PULL_UP = 1;
const INPUT_PULL_DOWN = 2;
const INPUT_PULL_UP_DOWN = 3;
const OUTPUT = 8;
const OUTPUT_OPEN_DRAIN = 9;
const RISING = 1;
const FALLING = 2;

interface PinState {
  /** The GPIO number. */
  pin: number;
  /** Driven from outside by the simulator, or undefined (not driven). */
  external: Level | undefined;
  owner: SimDigital | undefined;
  mode: number;
  /** The value an output writes. */
  out: Level;
  level: Level;
}

/** An open digital pin. Construct it through `pins.Digital`. */
export class SimDigital {
  static readonly Input = INPUT;
  static readonly InputPullUp = INPUT_PULL_UP;
  static readonly InputPullDown = INPUT_PULL_DOWN;
  static readonly InputPullUpDown = INPUT_PULL_UP_DOWN;
  static readonly Output = OUTPUT;
  static readonly OutputOpenDrain = OUTPUT_OPEN_DRAIN;
  static readonly Rising = RISING;
  static readonly Falling = FALLING;

  #board: VirtualPins | null;
  #pin: number;
  #input: boolean;
  #edge: number;
  #onReadable: ((this: SimDigital) => void) | null;
  #queued = false;
  target?: unknown;

  /** Not for direct use: `new pins.Digital(options)` (this class bound to the board). */
  constructor(board: VirtualPins, options: SimDigitalOptions) {
    if (options === undefined || options === null || typeof options !== "object") throw new TypeError("options required");
    if (options.pin === undefined) throw new Error("invalid");
    const pin = Number(options.pin);
    if (!Number.isInteger(pin) || pin < 0 || pin >= board.count) throw new RangeError("invalid pin");
    if (board._state(pin).owner !== undefined) throw new Error("in use");
    const mode = options.mode;
    const input = mode === INPUT || mode === INPUT_PULL_UP || mode === INPUT_PULL_DOWN || mode === INPUT_PULL_UP_DOWN;
    if (!input && mode !== OUTPUT && mode !== OUTPUT_OPEN_DRAIN) throw new RangeError("invalid mode");
    const onReadable = options.onReadable ?? null;
    if (onReadable !== null && typeof onReadable !== "function") throw new TypeError("onReadable must be a function");
    const edge = Number(options.edge ?? 0) & (RISING | FALLING);
    if (onReadable !== null) {
      if (!input) throw new RangeError("invalid mode");
      if (edge === 0) throw new RangeError("invalid edges");
    }
    if (options.format !== undefined && options.format !== "number") throw new RangeError("invalid format");
    if (!input && board.inputOnly.has(pin)) throw new RangeError("invalid mode");
    this.#board = board;
    this.#pin = pin;
    this.#input = input;
    this.#edge = edge;
    this.#onReadable = onReadable;
    if ("target" in options) this.target = options.target;
    board._claim(pin, this, mode as number);
  }

  get format(): "number" {
    return "number";
  }

  set format(value: "number") {
    if (value !== "number") throw new RangeError("invalid format");
  }

  read(): Level {
    const board = this.#open();
    if (!this.#input) throw new Error("unimplemented");
    return board.level(this.#pin);
  }

  write(value: unknown): void {
    const board = this.#open();
    if (this.#input) throw new Error("unimplemented");
    board._drive(this.#pin, value ? 1 : 0);
  }

  close(): void {
    const board = this.#board;
    if (board === null) return;
    this.#board = null;
    board._release(this.#pin);
  }

  /** @internal The pin's level changed. */
  _changed(from: Level, to: Level): void {
    if (this.#onReadable === null) return;
    const edge = to > from ? RISING : FALLING;
    if (!(this.#edge & edge) || this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      if (this.#board !== null) this.#onReadable!.call(this);
    });
  }

  #open(): VirtualPins {
    if (this.#board === null) throw new Error("closed");
    return this.#board;
  }
}

/** The ECMA-419 Digital class of one board. */
export type DigitalClass = (new (options: SimDigitalOptions) => SimDigital) &
  Pick<typeof SimDigital, "Input" | "InputPullUp" | "InputPullDown" | "InputPullUpDown" | "Output" | "OutputOpenDrain" | "Rising" | "Falling">;

export interface VirtualPinsOptions {
  /** GPIO numbers 0 to count - 1; default 40 (ESP32). */
  count?: number;
  /** Pins that cannot be outputs; default 34 to 39 (ESP32). */
  inputOnly?: readonly number[];
}

export type PinListener = (pin: number, level: Level) => void;

/** The constants of the Digital class (static properties of SimDigital; copied onto each board's bound class). */
const DIGITAL_CONSTANTS = Object.freeze({
  Input: INPUT, InputPullUp: INPUT_PULL_UP, InputPullDown: INPUT_PULL_DOWN, InputPullUpDown: INPUT_PULL_UP_DOWN,
  Output: OUTPUT, OutputOpenDrain: OUTPUT_OPEN_DRAIN, Rising: RISING, Falling: FALLING,
});

/** ESP32 GPIOs 34 to 39: inputs only. */
const ESP32_INPUT_ONLY: ReadonlySet<number> = new Set([34, 35, 36, 37, 38, 39]);

/** The GPIO pins of one simulated board. */
export class VirtualPins {
  readonly count: number;
  readonly inputOnly: ReadonlySet<number>;
  /** The ECMA-419 Digital class for this board: hand it to the firmware. */
  readonly Digital: DigitalClass;
  /**
   * Made on a pin's first use, in that order (a short list: a fleet of boards uses two pins
   * each of forty), replaced on every change (lists.ts).
   */
  #pins: readonly PinState[] = [];
  /** Made on first use. */
  #listeners: Set<PinListener> | undefined = undefined;

  constructor(options: VirtualPinsOptions = {}) {
    this.count = options.count ?? 40;
    this.inputOnly = options.inputOnly === undefined ? ESP32_INPUT_ONLY : new Set(options.inputOnly);
    // SimDigital bound to this board, with its constants: instances are SimDigitals (one
    // class for every board, so a fleet shares its shapes), and `instanceof` still holds
    this.Digital = Object.assign(SimDigital.bind(null, this), DIGITAL_CONSTANTS) as DigitalClass;
  }

  /** The level on a pin now. */
  level(pin: number): Level {
    return this._state(pin).level;
  }

  /** The mode of the open Digital holding a pin (Digital.Input ... Digital.OutputOpenDrain), or undefined. */
  mode(pin: number): number | undefined {
    const state = this._state(pin);
    return state.owner === undefined ? undefined : state.mode;
  }

  /** Drives a pin from outside the chip (a button, a sensor's output), or stops driving it (undefined). */
  set(pin: number, level: Level | undefined): void {
    const state = this._state(pin);
    state.external = level === undefined ? undefined : level ? 1 : 0;
    this.#resolve(pin, state);
  }

  /** Calls the listener with (pin, level) after every change of a level; returns a function that removes it. */
  onChange(listener: PinListener): () => void {
    (this.#listeners ??= new Set()).add(listener);
    return () => {
      this.#listeners?.delete(listener);
    };
  }

  /** @internal */
  _state(pin: number): PinState {
    if (!(Number.isInteger(pin) && pin >= 0 && pin < this.count)) throw new RangeError(`VirtualPins: no pin ${pin}`);
    const pins = this.#pins;
    for (let i = 0; i < pins.length; i++) if (pins[i].pin === pin) return pins[i];
    const state: PinState = { pin, external: undefined, owner: undefined, mode: -1, out: 0, level: 0 };
    this.#pins = withItem(pins, state);
    return state;
  }

  /** @internal */
  _claim(pin: number, owner: SimDigital, mode: number): void {
    const state = this._state(pin);
    state.owner = owner;
    state.mode = mode;
    state.out = 0;
    this.#resolve(pin, state, false);
  }

  /** @internal */
  _release(pin: number): void {
    const state = this._state(pin);
    state.owner = undefined;
    state.mode = -1;
    this.#resolve(pin, state);
  }

  /** @internal */
  _drive(pin: number, value: Level): void {
    const state = this._state(pin);
    state.out = value;
    this.#resolve(pin, state);
  }

  /** Recomputes a pin's level; on a change tells listeners and (unless `notifyOwner` is false) the owner's edge detector. */
  #resolve(pin: number, state: PinState, notifyOwner = true): void {
    let level: Level;
    const mode = state.owner === undefined ? -1 : state.mode;
    if (mode === OUTPUT) level = state.out;
    else if (mode === OUTPUT_OPEN_DRAIN) level = state.out === 0 ? 0 : (state.external ?? 1);
    else level = state.external ?? (mode === INPUT_PULL_UP ? 1 : 0);
    const from = state.level;
    if (level === from) return;
    state.level = level;
    if (notifyOwner) state.owner?._changed(from, level);
    const listeners = this.#listeners;
    if (listeners !== undefined) for (const listener of listeners) listener(pin, level);
  }
}
