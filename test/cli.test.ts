/*
 * The simulator CLI as a user runs it: the built dist/sim.mjs as a child process (through
 * npm, and on a pseudo-terminal of 80 columns made by util-linux `script`, where the live
 * view is drawn), checking its messages for bad options, the hint for a missing `--`, the
 * range checks made before anything starts, the reasons given for boards that never came
 * online, and the live view: the latest error next to a connecting board, and lines that fit
 * 80 columns with the relay and LED states first. Also docs/simulator.md's sample output against
 * what the CLI prints. Brokers listen on 127.0.0.1 only; every child is killed (its whole
 * process group) in afterEach and runs at most 30 s.
 */

import { spawn } from "node:child_process";
import * as net from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeCa, makeServerCert, tlsListenerConfig } from "./brokers/certs.js";
import { freePort } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";
import * as mqttPacket from "mqtt-packet";
import { TcpProxy } from "./support/proxy.js";

const root = join(import.meta.dirname, "..");
const SIM = join(root, "dist/sim.mjs");
/** The longest a child may run before it is killed. */
const CHILD_TIMEOUT = 30_000;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => stopAllMosquittos());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `file args` in a process group of its own to its end (killed, group and all, after CHILD_TIMEOUT or in afterEach). */
function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const child = spawn(file, args, { cwd: options.cwd ?? root, env: options.env ?? process.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  let running = true;
  const kill = () => {
    if (!running || child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // the group is gone already
    }
  };
  const timer = setTimeout(kill, CHILD_TIMEOUT);
  cleanups.push(kill);
  return new Promise((resolve) => {
    child.once("close", (code) => {
      running = false;
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function sim(args: string[]): Promise<Run> {
  return run(process.execPath, [SIM, ...args]);
}

/** The CLI on a pseudo-terminal of 80 columns and 30 rows (util-linux script): the live view is drawn. */
function simOnTerminal(args: string[]): Promise<Run> {
  const command = `stty cols 80 rows 30 && exec ${[process.execPath, SIM, ...args].map((word) => `'${word}'`).join(" ")}`;
  return run("script", ["-qec", command, "/dev/null"]);
}

/** The lines of the live block as a terminal shows them: each drawn line after its "clear line", without colours. */
function drawnLines(output: string): string[] {
  return output.split("\x1b[2K").slice(1).map((part) => part.split(/\r?\n/)[0].replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")).filter((line) => line !== "");
}

/** A temp dir, removed in afterEach. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "xs-mqtt-cli-test-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Quotes and brackets come in pairs. */
function balanced(text: string): boolean {
  return (text.match(/"/g) ?? []).length % 2 === 0 && (text.match(/'/g) ?? []).length % 2 === 0 &&
    (text.match(/\(/g) ?? []).length === (text.match(/\)/g) ?? []).length;
}

beforeAll(() => {
  readFileSync(SIM); // built by `npm test` (npm run build)
});

describe("options: the user's own messages, each naming the option and what it accepts", () => {
  it("a negative number is refused by the option's range, not as a missing value", async () => {
    const { code, stdout, stderr } = await sim(["--devices", "-3"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(`sim: --devices must be a whole number from 1 to 100000, not "-3"\n`);
    const seed = await sim(["--seed", "-1"]);
    expect(seed.stderr).toBe(`sim: --seed must be a whole number from 0 to 4294967295, not "-1"\n`);
  });

  it("--rtt: a whole number of ms from 0 to 10000, named in its message", async () => {
    for (const bad of ["-1", "10001", "2.5", "fast"]) {
      const result = await sim(["--rtt", bad]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`sim: --rtt must be a whole number of ms from 0 to 10000, not ${JSON.stringify(bad)}\n`);
    }
    const missing = await sim(["--rtt"]);
    expect(missing.stderr).toBe("sim: --rtt needs a value: a whole number of ms from 0 to 10000, as in --rtt MS\n");
  });

  it("an unknown option: named, with the nearest option and the list, quotes closed", async () => {
    const typo = await sim(["--devics", "3"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^sim: unknown option --devics: did you mean --devices\? The options are --devices, --workers, --shard, --broker, --protocol, --engine, --duration, --seed, --rtt, --config, --ca, --firmware, --http, --http-host, --no-http, --verbose, --help \(see --help\)\.\n$/);
    const other = await sim(["--colour"]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/^sim: unknown option --colour\. The options are --devices, /);
    for (const text of [typo.stderr, other.stderr]) expect(balanced(text), text).toBe(true);
  });

  it("an option without its value, and a value without its option", async () => {
    const missing = await sim(["--broker", "--devices", "2"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("sim: --broker needs a value: mqtt://host:port or mqtts://host:port, as in --broker URL\n");
    const loose = await sim(["4"]);
    expect(loose.code).toBe(2);
    expect(loose.stderr).toBe(`sim: unexpected argument "4": every value follows its option, as in --devices 4 (see --help)\n`);
  });
});

describe("npm start without the --", () => {
  it("npm keeps --devices for itself (npm_config_devices) and passes the 4 alone: the CLI says to use npm start -- --devices 4", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "cli-test", version: "1.0.0", private: true, scripts: { start: `node ${JSON.stringify(SIM)}` } }));
    const { code, stdout, stderr } = await run("npm", ["start", "--devices", "4"], { cwd: dir });
    expect(code).not.toBe(0);
    expect(stderr).toContain("sim: npm took --devices for itself: npm passes options on only after a \"--\".\nUse: npm start -- --devices 4\n");
    expect(stdout).not.toMatch(/xs-mqtt simulator:/); // nothing started
  });
});

describe("range checks come before anything starts", () => {
  it("--devices 99999999999 is refused at once: no file-limit warning, no start, no broker", async () => {
    // under an open-file limit of 300 the warning would come first if the check came late
    const { code, stdout, stderr } = await run("bash", ["-c", `ulimit -n 300 && exec "$@"`, "bash", process.execPath, SIM, "--devices", "99999999999"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(`sim: --devices must be a whole number from 1 to 100000, not "99999999999"\n`);
  });

  it("--duration past what a timer can wait, a port out of range, --ca without TLS, xs with TLS", async () => {
    const cases: [string[], string][] = [
      [["--duration", "9999999"], `sim: --duration must be a number of seconds above 0, at most 2147483 (24 days), not "9999999"\n`],
      [["--broker", "mqtt://127.0.0.1:0"], "sim: --broker: the port must be from 1 to 65535, not 0\n"],
      [["--ca", "ca.pem"], "sim: --ca is for an mqtts:// --broker (the embedded broker and mqtt:// brokers use no TLS)\n"],
      [["--engine", "xs", "--broker", "mqtts://127.0.0.1:8883"], "sim: --engine xs bridges TCP only: use an mqtt:// --broker with it, or --engine node for mqtts://\n"],
      [["--protocol", "5"], "sim: --protocol 5 needs a --broker that speaks MQTT 5.0 (the embedded aedes speaks 3.1.1 only)\n"],
      [["--protocol", "3"], `sim: --protocol must be 4 (MQTT 3.1.1) or 5 (MQTT 5.0), not "3"\n`],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await sim(args);
      expect({ args, code, stdout, stderr }).toEqual({ args, code: 2, stdout: "", stderr: message });
    }
  });
});

describe("--protocol 5 with --broker: the boards speak MQTT 5.0", () => {
  it.each(["node", "xs"])("engine %s: every board comes online on mosquitto with a CONNECT at protocol level 5 (read off the wire by a recording proxy)", async (engine) => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.close());
    const link = await TcpProxy.start(broker.port, { record: true });
    cleanups.push(() => link.close());
    const { code, stderr } = await sim([
      "--duration", engine === "xs" ? "4" : "2", "--devices", "2", "--engine", engine, "--protocol", "5", "--broker", `mqtt://127.0.0.1:${link.port}`,
      "--no-http", // the boards' connections only (the dashboard's MQTT client would be one more)
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const connects = link.upstream.map((chunks) => {
      const parser = mqttPacket.parser({ protocolVersion: 5 });
      const packets: mqttPacket.Packet[] = [];
      parser.on("packet", (packet) => packets.push(packet));
      for (const chunk of chunks) parser.parse(chunk);
      return packets[0] as mqttPacket.IConnectPacket;
    });
    expect(connects.map((c) => [c.clientId, c.protocolVersion]).sort()).toEqual([["xs-mqtt-board-1", 5], ["xs-mqtt-board-2", 5]]);
  });
});

describe("the reason given for boards that never came online fits the error", () => {
  it("not-authorized (CONNACK 5) names the broker's access rules and credentials, not reachability", async () => {
    const broker = await Mosquitto.start({ users: { sim: "secret" } });
    cleanups.push(() => broker.close());
    const { code, stderr } = await sim(["--duration", "2", "--devices", "1", "--broker", `mqtt://127.0.0.1:${broker.port}`]);
    expect(code).toBe(1);
    expect(stderr).not.toContain("reachable");
    expect(stderr).toContain(`sim: 1 board(s) never came online: the broker at mqtt://127.0.0.1:${broker.port} did not authorize the boards: check its access rules, and broker.username and broker.password in --config\n`);
    expect(stderr).toContain("  the last error of board-1: mqtt not-authorized: CONNACK 5: check broker access rules\n");
  });

  it("a refused mqtts:// port is a connection problem, not a CA problem", async () => {
    const port = await freePort(); // nothing listens there
    const { code, stderr } = await sim(["--duration", "2", "--devices", "1", "--broker", `mqtts://127.0.0.1:${port}`]);
    expect(code).toBe(1);
    expect(stderr).not.toMatch(/check the CA|--ca/);
    expect(stderr).toContain(`sim: 1 board(s) never came online: is the broker at mqtts://127.0.0.1:${port} reachable?\n`);
    expect(stderr).toMatch(/the last error of board-1: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(the client says tls-failed, .*not a certificate problem\)/);
  });

  it("an mqtts:// broker whose CA is not trusted: the advice is --ca and the host name", async () => {
    const dir = tempDir();
    const ca = await makeCa(dir, "ca");
    const server = await makeServerCert(dir, ca, "broker");
    const tlsPort = await freePort();
    const broker = await Mosquitto.start({ config: tlsListenerConfig(tlsPort, ca, server) });
    cleanups.push(() => broker.close());
    const { code, stderr } = await sim(["--duration", "2", "--devices", "1", "--broker", `mqtts://127.0.0.1:${tlsPort}`]);
    expect(code).toBe(1);
    expect(stderr).not.toContain("reachable");
    expect(stderr).toContain(`never came online: the TLS handshake with mqtts://127.0.0.1:${tlsPort} failed: check --ca`);
    expect(stderr).toMatch(/the last error of board-1: mqtt tls-failed: .*\(network: .*certificate/);
  });

  it("mqtts:// to a plain MQTT port: the broker reset the TLS handshake, the advice asks whether the port is a TLS listener", async () => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.close());
    const { code, stderr } = await sim(["--duration", "2", "--devices", "1", "--broker", `mqtts://127.0.0.1:${broker.port}`]);
    expect(code).toBe(1);
    expect(stderr).not.toMatch(/check --ca|reachable/);
    expect(stderr).toContain(`never came online: mqtts://127.0.0.1:${broker.port} closed the connection during the TLS handshake: is that port a TLS (mqtts://) listener, and does it want a client certificate?\n`);
  });
});

describe("the dashboard's options", () => {
  it("the header names the dashboard's URL on 127.0.0.1; --no-http serves none", async () => {
    const served = await sim(["--devices", "1", "--duration", "1"]);
    expect(served.code).toBe(0);
    expect(served.stdout).toMatch(/^dashboard: {10}http:\/\/127\.0\.0\.1:\d+\/$/m);
    const off = await sim(["--devices", "1", "--duration", "1", "--no-http"]);
    expect(off.code).toBe(0);
    expect(off.stdout).not.toMatch(/dashboard/);
  });

  it("--http PORT: the port is checked before anything starts; one in use stops the start with exit status 2", async () => {
    const bad = await sim(["--http", "65536"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`sim: --http must be a port number from 0 (a free one) to 65535, not "65536"\n`);
    const both = await sim(["--no-http", "--http", "8080"]);
    expect(both.stderr).toBe("sim: --no-http turns the dashboard off: leave out --http\n");
    const taken = net.createServer();
    const port = await new Promise<number>((resolve) => taken.listen(0, "127.0.0.1", () => resolve((taken.address() as net.AddressInfo).port)));
    cleanups.push(() => new Promise((resolve) => taken.close(resolve)));
    const busy = await sim(["--devices", "1", "--duration", "5", "--http", String(port)]);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(new RegExp(`^sim: cannot serve the dashboard on 127\\.0\\.0\\.1 port ${port}: .*EADDRINUSE.*\\(another --http port, or --no-http\\)`));
  });

  it("--http-host other than loopback is warned about (here an address this machine lacks: nothing listens)", async () => {
    const { code, stderr } = await sim(["--devices", "1", "--duration", "5", "--http-host", "192.0.2.1"]);
    expect(stderr).toMatch(/^sim: warning: the dashboard listens on 192\.0\.2\.1: anyone who reaches it can switch the boards' actuators/);
    expect(stderr).toMatch(/sim: cannot serve the dashboard on 192\.0\.2\.1 port 0: .*EADDRNOTAVAIL/);
    expect(code).toBe(2);
  });
});

describe("the live view on an 80-column terminal", () => {
  it("shows the latest error next to a board that is connecting", async () => {
    const port = await freePort(); // nothing listens there
    const { stdout } = await simOnTerminal(["--duration", "2", "--devices", "2", "--broker", `mqtt://127.0.0.1:${port}`]);
    const lines = drawnLines(stdout);
    expect(lines).toContain("board-1    connecting relay OFF, led OFF | last error: connection refused");
    expect(lines).toContain("board-2    connecting relay OFF, led OFF | last error: connection refused");
  });

  it("on a pipe: the summary every 5 s names the connecting boards with their latest error", async () => {
    const port = await freePort(); // nothing listens there
    const { stdout } = await sim(["--duration", "5.5", "--devices", "5", "--broker", `mqtt://127.0.0.1:${port}`]);
    expect(stdout).toMatch(/\n\d+\.\d s: online 0\/5, [^\n]*\n  board-1 connecting, last error: connection refused\n  board-2 connecting, last error: connection refused\n  board-3 connecting, last error: connection refused\n  \.\.\. and 2 more connecting boards with an error\n/);
  });

  it("fits 80 columns: relay and LED states first and whole, then the readings, cut", async () => {
    const { code, stdout } = await simOnTerminal(["--duration", "3", "--devices", "3"]);
    expect(code).toBe(0);
    const lines = drawnLines(stdout);
    const boards = lines.filter((line) => /^board-\d /.test(line));
    expect(boards.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.length, line).toBeLessThan(80);
    for (const line of boards) expect(line).toMatch(/^board-\d {4}(online |connecting) +relay (ON|OFF), led (ON|OFF) \| (temperature|no readings)/);
    expect(boards.some((line) => /^board-\d {4}online {5}relay OFF, led OFF \| temperature [\d.]+ °C, humidity/.test(line))).toBe(true);
  });

  it("matches the sample output in docs/simulator.md", async () => {
    const page = readFileSync(join(root, "docs/simulator.md"), "utf8");
    const sample = /On a terminal it shows:\n\n(?:<!--[^\n]*-->\n)?```text\n([\s\S]*?)```/.exec(page)?.[1];
    expect(sample, "the sample block of docs/simulator.md").toBeDefined();
    const { stdout } = await simOnTerminal(["--duration", "3"]);
    // the numbers differ from run to run, the form does not; a cut line may be cut elsewhere
    const form = (line: string) => line.replace(/\d+(\.\d+)?/g, "#").replace(/\b(ON|OFF)\b/g, "@").replace(/…$/, "");
    const printed = stdout.split(/\r?\n/).flatMap((line) => line.split("\x1b[2K")).map((line) => form(line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")));
    for (const line of sample!.split("\n").filter((text) => text !== "" && text !== "Ctrl-C stops.")) {
      expect(line.length, line).toBeLessThan(line.startsWith("board-") || /^\d/.test(line) || line.startsWith("  ") ? 80 : 200);
      const shape = form(line);
      expect(printed.some((text) => text.length >= Math.min(shape.length, 20) && (text.startsWith(shape) || shape.startsWith(text))), line).toBe(true);
    }
  });
});
