// The XS worker harness: runs code inside a real Moddable XS engine (the `xsnap-worker`
// binary that `@agoric/xsnap` compiles at install time) in a child process, and reads its
// meters (slots in use, computrons). The simulator's XS engine (host.ts) runs on it, and so
// do the vitest suites and bench/*.mjs scripts that measure device code inside XS.
// It must not import `@agoric/xsnap`'s JavaScript (that needs SES lockdown, which freezes
// the intrinsics of the whole Node process), must not skip anything when xsnap is missing
// (it fails with the reason), and must never leave a worker process running after close().
//
// Facts this harness relies on, checked against @agoric/xsnap 0.15.0 (XS 13.x) on Linux:
// - Protocol: netstrings (netstring.mjs) on fd 3 (to the worker) and fd 4 (from it). `e<js>`
//   evaluates a script with the global `eval`; `?<bytes>` calls `handleCommand(ArrayBuffer)`;
//   `q` quits (so does EOF on fd 3). Replies: `.{meters JSON}\x01<bytes>` or `!<message>`.
//   The reply bytes are the completion value if it is an ArrayBuffer, or its `result`
//   property if that is one; `result` is read AFTER the promise-job queue has drained,
//   which is how this harness returns JSON and awaits promises within one delivery.
//   Inside XS, `issueCommand(ArrayBuffer)` sends `?<bytes>` up and blocks until Node
//   answers `/<bytes>`.
// - Meters: `currentHeapCount` (slots in use, incremented per slot allocated, recomputed
//   by each collection) and `compute` (computrons) come with every good reply. `gc()` is
//   a global in the worker and collects synchronously. Chunk bytes (string and buffer
//   contents) are not slots.
// - Every `e` delivery leaves 1 slot alive for good (a nested `eval` another), so heap
//   counts drift across `e` deliveries (module loading); `?` deliveries do not drift. slotsPerOp() measures
//   with `?` deliveries only, which makes the per-op figure exact. Measured here: the loop
//   `for (let i=0;i<n;i++){ u8[0]=i }` gives 0 slots per op, `new Uint8Array(4)` 7,
//   `({a:1})` 2.
// - A collection that runs in the middle of the measured loop would hide slots; it is
//   detected with a FinalizationRegistry sentinel and makes slotsPerOp() throw.
// - Chunk bytes (string and buffer contents, which take no slot) have no meter; the probe
//   in chunk-probe.mjs measures them with probeFits() runs (`?` deliveries of kind 2).
// - `m<path>` (xsnap's import) reports success even when the module throws, fails to parse
//   or is missing, so importModule() uses a dynamic `import()` instead. Module specifiers
//   are file paths: absolute, or `./` `../` relative to the importing module.
// - Globals in xsnap: `TextEncoder` (with `encodeInto`, returning {read, written}) and
//   `TextDecoder` ARE globals here (on the device they come from "text/encoder" and
//   "text/decoder"); `ArrayBuffer.fromString` and `String.fromArrayBuffer` do NOT exist;
//   `print`, `trace`, `gc`, `issueCommand`, `harden`, `Base64`, `performance.now` exist;
//   no console, no timers.
// - Preload, as Moddable's linker leaves a board (xs/tools/xsl.c fxFreezeBuiltIns,
//   xs/tools/xslSlot.c fxPrepareHeap and fxPetrifyInstance): the prelude freezes the
//   built-in prototypes and namespaces fxFreezeBuiltIns lists and every built-in function
//   with its constructor's prototype; globalThis stays extensible with writable bindings.
//   importModule() then freezes what the module made, reached from every module-level
//   const, let, var, class and function of a bundle (a file without relative imports) or
//   from the exports of a module with relative imports: functions and constructors'
//   prototypes (so class statics are read-only); Map, Set, WeakMap, WeakSet, WeakRef,
//   FinalizationRegistry, RegExp and Promise instances (so a global RegExp's lastIndex is
//   read-only); Map, Set, WeakMap and WeakSet contents (their mutators throw "this:
//   read-only Map instance", through guarded built-in mutators). Ordinary objects, arrays
//   and module-level bindings stay writable (the linker makes them aliases).
//   Still unlike a board after this:
//   - a preloaded ArrayBuffer, TypedArray or DataView is only non-extensible: its bytes
//     stay writable (on a board they are in flash and writes throw "read-only buffer" or
//     fail), because xsnap can make no buffer read-only in place;
//   - a module-level (or captured) binding whose value is a function at the end of preload
//     can be reassigned here; on a board xsl makes it const ("set x: const");
//   - only what is reachable from those names and exports through own properties is
//     frozen; xsl walks the whole heap, so a function, Map or RegExp held only in a closure
//     is frozen on a board and not here; a Proxy is never detected here;
//   - an object the module froze itself is petrified on a board (its private fields and a
//     frozen Date's time become read-only too); here only Object.freeze's effect applies;
//     a JSON module's default export (deep-frozen by xsl) is not modelled;
//   - module top levels run when imported, not at build time (Date.now() and
//     Math.random() there are not captured at build time), and in import order;
//   - nothing is stripped (xsnap has no `strip`), `harden`, `Compartment`, `TextEncoder`,
//     `TextDecoder`, `Base64`, `performance` are globals, and the built-in mutators of Map,
//     Set, WeakMap and WeakSet are the harness's guarded wrappers (same name and length).
// - Strings: UTF-16 semantics (`"h\u{1F600}".length` is 3), unlike the device.
// - Output: the native `print` writes to the worker's stdout and `trace` goes nowhere
//   (xsbug is not connected). The harness replaces both with functions that send their
//   text through issueCommand, so output reaches the `print` sink in order, before the
//   delivery that produced it resolves.
// - The harness owns the worker's global `handleCommand` (Node -> XS calls) and the
//   non-enumerable global `__xsHarness`; code run inside XS must not replace them. Its `?`
//   payloads start with a kind byte: 0 = a measured run (the iteration count follows),
//   1 = a message for the receiver that code inside XS registered with
//   `__xsHarness.setReceiver(fn)`: send() is how Node delivers events (socket data, timer
//   ticks) into XS asynchronously; 2 = a chunk probe run; 3 = an evaluate() script; 4 = a
//   probe of the stack calibration.
// - The board's XS stack (stack-budget.mjs has the model): xsnap's stack is 4,096 slots
//   (xsnap-worker.c stackCount, no flag sets it) and a stack overflow makes the worker exit
//   with code 12, as it aborts a board. Each callback a delivery's listener queues
//   (`__xsHarness.queue`, in-xs/bridge.js callback(): socket, Timer, Digital and Wi-Fi
//   callbacks) and each evaluate() script runs, with Function.prototype.call, from the
//   bottom of a call whose arguments are padding, always from the same depth, after the
//   listener returned: with start()'s `stack` (default the manifests' creation.stack, 512)
//   the callback's frame and all it calls get `stack - 20` slots, as on a board (13 machine
//   slots and xsBeginHost's 7 are in use when Moddable calls a callback). The padding that
//   does that is measured once per Node process: the most padding under which an empty
//   callback runs, found by letting probe workers overflow (about 0.6 s; kept in the
//   temporary folder for the same binary and prelude). evaluate() is a
//   `?` delivery (kind 3), so it drifts no slot; measured runs (slotsPerOp, the chunk
//   probe) and module loading run without padding.
// - No metering limit is set (xsnap's own default is 1e8 computrons per delivery, after
//   which the worker exits): a runaway loop is stopped by the test's timeout and close().

import { spawn } from "node:child_process";
import { accessSync, constants as fsConstants, rmSync, statSync } from "node:fs";
import path from "node:path";
import { PRELUDE, PRINT_MAGIC } from "./harness-prelude.mjs";
import { NetstringReader } from "./netstring.mjs";
import { preloadedCopy } from "./preload-copy.mjs";
import { BOARD_STACK, paddingFor, reach } from "./stack-budget.mjs";
import { locateWorkerBinary } from "./worker-binary.mjs";

/** The start() option of the calibration's probe workers: their stderr ("stack overflow") is not echoed. */
const QUIET = Symbol("quiet");
const PRINT_MAGIC_BYTES = Buffer.from(PRINT_MAGIC, "utf8");
const CLOSE_GRACE_MS = 1000;
const EXIT_MEANINGS = /** @type {Record<number, string>} */ ({
  1: "bad argument usage",
  2: "I/O error",
  11: "not enough memory",
  12: "stack overflow",
  15: "unhandled exception",
  16: "property (key) name space exhausted",
  17: "too much computation",
});

/** What the stack calibration's result depends on (stack-budget.mjs): the worker binary and the prelude. @param {string} bin */
function stackKey(bin) {
  const { size, mtimeMs } = statSync(bin);
  return JSON.stringify([bin, size, mtimeMs, PRELUDE]);
}

/**
 * Tells whether real XS can run here; `reason` says what is missing and how to fix it.
 * @returns {{ ok: true } | { ok: false, reason: string }}
 */
export function xsAvailable() {
  const found = locateWorkerBinary();
  return found.ok ? { ok: true } : found;
}

/**
 * @template T
 * @typedef {{ value: T, slots: number, compute: number }} XsResult
 */

/**
 * @typedef {{ currentHeapCount: number, compute: number }} Meters
 * @typedef {{ ok: true, meters: Meters, reply: Buffer } | { ok: false, message: string }} Reply
 */

export class XsWorker {
  /**
   * Spawns a real xsnap worker process and prepares it.
   * @param {{ name?: string, print?: (text: string) => void, stack?: number | null }} [options]
   *   `print` receives the text of each `print(...)` (with its newline) and `trace(...)`;
   *   by default it is written to Node's stderr, prefixed with the worker name (stdout is
   *   kept clean for benchmarks' JSON lines). `stack`: the board's XS stack in slots that
   *   callbacks and evaluated scripts get (default: the manifests' creation.stack); null
   *   gives them all of xsnap's.
   * @returns {Promise<XsWorker>}
   */
  static async start(options = {}) {
    const found = locateWorkerBinary();
    if (!found.ok) throw new Error(`Cannot start an XS worker: ${found.reason}`);
    const worker = new XsWorker(found.bin, options.name ?? "xs-worker", options.print, options[QUIET] === true);
    try {
      await worker.#spawned;
      await worker.#deliver(`e${PRELUDE}`);
      if (options.stack !== null) {
        const padding = paddingFor(await reach(stackKey(found.bin), XsWorker.#probe, XsWorker.#probed), options.stack ?? BOARD_STACK);
        await worker.evaluate(`__xsHarness.setPadding(${padding})`);
      }
    } catch (error) {
      await worker.close();
      throw error;
    }
    return worker;
  }

  /** @type {XsWorker | undefined} the worker of the stack calibration's probes, until one overflows */
  static #prober = undefined;

  /**
   * One probe of the stack calibration (stack-budget.mjs): does an empty callback run with
   * `padding` slots of padding? False when the worker overflowed (it exits with code 12).
   * @param {number} padding
   */
  static async #probe(padding) {
    const worker = XsWorker.#prober ??= await XsWorker.start({ name: "xs-stack-probe", stack: null, print: () => {}, [QUIET]: true });
    const command = Buffer.from([0x3f, 4, 0, 0, 0, 0]);
    command.writeUInt32LE(padding, 2);
    try {
      await worker.#deliver(command);
      return true;
    } catch (error) {
      XsWorker.#prober = undefined;
      await worker.close();
      if (!/code 12 \(stack overflow\)/.test(/** @type {Error} */ (error).message)) throw error;
      return false;
    }
  }

  /** Ends the stack calibration: its last probe worker is stopped. */
  static async #probed() {
    const worker = XsWorker.#prober;
    XsWorker.#prober = undefined;
    await worker?.close();
  }

  /** @type {string} */
  #name;
  /** @type {import("node:child_process").ChildProcess} */
  #process;
  /** @type {import("node:net").Socket} */
  #toWorker;
  /** @type {import("node:net").Socket} */
  #fromWorker;
  /** @type {Promise<void>} */
  #spawned;
  /** @type {Promise<void>} */
  #exited;
  /** @type {string | undefined} why the worker is gone, once it is */
  #gone = undefined;
  /** @type {Promise<unknown>} serialises deliveries */
  #baton = Promise.resolve();
  /** @type {{ resolve: (reply: Reply) => void, reject: (error: Error) => void } | undefined} */
  #pending = undefined;
  /** @type {(msg: Uint8Array) => Uint8Array | undefined} */
  #commandHandler = () => undefined;
  /** @type {Error | undefined} first error thrown by the command handler in this delivery */
  #commandError = undefined;
  /** @type {(text: string) => void} */
  #print;
  #stderrTail = "";

  /**
   * Use XsWorker.start().
   * @param {string} bin
   * @param {string} name
   * @param {((text: string) => void) | undefined} print
   * @param {boolean} quiet the worker's stderr is kept (for its exit reason), not echoed
   */
  constructor(bin, name, print, quiet) {
    this.#name = name;
    this.#print = print ?? ((text) => process.stderr.write(text.replace(/^(?=.)/gm, `[${name}] `)));
    const child = spawn(bin, [name.replace(/^-+/, "")], {
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    });
    this.#process = child;
    const stdio = /** @type {import("node:net").Socket[]} */ (/** @type {unknown[]} */ (child.stdio));
    this.#toWorker = stdio[3];
    this.#fromWorker = stdio[4];
    this.#spawned = new Promise((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", (error) => reject(new Error(`Cannot start the XS worker ${bin}: ${error.message}`)));
    });
    this.#exited = new Promise((resolve) => {
      child.once("close", (code, signal) => {
        const meaning = code === null ? `signal ${signal}` : `code ${code}${EXIT_MEANINGS[code] ? ` (${EXIT_MEANINGS[code]})` : ""}`;
        const tail = this.#stderrTail.trim();
        this.#goneBecause(`the XS worker ${this.#name} exited with ${meaning}${tail ? `; its stderr: ${tail}` : ""}`);
        resolve();
      });
      child.once("error", (error) => {
        this.#goneBecause(`the XS worker ${this.#name} failed: ${error.message}`);
        resolve();
      });
    });
    this.#toWorker.on("error", () => {}); // EPIPE when the worker dies; reported by "close"
    const reader = new NetstringReader((message) => this.#onMessage(message));
    this.#fromWorker.on("data", (chunk) => {
      try {
        reader.push(chunk);
      } catch (error) {
        this.#fail(/** @type {Error} */ (error));
      }
    });
    /** @type {import("node:stream").Readable} */ (child.stdout).setEncoding("utf8");
    /** @type {import("node:stream").Readable} */ (child.stdout).on("data", (text) => this.#print(text));
    /** @type {import("node:stream").Readable} */ (child.stderr).setEncoding("utf8");
    /** @type {import("node:stream").Readable} */ (child.stderr).on("data", (text) => {
      this.#stderrTail = (this.#stderrTail + text).slice(-2000);
      if (!quiet) process.stderr.write(text.replace(/^(?=.)/gm, `[${this.#name} stderr] `));
    });
    // An idle worker must not keep Node alive; a delivery in flight holds it (#hold).
    this.#hold(false);
  }

  /**
   * Whether the worker keeps Node's event loop alive: during a delivery, the process and
   * all its pipes, so that a worker dying mid-delivery (a stack overflow) reaches "close"
   * and rejects the delivery; with its reply pipe alone, Node could run out of work and
   * exit (code 13) between that pipe's end and the process's "close".
   * @param {boolean} on
   */
  #hold(on) {
    const child = this.#process;
    const stdio = /** @type {(import("node:net").Socket | null)[]} */ (/** @type {unknown[]} */ (child.stdio)).slice(1);
    if (on) {
      child.ref();
      for (const stream of stdio) stream?.ref();
    } else {
      child.unref();
      for (const stream of stdio) stream?.unref();
    }
  }

  /** @param {string} reason */
  #goneBecause(reason) {
    if (this.#gone === undefined) this.#gone = reason;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(new Error(`XS delivery failed: ${this.#gone}`));
  }

  /** @param {Error} error */
  #fail(error) {
    this.#goneBecause(error.message);
    this.#process.kill("SIGKILL");
  }

  /** @param {Buffer} message */
  #onMessage(message) {
    const kind = message[0];
    if (kind === 0x3f /* ? */) {
      this.#answerCommand(message.subarray(1));
      return;
    }
    const pending = this.#pending;
    if (pending === undefined) {
      this.#fail(new Error(`xsnap protocol error: unexpected message from ${this.#name}`));
      return;
    }
    this.#pending = undefined;
    if (kind === 0x2e /* . */) {
      const separator = message.indexOf(1, 1);
      if (separator < 0) {
        pending.resolve({ ok: true, meters: { currentHeapCount: NaN, compute: NaN }, reply: message.subarray(1) });
        return;
      }
      const meters = JSON.parse(message.subarray(1, separator).toString("utf8"));
      pending.resolve({ ok: true, meters, reply: message.subarray(separator + 1) });
    } else if (kind === 0x21 /* ! */) {
      pending.resolve({ ok: false, message: message.subarray(1).toString("utf8") });
    } else {
      this.#fail(new Error(`xsnap protocol error: unknown reply from ${this.#name}`));
    }
  }

  /** @param {Buffer} request */
  #answerCommand(request) {
    /** @type {Uint8Array | undefined} */
    let reply;
    if (request.length >= PRINT_MAGIC_BYTES.length && request.subarray(0, PRINT_MAGIC_BYTES.length).equals(PRINT_MAGIC_BYTES)) {
      this.#print(request.subarray(PRINT_MAGIC_BYTES.length).toString("utf8"));
    } else {
      try {
        reply = this.#commandHandler(new Uint8Array(request.buffer, request.byteOffset, request.byteLength));
      } catch (error) {
        this.#commandError ??= /** @type {Error} */ (error);
      }
    }
    this.#send(reply === undefined ? [Buffer.from("/")] : [Buffer.from("/"), reply]);
  }

  /** @param {Uint8Array[]} parts */
  #send(parts) {
    const length = parts.reduce((sum, part) => sum + part.byteLength, 0);
    this.#toWorker.write(Buffer.concat([Buffer.from(`${length}:`), ...parts, Buffer.from(",")]));
  }

  /**
   * Sends one command and waits for its reply, one delivery at a time.
   * @param {string | Uint8Array} command `e<js>` or `?<bytes>`
   * @returns {Promise<{ meters: Meters, reply: Buffer }>}
   */
  #deliver(command) {
    const run = async () => {
      if (this.#gone !== undefined) throw new Error(`XS delivery failed: ${this.#gone}`);
      this.#commandError = undefined;
      const reply = await new Promise((resolve, reject) => {
        this.#pending = { resolve, reject };
        this.#hold(true);
        this.#send([typeof command === "string" ? Buffer.from(command, "utf8") : command]);
      }).finally(() => this.#hold(false));
      const commandError = this.#commandError;
      this.#commandError = undefined;
      if (commandError !== undefined) {
        throw new Error(`the onCommand handler threw (XS got an empty reply): ${commandError.message}`, { cause: commandError });
      }
      const typed = /** @type {Reply} */ (reply);
      if (!typed.ok) throw new Error(`XS exception in ${this.#name}: ${typed.message}`);
      return typed;
    };
    const result = this.#baton.then(run);
    this.#baton = result.catch(() => {});
    return result;
  }

  /**
   * @param {string | Uint8Array} command
   * @returns {Promise<XsResult<any>>}
   */
  async #deliverOutcome(command) {
    const { meters, reply } = await this.#deliver(command);
    /** @type {{ ok: true, value?: unknown } | { ok: false, error: string, stack?: string }} */
    const outcome = JSON.parse(reply.toString("utf8"));
    if (!outcome.ok) {
      const error = new Error(`XS exception in ${this.#name}: ${outcome.error}`);
      if (outcome.stack) error.stack = `${error.message}\n  (XS stack)\n${outcome.stack}`;
      throw error;
    }
    return { value: outcome.value, slots: meters.currentHeapCount, compute: meters.compute };
  }

  /**
   * Loads an ES module file (its relative imports resolve against its own path).
   * @param {string} modulePath absolute, or relative to the Node process's cwd
   * @returns {Promise<void>}
   */
  async importModule(modulePath, globalName) {
    const absolute = path.resolve(modulePath);
    try {
      accessSync(absolute, fsConstants.R_OK);
    } catch {
      throw new Error(`Cannot import ${absolute} into XS: no such readable file`);
    }
    const specifier = preloadedCopy(absolute);
    try {
      await this.#deliverOutcome(`e__xsHarness.load(${JSON.stringify(specifier)}, ${JSON.stringify(globalName)})`);
    } catch (error) {
      const message = /** @type {Error} */ (error).message;
      throw new Error(`Importing ${absolute} into XS failed: ${message}` +
        (message.includes("no module") ? " (a module it imports, directly or not, was not found)" : ""), { cause: error });
    } finally {
      if (specifier !== absolute) rmSync(specifier, { force: true });
    }
  }

  /**
   * Runs a script at global scope; its completion value (awaited if it is a promise,
   * then JSON-serialised) is the result's value.
   * @template [T=unknown]
   * @param {string} source
   * @returns {Promise<XsResult<T>>}
   */
  evaluate(source) {
    return this.#deliverOutcome(Buffer.concat([Buffer.from([0x3f, 3]), Buffer.from(source, "utf8")]));
  }

  /**
   * Exact slots allocated per execution of `opSource` (see the header comment).
   * @param {string} setupSource runs once, in its own delivery; define globals with
   *   `var`, function declarations or `globalThis.x =` (top-level let/const do not survive)
   * @param {string} opSource the body of the measured loop
   * @param {number} iterations how many times the loop runs (keep iterations * slots per op
   *   well below ~200,000)
   * @returns {Promise<number>}
   */
  async slotsPerOp(setupSource, opSource, iterations) {
    await this.#prepareOp("slotsPerOp", setupSource, opSource, iterations);
    await this.#measuredRun(iterations); // warm-up: lazily created state is not per-op cost
    const baseline = await this.#measuredRun(0);
    const measured = await this.#measuredRun(iterations);
    if (measured.collected) {
      throw new Error(`slotsPerOp: a garbage collection ran inside the measured loop, so the count would be wrong; ` +
        `the op allocates too much for ${iterations} iterations: use fewer`);
    }
    return (measured.slots - baseline.slots) / iterations;
  }

  /**
   * Runs the setup and makes `opSource` the body of the measured loop.
   * @param {string} caller @param {string} setupSource @param {string} opSource @param {number} iterations
   */
  async #prepareOp(caller, setupSource, opSource, iterations) {
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > 0xffffffff) {
      throw new RangeError(`${caller}: iterations must be an integer from 1 to 2^32-1, not ${iterations}`);
    }
    await this.evaluate(setupSource);
    await this.evaluate(`__xsHarness.setOp(function (__xsHarnessN) {\n` +
      `for (let __xsHarnessI = 0; __xsHarnessI < __xsHarnessN; __xsHarnessI++) {\n${opSource}\n}\n})`);
  }

  /**
   * One measured run (a `?` delivery of kind 0): gc(), then `count` iterations of the op;
   * with `coarse` (a chunk probe run, kind 2), then that many coarse and `fine` fine probe
   * strings.
   * @param {number} count @param {number} [coarse] @param {number} [fine]
   */
  async #measuredRun(count, coarse = -1, fine = 0) {
    const command = Buffer.alloc(coarse < 0 ? 6 : 14);
    command[0] = 0x3f; // ?
    command[1] = coarse < 0 ? 0 : 2; // a measured run, or a chunk probe run
    command.writeUInt32LE(count, 2);
    if (coarse >= 0) {
      command.writeUInt32LE(coarse, 6);
      command.writeUInt32LE(fine, 10);
    }
    const { meters, reply } = await this.#deliver(command);
    return { slots: meters.currentHeapCount, collected: reply.length === 2 };
  }

  /**
   * Readies the chunk probe (chunk-probe.mjs): runs the setup, makes `opSource` the op,
   * runs it `iterations` times (lazily created state is not per-op cost) and makes the
   * halves the probe strings are joined from (`coarseLength` and `fineLength` characters).
   * @param {string} setupSource @param {string} opSource @param {number} iterations @param {number} coarseLength @param {number} fineLength
   */
  async prepareChunkProbe(setupSource, opSource, iterations, coarseLength, fineLength) {
    await this.#prepareOp("chunkBytesPerOp", setupSource, opSource, iterations);
    await this.#measuredRun(iterations);
    await this.evaluate(`__xsHarness.prepareProbe(${coarseLength}, ${fineLength})`);
  }

  /**
   * One probe run (kind 2): gc(), `run` ops, `coarse` coarse and `fine` fine probe strings
   * (fresh chunks, held in a local). True when no collection ran: all of it fitted.
   * @param {number} run @param {number} coarse @param {number} fine
   */
  async probeFits(run, coarse, fine) {
    return !(await this.#measuredRun(run, coarse, fine)).collected;
  }

  /**
   * Delivers a message into XS: the receiver registered inside XS with
   * `__xsHarness.setReceiver(fn)` is called with its bytes (a fresh ArrayBuffer), and what
   * it returns (an ArrayBuffer, or undefined for none) is the reply. Serialised with the
   * other deliveries; promise jobs run before it resolves. Rejects when no receiver is
   * registered or the receiver throws (with the XS error message and stack).
   * @param {Uint8Array} message
   * @returns {Promise<Uint8Array>}
   */
  async send(message) {
    const command = Buffer.alloc(2 + message.byteLength);
    command[0] = 0x3f; // ?
    command[1] = 1; // a message for the receiver
    command.set(message, 2);
    const { reply } = await this.#deliver(command);
    if (reply.length > 0 && reply[0] === 0) return new Uint8Array(reply.subarray(1));
    /** @type {{ error?: string, stack?: string }} */
    let outcome = {};
    try {
      outcome = JSON.parse(reply.subarray(1).toString("utf8"));
    } catch {
      outcome = { error: "an unreadable reply to a message" };
    }
    const error = new Error(`XS exception in ${this.#name}: ${outcome.error}`);
    if (outcome.stack) error.stack = `${error.message}\n  (XS stack)\n${outcome.stack}`;
    throw error;
  }

  /**
   * Handles `issueCommand(ArrayBuffer)` calls made inside XS; the returned bytes are the
   * ArrayBuffer XS gets back (empty when the handler returns undefined). It runs
   * synchronously while XS waits. If it throws, XS gets an empty reply and the delivery
   * in progress rejects with that error.
   * @param {(msg: Uint8Array) => Uint8Array | undefined} handler
   */
  onCommand(handler) {
    this.#commandHandler = handler;
  }

  /**
   * Stops the worker process: EOF on its command pipe, then SIGKILL if it has not exited
   * within a second (e.g. stuck in a loop). Safe to call more than once.
   * @returns {Promise<void>}
   */
  /** Resolves once the deliveries sent so far are handled. */
  idle() {
    return this.#baton;
  }

  async close() {
    this.#goneBecause(`the XS worker ${this.#name} was closed`);
    this.#toWorker.end();
    const timer = setTimeout(() => this.#process.kill("SIGKILL"), CLOSE_GRACE_MS);
    try {
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

