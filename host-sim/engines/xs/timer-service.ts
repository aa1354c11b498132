/*
 * The Node side of the bridged Timer (in-xs/timer.js): Node timers that deliver "fire"
 * into XS. A repeating timer is armed again only after XS has handled the previous tick,
 * so ticks never pile up behind a busy XS. Node side only; holds no XS state.
 */

import type { Frame } from "./frame.js";
import type { Deliver, ServiceReply, XsService } from "./service.js";

interface Entry {
  handle: NodeJS.Timeout | undefined;
  /** Bumped on every schedule and clear: a tick of an older arming is dropped. */
  arming: number;
}

export class TimerService implements XsService {
  readonly name = "timer";
  readonly #deliver: Deliver;
  readonly #timers = new Map<number, Entry>();
  #closed = false;

  constructor(deliver: Deliver) {
    this.#deliver = deliver;
  }

  /** Timers scheduled and not yet done: one-shot ones not fired, repeating ones not cleared. */
  get active(): number {
    return this.#timers.size;
  }

  command({ header }: Frame): ServiceReply | undefined {
    const id = header.id;
    if (typeof id !== "number") throw new Error("timer: a command without an id");
    switch (header.op) {
      case "schedule": {
        // whole ms from XS (a negative delay: due now, as Moddable's)
        const delay = Math.trunc(Number(header.delay ?? 0)) || 0;
        const repeat = Math.max(0, Math.trunc(Number(header.repeat ?? 0)) || 0);
        this.#clear(id);
        const entry = this.#timers.get(id) ?? { handle: undefined, arming: 0 };
        this.#timers.set(id, entry);
        this.#arm(id, entry, ++entry.arming, Date.now() + delay, repeat);
        return undefined;
      }
      case "clear":
        this.#clear(id);
        this.#timers.delete(id);
        return undefined;
      default:
        throw new Error("timer: unknown op " + JSON.stringify(header.op));
    }
  }

  /**
   * Fires at `due`; a repeating timer's next due is this one plus its interval, not now plus
   * it, as Moddable's timers do (modules/base/timer/mc/timer.c): after a stall its ticks
   * catch up one after the other.
   */
  #arm(id: number, entry: Entry, arming: number, due: number, repeat: number): void {
    entry.handle = setTimeout(() => {
      entry.handle = undefined;
      if (this.#closed || entry.arming !== arming) return;
      const tick = this.#deliver({ service: this.name, event: "fire", id, repeating: repeat > 0 });
      if (repeat > 0) {
        void tick.finally(() => {
          if (!this.#closed && entry.arming === arming && this.#timers.get(id) === entry) this.#arm(id, entry, arming, due + repeat, repeat);
        });
      } else {
        this.#timers.delete(id);
      }
    }, Math.max(0, due - Date.now()));
  }

  #clear(id: number): void {
    const entry = this.#timers.get(id);
    if (entry === undefined) return;
    entry.arming++;
    if (entry.handle !== undefined) clearTimeout(entry.handle);
    entry.handle = undefined;
  }

  close(): void {
    this.#closed = true;
    for (const id of this.#timers.keys()) this.#clear(id);
    this.#timers.clear();
  }
}
