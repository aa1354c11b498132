/*
 * Virtual GPIO pins for the simulated board, and `pins.Digital`, a class with the ECMA-419
 * `embedded:io/digital` shape behaving as Moddable's ESP32 implementation does
 * (modules/io/digital/digital.js over modules/io/digital/esp32/digitalbank.c; the rows of
 * docs/moddable-io.md "## Digital"): modes Input 0, InputPullUp 1, InputPullDown 2,
 * InputPullUpDown 3, Output 8, OutputOpenDrain 9; edges Rising 1, Falling 2 (or both, 3);
 * no pin → Error("invalid"); a GPIO the chip lacks → Error("invalid pin"); a pin held by a
 * Digital or an I²C connection → Error("in use"); no mode → Error("invalid"), a wrong one →
 * RangeError("invalid mode"); an output on 34 to 39 → RangeError("input only"); an output
 * starts at `initialValue` (0 when absent); `activeLow` inverts reads, writes, the initial
 * value and the edges; `write(v)` writes 1 when Number(v) is neither 0 nor NaN; `read()` of an
 * output → Error("can't read output"), `write()` of an input → Error("can't write input");
 * after close() both throw SyntaxError (XS's "invalid host data"). onReadable (inputs only;
 * an output ignores it) needs an edge (RangeError "invalid edges") and is called with
 * `this` = the instance and the pin's bit (1 << (pin & 31)), never from inside a call:
 * queued as a microtask, and several edges before it runs make one call.
 *
 * The simulator side sees and drives the wires: `pins.level(n)`, `pins.onChange(listener)`
 * and `pins.set(n, level)`, which drives a pin from outside (a button, another board) and
 * triggers onReadable on an input whose edge matches. A pin's level: an output drives it
 * (open drain: 0, or released to the outside drive, else 1 through the board's pull-up);
 * otherwise the outside drive if any, else the input's pull (up 1; down, up-and-down,
 * or none 0). The pins are also the board's register of pins in use, shared with the I²C
 * bus wired to them (host-sim/io/i2c.ts), as Moddable's builtinUsePin register is
 * (modules/io/common/builtinCommon.c). Node side only.
 */

import { EMPTY, withItem, withoutAt } from "./lists.js";

export type Level = 0 | 1;

export interface SimDigitalOptions {
  pin: number;
  /** One of the mode constants; `unknown` as in Moddable's typings, checked at run time. */
  mode: unknown;
  edge?: number;
  onReadable?: ((this: SimDigital, triggered: number) => void) | null;
  /** Outputs: the value written at open (before activeLow); default 0. */
  initialValue?: unknown;
  /** The pin is active low: reads, writes, initialValue and edges are inverted. */
  activeLow?: unknown;
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
const ACTIVE_LOW = 16;

/** What XS throws when a method runs on a host object whose data is gone (closed), xs/sources/xsAPI.c fxGetHostDataValidate. */
export function closedError(): SyntaxError {
  return new SyntaxError("C: xsGetHostData: invalid host data");
}

/** XS's ToInteger as host code sees it (xsmcToInteger): NaN and infinities 0, truncated to an int32. */
export function toInteger(value: unknown): number {
  const number = Number(value);
  return Number.isFinite(number) ? Math.trunc(number) | 0 : 0;
}

interface PinState {
  /** The GPIO number. */
  pin: number;
  /** Driven from outside by the simulator, or undefined (not driven). */
  external: Level | undefined;
  owner: SimDigital | undefined;
  mode: number;
  /** The value an output writes (on the wire, after activeLow). */
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
  static readonly ActiveLow = ACTIVE_LOW;
  static readonly Rising = RISING;
  static readonly Falling = FALLING;

  #board: VirtualPins | null;
  #pin: number;
  #input: boolean;
  /** 1 when active low: XORed into reads and writes. */
  #invert: Level;
  /** The wire edges that call onReadable (already swapped for activeLow). */
  #edge: number;
  #onReadable: ((this: SimDigital, triggered: number) => void) | null;
  #queued = false;
  /** Only when the options give one, as on Moddable (no field otherwise). */
  declare target?: unknown;

  /** Not for direct use: `new pins.Digital(options)` (this class bound to the board). Checks in Moddable's order. */
  constructor(board: VirtualPins, options: SimDigitalOptions) {
    if (options === undefined || options === null || typeof options !== "object") throw new TypeError("options required");
    const raw: unknown = options.pin;
    if (raw === undefined) throw new Error("invalid");
    const bank = ((raw as number) >> 5) & 0xff;
    if (bank >= 2) throw new Error("invalid bank");
    const pin = bank * 32 + ((raw as number) & 0x1f);
    if (!board.exists(pin)) throw new Error("invalid pin");
    if (!board.isFree(pin)) throw new Error("in use");
    if (options.mode === undefined) throw new Error("invalid");
    const mode = toInteger(options.mode);
    const input = mode >= INPUT && mode <= INPUT_PULL_UP_DOWN;
    if (!input && mode !== OUTPUT && mode !== OUTPUT_OPEN_DRAIN) throw new RangeError("invalid mode");
    const invert: Level = "activeLow" in options && options.activeLow ? 1 : 0;
    let onReadable: ((this: SimDigital, triggered: number) => void) | null = null;
    let edge = 0;
    let initial: Level = 0;
    if (input) {
      const callback: unknown = options.onReadable;
      if (callback !== undefined && callback !== null) {
        if (typeof callback !== "function") throw new Error("not a function");
        onReadable = callback as (this: SimDigital, triggered: number) => void;
        const edges = toInteger(options.edge ?? 0);
        const rises = edges & RISING ? RISING : 0;
        const falls = edges & FALLING ? FALLING : 0;
        if (!rises && !falls) throw new RangeError("invalid edges");
        edge = invert ? (rises ? FALLING : 0) | (falls ? RISING : 0) : rises | falls;
      }
    } else {
      if (board.inputOnly.has(pin)) throw new RangeError("input only");
      if ("initialValue" in options) initial = Number(options.initialValue) ? 1 : 0;
    }
    if ("target" in options) this.target = options.target;
    if ("format" in options && options.format && String(options.format) !== "number") throw new RangeError("invalid format");
    this.#board = board;
    this.#pin = pin;
    this.#input = input;
    this.#invert = invert;
    this.#edge = edge;
    this.#onReadable = onReadable;
    board._claim(pin, this, mode, (initial ^ invert) as Level);
  }

  get format(): "number" {
    return "number";
  }

  set format(value: "number") {
    if (value !== "number") throw new RangeError("invalid format");
  }

  read(): Level {
    const board = this.#open();
    if (!this.#input) throw new Error("can't read output");
    return (board.level(this.#pin) ^ this.#invert) as Level;
  }

  write(value: unknown): void {
    const on: Level = Number(value) ? 1 : 0;
    const board = this.#open();
    if (this.#input) throw new Error("can't write input");
    board._drive(this.#pin, (on ^ this.#invert) as Level);
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
      const board = this.#board;
      if (board === null) return;
      const bit = 1 << (this.#pin & 0x1f);
      if (board.guard === undefined) this.#onReadable!.call(this, bit);
      else board.guard.run(this.#onReadable!, this, bit);
    });
  }

  #open(): VirtualPins {
    if (this.#board === null) throw closedError();
    return this.#board;
  }
}

/** The ECMA-419 Digital class of one board. */
export type DigitalClass = (new (options: SimDigitalOptions) => SimDigital) &
  Pick<typeof SimDigital, "Input" | "InputPullUp" | "InputPullDown" | "InputPullUpDown" | "Output" | "OutputOpenDrain" | "ActiveLow" | "Rising" | "Falling">;

export interface VirtualPinsOptions {
  /** GPIO numbers 0 to count - 1; default 40 (ESP32). */
  count?: number;
  /** Pins that cannot be outputs; default 34 to 39 (ESP32). */
  inputOnly?: readonly number[];
  /** GPIO numbers below count that the chip lacks; default 20, 24 and 28 to 31 (ESP32). */
  missing?: readonly number[];
}

export type PinListener = (pin: number, level: Level) => void;

/** ESP32 GPIOs 34 to 39: inputs only. */
const ESP32_INPUT_ONLY: ReadonlySet<number> = new Set([34, 35, 36, 37, 38, 39]);
/** GPIO numbers an ESP32 lacks (ESP-IDF's SOC_GPIO_VALID_GPIO_MASK, which Moddable's registry starts from). */
const ESP32_MISSING: ReadonlySet<number> = new Set([20, 24, 28, 29, 30, 31]);

/** The GPIO pins of one simulated board. */
export class VirtualPins {
  readonly count: number;
  readonly inputOnly: ReadonlySet<number>;
  readonly missing: ReadonlySet<number>;
  /** The ECMA-419 Digital class for this board: hand it to the firmware. */
  readonly Digital: DigitalClass;
  /**
   * Made on a pin's first drive or hold, in that order (a short list: a fleet's boards drive
   * two pins each of forty; the I²C pins and pins only asked about get none), replaced on
   * every change (lists.ts).
   */
  #pins: readonly PinState[] = EMPTY;
  /** Pins held by I²C connections (a few), replaced on every change (lists.ts). */
  #i2c: readonly number[] = EMPTY;
  /** Made on first use. */
  #listeners: Set<PinListener> | undefined = undefined;
  /** Runs the pins' onReadable callbacks for a board (its abort guard, abort.ts), if set. */
  guard: { run(callback: (this: SimDigital, triggered: number) => void, self: SimDigital, triggered: number): void } | undefined = undefined;

  constructor(options: VirtualPinsOptions = {}) {
    this.count = options.count ?? 40;
    this.inputOnly = options.inputOnly === undefined ? ESP32_INPUT_ONLY : new Set(options.inputOnly);
    this.missing = options.missing === undefined ? ESP32_MISSING : new Set(options.missing);
    // SimDigital bound to this board: instances are SimDigitals (one class for every board, so
    // a fleet shares its shapes), and `instanceof` still holds; its constants (Digital.Output,
    // ...) are SimDigital's own statics, inherited rather than copied onto every board's class
    this.Digital = Object.setPrototypeOf(SimDigital.bind(null, this), SimDigital) as DigitalClass;
  }

  /** The level on a pin now (0 for a pin never used: no drive, no pull). */
  level(pin: number): Level {
    return this.#find(pin)?.level ?? 0;
  }

  /** The mode of the open Digital holding a pin (Digital.Input ... Digital.OutputOpenDrain), or undefined. */
  mode(pin: number): number | undefined {
    const state = this.#find(pin);
    return state?.owner === undefined ? undefined : state.mode;
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

  /** True when the chip has this GPIO. */
  exists(pin: number): boolean {
    return Number.isInteger(pin) && pin >= 0 && pin < this.count && !this.missing.has(pin);
  }

  /** True when the GPIO exists and neither a Digital nor an I²C connection holds it (builtinIsPinFree). */
  isFree(pin: number): boolean {
    return this.exists(pin) && this.#find(pin)?.owner === undefined && !this.#i2c.includes(pin);
  }

  /** @internal An I²C connection holds the pin (builtinUsePin); no-op when already held by I²C. */
  _useForI2C(pin: number): void {
    if (!this.#i2c.includes(pin)) this.#i2c = withItem(this.#i2c, pin);
  }

  /** @internal The I²C connections no longer hold the pin (builtinFreePin). */
  _freeFromI2C(pin: number): void {
    const at = this.#i2c.indexOf(pin);
    if (at >= 0) this.#i2c = withoutAt(this.#i2c, at);
  }

  /** A pin's state, if it was ever driven or held (asking about a pin makes none). */
  #find(pin: number): PinState | undefined {
    if (!(Number.isInteger(pin) && pin >= 0 && pin < this.count)) throw new RangeError(`VirtualPins: no pin ${pin}`);
    const pins = this.#pins;
    for (let i = 0; i < pins.length; i++) if (pins[i].pin === pin) return pins[i];
    return undefined;
  }

  /** @internal A pin's state, made on its first drive or hold. */
  _state(pin: number): PinState {
    const found = this.#find(pin);
    if (found !== undefined) return found;
    const pins = this.#pins;
    const state: PinState = { pin, external: undefined, owner: undefined, mode: -1, out: 0, level: 0 };
    this.#pins = withItem(pins, state);
    return state;
  }

  /** @internal */
  _claim(pin: number, owner: SimDigital, mode: number, out: Level): void {
    const state = this._state(pin);
    state.owner = owner;
    state.mode = mode;
    state.out = out;
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
