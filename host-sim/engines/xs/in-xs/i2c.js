// XS side of the bridged I²C bus: a class of the ECMA-419 `embedded:io/i2c` shape
// (synchronous; options data, clock, hz, address; read, write, close) whose transactions
// go to a simulated board's I2CBus on the Node side (host-sim/io/i2c.ts, through
// host-sim/engines/xs/i2c-service.ts), so the checks and errors are the bus's own, as Moddable's
// ESP32 ones (docs/moddable-io.md "## I²C"): "read failed" / "write failed" when a chip does
// not acknowledge, "duplicate address", "inUse", ... read(count) returns a new ArrayBuffer,
// read(buffer) fills it and returns its length, write() returns 1 for an unacknowledged probe
// (a zero-length write); a `stop` argument changes nothing (as on Moddable's); after
// close() read and write throw SyntaxError. Simulator only: it allocates freely and must not
// be bundled into device code.

import { bytesOf, call } from "./bridge.js";

const SERVICE = "i2c";
let nextId = 1;

export class I2C {
  #id;
  #closed = false;

  constructor(options) {
    if (options === null || typeof options !== "object") throw new TypeError("options required");
    const header = { op: "open", id: nextId++ };
    // the options as present; those present but undefined (JSON drops them) listed by name
    const absent = [];
    for (const key of ["data", "clock", "address", "hz", "timeout", "pullup", "port", "format"]) {
      if (!(key in options)) continue;
      if (options[key] === undefined) absent.push(key);
      else header[key] = options[key];
    }
    if (absent.length > 0) header.undefinedKeys = absent;
    call(SERVICE, header);
    this.#id = header.id;
    if ("target" in options) this.target = options.target;
  }

  get format() {
    return "buffer";
  }

  set format(value) {
    if ("buffer" != value) throw new RangeError();
  }

  read(option) {
    this.#check();
    if (option !== null && typeof option === "object") {
      const into = bytesOf(option);
      const reply = call(SERVICE, { op: "read", id: this.#id, count: into.length });
      into.set(reply.body.subarray(0, into.length));
      return into.length; // Moddable returns the count (modules/io/i2c/esp32/_i2c.c)
    }
    const number = Number(option);
    const count = Number.isFinite(number) ? Math.trunc(number) | 0 : 0;
    if (count < 0) throw new RangeError("invalid count");
    const reply = call(SERVICE, { op: "read", id: this.#id, count });
    const out = new Uint8Array(count);
    out.set(reply.body.subarray(0, count));
    return out.buffer;
  }

  write(buffer) {
    this.#check();
    const reply = call(SERVICE, { op: "write", id: this.#id }, bytesOf(buffer));
    return reply.header.result === 1 ? 1 : undefined;
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    call(SERVICE, { op: "close", id: this.#id });
  }

  #check() {
    if (this.#closed) throw new SyntaxError("C: xsGetHostData: invalid host data");
  }
}
