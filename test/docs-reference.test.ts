/*
 * The reference pages of docs/ against the code they describe, so that a name added to the
 * code cannot be left out of its table: every npm script in docs/testing.md, every error
 * code, client option and stats counter in docs/client.md, every CLI option in
 * docs/simulator.md, and every allocation case of `npm run bench:xs` named where the page
 * gives figures. Reads files only.
 */

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GOALS } from "../bench/xs-alloc-cases.mjs";
import { HELP } from "../host-sim/cli/cli-options.js";

const root = path.join(import.meta.dirname, "..");
const read = (file: string): string => readFileSync(path.join(root, file), "utf8");

/** The text of a page's section: from its heading to the next heading of its level or above. */
function section(page: string, heading: string): string {
  const text = read(page);
  const start = text.indexOf(`\n${heading}\n`);
  expect(start, `${page}: "${heading}"`).toBeGreaterThanOrEqual(0);
  const level = /^#+/.exec(heading)![0];
  const rest = text.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`^#{1,${level.length}} `, "m"));
  return end < 0 ? rest : rest.slice(0, end);
}

/** The names in code spans of a text: `name` and the start of `name(...)`. */
function codeNames(text: string): Set<string> {
  return new Set([...text.matchAll(/`([^`]+)`/g)].flatMap((match) => match[1].split(/[\s,]+/).map((word) => word.replace(/\(.*$/, ""))));
}

/** The members of a TypeScript interface or union in a source file, by a regex over its body. */
function members(file: string, start: string, member: RegExp): string[] {
  const source = read(file);
  const at = source.indexOf(start);
  expect(at, `${file}: ${start}`).toBeGreaterThanOrEqual(0);
  // an interface ends at its closing brace, a union type at its semicolon
  const body = source.slice(at, source.indexOf(start.includes("interface") ? "\n}" : ";\n", at));
  return [...body.matchAll(member)].map((match) => match[1]);
}

describe("docs/testing.md", () => {
  it("lists every npm script of package.json", () => {
    const scripts = Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts);
    const table = section("docs/testing.md", "## Every npm script");
    for (const name of scripts) {
      const named = name === "test" || name === "start" ? `\`npm ${name}\`` : name.startsWith("pre") ? `(\`${name}\`` : `\`npm run ${name}\``;
      expect(table, `npm script ${name}`).toContain(named);
    }
  });

  it("gives the allocation target of each bench:xs case it names", () => {
    const row = section("docs/testing.md", "## Every npm script").split("\n").find((line) => line.startsWith("| `npm run bench:xs`"))!;
    const named = [...row.matchAll(/`([a-z0-9-]+)` (\d+)/g)];
    expect(named.length).toBeGreaterThan(0);
    for (const [, name, slots] of named) expect((GOALS as Record<string, number>)[name], `${name} ${slots}`).toBe(Number(slots));
  });
});

describe("docs/client.md", () => {
  it("explains every error code", () => {
    const codes = members("device/mqtt/errors.ts", "export type ErrorCode =", /\| "([a-z0-9-]+)"/g);
    expect(codes.length).toBeGreaterThan(30);
    const documented = codeNames(section("docs/client.md", "## Errors"));
    expect(codes.filter((code) => !documented.has(code)), "codes missing from the table").toEqual([]);
  });

  it("lists every client option and every stats counter", () => {
    const options = members("device/mqtt/options.ts", "export interface ClientOptions {", /^\s{2}(\w+)\??:/gm);
    expect(options).toContain("onUnsubscribed");
    const table = codeNames(section("docs/client.md", "## Options"));
    expect(options.filter((name) => !table.has(name)), "options missing from the table").toEqual([]);
    const stats = members("device/mqtt/options.ts", "export interface ClientStats {", /^\s{2}(\w+):/gm);
    const counters = codeNames(section("docs/client.md", "## Messages, state and counters"));
    expect(stats.filter((name) => !counters.has(name)), "stats missing").toEqual([]);
  });
});

describe("docs/simulator.md", () => {
  it("lists every option of the CLI's --help", () => {
    const options = [...new Set([...HELP.matchAll(/^\s{2}--([a-z-]+)/gm)].map((match) => match[1]))];
    expect(options).toContain("devices");
    const table = section("docs/simulator.md", "## Command-line options");
    for (const name of options) expect(table, `--${name}`).toMatch(new RegExp(`^\\| \`--${name}[ \`]`, "m"));
  });
});
