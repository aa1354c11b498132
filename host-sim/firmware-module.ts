/*
 * The built firmware bundle (dist/firmware.js, from build/build.mjs) as the simulator sees
 * it: its exports' types (those of its entry, device/board/index.ts, types only: no device
 * code is imported from source here) and loadFirmware(), which imports a built bundle on
 * Node. Simulated boards run this built JavaScript, never the TypeScript sources. Node
 * side only.
 */

import { access } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";

/** What dist/firmware.js exports: the exports of its entry. */
export type FirmwareModule = typeof import("../device/board/index.js");

/** dist/firmware.js of this checkout (the same path from host-sim/*.ts and from dist/*.mjs). */
export const DEFAULT_FIRMWARE = fileURLToPath(new URL("../dist/firmware.js", import.meta.url));

/**
 * Imports a built firmware bundle; rejects with what to do when it is missing, or when it
 * lacks an export of this checkout's own bundle (DEFAULT_FIRMWARE), which it is checked
 * against.
 */
export async function loadFirmware(file: string = DEFAULT_FIRMWARE): Promise<FirmwareModule> {
  const module = await importBundle(file);
  const reference = file === DEFAULT_FIRMWARE ? module : await importBundle(DEFAULT_FIRMWARE);
  const missing = Object.keys(reference).filter((name) => typeof module[name] !== typeof reference[name]);
  if (missing.length > 0) throw new Error(`${file} is not a firmware bundle: it does not export ${missing.join(", ")}`);
  return module as FirmwareModule;
}

async function importBundle(file: string): Promise<Record<string, unknown>> {
  try {
    await access(file);
  } catch {
    throw new Error(`the firmware bundle ${file} does not exist: build it first (npm run build)`);
  }
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}
