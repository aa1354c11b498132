/*
 * The simulator's Timer, I²C and Digital against Moddable's ESP32 ones, row by row of
 * docs/moddable-io.md ("## I²C", "## Digital", "## Timer"), on the Node engine and, for the
 * bridged classes, inside a real xsnap worker: a repeating timer does not drift (its ticks
 * catch up after a stall, modules/base/timer/mc/timer.c); fired one-shots and cleared timers
 * are gone (modules/base/timer/modTimer.c); I²C read(buffer) returns the byte count and its
 * errors are modules/io/i2c/esp32/_i2c.c's; Digital's are modules/io/digital/digital.js and
 * esp32/digitalbank.c's; I²C and Digital share one register of pins in use
 * (modules/io/common/builtinCommon.c). Every timer started is cleared, every host closed;
 * no sockets.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { Timer } from "../host-sim/io/timer.js";
import type { HostTimerId } from "../host-sim/io/timer.js";
import { I2CBus } from "../host-sim/io/i2c.js";
import { VirtualPins } from "../host-sim/io/digital.js";
import { SHT3xChip } from "../host-sim/chips/sht3x.js";
import { XsHost } from "../host-sim/engines/xs/host.js";
import { I2cService } from "../host-sim/engines/xs/i2c-service.js";
import { DigitalService } from "../host-sim/engines/xs/digital-service.js";
import { sleep } from "./brokers/helpers.js";

const timers: HostTimerId[] = [];
const hosts: XsHost[] = [];
afterEach(async () => {
  for (const id of timers.splice(0)) Timer.clear(id);
  for (const host of hosts.splice(0)) await host.close();
});

/** Resolves with the timer's callback arguments and `this` when it fires. */
function fired(delay: number, repeat?: number): Promise<{ self: unknown; id: HostTimerId; arg: unknown }> {
  return new Promise((resolve) => {
    const id = Timer.set(function (this: unknown, arg: HostTimerId) {
      resolve({ self: this, id, arg });
    }, delay, repeat);
    timers.push(id);
  });
}

/** What a call throws: its class name and message. */
function thrown(run: () => unknown): { name: string; message: string } | undefined {
  try {
    run();
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  return undefined;
}

const GONE = { name: "SyntaxError", message: "C: xsGetHostData: invalid host data" };


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

  it("calls back with this = globalThis and the id", async () => {
    const { self, id, arg } = await fired(1);
    expect(self).toBe(globalThis);
    expect(arg).toBe(id);
  });

  it("a fired one-shot is gone: schedule() throws SyntaxError, clear() does nothing", async () => {
    const { id } = await fired(1);
    expect(thrown(() => Timer.schedule(id, 10))).toEqual(GONE);
    expect(thrown(() => Timer.clear(id))).toBeUndefined();
  });

  it("repeat(cb, 0) is a one-shot: it fires once and is gone", async () => {
    const id = await new Promise<HostTimerId>((resolve) => {
      timers.push(Timer.repeat((self) => resolve(self), 0));
    });
    expect(thrown(() => Timer.schedule(id, 1))).toEqual(GONE);
  });

  it("a cleared timer is gone: schedule() throws SyntaxError, a second clear() does nothing", () => {
    const id = Timer.set(() => {}, 1_000);
    Timer.clear(id);
    expect(thrown(() => Timer.clear(id))).toBeUndefined();
    expect(thrown(() => Timer.schedule(id, 10))).toEqual(GONE);
  });

  it("a one-shot rescheduled without a repeat inside its own callback is still gone after it", async () => {
    const { id } = await new Promise<{ id: HostTimerId }>((resolve) => {
      const id = Timer.set((self) => {
        Timer.schedule(self, 5);
        resolve({ id: self });
      }, 1);
      timers.push(id);
    });
    expect(thrown(() => Timer.schedule(id, 5))).toEqual(GONE);
  });

  it("a one-shot rescheduled with a repeat inside its own callback lives on", async () => {
    let count = 0;
    await new Promise<void>((resolve) => {
      const id = Timer.set((self) => {
        count++;
        if (count === 1) Timer.schedule(self, 1, 1);
        else {
          Timer.clear(self);
          resolve();
        }
      }, 1);
      timers.push(id);
    });
    expect(count).toBe(2);
  });

  it("schedule(id) alone unschedules the timer but keeps it: it can be scheduled again", async () => {
    let count = 0;
    const id = Timer.set(() => count++, 1_000);
    timers.push(id);
    Timer.schedule(id);
    expect([id.due, id.list]).toEqual([-1, undefined]); // waits for nothing
    expect(thrown(() => Timer.schedule(id, 1))).toBeUndefined();
    await new Promise<void>((resolve) => {
      const check = Timer.repeat(() => {
        if (count > 0) {
          Timer.clear(check);
          resolve();
        }
      }, 2);
      timers.push(check);
    });
    expect(count).toBe(1);
  });

  it("a negative delay is due now and a fractional one is truncated (whole ms, as xsmcToInteger)", async () => {
    const { arg } = await fired(-50);
    expect(arg).toBeDefined();
    const { arg: again } = await fired(0.9);
    expect(again).toBeDefined();
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
  const OK = { data: 21, clock: 22, address: 0x44, hz: 100_000 };

  it("read(buffer) fills the buffer and returns its length; read(count) returns a new ArrayBuffer", () => {
    const bus = new I2CBus();
    bus.attach(0x44, new SHT3xChip());
    const I2C = bus.I2C;
    const port = new I2C(OK);
    port.write(Uint8Array.of(0xf3, 0x2d)); // read status
    const into = new Uint8Array(3);
    expect(port.read(into)).toBe(3);
    port.write(Uint8Array.of(0xf3, 0x2d));
    expect(port.read(3)).toBeInstanceOf(ArrayBuffer);
    port.close();
  });

  it("checks its options in Moddable's order, with Moddable's errors", () => {
    const I2C = new I2CBus().I2C;
    const make = (options: object) => thrown(() => new I2C(options as never));
    expect(make({ clock: 22, address: 0x44, hz: 1 })).toEqual({ name: "RangeError", message: "data required" });
    expect(make({ data: 21, address: 0x44, hz: 1 })).toEqual({ name: "RangeError", message: "clock required" });
    expect(make({ data: 21, clock: 22, hz: 1 })).toEqual({ name: "RangeError", message: "address required" });
    expect(make({ ...OK, data: undefined })).toEqual({ name: "Error", message: "invalid" });
    expect(make({ ...OK, clock: -1 })).toEqual({ name: "RangeError", message: "negative" });
    expect(make({ ...OK, hz: undefined })).toEqual({ name: "RangeError", message: "invalid hz" });
    const { hz: _hz, ...noHz } = OK;
    expect(make(noHz)).toEqual({ name: "RangeError", message: "invalid hz" }); // hz is required, through its check
    expect(make({ ...OK, address: 128 })).toEqual({ name: "RangeError", message: "invalid address" });
    expect(make({ ...OK, data: 34 })).toEqual({ name: "RangeError", message: "unusable pins" }); // input-only GPIO
    expect(make({ ...OK, data: 24 })).toEqual({ name: "RangeError", message: "inUse" }); // no GPIO 24: never free
    expect(make({ ...OK, timeout: -2 })).toEqual({ name: "RangeError", message: "invalid timeout" });
    expect(make({ ...OK, port: 2 })).toEqual({ name: "RangeError", message: "invalid port" });
    expect(make({ ...OK, format: "number" })).toEqual({ name: "RangeError", message: "invalid format" });
    const port = new I2C({ ...OK, format: "buffer", target: "t" });
    expect(port.target).toBe("t");
    expect(make(OK)).toEqual({ name: "RangeError", message: "duplicate address" });
    expect(thrown(() => { (port as { format: string }).format = "number"; })).toEqual({ name: "RangeError", message: "" });
    port.close();
  });

  it("a chip that does not acknowledge: read failed / write failed; a probe returns 1", () => {
    const I2C = new I2CBus().I2C;
    const nobody = new I2C({ ...OK, address: 0x10 });
    expect(thrown(() => nobody.read(2))).toEqual({ name: "Error", message: "read failed" });
    expect(thrown(() => nobody.read(new Uint8Array(2)))).toEqual({ name: "Error", message: "read failed" });
    expect(thrown(() => nobody.write(Uint8Array.of(1)))).toEqual({ name: "Error", message: "write failed" });
    expect(nobody.write(new Uint8Array(0))).toBe(1);
    nobody.close();
  });

  it("a stop argument changes nothing: every transaction ends with a stop", () => {
    const bus = new I2CBus();
    const stops: boolean[] = [];
    bus.attach(0x20, { write: (_bytes, stop) => (stops.push(stop), true), read: (_into, stop) => (stops.push(stop), true) });
    const port = new bus.I2C({ ...OK, address: 0x20 }) as unknown as { write(b: Uint8Array, stop: boolean): unknown; read(n: number, stop: boolean): unknown };
    port.write(Uint8Array.of(1), false);
    port.read(1, false);
    expect(stops).toEqual([true, true]);
  });

  it("after close() read and write throw SyntaxError; a second close() does nothing", () => {
    const port = new (new I2CBus().I2C)(OK);
    port.close();
    expect(thrown(() => port.read(1))).toEqual(GONE);
    expect(thrown(() => port.write(Uint8Array.of(1)))).toEqual(GONE);
    expect(thrown(() => port.close())).toBeUndefined();
  });

  it("shares the board's register of pins with Digital: each side's pins are \"in use\" to the other", () => {
    const pins = new VirtualPins();
    const bus = new I2CBus({ pins });
    const led = new pins.Digital({ pin: 22, mode: pins.Digital.Output });
    expect(thrown(() => new bus.I2C(OK))).toEqual({ name: "RangeError", message: "inUse" });
    led.close();
    const sht = new bus.I2C(OK);
    const bh = new bus.I2C({ ...OK, address: 0x23 }); // a second device on the same pins
    expect(thrown(() => new pins.Digital({ pin: 21, mode: pins.Digital.Input }))).toEqual({ name: "Error", message: "in use" });
    sht.close();
    expect(thrown(() => new pins.Digital({ pin: 21, mode: pins.Digital.Input }))).toEqual({ name: "Error", message: "in use" }); // bh holds them
    bh.close();
    new pins.Digital({ pin: 21, mode: pins.Digital.Input }).close(); // free once the last connection closed
  });
});

describe("Digital, as Moddable's (modules/io/digital/digital.js, esp32/digitalbank.c)", () => {
  it("checks its options in Moddable's order, with Moddable's errors", () => {
    const pins = new VirtualPins();
    const { Digital } = pins;
    const make = (options: object) => thrown(() => new Digital(options as never));
    expect(make({ mode: Digital.Input })).toEqual({ name: "Error", message: "invalid" });
    expect(make({ pin: 40, mode: Digital.Input })).toEqual({ name: "Error", message: "invalid pin" });
    expect(make({ pin: 24, mode: Digital.Input })).toEqual({ name: "Error", message: "invalid pin" }); // no GPIO 24
    expect(make({ pin: 5 })).toEqual({ name: "Error", message: "invalid" }); // no mode
    expect(make({ pin: 5, mode: 4 })).toEqual({ name: "RangeError", message: "invalid mode" });
    expect(make({ pin: 34, mode: Digital.Output })).toEqual({ name: "RangeError", message: "input only" });
    expect(make({ pin: 34, mode: Digital.OutputOpenDrain })).toEqual({ name: "RangeError", message: "input only" });
    expect(make({ pin: 5, mode: Digital.Input, onReadable: 1, edge: 1 })).toEqual({ name: "Error", message: "not a function" });
    expect(make({ pin: 5, mode: Digital.Input, onReadable() {} })).toEqual({ name: "RangeError", message: "invalid edges" });
    expect(make({ pin: 5, mode: Digital.Input, format: "buffer" })).toEqual({ name: "RangeError", message: "invalid format" });
    const output = new Digital({ pin: 5, mode: Digital.Output, onReadable: 1 as never }); // an output ignores onReadable
    expect(make({ pin: 5, mode: Digital.Input })).toEqual({ name: "Error", message: "in use" });
    expect(new Digital({ pin: 34, mode: Digital.Input }).read()).toBe(0); // inputs on 34 to 39 are fine
    expect(Digital.ActiveLow).toBe(16);
    output.close();
  });

  it("read() of an output and write() of an input throw Moddable's errors; after close() both throw SyntaxError", () => {
    const pins = new VirtualPins();
    const { Digital } = pins;
    const out = new Digital({ pin: 2, mode: Digital.Output });
    const input = new Digital({ pin: 4, mode: Digital.Input });
    expect(thrown(() => out.read())).toEqual({ name: "Error", message: "can't read output" });
    expect(thrown(() => input.write(1))).toEqual({ name: "Error", message: "can't write input" });
    out.close();
    input.close();
    expect(thrown(() => out.write(1))).toEqual(GONE);
    expect(thrown(() => input.read())).toEqual(GONE);
    expect(thrown(() => out.close())).toBeUndefined();
  });

  it("write(v) writes Number(v) ? 1 : 0: \"0\" and \"off\" write 0, \"1\" writes 1", () => {
    const pins = new VirtualPins();
    const out = new pins.Digital({ pin: 2, mode: pins.Digital.Output });
    out.write("1");
    expect(pins.level(2)).toBe(1);
    out.write("0");
    expect(pins.level(2)).toBe(0);
    out.write(1);
    out.write("off"); // NaN
    expect(pins.level(2)).toBe(0);
    out.close();
  });

  it("initialValue sets an output's level at open; activeLow inverts writes, reads, the initial value and the edges", async () => {
    const pins = new VirtualPins();
    const { Digital } = pins;
    const on = new Digital({ pin: 2, mode: Digital.Output, initialValue: 1 });
    expect(pins.level(2)).toBe(1);
    const low = new Digital({ pin: 4, mode: Digital.Output, activeLow: true });
    expect(pins.level(4)).toBe(1); // logical 0 is a high wire
    low.write(1);
    expect(pins.level(4)).toBe(0);
    const lowOn = new Digital({ pin: 5, mode: Digital.Output, activeLow: true, initialValue: 1 });
    expect(pins.level(5)).toBe(0);
    const calls: unknown[] = [];
    const button = new Digital({
      pin: 12, mode: Digital.InputPullUp, activeLow: true, edge: Digital.Rising,
      onReadable(triggered: number) { calls.push([this === button, triggered, button.read()]); },
    });
    expect(button.read()).toBe(0); // pulled up: inactive
    pins.set(12, 0); // pressed: the wire falls, the logical value rises
    await Promise.resolve();
    expect(calls).toEqual([[true, 1 << 12, 1]]);
    pins.set(12, 1);
    await Promise.resolve();
    expect(calls).toHaveLength(1);
    for (const pin of [on, low, lowOn, button]) pin.close();
  });

  it("onReadable gets the pin's bit (1 << (pin & 31)) as its argument", async () => {
    const pins = new VirtualPins();
    const seen: number[] = [];
    const input = new pins.Digital({ pin: 35, mode: pins.Digital.Input, edge: pins.Digital.Rising, onReadable: (bits: number) => seen.push(bits) });
    pins.set(35, 1);
    await Promise.resolve();
    expect(seen).toEqual([1 << 3]);
    input.close();
  });
});

describe("the bridged I²C, Digital and Timer inside XS", () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const inXs = (file: string) => path.join(here, "../host-sim/engines/xs/in-xs", file);

  async function startHost(): Promise<{ host: XsHost; pins: VirtualPins; bus: I2CBus }> {
    const host = await XsHost.start({ name: "devices test" });
    hosts.push(host);
    const pins = new VirtualPins();
    const bus = new I2CBus({ pins });
    host.register(new I2cService(bus));
    host.register(new DigitalService(pins, (header, body) => host.deliver(header, body)));
    await host.load(inXs("i2c.js"), "I2cModule");
    await host.load(inXs("digital.js"), "DigitalModule");
    return { host, pins, bus };
  }

  it("throws Moddable's errors with their names: missing hz, inUse, in use, input only, closed", async () => {
    const { host } = await startHost();
    const result = await host.evaluate<string>(`
      const { I2C } = I2cModule, { Digital } = DigitalModule;
      const out = [];
      const attempt = (run) => { try { run(); out.push("none"); } catch (e) { out.push(e.name + ": " + e.message); } };
      attempt(() => new I2C({ data: 21, clock: 22, address: 0x44 }));
      attempt(() => new I2C({ data: undefined, clock: 22, address: 0x44, hz: 1 }));
      const led = new Digital({ pin: 21, mode: Digital.Output });
      attempt(() => new I2C({ data: 21, clock: 22, address: 0x44, hz: 100000 }));
      led.close();
      const port = new I2C({ data: 21, clock: 22, address: 0x44, hz: 100000 });
      attempt(() => new Digital({ pin: 22, mode: Digital.Input }));
      attempt(() => new Digital({ pin: 36, mode: Digital.Output }));
      attempt(() => port.read(new Uint8Array(1)));
      port.close();
      attempt(() => port.read(1));
      out.join("|")`);
    expect(result.value.split("|")).toEqual([
      "RangeError: invalid hz",
      "Error: invalid",
      "RangeError: inUse",
      "Error: in use",
      "RangeError: input only",
      "Error: read failed",
      "SyntaxError: C: xsGetHostData: invalid host data",
    ]);
  });

  it("onReadable gets the pin's bit; activeLow and initialValue reach the pin", async () => {
    const { host, pins } = await startHost();
    await host.evaluate(`
      const { Digital } = DigitalModule;
      globalThis.bits = [];
      globalThis.lamp = new Digital({ pin: 13, mode: Digital.Output, activeLow: true, initialValue: 1 });
      globalThis.button = new Digital({ pin: 14, mode: Digital.Input, edge: Digital.Rising, onReadable(b) { bits.push(b, this === button); } });
      lamp.write("0");`);
    expect(pins.level(13)).toBe(1); // logical 0, active low
    pins.set(14, 1);
    for (let i = 0; i < 100 && (await host.evaluate<number>("bits.length")).value === 0; i++) await sleep(5);
    expect((await host.evaluate<string>("JSON.stringify(bits)")).value).toBe(JSON.stringify([1 << 14, true]));
  });

  it("inside XS too: a negative delay is due now, the callback gets the id with this = globalThis, a fired one-shot is gone", async () => {
    const host = await XsHost.start({ name: "devices timer test" });
    hosts.push(host);
    await host.evaluate(`globalThis.args = []; globalThis.once = hostIo.Timer.set(function (id) { args.push(id === once, this === globalThis); }, -5);`);
    for (let i = 0; i < 200 && (await host.evaluate<number>("args.length")).value === 0; i++) await sleep(5);
    const result = await host.evaluate<string>(`
      let error = "none";
      try { hostIo.Timer.schedule(once, 5); } catch (e) { error = e.name; }
      hostIo.Timer.clear(once);
      JSON.stringify([args, error])`);
    expect(result.value).toBe(JSON.stringify([[true, true], "SyntaxError"]));
  });
});
