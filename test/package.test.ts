/*
 * The package as a user gets it. A copy of this checkout without dist/ (as a fresh clone
 * is) is packed with `npm pack`, whose prepack builds; the tarball is unpacked into a
 * temporary project's node_modules/xs-mqtt, as npm installs it, with the package's
 * dependencies (and @types/node) linked from this checkout's node_modules, so nothing is
 * fetched (`npm install` of the tarball asks the registry about the dependencies, even with
 * --offline when its cache lacks them). Then: every export has its bundle and its declarations in the tarball, so do the
 * pages of docs/ the README links to, and the
 * declarations import nothing that is not shipped; a user's TypeScript file importing
 * "xs-mqtt", "xs-mqtt/node", "xs-mqtt/firmware" and "xs-mqtt/simulator" type-checks under
 * --strict (NodeNext resolution, with @ts-expect-error lines that fail if a type is `any`),
 * and a board's file importing "xs-mqtt" and "xs-mqtt/firmware" does so with neither Node's
 * nor the DOM's types; a plain JavaScript file makes an MqttClient with hostIo() from
 * "xs-mqtt/node" and round-trips a QoS 1 message through a mosquitto of its own, and so
 * does the README's Node example, run as the README has it (its port aside). Every
 * command runs with a time limit; the temp dir and the broker are removed in afterAll.
 */

import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";

const root = path.join(import.meta.dirname, "..");
const modules = realpathSync(path.join(root, "node_modules"));
const TSC = path.join(modules, "typescript/bin/tsc");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed after `timeout` ms); never rejects: the caller checks `code`. */
function run(command: string, args: string[], cwd: string, timeout: number): Promise<Run> {
  const env = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout, killSignal: "SIGKILL", maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ code, stdout, stderr: stderr + (error !== null && code === null ? `\n${String(error)}` : "") });
    });
  });
}

function expectSuccess(result: Run, what: string): void {
  expect(result.code, `${what}:\n${result.stdout}\n${result.stderr}`).toBe(0);
}

/** Every file under a folder, relative to it, `/` separated. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

let work: string;
/** The temporary project; the package is in its node_modules/xs-mqtt. */
let project: string;
let installed: string;
let manifest: { exports: Record<string, string | { types: string; default: string }>; dependencies: Record<string, string> };

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "xs-mqtt-package-"));
  // the checkout as a fresh clone has it: no dist/, the dependencies installed
  const source = path.join(work, "source");
  cpSync(root, source, {
    recursive: true,
    filter: (from) => !["node_modules", "dist", ".git"].includes(path.relative(root, from).split(path.sep)[0]!),
  });
  symlinkSync(modules, path.join(source, "node_modules"), "dir");
  // scripts on even when the outer npm was told otherwise: prepack is what builds dist/
  const packed = await run("npm", ["pack", "--ignore-scripts=false", "--pack-destination", work], source, 120_000);
  expectSuccess(packed, "npm pack");
  const tarballs = readdirSync(work).filter((name) => name.endsWith(".tgz"));
  expect(tarballs).toHaveLength(1);

  project = path.join(work, "project");
  installed = path.join(project, "node_modules/xs-mqtt");
  mkdirSync(installed, { recursive: true });
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "xs-mqtt-user", private: true, type: "module" }));
  expectSuccess(await run("tar", ["-xzf", path.join(work, tarballs[0]!), "-C", installed, "--strip-components=1"], work, 30_000), "tar");
  manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8"));
  for (const name of [...Object.keys(manifest.dependencies), "@types/node"]) {
    mkdirSync(path.dirname(path.join(project, "node_modules", name)), { recursive: true });
    symlinkSync(path.join(modules, name), path.join(project, "node_modules", name), "dir");
  }
}, 180_000);

afterAll(async () => {
  await stopAllMosquittos();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe("the packed package", () => {
  it("holds, for every export, its bundle and its type declarations; and nothing but dist/'s bundles and declarations", () => {
    const files = filesUnder(installed);
    const exports = Object.entries(manifest.exports).filter(([name]) => name !== "./package.json");
    expect(exports.map(([name]) => name).sort()).toEqual([".", "./firmware", "./node", "./simulator"]);
    for (const [name, target] of exports) {
      expect(typeof target, name).toBe("object");
      const { types, default: bundle } = target as { types: string; default: string };
      expect(types, name).toMatch(/\.d\.ts$/);
      expect(files, name).toContain(path.posix.normalize(types));
      expect(files, name).toContain(path.posix.normalize(bundle));
    }
    // the XS engine of the simulator loads these from next to its bundle
    expect(files).toContain("dist/in-xs/io.js");
    // the simulator's CLI serves the dashboard's page from next to its bundle
    for (const file of ["index.html", "app.js", "app.css"]) expect(files).toContain(`dist/dashboard/${file}`);
    // the README and the pages of docs/ it links to (and its picture), the licence, package.json, and under dist/ bundles,
    // declarations and the dashboard's page only
    const other = files.filter((file) => !/^(?:README\.md|LICENSE|package\.json|docs\/[^/]+\.md|docs\/dashboard\.png|dist\/.+\.(?:m?js|d\.m?ts)|dist\/dashboard\/(?:index\.html|app\.css))$/.test(file));
    expect(other).toEqual([]);
    const readme = readFileSync(path.join(installed, "README.md"), "utf8");
    for (const [, target] of readme.matchAll(/\]\((docs\/[^)#\s]+)/g)) expect(files, `the README's link ${target}`).toContain(target);
    expect(files).toContain("LICENSE"); // package.json says MIT: the text goes with it
  });

  it("its declarations import only declarations it ships, Node built-ins and its dependencies", () => {
    const files = filesUnder(installed);
    const declarations = files.filter((file) => /\.d\.m?ts$/.test(file));
    expect(declarations.length).toBeGreaterThan(4);
    const outside: string[] = [];
    for (const file of declarations) {
      const info = ts.preProcessFile(readFileSync(path.join(installed, file), "utf8"), true, true);
      if (info.typeReferenceDirectives.length + info.referencedFiles.length > 0) outside.push(`${file}: a /// reference`);
      for (const { fileName: specifier } of info.importedFiles) {
        if (specifier.startsWith(".")) {
          // what TypeScript reads for ./x.js is ./x.d.ts, for ./x.mjs ./x.d.mts
          const target = path.posix.join(path.posix.dirname(file), specifier).replace(/\.(m?)js$/, ".d.$1ts");
          if (!files.includes(target)) outside.push(`${file} imports ${specifier}, which is not in the package`);
        } else if (!isBuiltin(specifier) && !(specifier in manifest.dependencies)) {
          outside.push(`${file} imports ${specifier}, neither a Node built-in nor a dependency`);
        }
      }
    }
    expect(outside).toEqual([]);
  });

  it("a user's TypeScript file importing every export type-checks under --strict (NodeNext)", async () => {
    writeFileSync(
      path.join(project, "user.ts"),
      `import { MqttClient, MqttError, prepareTopic, type Message, type PublishStatus } from "xs-mqtt";
import { hostIo, HostResolver, TCP, TLS, Timer, TextDecoder, TextEncoder } from "xs-mqtt/node";
import { startFirmware, type Firmware } from "xs-mqtt/firmware";
import { RELAY_PIN, startSimulator, type SimBoard, type Simulator } from "xs-mqtt/simulator";

function describeError(error: MqttError): string {
  return error.code + ": " + error.message;
}

const client = new MqttClient({
  host: "127.0.0.1",
  clientId: "user",
  io: { ...hostIo(), resolver: new HostResolver() },
  onConnected(sessionPresent) {
    const present: boolean = sessionPresent;
    client.publish("user/status", present ? "resumed" : "online", { qos: 1, retain: true });
  },
  onError(error) {
    console.log(describeError(error));
  },
});
client.subscribe("user/+/set", { qos: 1 }, (message) => {
  const text: string = message.text();
  const retained: boolean = message.retain;
  console.log(text, retained);
});
const handler = (message: Message): string => message.topic;
client.subscribe("user/#", { qos: 0 }, (message) => void handler(message));
const status: PublishStatus = client.publish(prepareTopic("user/a", new TextEncoder()), new Uint8Array(4), { qos: 0 });
try {
  client.publish("user/#", "not a topic name");
} catch (e) {
  if (e instanceof MqttError) console.log(describeError(e), status);
}
const classes = [TCP, TLS, TextDecoder];
Timer.clear(Timer.repeat(() => client.close(), 1000));

export async function simulate(): Promise<number> {
  const sim: Simulator = await startSimulator({ devices: 1, seed: 1 });
  const board: SimBoard | undefined = sim.board("board-1");
  const level: number | undefined = board?.pin(RELAY_PIN);
  await sim.stop();
  return (level ?? 0) + sim.boards.length + classes.length;
}

export type FirmwareOptions = Parameters<typeof startFirmware>[0];
export function counts(firmware: Firmware): Firmware["counts"] {
  return firmware.counts;
}

// @ts-expect-error clientId and io are required
new MqttClient({ host: "127.0.0.1" });
// @ts-expect-error a topic is a string or a prepared topic
client.publish(42, "x");
// @ts-expect-error hostIo() takes no options
hostIo({ window: 100 });
// @ts-expect-error the simulator has no such option
void startSimulator({ boards: 2 });
// @ts-expect-error startFirmware needs its options
startFirmware();
`,
    );
    writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true, noEmit: true, target: "ES2022", lib: ["ES2022"], module: "NodeNext", moduleResolution: "NodeNext",
          types: ["node"], skipLibCheck: false,
        },
        files: ["user.ts"],
      }),
    );
    expectSuccess(await run(process.execPath, [TSC, "-p", "tsconfig.json"], project, 120_000), "tsc, the Node user's file");
  }, 150_000);

  it("a board's TypeScript file importing xs-mqtt and xs-mqtt/firmware type-checks under --strict without Node's or the DOM's types", async () => {
    writeFileSync(
      path.join(project, "board.ts"),
      `import { MqttClient, MqttError, type ClientIo } from "xs-mqtt";
import { resolveConfig, statusTopic, type FirmwareConfig } from "xs-mqtt/firmware";

declare const io: ClientIo; // Moddable's own classes on the board
declare function trace(text: string): void;

export function start(config: FirmwareConfig): MqttClient {
  const resolved = resolveConfig(config);
  const client = new MqttClient({
    host: "192.168.1.10",
    clientId: "board",
    io,
    onError(error) {
      trace(error.code + "\\n");
    },
  });
  client.subscribe(statusTopic(resolved), { qos: 1 }, (message) => trace(message.text()));
  return client;
}

export function isClientError(e: unknown): e is MqttError {
  return e instanceof MqttError;
}

// @ts-expect-error io is required
new MqttClient({ host: "192.168.1.10", clientId: "board" });
`,
    );
    writeFileSync(
      path.join(project, "tsconfig.board.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true, noEmit: true, target: "ES2022", lib: ["ES2022"], module: "ESNext", moduleResolution: "Bundler",
          types: [], skipLibCheck: false,
        },
        files: ["board.ts"],
      }),
    );
    expectSuccess(await run(process.execPath, [TSC, "-p", "tsconfig.board.json"], project, 120_000), "tsc, the board's file");
  }, 150_000);

  it("plain JavaScript: an MqttClient with hostIo() from xs-mqtt/node round-trips a QoS 1 message through mosquitto", async () => {
    const broker = await Mosquitto.start();
    writeFileSync(
      path.join(project, "roundtrip.mjs"),
      `import { MqttClient } from "xs-mqtt";
import { hostIo } from "xs-mqtt/node";

const topic = "xs-mqtt-package/roundtrip";
const seen = { subscribed: -1, published: false, message: undefined };
const limit = setTimeout(() => {
  console.error("no round trip within 10 s: " + JSON.stringify(seen));
  process.exit(2);
}, 10_000);
const finish = () => {
  if (!seen.published || seen.message === undefined) return;
  console.log(JSON.stringify(seen));
  clearTimeout(limit);
  client.close();
};
const client = new MqttClient({
  host: "127.0.0.1",
  port: Number(process.argv[2]),
  clientId: "xs-mqtt-package-user",
  io: hostIo(),
  reconnect: false,
  onConnected() {
    client.subscribe(topic, { qos: 1 }, (message) => {
      seen.message = { topic: message.topic, payload: message.text(), qos: message.qos };
      finish();
    });
  },
  onSubscribed(filter, qos) {
    seen.subscribed = qos;
    client.publish(topic, "hello from plain JavaScript", { qos: 1 });
  },
  onPublished() {
    seen.published = true;
    finish();
  },
  onError(error) {
    console.error(error.code + ": " + error.message);
    process.exit(1);
  },
});
client.connect();
`,
    );
    const result = await run(process.execPath, ["roundtrip.mjs", String(broker.port)], project, 20_000);
    expectSuccess(result, `node roundtrip.mjs\nmosquitto: ${broker.log}`);
    expect(JSON.parse(result.stdout)).toEqual({
      subscribed: 1,
      published: true,
      message: { topic: "xs-mqtt-package/roundtrip", payload: "hello from plain JavaScript", qos: 1 },
    });
    await broker.close();
  }, 60_000);

  it("the README's Node example runs as it is from the installed package: it greets itself through mosquitto and exits", async () => {
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    const example = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!).find((code) => code.includes(`from "xs-mqtt/node"`));
    expect(example, "a js block importing xs-mqtt/node in README.md").toBeDefined();
    expect(example).toContain("port: 1883,");
    const broker = await Mosquitto.start();
    writeFileSync(path.join(project, "readme-example.mjs"), example!.replace("port: 1883,", `port: ${broker.port},`));
    // no time limit of its own: it must end by itself once the client is closed
    const result = await run(process.execPath, ["readme-example.mjs"], project, 20_000);
    expectSuccess(result, `node readme-example.mjs\nmosquitto: ${broker.log}`);
    expect(result.stdout).toBe("example/greeting: hello\n");
    await broker.close();
  }, 60_000);
});
