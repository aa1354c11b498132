/*
 * The simulator CLI's options: the help text, the parser and every check made before
 * anything starts (ranges, the broker URL, files), with messages that name the option and
 * what it accepts. Also the hint for `npm start --devices 4` without the `--`. Reads the
 * files it is given; starts nothing and prints nothing. Node side only.
 */

import { access, readFile } from "node:fs/promises";
import type { FirmwareConfig } from "../../device/app/config.js";
import { MAX_DEVICES, MAX_RTT, MAX_WORKERS, parseBrokerUrl } from "../simulator.js";
import type { Engine } from "../simulator.js";
import { defaultWorkers, parseShard, rangeSize, shardFromEnvironment, sliceRange } from "../shards/slice.js";
import type { Shard } from "../shards/slice.js";

/** The longest --duration: a Node timer fires at once beyond 2^31-1 ms. */
const MAX_DURATION = 2_147_483;
const DURATION_TEXT = `${MAX_DURATION} (24 days)`;
/** Seeds wrap at 32 bits (simulator.ts boardSeed). */
const MAX_SEED = 0xffff_ffff;

export const HELP = `Simulated xs-mqtt sensor boards (the built firmware, dist/firmware.js)
against an MQTT broker.

Usage: npm start -- [options]        (or: node dist/sim.mjs [options])

  --devices N      boards to simulate, node ids board-1 ... board-N
                   (1 to ${MAX_DEVICES}, default 3): the whole fleet with --shard
  --workers N      worker processes to spread the boards over, each with its
                   own event loop and open files (0 to ${MAX_WORKERS}; default the
                   cores, at most one per board; 0: all in this process)
  --shard I/N      run slice I (from 1) of N of the --devices boards, with the
                   board numbers, ids and seeds of the whole fleet (needs
                   --broker); default from a Kubernetes Indexed Job's
                   JOB_COMPLETION_INDEX (from 0) and JOB_COMPLETIONS
  --broker URL     mqtt://host:port or mqtts://host:port (default: an embedded
                   aedes broker on a free 127.0.0.1 port)
  --protocol V     4 (MQTT 3.1.1, default) or 5 (MQTT 5.0; needs --broker: the
                   embedded aedes speaks 3.1.1 only)
  --engine E       node (default: all boards in this process) or xs (each board
                   inside its own real XS engine, xsnap; mqtt:// brokers only)
  --duration S     stop after S seconds (above 0, at most ${MAX_DURATION}), print a
                   summary and exit (for CI)
  --seed N         seed of the simulated chips' values and the reconnect jitter
                   (0 to ${MAX_SEED}, default 1)
  --rtt MS         round-trip time of every board's link, ms (0 to ${MAX_RTT},
                   default 0): the TCP handshake takes one, bytes half of one
                   each way
  --config FILE    JSON firmware configuration overrides for every board (e.g.
                   {"sampleInterval": 5000}); a nodeId there is a prefix:
                   <nodeId>-<n>
  --ca FILE        PEM CA certificate to trust for an mqtts:// broker
  --firmware FILE  the built firmware bundle to run (default dist/firmware.js)
  --http PORT      serve the live dashboard on this port (0 to 65535; default 0:
                   a free port; its URL is printed in the header)
  --http-host H    the address the dashboard listens on (default 127.0.0.1;
                   another exposes the boards' controls to the network: warned)
  --no-http        no dashboard
  --verbose        print the boards' log lines
  --help           this text

Ctrl-C stops the boards cleanly (each publishes "offline") and exits.
A board whose IO callback lets an exception escape aborts (as fxAbort resets a
real board): it stops at once (its broker publishes its will), and "aborted" is
printed on stderr.
Exit status: 0 when every board came online, 1 when one never did or one
aborted, 2 for bad options or a failed start.`;

export interface CliOptions {
  /** The whole fleet. */
  devices: number;
  workers: number;
  /** This process's slice of the fleet, when sharded. */
  shard: Shard | undefined;
  broker: string | undefined;
  engine: Engine;
  duration: number | undefined;
  seed: number;
  rtt: number;
  config: Partial<FirmwareConfig> | undefined;
  ca: string | undefined;
  caFile: string | undefined;
  firmware: string | undefined;
  /** The dashboard's port (0: a free one), or undefined for none (--no-http). */
  http: number | undefined;
  httpHost: string;
  verbose: boolean;
}

/** An option: its value's name in messages (none: a flag) and what it accepts. */
interface Spec {
  value?: string;
  accepts?: string;
}

const SPECS: Readonly<Record<string, Spec>> = {
  devices: { value: "N", accepts: `a whole number from 1 to ${MAX_DEVICES}` },
  workers: { value: "N", accepts: `a whole number from 0 to ${MAX_WORKERS}` },
  shard: { value: "I/N", accepts: "I/N: slice I (a whole number from 1 to N) of N, as in 2/3" },
  broker: { value: "URL", accepts: "mqtt://host:port or mqtts://host:port" },
  protocol: { value: "V", accepts: "4 (MQTT 3.1.1) or 5 (MQTT 5.0)" },
  engine: { value: "E", accepts: "node or xs" },
  duration: { value: "S", accepts: `a number of seconds above 0, at most ${DURATION_TEXT}` },
  seed: { value: "N", accepts: `a whole number from 0 to ${MAX_SEED}` },
  rtt: { value: "MS", accepts: `a whole number of ms from 0 to ${MAX_RTT}` },
  config: { value: "FILE", accepts: "a JSON file of firmware settings" },
  ca: { value: "FILE", accepts: "a PEM CA certificate file" },
  firmware: { value: "FILE", accepts: "a built firmware bundle" },
  http: { value: "PORT", accepts: "a port number from 0 (a free one) to 65535" },
  "http-host": { value: "HOST", accepts: "an address or host name to listen on, e.g. 127.0.0.1 or 0.0.0.0" },
  "no-http": {},
  verbose: {},
  help: {},
};
const NAMES = Object.keys(SPECS);

/** A mistake in the options: exit status 2, the message as it is. */
export class OptionError extends Error {}

/**
 * The options npm kept for itself: `npm start --devices 4` (no `--`) makes npm take
 * `--devices` as its own setting (npm_config_devices, "true" when the value followed as a
 * separate word, which npm then passes on alone). undefined when run otherwise.
 */
export function npmHint(args: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const event = env.npm_lifecycle_event;
  if (event === undefined) return undefined;
  // npm knows --ca and --verbose itself: a user's .npmrc may set them, so only these tell
  const kept = ["devices", "workers", "shard", "broker", "protocol", "engine", "duration", "seed", "rtt", "config", "firmware", "http"].filter((name) => env[`npm_config_${name}`] !== undefined);
  if (kept.length === 0) return undefined;
  const loose = kept.filter((name) => env[`npm_config_${name}`] === "true");
  const words = kept.map((name) => {
    const value = env[`npm_config_${name}`]!;
    if (value !== "true") return `--${name} ${value}`;
    // the value went on as a separate argument: certain only when one option lost it
    return `--${name} ${loose.length === 1 && args.length === 1 ? args[0] : `<${SPECS[name].value}>`}`;
  });
  const command = event === "start" ? "npm start" : `npm run ${event}`;
  return `npm took ${kept.map((name) => `--${name}`).join(", ")} for itself: npm passes options on only after a "--".\n` +
    `Use: ${command} -- ${words.join(" ")}`;
}

/** The words of the command line: a name and its value (undefined for a flag), in order. */
function split(argv: readonly string[]): [string, string | undefined][] {
  const found: [string, string | undefined][] = [];
  for (let at = 0; at < argv.length; at++) {
    const word = argv[at];
    if (word === "-h") {
      found.push(["help", undefined]);
      continue;
    }
    if (!word.startsWith("--")) {
      throw new OptionError(word.startsWith("-") && !isNumber(word)
        ? unknown(word)
        : `unexpected argument ${JSON.stringify(word)}: every value follows its option, as in --devices 4 (see --help)`);
    }
    const equals = word.indexOf("=");
    const name = word.slice(2, equals < 0 ? undefined : equals);
    const spec = SPECS[name];
    if (spec === undefined) throw new OptionError(unknown(word.slice(0, equals < 0 ? undefined : equals)));
    if (spec.value === undefined) {
      if (equals >= 0) throw new OptionError(`--${name} takes no value (not ${JSON.stringify(word.slice(equals + 1))})`);
      found.push([name, undefined]);
      continue;
    }
    let value: string | undefined = equals >= 0 ? word.slice(equals + 1) : argv[at + 1];
    // a negative number is a value (refused by its range below), another option is not
    if (equals < 0 && (value === undefined || (value.startsWith("-") && !isNumber(value)))) value = undefined;
    else if (equals < 0) at++;
    if (value === undefined) throw new OptionError(`--${name} needs a value: ${spec.accepts}, as in --${name} ${spec.value}`);
    found.push([name, value]);
  }
  return found;
}

function isNumber(word: string): boolean {
  return word.trim() !== "" && !Number.isNaN(Number(word));
}

function unknown(word: string): string {
  const typed = word.replace(/^-+/, "");
  const near = NAMES.find((name) => distance(typed, name) <= (typed.length < 5 ? 1 : 2)) ??
    (typed.length >= 2 ? NAMES.find((name) => name.startsWith(typed)) : undefined);
  return `unknown option ${word}${near === undefined ? "." : `: did you mean --${near}?`} The options are ${NAMES.map((name) => `--${name}`).join(", ")} (see --help).`;
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next.push(Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length];
}

/**
 * Parses and checks the command line (and, without --shard, a Kubernetes Indexed Job's
 * environment); throws an OptionError naming the option for any mistake.
 */
export async function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliOptions | "help"> {
  const values = new Map<string, string | undefined>();
  for (const [name, value] of split(argv)) {
    if (values.has(name) && name !== "help") throw new OptionError(`--${name} is given twice: give it once`);
    values.set(name, value);
  }
  if (values.has("help")) return "help";
  const text = (name: string): string | undefined => values.get(name);
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const given = text(name);
    if (given === undefined) return fallback;
    const value = Number(given);
    if (!Number.isInteger(value) || value < min || value > max || given.trim() === "") {
      throw new OptionError(`--${name} must be ${SPECS[name].accepts}, not ${JSON.stringify(given)}`);
    }
    return value;
  };
  const devices = number("devices", 3, 1, MAX_DEVICES);
  const seed = number("seed", 1, 0, MAX_SEED);
  const rtt = number("rtt", 0, 0, MAX_RTT);
  const engine = text("engine") ?? "node";
  if (engine !== "node" && engine !== "xs") throw new OptionError(`--engine must be ${SPECS.engine.accepts}, not ${JSON.stringify(engine)}`);
  let duration: number | undefined;
  const durationText = text("duration");
  if (durationText !== undefined) {
    duration = Number(durationText);
    if (!(duration > 0 && duration <= MAX_DURATION) || durationText.trim() === "") {
      throw new OptionError(`--duration must be ${SPECS.duration.accepts}, not ${JSON.stringify(durationText)}`);
    }
  }
  const broker = text("broker");
  if (broker !== undefined) checkBroker(broker, engine);
  const shard = readShard(text("shard"), env, devices, broker);
  const boards = shard === undefined ? devices : rangeSize(sliceRange({ first: 1, last: devices }, shard));
  const workers = number("workers", defaultWorkers(boards), 0, MAX_WORKERS);
  const protocol = number("protocol", 4, 4, 5);
  if (protocol === 5 && broker === undefined) throw new OptionError("--protocol 5 needs a --broker that speaks MQTT 5.0 (the embedded aedes speaks 3.1.1 only)");
  const caFile = text("ca");
  if (caFile !== undefined && !broker?.startsWith("mqtts:")) {
    throw new OptionError("--ca is for an mqtts:// --broker (the embedded broker and mqtt:// brokers use no TLS)");
  }
  if (values.has("no-http") && (values.has("http") || values.has("http-host"))) {
    throw new OptionError(`--no-http turns the dashboard off: leave out --${values.has("http") ? "http" : "http-host"}`);
  }
  const http = number("http", 0, 0, 65535);
  const httpHost = text("http-host") ?? "127.0.0.1";
  if (httpHost.trim() === "") throw new OptionError(`--http-host must be ${SPECS["http-host"].accepts}`);
  const firmware = text("firmware");
  if (firmware !== undefined) {
    await access(firmware).catch((error: Error) => {
      throw new OptionError(`--firmware: cannot read ${firmware}: ${error.message}`);
    });
  }
  return {
    devices,
    workers,
    shard,
    broker,
    engine,
    duration,
    seed,
    rtt,
    config: withProtocol(await readConfig(text("config")), protocol),
    ca: caFile === undefined ? undefined : await readFile(caFile, "utf8").catch((error: Error) => {
      throw new OptionError(`--ca: cannot read ${caFile}: ${error.message}`);
    }),
    caFile,
    firmware,
    http: values.has("no-http") ? undefined : http,
    httpHost,
    verbose: values.has("verbose"),
  };
}

/** --shard I/N, else the Indexed Job's environment; checked against the fleet and the broker. */
function readShard(given: string | undefined, env: NodeJS.ProcessEnv, devices: number, broker: string | undefined): Shard | undefined {
  let shard: Shard | undefined;
  let source = "--shard";
  if (given !== undefined) {
    shard = parseShard(given);
    if (shard === undefined) throw new OptionError(`--shard must be ${SPECS.shard.accepts}, not ${JSON.stringify(given)}`);
  } else {
    const fromJob = shardFromEnvironment(env);
    if (fromJob instanceof Error) throw new OptionError(fromJob.message);
    shard = fromJob;
    source = "JOB_COMPLETION_INDEX and JOB_COMPLETIONS";
  }
  if (shard === undefined) return undefined;
  if (shard.count > devices) throw new OptionError(`${source}: ${shard.count} shards of ${devices} boards would leave shards without a board: give --devices at least ${shard.count}`);
  if (broker === undefined && shard.count > 1) {
    throw new OptionError(`${source}: the shards of a fleet share one broker: give its --broker (each shard would start an embedded broker of its own)`);
  }
  return shard;
}

/** The configuration overrides with the broker's protocol version (5) merged in; as they are for 4. */
function withProtocol(config: Partial<FirmwareConfig> | undefined, protocol: number): Partial<FirmwareConfig> | undefined {
  if (protocol === 4) return config;
  return { ...config, broker: { ...config?.broker, protocolVersion: protocol } as FirmwareConfig["broker"] };
}

function checkBroker(broker: string, engine: Engine): void {
  let address: { port: number; tls: boolean };
  try {
    address = parseBrokerUrl(broker);
  } catch (error) {
    throw new OptionError(`--${(error as Error).message}`);
  }
  if (!(address.port >= 1 && address.port <= 65535)) throw new OptionError(`--broker: the port must be from 1 to 65535, not ${address.port}`);
  if (address.tls && engine === "xs") throw new OptionError("--engine xs bridges TCP only: use an mqtt:// --broker with it, or --engine node for mqtts://");
}

async function readConfig(file: string | undefined): Promise<Partial<FirmwareConfig> | undefined> {
  if (file === undefined) return undefined;
  const text = await readFile(file, "utf8").catch((error: Error) => {
    throw new OptionError(`--config: cannot read ${file}: ${error.message}`);
  });
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new OptionError(`--config: ${file} is not JSON: ${(error as Error).message}`);
  }
  if (config === null || typeof config !== "object" || Array.isArray(config)) throw new OptionError(`--config: ${file} must hold a JSON object`);
  return config as Partial<FirmwareConfig>;
}
