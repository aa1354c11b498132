// The source the XS worker harness (harness.mjs) runs first in every new xsnap worker: the
// measured-run, message and script entry point (`handleCommand`), the board's stack budget
// (callbacks and scripts run under padding: stack-budget.mjs), `print` and `trace` sent up
// through issueCommand, and the built-ins frozen as Moddable's preload leaves them. A
// string of XS code; it runs nothing on Node.

/** What a `print` line starts with when it comes up through issueCommand. */
export const PRINT_MAGIC = "\u0000xs-harness-print\u0000";

// Runs once in every new worker, in its own delivery. Owns `handleCommand` (slot
// measurement, chunk probe runs, messages for the receiver) and replaces `print`/`trace`. Everything it
// keeps lives in this closure.
export const PRELUDE = `(() => {
  const encoder = new TextEncoder();
  const PRINT_MAGIC = ${JSON.stringify(PRINT_MAGIC)};
  const nativeIssueCommand = issueCommand;
  const describe = (thrown) => {
    try {
      return thrown instanceof Error ? thrown.name + ": " + thrown.message : String(thrown);
    } catch {
      return "a thrown value that cannot be converted to a string";
    }
  };
  const failure = (thrown) => {
    let stack;
    try { stack = thrown instanceof Error && typeof thrown.stack === "string" ? thrown.stack : undefined; } catch {}
    return { ok: false, error: describe(thrown), stack };
  };
  const encodeOutcome = (outcome, what) => {
    if (outcome === undefined) {
      return JSON.stringify({ ok: false, error: what + " did not settle within the delivery (xsnap has no timers or IO: only promise jobs run)" });
    }
    if (!outcome.ok) return JSON.stringify(outcome);
    try {
      const json = JSON.stringify(outcome.value);
      return json === undefined ? '{"ok":true}' : '{"ok":true,"value":' + json + '}';
    } catch (thrown) {
      return JSON.stringify({ ok: false, error: "the completion value is not JSON-serialisable: " + describe(thrown) });
    }
  };
  const outcomeReply = (read, what) => ({ get result() { return encoder.encode(encodeOutcome(read(), what)).buffer; } });

  const output = (text) => { nativeIssueCommand(encoder.encode(PRINT_MAGIC + text).buffer); };
  globalThis.print = (...args) => { output(args.map(String).join(" ") + "\\n"); };
  globalThis.trace = (...args) => { output(args.map(String).join("")); };

  let op = undefined;
  let token = 0;
  let collectedDuringRun = false;
  const registry = new FinalizationRegistry((held) => { if (held === token) collectedDuringRun = true; });
  const RUN_CLEAN = new ArrayBuffer(1);
  const RUN_COLLECTED = new ArrayBuffer(2);
  const measuredReply = { get result() { return collectedDuringRun ? RUN_COLLECTED : RUN_CLEAN; } };

  Object.defineProperty(globalThis, "__xsHarness", { configurable: true, value: Object.freeze({
    load(specifier, globalName) {
      let outcome;
      import(specifier).then((namespace) => {
        for (const key of Reflect.ownKeys(namespace)) preloaded(namespace[key]);
        if (globalName !== undefined) globalThis[globalName] = namespace;
        outcome = { ok: true };
      }, (e) => { outcome = failure(e); });
      return outcomeReply(() => outcome, "the module's evaluation (top-level await)");
    },
    preload(values) { for (const value of values) preloaded(value); },
    setOp(fn) { op = fn; },
    // the halves the chunk probe (kind 2 below) joins its coarse and fine strings from
    prepareProbe(coarseLength, fineLength) {
      const half = (length, letter) => letter.repeat(length);
      probeHalves = [half(coarseLength >> 1, "a"), half(coarseLength - (coarseLength >> 1), "b"),
        half(fineLength >> 1, "c"), half(fineLength - (fineLength >> 1), "d")];
    },
    // the board's stack budget: the padding every queued callback and evaluated script runs under
    setPadding(count) { padding = new Array(count).fill(undefined); },
    // a callback for the delivery in progress to run after its listener returned, from the padding
    queue(fn, self, argc, arg, after) { queue.push({ fn, self, argc, arg, after }); },
    setReceiver(fn) {
      if (typeof fn !== "function") throw new TypeError("setReceiver takes a function");
      receiver = fn;
    },
  }) });

  // What Moddable's linker does to a preloaded heap (xs/tools/xsl.c fxFreezeBuiltIns,
  // xs/tools/xslSlot.c fxPrepareHeap): every function is frozen, and so is the prototype of
  // every constructor; ordinary objects stay writable (the linker makes them aliases), so
  // only the functions reachable through them are frozen here.
  // Instances of the kinds fxPrepareHeap cannot alias yet are frozen too, and a frozen Map,
  // Set, WeakMap or WeakSet is petrified (fxPetrifyInstance): its mutators throw XS's
  // "this: read-only Map instance" TypeError, emulated here by the guarded mutators below.
  // A preloaded TypedArray, DataView or ArrayBuffer is only made non-extensible: xsnap has
  // no way to make a buffer's bytes read-only in place (see the header comment).
  const frozenOnce = new WeakSet();
  const petrified = new WeakSet();
  const brand = (check, argument) => (value) => { try { check.call(value, argument); return true; } catch { return false; } };
  const unaliased = [
    [brand(Object.getOwnPropertyDescriptor(Map.prototype, "size").get), true],
    [brand(Object.getOwnPropertyDescriptor(Set.prototype, "size").get), true],
    [brand(WeakMap.prototype.has), true],
    [brand(WeakSet.prototype.has), true],
    [brand(WeakRef.prototype.deref), false],
    [brand(FinalizationRegistry.prototype.unregister, {}), false],
    [brand(Object.getOwnPropertyDescriptor(RegExp.prototype, "source").get), false],
    [(value) => value instanceof Promise, false],
  ];
  const prepareInstance = (value) => {
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      Object.preventExtensions(value);
      return true;
    }
    for (const [is, petrify] of unaliased) {
      if (!is(value)) continue;
      Object.freeze(value);
      if (petrify) petrified.add(value);
      return true;
    }
    return false;
  };
  const guard = (prototype, kind, methods) => {
    for (const name of Object.keys(methods)) {
      const original = prototype[name];
      if (typeof original !== "function") continue;
      const guarded = methods[name](original, kind);
      Object.defineProperty(prototype, name, { value: guarded, writable: true, enumerable: false, configurable: true });
    }
  };
  const readOnly = (kind) => new TypeError("this: read-only " + kind + " instance");
  const mutators = {
    set: (original, kind) => ({ set(key, value) { if (petrified.has(this)) throw readOnly(kind); return original.call(this, key, value); } }).set,
    add: (original, kind) => ({ add(value) { if (petrified.has(this)) throw readOnly(kind); return original.call(this, value); } }).add,
    delete: (original, kind) => ({ delete(key) { if (petrified.has(this)) throw readOnly(kind); return original.call(this, key); } }).delete,
    clear: (original, kind) => ({ clear() { if (petrified.has(this)) throw readOnly(kind); return original.call(this); } }).clear,
    getOrInsert: (original, kind) => ({ getOrInsert(key, value) { if (petrified.has(this)) throw readOnly(kind); return original.call(this, key, value); } }).getOrInsert,
    getOrInsertComputed: (original, kind) => ({ getOrInsertComputed(key, callback) { if (petrified.has(this)) throw readOnly(kind); return original.call(this, key, callback); } }).getOrInsertComputed,
  };
  const { set, add, clear, getOrInsert, getOrInsertComputed } = mutators;
  guard(Map.prototype, "Map", { set, delete: mutators.delete, clear, getOrInsert, getOrInsertComputed });
  guard(Set.prototype, "Set", { add, delete: mutators.delete, clear });
  guard(WeakMap.prototype, "WeakMap", { set, delete: mutators.delete, getOrInsert, getOrInsertComputed });
  guard(WeakSet.prototype, "WeakSet", { add, delete: mutators.delete });

  const isConstructor = (value) => { try { Reflect.construct(String, [], value); return true; } catch { return false; } };
  const preloaded = (value) => {
    if (value === null || (typeof value !== "object" && typeof value !== "function")) return;
    if (frozenOnce.has(value)) return;
    frozenOnce.add(value);
    if (typeof value !== "function" && prepareInstance(value) && (ArrayBuffer.isView(value) || value instanceof ArrayBuffer)) return;
    if (typeof value === "function") {
      Object.freeze(value);
      // only a constructor's prototype (xsl tests XS_CAN_CONSTRUCT_FLAG): a generator
      // function's prototype object stays an alias
      const prototype = Object.getOwnPropertyDescriptor(value, "prototype")?.value;
      if (prototype !== null && typeof prototype === "object" && isConstructor(value)) Object.freeze(prototype);
    }
    for (const key of Reflect.ownKeys(value)) {
      const property = Object.getOwnPropertyDescriptor(value, key);
      if (property === undefined) continue;
      preloaded(property.value);
      preloaded(property.get);
      preloaded(property.set);
    }
  };

  // A message from Node's send(): the receiver gets its bytes (and may queue callbacks); the
  // reply is a status byte (0: the receiver's ArrayBuffer follows, 1: a JSON failure follows).
  let receiver = undefined;
  const received = (payload) => {
    if (receiver === undefined) throw new Error("no receiver: nothing inside XS called __xsHarness.setReceiver(fn)");
    const value = receiver(payload.slice(1));
    if (value !== undefined && !(value instanceof ArrayBuffer)) throw new TypeError("the receiver returned neither an ArrayBuffer nor undefined");
    return value === undefined ? new Uint8Array(0) : new Uint8Array(value);
  };
  const statusReply = (bytes, failed) => {
    const text = failed === undefined ? bytes : encoder.encode(JSON.stringify(failed));
    const reply = new Uint8Array(1 + text.length);
    reply[0] = failed === undefined ? 0 : 1;
    reply.set(text, 1);
    return reply.buffer;
  };

  // The board's stack budget (stack-budget.mjs): the queued callbacks of a delivery (kind 1),
  // an evaluated script (kind 3) and the calibration's empty callback (kind 4) each run from
  // the bottom of a call whose arguments are the padding, always from the same depth (drain()
  // below, called from one place in deliver()), with Function.prototype.call.
  let padding = [];
  const queue = [];
  let current = undefined;
  function padded() {
    const entry = current;
    return entry.argc === 0 ? entry.fn.call(entry.self) : entry.fn.call(entry.self, entry.arg);
  }
  const drain = () => {
    while (queue.length > 0) {
      const entry = current = queue.shift();
      try {
        Reflect.apply(padded, undefined, padding);
      } catch (thrown) {
        queue.length = 0;
        throw thrown;
      } finally {
        entry.after?.();
      }
    }
  };
  const evaluated = (box) => {
    try {
      const value = (0, eval)(box.source);
      if (value !== null && (typeof value === "object" || typeof value === "function") && typeof value.then === "function") {
        Promise.resolve(value).then((v) => { box.outcome ??= { ok: true, value: v }; }, (e) => { box.outcome ??= failure(e); });
      } else {
        box.outcome = { ok: true, value };
      }
    } catch (thrown) {
      box.outcome = failure(thrown);
    }
  };
  const decoder = new TextDecoder();
  const PROBED = new ArrayBuffer(1);
  const empty = function (argument) {};
  const deliver = (kind, payload) => {
    let bytes, failed, box;
    try {
      if (kind === 1) bytes = received(payload);
      else if (kind === 3) queue.push({ fn: evaluated, self: undefined, argc: 1, arg: box = { source: decoder.decode(payload.slice(1)), outcome: undefined } });
      else {
        padding = new Array(new DataView(payload).getUint32(1, true)).fill(undefined);
        queue.push({ fn: empty, self: undefined, argc: 1, arg: 0 });
      }
      drain();
    } catch (thrown) {
      failed = failure(thrown);
    }
    if (kind === 1) return statusReply(bytes, failed);
    if (kind === 3) return outcomeReply(() => failed ?? box.outcome, "the promise returned by the script");
    return PROBED;
  };

  // A chunk probe's strings, after op: \`coarse\` strings joined from the coarse halves, then
  // \`fine\` from the fine ones, each a fresh chunk held only in a local (one at a time).
  let probeHalves = ["", "", "", ""];
  const probe = (coarse, fine) => {
    const coarseA = probeHalves[0], coarseB = probeHalves[1], fineA = probeHalves[2], fineB = probeHalves[3];
    let made;
    for (let i = 0; i < coarse; i++) made = coarseA + coarseB;
    for (let i = 0; i < fine; i++) made = fineA + fineB;
    return made;
  };
  // One measured run: the payload is 0 then the iteration count as a little-endian uint32;
  // a chunk probe run (2) adds the counts of coarse and fine strings to make after op.
  // Allocates the same number of slots whatever the counts are, apart from what op allocates.
  globalThis.handleCommand = (payload) => {
    const view = new DataView(payload);
    const kind = view.getUint8(0);
    if (kind === 1 || kind === 3 || kind === 4) return deliver(kind, payload);
    const iterations = view.getUint32(1, true);
    gc();
    token += 1;
    collectedDuringRun = false;
    registry.register({}, token);
    op(iterations);
    if (kind === 2) probe(view.getUint32(5, true), view.getUint32(9, true));
    return measuredReply;
  };

  // The built-ins as preload leaves them: the prototypes and namespaces that fxFreezeBuiltIns
  // freezes, and every built-in function (the linker freezes every function in the heap).
  // globalThis itself stays extensible and its bindings writable, as on the board.
  const hidden = (object) => Object.getPrototypeOf(object);
  const generator = function* () {};
  const asyncGenerator = async function* () {};
  const intrinsics = [
    Atomics, JSON, Math, Reflect,
    hidden([][Symbol.iterator]()), hidden(hidden([][Symbol.iterator]())),
    hidden(new Map()[Symbol.iterator]()), hidden(new Set()[Symbol.iterator]()),
    hidden(""[Symbol.iterator]()), hidden("a".matchAll(/a/g)),
    hidden(generator), hidden(generator.prototype), hidden(asyncGenerator), hidden(asyncGenerator.prototype),
    hidden(hidden(asyncGenerator.prototype)), hidden(async () => {}),
    hidden(Int8Array), Array.prototype[Symbol.unscopables],
    hidden((function () { return arguments; })()), hidden((function () { "use strict"; return arguments; })()),
  ];
  for (const name of Reflect.ownKeys(globalThis)) {
    const value = globalThis[name];
    if (typeof value === "function") intrinsics.push(value);
  }
  for (const intrinsic of intrinsics) {
    if (typeof intrinsic !== "function") Object.freeze(intrinsic);
    preloaded(intrinsic);
  }
})()`;
