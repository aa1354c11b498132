/*
 * The built firmware bundle (dist/firmware.js, from build/build.mjs) as the simulator sees
 * it: its exports' types (taken from the device sources, types only: no device code is
 * imported from source here) and loadFirmware(), which imports the built file on Node.
 * Simulated boards run this built JavaScript, never the TypeScript sources. Node side only.
 */

import { access } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ConfigError, resolveConfig } from "../device/app/config.js";
import type { startFirmware } from "../device/app/firmware.js";
import type { commandTopic, stateTopic, statusTopic } from "../device/app/topics.js";
import type { BH1750 } from "../device/drivers/bh1750.js";
import type { SHT3x } from "../device/drivers/sht3x.js";

/** What dist/firmware.js exports. */
export interface FirmwareModule {
  startFirmware: typeof startFirmware;
  resolveConfig: typeof resolveConfig;
  ConfigError: typeof ConfigError;
  statusTopic: typeof statusTopic;
  stateTopic: typeof stateTopic;
  commandTopic: typeof commandTopic;
  SHT3x: typeof SHT3x;
  BH1750: typeof BH1750;
}

/** dist/firmware.js of this checkout (the same path from host-sim/*.ts and from dist/*.mjs). */
export const DEFAULT_FIRMWARE = fileURLToPath(new URL("../dist/firmware.js", import.meta.url));

/** Imports a built firmware bundle; rejects with what to do when it is missing or incomplete. */
export async function loadFirmware(file: string = DEFAULT_FIRMWARE): Promise<FirmwareModule> {
  try {
    await access(file);
  } catch {
    throw new Error(`the firmware bundle ${file} does not exist: build it first (npm run build)`);
  }
  const module = (await import(pathToFileURL(file).href)) as Partial<FirmwareModule>;
  const needed: (keyof FirmwareModule)[] = ["startFirmware", "resolveConfig", "statusTopic", "stateTopic", "commandTopic", "SHT3x", "BH1750"];
  const missing = needed.filter((name) => typeof module[name] !== "function");
  if (missing.length > 0) throw new Error(`${file} is not a firmware bundle: it does not export ${missing.join(", ")}`);
  return module as FirmwareModule;
}
