/*
 * The Moddable manifests (manifests/esp32, manifests/lin) against what they build and what
 * docs/board.md says: each names modules that exist (the built dist/board.js, the desktop
 * stand-ins) and preloads its entry (and the TLS battery build, manifest_tls_sleep.json,
 * merges the TLS and battery manifests and starts an entry that takes from both); each gives every mc/config key that device/main.ts
 * reads, and none that it does not; its "Flash an ESP32" table lists every key,
 * with the esp32 manifest's value as its default; each links this project's setup/network
 * (device/setup-network.ts) in place of the SDK's. No Moddable SDK here: mcconfig itself is
 * not run. Reads files only.
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

interface Manifest {
  include: string[];
  modules: Record<string, string>;
  preload: string[];
  creation: { main: string; stack: number };
  config: Record<string, unknown>;
  platforms: Record<string, { error?: string; config?: Record<string, unknown> }>;
}

function manifest(name: string): Manifest {
  return JSON.parse(readFileSync(join(root, "manifests", name, "manifest.json"), "utf8")) as Manifest;
}

/** The mc/config keys device/main.ts reads (`config.<key>`, not a path like "./app/config.js"). */
function keysRead(): string[] {
  const source = readFileSync(join(root, "device/main.ts"), "utf8");
  return [...new Set([...source.matchAll(/(?<![/.\w])config\.([A-Za-z0-9_]+)\b(?!["'])/g)].map((m) => m[1]))].sort();
}

/** The rows of the "Flash an ESP32" key table in docs/board.md: key -> its default column. */
function boardPageKeys(): Map<string, string> {
  const page = readFileSync(join(root, "docs/board.md"), "utf8");
  const section = page.slice(page.indexOf("## Flash an ESP32"));
  const table = section.slice(section.indexOf("| key | default (`manifests/esp32`) | meaning |"));
  const rows = new Map<string, string>();
  for (const line of table.split("\n").slice(2)) {
    if (!line.startsWith("|")) break;
    const [keys, defaults] = line.split("|").slice(1, 3).map((cell) => cell.trim());
    const names = [...keys.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const values = [...defaults.matchAll(/`([^`]*)`/g)].map((m) => m[1]);
    names.forEach((name, i) => rows.set(name, values[i] ?? values[0] ?? defaults)); // one default may serve a row of keys
  }
  return rows;
}

describe.each(["esp32", "lin"])("manifests/%s/manifest.json", (name) => {
  const manifestJson = manifest(name);
  const dir = join(root, "manifests", name);

  it("names modules that exist, the built board entry first, and preloads them", () => {
    expect(resolve(dir, manifestJson.modules.main)).toBe(join(root, "dist/board"));
    for (const [specifier, path] of Object.entries(manifestJson.modules)) {
      expect(existsSync(resolve(dir, path) + ".js"), `${specifier}: ${path}.js`).toBe(true);
      expect(manifestJson.preload, `${specifier} preloaded`).toContain(specifier);
    }
    expect(manifestJson.creation.main).toBe("main");
    expect(manifestJson.include).toContain("$(MODDABLE)/modules/io/manifest.json");
  });

  it("links this project's setup/network (dist/board-network.js), not the SDK's that keeps main from running until Wi-Fi has an address: its manifest is the first include, and mcconfig keeps the first module of a name", () => {
    const include = resolve(dir, manifestJson.include[0]);
    expect(include).toBe(join(root, "manifests/esp32/network/manifest.json"));
    const network = JSON.parse(readFileSync(include, "utf8")) as Manifest;
    expect(resolve(dirname(include), network.modules["setup/network"])).toBe(join(root, "dist/board-network"));
    expect(existsSync(join(root, "dist/board-network.js"))).toBe(true);
    expect(network.preload).toEqual(["setup/network"]);
    // the SDK's setup/network comes with manifest_net.json, after this one
    expect(manifestJson.include.indexOf("$(MODDABLE)/examples/manifest_net.json")).toBeGreaterThan(0);
  });

  it("gives every mc/config key device/main.ts reads, and no other", () => {
    expect(Object.keys(manifestJson.config).sort()).toEqual(keysRead());
  });

  it("refuses to build for the other platforms, saying which manifest to use", () => {
    expect(manifestJson.platforms["..."].error).toMatch(name === "esp32" ? /manifests\/lin/ : /manifests\/esp32/);
  });
});

describe("the XS stack", () => {
  // xsnap's stack is 4,096 slots, so only npm run test:moddable (the lin build) sees a path
  // that needs more than a board has: the lin build must have the board's stack, no more
  it("the lin build has the ESP32 board's stack, so test:moddable checks the board's budget", () => {
    expect(manifest("lin").creation.stack).toBe(manifest("esp32").creation.stack);
  });
});

/** The GPIOs each ESP32 family has, and those that are inputs only (Espressif's datasheets). */
const FAMILIES = {
  esp32: { pins: range(0, 39).filter((pin) => ![20, 24, 28, 29, 30, 31].includes(pin)), inputOnly: range(34, 39) },
  esp32c3: { pins: range(0, 21), inputOnly: [] as number[] },
  esp32s3: { pins: [...range(0, 21), ...range(26, 48)], inputOnly: [] as number[] },
};

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The pin defaults a platform entry gives (or the top level's), as numbers. */
function pinsOf(config: Record<string, unknown>): { sda: number; scl: number; relay: number; led: number } {
  return { sda: Number(config.sda), scl: Number(config.scl), relay: Number(config.relay), led: Number(config.led) };
}

describe("manifests/esp32: pin defaults that exist on each ESP32 family it builds for", () => {
  const manifestJson = manifest("esp32");
  const platforms = manifestJson.platforms as Record<string, { error?: string; config?: Record<string, unknown> }>;
  const check = (family: keyof typeof FAMILIES, config: Record<string, unknown>) => {
    const pins = pinsOf(config);
    for (const [role, pin] of Object.entries(pins)) expect(FAMILIES[family].pins, `${family} ${role} GPIO ${pin}`).toContain(pin);
    for (const output of [pins.relay, pins.led]) expect(FAMILIES[family].inputOnly, `${family} output on GPIO ${output}`).not.toContain(output);
    expect(new Set(Object.values(pins)).size, `${family}: four different pins`).toBe(4);
  };

  it("a classic ESP32 (esp32, and the boards esp32/* takes) gets the top-level defaults, which exist on it", () => {
    expect(platforms.esp32).toEqual({});
    expect(platforms["esp32/*"]).toEqual({});
    check("esp32", manifestJson.config);
  });

  it("ESP32-C3 and ESP32-S3 boards get defaults of their own, which exist on them", () => {
    const c3 = platforms["esp32/esp32c3"].config!;
    const s3 = platforms["esp32/esp32s3"].config!;
    check("esp32c3", { ...manifestJson.config, ...c3 });
    check("esp32s3", { ...manifestJson.config, ...s3 });
    expect(pinsOf({ ...manifestJson.config, ...c3 }).relay, "the classic relay pin does not exist on a C3").not.toBe(pinsOf(manifestJson.config).relay);
    // every named board of those families gets its family's defaults, nothing else
    for (const [name, entry] of Object.entries(platforms)) {
      if (entry.config === undefined) continue;
      expect([c3, s3], name).toContainEqual(entry.config);
    }
  });

  it("refuses the families it has no defaults for, by name, and every specific board comes before esp32/*", () => {
    for (const name of ["esp32/esp32s2", "esp32/esp32c6", "esp32/esp32h2"].filter((n) => n in platforms)) {
      expect(platforms[name].error, name).toMatch(/ESP32-(S2|C6|H2).*ESP32, ESP32-C3 or ESP32-S3/);
    }
    expect(platforms["esp32/esp32c6"].error).toBeDefined();
    const names = Object.keys(platforms);
    expect(names.indexOf("esp32/*")).toBe(names.length - 2); // Moddable takes the first key that matches
  });
});

describe("docs/board.md, Flash an ESP32", () => {
  it("lists every mc/config key, with the esp32 manifest's value as its default", () => {
    const rows = boardPageKeys();
    const config = manifest("esp32").config;
    for (const key of keysRead()) {
      expect(rows.has(key), `${key} in the table of docs/board.md`).toBe(true);
      const value = config[key];
      expect(rows.get(key), key).toBe(typeof value === "string" && value !== "" ? value : JSON.stringify(value));
    }
  });
});

describe("manifests/esp32/manifest_tls_sleep.json: the TLS battery build", () => {
  const esp32 = join(root, "manifests/esp32");
  const read = (file: string) => JSON.parse(readFileSync(join(esp32, file), "utf8")) as Manifest & { creation: { main: string; stack?: number } };
  const own = read("manifest_tls_sleep.json");

  it("includes the TLS and the battery manifests and starts device/main-tls-sleep.ts, with no config of its own", () => {
    expect(own.include).toEqual(["./manifest_tls.json", "./manifest_sleep.json"]);
    expect(own.modules).toEqual({ "main-tls-sleep": "../../dist/board-tls-sleep" });
    expect(existsSync(join(root, "dist/board-tls-sleep.js"))).toBe(true);
    expect(own.preload).toEqual(["main-tls-sleep"]);
    expect(own.creation).toEqual({ main: "main-tls-sleep" });
    expect(own.config).toBeUndefined();
  });

  it("merged as mcconfig merges them (each include before the manifest that names it, later over earlier): TLS on port 8883 with its certificates and stack, battery mode, no relay and no LED", () => {
    const order = [read("manifest.json"), read("manifest_tls.json"), read("manifest_sleep.json"), own];
    const config = Object.assign({}, ...order.map((m) => m.config ?? {})) as Record<string, unknown>;
    const creation = Object.assign({}, ...order.map((m) => m.creation ?? {})) as { main: string; stack?: number };
    expect([config.tls, config.port, config.tlsCa, config.tlsCert, config.tlsKey]).toEqual([true, 8883, "ca.der", "device.der", "device-key.der"]);
    expect([config.sleep, config.sleepAckTimeout, config.sleepPipeline, config.relay, config.led]).toEqual([300000, 5000, true, "none", "none"]);
    expect([creation.main, creation.stack]).toEqual(["main-tls-sleep", read("manifest_tls.json").creation.stack]);
  });

  it("its entry takes boardTls() from main-tls and boardSleep() from main-sleep, which the included manifests map to entries exporting them", () => {
    const entry = readFileSync(join(root, "dist/board-tls-sleep.js"), "utf8");
    const imports = [...entry.matchAll(/import \{ (\w+) \} from "([\w-]+)"/g)].map((m) => [m[2], m[1]]);
    expect(imports).toEqual([["main", "startBoard"], ["main-tls", "boardTls"], ["main-sleep", "boardSleep"]]);
    const mapped: Record<string, string> = { ...read("manifest.json").modules, ...read("manifest_tls.json").modules, ...read("manifest_sleep.json").modules };
    for (const [specifier, name] of imports) {
      const built = readFileSync(resolve(esp32, mapped[specifier]) + ".js", "utf8");
      expect(built, `${specifier} exports ${name}`).toMatch(new RegExp(`export \\{[^}]*\\b${name}\\b[^}]*\\}`));
    }
  });
});
