/*
 * The Node side of the bridged I²C class (in-xs/i2c.js): one connection on a simulated
 * board's I2CBus (host-sim/i2c.ts) per XS I²C instance. Commands open (the constructor's
 * options), read (answers the bytes), write (answers 1 for an unacknowledged probe),
 * close. Errors are the bus's own (e.g. "read failed"), thrown back into XS. Node side
 * only; it never delivers events (I²C is synchronous).
 */

import type { I2CBus, SimI2C, SimI2COptions } from "../i2c.js";
import type { Frame } from "./frame.js";
import type { ServiceReply, XsService } from "./service.js";

export class I2cService implements XsService {
  readonly name = "i2c";
  readonly #bus: I2CBus;
  readonly #open = new Map<number, SimI2C>();

  constructor(bus: I2CBus) {
    this.#bus = bus;
  }

  command({ header, body }: Frame): ServiceReply | undefined {
    const id = header.id;
    if (typeof id !== "number") throw new Error("i2c: a command without an id");
    if (header.op === "open") {
      if (this.#open.has(id)) throw new Error("i2c: id " + id + " is in use");
      const { service: _service, op: _op, id: _id, ...options } = header;
      this.#open.set(id, new this.#bus.I2C(options as unknown as SimI2COptions));
      return undefined;
    }
    const port = this.#open.get(id);
    if (port === undefined) throw new Error("closed");
    switch (header.op) {
      case "read": {
        const into = new Uint8Array(Number(header.count));
        port.read(into, header.stop !== false);
        return { body: into };
      }
      case "write":
        return { header: { result: port.write(body, header.stop !== false) ?? 0 } };
      case "close":
        port.close();
        this.#open.delete(id);
        return undefined;
      default:
        throw new Error("i2c: unknown op " + JSON.stringify(header.op));
    }
  }

  close(): void {
    for (const port of this.#open.values()) port.close();
    this.#open.clear();
  }
}
