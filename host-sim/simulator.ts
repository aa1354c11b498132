/*
 * The simulator as a library, for users' CI and for the CLI (host-sim/cli/cli.ts):
 *
 *   const sim = await startSimulator({ devices: 3 });        // embedded aedes, Node engine
 *   sim.brokerUrl;                                            // mqtt://127.0.0.1:<port>
 *   const reading = sim.waitForMessage("xs-mqtt/board-1/climate/state", { predicate: (m) => ... });
 *   await reading.subscribed;
 *   sim.boards[0].chip("sht3x").set({ temperature: 25 });
 *   await reading;                                            // { topic, payload, retain }
 *   sim.boards[0].wifi.drop();                                // access point away: no MQTT attempts, joins back off
 *   sim.boards[0].wifi.restore();                             // back: the board's next join, then it connects
 *   await sim.restartBroker();                                // the embedded broker restarts on its port
 *   await sim.stop();
 *
 * Every board runs the BUILT firmware bundle (dist/firmware.js by default) on hardware of
 * its own (board.ts): on Node, many boards in this process, or each inside its own real XS
 * engine (engine "xs"). Options:
 *   broker   "mqtt://host:port" or "mqtts://host:port" (else an embedded aedes on a free
 *            127.0.0.1 port, closed by stop())
 *   devices  how many boards (default 3), node ids board-1 ... board-N
 *   shard    { index, count }: only slice index (from 1) of count of the boards, with the
 *            numbers, ids and seeds they have in the whole fleet (shards/slice.ts)
 *   workers  the boards in that many worker processes (shards/pool.ts), each with its own
 *            event loop and open files; sim.boards are then FleetBoard views fed by their
 *            reports (default 0: every board in this process, as SimBoard)
 *   reportEvery  ms between the snapshots onReports() hears (default 500)
 *   engine   "node" (default) or "xs"
 *   seed     makes the chips' values and the reconnect jitter reproducible (default 1)
 *   firmware path of the built firmware bundle
 *   config   firmware configuration overrides (board-config.ts), for all boards or per board
 *   ca       PEM CA the boards and the watcher trust for an mqtts:// broker
 *   rtt      round-trip time of every board's link, ms (0 to 10,000, default 0): the TCP
 *            handshake takes one, every byte half of one each way (io/network.ts)
 *   stack    the XS engine's stack in slots (default: the manifests' creation.stack, 512): a
 *            callback chain deeper than a board's stack aborts the board (engine "xs" only)
 *   config.sleep  battery mode (device/app/battery.ts): the boards wake, publish and
 *            deep-sleep (host-sim/sleep.ts); board.wakes lists each wake's awake time and
 *            round trips, board.asleep says whether it sleeps now (on both engines)
 *   onStatus / onLog   hear every board's status changes and log lines
 *   onAbort  hears a board abort: an exception escaped a callback its IO delivered (a
 *            socket's, a timer's, a pin's, DNS's), which on a real board is fxAbort and a
 *            reboot. The board stops (sockets destroyed: the broker publishes its will),
 *            its status is "aborted" for good, `sim.aborted` lists it, and waitForMessage
 *            rejects (unless asked with `ignoreAborts: true`), so a CI test fails.
 *   onStarted  hears how many boards have started, after each batch
 * Start-up is all or nothing: if a board cannot start, what was started is stopped and the
 * promise rejects. Node side only.
 */

import { SimBoard } from "./board.js";
import type { BoardStatus, Engine, EngineStarter, FleetBoard } from "./board.js";
import { boardConfig, boardSeed, boardSensors } from "./board-config.js";
import type { BrokerAddress, ConfigOverrides } from "./board-config.js";
import { EmbeddedBroker } from "./broker.js";
import { DEFAULT_FIRMWARE, loadFirmware } from "./firmware-module.js";
import type { FirmwareModule } from "./firmware-module.js";
import { startNodeBoard } from "./engines/node/node-board.js";
import { MessageWatcher } from "./watcher.js";
import type { MessageWait, WaitOptions } from "./watcher.js";
import { startXsBoard } from "./engines/xs/xs-board.js";
import { measureProcess, startWorkerBoards } from "./shards/pool.js";
import type { WorkerMeasure } from "./shards/protocol.js";
import { ReportStream } from "./shards/reports.js";
import type { ReportListener } from "./shards/reports.js";
import { checkShard, rangeSize, sliceRange } from "./shards/slice.js";
import type { BoardRange, Shard } from "./shards/slice.js";

export type { BoardStatus, Engine, FleetBoard } from "./board.js";
export { SimBoard } from "./board.js";
export type { BoardWiFi } from "./io/wifi.js";
export type { ConfigOverrides } from "./board-config.js";
export { CLIENT_BUFFERS, I2C_CLOCK, I2C_DATA, LED_PIN, RELAY_PIN } from "./board-config.js";
export type { MessageWait, WaitOptions, WatchedMessage } from "./watcher.js";
export type { BoardReport, ReportListener } from "./shards/reports.js";
export type { WorkerMeasure } from "./shards/protocol.js";
export type { BoardRange, Shard } from "./shards/slice.js";
export { defaultWorkers, parseShard, shardFromEnvironment, sliceRange } from "./shards/slice.js";
/** The most files this process may open (for scripts that start large fleets); undefined off Linux. */
export { openFileLimit } from "./open-files.js";

export interface SimulatorOptions<B extends FleetBoard = SimBoard> {
  broker?: string;
  /** The whole fleet's size: board numbers 1 ... devices (this process runs its shard of them). */
  devices?: number;
  /** Runs slice `index` (from 1) of `count` of the fleet: boards keep their numbers, ids and seeds (shards/slice.ts). */
  shard?: Shard;
  /** ms between the reports onReports() hears (default 500). */
  reportEvery?: number;
  engine?: Engine;
  seed?: number;
  firmware?: string;
  config?: ConfigOverrides;
  ca?: string;
  /** Round-trip time of every board's link, ms (0 to MAX_RTT, default 0). */
  rtt?: number;
  /** The XS engine's stack in slots (default: the manifests' creation.stack, 512); null: all of xsnap's. */
  stack?: number | null;
  onStatus?: (board: B, status: BoardStatus) => void;
  onLog?: (board: B, line: string) => void;
  /** A board aborted: an exception escaped one of its IO callbacks (see above). */
  onAbort?: (board: B, error: Error) => void;
  /** Called as boards start (after each batch), for a progress display: boards started so far, of this shard's. */
  onStarted?: (started: number, total: number) => void;
}

/** The options with `workers`: worker processes to spread the boards over (0: all in this process). */
export interface WorkerOptions extends SimulatorOptions<FleetBoard> {
  workers: number;
}

export interface Simulator<B extends FleetBoard = SimBoard> {
  /** The broker the boards use. */
  readonly brokerUrl: string;
  /** Whether that broker is the embedded aedes (no `broker` option). */
  readonly embeddedBroker: boolean;
  readonly engine: Engine;
  readonly seed: number;
  /** The whole fleet's size. */
  readonly devices: number;
  /** The board numbers this simulator runs (all of them unless a shard was asked for). */
  readonly range: BoardRange;
  /** Worker processes running the boards (0: this process). */
  readonly workers: number;
  /** This simulator's boards, in order of their numbers. */
  readonly boards: readonly B[];
  /** The board with a node id. */
  board(id: string): B | undefined;
  /** The boards that aborted (an exception escaped an IO callback), in order, with the exception. */
  readonly aborted: readonly { board: B; error: Error }[];
  /**
   * Hears the boards' reports: every `reportEvery` ms a snapshot of each board that changed
   * (every board the first time), merged from every worker. Returns a function that stops listening.
   */
  onReports(listener: ReportListener): () => void;
  /**
   * Memory and CPU of the processes running the boards (this one, or each worker); unless
   * `collect` is false, after forced collections where gc is exposed (workers always have it).
   */
  measure(collect?: boolean): Promise<WorkerMeasure[]>;
  /**
   * The first message on a topic (filter) after this call that passes the predicate
   * (retained copies count: each wait subscribes anew); rejects after the timeout (default
   * 10 s), and when a board has aborted or aborts meanwhile (unless `ignoreAborts`).
   * Await its `subscribed` before causing the message, to be sure not to miss it.
   */
  waitForMessage(topic: string, options?: WaitOptions & { ignoreAborts?: boolean }): MessageWait;
  /**
   * Stops the embedded broker (every connection cut) and starts a fresh one on the same port; the boards and the
   * watcher reconnect by themselves. Retained messages are lost with it. Rejects with an
   * external broker.
   */
  restartBroker(): Promise<void>;
  /** Stops every board gracefully ("offline"), then the watcher and the embedded broker. Safe to call twice. */
  stop(): Promise<void>;
}

/** @internal What starting a simulator's boards needs, in this process or in workers. */
export interface BoardSettings {
  options: SimulatorOptions<any> & { logLines?: number };
  engine: Engine;
  seed: number;
  rtt: number;
  firmware: FirmwareModule;
  firmwarePath: string;
  sensors: ReturnType<typeof boardSensors>;
  address: BrokerAddress;
  brokerUrl: string;
  onAbort(board: FleetBoard, error: Error): void;
}

/** @internal Started boards, in this process or in workers. */
export interface BoardFleet {
  boards: FleetBoard[];
  onReports(listener: ReportListener): () => void;
  measure(collect: boolean): Promise<WorkerMeasure[]>;
  stop(): Promise<void>;
}

/**
 * Boards start this many at a time: on Node, then the event loop runs (a fleet does not
 * connect in one burst); XS workers, a few at a time.
 */
export const START_BATCH: Readonly<Record<Engine, number>> = Object.freeze({ node: 100, xs: 4 });
/** The most boards one simulator starts. */
export const MAX_DEVICES = 100_000;
/** The longest round-trip time a board's link may be given, ms. */
export const MAX_RTT = 10_000;
/** Boards of one process waiting for their first CONNACK at once, at most, while a fleet starts (paceConnects()). */
export const CONNECTING_WINDOW = 500;
/** How long a start waits for the broker to answer a board before it stops pacing, ms. */
const STALL_MS = 1_000;
/** The most worker processes one simulator starts. */
export const MAX_WORKERS = 256;

/** Fleet-wide options; the callbacks hear boards of type B (SimBoard in this process, FleetBoard from workers). */
export function startSimulator(options?: SimulatorOptions<SimBoard>): Promise<Simulator<SimBoard>>;
export function startSimulator(options: WorkerOptions): Promise<Simulator<FleetBoard>>;
export async function startSimulator(options: SimulatorOptions<any> & { workers?: number } = {}): Promise<Simulator<FleetBoard>> {
  const devices = options.devices ?? 3;
  if (!Number.isInteger(devices) || devices < 0 || devices > MAX_DEVICES) {
    throw new RangeError(`devices must be a whole number from 0 to ${MAX_DEVICES}`);
  }
  const shard = options.shard ?? { index: 1, count: 1 };
  checkShard(shard);
  return startSimulatorRange(options, sliceRange({ first: 1, last: devices }, shard));
}

/**
 * @internal The boards first..last of a fleet of `options.devices` (a shard worker runs its
 * range with this); startSimulator() checks the fleet's options first. `logLines`: the log
 * lines each board keeps (SimBoard.start's; a shard worker keeps none, its parent does).
 */
export async function startSimulatorRange(options: SimulatorOptions<any> & { workers?: number; logLines?: number }, range: BoardRange): Promise<Simulator<FleetBoard>> {
  const devices = options.devices ?? 3;
  const workers = options.workers ?? 0;
  if (!Number.isInteger(workers) || workers < 0 || workers > MAX_WORKERS) throw new RangeError(`workers must be a whole number from 0 to ${MAX_WORKERS}`);
  if (workers > 0 && typeof options.config === "function") {
    throw new TypeError("config as a function cannot go to worker processes: give an object (the same for every board), or workers: 0");
  }
  const engine = options.engine ?? "node";
  if (engine !== "node" && engine !== "xs") throw new RangeError(`engine must be "node" or "xs", not ${JSON.stringify(engine)}`);
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new RangeError("seed must be a whole number");
  const rtt = options.rtt ?? 0;
  if (!Number.isInteger(rtt) || rtt < 0 || rtt > MAX_RTT) throw new RangeError(`rtt must be a whole number of ms from 0 to ${MAX_RTT}`);
  const firmwarePath = options.firmware ?? DEFAULT_FIRMWARE;
  const firmware = await loadFirmware(firmwarePath);
  const sensors = boardSensors(firmware);

  let embedded: EmbeddedBroker | undefined;
  let address: BrokerAddress;
  if (options.broker === undefined) {
    embedded = await EmbeddedBroker.start();
    address = { host: "127.0.0.1", port: embedded.port, tls: false };
  } else {
    address = parseBrokerUrl(options.broker);
  }
  const brokerUrl = embedded?.url ?? options.broker!;
  const watcher = new MessageWatcher(brokerUrl, options.ca);
  const aborted: { board: FleetBoard; error: Error }[] = [];
  /** Waits to reject when a board aborts. */
  const abortWaiters = new Set<(error: Error) => void>();
  const onAbort = (board: FleetBoard, error: Error): void => {
    aborted.push({ board, error });
    (options.onAbort as ((board: FleetBoard, error: Error) => void) | undefined)?.(board, error);
    const failure = new Error(`${board.id} aborted: ${error.message}`, { cause: error });
    for (const reject of [...abortWaiters]) reject(failure);
  };
  const settings: BoardSettings = { options, engine, seed, rtt, firmware, firmwarePath, sensors, address, brokerUrl, onAbort };

  let fleet: BoardFleet | undefined;
  const closeRest = async (): Promise<void> => {
    await watcher.close();
    await embedded?.close();
  };
  try {
    fleet = workers > 0 ? await startWorkerBoards(settings, range, workers) : await startLocalBoards(settings, range);
  } catch (error) {
    await closeRest();
    throw error;
  }
  const boards = fleet.boards;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await fleet.stop();
      await closeRest();
    })();
    return stopping;
  };

  const byId = new Map(boards.map((board) => [board.id, board]));
  return {
    brokerUrl,
    embeddedBroker: embedded !== undefined,
    engine,
    seed,
    devices,
    range,
    workers,
    boards,
    board: (id) => byId.get(id),
    aborted,
    onReports: (listener) => fleet.onReports(listener),
    measure: (collect = true) => fleet.measure(collect),
    waitForMessage: (topic, waitOptions) => {
      const wait = watcher.waitForMessage(topic, waitOptions);
      if (waitOptions?.ignoreAborts === true) return wait;
      let stopWatching = (): void => {};
      const failed = new Promise<never>((_resolve, reject) => {
        const first = aborted[0];
        if (first !== undefined) return reject(new Error(`${first.board.id} aborted: ${first.error.message}`, { cause: first.error }));
        abortWaiters.add(reject);
        stopWatching = () => abortWaiters.delete(reject);
      });
      wait.catch(() => {}); // the race below reports it
      const raced = Promise.race([wait, failed]).finally(() => stopWatching()) as MessageWait;
      raced.subscribed = wait.subscribed;
      return raced;
    },
    restartBroker: () => embedded === undefined
      ? Promise.reject(new Error(`restartBroker: the broker ${brokerUrl} is not the embedded one`))
      : embedded.restart(),
    stop,
  };
}

/**
 * Waits while more than CONNECTING_WINDOW started boards have never been online, so that a
 * fleet's CONNECTs reach the broker about as fast as it answers them (a board whose CONNACK
 * takes longer than its connectTimeout backs off, and the fleet's start drags on). False,
 * and no more pacing, when no board came online for STALL_MS: the broker answers none.
 */
async function paceConnects(boards: readonly SimBoard[]): Promise<boolean> {
  const everOnline = (): number => {
    let count = 0;
    for (const board of boards) if (board.everOnline || board.status === "aborted") count++;
    return count;
  };
  let online = everOnline();
  let progressAt = Date.now();
  while (boards.length - online > CONNECTING_WINDOW) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = everOnline();
    if (now > online) {
      online = now;
      progressAt = Date.now();
    } else if (Date.now() - progressAt > STALL_MS) {
      return false;
    }
  }
  return true;
}

/** The boards of one range in this process: started a batch at a time; all or nothing. */
async function startLocalBoards(settings: BoardSettings, range: BoardRange): Promise<BoardFleet> {
  const { options, engine, seed, rtt, firmware, firmwarePath, sensors, address } = settings;
  const starter: EngineStarter = engine === "xs" ? startXsBoard : startNodeBoard;
  const boards: SimBoard[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(boards.map((board) => board.stop()));
  };
  const total = rangeSize(range);
  let pacing = true;
  try {
    const batch = START_BATCH[engine];
    for (let first = range.first; first <= range.last; first += batch) {
      const started = [];
      for (let boardNumber = first; boardNumber < first + batch && boardNumber <= range.last; boardNumber++) {
        started.push(SimBoard.start({
          number: boardNumber,
          engine,
          starter,
          config: boardConfig(boardNumber, address, sensors, options.config),
          firmware,
          firmwarePath,
          seed: boardSeed(seed, boardNumber),
          ca: options.ca,
          rtt,
          stack: options.stack,
          onStatus: options.onStatus,
          onLog: options.onLog,
          logLines: options.logLines,
          onAbort: settings.onAbort,
        }));
      }
      const results = await Promise.allSettled(started);
      for (const result of results) if (result.status === "fulfilled") boards.push(result.value);
      const failed = results.find((result) => result.status === "rejected");
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      options.onStarted?.(boards.length, total);
      if (engine === "node" && first + batch <= range.last) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (pacing) pacing = await paceConnects(boards);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const reports = new ReportStream(() => boards, options.reportEvery);
  return {
    boards,
    onReports: (listener) => reports.listen(listener),
    measure: async (collect) => [measureProcess(collect)],
    stop: async () => {
      reports.close();
      await stop();
    },
  };
}

/** mqtt://host:port or mqtts://host:port. */
export function parseBrokerUrl(url: string): BrokerAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`broker: ${JSON.stringify(url)} is not a URL: use mqtt://host:port or mqtts://host:port`);
  }
  if (parsed.protocol !== "mqtt:" && parsed.protocol !== "mqtts:") {
    throw new Error(`broker: ${JSON.stringify(url)} must start with mqtt:// or mqtts://`);
  }
  const tls = parsed.protocol === "mqtts:";
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host.length === 0) throw new Error(`broker: ${JSON.stringify(url)} has no host`);
  return { host, port: parsed.port === "" ? (tls ? 8883 : 1883) : Number(parsed.port), tls };
}
