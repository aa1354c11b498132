// Builds dist/ with esbuild. Writes only under dist/.
// - Device bundles: ES modules that XS loads as they are (platform "neutral": a Node
//   built-in or a missing global would fail the build, nothing is polyfilled). Prints each
//   one's size, minified and gzipped (a minified build made only for that: not with --quiet).
//     dist/xs-mqtt.js   the MQTT client
//     dist/firmware.js  the sensor-node firmware, its I2C drivers and the board's sensor
//                       wiring (device/board/index.ts): what a simulated board runs, on
//                       Node and inside XS
//     dist/board.js     the ESP32 / Moddable entry (device/main.ts), Moddable's modules left
//                       external: what manifests/*/manifest.json build
//     dist/board-network.js  the board's "setup/network" (device/setup-network.ts): joins
//                       Wi-Fi at start-up, and lets main start when it cannot
//     dist/board-tls.js, dist/board-sleep.js, dist/board-tls-sleep.js  the entries of the TLS,
//                       battery and TLS battery builds (device/main-tls.ts, main-sleep.ts,
//                       main-tls-sleep.ts) over dist/board.js: manifests/*/manifest_*.json
//   esbuild turns every module-level `const` of a bundle into `var`, and Moddable's linker
//   keeps each preloaded `var` as an alias (a RAM copy on write): the device bundles get
//   their `const` back (device code declares nothing else at module level; checked here).
//   They are built with esbuild's minifySyntax: the named constants are folded into the code
//   that reads them; names and line layout stay readable.
// - Simulator bundles for Node (packages stay external: `npm install` provides them):
//     dist/sim.mjs        the simulator CLI (host-sim/cli/cli.ts): `npm start`
//     dist/simulator.mjs  the simulator library (host-sim/simulator.ts): startSimulator()
//     dist/node.mjs       the client's IO on Node (host-sim/node.ts): hostIo() and its classes
//     dist/shard-worker.mjs  a worker process of a simulator with workers (host-sim/shards/)
//     dist/in-xs/*.js     the XS side of the host bridge, copied as it is (XsHost loads it
//                         from next to the bundle)
//     dist/dashboard.mjs  the dashboard's server (host-sim/dashboard/server.ts): startDashboard(),
//                         for scripts (the CLI holds its own copy)
// - The dashboard's page for browsers (host-sim/dashboard/page/): dist/dashboard/index.html
//   as it is, app.js (page.ts with uPlot) and app.css (page.css with uPlot's), minified;
//   no file is fetched from elsewhere at run time
// - Type declarations for the package's exports (tsconfig.types.json: TypeScript's own
//   declaration emit from the sources), under dist/types/ with the source tree's layout:
//   device/mqtt/index.d.ts ("xs-mqtt"), device/board/index.d.ts ("xs-mqtt/firmware"),
//   host-sim/simulator.d.ts ("xs-mqtt/simulator"), host-sim/node.d.ts ("xs-mqtt/node").
//   Emitted again only when a source or a tsconfig is newer than the last emission (it takes
//   seconds; the bundles take a fraction of one). A type error fails the build.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");

/** Each device bundle: its entry under device/ and its file under dist/. */
const bundles = [
  { entry: "device/mqtt/index.ts", out: "dist/xs-mqtt.js" },
  { entry: "device/board/index.ts", out: "dist/firmware.js" },
  {
    // the board: device/main.ts with Moddable's own modules left for mcconfig to link
    entry: "device/main.ts",
    out: "dist/board.js",
    external: ["embedded:*", "timer", "text/encoder", "text/decoder", "mc/config", "net"],
  },
  {
    // the board's Wi-Fi at start-up (manifests/esp32/network/manifest.json): Moddable's setup/network, ours
    entry: "device/setup-network.ts",
    out: "dist/board-network.js",
    external: ["embedded:*", "mc/config", "sntp", "time", "timer"],
  },
  {
    // the board's TLS entry (manifest_tls.json): device/main-tls.ts over the board's "main"
    entry: "device/main-tls.ts",
    out: "dist/board-tls.js",
    external: ["embedded:*", "Resource", "main"],
  },
  {
    // the board's battery entry (manifest_sleep.json): device/main-sleep.ts over the board's "main"
    entry: "device/main-sleep.ts",
    out: "dist/board-sleep.js",
    external: ["mc/config", "sleep", "main"],
  },
  {
    // the board's TLS battery entry (manifest_tls_sleep.json): device/main-tls-sleep.ts over the other three entries
    entry: "device/main-tls-sleep.ts",
    out: "dist/board-tls-sleep.js",
    external: ["main", "main-tls", "main-sleep"],
  },
];

/** The Node bundles of the simulator. */
const nodeBundles = [
  { entry: "host-sim/cli/cli.ts", out: "dist/sim.mjs" },
  { entry: "host-sim/simulator.ts", out: "dist/simulator.mjs" },
  { entry: "host-sim/node.ts", out: "dist/node.mjs" },
  { entry: "host-sim/dashboard/server.ts", out: "dist/dashboard.mjs" },
  { entry: "host-sim/shards/shard-worker.ts", out: "dist/shard-worker.mjs" },
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

function entryOptions({ entry, external = [] }) {
  return { entryPoints: [join(root, entry)], external };
}

mkdirSync(join(root, "dist"), { recursive: true });
checkModuleLevelDeclarations();
for (const bundle of bundles) {
  const outfile = join(root, bundle.out);
  // minifySyntax folds the named wire constants (TYPE_SHIFT, DUP, PUBLISH, ...) into the code
  // that uses them: a module-level const read on every packet costs a variable lookup, on
  // XS and on Node (about 8% of the decoder's time); names stay as written
  await build({ ...common, ...entryOptions(bundle), outfile, minifySyntax: true });
  writeFileSync(outfile, restoreConst(readFileSync(outfile, "utf8"), bundle.out));
  if (!quiet) {
    // a minified build only for the size printout (dist/ keeps the readable one)
    const minified = await build({ ...common, ...entryOptions(bundle), write: false, minify: true });
    const code = minified.outputFiles[0].contents;
    const plain = readFileSync(outfile).length;
    console.log(
      `${relative(root, outfile)}: ${kb(plain)} KB, minified ${kb(code.length)} KB, gzipped ${kb(gzipSync(code).length)} KB`,
    );
  }
}

for (const { entry, out } of nodeBundles) {
  await build({
    entryPoints: [join(root, entry)],
    outfile: join(root, out),
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "error",
    legalComments: "none",
  });
  if (!quiet) console.log(`${out}: ${kb(readFileSync(join(root, out)).length)} KB (Node)`);
}

const inXs = join(root, "host-sim/engines/xs/in-xs");
mkdirSync(join(root, "dist/in-xs"), { recursive: true });
for (const file of readdirSync(inXs).filter((name) => name.endsWith(".js"))) {
  copyFileSync(join(inXs, file), join(root, "dist/in-xs", file));
}

const page = join(root, "host-sim/dashboard/page");
mkdirSync(join(root, "dist/dashboard"), { recursive: true });
await build({
  entryPoints: { app: join(page, "page.ts") },
  outdir: join(root, "dist/dashboard"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  logLevel: "error",
  legalComments: "none",
});
copyFileSync(join(page, "index.html"), join(root, "dist/dashboard/index.html"));
if (!quiet) {
  const size = ["app.js", "app.css", "index.html"].reduce((sum, file) => sum + readFileSync(join(root, "dist/dashboard", file)).length, 0);
  console.log(`dist/dashboard/: ${kb(size)} KB (the page, uPlot included)`);
}

await emitTypes();

/**
 * dist/types/: the declarations tsconfig.types.json emits, all of them anew (a removed
 * source leaves no stale file), with the hand-written declaration files of this repository
 * that they import (e.g. host-sim/engines/xs/harness.d.mts) copied beside them; then a stamp,
 * dist/.types-emitted, whose time the next build compares with the sources'. Throws, listing
 * TypeScript's diagnostics, on any error.
 */
async function emitTypes() {
  const config = join(root, "tsconfig.types.json");
  const out = join(root, "dist/types");
  const stamp = join(root, "dist/.types-emitted");
  const inputs = [config, join(root, "tsconfig.json"), ...filesUnder("device"), ...filesUnder("host-sim")];
  if (existsSync(stamp) && inputs.every((file) => statSync(file).mtimeMs <= statSync(stamp).mtimeMs)) return;
  const { default: ts } = await import("typescript");
  const read = ts.getParsedCommandLineOfConfigFile(config, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: fail });
  if (read === undefined) throw new Error("tsconfig.types.json could not be read");
  rmSync(stamp, { force: true });
  rmSync(out, { recursive: true, force: true });
  // a source saved while this runs must count as newer than the stamp
  const started = new Date();
  const program = ts.createProgram({ rootNames: read.fileNames, options: read.options });
  const emitted = program.emit();
  const diagnostics = [...read.errors, ...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  if (diagnostics.length > 0 || emitted.emitSkipped) fail(...diagnostics);
  for (const { fileName, isDeclarationFile } of program.getSourceFiles()) {
    const path = relative(root, fileName);
    if (!isDeclarationFile || path.startsWith("..") || path.split(/[\\/]/).includes("node_modules")) continue;
    mkdirSync(dirname(join(out, path)), { recursive: true });
    copyFileSync(fileName, join(out, path));
  }
  writeFileSync(stamp, "");
  utimesSync(stamp, started, started);
  if (!quiet) console.log(`dist/types/: ${filesUnder("dist/types").length} declaration files`);

  function fail(...found) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };
    throw new Error("type declarations (tsconfig.types.json):\n" + ts.formatDiagnostics(found, host));
  }
}

/** The files under a folder of the root, as paths. */
function filesUnder(folder) {
  return readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

/** Device code declares only `const` at module level (preload freezes the rest anyway). */
function checkModuleLevelDeclarations() {
  for (const file of readdirSync(join(root, "device"), { recursive: true })) {
    if (!file.endsWith(".ts")) continue;
    const source = readFileSync(join(root, "device", file), "utf8");
    const found = /^(?:export )?(let|var) /m.exec(source);
    if (found) throw new Error(`device/${file}: a module-level \`${found[1]}\`: device code keeps run-time state in instances`);
  }
}

/** A bundle's module-level `var`s were `const`s in device/ (checked above): declare them so again. */
function restoreConst(code, name) {
  const restored = code.replace(/^var /gm, "const ");
  const bare = /^const [\w$]+;/m.exec(restored);
  if (bare) throw new Error(`${name}: a module-level declaration without a value: ${bare[0]}`);
  return restored;
}

function kb(bytes) {
  return (bytes / 1024).toFixed(1);
}
