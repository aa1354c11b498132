// XS side of the bridged digital pins: a class of the ECMA-419 `embedded:io/digital` shape
// (options pin, mode, edge, onReadable, initialValue, activeLow; read, write, close; the mode
// and edge constants) whose pins are a simulated board's VirtualPins on the Node side
// (host-sim/io/digital.ts, through host-sim/engines/xs/digital-service.ts), so the checks and errors are
// those pins' own, as Moddable's ESP32 ones (docs/moddable-io.md "## Digital"). onReadable
// runs only from a delivery, never inside a method call, with the pin's bit as its argument.
// Simulator only: it allocates freely and must not be bundled into device code.

import { call, callback, listen } from "./bridge.js";

const SERVICE = "digital";
const pins = new Map();
let nextId = 1;

export class Digital {
  static Input = 0;
  static InputPullUp = 1;
  static InputPullDown = 2;
  static InputPullUpDown = 3;
  static Output = 8;
  static OutputOpenDrain = 9;
  static ActiveLow = 16;
  static Rising = 1;
  static Falling = 2;

  #id;
  #onReadable;
  #closed = false;

  constructor(options) {
    if (options === null || typeof options !== "object") throw new TypeError("options required");
    if (options.pin === undefined) throw new Error("invalid"); // as Moddable's JS class, before anything else
    const onReadable = options.onReadable ?? null;
    const id = nextId++;
    const header = { op: "open", id, pin: options.pin, mode: options.mode, edge: options.edge ?? 0 };
    if (onReadable !== null) header.onReadable = typeof onReadable === "function" ? "function" : "other";
    if ("activeLow" in options) header.activeLow = Boolean(options.activeLow);
    if ("initialValue" in options) header.initialValue = Number(options.initialValue) ? 1 : 0;
    if ("format" in options && options.format) header.format = String(options.format);
    call(SERVICE, header);
    this.#id = id;
    this.#onReadable = typeof onReadable === "function" ? onReadable : null;
    if ("target" in options) this.target = options.target;
    pins.set(id, this);
  }

  get format() {
    return "number";
  }

  set format(value) {
    if (value !== "number") throw new RangeError("invalid format");
  }

  read() {
    this.#check();
    return call(SERVICE, { op: "read", id: this.#id }).header.value;
  }

  write(value) {
    const on = Number(value) ? 1 : 0; // as Moddable's JS class, before the native call
    this.#check();
    call(SERVICE, { op: "write", id: this.#id, value: on });
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    pins.delete(this.#id);
    call(SERVICE, { op: "close", id: this.#id });
  }

  #check() {
    if (this.#closed) throw new SyntaxError("C: xsGetHostData: invalid host data");
  }

  #readable(triggered) {
    if (this.#onReadable) callback(this.#onReadable, this, 1, triggered);
  }

  static {
    listen(SERVICE, (header) => {
      const pin = pins.get(header.id);
      if (pin !== undefined && !pin.#closed) pin.#readable(header.triggered);
    });
  }
}
