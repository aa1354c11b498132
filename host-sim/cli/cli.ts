/*
 * The simulator's command line (`npm start -- [options]`, or `node dist/sim.mjs`): starts
 * the embedded broker unless --broker is given, starts the boards on the chosen engine,
 * shows them live (cli-view.ts) and on the web dashboard (../dashboard/server.ts, unless
 * --no-http) and stops them cleanly on Ctrl-C or after --duration seconds: the dashboard
 * first, then the boards gracefully (each publishes "offline"), then the broker.
 * Exit status: 0 when every board came online, 1 when one never did, 2 for bad options or
 * a failed start. Node side only.
 */

import { explain, latestError } from "./cli-errors.js";
import { HELP, npmHint, OptionError, parseOptions } from "./cli-options.js";
import type { CliOptions } from "./cli-options.js";
import { boardLines, headerLines, LiveView, summaryLine, totals } from "./cli-view.js";
import { startDashboard } from "../dashboard/server.js";
import type { Dashboard } from "../dashboard/server.js";
import { simulatorSource } from "../dashboard/source.js";
import { openFileLimit } from "../open-files.js";
import { START_BATCH, startSimulator } from "../simulator.js";
import type { Engine, FleetBoard, Simulator } from "../simulator.js";
import { rangeSize, sliceRange } from "../shards/slice.js";
import type { BoardStatus } from "../board.js";

const REDRAW_MS = 500;
/** Open files a board needs in this process: its socket on Node; inside XS also its worker's pipes. */
const FILES_PER_BOARD: Record<Engine, number> = { node: 1, xs: 6 };
/** Open files for everything else (Node itself, the view, the broker's listener). */
const FILES_SPARE = 256;
/** How long the boards get to stop before the process exits anyway, ms. */
const STOP_TIMEOUT = 10_000;
/** --http-host values that keep the dashboard on this machine. */
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const hint = npmHint(args, process.env);
  if (hint !== undefined) {
    process.stderr.write(`sim: ${hint}\n`);
    return 2;
  }
  let options: CliOptions | "help";
  try {
    options = await parseOptions(args, process.env);
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    process.stderr.write(`sim: ${error.message}\n`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  const out = process.stdout;
  const range = sliceRange({ first: 1, last: options.devices }, options.shard ?? { index: 1, count: 1 });
  const boards = rangeSize(range);
  // a large fleet needs more open files than some systems allow: each process, its own boards
  const perProcess = Math.ceil(boards / Math.max(1, options.workers)) * FILES_PER_BOARD[options.engine];
  const brokerFiles = options.broker === undefined ? boards : 0;
  const files = (options.workers === 0 ? perProcess + brokerFiles : Math.max(perProcess, brokerFiles)) + FILES_SPARE;
  const limit = openFileLimit();
  if (limit !== undefined && limit < files) {
    const where = options.workers === 0 ? "this process may" : "each process (every worker, and this one for the embedded broker) may";
    process.stderr.write(`sim: warning: ${boards} boards need about ${files} open files and ${where} open ${limit}: ` +
      `boards past that will not connect. Raise the limit (ulimit -n; above the hard limit, as root), add --workers or start fewer --devices.\n`);
  }
  const progress = startProgress(out, boards, options.engine, options.workers);
  let view: LiveView | undefined;
  /** Status changes during start-up, shown once the view exists. */
  const early: [FleetBoard, BoardStatus][] = [];
  let sim: Simulator<FleetBoard>;
  try {
    sim = await startSimulator({
      broker: options.broker,
      devices: options.devices,
      shard: options.shard,
      workers: options.workers,
      engine: options.engine,
      seed: options.seed,
      rtt: options.rtt,
      config: options.config,
      ca: options.ca,
      firmware: options.firmware,
      onStatus: (board: FleetBoard, status: BoardStatus) => (view === undefined ? early.push([board, status]) : view.statusChanged(board, status)),
      onLog: options.verbose ? (board: FleetBoard, line: string) => out.write(`${board.id}: ${line}\n`) : undefined,
      // as a real board's reset: said at once, and the run fails (exit code 1) at the end
      onAbort: (board: FleetBoard, error: Error) => process.stderr.write(`sim: ${board.id} aborted: ${error.stack ?? String(error)}\n`),
      onStarted: progress,
    });
  } catch (error) {
    process.stderr.write(`sim: cannot start: ${(error as Error).message}\n`);
    return 2;
  }
  let dashboard: Dashboard | undefined;
  if (options.http !== undefined) {
    if (!LOOPBACK.has(options.httpHost)) {
      process.stderr.write(`sim: warning: the dashboard listens on ${options.httpHost}: anyone who reaches it can switch the boards' actuators, cut their network and restart the broker\n`);
    }
    try {
      dashboard = await startDashboard({ source: simulatorSource(sim, options.ca), port: options.http, host: options.httpHost });
    } catch (error) {
      process.stderr.write(`sim: cannot serve the dashboard on ${options.httpHost} port ${options.http}: ${(error as Error).message} ` +
        "(another --http port, or --no-http)\n");
      await sim.stop();
      return 2;
    }
  }
  view = new LiveView(sim, out);
  const header = headerLines(sim, options.broker === undefined, options.caFile);
  if (dashboard !== undefined) header.push(`dashboard:          ${dashboard.url}`);
  view.print([...header, options.duration === undefined ? "Ctrl-C stops." : `Stopping after ${options.duration} s.`, ""]);
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
  for (const board of listed) lines.push(...boardLines(board, false).map((line) => "  " + line));
  if (listed.length < sim.boards.length) lines.push(`  ... and ${sim.boards.length - listed.length} more`);
  view.print(lines);

  await dashboard?.close();
  const stopping = sim.stop();
  const stopped = await Promise.race([stopping.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), STOP_TIMEOUT).unref())]);
  const offline = sim.boards.filter((board) => board.status === "offline").length;
  view.print([stopped ? `stopped: ${offline}/${sim.boards.length} boards offline` : `stopping took over ${STOP_TIMEOUT / 1000} s: leaving anyway`]);
  if (sim.aborted.length > 0) {
    process.stderr.write(`sim: ${sim.aborted.length} board(s) aborted (an exception escaped an IO callback): ${sim.aborted.map((a) => a.board.id).join(", ")}\n`);
    return 1;
  }
  if (counts.everOnline < counts.boards) {
    const never = sim.boards.find((board) => !board.everOnline)!;
    const error = latestError(never.log);
    const explained = error === undefined ? undefined : explain(error, sim.brokerUrl);
    process.stderr.write(`sim: ${counts.boards - counts.everOnline} board(s) never came online: ${explained?.advice ?? `is the broker at ${sim.brokerUrl} reachable?`}\n`);
    if (explained !== undefined) process.stderr.write(`  the last error of ${never.id}: ${explained.text}\n`);
    return 1;
  }
  return 0;
}

/**
 * The progress of a start of more than one batch (many boards, or XS workers, which start
 * a few at a time): one line updated in place on a terminal, else a line every 2 s.
 * undefined for a start of one batch.
 */
function startProgress(out: NodeJS.WriteStream, devices: number, engine: Engine, workers: number): ((started: number, total: number) => void) | undefined {
  if (devices <= START_BATCH[engine] * Math.max(1, workers)) return undefined; // one batch
  const tty = out.isTTY === true;
  const began = Date.now();
  let printed = 0;
  out.write(`starting ${devices} boards on the ${engine} engine${workers === 0 ? "" : ` in ${Math.min(workers, devices)} worker processes`} ...\n`);
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
