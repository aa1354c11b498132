/*
 * Moddable's `timer` module on Node timers: set, repeat, schedule, clear.
 * Node side only.
 */

export type HostTimerId = { handle: NodeJS.Timeout | undefined; callback: (id: HostTimerId) => void };

export const Timer = {
  set(callback: (id: HostTimerId) => void, delay = 0, repeat?: number): HostTimerId {
    const id: HostTimerId = { handle: undefined, callback };
    Timer.schedule(id, delay, repeat);
    return id;
  },
  repeat(callback: (id: HostTimerId) => void, interval: number): HostTimerId {
    return Timer.set(callback, interval, interval);
  },
  schedule(id: HostTimerId, delay: number, repeat?: number): void {
    if (id.handle !== undefined) clearTimeout(id.handle);
    id.handle = setTimeout(function fire() {
      if (repeat !== undefined && repeat > 0) id.handle = setTimeout(fire, repeat);
      else id.handle = undefined;
      id.callback(id);
    }, delay);
  },
  clear(id: HostTimerId | undefined): void {
    if (id === undefined || id.handle === undefined) return;
    clearTimeout(id.handle);
    id.handle = undefined;
  },
};
