/*
 * The board's entry in a battery build (manifests/esp32/manifest_sleep.json maps
 * "main-sleep" to dist/board-sleep.js): device/main.ts, handed the board's sleep module
 * (deep sleep and the words RTC memory keeps through it: manifests/esp32/sleep, in the
 * shape of Moddable's nRF52 sleep module, build/devices/nrf52/modules/sleep) and the sleep
 * keys of mc/config: sleep (ms from one wake to the next), sleepAckTimeout (ms),
 * sleepPipeline ("false": wait for the CONNACK). A separate entry, so that a build without
 * battery mode links no sleep module. Nothing runs at module load.
 */

import config from "mc/config";
import Sleep from "sleep";
// the board's own entry, as its manifest maps it ("main": dist/board.js), not a second copy
import { startBoard } from "main";

export default function main(): void {
  startBoard(undefined, { io: Sleep, interval: config.sleep, ackTimeout: config.sleepAckTimeout, pipeline: config.sleepPipeline });
}
