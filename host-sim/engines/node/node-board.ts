/*
 * The Node engine of a simulated board: the built firmware (dist/firmware.js, loaded once
 * by the simulator) runs in this Node process with the board's own IO: TCP/TLS from its
 * BoardNetwork (the device's send window; cut and restore), DNS, Timer and its clock, its
 * VirtualPins' Digital class and its I2CBus's I2C class, the Wi-Fi interface of its radio
 * (io/wifi.ts, which governs the network link) and its address. Home Assistant's restart
 * button starts the firmware anew on the same IO. Every callback that IO delivers
 * runs through the board's BoardAbort (host-sim/io/abort.ts): an exception escaping one
 * aborts the board, as fxAbort resets a real one. Many boards share one process (a fleet of
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
import { startBoard } from "../xs/in-xs/board-wiring.js";

export async function startNodeBoard(start: BoardStart): Promise<BoardEngine> {
  // every callback the board's IO delivers runs through its BoardAbort: an exception that
  // escapes one stops the board as fxAbort would (its sockets cut: no DISCONNECT, the will)
  let network: BoardNetwork | undefined = undefined;
  const abort = new BoardAbort((error) => {
    network?.cut();
    start.onAbort(error);
  });
  network = new BoardNetwork({ ca: start.ca, onFailure: (reason) => start.onLog("network: " + reason), abort });
  const resolver = new HostResolver({ abort });
  const Timer = abort.timer();
  const wifi = start.hardware.wifi;
  wifi.attach(network);
  const io = {
    TCP: network.TCP, resolver, Timer, TextEncoder, TextDecoder, now, ...(start.config.broker.tls === true ? { TLS: network.TLS } : {}),
    WiFi: wifi.interfaceClass((callback, self, property) => abort.run(callback, self, property)),
    address: () => (wifi.up ? wifi.address : undefined),
  };
  const Digital = abort.digital(start.hardware.pins);
  let engine: NodeEngine | undefined = undefined;
  const begin = (): Firmware => startBoard(start.firmware, {
    resolved: start.config,
    io,
    I2C: start.hardware.bus.I2C,
    data: I2C_DATA,
    clock: I2C_CLOCK,
    Digital,
    seed: start.seed,
    buffers: CLIENT_BUFFERS,
    log: start.onLog,
    onStatus: start.onStatus,
    restart: () => engine?.restart(begin),
  });
  engine = new NodeEngine(begin(), network, abort);
  return engine;
}

/** A board's engine on Node: the firmware object and the network link (one object, no closures per board). */
class NodeEngine implements BoardEngine {
  #firmware: Firmware;
  readonly #network: BoardNetwork;
  readonly #abort: BoardAbort;
  #stopped = false;

  constructor(firmware: Firmware, network: BoardNetwork, abort: BoardAbort) {
    this.#firmware = firmware;
    this.#network = network;
    this.#abort = abort;
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
    return this.#firmware.counts;
  }

  stats(): ClientStats {
    return this.#firmware.client.stats;
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
    if (this.#abort.error !== undefined) return this.#network.settled(0);
    this.#firmware.stop();
    await this.#network.settled(CLOSE_TIMEOUT);
  }
}
