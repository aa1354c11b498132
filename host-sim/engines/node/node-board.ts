/*
 * The Node engine of a simulated board: the built firmware (dist/firmware.js, loaded once
 * by the simulator) runs in this Node process with the board's own IO: TCP/TLS from its
 * BoardNetwork (the device's send window; cut and restore), DNS, Timer and its clock, its
 * VirtualPins' Digital class and its I2CBus's I2C class, the Wi-Fi interface of its radio
 * (io/wifi.ts, which governs the network link), the access point's SSID and password (the
 * firmware rejoins with them) and its address. Home Assistant's restart
 * button starts the firmware anew on the same IO. Every callback that IO delivers
 * runs through the board's BoardAbort (host-sim/io/abort.ts): an exception escaping one
 * aborts the board, as fxAbort resets a real one. A board in battery mode (config.sleep)
 * gets a BoardSleep (host-sim/sleep.ts): at each wake the firmware starts afresh, as after a
 * deep sleep, with the retained words kept. Many boards share one process (a fleet of
 * thousands), so a board holds only what it needs. Node side only.
 */

import type { Config } from "../../../device/app/config.js";
import type { ActuatorState, Firmware, FirmwareCounts, FirmwareStatus, ReadingState } from "../../../device/app/firmware.js";
import type { ClientStats } from "../../../device/mqtt/index.js";
import type { FirmwareIo } from "../../../device/app/io.js";
import { BoardAbort } from "../../io/abort.js";
import type { AbortListener } from "../../io/abort.js";
import type { BoardEngine, BoardListener, BoardStart } from "../../board.js";
import type { FirmwareModule } from "../../firmware-module.js";
import type { VirtualPins } from "../../io/digital.js";
import { CLIENT_BUFFERS, CLOSE_TIMEOUT, I2C_CLOCK, I2C_DATA } from "../../board-config.js";
import { HostResolver } from "../../io/dns.js";
import { now } from "../../io/monotonic.js";
import { BoardNetwork } from "../../io/network.js";
import { TextDecoder, TextEncoder } from "../../io/text.js";
import { SIM_PASSWORD, SIM_SSID } from "../../io/wifi.js";
import type { BoardWiFi } from "../../io/wifi.js";
import { BoardSleep } from "../../sleep.js";
import type { WakeCycle } from "../../sleep.js";
import { startBoard } from "../xs/in-xs/board-wiring.js";
import { mulberry32 } from "../xs/in-xs/prng.js";

export async function startNodeBoard(start: BoardStart): Promise<BoardEngine> {
  return new NodeEngine(start);
}

/** The access point's SSID and password as the simulated radio has them by default: one object for every board. */
const SIM_CREDENTIALS = Object.freeze({ SSID: SIM_SSID, password: SIM_PASSWORD });

/** The I²C class of a board's bus; WakeI2C's connections (battery mode) close with the wake. */
type BusI2C = BoardStart["hardware"]["bus"]["I2C"];

/**
 * A board's engine on Node: the firmware object, its IO and the network link, in one object
 * (its few callbacks see only the engine itself: a fleet's boards keep no per-board context
 * of locals).
 */
class NodeEngine implements BoardEngine, AbortListener {
  /** What boot() needs of the board's start (the rest of it is not kept). */
  readonly #module: FirmwareModule;
  readonly #config: Config;
  readonly #seed: number;
  readonly #pins: VirtualPins;
  readonly #wifi: BoardWiFi;
  /** The board (SimBoard): hears the status, log lines, sleeps, an abort. */
  readonly #listener: BoardListener;
  /** The firmware's `log` and `onStatus` (made once: every boot gets the same). */
  readonly #log: (line: string) => void;
  readonly #onStatus: (status: FirmwareStatus) => void;
  #firmware: Firmware;
  readonly #network: BoardNetwork;
  readonly #abort: BoardAbort;
  readonly #sleep: BoardSleep | undefined;
  /** The firmware's IO: the same object for every boot (boot() gives it a fresh `random`). */
  readonly #io: FirmwareIo;
  /** The board's I²C class (battery mode: WakeI2C, whose connections close with the wake). */
  readonly #I2C: BusI2C;
  /** Battery mode: the I²C connections of this wake (deep sleep resets the board's peripherals). */
  readonly #wakeI2C: { close(): void }[] | undefined;
  /** The firmware's `restart` (made once: every boot gets the same). */
  readonly #restart: () => void;
  #stopped = false;

  constructor(start: BoardStart) {
    this.#module = start.firmware;
    this.#config = start.config;
    this.#seed = start.seed;
    this.#pins = start.hardware.pins;
    this.#wifi = start.hardware.wifi;
    this.#listener = start.listener;
    // (the callbacks below see `this` only, and share one context)
    this.#restart = () => this.restart();
    this.#log = (line) => this.#listener._onLog(line);
    this.#onStatus = (status) => this.#listener._onStatus(status);
    // every callback the board's IO delivers runs through its BoardAbort: an exception that
    // escapes one stops the board as fxAbort would (its sockets cut: no DISCONNECT, the will)
    const abort = this.#abort = new BoardAbort(this, start.activity);
    const network = this.#network = new BoardNetwork({
      ca: start.ca, onFailure: (reason) => this.#listener._onLog("network: " + reason), abort, rtt: start.rtt,
    });
    const wifi = start.hardware.wifi;
    wifi.attach(network);
    this.#io = {
      TCP: network.TCP, resolver: new HostResolver({ abort }), Timer: abort.timer(), TextEncoder, TextDecoder, now,
      ...(start.config.broker.tls === true ? { TLS: network.TLS } : {}),
      WiFi: wifi.interfaceClass((callback, self, property) => this.#abort.run(callback, self, property)),
      address: () => this.#address(),
      // the access point's SSID and password, as a board's mc/config gives them: the firmware rejoins with them
      wifiCredentials: wifi.ssid === SIM_SSID && wifi.password === SIM_PASSWORD ? SIM_CREDENTIALS
        : wifi.password === undefined ? { SSID: wifi.ssid } : { SSID: wifi.ssid, password: wifi.password },
      // the reconnect and rejoin jitter: boot() sets the board's own, reproducible from its seed
      random: Math.random,
    };
    if (start.config.sleep === undefined) {
      this.#I2C = start.hardware.bus.I2C;
      this.#sleep = undefined;
    } else {
      // (locals of this block only: a board in battery mode keeps them, the others do not)
      const BoardI2C = start.hardware.bus.I2C;
      const wakeI2C: { close(): void }[] = this.#wakeI2C = [];
      // (the bus's class is a bound function: no subclass; `new` of a function that returns an object gives that object)
      this.#I2C = function WakeI2C(options: ConstructorParameters<BusI2C>[0]) {
        const connection = new BoardI2C(options);
        wakeI2C.push(connection);
        return connection;
      } as unknown as BusI2C;
      this.#sleep = new BoardSleep({ seed: start.seed, network, onSleep: (cycle) => this.#fellAsleep(cycle), onWake: () => this.#woke() });
    }
    this.#firmware = this.#boot();
  }

  /** AbortListener: an exception escaped a delivered callback; the board's link is cut (no DISCONNECT). */
  onAbort(error: Error): void {
    this.#network?.cut();
    this.#listener._onAbort(error);
  }

  /** The firmware started afresh (at start, a restart, each wake in battery mode) on the board's IO. */
  #boot(): Firmware {
    return startBoard(this.#module, {
      resolved: this.#config,
      // a fresh generator for every boot, as a board's firmware starts afresh; set here rather
      // than by startBoard's `seed`, which makes a copy of io with it that the board would keep
      io: Object.assign(this.#io, { random: mulberry32(this.#seed) }),
      I2C: this.#I2C,
      data: I2C_DATA,
      clock: I2C_CLOCK,
      Digital: this.#abort.digital(this.#pins),
      buffers: CLIENT_BUFFERS,
      log: this.#log,
      onStatus: this.#onStatus,
      sleep: this.#sleep,
      restart: this.#restart,
    });
  }

  /** The board's address while its Wi-Fi is up (the firmware's io.address). */
  #address(): string | undefined {
    const wifi = this.#wifi;
    return wifi.up ? wifi.address : undefined;
  }

  #fellAsleep(cycle: WakeCycle): void {
    for (const connection of (this.#wakeI2C ?? []).splice(0)) connection.close();
    this.#listener._onSleep(cycle);
  }

  #woke(): void {
    this.#listener._onStatus("connecting");
    // the board starts afresh, as after a deep sleep: an exception now is the reboot loop of a bad image
    try {
      this.rewake(this.#boot());
    } catch (error) {
      this.#sleep?.stop();
      this.#listener._onAbort(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Counts and client stats of the wakes before this one (battery mode): a board's figures add up across wakes. */
  #past: { counts: FirmwareCounts; stats: ClientStats } | undefined = undefined;

  /** The firmware of a new wake (battery mode). */
  rewake(firmware: Firmware): void {
    this.#past = { counts: this.counts(), stats: this.stats() };
    this.#firmware = firmware;
  }

  wakes(): readonly WakeCycle[] {
    return this.#sleep?.cycles ?? [];
  }

  asleep(): boolean {
    return this.#sleep?.asleep ?? false;
  }

  get config(): Config {
    return this.#firmware.config;
  }

  readings(): ReadingState[] {
    return this.#firmware.readings();
  }

  actuators(): ActuatorState[] {
    return this.#firmware.actuators();
  }

  pushReadingValues(out: (number | null)[]): number {
    return this.#firmware.pushReadingValues(out);
  }

  pushActuatorStates(out: (number | null)[]): number {
    return this.#firmware.pushActuatorStates(out);
  }

  counts(): FirmwareCounts {
    return this.#past === undefined ? this.#firmware.counts : sum(this.#past.counts, this.#firmware.counts);
  }

  stats(): ClientStats {
    return this.#past === undefined ? this.#firmware.client.stats : sum(this.#past.stats, this.#firmware.client.stats);
  }

  async setActuator(id: string, on: boolean): Promise<boolean> {
    return this.#firmware.setActuator(id, on);
  }

  cutNetwork(): void {
    this.#network.cut();
  }

  restoreNetwork(): void {
    this.#network.restore();
  }

  /** The firmware stopped itself for a restart (Home Assistant's button): it starts anew, unless the board is stopping. */
  restart(): void {
    if (this.#stopped) return;
    this.#firmware = this.#boot();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    // an aborted board runs nothing more: no "offline", no DISCONNECT
    this.#sleep?.stop();
    if (this.#abort.error !== undefined) return this.#network.settled(0);
    this.#firmware.stop();
    await this.#network.settled(CLOSE_TIMEOUT);
  }
}

/** Two sets of counts added up, field by field (a new object). */
function sum<T extends object>(a: T, b: T): T {
  const out = { ...a } as Record<string, number>;
  for (const [key, value] of Object.entries(b)) out[key] = (out[key] ?? 0) + (value as number);
  return out as T;
}
