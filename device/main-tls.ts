/*
 * The board's entry in a TLS build (manifests/<platform>/manifest_tls.json maps "main-tls" to
 * dist/board-tls.js): device/main.ts, handed Moddable's TLS socket for ECMA-419
 * (examples/io/tcp/tlssocket) and its Resource class; the manifest makes it the module
 * Moddable starts (creation.main "main-tls"). A separate entry, so that a build without
 * TLS links no TLS module; boardTls() is what a TLS battery build (device/main-tls-sleep.ts)
 * takes from it. Nothing runs at module load.
 */

import TLS from "embedded:io/socket/tcp/tls";
import Resource from "Resource";
// the board's own entry, as its manifest maps it ("main": dist/board.js), not a second copy
import { startBoard } from "main";
import type { BoardTls } from "main";

export default function main(): void {
  startBoard(boardTls());
}

/** What startBoard() takes for TLS: Moddable's TLS socket and Resource class. */
export function boardTls(): BoardTls {
  return { TLS, Resource: Resource as unknown as new (name: string) => ArrayBuffer };
}
