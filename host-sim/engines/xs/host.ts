/*
 * XsHost: runs device JavaScript inside the real XS engine (an xsnap worker, through the
 * XS worker harness harness.mjs) with its IO bridged to Node. XS calls Node through
 * issueCommand (synchronous: connect, write, close, arm a timer); Node calls XS through
 * deliveries (asynchronous, one at a time, in order: socket writable/readable/error, timer
 * ticks). Inside XS, the module in-xs/io.js is the global `hostIo` (`hostIo.io` is the
 * ClientIo the client takes). Services are pluggable (register()) so that a simulated
 * board can add its own next to TCP and Timer.
 *
 *   const xs = await XsHost.start();
 *   await xs.load("dist/xs-mqtt.js", "M");
 *   await xs.evaluate("globalThis.client = new M.MqttClient({ ..., io: hostIo.io })");
 *   ...
 *   await xs.close();
 *
 * Node side only. It never interprets what device code sends (bytes go through as they
 * are), never runs device code on Node, and leaves no worker, socket or timer behind
 * after close().
 */

import path from "node:path";
import { fileURLToPath } from "node:url";
import { XsWorker } from "./harness.mjs";
import type { XsResult } from "./harness.mjs";
import { decodeFrame, encodeFrame } from "./frame.js";
import type { FrameHeader } from "./frame.js";
import type { XsService } from "./service.js";
import { TcpService } from "./tcp-service.js";
import { TimerService } from "./timer-service.js";

/** How long close() waits for XS to finish the delivery it is handling, ms. */
const IDLE_WAIT_MS = 1_000;

/** The XS side of the bridge, loaded into every host as the global `hostIo`. */
export const XS_IO_MODULE = path.join(path.dirname(fileURLToPath(import.meta.url)), "in-xs", "io.js");

export interface XsHostOptions {
  /** The worker's name, in errors and output prefixes. */
  name?: string;
  /** Receives print() and trace() text from XS (default: Node's stderr, prefixed). */
  print?: (text: string) => void;
  /**
   * Receives what goes wrong outside any call of yours: an exception thrown inside XS by
   * code a delivery ran (a socket or timer callback), or a worker that died. Default:
   * written to Node's stderr.
   */
  onError?: (error: Error) => void;
  /** Round-trip time of the board's link, ms (default 0: host-sim/io/network.ts). */
  rtt?: number;
  /**
   * The board's XS stack in slots that IO callbacks and evaluated scripts get (default: the
   * manifests' creation.stack; null: all of xsnap's); a deeper chain overflows and the worker
   * dies, as the board aborts (stack-budget.mjs).
   */
  stack?: number | null;
}

export class XsHost {
  /**
   * Starts an XS worker and loads the bridge (global `hostIo`), with the TCP and Timer
   * services registered. Rejects, having stopped everything, if any of that fails.
   */
  static async start(options: XsHostOptions = {}): Promise<XsHost> {
    const worker = await XsWorker.start({ name: options.name ?? "xs-host", print: options.print, stack: options.stack });
    const host = new XsHost(worker, options);
    try {
      await host.load(XS_IO_MODULE, "hostIo");
    } catch (error) {
      await host.close();
      throw error;
    }
    return host;
  }

  /** The XS worker (for its meters: slotsPerOp and the slots of each result). */
  readonly worker: XsWorker;
  readonly tcp: TcpService;
  readonly timer: TimerService;
  readonly #services = new Map<string, XsService>();
  readonly #onError: (error: Error) => void;
  #closed = false;

  private constructor(worker: XsWorker, options: XsHostOptions) {
    this.worker = worker;
    this.#onError = options.onError ?? ((error) => process.stderr.write(`[xs-host] ${error.message}\n`));
    const deliver = (header: FrameHeader, body?: Uint8Array) => this.deliver(header, body);
    this.tcp = new TcpService(deliver, undefined, options.rtt);
    this.timer = new TimerService(deliver);
    this.register(this.tcp);
    this.register(this.timer);
    worker.onCommand((message) => this.#command(message));
  }

  /** Adds a service; XS reaches it with `hostIo.call(name, header, body)`. */
  register(service: XsService): void {
    if (this.#services.has(service.name)) throw new Error(`XsHost: a service named ${service.name} is registered already`);
    this.#services.set(service.name, service);
  }

  /**
   * Loads an ES module file into XS (its relative imports resolve against its own path);
   * with `globalName`, its namespace becomes that global.
   */
  async load(modulePath: string, globalName?: string): Promise<void> {
    const absolute = path.resolve(modulePath);
    await this.worker.importModule(absolute, globalName);
  }

  /** Runs a script at global scope in XS (see XsWorker.evaluate). */
  evaluate<T = unknown>(source: string): Promise<XsResult<T>> {
    return this.worker.evaluate<T>(source);
  }

  /**
   * Sends an event into XS for the listener of `header.service` (registered inside XS with
   * `hostIo.listen`), after the deliveries already queued. Resolves once XS handled it;
   * never rejects: failures go to onError. Dropped once the host is closing.
   */
  async deliver(header: FrameHeader, body?: Uint8Array): Promise<void> {
    if (this.#closed) return;
    try {
      await this.worker.send(encodeFrame(header, body));
    } catch (error) {
      if (this.#closed) return;
      this.#onError(new Error(`a ${header.service} delivery (${String(header.event)}) failed in XS: ${(error as Error).message}`, { cause: error }));
    }
  }

  /** Answers one issueCommand from XS (synchronously, while XS waits). */
  #command(message: Uint8Array): Uint8Array {
    let service: string | undefined;
    try {
      const request = decodeFrame(message);
      service = request.header.service;
      const handler = this.#services.get(service);
      if (handler === undefined) throw new Error(`no host service named ${JSON.stringify(service)}`);
      if (this.#closed) throw new Error("the host is closed");
      const reply = handler.command(request);
      return encodeFrame({ ...reply?.header, service }, reply?.body);
    } catch (error) {
      return encodeFrame({ service: service ?? "", error: (error as Error).message ?? String(error), errorName: (error as Error).name });
    }
  }

  /**
   * Stops everything: services first (sockets destroyed, timers cleared; later events are
   * dropped), then the XS worker once the delivery it is handling, if any, is over (at most
   * IDLE_WAIT_MS: a runaway loop is not): a worker stopped while XS waits for a command's
   * answer would read the end of its input instead.
   * Safe to call twice.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const service of this.#services.values()) {
        try {
          service.close();
        } catch (error) {
          this.#onError(error as Error);
        }
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.worker.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, IDLE_WAIT_MS)))]);
    clearTimeout(timer);
    await this.worker.close();
  }
}
