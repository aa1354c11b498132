/*
 * The deploy examples, read as their engines read them and run through the simulator's own
 * option parser: deploy/kubernetes/fleet-job.yaml, an Indexed Job whose pods, one per
 * completion index, each get a shard from JOB_COMPLETION_INDEX and JOB_COMPLETIONS; and
 * deploy/github-actions/fleet-shards.yml, a workflow whose matrix jobs each get a shard from
 * the matrix. In both the shards together are the fleet, each board once, and the command
 * run exists. The YAML is parsed by a small reader of the block subset the files use (maps,
 * lists, flow lists of scalars, quoted scalars, comments), which refuses anything else.
 * Reads files only.
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

/** The shards' boards (each shard's slice of its fleet, in shard order) are the fleet, each board once. */
function expectWholeFleet(shards: CliOptions[]): void {
  const boards: number[] = [];
  for (const options of shards) {
    const { first, last } = sliceRange({ first: 1, last: options.devices }, options.shard!);
    for (let n = first; n <= last; n++) boards.push(n);
  }
  const devices = shards[shards.length - 1].devices;
  expect(boards).toEqual(Array.from({ length: devices }, (_, i) => i + 1));
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
    const pods: CliOptions[] = [];
    for (let index = 0; index < completions; index++) {
      const options = await parseOptions(args, { ...env, JOB_COMPLETION_INDEX: String(index) }) as CliOptions;
      expect(options.shard).toEqual({ index: index + 1, count: completions });
      expect(options.broker).toMatch(/^mqtt:\/\/[a-z0-9.-]+:\d+$/);
      expect(options.duration).toBeGreaterThan(0);
      pods.push(options);
    }
    expectWholeFleet(pods);
  });
});

describe("deploy/github-actions/fleet-shards.yml", () => {
  const path = join(root, "deploy/github-actions/fleet-shards.yml");
  const workflow = parseYaml(readFileSync(path, "utf8"));
  const job = get(workflow, "jobs.fleet") as Record<string, Yaml>;
  const shards = get(job, "strategy.matrix.shard") as number[];
  const steps = job.steps as Record<string, Yaml>[];
  const run = steps.find((step) => typeof step.run === "string" && step.run.startsWith("node dist/sim.mjs"));
  const inputs = get(workflow, "on.workflow_dispatch.inputs") as Record<string, Record<string, Yaml>>;

  /** A GitHub expression's value for matrix job `shard`, the inputs at their defaults (the broker an example). */
  function expand(text: string, shard: number): string {
    return text.replace(/\$\{\{ ([\w.-]+) \}\}/g, (_, name: string) => {
      if (name === "matrix.shard") return String(shard);
      if (name === "strategy.job-total") return String(shards.length);
      if (name === "inputs.broker") return "mqtt://broker.example.net:1883";
      if (name.startsWith("inputs.")) return String(inputs[name.slice("inputs.".length)].default);
      throw new Error(`unknown expression: ${name}`);
    });
  }

  it("starts by hand with the broker's URL, and runs every shard at once on its own runner, the others going on when one fails", () => {
    expect(inputs.broker.required).toBe(true);
    expect(inputs.broker.default).toBeUndefined(); // a broker the runners reach: the user's
    for (const name of ["devices", "duration"]) expect(Number(inputs[name].default)).toBeGreaterThan(0);
    expect(shards).toEqual(Array.from({ length: shards.length }, (_, i) => i + 1));
    expect(shards.length).toBeGreaterThanOrEqual(2);
    expect(get(job, "strategy.max-parallel")).toBeGreaterThanOrEqual(shards.length); // the fleet is whole only with every shard
    expect(get(job, "strategy.fail-fast")).toBe(false);
    expect(Number(get(job, "timeout-minutes")) * 60).toBeGreaterThan(Number(inputs.duration.default));
  });

  it("builds the CLI, then every job's command parses into its own shard; the shards are the fleet, each board once", async () => {
    const commands = steps.map((step) => step.run);
    expect(commands.indexOf("npm ci")).toBeGreaterThanOrEqual(0);
    expect(commands.indexOf("npm run build")).toBeGreaterThan(commands.indexOf("npm ci"));
    expect(run).toBeDefined();
    expect(steps.indexOf(run!)).toBeGreaterThan(commands.indexOf("npm run build"));
    expect(get(job, "steps.1.with.node-version")).toBe(20);
    const line = run!.run as string;
    expect(line).not.toContain("${{"); // inputs come through the environment, not into the script
    const jobs: CliOptions[] = [];
    for (const shard of shards) {
      const env = Object.fromEntries(Object.entries(run!.env as Record<string, string>).map(([name, value]) => [name, expand(value, shard)]));
      const words = line.split(" ").map((word) => word.replace(/^"\$(\w+)"$/, (_, name: string) => env[name]));
      expect(words.slice(0, 2)).toEqual(["node", "dist/sim.mjs"]);
      const options = await parseOptions(words.slice(2), {}) as CliOptions;
      expect(options.shard).toEqual({ index: shard, count: shards.length });
      expect(options.broker).toBe("mqtt://broker.example.net:1883");
      expect(options.duration).toBeGreaterThan(0);
      expect(options.http).toBeUndefined();
      jobs.push(options);
    }
    expectWholeFleet(jobs);
  });
});

describe("the deploy files' YAML reader", () => {
  it("refuses YAML it does not understand rather than misread it", () => {
    expect(() => parseYaml("a: &anchor 1\n")).toThrow(/unsupported/);
    expect(() => parseYaml("a:\n  b: 1\n   c: 2\n")).toThrow();
    expect(parseYaml("a:\n  - b: 1\n    c: [\"x\", \"y\"]\n  - 2\nd: 'e'\n")).toEqual({ a: [{ b: 1, c: ["x", "y"] }, 2], d: "e" });
  });
});
