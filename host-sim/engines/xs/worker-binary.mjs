// Where the xsnap worker binary of @agoric/xsnap is (its install step compiles it), and, when
// it cannot be found or run, a reason that says how to fix that. Reads the file system only;
// starts nothing.

import { accessSync, constants as fsConstants } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const PACKAGE = "@agoric/xsnap";

/**
 * The worker binary's path, or what is missing and how to fix it.
 * @returns {{ ok: true, bin: string } | { ok: false, reason: string }}
 */
export function locateWorkerBinary() {
  const platform = { linux: "lin", darwin: "mac" }[/** @type {string} */ (process.platform)];
  if (platform === undefined) {
    return { ok: false, reason: `${PACKAGE} runs only on Linux and macOS, not on ${process.platform}.` };
  }
  const require = createRequire(import.meta.url);
  /** @type {string} */
  let packageJson;
  try {
    packageJson = require.resolve(`${PACKAGE}/package.json`);
  } catch {
    return {
      ok: false,
      reason:
        `${PACKAGE} is not installed (it is an optional dependency of xs-mqtt). Run ` +
        "`npm install` in the project root on a machine with make and a C compiler (cc): " +
        "its install step compiles the XS engine.",
    };
  }
  const bin = path.join(path.dirname(packageJson), "xsnap-native", "xsnap", "build", "bin", platform, "release", "xsnap-worker");
  try {
    accessSync(bin, fsConstants.X_OK);
  } catch {
    return {
      ok: false,
      reason:
        `${PACKAGE} is installed at ${path.dirname(packageJson)} but its worker binary ${bin} ` +
        "is missing: its build step did not run or failed (no make or C compiler, or " +
        "install scripts disabled). Install make and a C compiler, then run " +
        `\`npm rebuild ${PACKAGE}\` in the project root.`,
    };
  }
  return { ok: true, bin };
}
