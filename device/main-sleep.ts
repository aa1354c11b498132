/*
 * The board's entry in a battery build (manifests/esp32/manifest_sleep.json maps
 * "main-sleep" to dist/board-sleep.js): device/main.ts, handed the board's sleep module
 * (deep sleep and the words RTC memory keeps through it: manifests/esp32/sleep, in the
 * shape of Moddable's nRF52 sleep module, build/devices/nrf52/modules/sleep) and the sleep
 * keys of mc/config: sleep (ms from one wake to the next), sleepAckTimeout (ms),
 * sleepPipeline ("false": wait for the CONNACK). A separate entry, so that a build without
 * battery mode links no sleep module; boardSleep() is what a TLS battery build
 * (device/main-tls-sleep.ts) takes from it. Nothing runs at module load.
 */

import config from "mc/config";
import Sleep from "sleep";
// the board's own entry, as its manifest maps it ("main": dist/board.js), not a second copy
import { startBoard } from "main";
import type { BoardSleep } from "main";

export default function main(): void {
  startBoard(undefined, boardSleep());
}

/** What startBoard() takes for battery mode: the sleep module and the sleep keys of mc/config. */
export function boardSleep(): BoardSleep {
  return { io: Sleep, interval: config.sleep, ackTimeout: config.sleepAckTimeout, pipeline: config.sleepPipeline };
}
