// Type declarations for harness.mjs (the XS worker harness): types only, no code.
// Named .d.mts because TypeScript looks for `harness.d.mts` when a file imports "./harness.mjs".

/** A delivery's outcome with the worker's meters read right after it. */
export interface XsResult<T> {
  value: T;
  /** currentHeapCount after the delivery: slots in use (garbage included, no GC runs after). */
  slots: number;
  /** computrons spent by the delivery. */
  compute: number;
}

export interface XsWorkerOptions {
  /** worker name, shown in errors and output prefixes. */
  name?: string;
  /**
   * Receives the text of each `print(...)` (newline included) and `trace(...)` made in XS,
   * in order and before the delivery that made it resolves. Default: Node's stderr,
   * prefixed with the worker name.
   */
  print?: (text: string) => void;
  /**
   * The board's XS stack in slots that IO callbacks (queued by in-xs/bridge.js's callback())
   * and evaluated scripts get (default: manifests/esp32's creation.stack); null: all of
   * xsnap's 4,096. A chain deeper than that overflows and the worker exits with code 12, as a
   * board aborts (stack-budget.mjs has the model).
   */
  stack?: number | null;
}

export declare class XsWorker {
  private constructor();
  /** Spawns a real xsnap worker process; rejects with the reason when xsnap is unavailable. */
  static start(options?: XsWorkerOptions): Promise<XsWorker>;
  /**
   * Loads an ES module file (absolute, or relative to Node's cwd; its relative imports resolve
   * against its own path) as Moddable's preload leaves it: its functions, constructors'
   * prototypes, Map/Set/WeakMap/WeakSet/WeakRef/FinalizationRegistry/RegExp/Promise
   * instances frozen, Map/Set/WeakMap/WeakSet contents read-only (see harness.mjs's header
   * for what still differs). With `globalName`, its namespace becomes that global.
   */
  importModule(path: string, globalName?: string): Promise<void>;
  /**
   * Runs a script at global scope. The completion value (awaited if it is a promise that
   * settles within the delivery) is JSON-serialised and returned as value. XS exceptions
   * reject with an Error whose message contains the XS error message.
   */
  evaluate<T = unknown>(source: string): Promise<XsResult<T>>;
  /**
   * Exact slots allocated per execution of opSource: setupSource runs once in its own
   * delivery (define globals with var, function declarations or globalThis.x =), then
   * opSource, the body of a loop, runs `iterations` times after gc(), minus the same loop run
   * 0 times. Throws if a collection ran inside the measured loop (use fewer iterations).
   */
  slotsPerOp(setupSource: string, opSource: string, iterations: number): Promise<number>;
  /**
   * Delivers a message into XS, asynchronously from XS's point of view: the receiver that
   * code inside XS registered with `__xsHarness.setReceiver(fn)` gets its bytes as an
   * ArrayBuffer; what it returns (an ArrayBuffer, or undefined for none) is the reply.
   * Serialised with the other deliveries; promise jobs run before it resolves. Rejects
   * when no receiver is registered or the receiver throws (with the XS error message).
   */
  send(message: Uint8Array): Promise<Uint8Array>;
  /**
   * Handler for issueCommand(ArrayBuffer) calls made inside XS, run synchronously while XS
   * waits; undefined replies an empty ArrayBuffer. If it throws, XS gets an empty reply and
   * the delivery in progress rejects with that error.
   */
  onCommand(handler: (msg: Uint8Array) => Uint8Array | undefined): void;
  /** Resolves once the deliveries sent so far are handled (XS is between deliveries then, until the next one). */
  idle(): Promise<void>;
  /** Stops the process (SIGKILL after 1 s if it does not exit); safe to call twice. */
  close(): Promise<void>;
}

/** Whether @agoric/xsnap is installed with its worker binary built; reason says what is missing and how to fix it. */
export declare function xsAvailable(): { ok: true } | { ok: false; reason: string };
