/*
 * One simulated board: its hardware (its own VirtualPins, an I2CBus with an SHT3x at 0x44
 * and a BH1750 at 0x23, seeded per board; the relay and LED are pins the firmware drives;
 * a Wi-Fi radio, io/wifi.ts, to drop and restore)
 * and the built firmware running on it, on Node or inside XS (an engine:
 * engines/node/node-board.ts, engines/xs/xs-board.ts). SimBoard is what users of the
 * simulator hold: its state (status, readings, actuators, message counts), the chips and
 * pins to drive, the network link to cut, stop().
 * Node side only; it never runs device code itself, the engine does.
 */

import type { Config, FirmwareConfig } from "../device/app/config.js";
import type { ActuatorState, FirmwareCounts, FirmwareStatus, ReadingState } from "../device/app/firmware.js";
import type { ClientStats } from "../device/mqtt/index.js";
import { BH1750_ADDRESS, I2C_CLOCK, I2C_DATA, SHT3X_ADDRESS } from "./board-config.js";
import { BH1750Chip } from "./chips/bh1750.js";
import { SHT3xChip } from "./chips/sht3x.js";
import { VirtualPins } from "./io/digital.js";
import type { Level } from "./io/digital.js";
import type { FirmwareModule } from "./firmware-module.js";
import { I2CBus } from "./io/i2c.js";
import { activitySlot, markActivity } from "./io/activity.js";
import { EMPTY, withItem, withoutItem } from "./io/lists.js";
import type { WakeCycle } from "./sleep.js";
import { BoardWiFi } from "./io/wifi.js";

export type Engine = "node" | "xs";

/**
 * A board's status: the firmware's ("connecting", "online", "offline"), "asleep" between the
 * wakes of a board in battery mode, or "aborted" once an exception escaped a callback its IO
 * delivered (io/abort.ts): the board runs nothing more.
 */
export type BoardStatus = FirmwareStatus | "asleep" | "aborted";

/** The board's state as the firmware reports it. */
export interface BoardSnapshot {
  readings: ReadingState[];
  actuators: ActuatorState[];
  counts: FirmwareCounts;
  stats: ClientStats;
}

/** What an engine does for a board. */
export interface BoardEngine {
  /** The firmware configuration with every default filled in. */
  readonly config: Config;
  /** The latest state (live on Node; from the last report inside XS). */
  readings(): ReadingState[];
  actuators(): ActuatorState[];
  /** The readings' values and the actuators' states (1: on) appended to `out`, as readings() and actuators() have them; each returns how many. Build no objects. */
  pushReadingValues(out: (number | null)[]): number;
  pushActuatorStates(out: (number | null)[]): number;
  counts(): FirmwareCounts;
  stats(): ClientStats;
  setActuator(id: string, on: boolean): Promise<boolean>;
  cutNetwork(): void;
  restoreNetwork(): void;
  /** The wake cycles of a board in battery mode (none otherwise), oldest first. */
  wakes(): readonly WakeCycle[];
  /** Whether a board in battery mode is in deep sleep now. */
  asleep(): boolean;
  /** Stops the firmware gracefully ("offline", DISCONNECT), waits (bounded) for its connection to close, frees everything. */
  stop(): Promise<void>;
}

/** A board's wiring: I²C pins and chips, pins, its Wi-Fi radio. */
export class BoardHardware {
  readonly pins = new VirtualPins();
  readonly bus = new I2CBus({ data: I2C_DATA, clock: I2C_CLOCK, pins: this.pins });
  readonly sht3x: SHT3xChip;
  readonly bh1750: BH1750Chip;
  /** The Wi-Fi radio: up at start; the engine attaches the board's network link to it. */
  readonly wifi: BoardWiFi;

  /** `activity`: the board's slot (io/activity.ts), which its Wi-Fi station's changes count on. */
  constructor(seed: number, boardNumber = 1, activity = -1) {
    this.wifi = new BoardWiFi({ seed, boardNumber, activity });
    this.sht3x = new SHT3xChip({ seed });
    this.bh1750 = new BH1750Chip({ seed: seed ^ 0x5a5a });
    this.bus.attach(SHT3X_ADDRESS, this.sht3x);
    this.bus.attach(BH1750_ADDRESS, this.bh1750);
  }
}

/** What an engine needs to start a board. */
export interface BoardStart {
  /** 1, 2, ... */
  number: number;
  hardware: BoardHardware;
  /** The configuration, resolved once (SimBoard.start(), by the firmware bundle's resolveConfig()) and handed on as it is. */
  config: Config;
  /** The built firmware, loaded on Node (the Node engine runs it; the XS engine loads `firmwarePath` into XS). */
  firmware: FirmwareModule;
  firmwarePath: string;
  /** Makes the reconnect jitter reproducible. */
  seed: number;
  /** The board's activity slot (io/activity.ts): the Node engine counts every callback its IO delivers on it; -1 for none. */
  activity?: number;
  /** PEM CA for a TLS broker with its own CA. */
  ca?: string;
  /** Round-trip time of the board's link, ms (default 0). */
  rtt?: number;
  /** The XS engine's stack in slots (engines/xs/stack-budget.mjs; default the manifests'); null: all of xsnap's. */
  stack?: number | null;
  /** Hears the firmware's status, log lines, sleeps and an abort: the board itself (its methods, no closures per board). */
  listener: BoardListener;
}

/** What an engine tells its board (SimBoard's @internal methods). */
export interface BoardListener {
  _onStatus(status: FirmwareStatus): void;
  /** A board in battery mode fell asleep after this wake. */
  _onSleep(cycle: WakeCycle): void;
  _onLog(line: string): void;
  /** An exception escaped a callback the board's IO delivered: the engine has stopped the board (io/abort.ts). */
  _onAbort(error: Error): void;
}

export type EngineStarter = (start: BoardStart) => Promise<BoardEngine>;

/** How many log lines a board keeps. */
const LOG_LINES = 50;

/**
 * What a live view, a dashboard or a test reads of a board and may do to it, whether the
 * board runs in this process (SimBoard) or in a worker process (shards/remote-board.ts).
 */
export interface FleetBoard {
  readonly id: string;
  readonly number: number;
  /** The board's own seed (its chips' values, its reconnect jitter): from the simulator's seed and the board's number only. */
  readonly seed: number;
  readonly engine: Engine;
  readonly status: BoardStatus;
  readonly everOnline: boolean;
  readonly abortError: Error | undefined;
  readonly log: readonly string[];
  readonly config: Config;
  readonly topics: BoardTopics;
  readonly readings: ReadingState[];
  readonly actuators: ActuatorState[];
  readonly counts: FirmwareCounts;
  readonly messages: { sent: number; received: number };
  readonly stats: ClientStats;
  readonly wifi: { readonly up: boolean; rssi(): number };
  onStatus(listener: (status: BoardStatus) => void): () => void;
  setActuator(id: string, on: boolean): Promise<boolean>;
  cutNetwork(): void;
  restoreNetwork(): void;
  /** Sets a chip's values, as chip(name).set(values) (in a worker process too); rejects with what the chip refuses. */
  setChip(chip: "sht3x" | "bh1750", values: Record<string, number>): Promise<void>;
  stop(): Promise<void>;
}

/** A board's topics, from its configuration by the firmware bundle's own topic functions. */
export class BoardTopics {
  readonly #board: { readonly config: Config };
  readonly #firmware: FirmwareModule;

  constructor(board: { readonly config: Config }, firmware: FirmwareModule) {
    this.#board = board;
    this.#firmware = firmware;
  }

  /** <prefix>/<node>/status: "online" / "offline", retained. */
  get status(): string {
    return this.#firmware.statusTopic(this.#board.config);
  }

  /** A sensor's JSON state, or an actuator's "ON" / "OFF" (retained). */
  state(id: string): string {
    return this.#firmware.stateTopic(this.#board.config, id);
  }

  /** An actuator's command topic. */
  command(id: string): string {
    const config = this.#board.config;
    const spec = config.actuators.find((a) => a.id === id);
    if (spec === undefined) throw new RangeError(`${config.nodeId} has no actuator ${JSON.stringify(id)}`);
    return this.#firmware.commandTopic(config, spec);
  }
}

export class SimBoard implements FleetBoard, BoardListener {
  /** The firmware's node id, e.g. "board-1". */
  readonly id: string;
  readonly number: number;
  readonly seed: number;
  readonly engine: Engine;
  readonly hardware: BoardHardware;
  /**
   * @internal The board's activity slot (io/activity.ts), on the Node engine (-1 inside XS,
   * whose figures arrive in its own reports): a report stream passes over a board whose count did not change.
   */
  readonly activity: number;
  /** The last log lines, replaced on every line (io/lists.ts). */
  #log: readonly string[] = EMPTY;
  /** How many it keeps (0 in a worker process: its parent keeps the lines it is sent). */
  #logLines = LOG_LINES;
  #engine: BoardEngine | undefined;
  /** The configuration until the engine has its own. */
  #config: Config | undefined;
  #status: BoardStatus = "connecting";
  #abortError: Error | undefined = undefined;
  #everOnline = false;
  #stopping: Promise<void> | undefined;
  /** Made on first use (most boards of a fleet have no listeners). */
  #listeners: readonly ((status: BoardStatus) => void)[] | undefined = undefined;
  /** The simulator's onStatus and onLog (SimBoard.start's options), heard before the listeners above. */
  #simulatorOnStatus: ((board: SimBoard, status: BoardStatus) => void) | undefined = undefined;
  #simulatorOnLog: ((board: SimBoard, line: string) => void) | undefined = undefined;
  #simulatorOnAbort: ((board: SimBoard, error: Error) => void) | undefined = undefined;
  readonly #firmware: FirmwareModule;
  #topics: BoardTopics | undefined = undefined;

  /** Use SimBoard.start(). */
  private constructor(number: number, seed: number, engine: Engine, config: Config, hardware: BoardHardware, firmware: FirmwareModule, activity: number) {
    this.number = number;
    this.activity = activity;
    this.seed = seed;
    this.id = config.nodeId;
    this.engine = engine;
    this.#config = config;
    this.hardware = hardware;
    this.#firmware = firmware;
  }

  /** Builds the board's hardware and starts the firmware on `engine`. */
  static async start(options: {
    number: number; engine: Engine; starter: EngineStarter; config: FirmwareConfig; firmware: FirmwareModule;
    firmwarePath: string; seed: number; ca?: string; rtt?: number; stack?: number | null;
    /** Log lines kept (default 50); the onLog listener hears every line whatever this is. */
    logLines?: number;
    onStatus?: (board: SimBoard, status: BoardStatus) => void;
    onLog?: (board: SimBoard, line: string) => void;
    onAbort?: (board: SimBoard, error: Error) => void;
  }): Promise<SimBoard> {
    const resolved = options.firmware.resolveConfig(options.config); // a mistake throws ConfigError here
    const activity = options.engine === "node" ? activitySlot() : -1;
    const hardware = new BoardHardware(options.seed, options.number, activity);
    const board = new SimBoard(options.number, options.seed, options.engine, resolved, hardware, options.firmware, activity);
    if (options.logLines !== undefined) board.#logLines = options.logLines;
    // the simulator's listeners, one function for every board (no closure per board)
    board.#simulatorOnStatus = options.onStatus;
    board.#simulatorOnLog = options.onLog;
    board.#simulatorOnAbort = options.onAbort;
    board.#engine = await options.starter({
      number: options.number,
      hardware,
      config: resolved,
      firmware: options.firmware,
      firmwarePath: options.firmwarePath,
      seed: options.seed,
      activity,
      ca: options.ca,
      rtt: options.rtt,
      stack: options.stack,
      listener: board,
    });
    board.#config = undefined; // the engine's is the one
    return board;
  }

  /** The last log lines of the firmware (up to 50), oldest first. */
  get log(): readonly string[] {
    return this.#log;
  }

  /** The topics of this board: status, a sensor's or actuator's state, an actuator's commands (made on first use). */
  get topics(): BoardTopics {
    this.#topics ??= new BoardTopics(this, this.#firmware);
    return this.#topics;
  }

  /** The firmware configuration with every default filled in. */
  get config(): Config {
    return this.#engine?.config ?? this.#config!;
  }

  /**
   * "connecting" until the first connection, then "online" or "offline" ("offline" after
   * stop()); "aborted" for good once an exception escaped one of its callbacks (abortError).
   */
  get status(): BoardStatus {
    return this.#status;
  }

  /** The exception that aborted the board (an IO callback let it escape), or undefined. */
  get abortError(): Error | undefined {
    return this.#abortError;
  }

  /** Whether the board was ever online. */
  get everOnline(): boolean {
    return this.#everOnline;
  }

  /** The latest readings, one per configured reading (value null until the sensor gave one). */
  get readings(): ReadingState[] {
    return this.#started().readings();
  }

  /** The actuators' states. */
  get actuators(): ActuatorState[] {
    return this.#started().actuators();
  }

  /** @internal The readings' values appended to `out` (null: none yet), as `readings` has them; returns how many. Builds no objects (reports.ts). */
  pushReadingValues(out: (number | null)[]): number {
    return this.#started().pushReadingValues(out);
  }

  /** @internal The actuators' states appended to `out` (1: ON, 0: OFF), as `actuators` has them; returns how many. Builds no objects (reports.ts). */
  pushActuatorStates(out: (number | null)[]): number {
    return this.#started().pushActuatorStates(out);
  }

  /** The firmware's counts (samples, readings and states published, commands, connects, ...). */
  get counts(): FirmwareCounts {
    return this.#started().counts();
  }

  /** PUBLISH packets the board sent and messages it received. */
  get messages(): { sent: number; received: number } {
    const stats = this.#started().stats();
    return { sent: stats.sent, received: stats.received };
  }

  /**
   * The wake cycles of a board in battery mode (config.sleep), oldest first (the last 100):
   * each one's awake time and the round trips it waited for on its link. Empty otherwise.
   */
  get wakes(): readonly WakeCycle[] {
    return this.#started().wakes();
  }

  /** Whether a board in battery mode is in deep sleep now (it has no socket then). */
  get asleep(): boolean {
    return this.#started().asleep();
  }

  /** The MQTT client's counters (connection `attempts`, `reconnects`, messages...); inside XS, as of the last report (every 250 ms). */
  get stats(): ClientStats {
    return this.#started().stats();
  }

  async setChip(chip: "sht3x" | "bh1750", values: Record<string, number>): Promise<void> {
    if (chip === "sht3x") this.chip("sht3x").set(values);
    else this.chip("bh1750").set(values);
  }

  /** A simulated chip on the board's I²C bus, to set its values: chip("sht3x").set({temperature: 25}). */
  chip(name: "sht3x"): SHT3xChip;
  chip(name: "bh1750"): BH1750Chip;
  chip(name: "sht3x" | "bh1750"): SHT3xChip | BH1750Chip {
    if (name === "sht3x") return this.hardware.sht3x;
    if (name === "bh1750") return this.hardware.bh1750;
    throw new RangeError(`no chip named ${JSON.stringify(name)} on a simulated board: "sht3x" or "bh1750"`);
  }

  /** The level on a GPIO now (e.g. pin(26): the relay). */
  pin(gpio: number): Level {
    return this.hardware.pins.level(gpio);
  }

  /** Drives a GPIO from outside (a button, a wire), or stops driving it (undefined). */
  setPin(gpio: number, level: Level | undefined): void {
    this.hardware.pins.set(gpio, level);
  }

  /** Sets an actuator as a local button would (its state is published); false for an unknown id. */
  setActuator(id: string, on: boolean): Promise<boolean> {
    markActivity(this.activity);
    return this.#running().setActuator(id, on);
  }

  /**
   * The board's Wi-Fi radio: `up`, `connection`, `accessPoint`, `address`, `rssi()`, `drops`,
   * `joins`; `drop()` takes the access point away (the connection fails, no MQTT attempts
   * until the link is back: the client's `attempts` stay put; the board's joins back off)
   * and `restore()` brings it back (the board is back at its next join, then connects at once).
   */
  get wifi(): BoardWiFi {
    return this.hardware.wifi;
  }

  /** Loses the network link: connections destroyed (the broker publishes the will), new ones refused until restoreNetwork(). */
  cutNetwork(): void {
    markActivity(this.activity);
    this.#running().cutNetwork();
  }

  restoreNetwork(): void {
    markActivity(this.activity);
    this.#running().restoreNetwork();
  }

  /** Hears every status change; returns a function that removes the listener. */
  onStatus(listener: (status: BoardStatus) => void): () => void {
    // (replaced on every change, lists.ts: a status change goes to the listeners of its moment)
    this.#listeners = withItem(this.#listeners ?? [], listener);
    return () => {
      if (this.#listeners !== undefined) this.#listeners = withoutItem(this.#listeners, listener);
    };
  }

  /** Stops the firmware gracefully ("offline" published, then DISCONNECT). Safe to call twice. */
  stop(): Promise<void> {
    markActivity(this.activity);
    this.#stopping ??= (async () => {
      await this.#engine?.stop();
      if (this.#abortError === undefined) this.#setStatus("offline");
    })();
    return this.#stopping;
  }

  /** @internal BoardListener: the firmware's status. */
  _onStatus(status: FirmwareStatus): void {
    this.#setStatus(status);
  }

  /** @internal BoardListener: a board in battery mode fell asleep. */
  _onSleep(): void {
    this.#setStatus("asleep");
  }

  /** @internal BoardListener: a log line of the firmware (or of its engine). */
  _onLog(line: string): void {
    this.#addLog(line);
  }

  /** @internal BoardListener: the board aborted (the first abort only counts). */
  _onAbort(error: Error): void {
    if (this.#abortError !== undefined) return;
    this.#abortError = error;
    this.#addLog("abort: " + (error.stack ?? String(error)).split("\n").slice(0, 3).join(" | "));
    this.#setStatus("aborted");
    this.#simulatorOnAbort?.(this, error);
  }

  #running(): BoardEngine {
    if (this.#engine === undefined || this.#stopping !== undefined) throw new Error(`${this.id} is stopped`);
    return this.#engine;
  }

  #started(): BoardEngine {
    if (this.#engine === undefined) throw new Error(`${this.id} is not started`);
    return this.#engine;
  }

  #setStatus(status: BoardStatus): void {
    if (status === this.#status || this.#status === "aborted") return;
    this.#status = status;
    markActivity(this.activity);
    if (status === "online") this.#everOnline = true;
    this.#simulatorOnStatus?.(this, status);
    if (this.#listeners !== undefined) for (const listener of this.#listeners) listener(status);
  }

  #addLog(line: string): void {
    if (this.#logLines > 0) this.#log = withItem(this.#log, line, this.#logLines);
    this.#simulatorOnLog?.(this, line);
  }
}
