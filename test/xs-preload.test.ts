/*
 * The XS engine of the tests as Moddable's preload leaves a board (xs/tools/xsl.c
 * fxFreezeBuiltIns and xs/tools/xslSlot.c fxPrepareHeap): built-in prototypes, namespaces
 * and functions frozen; a loaded bundle's functions and constructors' prototypes frozen,
 * exported or not; Maps, Sets, WeakMaps and RegExps it made read-only; ordinary objects,
 * module-level bindings and globalThis still writable. This is what let
 * `this.name = "MqttError"` pass in xsnap and abort the board: these tests fail if the
 * harness stops freezing, or if an Error subclass of the device assigns its name again.
 * Starts one XS worker and closes it; writes only a temporary folder.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XsWorker } from "../host-sim/engines/xs/harness.mjs";

const root = path.join(import.meta.dirname, "..");
let worker: XsWorker;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "xs-preload-"));
  worker = await XsWorker.start({ name: "preload" });
}, 60_000);

afterAll(async () => {
  await worker?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs strict code in XS; what it throws, as "Name: message", or "no throw". */
async function thrown(source: string): Promise<string> {
  const result = await worker.evaluate<string>(`(() => { "use strict"; try { ${source}; return "no throw"; } catch (e) { return e.name + ": " + e.message; } })()`);
  return result.value!;
}

describe("built-ins, as after preload", () => {
  it("assigning to a frozen prototype or namespace throws in strict code", async () => {
    expect(await thrown(`Error.prototype.name = "x"`)).toMatch(/^TypeError/);
    expect(await thrown(`Array.prototype.extra = 1`)).toMatch(/^TypeError/);
    expect(await thrown(`Object.prototype.extra = 1`)).toMatch(/^TypeError/);
    expect(await thrown(`Math.extra = 1`)).toMatch(/^TypeError/);
    expect(await thrown(`JSON.parse = null`)).toMatch(/^TypeError/);
    expect(await thrown(`Uint8Array.prototype.extra = 1`)).toMatch(/^TypeError/);
    expect(await thrown(`Map.prototype.set = null`)).toMatch(/^TypeError/);
  });

  it("built-in functions are frozen; globalThis stays writable", async () => {
    expect((await worker.evaluate(`[Object.isFrozen(Error), Object.isFrozen(Array.prototype.push), Object.isFrozen(Object.getPrototypeOf(Int8Array))]`)).value).toEqual([true, true, true]);
    expect(await thrown(`globalThis.someSetting = 1`)).toBe("no throw");
  });

  it("an Error subclass that assigns its name throws; one with a name field works", async () => {
    expect(await thrown(`class Assigning extends Error { constructor() { super("m"); this.name = "Assigning"; } } new Assigning()`))
      .toMatch(/^TypeError/);
    expect((await worker.evaluate(`class Field extends Error { name = "Field"; } new Field("m").name`)).value).toBe("Field");
  });
});

describe("a loaded bundle, as after preload", () => {
  it("freezes its classes and functions, exported or not, and leaves its ordinary objects writable", async () => {
    const bundle = path.join(dir, "bundle.js");
    writeFileSync(bundle, [
      "class Hidden { static count = 0; method() { return 1; } }",
      "function helper() { return Hidden; }",
      "const table = { entries: 0 };",
      "export function inside() { return { Hidden, helper, table }; }",
    ].join("\n"));
    await worker.importModule(bundle, "Bundle");
    expect((await worker.evaluate(`(() => { const { Hidden, helper } = Bundle.inside(); return [Object.isFrozen(Hidden), Object.isFrozen(Hidden.prototype), Object.isFrozen(helper), Object.isFrozen(Bundle.inside)]; })()`)).value)
      .toEqual([true, true, true, true]);
    expect(await thrown(`Bundle.inside().Hidden.count = 1`)).toMatch(/^TypeError/);
    expect(await thrown(`Bundle.inside().table.entries = 1`)).toBe("no throw");
  });

  it("keeps module-level bindings writable; makes its Maps, Sets, WeakMaps and global RegExps read-only, not those made later", async () => {
    const bundle = path.join(dir, "state.js");
    writeFileSync(bundle, [
      "let count = 0;",
      "const seen = new Map([[\"a\", 1]]);",
      "const names = new Set();",
      "const pattern = /x/g;",
      "export const holder = { weak: new WeakMap() };",
      "export function bump() { count += 1; return count; }",
      "export function lookup(key) { return seen.get(key); }",
      "export function remember(key) { seen.set(key, 2); }",
      "export function forget() { seen.clear(); }",
      "export function add(name) { names.add(name); }",
      "export function match() { return pattern.exec(\"x\") !== null; }",
      "export function fresh() { const m = new Map(); m.set(1, 2); const s = new Set([1]); s.delete(1); return m.size + s.size; }",
    ].join("\n"));
    await worker.importModule(bundle, "State");
    expect((await worker.evaluate(`[State.bump(), State.bump(), State.lookup("a"), State.fresh()]`)).value).toEqual([1, 2, 1, 1]);
    expect(await thrown(`State.remember("b")`)).toBe("TypeError: this: read-only Map instance");
    expect(await thrown(`State.forget()`)).toBe("TypeError: this: read-only Map instance");
    expect(await thrown(`State.add("b")`)).toBe("TypeError: this: read-only Set instance");
    expect(await thrown(`State.holder.weak.set({}, 1)`)).toBe("TypeError: this: read-only WeakMap instance");
    expect(await thrown(`State.match()`)).toMatch(/^TypeError.*lastIndex/);
    expect(await thrown(`State.holder.other = 1`)).toBe("no throw"); // an ordinary object: an alias on the board
  });

  it("freezes a generator function but not its prototype object (xsl freezes only constructors' prototypes)", async () => {
    const bundle = path.join(dir, "generator.js");
    writeFileSync(bundle, "export function* counter() { yield 1; }\n");
    await worker.importModule(bundle, "Generator");
    expect((await worker.evaluate(`[Object.isFrozen(Generator.counter), Object.isFrozen(Generator.counter.prototype)]`)).value).toEqual([true, false]);
  });

  it("freezes what the exports of a module with relative imports reach", async () => {
    writeFileSync(path.join(dir, "leaf.js"), "export class Leaf { static made = 0; }\nexport const registry = new Map();\n");
    writeFileSync(path.join(dir, "root.js"), "import { Leaf, registry } from \"./leaf.js\";\nexport { Leaf, registry };\nexport let last = null;\nexport function make() { last = new Leaf(); return last !== null; }\n");
    await worker.importModule(path.join(dir, "root.js"), "Root");
    expect(await thrown(`Root.Leaf.made = 1`)).toMatch(/^TypeError/);
    expect(await thrown(`Root.registry.set(1, 1)`)).toBe("TypeError: this: read-only Map instance");
    expect((await worker.evaluate(`Root.make()`)).value).toBe(true);
  });

  it("the client's, the firmware's and the drivers' errors construct with their names [dist bundles]", async () => {
    await worker.importModule(path.join(root, "dist/xs-mqtt.js"), "Client");
    await worker.importModule(path.join(root, "dist/firmware.js"), "Firmware");
    const names = await worker.evaluate<string[]>(`(() => {
      const client = new Client.MqttError("closed");
      let config, sensor;
      try { Firmware.resolveConfig({ nodeId: "not valid!" }); } catch (e) { config = e; }
      try { new Firmware.SHT3x({ sensor: { io: class { write() {} read(into) { return into.length; } close() {} }, data: 21, clock: 22 }, repeatability: "none" }); } catch (e) { sensor = e; }
      return [client.name, client.code, config.name, sensor.name, sensor.code];
    })()`);
    expect(names.value).toEqual(["MqttError", "closed", "ConfigError", "SensorError", "option-invalid"]);
  });
});
