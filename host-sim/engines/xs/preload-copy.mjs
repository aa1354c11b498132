// How harness.mjs loads a bundle as Moddable's preload leaves it: a copy beside the file that
// ends by handing every module-level name to `__xsHarness.preload` (harness-prelude.mjs),
// which freezes what xsl would. Node side only; the caller removes the copy once loaded.

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

let preloadedCopies = 0;

/**
 * A self-contained module (a bundle: no relative imports) as preload would leave it: a copy
 * beside it that ends by handing the value of every module-level const, let, var, class and
 * function to `__xsHarness.preload`, which freezes what xsl would among what they reach
 * (xsl walks every function and instance in the heap, not only exported ones). A module
 * with relative imports is loaded as it is (what its exports reach is frozen by `load`): a
 * copy would be a second instance beside the one its neighbours import.
 * @param {string} file
 * @returns {string} the file to import
 */
export function preloadedCopy(file) {
  const source = readFileSync(file, "utf8");
  if (/(?:\bfrom\s*|\bimport\s*\(?\s*)["']\.{1,2}\//.test(source)) return file;
  const names = [...source.matchAll(/^(?:export\s+)?(?:const|let|var|class|(?:async\s+)?function\*?)\s+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]);
  if (names.length === 0) return file;
  const copy = path.join(path.dirname(file), `.${path.basename(file, ".js")}.${process.pid}.${++preloadedCopies}.preload.js`);
  writeFileSync(copy, `${source}\n__xsHarness.preload([${names.join(", ")}]);\n`);
  return copy;
}
