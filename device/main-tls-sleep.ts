/*
 * The board's entry in a TLS battery build (manifests/esp32/manifest_tls_sleep.json maps
 * "main-tls-sleep" to dist/board-tls-sleep.js): device/main.ts, handed both what the TLS
 * entry gives (device/main-tls.ts: Moddable's TLS socket and Resource) and what the battery
 * entry gives (device/main-sleep.ts: the sleep module and the sleep keys), each taken from
 * that entry as its manifest maps it, not a second copy. Nothing runs at module load.
 */

import { startBoard } from "main";
import { boardTls } from "main-tls";
import { boardSleep } from "main-sleep";

export default function main(): void {
  startBoard(boardTls(), boardSleep());
}
