/*
 * deploy/kubernetes/fleet-job.yaml, read as Kubernetes reads it and run through the
 * simulator's own option parser: an Indexed Job whose pods, one per completion index, each
 * get a shard from JOB_COMPLETION_INDEX and JOB_COMPLETIONS, and whose shards together are
 * the fleet, each board once; the command the image runs exists. The YAML is parsed by a
 * small reader of the block subset the file uses (maps, lists, flow lists of scalars,
 * quoted scalars, comments), which refuses anything else. Reads files only.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseOptions } from "../host-sim/cli/cli-options.js";
import type { CliOptions } from "../host-sim/cli/cli-options.js";
import { sliceRange } from "../host-sim/simulator.js";

const root = join(import.meta.dirname, "..");

type Yaml = string | number | boolean | Yaml[] | { [key: string]: Yaml };

/** A scalar: quoted text, a number, a boolean, or plain text. */
function scalar(text: string): Yaml {
  const trimmed = text.trim();
  if (/^".*"$/.test(trimmed)) return JSON.parse(trimmed) as string;
  if (/^'.*'$/.test(trimmed)) return trimmed.slice(1, -1).replace(/''/g, "'");
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (trimmed === "true" || trimmed === "false") return trimmed === "true";
  if (/^[[{&*!|>%@`]/.test(trimmed)) throw new Error(`unsupported YAML: ${trimmed}`);
  return trimmed;
}

/** A value after "key:" on its line: a flow list of scalars or a scalar. */
function inline(text: string): Yaml {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    if (!trimmed.endsWith("]")) throw new Error(`unsupported YAML: ${trimmed}`);
    return (JSON.parse(trimmed) as unknown[]).map((item) => scalar(JSON.stringify(item)));
  }
  return scalar(trimmed);
}

/** Parses the block YAML subset of the deploy files. */
function parseYaml(source: string): Yaml {
  const lines = source.split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").replace(/^\s*#.*$/, ""))
    .filter((line) => line.trim() !== "")
    .map((line) => ({ indent: line.length - line.trimStart().length, text: line.trim() }));
  let at = 0;
  const block = (indent: number): Yaml => {
    if (lines[at].text.startsWith("- ")) {
      const list: Yaml[] = [];
      while (at < lines.length && lines[at].indent === indent && lines[at].text.startsWith("- ")) {
        // "- key: value" opens a map whose keys line up two columns further in
        lines[at] = { indent: indent + 2, text: lines[at].text.slice(2) };
        list.push(lines[at].text.includes(":") ? block(indent + 2) : scalar(lines[at++].text));
      }
      return list;
    }
    const map: { [key: string]: Yaml } = {};
    while (at < lines.length && lines[at].indent === indent && !lines[at].text.startsWith("- ")) {
      const found = /^([\w.\/-]+):(?:\s+(.*))?$/.exec(lines[at].text);
      if (found === null) throw new Error(`unsupported YAML line: ${lines[at].text}`);
      at++;
      if (found[2] !== undefined) map[found[1]] = inline(found[2]);
      else map[found[1]] = block(lines[at].indent > indent || lines[at].text.startsWith("- ") ? lines[at].indent : indent + 2);
    }
    if (at < lines.length && lines[at].indent > indent) throw new Error(`unexpected indentation: ${lines[at].text}`);
    return map;
  };
  const parsed = block(0);
  if (at !== lines.length) throw new Error(`unread YAML from: ${lines[at].text}`);
  return parsed;
}

/** A field by path, failing with the path when missing. */
function get(value: Yaml, path: string): Yaml {
  let current: Yaml | undefined = value;
  for (const key of path.split(".")) {
    current = Array.isArray(current) ? current[Number(key)] : typeof current === "object" ? current[key] : undefined;
    expect(current, path).toBeDefined();
  }
  return current!;
}

describe("deploy/kubernetes/fleet-job.yaml", () => {
  const job = parseYaml(readFileSync(join(root, "deploy/kubernetes/fleet-job.yaml"), "utf8"));
  const container = get(job, "spec.template.spec.containers.0") as Record<string, Yaml>;

  it("is an Indexed Job of N pods that do not restart, each asking for the CPUs its workers use", () => {
    expect(get(job, "apiVersion")).toBe("batch/v1");
    expect(get(job, "kind")).toBe("Job");
    expect(get(job, "spec.completionMode")).toBe("Indexed");
    const completions = get(job, "spec.completions") as number;
    expect(Number.isInteger(completions) && completions >= 2).toBe(true);
    expect(get(job, "spec.parallelism")).toBe(completions); // every shard at once: the fleet is whole only then
    expect(get(job, "spec.template.spec.restartPolicy")).toBe("Never");
    // JOB_COMPLETIONS is not set by Kubernetes: the file sets it, equal to the completions
    const env = container.env as { name: string; value: string }[];
    expect(env.find((e) => e.name === "JOB_COMPLETIONS")?.value).toBe(String(completions));
    expect(env.some((e) => e.name === "JOB_COMPLETION_INDEX")).toBe(false); // Kubernetes sets it per pod
    const args = container.args as string[];
    const workers = Number(args[args.indexOf("--workers") + 1]);
    expect(workers).toBeGreaterThanOrEqual(1);
    expect(Number(get(container, "resources.requests.cpu"))).toBe(workers);
  });

  it("runs the built CLI, and every pod's options parse into its own shard; the shards are the fleet, each board once", async () => {
    expect(container.command).toEqual(["node", "dist/sim.mjs"]);
    expect(existsSync(join(root, "host-sim/cli/cli.ts"))).toBe(true); // built to dist/sim.mjs (build/build.mjs)
    const dockerfile = readFileSync(join(root, "deploy/kubernetes/Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^RUN npm run build/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(get(container, "image")).toBe("xs-mqtt-sim:latest");
    expect(readFileSync(join(root, "deploy/kubernetes/fleet-job.yaml"), "utf8")).toContain("-t xs-mqtt-sim:latest");

    const completions = get(job, "spec.completions") as number;
    const env = Object.fromEntries((container.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    const args = container.args as string[];
    expect(args).not.toContain("--shard"); // the pod's index gives it
    const boards: number[] = [];
    let devices = 0;
    for (let index = 0; index < completions; index++) {
      const options = await parseOptions(args, { ...env, JOB_COMPLETION_INDEX: String(index) }) as CliOptions;
      expect(options.shard).toEqual({ index: index + 1, count: completions });
      expect(options.broker).toMatch(/^mqtt:\/\/[a-z0-9.-]+:\d+$/);
      expect(options.duration).toBeGreaterThan(0);
      devices = options.devices;
      const { first, last } = sliceRange({ first: 1, last: devices }, options.shard!);
      for (let n = first; n <= last; n++) boards.push(n);
    }
    expect(boards).toEqual(Array.from({ length: devices }, (_, i) => i + 1));
  });

  it("the reader refuses YAML it does not understand rather than misread it", () => {
    expect(() => parseYaml("a: &anchor 1\n")).toThrow(/unsupported/);
    expect(() => parseYaml("a:\n  b: 1\n   c: 2\n")).toThrow();
    expect(parseYaml("a:\n  - b: 1\n    c: [\"x\", \"y\"]\n  - 2\nd: 'e'\n")).toEqual({ a: [{ b: 1, c: ["x", "y"] }, 2], d: "e" });
  });
});
