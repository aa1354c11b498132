/*
 * The codec vectors inside the real XS engine: test/vectors/run-vectors.ts and its vectors
 * are bundled with esbuild into a temporary module that imports the built library
 * dist/xs-mqtt.js (not the TypeScript source) and runs runVectors with XS's own TextEncoder.
 * Never skipped: without xsnap, or with a dist/ bundle older than the codec's source (run
 * `npm run build`), the suite fails and says why.
 */

import { build } from "esbuild";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XsWorker } from "../host-sim/engines/xs/harness.mjs";
import * as lib from "../device/mqtt/index.js";
import { runVectors, type VectorResult } from "./vectors/run-vectors.js";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const bundle = path.join(root, "dist", "xs-mqtt.js");
const sourceDir = path.join(root, "device", "mqtt");

let dir: string;
let worker: XsWorker | undefined;
let result: VectorResult;

/** Fails with what to do when dist/xs-mqtt.js is missing or older than a codec source file. */
function checkBundleIsCurrent(): void {
  let built: number;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    throw new Error(`${bundle} is missing: run \`npm run build\` first (npm test does it)`);
  }
  for (const file of readdirSync(sourceDir)) {
    if (statSync(path.join(sourceDir, file)).mtimeMs > built) {
      throw new Error(`${bundle} is older than device/mqtt/${file}: run \`npm run build\` so that XS runs the current codec`);
    }
  }
}

beforeAll(async () => {
  checkBundleIsCurrent();
  dir = mkdtempSync(path.join(tmpdir(), "xs-mqtt-vectors-"));
  // The entry imports the built library by absolute path: esbuild leaves it external, so XS
  // loads dist/xs-mqtt.js itself; only the runner and the vectors are bundled.
  const entry = [
    `import * as lib from ${JSON.stringify(bundle)};`,
    `import { runVectors } from ${JSON.stringify(path.join(root, "test", "vectors", "run-vectors.ts"))};`,
    "globalThis.vectorResult = runVectors(lib, new TextEncoder());",
  ].join("\n");
  await build({
    stdin: { contents: entry, resolveDir: root, sourcefile: "xs-vectors-entry.js", loader: "js" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: [bundle],
    outfile: path.join(dir, "vectors.js"),
    logLevel: "error",
  });
  worker = await XsWorker.start({ name: "codec-vectors" });
  await worker.importModule(path.join(dir, "vectors.js"));
  result = (await worker.evaluate<VectorResult>("globalThis.vectorResult")).value;
}, 300_000);

afterAll(async () => {
  await worker?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("codec vectors inside real XS (dist/xs-mqtt.js)", () => {
  it("the module ran inside XS, not in Node", async () => {
    // XS has no `process`; the bundle's entry left its result on XS's global object
    const probe = await (worker as XsWorker).evaluate<{ node: boolean; passed: unknown }>(
      "({ node: typeof process !== 'undefined', passed: globalThis.vectorResult.passed })",
    );
    expect(probe.value).toEqual({ node: false, passed: result.passed });
  });

  it("every vector passes under every chunking, with no failure", () => {
    expect(result.failures).toEqual([]);
  });

  it("ran as many checks as on Node (nothing was left out on XS)", () => {
    expect(result.passed).toBe(runVectors(lib, new TextEncoder()).passed);
  });
});
