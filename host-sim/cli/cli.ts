/*
 * The simulator's command line (`npm start -- [options]`, or `node dist/sim.mjs`): starts
 * the embedded broker unless --broker is given, starts the boards on the chosen engine,
 * shows them live (cli-view.ts) and stops them cleanly on Ctrl-C or after --duration
 * seconds: boards close gracefully (each publishes "offline"), then the broker.
 * Exit status: 0 when every board came online, 1 when one never did, 2 for bad options or
 * a failed start. Node side only.
 */

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { FirmwareConfig } from "../../device/app/config.js";
import { isWhole } from "../../device/mqtt/index.js";
import { boardLine, headerLines, LiveView, summaryLine, totals } from "./cli-view.js";
import { openFileLimit } from "../open-files.js";
import { START_BATCH, startSimulator } from "../simulator.js";
import type { Engine, SimBoard, Simulator } from "../simulator.js";
import type { BoardStatus } from "../board.js";

const HELP = `Simulated xs-mqtt sensor boards (the built firmware, dist/firmware.js) against an MQTT broker.

Usage: npm start -- [options]        (or: node dist/sim.mjs [options])

  --devices N      boards to simulate, node ids board-1 ... board-N (default 3)
  --broker URL     mqtt://host:port or mqtts://host:port (default: an embedded aedes
                   broker on a free 127.0.0.1 port)
  --engine E       node (default: every board in this process) or xs (each board inside
                   its own real XS engine, xsnap)
  --duration S     stop after S seconds, print a summary and exit (for CI)
  --seed N         seed of the simulated chips' values and the reconnect jitter (default 1)
  --config FILE    JSON firmware configuration overrides for every board (e.g.
                   {"sampleInterval": 5000}); a nodeId there is a prefix: <nodeId>-<n>
  --ca FILE        PEM CA certificate to trust for an mqtts:// broker
  --firmware FILE  the built firmware bundle to run (default dist/firmware.js)
  --verbose        print the boards' log lines
  --help           this text

Ctrl-C stops the boards cleanly (each publishes "offline") and exits.
A board whose IO callback lets an exception escape aborts (as fxAbort resets a real board):
it stops at once (its broker publishes its will), "aborted" is printed on stderr.
Exit status: 0 when every board came online, 1 when one never did or one aborted, 2 for
bad options.`;

const REDRAW_MS = 500;
/** Open files a board needs in this process: its socket on Node; inside XS also its worker's pipes. */
const FILES_PER_BOARD: Record<Engine, number> = { node: 1, xs: 6 };
/** Open files for everything else (Node itself, the view, the broker's listener). */
const FILES_SPARE = 256;
/** How long the boards get to stop before the process exits anyway, ms. */
const STOP_TIMEOUT = 10_000;

interface CliOptions {
  devices: number;
  broker: string | undefined;
  engine: Engine;
  duration: number | undefined;
  seed: number;
  config: Partial<FirmwareConfig> | undefined;
  ca: string | undefined;
  caFile: string | undefined;
  firmware: string | undefined;
  verbose: boolean;
}

async function parse(argv: string[]): Promise<CliOptions | "help"> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      devices: { type: "string" },
      broker: { type: "string" },
      engine: { type: "string" },
      duration: { type: "string" },
      seed: { type: "string" },
      config: { type: "string" },
      ca: { type: "string" },
      firmware: { type: "string" },
      verbose: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  if (positionals.length > 0) throw new Error(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const whole = (text: string | undefined, name: string, fallback: number, min: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!isWhole(value, min, Number.MAX_SAFE_INTEGER)) throw new Error(`--${name} must be a whole number of at least ${min}, not ${JSON.stringify(text)}`);
    return value;
  };
  const engine = values.engine ?? "node";
  if (engine !== "node" && engine !== "xs") throw new Error(`--engine must be node or xs, not ${JSON.stringify(engine)}`);
  let duration: number | undefined;
  if (values.duration !== undefined) {
    duration = Number(values.duration);
    if (!(duration > 0)) throw new Error(`--duration must be a number of seconds above 0, not ${JSON.stringify(values.duration)}`);
  }
  let config: Partial<FirmwareConfig> | undefined;
  if (values.config !== undefined) {
    const text = await readFile(values.config, "utf8").catch((error: Error) => {
      throw new Error(`--config: cannot read ${values.config}: ${error.message}`);
    });
    try {
      config = JSON.parse(text) as Partial<FirmwareConfig>;
    } catch (error) {
      throw new Error(`--config: ${values.config} is not JSON: ${(error as Error).message}`);
    }
    if (config === null || typeof config !== "object" || Array.isArray(config)) throw new Error(`--config: ${values.config} must hold a JSON object`);
  }
  const ca = values.ca === undefined ? undefined : await readFile(values.ca, "utf8").catch((error: Error) => {
    throw new Error(`--ca: cannot read ${values.ca}: ${error.message}`);
  });
  return {
    devices: whole(values.devices, "devices", 3, 1),
    broker: values.broker,
    engine,
    duration,
    seed: whole(values.seed, "seed", 1, 0),
    config,
    ca,
    caFile: values.ca,
    firmware: values.firmware,
    verbose: values.verbose === true,
  };
}

async function main(): Promise<number> {
  let options: CliOptions | "help";
  try {
    options = await parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`sim: ${(error as Error).message}\nTry --help.\n`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  const out = process.stdout;
  // a large fleet needs more open files than some systems allow
  const files = options.devices * (FILES_PER_BOARD[options.engine] + (options.broker === undefined ? 1 : 0)) + FILES_SPARE;
  const limit = openFileLimit();
  if (limit !== undefined && limit < files) {
    process.stderr.write(`sim: warning: ${options.devices} boards need about ${files} open files and this process may open ${limit}: ` +
      `boards past that will not connect. Raise the limit (ulimit -n; above the hard limit, as root) or start fewer --devices.\n`);
  }
  const progress = startProgress(out, options.devices, options.engine);
  let view: LiveView | undefined;
  /** Status changes during start-up, shown once the view exists. */
  const early: [SimBoard, BoardStatus][] = [];
  let sim: Simulator;
  try {
    sim = await startSimulator({
      broker: options.broker,
      devices: options.devices,
      engine: options.engine,
      seed: options.seed,
      config: options.config,
      ca: options.ca,
      firmware: options.firmware,
      onStatus: (board, status) => (view === undefined ? early.push([board, status]) : view.statusChanged(board, status)),
      onLog: options.verbose ? (board, line) => out.write(`${board.id}: ${line}\n`) : undefined,
      // as a real board's reset: said at once, and the run fails (exit code 1) at the end
      onAbort: (board, error) => process.stderr.write(`sim: ${board.id} aborted: ${error.stack ?? String(error)}\n`),
      onStarted: progress,
    });
  } catch (error) {
    process.stderr.write(`sim: cannot start: ${(error as Error).message}\n`);
    return 2;
  }
  view = new LiveView(sim, out);
  view.print([...headerLines(sim, options.broker === undefined, options.caFile), options.duration === undefined ? "Ctrl-C stops." : `Stopping after ${options.duration} s.`, ""]);
  for (const [board, status] of early) view.statusChanged(board, status);
  view.update();
  const redraw = setInterval(() => view!.update(), REDRAW_MS);

  const reason = await new Promise<string>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => resolve(signal === "SIGINT" ? "Ctrl-C" : signal);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    if (options.duration !== undefined) setTimeout(() => resolve(`${options.duration} s passed`), options.duration * 1000);
  });
  clearInterval(redraw);
  view.update();
  view.end();
  // a second Ctrl-C while stopping: leave at once
  process.once("SIGINT", () => process.exit(130));

  const seconds = view.seconds;
  const counts = totals(sim);
  const lines = ["", `summary (${reason}): ${summaryLine(sim, seconds)}`];
  lines.push(`  ${counts.everOnline}/${counts.boards} boards came online`);
  const listed = sim.boards.slice(0, 20);
  for (const board of listed) lines.push("  " + boardLine(board, false));
  if (listed.length < sim.boards.length) lines.push(`  ... and ${sim.boards.length - listed.length} more`);
  view.print(lines);

  const stopping = sim.stop();
  const stopped = await Promise.race([stopping.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), STOP_TIMEOUT).unref())]);
  const offline = sim.boards.filter((board) => board.status === "offline").length;
  view.print([stopped ? `stopped: ${offline}/${sim.boards.length} boards offline` : `stopping took over ${STOP_TIMEOUT / 1000} s: leaving anyway`]);
  if (sim.aborted.length > 0) {
    process.stderr.write(`sim: ${sim.aborted.length} board(s) aborted (an exception escaped an IO callback): ${sim.aborted.map((a) => a.board.id).join(", ")}\n`);
    return 1;
  }
  if (counts.everOnline < counts.boards) {
    process.stderr.write(`sim: ${counts.boards - counts.everOnline} board(s) never came online: is the broker at ${sim.brokerUrl} reachable?\n`);
    const never = sim.boards.find((board) => !board.everOnline);
    const error = never?.log.findLast((line) => line.startsWith("mqtt "));
    const reason = never?.log.findLast((line) => line.startsWith("network: "));
    if (never !== undefined && error !== undefined) {
      process.stderr.write(`  the last error of ${never.id}: ${error}${reason === undefined ? "" : ` (${reason})`}\n`);
    }
    return 1;
  }
  return 0;
}

/**
 * The progress of a start of more than one batch (many boards, or XS workers, which start
 * a few at a time): one line updated in place on a terminal, else a line every 2 s.
 * undefined for a start of one batch.
 */
function startProgress(out: NodeJS.WriteStream, devices: number, engine: Engine): ((started: number, total: number) => void) | undefined {
  if (devices <= START_BATCH[engine]) return undefined; // one batch
  const tty = out.isTTY === true;
  const began = Date.now();
  let printed = 0;
  out.write(`starting ${devices} boards on the ${engine} engine ...\n`);
  return (started, total) => {
    const now = Date.now();
    const done = started === total;
    if (!tty && !done && now - printed < 2_000) return;
    printed = now;
    const line = `  ${started}/${total} started (${((now - began) / 1000).toFixed(1)} s)`;
    out.write(tty ? `\r${line}${done ? "\n" : ""}` : line + "\n");
  };
}

process.exitCode = await main();
// sockets and workers are closed; anything a library left armed must not keep the process alive
setTimeout(() => process.exit(), 200).unref();
