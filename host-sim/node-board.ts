/*
 * The Node engine of a simulated board: the built firmware (dist/firmware.js, loaded once
 * by the simulator) runs in this Node process with the board's own IO: TCP/TLS from its
 * BoardNetwork (the device's send window; cut and restore), DNS, Timer, its VirtualPins'
 * Digital class and its I2CBus's I2C class. Many boards share one process (a fleet of
 * thousands), so a board holds only what it needs. Node side only.
 */

import type { Firmware } from "../device/app/firmware.js";
import type { BoardEngine, BoardStart } from "./board.js";
import { I2C_CLOCK, I2C_DATA } from "./board-config.js";
import { HostResolver } from "./dns.js";
import { BoardNetwork } from "./network.js";
import { Timer } from "./timer.js";
import { startBoard } from "./xs/in-xs/board-wiring.js";

/** How long stop() waits for the connection to close after the firmware's DISCONNECT, ms. */
const CLOSE_TIMEOUT = 2_000;

const resolver = new HostResolver();

export async function startNodeBoard(start: BoardStart): Promise<BoardEngine> {
  const network = new BoardNetwork({ ca: start.ca });
  const io = { TCP: network.TCP, resolver, Timer, TextEncoder, TextDecoder, ...(start.config.broker.tls === true ? { TLS: network.TLS } : {}) };
  const firmware: Firmware = startBoard(start.firmware, {
    config: start.config,
    io,
    I2C: start.hardware.bus.I2C,
    data: I2C_DATA,
    clock: I2C_CLOCK,
    Digital: start.hardware.pins.Digital,
    seed: start.seed,
    log: start.onLog,
    onStatus: start.onStatus,
  });
  return {
    config: firmware.config,
    readings: () => firmware.readings(),
    actuators: () => firmware.actuators(),
    counts: () => firmware.counts,
    stats: () => firmware.client.stats,
    async setActuator(id, on) {
      return firmware.setActuator(id, on);
    },
    cutNetwork() {
      network.cut();
    },
    restoreNetwork() {
      network.restore();
    },
    async stop() {
      firmware.stop();
      await network.settled(CLOSE_TIMEOUT);
    },
  };
}
