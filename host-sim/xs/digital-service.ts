/*
 * The Node side of the bridged Digital class (in-xs/digital.js): one pin of a simulated
 * board's VirtualPins (host-sim/digital.ts) per XS Digital instance. Commands open (pin,
 * mode, edge), read (answers the level), write, close; an input's onReadable goes into XS
 * as a delivery. Errors are the pins' own (e.g. "in use"), thrown back into XS. Node side
 * only.
 */

import type { SimDigital, VirtualPins } from "../digital.js";
import type { Frame } from "./frame.js";
import type { Deliver, ServiceReply, XsService } from "./service.js";

export class DigitalService implements XsService {
  readonly name = "digital";
  readonly #pins: VirtualPins;
  readonly #deliver: Deliver;
  readonly #open = new Map<number, SimDigital>();

  constructor(pins: VirtualPins, deliver: Deliver) {
    this.#pins = pins;
    this.#deliver = deliver;
  }

  command({ header }: Frame): ServiceReply | undefined {
    const id = header.id;
    if (typeof id !== "number") throw new Error("digital: a command without an id");
    if (header.op === "open") {
      if (this.#open.has(id)) throw new Error("digital: id " + id + " is in use");
      const deliver = this.#deliver;
      const service = this.name;
      this.#open.set(id, new this.#pins.Digital({
        pin: header.pin as number,
        mode: header.mode,
        edge: header.edge as number | undefined,
        onReadable: header.readable === true ? () => void deliver({ service, event: "readable", id }) : null,
      }));
      return undefined;
    }
    const pin = this.#open.get(id);
    if (pin === undefined) throw new Error("closed");
    switch (header.op) {
      case "read":
        return { header: { value: pin.read() } };
      case "write":
        pin.write(header.value);
        return undefined;
      case "close":
        pin.close();
        this.#open.delete(id);
        return undefined;
      default:
        throw new Error("digital: unknown op " + JSON.stringify(header.op));
    }
  }

  close(): void {
    for (const pin of this.#open.values()) pin.close();
    this.#open.clear();
  }
}
