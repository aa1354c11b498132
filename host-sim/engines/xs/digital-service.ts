/*
 * The Node side of the bridged Digital class (in-xs/digital.js): one pin of a simulated
 * board's VirtualPins (host-sim/io/digital.ts) per XS Digital instance. Commands open (pin,
 * mode, edge, activeLow, initialValue, format; onReadable as "function" or "other"), read
 * (answers the level), write, close; an input's onReadable goes into XS as a delivery with
 * the pin's bit. Errors are the pins' own (e.g. "in use"), thrown back into XS with their
 * name. Node side only.
 */

import type { SimDigital, SimDigitalOptions, VirtualPins } from "../../io/digital.js";
import type { Frame } from "./frame.js";
import { InstanceService } from "./service.js";
import type { Deliver, ServiceReply } from "./service.js";

export class DigitalService extends InstanceService<SimDigital> {
  readonly name = "digital";
  readonly #pins: VirtualPins;
  readonly #deliver: Deliver;

  constructor(pins: VirtualPins, deliver: Deliver) {
    super();
    this.#pins = pins;
    this.#deliver = deliver;
  }

  protected open(id: number, { header }: Frame): SimDigital {
    const deliver = this.#deliver;
    const service = this.name;
    const options: SimDigitalOptions = {
      pin: header.pin as number,
      mode: header.mode,
      edge: header.edge as number | undefined,
      onReadable: header.onReadable === "function"
        ? (triggered: number) => void deliver({ service, event: "readable", id, triggered })
        : header.onReadable === "other" ? (1 as unknown as null) : null,
    };
    if ("activeLow" in header) options.activeLow = header.activeLow;
    if ("initialValue" in header) options.initialValue = header.initialValue;
    if ("format" in header) options.format = header.format as "number";
    return new this.#pins.Digital(options);
  }

  protected operate(pin: SimDigital, { header }: Frame): ServiceReply | undefined {
    switch (header.op) {
      case "read":
        return { header: { value: pin.read() } };
      case "write":
        pin.write(header.value);
        return undefined;
      default:
        throw new Error("digital: unknown op " + JSON.stringify(header.op));
    }
  }
}
