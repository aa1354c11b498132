/*
 * The Moddable manifests (manifests/esp32, manifests/lin) against what they build and what
 * the README says: each names modules that exist (the built dist/board.js, the desktop
 * stand-ins) and preloads its entry; each gives every mc/config key that device/main.ts
 * reads, and none that it does not; the README's "Flash an ESP32" table lists every key,
 * with the esp32 manifest's value as its default. No Moddable SDK here: mcconfig itself is
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
  creation: { main: string };
  config: Record<string, unknown>;
  platforms: Record<string, { error?: string }>;
}

function manifest(name: string): Manifest {
  return JSON.parse(readFileSync(join(root, "manifests", name, "manifest.json"), "utf8")) as Manifest;
}

/** The mc/config keys device/main.ts reads (`config.<key>`, not a path like "./app/config.js"). */
function keysRead(): string[] {
  const source = readFileSync(join(root, "device/main.ts"), "utf8");
  return [...new Set([...source.matchAll(/(?<![/.\w])config\.([A-Za-z0-9_]+)\b(?!["'])/g)].map((m) => m[1]))].sort();
}

/** The rows of the README's "Flash an ESP32" key table: key -> its default column. */
function readmeKeys(): Map<string, string> {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Flash an ESP32"));
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
  const m = manifest(name);
  const dir = join(root, "manifests", name);

  it("names modules that exist, the built board entry first, and preloads them", () => {
    expect(resolve(dir, m.modules.main)).toBe(join(root, "dist/board"));
    for (const [specifier, path] of Object.entries(m.modules)) {
      expect(existsSync(resolve(dir, path) + ".js"), `${specifier}: ${path}.js`).toBe(true);
      expect(m.preload, `${specifier} preloaded`).toContain(specifier);
    }
    expect(m.creation.main).toBe("main");
    expect(m.include).toContain("$(MODDABLE)/modules/io/manifest.json");
  });

  it("gives every mc/config key device/main.ts reads, and no other", () => {
    expect(Object.keys(m.config).sort()).toEqual(keysRead());
  });

  it("refuses to build for the other platforms, saying which manifest to use", () => {
    expect(m.platforms["..."].error).toMatch(name === "esp32" ? /manifests\/lin/ : /manifests\/esp32/);
  });
});

describe("README, Flash an ESP32", () => {
  it("lists every mc/config key, with the esp32 manifest's value as its default", () => {
    const rows = readmeKeys();
    const config = manifest("esp32").config;
    for (const key of keysRead()) {
      expect(rows.has(key), `${key} in the README's table`).toBe(true);
      const value = config[key];
      expect(rows.get(key), key).toBe(typeof value === "string" && value !== "" ? value : JSON.stringify(value));
    }
  });
});
