/*
 * What the simulator CLI shows: the header (broker, how to watch and switch with the
 * mosquitto clients), a live block of lines redrawn in place on a terminal (ANSI: cursor
 * up, clear line) with each board's connection state ("no wifi" while its Wi-Fi is down),
 * actuator states, latest readings, Wi-Fi signal and message counts, and the summary at the end. When stdout is not a terminal it prints a
 * line per status change (for up to LINE_BOARDS boards) and a periodic summary instead,
 * naming connecting boards and their latest errors.
 * Formatting and writing only: it never changes a board. Node side only.
 */

import type { BoardStatus } from "../board.js";
import { latestError, shortError } from "./cli-errors.js";
import type { FleetBoard } from "../board.js";
import type { Simulator } from "../simulator.js";

/** Beyond this many boards, a non-terminal output gets summaries only, no line per status change. */
const LINE_BOARDS = 50;
/** At most this many board lines in the live block. */
const MAX_BOARD_LINES = 20;

export interface Totals {
  boards: number;
  online: number;
  everOnline: number;
  sent: number;
  received: number;
  readings: number;
  states: number;
  discovery: number;
  commands: number;
}

export function totals(sim: Simulator<FleetBoard>): Totals {
  const sum: Totals = { boards: sim.boards.length, online: 0, everOnline: 0, sent: 0, received: 0, readings: 0, states: 0, discovery: 0, commands: 0 };
  for (const board of sim.boards) {
    if (board.status === "online") sum.online++;
    if (board.everOnline) sum.everOnline++;
    const messages = board.messages;
    sum.sent += messages.sent;
    sum.received += messages.received;
    const counts = board.counts;
    sum.readings += counts.readingsPublished;
    sum.states += counts.statesPublished;
    sum.discovery += counts.discoveryPublished;
    sum.commands += counts.commands;
  }
  return sum;
}

/** The lines printed once at start. */
export function headerLines(sim: Simulator<FleetBoard>, embedded: boolean, caFile: string | undefined): string[] {
  const url = new URL(sim.brokerUrl);
  const tls = url.protocol === "mqtts:";
  const port = url.port === "" ? (tls ? "8883" : "1883") : url.port;
  const cafile = tls ? ` --cafile ${caFile ?? "<ca.pem>"}` : "";
  const first = sim.boards[0];
  const count = sim.boards.length;
  const which = count === sim.devices ? `${count} board${count === 1 ? "" : "s"}` : `boards ${sim.range.first} to ${sim.range.last} of ${sim.devices}`;
  const workers = Math.min(sim.workers, count);
  const lines = [
    `xs-mqtt simulator: ${which} on the ${sim.engine} engine` +
      `${workers === 0 ? "" : ` (worker processes: ${workers})`}, ` +
      `broker ${sim.brokerUrl}${embedded ? " (embedded aedes)" : ""}, seed ${sim.seed}`,
  ];
  if (first !== undefined) {
    const base = `-h ${url.hostname} -p ${port}${cafile}`;
    lines.push(`watch the traffic:  mosquitto_sub ${base} -t '${first.config.prefix}/#' -v`);
    const actuator = first.config.actuators.find((a) => a.id === "relay") ?? first.config.actuators[0];
    if (actuator !== undefined) lines.push(`switch ${actuator.id === "relay" ? "a relay" : actuator.id}:     mosquitto_pub ${base} -t ${first.topics.command(actuator.id)} -m ON`);
  }
  return lines;
}

export function summaryLine(sim: Simulator<FleetBoard>, seconds: number): string {
  return summaryParts(sim, seconds).join(", ");
}

function summaryParts(sim: Simulator<FleetBoard>, seconds: number): string[] {
  const sum = totals(sim);
  return [`${seconds.toFixed(1)} s: online ${sum.online}/${sum.boards}`,
    `published ${sum.sent} (readings ${sum.readings}, states ${sum.states}, discovery ${sum.discovery})`,
    `received ${sum.received} (commands ${sum.commands})`];
}

/**
 * One board: id, status ("no wifi" while its Wi-Fi is down), actuator states, then its
 * readings, Wi-Fi signal and message counts, or for a connecting board its latest error. Within `width` columns the readings (or the error) are
 * cut; the actuator states never are: when they alone do not fit, they go on onto more lines.
 */
export function boardLines(board: FleetBoard, color: boolean, width = Infinity): string[] {
  const actuators = board.actuators.map((a) => `${a.id} ${a.state}`);
  const wifi = board.wifi;
  const status = wifi.up || board.status === "aborted" ? board.status : "no wifi";
  const head = `${board.id.padEnd(10)} ${status.padEnd(10)} `;
  const error = board.status === "connecting" ? latestError(board.log) : undefined;
  let rest: string;
  if (error !== undefined) {
    rest = `last error: ${shortError(error)}`;
  } else {
    const readings = board.readings.map((r) => `${r.key} ${r.value === null ? "-" : r.value}${r.unit === undefined ? "" : " " + r.unit}`).join(", ");
    const signal = wifi.up ? `wifi ${wifi.rssi()} dBm` : "wifi down";
    rest = `${readings || "no readings"} | ${signal} | sent ${board.messages.sent}, received ${board.messages.received}`;
  }
  const lines = pack(head, actuators.length === 0 ? ["no actuators"] : actuators, width, " ".repeat(22));
  const last = lines.length - 1;
  const room = width - 1 - lines[last].length - 3;
  if (room >= 8) lines[last] += ` | ${room >= rest.length ? rest : rest.slice(0, room - 1) + "…"}`;
  lines[0] = lines[0].replace(status.padEnd(10), paint(status.padEnd(10), wifi.up ? board.status : "offline", color));
  return lines;
}

/** Items joined by ", " after `first`, onto as many lines as `width` needs (continuations indented). */
function pack(first: string, items: readonly string[], width: number, indent = " ".repeat(first.length)): string[] {
  const lines = [first];
  for (let i = 0; i < items.length; i++) {
    const item = items[i] + (i < items.length - 1 ? "," : "");
    const at = lines.length - 1;
    const fresh = lines[at] === first || lines[at] === indent;
    if (fresh || lines[at].length + 1 + item.length <= width - 1) lines[at] += (fresh ? "" : " ") + item;
    else lines.push(indent + item);
  }
  return lines;
}

function paint(text: string, status: BoardStatus, color: boolean): string {
  if (!color) return text;
  const code = status === "online" ? 32 : status === "offline" || status === "aborted" ? 31 : 33;
  return `\x1b[${code}m${text}\x1b[0m`;
}

/** How many connecting boards with an error a non-terminal summary names. */
const FAILING_LINES = 3;

/** For a non-terminal output: the connecting boards that have an error, each with its latest. */
function failingLines(boards: readonly FleetBoard[]): string[] {
  const lines: string[] = [];
  let more = 0;
  for (const board of boards) {
    if (board.status !== "connecting") continue;
    const error = latestError(board.log);
    if (error === undefined) continue;
    if (lines.length < FAILING_LINES) lines.push(`  ${board.id} connecting, last error: ${shortError(error)}`);
    else more++;
  }
  if (more > 0) lines.push(`  ... and ${more} more connecting board${more === 1 ? "" : "s"} with an error`);
  return lines;
}

/** The live view: call update() as often as wanted, statusChanged() on every change, end() before the summary. */
export class LiveView {
  readonly #sim: Simulator<FleetBoard>;
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #start = Date.now();
  #drawn = 0;
  #lastSummary = 0;
  #ended = false;

  constructor(sim: Simulator<FleetBoard>, out: NodeJS.WriteStream, summaryEvery = 5_000) {
    this.#sim = sim;
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#summaryEvery = summaryEvery;
  }

  readonly #summaryEvery: number;

  get seconds(): number {
    return (Date.now() - this.#start) / 1000;
  }

  print(lines: string[]): void {
    this.#out.write(lines.join("\n") + "\n");
  }

  statusChanged(board: FleetBoard, status: BoardStatus): void {
    if (this.#ended || this.#tty || this.#sim.boards.length > LINE_BOARDS) return;
    this.#out.write(`${this.seconds.toFixed(1)} s: ${board.id} ${status}\n`);
  }

  update(): void {
    if (this.#ended) return;
    if (!this.#tty) {
      if (Date.now() - this.#lastSummary >= this.#summaryEvery) {
        this.#lastSummary = Date.now();
        this.#out.write(summaryLine(this.#sim, this.seconds) + "\n" + failingLines(this.#sim.boards).map((line) => line + "\n").join(""));
      }
      return;
    }
    const rows = this.#out.rows ?? 24;
    const boards = this.#sim.boards;
    const shown = Math.max(0, Math.min(boards.length, MAX_BOARD_LINES, rows - 8));
    const width = this.#out.columns ?? 80;
    const lines = pack("", summaryParts(this.#sim, this.seconds), width, "  ").map((line) => line.replace(/,$/, ""));
    for (let i = 0; i < shown; i++) lines.push(...boardLines(boards[i], true, width));
    if (shown < boards.length) {
      const rest = boards.slice(shown);
      lines.push(`... and ${rest.length} more board${rest.length === 1 ? "" : "s"}: ${rest.filter((b) => b.status === "online").length} online`);
    }
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    for (const line of lines) text += `\x1b[2K${clip(line, width)}\n`;
    for (let i = lines.length; i < this.#drawn; i++) text += "\x1b[2K\n"; // a shorter block than last time
    const drawn = Math.max(lines.length, this.#drawn);
    if (drawn > lines.length) text += `\x1b[${drawn - lines.length}A`;
    this.#drawn = lines.length;
    this.#out.write(text);
  }

  /** Stops redrawing: what follows is printed below the block. */
  end(): void {
    this.#ended = true;
  }
}

/** Cuts a line to the terminal's width, not counting ANSI colour codes. */
function clip(line: string, width: number): string {
  let visible = 0;
  let out = "";
  for (let at = 0; at < line.length; at++) {
    if (line[at] === "\x1b") {
      const end = line.indexOf("m", at);
      out += line.slice(at, end + 1);
      at = end;
      continue;
    }
    if (visible >= width - 1) break;
    out += line[at];
    visible++;
  }
  return out + (line.includes("\x1b") ? "\x1b[0m" : "");
}
