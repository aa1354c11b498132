/*
 * The architecture's rules, as a test: which part of the tree may import which. It reads
 * every import (static `import ... from`, `export ... from`, a dynamic `import("...")` with
 * a literal, and a type's `import("...")`) of every source file under device/, host-sim/,
 * bench/, build/, lua/ and test/ with TypeScript's parser, and fails naming the file and the
 * import that breaks a rule:
 *   - device/ runs on the board: it imports nothing from host-sim/, bench/ or test/, and no
 *     Node built-in (`node:*` or a bare built-in name);
 *   - device/mqtt is the client: it imports nothing from device/app or device/drivers;
 *   - device/drivers talk to chips: they import nothing from device/mqtt;
 *   - test/ is imported by test/ only;
 *   - device/app and host-sim/ use the client through device/mqtt/index.ts only.
 * It also checks that no bundle under dist/ (from `npm run build`) holds test code.
 * Reads files only: it imports none of the code it checks.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = path.join(import.meta.dirname, "..");
const PARTS = ["device", "host-sim", "bench", "build", "lua", "test"];
const SOURCE = /\.(?:ts|mts|cts|js|mjs|cjs)$/;

/**
 * Moddable modules whose names are also Node built-ins. The board entry (device/main.ts)
 * imports them from Moddable's runtime (build/build.mjs leaves them external), so there
 * the name is Moddable's; anywhere else in device/ it would be Node's.
 */
const MODDABLE_NAMED_LIKE_NODE = new Set(["net"]);
const BOARD_ENTRY = "device/main.ts";

/** The client's one entry for device/app and host-sim/. */
const MQTT_ENTRY = new Set(["device/mqtt/index.ts", "device/mqtt/index.js", "device/mqtt/index", "device/mqtt"]);

interface Import {
  /** The importing file, relative to the repository root (`/` separators). */
  file: string;
  /** The module specifier as written. */
  specifier: string;
  /** For a relative specifier, the path it names, relative to the repository root. */
  target?: string;
}

/** Every source file of a part, relative to the repository root; node_modules skipped. */
function sourceFiles(part: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      if (entry.name === "node_modules") continue;
      const relative = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(relative);
      else if (SOURCE.test(entry.name)) files.push(relative);
    }
  };
  walk(part);
  return files.sort();
}

/** The specifiers a source text imports, in order: parsed, so strings and comments that look like imports are not counted. */
function specifiersOf(fileName: string, source: string): string[] {
  const kind = /\.[cm]?js$/.test(fileName) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const parsed = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, kind);
  const specifiers: string[] = [];
  const literal = (node: ts.Node | undefined) => {
    if (node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))) specifiers.push(node.text);
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) literal(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      literal(node.moduleReference.expression);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) literal(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(parsed);
  return specifiers;
}

function importsOf(file: string): Import[] {
  return specifiersOf(file, readFileSync(path.join(root, file), "utf8")).map((specifier) => ({
    file,
    specifier,
    target: specifier.startsWith(".") ? path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)) : undefined,
  }));
}

function within(target: string | undefined, folder: string): boolean {
  return target !== undefined && (target === folder || target.startsWith(folder + "/"));
}

function isNodeBuiltin({ file, specifier }: Import): boolean {
  if (specifier.startsWith("node:")) return true;
  if (file === BOARD_ENTRY && MODDABLE_NAMED_LIKE_NODE.has(specifier)) return false;
  return isBuiltin(specifier);
}

const imports = PARTS.flatMap(sourceFiles).flatMap(importsOf);
const from = (folder: string) => imports.filter(({ file }) => within(file, folder));
const named = ({ file, specifier }: Import) => `${file} imports "${specifier}"`;

describe("the import reader", () => {
  it("sees static imports, re-exports, dynamic imports and type imports, and nothing in strings or comments", () => {
    const source = [
      `import a from "./a.js";`,
      `import type { B } from "./b.js";`,
      `export { c } from "./c.js";`,
      `export * from "./d.js";`,
      `const e = await import("./e.js");`,
      "const f = await import(`./f.js`);",
      `type G = import("./g.js").G;`,
      `const text = 'import h from "./h.js"'; // import i from "./i.js"`,
    ].join("\n");
    const expected = ["./a.js", "./b.js", "./c.js", "./d.js", "./e.js", "./f.js", "./g.js"];
    expect(specifiersOf("sample.ts", source)).toEqual(expected);
    expect(specifiersOf("sample.mjs", source.replace(/^(import type|type G).*$/gm, ""))).toEqual(expected.filter((s) => s !== "./b.js" && s !== "./g.js"));
  });

  it("finds source files and imports in every part", () => {
    for (const part of PARTS) expect(from(part).length, part).toBeGreaterThan(0);
  });
});

describe("import rules", () => {
  it("device/ imports nothing from host-sim/, bench/ or test/, and no Node built-in", () => {
    const broken = from("device").filter(
      (entry) => ["host-sim", "bench", "test"].some((folder) => within(entry.target, folder)) || isNodeBuiltin(entry),
    );
    expect(broken.map(named)).toEqual([]);
  });

  it("device/mqtt imports nothing from device/app or device/drivers", () => {
    const broken = from("device/mqtt").filter(({ target }) => within(target, "device/app") || within(target, "device/drivers"));
    expect(broken.map(named)).toEqual([]);
  });

  it("device/drivers import nothing from device/mqtt", () => {
    const broken = from("device/drivers").filter(({ target }) => within(target, "device/mqtt"));
    expect(broken.map(named)).toEqual([]);
  });

  it("nothing outside test/ imports test/", () => {
    const broken = imports.filter(({ file, target }) => !within(file, "test") && within(target, "test"));
    expect(broken.map(named)).toEqual([]);
  });

  it("device/app and host-sim/ reach device/mqtt through device/mqtt/index.ts only", () => {
    const broken = [...from("device/app"), ...from("host-sim")].filter(
      ({ target }) => within(target, "device/mqtt") && !MQTT_ENTRY.has(target!),
    );
    expect(broken.map(named)).toEqual([]);
  });
});

describe("file size", () => {
  it("no source file in device/ or host-sim/ is over 600 lines: a longer one does more than one job", () => {
    const MAX_LINES = 600;
    const long = [...sourceFiles("device"), ...sourceFiles("host-sim")]
      .map((file) => ({ file, lines: readFileSync(path.join(root, file), "utf8").split("\n").length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });
});

describe("the built bundles in dist/ hold no test code", () => {
  const dist = path.join(root, "dist");
  const bundles = existsSync(dist)
    ? readdirSync(dist).filter((name) => /\.m?js$/.test(name)).map((name) => `dist/${name}`)
    : [];
  const copied = existsSync(path.join(dist, "in-xs")) ? readdirSync(path.join(dist, "in-xs")).map((name) => `dist/in-xs/${name}`) : [];

  // what test code brings into a file: the test runner, its suites and assertions
  const testMarkers: [string, RegExp][] = [
    ["vitest", /\bvitest\b/],
    ['describe("', /\bdescribe\(\s*["'`]/],
    ["expect(", /\bexpect\(/],
  ];

  it("npm run build made them", () => {
    for (const file of ["dist/xs-mqtt.js", "dist/firmware.js", "dist/board.js", "dist/sim.mjs", "dist/simulator.mjs", "dist/node.mjs"]) {
      expect(bundles, file).toContain(file);
    }
    expect(copied).toContain("dist/in-xs/io.js");
  });

  it("every module an esbuild bundle holds comes from device/, host-sim/ or a package", () => {
    // esbuild heads each bundled module with a `// <path>` line, the path relative to the root
    const foreign = bundles.flatMap((file) =>
      [...readFileSync(path.join(root, file), "utf8").matchAll(/^\/\/ (\S+\.(?:[cm]?[jt]s))$/gm)]
        .map((match) => match[1])
        .filter((module) => !/^(?:device|host-sim|node_modules)\//.test(module))
        .map((module) => `${file} holds ${module}`),
    );
    expect(foreign).toEqual([]);
  });

  it("no bundle, and no file copied to dist/in-xs/, holds the test runner, a suite or an assertion", () => {
    const found = [...bundles, ...copied].flatMap((file) => {
      const code = readFileSync(path.join(root, file), "utf8");
      return testMarkers.filter(([, pattern]) => pattern.test(code)).map(([marker]) => `${file} holds ${marker}`);
    });
    expect(found).toEqual([]);
  });

  it("the files copied to dist/in-xs/ import only each other", () => {
    const outside = copied
      .flatMap(importsOf)
      .filter(({ target }) => !within(target, "dist/in-xs"))
      .map(named);
    expect(outside).toEqual([]);
  });
});
