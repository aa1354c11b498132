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
import type { ActuatorState, Firmware, FirmwareCounts, ReadingState } from "../../../device/app/firmware.js";
import type { ClientStats } from "../../../device/mqtt/index.js";
import { BoardAbort } from "../../io/abort.js";
import type { BoardEngine, BoardStart } from "../../board.js";
import { CLIENT_BUFFERS, CLOSE_TIMEOUT, I2C_CLOCK, I2C_DATA } from "../../board-config.js";
import { HostResolver } from "../../io/dns.js";
import { now } from "../../io/monotonic.js";
import { BoardNetwork } from "../../io/network.js";
import { TextDecoder, TextEncoder } from "../../io/text.js";
import { BoardSleep } from "../../sleep.js";
import type { WakeCycle } from "../../sleep.js";
import { startBoard } from "../xs/in-xs/board-wiring.js";
import { mulberry32 } from "../xs/in-xs/prng.js";

export async function startNodeBoard(start: BoardStart): Promise<BoardEngine> {
  // every callback the board's IO delivers runs through its BoardAbort: an exception that
  // escapes one stops the board as fxAbort would (its sockets cut: no DISCONNECT, the will)
  let network: BoardNetwork | undefined = undefined;
  const abort = new BoardAbort((error) => {
    network?.cut();
    start.onAbort(error);
  }, start.activity);
  network = new BoardNetwork({ ca: start.ca, onFailure: (reason) => start.onLog("network: " + reason), abort, rtt: start.rtt });
  const resolver = new HostResolver({ abort });
  const Timer = abort.timer();
  const wifi = start.hardware.wifi;
  wifi.attach(network);
  const io = {
    TCP: network.TCP, resolver, Timer, TextEncoder, TextDecoder, now, ...(start.config.broker.tls === true ? { TLS: network.TLS } : {}),
    WiFi: wifi.interfaceClass((callback, self, property) => abort.run(callback, self, property)),
    address: () => (wifi.up ? wifi.address : undefined),
    // the access point's SSID and password, as a board's mc/config gives them: the firmware rejoins with them
    wifiCredentials: wifi.password === undefined ? { SSID: wifi.ssid } : { SSID: wifi.ssid, password: wifi.password },
    // the reconnect and rejoin jitter: boot() sets the board's own, reproducible from its seed
    random: Math.random,
  };
  let engine: NodeEngine | undefined = undefined;
  // deep sleep resets the board's peripherals: the I²C connections of a wake close with it
  const wakeI2C: { close(): void }[] = [];
  const BusI2C = start.hardware.bus.I2C;
  // (the bus's class is a bound function: no subclass; `new` of a function that returns an object gives that object)
  const I2C = start.config.sleep === undefined ? BusI2C : function WakeI2C(options: ConstructorParameters<typeof BusI2C>[0]) {
    const connection = new BusI2C(options);
    wakeI2C.push(connection);
    return connection;
  } as unknown as typeof BusI2C;
  const sleep = start.config.sleep === undefined ? undefined : new BoardSleep({
    seed: start.seed,
    network,
    onSleep: (cycle) => {
      for (const connection of wakeI2C.splice(0)) connection.close();
      start.onSleep(cycle);
    },
    onWake: () => {
      start.onStatus("connecting");
      // the board starts afresh, as after a deep sleep: an exception now is the reboot loop of a bad image
      try {
        engine?.rewake(boot());
      } catch (error) {
        sleep?.stop();
        start.onAbort(error instanceof Error ? error : new Error(String(error)));
      }
    },
  });
  const Digital = abort.digital(start.hardware.pins);
  const boot = (): Firmware => startBoard(start.firmware, {
    resolved: start.config,
    // a fresh generator for every boot, as a board's firmware starts afresh; set here rather
    // than by startBoard's `seed`, which makes a copy of io with it that the board would keep
    io: Object.assign(io, { random: mulberry32(start.seed) }),
    I2C,
    data: I2C_DATA,
    clock: I2C_CLOCK,
    Digital,
    buffers: CLIENT_BUFFERS,
    log: start.onLog,
    onStatus: start.onStatus,
    sleep,
    restart: () => engine?.restart(boot),
  });
  engine = new NodeEngine(boot(), network, abort, sleep);
  return engine;
}

/** A board's engine on Node: the firmware object and the network link (one object, no closures per board). */
class NodeEngine implements BoardEngine {
  #firmware: Firmware;
  readonly #network: BoardNetwork;
  readonly #abort: BoardAbort;
  readonly #sleep: BoardSleep | undefined;
  #stopped = false;

  constructor(firmware: Firmware, network: BoardNetwork, abort: BoardAbort, sleep: BoardSleep | undefined) {
    this.#firmware = firmware;
    this.#network = network;
    this.#abort = abort;
    this.#sleep = sleep;
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
  restart(begin: () => Firmware): void {
    if (this.#stopped) return;
    this.#firmware = begin();
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
