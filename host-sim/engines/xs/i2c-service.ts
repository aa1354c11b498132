/*
 * The Node side of the bridged I²C class (in-xs/i2c.js): one connection on a simulated
 * board's I2CBus (host-sim/io/i2c.ts) per XS I²C instance. Commands open (the constructor's
 * options, as present), read (answers the bytes), write (answers 1 for an unacknowledged
 * probe), close. Errors are the bus's own (e.g. "read failed"), thrown back into XS with
 * their name. Node side only; it never delivers events (I²C is synchronous).
 */

import type { I2CBus, SimI2C, SimI2COptions } from "../../io/i2c.js";
import type { Frame } from "./frame.js";
import { InstanceService } from "./service.js";
import type { ServiceReply } from "./service.js";

export class I2cService extends InstanceService<SimI2C> {
  readonly name = "i2c";
  readonly #bus: I2CBus;

  constructor(bus: I2CBus) {
    super();
    this.#bus = bus;
  }

  protected open(_id: number, { header }: Frame): SimI2C {
    const { service: _service, op: _op, id: _ignored, undefinedKeys, ...options } = header;
    if (Array.isArray(undefinedKeys)) for (const key of undefinedKeys) (options as Record<string, unknown>)[String(key)] = undefined;
    return new this.#bus.I2C(options as unknown as SimI2COptions);
  }

  protected operate(port: SimI2C, { header, body }: Frame): ServiceReply | undefined {
    switch (header.op) {
      case "read": {
        const into = new Uint8Array(Number(header.count));
        port.read(into);
        return { body: into };
      }
      case "write":
        return { header: { result: port.write(body) ?? 0 } };
      default:
        throw new Error("i2c: unknown op " + JSON.stringify(header.op));
    }
  }
}
