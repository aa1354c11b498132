// XS side of the bridged digital pins: a class of the ECMA-419 `embedded:io/digital` shape
// (options pin, mode, edge, onReadable; read, write, close; the mode and edge constants)
// whose pins are a simulated board's VirtualPins on the Node side (host-sim/digital.ts,
// through host-sim/xs/digital-service.ts), so the checks and errors are those pins' own.
// onReadable runs only from a delivery, never inside a method call. Simulator only: it
// allocates freely and must not be bundled into device code.

import { call, listen } from "./bridge.js";

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
  static Rising = 1;
  static Falling = 2;

  #id;
  #onReadable;
  #closed = false;

  constructor(options) {
    if (options === null || typeof options !== "object") throw new TypeError("options required");
    const onReadable = options.onReadable ?? null;
    if (onReadable !== null && typeof onReadable !== "function") throw new TypeError("onReadable must be a function");
    const id = nextId++;
    call(SERVICE, { op: "open", id, pin: options.pin, mode: options.mode, edge: options.edge, readable: onReadable !== null });
    this.#id = id;
    this.#onReadable = onReadable;
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
    this.#check();
    call(SERVICE, { op: "write", id: this.#id, value: value ? 1 : 0 });
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    pins.delete(this.#id);
    call(SERVICE, { op: "close", id: this.#id });
  }

  #check() {
    if (this.#closed) throw new Error("closed");
  }

  #readable() {
    this.#onReadable?.call(this);
  }

  static {
    listen(SERVICE, (header) => {
      const pin = pins.get(header.id);
      if (pin !== undefined && !pin.#closed) pin.#readable();
    });
  }
}
