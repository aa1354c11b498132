// Helper for the broker benchmarks (not a benchmark itself): starts a private mosquitto on
// a free 127.0.0.1 port with a config file of its own in a fresh temp directory, and
// stops it again. It listens on 127.0.0.1 only, persists nothing, and stop() kills the
// process and removes the temp directory; hooks on "exit", SIGINT and SIGTERM kill it too,
// so a bench that throws or is interrupted never leaves a broker behind.
//
// mosquitto inherits this process's open-file limit (Node raises its soft limit to the hard
// one at start-up); `openFiles` sets its soft limit through the shell's `ulimit -n` (at most
// the hard limit): a bench that needs many connections checks openFileLimit() itself.
//
//   const broker = await startMosquitto({ config: ["max_connections -1"] });
//   broker.port; broker.dir (a temp dir the caller may also use); await broker.stop();

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// $MOSQUITTO when set, else the first mosquitto on the PATH
const MOSQUITTO = process.env.MOSQUITTO || "mosquitto";

/** A TCP port on 127.0.0.1 that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts mosquitto; resolves once it accepts connections. `config`: extra config lines; `openFiles`: its file limit. */
export async function startMosquitto({ config = [], openFiles } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "xs-mqtt-bench-"));
  const port = await freePort();
  const confPath = join(dir, "mosquitto.conf");
  writeFileSync(confPath, [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "persistence false",
    "log_dest stderr",
    "log_type error",
    "log_type warning",
    ...config,
    "",
  ].join("\n"));
  const child = openFiles === undefined
    ? spawn(MOSQUITTO, ["-c", confPath], { stdio: ["ignore", "ignore", "pipe"] })
    : spawn("sh", ["-c", `ulimit -n ${Number(openFiles)} && exec "$0" -c "$1"`, MOSQUITTO, confPath], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  let exited = false;
  let exitStatus = "running";
  const exitedPromise = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      exited = true;
      exitStatus = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
    // a spawn that fails (no such file) ends with "error" and no "exit"
    child.on("error", (error) => {
      exited = true;
      exitStatus = "not started";
      stderr += error.code === "ENOENT"
        ? `${MOSQUITTO} was not found: put mosquitto on the PATH or set $MOSQUITTO to its path`
        : String(error);
      resolve();
    });
  });
  const killOnExit = () => {
    if (!exited) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  const killOnSignal = (signal) => {
    killOnExit();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("exit", killOnExit);
  process.on("SIGINT", killOnSignal);
  process.on("SIGTERM", killOnSignal);

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exitedPromise;
      clearTimeout(timer);
    }
    process.off("exit", killOnExit);
    process.off("SIGINT", killOnSignal);
    process.off("SIGTERM", killOnSignal);
    rmSync(dir, { recursive: true, force: true });
  }

  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (exited) throw new Error(`mosquitto exited at start: ${stderr.trim()}`);
      if (await canConnect(port)) break;
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port, dir, stop, pid: child.pid,
    get stderr() { return stderr; },
    /** "running", or how it ended (when something else stopped it, a bench should say so). */
    get status() { return stopped ? "stopped" : exitStatus; },
  };
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.on("connect", () => { socket.destroy(); resolve(true); });
    socket.on("error", () => resolve(false));
  });
}
