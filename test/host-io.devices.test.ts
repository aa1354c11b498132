/*
 * The simulator's Timer, I²C and Digital against Moddable's, row by row of
 * docs/moddable-io.md: a repeating timer does not drift (its ticks catch up after a stall,
 * modules/base/timer/mc/timer.c); I²C read(buffer) returns the byte count
 * (modules/io/i2c/esp32/_i2c.c). Every timer started is cleared; no sockets.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Timer } from "../host-sim/timer.js";
import type { HostTimerId } from "../host-sim/timer.js";
import { I2CBus } from "../host-sim/i2c.js";
import { SHT3xChip } from "../host-sim/chips/sht3x.js";
import { sleep } from "./brokers/helpers.js";

const timers: HostTimerId[] = [];
afterEach(() => {
  for (const id of timers.splice(0)) Timer.clear(id);
});

describe("Timer, as Moddable's (modules/base/timer/mc/timer.c)", () => {
  it("a repeating timer is due at its last due time plus its interval: after a stall its missed ticks come at once", async () => {
    const fired: number[] = [];
    timers.push(Timer.repeat(() => fired.push(Date.now()), 200));
    await sleep(250); // one tick
    expect(fired.length).toBe(1);
    const stallEnd = Date.now() + 700;
    while (Date.now() < stallEnd) { /* the event loop is blocked: ticks at 400, 600 and 800 ms are missed */ }
    await sleep(150); // less than one interval: only the catch-up ticks can come
    expect(fired.length).toBeGreaterThanOrEqual(4);
    expect(fired.slice(1, 4).every((time) => time < stallEnd + 150)).toBe(true);
  });

  it("a repeating timer cleared in its own callback fires no more", async () => {
    let count = 0;
    const id = Timer.repeat(() => {
      count++;
      Timer.clear(id);
    }, 10);
    timers.push(id);
    await sleep(80);
    expect(count).toBe(1);
  });
});

describe("I²C, as Moddable's (modules/io/i2c/esp32/_i2c.c)", () => {
  it("read(buffer) fills the buffer and returns its length; read(count) returns a new ArrayBuffer", () => {
    const bus = new I2CBus();
    bus.attach(0x44, new SHT3xChip());
    const I2C = bus.I2C;
    const port = new I2C({ data: 21, clock: 22, address: 0x44, hz: 100_000 });
    port.write(Uint8Array.of(0xf3, 0x2d)); // read status
    const into = new Uint8Array(3);
    expect(port.read(into)).toBe(3);
    port.write(Uint8Array.of(0xf3, 0x2d));
    expect(port.read(3)).toBeInstanceOf(ArrayBuffer);
    port.close();
  });
});
