// Builds the device bundles into dist/ with esbuild: ES modules that XS loads as they are
// (platform "neutral": a Node built-in or a missing global would fail the build, nothing is
// polyfilled). Prints each bundle's size, minified and gzipped. Writes only under dist/.
import { build } from "esbuild";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");

/** Each bundle: its entry under device/ and its file under dist/. */
export const bundles = [
  { entry: "device/mqtt/index.ts", out: "dist/xs-mqtt.js" },
];

const common = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  mainFields: ["module", "main"],
  logLevel: "error",
  legalComments: "none",
};

mkdirSync(join(root, "dist"), { recursive: true });
for (const { entry, out } of bundles) {
  const outfile = join(root, out);
  await build({ ...common, entryPoints: [join(root, entry)], outfile });
  const minified = await build({ ...common, entryPoints: [join(root, entry)], write: false, minify: true });
  const code = minified.outputFiles[0].contents;
  if (!quiet) {
    const plain = readFileSync(outfile).length;
    console.log(
      `${relative(root, outfile)}: ${kb(plain)} KB, minified ${kb(code.length)} KB, gzipped ${kb(gzipSync(code).length)} KB`,
    );
  }
}

function kb(bytes) {
  return (bytes / 1024).toFixed(1);
}
