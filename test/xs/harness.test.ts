// Tests of the real-XS harness itself (host-sim/engines/xs/harness.mjs) against a real xsnap worker.
// Each test closes every worker it starts; nothing here is skipped when xsnap is missing:
// XsWorker.start() then fails with the reason.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { XsWorker, xsAvailable } from "../../host-sim/engines/xs/harness.mjs";

const started: XsWorker[] = [];
async function startWorker(options?: Parameters<typeof XsWorker.start>[0]): Promise<XsWorker> {
  const worker = await XsWorker.start(options);
  started.push(worker);
  return worker;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((worker) => worker.close()));
});

describe("xsAvailable", () => {
  it("reports xsnap as installed and built (or says exactly what is missing)", () => {
    const availability = xsAvailable();
    expect(availability, availability.ok ? "" : availability.reason).toEqual({ ok: true });
  });

  it("leaves Node's intrinsics alone (no SES lockdown in the test process)", () => {
    expect(Object.isFrozen(Object.prototype)).toBe(false);
    expect(Object.isFrozen(Array.prototype)).toBe(false);
  });
});

describe("evaluate", () => {
  it("returns the script's completion value with the worker's meters", async () => {
    const worker = await startWorker({ name: "evaluate" });
    const result = await worker.evaluate<{ sum: number; list: (string | boolean)[] }>(
      "var total = 1 + 2; ({ sum: total, list: ['x', true] })",
    );
    expect(result.value).toEqual({ sum: 3, list: ["x", true] });
    expect(result.slots).toBeGreaterThan(0);
    expect(result.compute).toBeGreaterThan(0);
    expect((await worker.evaluate("total")).value).toBe(3); // var at top level is global
    expect((await worker.evaluate("undefined")).value).toBeUndefined();
  });

  it("awaits a completion value that is a promise settled by promise jobs", async () => {
    const worker = await startWorker();
    expect((await worker.evaluate("Promise.resolve(21).then((x) => x * 2)")).value).toBe(42);
  });

  it("rejects with the XS error message when the script throws", async () => {
    const worker = await startWorker();
    await expect(worker.evaluate("throw new TypeError('boom in xs')")).rejects.toThrow(/TypeError: boom in xs/);
    await expect(worker.evaluate("Promise.reject(new RangeError('later'))")).rejects.toThrow(/RangeError: later/);
    await expect(worker.evaluate("let x = ;")).rejects.toThrow(/SyntaxError/);
    expect((await worker.evaluate("'still alive'")).value).toBe("still alive");
  });

  it("delivers print and trace output in order, before the delivery resolves", async () => {
    const output: string[] = [];
    const worker = await startWorker({ print: (text) => output.push(text) });
    await worker.evaluate("print('one', 2); trace('three\\n')");
    expect(output).toEqual(["one 2\n", "three\n"]);
  });

  it("runs in the XS engine, not in Node", async () => {
    const worker = await startWorker();
    const { value } = await worker.evaluate("[typeof process, typeof Buffer, typeof gc, typeof issueCommand]");
    expect(value).toEqual(["undefined", "undefined", "function", "function"]);
  });
});

describe("importModule", () => {
  it("loads an ES module file whose relative imports resolve against its own path", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "xs-harness-"));
    try {
      mkdirSync(path.join(dir, "lib"));
      writeFileSync(path.join(dir, "lib", "greet.js"), "import { suffix } from '../suffix.js';\nexport const greet = (n) => 'hello ' + n + suffix;\n");
      writeFileSync(path.join(dir, "suffix.js"), "export const suffix = '!';\n");
      writeFileSync(path.join(dir, "entry.js"), "import { greet } from './lib/greet.js';\nglobalThis.greet = greet;\n");
      writeFileSync(path.join(dir, "throws.js"), "throw new Error('module top level failed');\n");
      const worker = await startWorker();
      await worker.importModule(path.join(dir, "entry.js"));
      expect((await worker.evaluate("greet('xs')")).value).toBe("hello xs!");
      await expect(worker.importModule(path.join(dir, "throws.js"))).rejects.toThrow(/module top level failed/);
      await expect(worker.importModule(path.join(dir, "missing.js"))).rejects.toThrow(/no such readable file/);
      writeFileSync(path.join(dir, "pending.js"), "await new Promise(() => {});\n");
      await expect(worker.importModule(path.join(dir, "pending.js"))).rejects.toThrow(/did not settle/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("slotsPerOp", () => {
  it("measures 0 slots for a loop that only writes into a preallocated Uint8Array", async () => {
    const worker = await startWorker();
    expect(await worker.slotsPerOp("globalThis.u8 = new Uint8Array(4)", "u8[0] = 7", 1000)).toBe(0);
  });

  it("measures the exact slots of an allocating op, whatever n is", async () => {
    const worker = await startWorker();
    const perObject = await worker.slotsPerOp("", "({ a: 1 })", 1000);
    expect(perObject).toBeGreaterThan(0);
    expect(Number.isInteger(perObject)).toBe(true);
    expect(await worker.slotsPerOp("", "({ a: 1 })", 10)).toBe(perObject);
    expect(await worker.slotsPerOp("", "new Uint8Array(4)", 500)).toBeGreaterThan(0);
  });

  it("refuses to report a count when a garbage collection ran inside the loop", async () => {
    const worker = await startWorker();
    await expect(worker.slotsPerOp("", "({ a: 1, b: 2, c: 3, d: 4 })", 200_000)).rejects.toThrow(/garbage collection/);
  });
});

describe("onCommand", () => {
  it("answers issueCommand calls made inside XS, synchronously", async () => {
    const worker = await startWorker();
    const seen: string[] = [];
    worker.onCommand((msg) => {
      const text = new TextDecoder().decode(msg);
      seen.push(text);
      return new TextEncoder().encode(`pong:${text}`);
    });
    const { value } = await worker.evaluate(
      "new TextDecoder().decode(issueCommand(new TextEncoder().encode('ping').buffer))",
    );
    expect(value).toBe("pong:ping");
    expect(seen).toEqual(["ping"]);
  });

  it("replies an empty ArrayBuffer by default, and fails the delivery when the handler throws", async () => {
    const worker = await startWorker();
    expect((await worker.evaluate("issueCommand(new ArrayBuffer(3)).byteLength")).value).toBe(0);
    worker.onCommand(() => {
      throw new Error("handler failed");
    });
    await expect(worker.evaluate("issueCommand(new ArrayBuffer(1))")).rejects.toThrow(/handler failed/);
  });
});

describe("send", () => {
  it("delivers bytes to the receiver registered inside XS and returns its reply", async () => {
    const worker = await startWorker();
    await expect(worker.send(new Uint8Array([1]))).rejects.toThrow(/no receiver/);
    await worker.evaluate(
      "var received = []; __xsHarness.setReceiver((buffer) => {" +
        " const bytes = new Uint8Array(buffer); received.push(Array.from(bytes));" +
        " if (bytes[0] === 0xff) throw new RangeError('bad message');" +
        " Promise.resolve().then(() => { received.push('job'); });" +
        " return bytes.length === 0 ? undefined : bytes.map((b) => b * 2).buffer; })",
    );
    expect(Array.from(await worker.send(new Uint8Array([1, 2, 3])))).toEqual([2, 4, 6]);
    expect(Array.from(await worker.send(new Uint8Array(0)))).toEqual([]);
    await expect(worker.send(new Uint8Array([0xff]))).rejects.toThrow(/RangeError: bad message/);
    expect((await worker.evaluate("received")).value).toEqual([[1, 2, 3], "job", [], "job", [255]]);
  });

  it("keeps slotsPerOp exact once a receiver is registered", async () => {
    const worker = await startWorker();
    await worker.evaluate("__xsHarness.setReceiver(() => undefined)");
    await worker.send(new Uint8Array([7]));
    expect(await worker.slotsPerOp("globalThis.u8 = new Uint8Array(4)", "u8[0] = 7", 1000)).toBe(0);
  });
});

describe("close", () => {
  it("stops the process, and later deliveries reject", async () => {
    const worker = await startWorker();
    await worker.close();
    await worker.close();
    await expect(worker.evaluate("1")).rejects.toThrow(/closed/);
  });

  it("stops a worker that is stuck in a loop", async () => {
    const worker = await startWorker();
    let loopStarted!: () => void;
    const looping = new Promise<void>((resolve) => (loopStarted = resolve));
    worker.onCommand(() => {
      loopStarted();
      return undefined;
    });
    const stuck = expect(worker.evaluate("issueCommand(new ArrayBuffer(0)); for (;;) {}")).rejects.toThrow(/closed/);
    await looping;
    const closing = Date.now();
    await worker.close();
    await stuck;
    expect(Date.now() - closing).toBeLessThan(5_000);
  });
});

describe("a plain Node script with nothing else to do (as the benchmarks run)", () => {
  /** Runs `source` as an ES module in a child Node with a temporary folder of its own (nothing cached); its exit code and output. */
  async function runScript(source: string): Promise<{ code: number | null; out: string; err: string }> {
    const tmp = mkdtempSync(path.join(tmpdir(), "xs-harness-"));
    try {
      const harness = new URL("../../host-sim/engines/xs/harness.mjs", import.meta.url).href;
      const child = spawn(process.execPath, ["--input-type=module", "-e", source.replace("HARNESS", JSON.stringify(harness))], {
        env: { ...process.env, TMPDIR: tmp },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (chunk) => (out += chunk));
      child.stderr.on("data", (chunk) => (err += chunk));
      const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const code = await new Promise<number | null>((resolve) => child.once("close", (exitCode) => resolve(exitCode)));
      clearTimeout(killer);
      return { code, out, err };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  it("measures the stack model with nothing cached (its probes overflow workers) and goes on", async () => {
    // the measure is cached in the temporary folder: a fresh one makes this process probe,
    // and each probe past the reach kills its worker mid-delivery
    const run = await runScript(`const { XsWorker } = await import(HARNESS);
      const worker = await XsWorker.start({ name: "plain" });
      console.log((await worker.evaluate("6 * 7")).value);
      await worker.close();`);
    expect({ code: run.code, out: run.out.trim() }, run.err).toEqual({ code: 0, out: "42" });
  });

  it("rejects a delivery whose worker dies, rather than exiting with nothing settled", async () => {
    const run = await runScript(`const { XsWorker } = await import(HARNESS);
      const worker = await XsWorker.start({ name: "overflow", stack: null, print: () => {} });
      try {
        await worker.evaluate("(function deep() { deep(); })()");
        console.log("returned");
      } catch (error) {
        console.log(/code 12 \\(stack overflow\\)/.test(error.message) ? "overflow reported" : error.message);
      }`);
    expect({ code: run.code, out: run.out.trim() }, run.err).toEqual({ code: 0, out: "overflow reported" });
  });
});
