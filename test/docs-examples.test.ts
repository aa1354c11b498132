/*
 * The examples of README.md and every docs/*.md page, run, and their relative links
 * followed. Each fenced block is found (indented ones in lists too) and checked as the line
 * before it says, else by its language (docs/testing.md, "The examples in the docs run"):
 *   <!-- not run: reason -->             not run; the reason must be given
 *   <!-- run by test/x.test.ts -->        the block must be a part of that test file
 *   <!-- file: name -->                   a json firmware configuration, also written as `name`
 *   <!-- discovery config: topic -->      json a simulated node (a board's timing) must publish there
 *   <!-- refused config -->               json resolveConfig() refuses
 *   <!-- output of the block above -->   what the block above prints (a module) or is refused with
 *   js/mjs/ts                             run by Node as a module (TypeScript stripped by esbuild)
 *   sh                                    each command run by bash (`npm start --` = dist/sim.mjs)
 *   json                                  a firmware configuration resolveConfig() accepts
 * Any other block without such a line fails. Blocks run against one private mosquitto on
 * 127.0.0.1 (`1883` in a block is its plain port, `8883` its TLS port, `ca.pem` its CA)
 * in a temporary folder per page, where `xs-mqtt` resolves to this checkout's built
 * package. Every process runs in a group of its own with a time limit and is killed with
 * its group; the broker and the folders are removed in afterAll. Reads dist/, built by
 * `npm test`'s pretest.
 */

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { transform } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boardConfig, boardSensors } from "../host-sim/board-config.js";
import { loadFirmware } from "../host-sim/firmware-module.js";
import { startSimulator } from "../host-sim/simulator.js";
import { makeCa, makeServerCert, tlsListenerConfig } from "./brokers/certs.js";
import { freePort } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";

const root = path.join(import.meta.dirname, "..");
const modules = realpathSync(path.join(root, "node_modules"));
/** Time limits: a module example, one shell command. */
const JS_LIMIT = 20_000;
const SH_LIMIT = 30_000;

/** README.md, then the pages of docs/ in name order: a page added there is covered at once. */
const PAGES = ["README.md", ...readdirSync(path.join(root, "docs")).filter((name) => name.endsWith(".md")).sort().map((name) => `docs/${name}`)];

type Directive =
  | { kind: "not run"; value: string }
  | { kind: "run by"; value: string }
  | { kind: "file"; value: string }
  | { kind: "discovery config"; value: string }
  | { kind: "refused config"; value: string }
  | { kind: "output of the block above"; value: string };

interface Block {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  /** The content, its fence's indentation removed, ending in a newline. */
  text: string;
  directive: Directive | undefined;
  /** The line before the fence, when it is an HTML comment that is not a directive. */
  strayComment: string | undefined;
}

const DIRECTIVE = /^<!--\s*(not run|run by|file|discovery config|refused config|output of the block above)\s*:?\s*(.*?)\s*-->$/;

/** Every fenced block of a page, with the directive on the line before it. */
function blocksOf(page: string, source: string): Block[] {
  const lines = source.split("\n");
  const blocks: Block[] = [];
  for (let at = 0; at < lines.length; at++) {
    const open = /^( *)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[at]);
    if (open === null) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let end = at + 1;
    for (; end < lines.length; end++) {
      const trimmed = lines[end].trim();
      if (trimmed.startsWith(fence[0].repeat(fence.length)) && trimmed.replace(/[`~]/g, "") === "") break;
      body.push(lines[end].startsWith(indent) ? lines[end].slice(indent.length) : lines[end].trimStart());
    }
    const before = at > 0 ? lines[at - 1].trim() : "";
    const match = DIRECTIVE.exec(before);
    blocks.push({
      page,
      line: at + 1,
      lang: lang.toLowerCase(),
      text: body.join("\n") + "\n",
      directive: match === null ? undefined : { kind: match[1] as Directive["kind"], value: match[2] },
      strayComment: match === null && before.startsWith("<!--") ? before : undefined,
    });
    at = end;
  }
  return blocks;
}

const read = (file: string): string => readFileSync(path.join(root, file), "utf8");
const ALL = PAGES.flatMap((page) => blocksOf(page, read(page)));

/** The block's expected output: the next block of its page, when that one says it is. */
function outputOf(block: Block): string | undefined {
  const next = ALL[ALL.indexOf(block) + 1];
  return next?.page === block.page && next.directive?.kind === "output of the block above" ? next.text : undefined;
}

// ---- the broker, the folders, the processes

let broker: Mosquitto;
let tlsPort = 0;
let caPem = "";
const cleanups: (() => void)[] = [];
const children = new Set<ChildProcess>();
const folders = new Map<string, string>();

beforeAll(async () => {
  expect(existsSync(path.join(root, "dist/sim.mjs")), "dist/ is built (npm run build)").toBe(true);
  const certs = mkdtempSync(path.join(tmpdir(), "xs-mqtt-docs-certs-"));
  cleanups.push(() => rmSync(certs, { recursive: true, force: true }));
  const ca = await makeCa(certs, "docs-ca");
  const server = await makeServerCert(certs, ca, "docs-broker");
  caPem = ca.pem;
  tlsPort = await freePort();
  broker = await Mosquitto.start({ config: tlsListenerConfig(tlsPort, ca, server) });
});

afterAll(async () => {
  for (const child of children) killGroup(child);
  await stopAllMosquittos();
  for (const cleanup of cleanups) cleanup();
});

/** The page's folder: ca.pem, its `file:` blocks, node_modules/xs-mqtt linked to this checkout. */
function folderOf(page: string): string {
  let dir = folders.get(page);
  if (dir !== undefined) return dir;
  dir = mkdtempSync(path.join(tmpdir(), "xs-mqtt-docs-"));
  const made = dir;
  cleanups.push(() => rmSync(made, { recursive: true, force: true }));
  folders.set(page, dir);
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(root, path.join(dir, "node_modules", "xs-mqtt"), "dir");
  writeFileSync(path.join(dir, "ca.pem"), caPem);
  for (const block of ALL) {
    if (block.page === page && block.directive?.kind === "file") writeFileSync(path.join(dir, block.directive.value), block.text);
  }
  return dir;
}

/** Links every package a module imports (other than Node's and xs-mqtt) from this checkout's node_modules. */
function linkImports(dir: string, code: string): void {
  for (const match of code.matchAll(/(?:from|import)\s*\(?\s*["']([^"'./][^"']*)["']/g)) {
    const specifier = match[1];
    if (isBuiltin(specifier)) continue;
    const name = specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
    const link = path.join(dir, "node_modules", name);
    if (name === "xs-mqtt" || existsSync(link)) continue;
    expect(existsSync(path.join(modules, name)), `package ${name} is installed`).toBe(true);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(path.join(modules, name), link, "dir");
  }
}

/** The block with the private broker's ports in place of the usual ones. */
function withPorts(text: string): string {
  return text.replace(/\b1883\b/g, String(broker.port)).replace(/\b8883\b/g, String(tlsPort));
}

function killGroup(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

interface Run {
  code: number | null;
  stdout: string;
  /** stdout and stderr as they came. */
  output: string;
}

/** Runs a command in a process group of its own, killed with its group after `limit` ms. */
function run(command: string, args: string[], cwd: string, limit: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" } });
    children.add(child);
    let output = "";
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed after ${limit} ms]`;
      killGroup(child);
    }, limit);
    child.on("close", (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, output });
    });
  });
}

// ---- the checks, one per kind

async function runModule(block: Block): Promise<void> {
  const dir = folderOf(block.page);
  let code = withPorts(block.text);
  if (block.lang === "ts" || block.lang === "typescript") code = (await transform(code, { loader: "ts", format: "esm" })).code;
  linkImports(dir, code);
  const file = path.join(dir, `example-${block.line}.mjs`);
  writeFileSync(file, code);
  const result = await run(process.execPath, [file], dir, JS_LIMIT);
  expect(result.code, `node ${path.basename(file)}:\n${result.output}\nmosquitto: ${broker.log}`).toBe(0);
  const expected = outputOf(block);
  if (expected !== undefined) expect(result.stdout, "what it prints: the block after it").toBe(expected);
}

async function runShell(block: Block): Promise<void> {
  const dir = folderOf(block.page);
  const commands = withPorts(block.text).replace(/\\\n/g, " ").split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
  expect(commands.length, "a shell block with a command").toBeGreaterThan(0);
  for (const command of commands) {
    const line = command.replace(/^npm start --(?=\s|$)/, `"${process.execPath}" "${path.join(root, "dist/sim.mjs")}"`);
    const result = await run("bash", ["-c", line], dir, SH_LIMIT);
    expect(result.code, `${command}\n${result.output}`).toBe(0);
  }
}

async function checkConfig(block: Block): Promise<void> {
  const overrides: unknown = JSON.parse(block.text);
  expect(typeof overrides === "object" && overrides !== null && !Array.isArray(overrides), "a JSON object").toBe(true);
  const firmware = await loadFirmware();
  const address = { host: "127.0.0.1", port: broker.port, tls: false };
  // as the simulator's --config: merged over board 1's own configuration, then resolved (throws a ConfigError naming each mistake)
  const config = boardConfig(1, address, boardSensors(firmware), overrides as Parameters<typeof boardConfig>[3]);
  if (block.directive?.kind !== "refused config") {
    expect(() => firmware.resolveConfig(config)).not.toThrow();
    return;
  }
  let refusal: unknown;
  try {
    firmware.resolveConfig(config);
  } catch (error) {
    refusal = error;
  }
  expect(refusal, "resolveConfig() refuses it").toBeInstanceOf(firmware.ConfigError);
  const expected = outputOf(block);
  if (expected !== undefined) expect((refusal as Error).message, "the refusal: the block after it").toBe(expected.trimEnd());
}

function checkOutputBlock(block: Block): void {
  const above = ALL[ALL.indexOf(block) - 1];
  const producer = above?.page === block.page && (above.directive?.kind === "refused config" || (above.directive === undefined && MODULE_LANGS.has(above.lang)));
  expect(producer, `${block.page}:${block.line}: the block above is a module or a refused config, whose test compares this one`).toBe(true);
}

async function checkDiscoveryConfig(block: Block): Promise<void> {
  const expected = JSON.parse(block.text) as { device?: Record<string, unknown> };
  const topic = block.directive!.value;
  const [, , nodeId] = topic.split("/");
  expect(nodeId, `a node level in ${topic}`).toBeTruthy();
  const { identifiers: _identifiers, ...device } = expected.device ?? {};
  // timing as on a board: the esp32 manifest's sampleInterval and maxSilence (expire_after follows them)
  const board = (JSON.parse(read("manifests/esp32/manifest.json")) as { config: { sampleInterval: number; maxSilence: number } }).config;
  const config = () => ({ nodeId, device, sampleInterval: board.sampleInterval, maxSilence: board.maxSilence });
  const sim = await startSimulator({ devices: 1, broker: `mqtt://127.0.0.1:${broker.port}`, config });
  try {
    // the config as the node publishes it, then the copy the broker kept: retained
    const published = await sim.waitForMessage(topic, { timeout: 10_000 });
    expect(JSON.parse(published.payload)).toEqual(expected);
    const kept = await sim.waitForMessage(topic, { timeout: 10_000 });
    expect(kept.retain, "the config is retained").toBe(true);
    expect(kept.payload).toBe(published.payload);
  } finally {
    await sim.stop();
  }
}

function checkRunBy(block: Block): void {
  const file = path.join(root, block.directive!.value);
  expect(/^test\/.+\.test\.ts$/.test(block.directive!.value) && existsSync(file), `${block.directive!.value} is a test file`).toBe(true);
  expect(readFileSync(file, "utf8"), `${block.directive!.value} holds the block`).toContain(block.text.trimEnd());
}

const MODULE_LANGS = new Set(["js", "mjs", "javascript", "ts", "typescript"]);
const SHELL_LANGS = new Set(["sh", "bash", "shell"]);

describe.each(PAGES)("%s", (page) => {
  const blocks = ALL.filter((block) => block.page === page);
  const runnable = blocks.filter((block) => block.directive?.kind !== "not run");

  it("gives a reason for every block it does not run", () => {
    for (const block of blocks) {
      const where = `${page}:${block.line}`;
      expect(block.strayComment, `${where}: a comment before the block that is not a directive (<!-- not run: reason -->, ...)`).toBeUndefined();
      if (block.directive?.kind === "not run") expect(block.directive.value.length, `${where}: the reason`).toBeGreaterThan(8);
    }
  });

  if (runnable.length > 0) {
    it.each(runnable.map((block) => [`line ${block.line} (${block.lang || "no language"}${block.directive ? `, ${block.directive.kind}` : ""})`, block] as const))(
      "runs the block at %s",
      async (_name, block) => {
        const kind = block.directive?.kind;
        if (kind === "run by") return checkRunBy(block);
        if (kind === "discovery config") return checkDiscoveryConfig(block);
        if (kind === "output of the block above") return checkOutputBlock(block);
        if (kind === "file" || kind === "refused config" || (kind === undefined && block.lang === "json")) return checkConfig(block);
        if (MODULE_LANGS.has(block.lang)) return runModule(block);
        if (SHELL_LANGS.has(block.lang)) return runShell(block);
        expect.fail(`${page}:${block.line}: a \`${block.lang || "plain"}\` block runs only with a line before it: <!-- not run: reason --> (docs/testing.md)`);
      },
      60_000,
    );
  }

  it("has relative links that lead to files and headings that exist", () => {
    const source = read(page);
    for (const { target, line } of linksOf(source)) {
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
      const [file, anchor] = target.split("#", 2) as [string, string | undefined];
      const resolved = file === "" ? path.join(root, page) : path.resolve(path.dirname(path.join(root, page)), decodeURIComponent(file));
      expect(existsSync(resolved), `${page}:${line}: ${target}: ${path.relative(root, resolved)} exists`).toBe(true);
      if (anchor !== undefined && anchor !== "") {
        expect(resolved.endsWith(".md") && statSync(resolved).isFile(), `${page}:${line}: ${target}: an anchor into a Markdown page`).toBe(true);
        expect(headingSlugs(readFileSync(resolved, "utf8")), `${page}:${line}: ${target}: the heading #${anchor}`).toContain(anchor);
      }
    }
  });
});

it("finds the blocks of every page, the README's included", () => {
  expect(PAGES).toContain("docs/client.md");
  expect(ALL.filter((block) => block.page === "README.md").length).toBeGreaterThan(2);
});

/** The page's text outside fenced blocks and code spans, so that code is not read as a link. */
function prose(source: string): string {
  return source.replace(/^( *)(`{3,}|~{3,})[\s\S]*?^\1\2[ \t]*$/gm, (block) => block.replace(/[^\n]/g, " ")).replace(/`[^`\n]*`/g, (span) => " ".repeat(span.length));
}

/** The inline links `[text](target)` of a page, with their lines. */
function linksOf(source: string): { target: string; line: number }[] {
  const text = prose(source);
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => ({
    target: match[1],
    line: text.slice(0, match.index).split("\n").length,
  }));
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as "-", repeats numbered. */
function headingSlugs(source: string): string[] {
  const seen = new Map<string, number>();
  const slugs: string[] = [];
  for (const match of prose(source).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    // the heading's own text, code spans included (prose() blanked them)
    const heading = source.split("\n")[source.slice(0, match.index).split("\n").length - 1].replace(/^#{1,6}[ \t]+/, "").replace(/[ \t#]*$/, "");
    const base = heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").trim().replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.push(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}
