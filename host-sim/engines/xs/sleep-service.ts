/*
 * The Node side of a simulated board's bridged deep sleep (in-xs/sleep.js): the board's
 * BoardSleep (host-sim/sleep.ts) answers the commands get and set (a retained word) and
 * deep (the wake ends: the cycle recorded, the radio off); at each wake it sends "wake"
 * into XS, where the firmware starts afresh. Values cross the bridge as JSON, so a
 * non-finite sleep time arrives as null and is refused as BoardSleep refuses it. Node side
 * only.
 */

import type { BoardSleep } from "../../sleep.js";
import type { Frame } from "./frame.js";
import type { ServiceReply, XsService } from "./service.js";

export class SleepService implements XsService {
  readonly name = "sleep";
  readonly #sleep: BoardSleep;

  constructor(sleep: BoardSleep) {
    this.#sleep = sleep;
  }

  command({ header }: Frame): ServiceReply | undefined {
    switch (header.op) {
      case "get":
        return { header: { value: this.#sleep.getRetainedValue(header.index as number) } };
      case "set":
        this.#sleep.setRetainedValue(header.index as number, header.value as number);
        return undefined;
      case "deep":
        this.#sleep.deep(header.ms as number);
        return undefined;
      default:
        throw new Error("sleep: unknown op " + JSON.stringify(header.op));
    }
  }

  /** No more wakes. */
  close(): void {
    this.#sleep.stop();
  }
}
