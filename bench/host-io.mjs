// Helper for the broker benchmarks (not a benchmark itself): the host simulator's IO
// (host-sim/io/io.ts, TypeScript) bundled with esbuild for Node into a .mjs file in a temp
// directory the caller owns (and removes), then imported. Opens nothing by itself.
//
//   const { hostIo, TCP } = await loadHostIo(dir);

import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function loadHostIo(dir) {
  const outfile = join(dir, "host-io.mjs");
  await build({
    entryPoints: [join(root, "host-sim/io/io.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile,
    logLevel: "error",
  });
  return import(pathToFileURL(outfile).href);
}
