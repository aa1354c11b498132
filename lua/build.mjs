// Builds the Lua target into dist/lua/ (never committed) with typescript-to-lua: the MQTT
// codec of device/mqtt (encode, decode, topic, utf8 and what they import) through lua/codec.ts,
// the client (client.ts and its modules) through lua/client.ts, and for `npm run test:lua` the vectors with their runner (test/vectors/) and the seeded
// fuzz (test/lua/fuzz.ts), under dist/lua/test/ (not part of the package). Writes only under
// dist/lua/ and a temporary staging folder; device/ stays the one TypeScript source.
// - TSTL has no ES private names (`#field`: "PrivateIdentifier is not supported"): the
//   sources are staged with each `#name` token renamed to `_file_name` (found by TypeScript's
//   own scanner, so strings and comments are left alone), then compiled from the stage.
// - Imports name "./x.js" (ES modules); TSTL resolves "./x": the stage drops the ".js".
// - Lua has no typed arrays: lua/shim/typedarray.lua provides the ones the code uses; it,
//   lua/shim/xsmqtt.lua (what a Lua program requires) and lua/shim/mqttio.lua (the client's
//   IO over LuaSocket) are copied next to the output.
// - The plugin below handles what TSTL refuses (`>>`, Object.freeze) or would translate with
//   another meaning (`>>>`, a number or a string tested for truth).
// - The target is Lua 5.3 (NodeMCU's; TSTL's output for this code is the same for 5.4); the
//   tests run it under Debian's lua5.4.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import ts from "typescript";
import * as tstl from "typescript-to-lua";

const { transformInPrecedingStatementScope } = createRequire(import.meta.url)("typescript-to-lua/dist/transformation/utils/preceding-statements.js");

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
/** Where the Lua target goes unless told otherwise. */
export const LUA_DIST = join(root, "dist", "lua");

/** The folders staged for TSTL (every .ts file in them; the entries pull in what they need). */
const STAGED = ["device/mqtt", "test/vectors", "test/support", "test/lua", "lua"];
/** The entry modules: the codec and the client, and the vector runner and fuzz of test:lua. */
const ENTRIES = ["lua/codec.ts", "lua/client.ts", "test/vectors/run-vectors.ts", "test/lua/fuzz.ts"];
/** Hand-written Lua copied next to the output: the shim, the module Lua programs require, the IO. */
const LUA_FILES = ["typedarray.lua", "xsmqtt.lua", "mqttio.lua"];

/**
 * `source` with every private name `#x` written `_<file>_x` (TSTL cannot express `#x`); the
 * file's name keeps a subclass's private names apart from its base class's.
 */
export function renamePrivateNames(source, file) {
  const prefix = "_" + file.replace(/\.ts$/, "").replace(/[^A-Za-z0-9]/g, "_") + "_";
  const scanner = ts.createScanner(ts.ScriptTarget.ES2022, true, ts.LanguageVariant.Standard, source);
  let out = "";
  let last = 0;
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token !== ts.SyntaxKind.PrivateIdentifier) continue;
    const start = scanner.getTokenStart();
    out += source.slice(last, start) + prefix + scanner.getTokenText().slice(1);
    last = scanner.getTokenEnd();
  }
  return out + source.slice(last);
}

const MASK32 = 0xffffffff;

/** Whether JavaScript would test `node` for truth only (an if, a loop, `?:`, `!`, `&&`/`||` so used). */
function inTruthContext(node) {
  const parent = node.parent;
  if (parent === undefined || ts.isParenthesizedExpression(parent)) return false; // the outer one decides
  if (ts.isIfStatement(parent) || ts.isWhileStatement(parent) || ts.isDoStatement(parent)) return parent.expression === node;
  if (ts.isForStatement(parent)) return parent.condition === node;
  if (ts.isConditionalExpression(parent)) return parent.condition === node;
  if (ts.isPrefixUnaryExpression(parent)) return parent.operator === ts.SyntaxKind.ExclamationToken;
  if (ts.isBinaryExpression(parent) && isLogical(parent)) return truthOf(parent);
  return false;
}

function isEquality(op) {
  return op === ts.SyntaxKind.EqualsEqualsEqualsToken || op === ts.SyntaxKind.ExclamationEqualsEqualsToken ||
    op === ts.SyntaxKind.EqualsEqualsToken || op === ts.SyntaxKind.ExclamationEqualsToken;
}

function isLogical(node) {
  const op = node.operatorToken.kind;
  return op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken;
}

/** Whether a `&&`/`||` is tested for truth only, looking through parentheses. */
function truthOf(node) {
  let outer = node;
  while (outer.parent !== undefined && ts.isParenthesizedExpression(outer.parent)) outer = outer.parent;
  return inTruthContext(outer);
}

/** "number", "string", "mixed" (one of those with other types) or undefined: what Lua would test differently. */
function falsyKind(node, context) {
  const type = context.checker.getTypeAtLocation(node);
  const parts = type.isUnion() ? type.types : [type];
  let number = false;
  let string = false;
  let other = false;
  for (const part of parts) {
    if (part.flags & (ts.TypeFlags.NumberLike | ts.TypeFlags.BigIntLike)) number = true;
    else if (part.flags & ts.TypeFlags.StringLike) string = true;
    else if (part.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return "mixed";
    else other = true;
  }
  if (!number && !string) return undefined;
  if (number && !string && !other) return "number";
  if (string && !number && !other) return "string";
  return "mixed";
}

/**
 * JavaScript's truth of a number or a string in Lua, where only nil and false are false:
 * `x ~= 0`, `x ~= ""`, or, for a union, the shim's `__JS_Truthy(x)`. NaN, false in
 * JavaScript, stays true with `x ~= 0` (the codec tests no NaN).
 */
function truth(node, context, result) {
  const kind = falsyKind(node, context);
  if (kind === "number") return tstl.createBinaryExpression(result, tstl.createNumericLiteral(0), tstl.SyntaxKind.InequalityOperator, node);
  if (kind === "string") return tstl.createBinaryExpression(result, tstl.createStringLiteral(""), tstl.SyntaxKind.InequalityOperator, node);
  if (kind === "mixed") return tstl.createCallExpression(tstl.createIdentifier("__JS_Truthy"), [result], node);
  return result;
}

/** A visitor that also gives JavaScript's truth where the node is tested for it. */
function truthful(transform) {
  return (node, context) => {
    const result = transform(node, context);
    // a `&&`/`||` tested for truth: its operands are, each on its own
    if (inTruthContext(node) && !(ts.isBinaryExpression(node) && isLogical(node))) return truth(node, context, result);
    return result;
  };
}

/**
 * `a || b` or `a && b` whose value is used, `a` a number or a string: `a` itself decides with
 * JavaScript's truth (Lua's `or` would keep a 0 or a ""): `local t = a; if not truth(t) then
 * t = b end` (`if truth(t)` for &&), `b` evaluated only when needed.
 */
function logicalValue(node, context) {
  const temp = context.createTempNameForNode(node.left);
  const left = context.transformExpression(node.left);
  const right = transformInPrecedingStatementScope(context, () => context.transformExpression(node.right));
  let test = truth(node.left, context, tstl.cloneIdentifier(temp));
  if (node.operatorToken.kind === ts.SyntaxKind.BarBarToken) test = tstl.createUnaryExpression(test, tstl.SyntaxKind.NotOperator);
  context.addPrecedingStatements([
    tstl.createVariableDeclarationStatement(temp, left, node),
    tstl.createIfStatement(test, tstl.createBlock([...right.precedingStatements, tstl.createAssignmentStatement(tstl.cloneIdentifier(temp), right.result)])),
  ]);
  return tstl.cloneIdentifier(temp);
}

const superExpression = (node, context) => context.superTransformExpression(node);

/**
 * The TSTL plugin of the Lua target: what TSTL refuses or translates with another meaning.
 * - `a >> b` (TSTL: "Right shift operator is not supported for target Lua 5.3"): Lua 5.3
 *   and 5.4 have only a logical shift, so it becomes `a // (1 << b)`, JavaScript's arithmetic shift
 *   for every 32-bit integer `a` and shift 0 to 31 (the codec shifts bytes and 16-bit ids).
 * - `a >>> b`: TSTL emits Lua's 64-bit `>>`; JavaScript first takes the low 32 bits, so it
 *   becomes `(a & 0xFFFFFFFF) >> b` (the test's xorshift32 then gives the same numbers).
 * - `Object.freeze(x)` (TSTL: "Object.freeze is unsupported"): `x`. The frozen tables of
 *   errors.ts are module-private; nothing writes them.
 * - `typeof x`: the shim's `__JS_TypeOf(x)`, which says "function" for a class (TSTL's
 *   classes are tables, for which its own `typeof` says "object": the client checks that
 *   `io.TCP` is a function).
 * - `new Array(n)` (TSTL: "Constructing new Array with length is not supported"): `{}`, an
 *   empty Lua sequence. Its slots read as undefined, as JavaScript's; but `#` (TSTL's
 *   `length`) ends at the first nil, so the code must not take such an array's length
 *   (subscriptions.ts counts its slots from its typed arrays).
 * - 0 and "" are true in Lua: a number or a string tested for truth (`if (flags & DUP)`)
 *   gets an explicit comparison (see truth()), and `a || b` whose value is used, `a` a number
 *   or a string, is decided by JavaScript's truth of `a` (see logicalValue()).
 */
const plugin = {
  visitors: {
    [ts.SyntaxKind.BinaryExpression]: truthful((node, context) => {
      const op = node.operatorToken.kind;
      if (isLogical(node) && !truthOf(node) && falsyKind(node.left, context) !== undefined) return logicalValue(node, context);
      if (isEquality(op) && (ts.isTypeOfExpression(node.left) || ts.isTypeOfExpression(node.right))) {
        // TSTL would compare Lua's type() itself, past the TypeOfExpression visitor
        const equal = op === ts.SyntaxKind.EqualsEqualsEqualsToken || op === ts.SyntaxKind.EqualsEqualsToken;
        return tstl.createBinaryExpression(context.transformExpression(node.left), context.transformExpression(node.right),
          equal ? tstl.SyntaxKind.EqualityOperator : tstl.SyntaxKind.InequalityOperator, node);
      }
      if (op !== ts.SyntaxKind.GreaterThanGreaterThanToken && op !== ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken) {
        return context.superTransformExpression(node);
      }
      const left = context.transformExpression(node.left);
      const right = context.transformExpression(node.right);
      if (op === ts.SyntaxKind.GreaterThanGreaterThanToken) {
        const divisor = tstl.createBinaryExpression(tstl.createNumericLiteral(1), right, tstl.SyntaxKind.BitwiseLeftShiftOperator);
        return tstl.createBinaryExpression(left, divisor, tstl.SyntaxKind.FloorDivisionOperator, node);
      }
      const low = tstl.createBinaryExpression(left, tstl.createNumericLiteral(MASK32), tstl.SyntaxKind.BitwiseAndOperator);
      return tstl.createBinaryExpression(low, right, tstl.SyntaxKind.BitwiseRightShiftOperator, node);
    }),
    [ts.SyntaxKind.CallExpression]: truthful((node, context) => {
      const callee = node.expression;
      if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === "Object" &&
        callee.name.text === "freeze" && node.arguments.length === 1) {
        return context.transformExpression(node.arguments[0]);
      }
      return context.superTransformExpression(node);
    }),
    [ts.SyntaxKind.TypeOfExpression]: (node, context) =>
      tstl.createCallExpression(tstl.createIdentifier("__JS_TypeOf"), [context.transformExpression(node.expression)], node),
    [ts.SyntaxKind.NewExpression]: (node, context) => {
      if (ts.isIdentifier(node.expression) && node.expression.text === "Array" && node.arguments?.length === 1) {
        context.transformExpression(node.arguments[0]);
        return tstl.createTableExpression([], node);
      }
      return context.superTransformExpression(node);
    },
    [ts.SyntaxKind.Identifier]: truthful(superExpression),
    [ts.SyntaxKind.PropertyAccessExpression]: truthful(superExpression),
    [ts.SyntaxKind.ElementAccessExpression]: truthful(superExpression),
    [ts.SyntaxKind.ParenthesizedExpression]: truthful(superExpression),
    [ts.SyntaxKind.PostfixUnaryExpression]: truthful(superExpression),
    [ts.SyntaxKind.PrefixUnaryExpression]: truthful(superExpression),
    [ts.SyntaxKind.AsExpression]: truthful(superExpression),
    [ts.SyntaxKind.NonNullExpression]: truthful(superExpression),
    [ts.SyntaxKind.ConditionalExpression]: truthful(superExpression),
  },
};

/** "device/mqtt/encode.ts" -> "device.mqtt.encode", as TSTL names modules in require(). */
function moduleOf(file) {
  return file.replace(/\.ts$/, "").split(/[\\/]/).join(".");
}

/** Every module TSTL wrote under dist/lua/ (lualib_bundle aside). */
function listModules(dir, prefix = "") {
  const modules = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) modules.push(...listModules(join(dir, entry.name), prefix + entry.name + "."));
    else if (entry.name.endsWith(".lua") && entry.name !== "lualib_bundle.lua") modules.push(prefix + entry.name.slice(0, -4));
  }
  return modules;
}

/** The modules the entries require at run time, directly or not. */
function requiredModules(outDir) {
  const needed = new Set();
  const visit = (module) => {
    if (needed.has(module)) return;
    needed.add(module);
    const code = readFileSync(join(outDir, module.replaceAll(".", "/") + ".lua"), "utf8");
    for (const match of code.matchAll(/require\("([^"]+)"\)/g)) if (match[1] !== "lualib_bundle") visit(match[1]);
  };
  for (const entry of ENTRIES) visit(moduleOf(entry));
  return needed;
}

function stage(dir) {
  for (const folder of STAGED) {
    mkdirSync(join(dir, folder), { recursive: true });
    for (const name of readdirSync(join(root, folder))) {
      if (!name.endsWith(".ts")) continue;
      const source = renamePrivateNames(readFileSync(join(root, folder, name), "utf8"), name);
      // TSTL looks for a Lua file named like the import: "./x.js" must be "./x"
      writeFileSync(join(dir, folder, name), source.replace(/(from\s+"\.{1,2}\/[^"]*)\.js"/g, '$1"').replace(/(import\("\.{1,2}\/[^"]*)\.js"\)/g, '$1")'));
    }
  }
}

/**
 * Builds into `outDir` (dist/lua/ by default); returns the modules built and, for each
 * module left out, TSTL's errors. Throws when a module the entries need has an error.
 */
export function buildLua({ outDir = LUA_DIST, log = () => {} } = {}) {
  const stageDir = mkdtempSync(join(tmpdir(), "xs-mqtt-lua-"));
  try {
    stage(stageDir);
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    const result = tstl.transpileFiles(ENTRIES.map((entry) => join(stageDir, entry)), {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ["lib.es2024.d.ts"],
      strict: true,
      skipLibCheck: true,
      types: [],
      rootDir: stageDir,
      outDir,
      luaTarget: tstl.LuaTarget.Lua53,
      noImplicitSelf: true,
      luaLibImport: tstl.LuaLibImportKind.Require,
      noHeader: true,
      luaPlugins: [{ plugin }],
    });
    // TSTL translates every module of the program (the vectors' type import names
    // device/mqtt/index.ts, hence the whole client); only the modules the entries require
    // at run time must translate cleanly: the others are left out of dist/lua/
    const needed = requiredModules(outDir);
    const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
    const problems = errors.filter((d) => d.file === undefined || needed.has(moduleOf(relative(stageDir, d.file.fileName))));
    const leftOut = new Map();
    for (const d of errors) {
      if (d.file === undefined) continue;
      const module = moduleOf(relative(stageDir, d.file.fileName));
      if (needed.has(module)) continue;
      if (!leftOut.has(module)) leftOut.set(module, []);
      leftOut.get(module).push(ts.flattenDiagnosticMessageText(d.messageText, " "));
    }
    for (const module of listModules(outDir)) if (!needed.has(module)) rmSync(join(outDir, module.replaceAll(".", "/") + ".lua"));
    if (problems.length > 0) {
      const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => stageDir, getNewLine: () => "\n" };
      throw new Error("typescript-to-lua:\n" + ts.formatDiagnostics(problems, host));
    }
    for (const name of LUA_FILES) copyFileSync(join(root, "lua", "shim", name), join(outDir, name));
    log(relative(root, outDir) + ": " + needed.size + " modules: " + [...needed].sort().join(", "));
    for (const [module, messages] of leftOut) log("  not in the Lua target: " + module + ": " + [...new Set(messages)].join("; "));
    return { modules: [...needed].sort(), leftOut };
  } finally {
    rmSync(stageDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildLua({ log: quiet ? () => {} : console.log });
