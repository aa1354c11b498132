// XS side of the bridged I²C bus: a class of the ECMA-419 `embedded:io/i2c` shape
// (synchronous; options data, clock, hz, address; read, write, close) whose transactions
// go to a simulated board's I2CBus on the Node side (host-sim/i2c.ts, through
// host-sim/xs/i2c-service.ts), so the errors are the bus's own: "read failed" / "write
// failed" when a chip does not acknowledge, "duplicate address", "invalid address", ...
// read(count) returns a new ArrayBuffer, read(buffer) fills it and returns its length, write()
// returns 1 for an unacknowledged probe (a zero-length write). Simulator only: it
// allocates freely and must not be bundled into device code.

import { bytesOf, call } from "./bridge.js";

const SERVICE = "i2c";
let nextId = 1;

export class I2C {
  #id;
  #closed = false;

  constructor(options) {
    if (options === null || typeof options !== "object") throw new TypeError("options required");
    const header = { op: "open", id: nextId++ };
    for (const key of ["data", "clock", "hz", "address", "port"]) {
      if (key in options) header[key] = options[key];
    }
    call(SERVICE, header);
    this.#id = header.id;
  }

  get format() {
    return "buffer";
  }

  set format(value) {
    if (value !== "buffer") throw new RangeError("invalid format");
  }

  read(option, stop = true) {
    this.#check();
    if (option !== null && typeof option === "object") {
      const into = bytesOf(option);
      const reply = call(SERVICE, { op: "read", id: this.#id, count: into.length, stop: Boolean(stop) });
      into.set(reply.body.subarray(0, into.length));
      return into.length; // Moddable returns the count (modules/io/i2c/esp32/_i2c.c)
    }
    const count = Math.trunc(Number(option));
    if (!(count >= 0)) throw new RangeError("invalid count");
    const reply = call(SERVICE, { op: "read", id: this.#id, count, stop: Boolean(stop) });
    const out = new Uint8Array(count);
    out.set(reply.body.subarray(0, count));
    return out.buffer;
  }

  write(buffer, stop = true) {
    this.#check();
    const reply = call(SERVICE, { op: "write", id: this.#id, stop: Boolean(stop) }, bytesOf(buffer));
    return reply.header.result === 1 ? 1 : undefined;
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    call(SERVICE, { op: "close", id: this.#id });
  }

  #check() {
    if (this.#closed) throw new Error("closed");
  }
}
