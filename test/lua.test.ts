/*
 * The Lua target under a real Lua 5.4 (Debian's lua5.4; .ci/run installs it): lua/build.mjs
 * compiles the codec of device/mqtt with typescript-to-lua into a temporary folder, and
 * test/lua/run.lua runs there the same vectors as test/codec.vectors.test.ts and the seeded
 * round-trip fuzz of test/lua/fuzz.ts. Its counts must equal those of the same runner and
 * fuzz on Node against the TypeScript source, and so must the fuzz's digest of outcomes.
 * A codec broken on the Lua side only must make the run fail. Then the Lua examples over
 * LuaSocket (lua/example/client.lua, the client compiled to Lua with lua/shim/mqttio.lua;
 * pubsub.lua, the codec alone) connect, subscribe, publish and receive through a mosquitto
 * started on 127.0.0.1, with an MQTT.js subscriber checking what they published, and
 * test/lua/session.lua drives the client through subscription-table holes, QoS 2 and a
 * broker restart.
 * Never skipped: without lua5.4 (or LuaSocket) the suite fails and says what to install.
 */

import { execFile, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as lib from "../device/mqtt/index.js";
import { buildLua } from "../lua/build.mjs";
import { connectPeer, freePort, runCleanups, uniqueName, waitFor } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";
import { runFuzz } from "./lua/fuzz.js";
import { runVectors } from "./vectors/run-vectors.js";

const root = path.join(import.meta.dirname, "..");
const LUA = process.env.LUA ?? "lua5.4";
const SEED = 20_251_204;
const CASES = 2_000;

let dir: string;

/** Runs test/lua/run.lua over the build in `build`; its exit status and output lines. */
function runLua(build: string): { status: number | null; lines: string[]; stderr: string } {
  const run = spawnSync(LUA, [path.join(root, "test", "lua", "run.lua"), build, String(SEED), String(CASES)], {
    encoding: "utf8",
    timeout: 300_000,
  });
  if (run.error !== undefined) {
    throw new Error(`${LUA} did not run (${run.error.message}): install Lua 5.4 (Debian: apt-get install lua5.4) or set $LUA`);
  }
  return { status: run.status, lines: run.stdout.trim().split("\n"), stderr: run.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "xs-mqtt-lua-test-"));
  buildLua({ outDir: path.join(dir, "lua") });
}, 120_000);

afterAll(async () => {
  await stopAllMosquittos();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** Runs lua/example/<example> with `args`, dist/lua of this build on LUA_PATH; bounded to 20 s. */
function runExample(example: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(LUA, [path.join(root, "lua", "example", example), ...args], {
      env: { ...process.env, LUA_PATH: path.join(dir, "lua", "?.lua") + ";;" },
      timeout: 20_000,
      encoding: "utf8",
    }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr });
    });
  });
}

describe("the codec compiled to Lua runs the codec vectors and the fuzz under lua5.4", () => {
  it("every vector and fuzz case passes, as many as on Node, with the same fuzz digest", () => {
    const node = runVectors(lib, new TextEncoder());
    const fuzz = runFuzz(lib, new TextEncoder(), SEED, CASES);
    expect(node.failures).toEqual([]);
    expect(fuzz.failures).toEqual([]);
    const { status, lines, stderr } = runLua(path.join(dir, "lua"));
    expect(stderr).toBe("");
    expect(lines.slice(0, 2)).toEqual([
      `vectors: ${node.passed} passed, 0 failed`,
      `fuzz: ${fuzz.passed} passed, 0 failed (seed ${SEED}, ${CASES} cases, digest ${fuzz.digest})`,
    ]);
    expect(lines.at(-1)).toBe(`${node.passed + fuzz.passed} passed, 0 failed`);
    expect(status).toBe(0);
  }, 300_000);

  it("a codec broken on the Lua side only fails the run: an encoder writing packet id 0x1234 wrong", () => {
    const broken = path.join(dir, "broken");
    cpSync(path.join(dir, "lua"), broken, { recursive: true });
    const encode = path.join(broken, "device", "mqtt", "encode.lua");
    const source = readFileSync(encode, "utf8");
    const patched = source.replace("function ____exports.writeU16(buf, pos, value)\n", "function ____exports.writeU16(buf, pos, value)\n    if value == 4660 then value = 4661 end\n");
    expect(patched).not.toBe(source);
    writeFileSync(encode, patched);
    const { status, lines } = runLua(broken);
    expect(lines.at(-1)).toMatch(/^\d+ passed, [1-9]\d* failed$/);
    expect(lines.some((line) => line.includes("encode PUBLISH QoS 1 DUP retained [MQTT-3.3.1-1]"))).toBe(true);
    expect(status).toBe(1);
  }, 300_000);
});

/**
 * Runs `example` against a mosquitto started here, an MQTT.js peer subscribed to its topic:
 * it must print the message back and exit 0, and the peer must get it as published.
 */
async function roundTrip(example: string): Promise<void> {
  const cleanups: (() => unknown)[] = [];
  try {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.stop());
    const topic = uniqueName("lua/example");
    const peer = await connectPeer(broker.port);
    cleanups.push(() => peer.client.end(true));
    await peer.client.subscribeAsync(topic, { qos: 1 });
    const { code, stdout, stderr } = await runExample(example, ["127.0.0.1", String(broker.port), topic]);
    expect(stderr).toBe("");
    expect(stdout).toBe(`${topic}: hello from Lua\n`);
    expect(code).toBe(0);
    await waitFor(() => peer.messages.length > 0, "the peer's copy of the Lua client's message");
    expect(peer.messages.map((m) => [m.topic, m.payload.toString(), m.qos, m.retain, m.dup])).toEqual([[topic, "hello from Lua", 1, false, false]]);
  } finally {
    await runCleanups(cleanups);
  }
}

describe("the Lua examples over LuaSocket against mosquitto on 127.0.0.1", () => {
  it("client.lua, the client's session core compiled to Lua: connects, subscribes, publishes QoS 1 [MQTT-4.3.2-1] and gets its message back", async () => {
    await roundTrip("client.lua");
  }, 60_000);

  it("the client under Lua: a re-subscription replaces its handler past free slots [MQTT-3.8.4-3]; QoS 2 each way is delivered once [MQTT-4.3.3-2]; after the broker restarts it reconnects, renews its subscriptions and sends what was queued", async () => {
    const broker = await Mosquitto.start();
    try {
      const prefix = uniqueName("lua/session");
      const child = spawn(LUA, [path.join(root, "test", "lua", "session.lua"), path.join(dir, "lua"), String(broker.port), prefix], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
      const lines: string[] = [];
      let restart: Promise<void> | undefined;
      createInterface({ input: child.stdout }).on("line", (line) => {
        lines.push(line);
        if (line === "restart the broker") restart = broker.stop().then(() => broker.start());
      });
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      clearTimeout(killer);
      await restart;
      expect(lines).toEqual([
        "connected, session present false",
        "subscribed a qos 2", "subscribed b qos 2", "subscribed c qos 2", "subscribed d qos 2", "subscribed e qos 2",
        "unsubscribed b", "unsubscribed d", "unsubscribed e",
        "subscribed c qos 2",
        "publish c: sent",
        "second c got c qos 2: to c",
        "publish a: sent",
        "first a got a qos 2: to a",
        "restart the broker",
        "error connection-lost",
        "disconnected: connection-lost",
        "publish a: queued",
        "connected, session present false",
        "subscribed a qos 2", "subscribed c qos 2",
        "first a got a qos 1: while away",
        "disconnected: closed",
        "state closed",
      ]);
      expect(code).toBe(0);
    } finally {
      await broker.stop();
    }
  }, 60_000);

  it("pubsub.lua, on the codec alone: connects, subscribes, publishes QoS 1 and gets its message back", async () => {
    await roundTrip("pubsub.lua");
  }, 60_000);

  it.each([
    ["client.lua", (_port: number) => /^client\.lua: connection-lost: /],
    ["pubsub.lua", (port: number) => new RegExp(`^pubsub\\.lua: connect to 127\\.0\\.0\\.1:${port}: connection refused\\n$`)],
  ])("%s with no broker on the port says why on stderr and exits 1", async (example, reason) => {
    const port = await freePort();
    const { code, stdout, stderr } = await runExample(example, ["127.0.0.1", String(port)]);
    expect(stdout).toBe("");
    expect(stderr).toMatch(reason(port));
    expect(code).toBe(1);
  }, 30_000);
});
