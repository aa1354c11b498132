/*
 * A real mosquitto for the broker suites: the one $MOSQUITTO names, else the first on the
 * PATH (mosquittoPath(); mosquitto_passwd likewise: $MOSQUITTO_PASSWD, next to mosquitto,
 * or on the PATH; never a fixed path). Started on a free loopback port with a config file
 * of its own in a temp dir (optional persistence, password file, ACL file), waited for
 * until it accepts connections, stopped with SIGTERM (SIGKILL after a timeout) and
 * restarted on the same port; kill() sends it a signal (a SIGKILL for the fault suite).
 * Every process started here is tracked; stopAllMosquittos() ends whatever is left (call it
 * in afterAll). Test side only.
 */

import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { promisify } from "node:util";
import { accepts, freePort, sleep } from "./helpers.js";
import type { BrokerOptions, TestBroker } from "./helpers.js";

type Env = Readonly<Record<string, string | undefined>>;

/** An executable regular file at this path. */
function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` in the PATH's directories (empty entries and relative ones skipped). */
function onPath(name: string, env: Env): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (isAbsolute(dir) && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * The mosquitto to run: $MOSQUITTO when set (it must be an executable file), else the first
 * `mosquitto` on the PATH. Throws naming both when there is none.
 */
export function mosquittoPath(env: Env = process.env): string {
  const chosen = env.MOSQUITTO;
  if (chosen !== undefined && chosen !== "") {
    if (!isExecutable(chosen)) throw new Error(`$MOSQUITTO is ${chosen}, which is not an executable file`);
    return chosen;
  }
  const found = onPath("mosquitto", env);
  if (found !== undefined) return found;
  throw new Error(
    "mosquitto was not found: it is not on the PATH, and $MOSQUITTO is not set. Install it " +
      "(Debian: apt-get install mosquitto), then add its directory to the PATH (Debian puts it " +
      "in an sbin directory, which a non-root PATH may lack) or set MOSQUITTO to its path",
  );
}

/**
 * mosquitto_passwd: $MOSQUITTO_PASSWD when set, else the one next to the mosquitto in use
 * (a source build installs both in one place), else the first on the PATH. Throws naming
 * all three when there is none.
 */
export function mosquittoPasswdPath(env: Env = process.env): string {
  const chosen = env.MOSQUITTO_PASSWD;
  if (chosen !== undefined && chosen !== "") {
    if (!isExecutable(chosen)) throw new Error(`$MOSQUITTO_PASSWD is ${chosen}, which is not an executable file`);
    return chosen;
  }
  const beside = join(dirname(mosquittoPath(env)), "mosquitto_passwd");
  if (isExecutable(beside)) return beside;
  const found = onPath("mosquitto_passwd", env);
  if (found !== undefined) return found;
  throw new Error(
    `mosquitto_passwd was not found: not next to ${mosquittoPath(env)}, not on the PATH, and ` +
      "$MOSQUITTO_PASSWD is not set (Debian: apt-get install mosquitto)",
  );
}

const START_TIMEOUT = 5_000;
const STOP_TIMEOUT = 3_000;

export interface MosquittoOptions extends BrokerOptions {
  /** The ACL file's text (acl_file). */
  acl?: string;
  /** More config lines, appended as they are. */
  config?: string[];
}

const running = new Set<Mosquitto>();
const children = new Set<ChildProcess>();
// a worker that ends without its afterAll (a crash, a kill) must not leave brokers behind
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

export class Mosquitto implements TestBroker {
  readonly name = "mosquitto";
  readonly retainedSysTopic = "$SYS/broker/version";
  readonly port: number;
  readonly dir: string;
  readonly configFile: string;
  /** The mosquitto that runs (mosquittoPath()). */
  readonly executable: string;
  #process: ChildProcess | undefined = undefined;
  #exited: Promise<void> = Promise.resolve();
  #log = "";

  private constructor(dir: string, port: number, executable: string) {
    this.dir = dir;
    this.port = port;
    this.executable = executable;
    this.configFile = join(dir, "mosquitto.conf");
  }

  /** Writes the config and starts mosquitto; resolves once it accepts connections. */
  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const executable = mosquittoPath();
    const dir = await mkdtemp(join(tmpdir(), "xs-mqtt-mosquitto-"));
    const broker = new Mosquitto(dir, await freePort(), executable);
    const lines = [
      "listener " + broker.port + " 127.0.0.1",
      // run as root, mosquitto would switch to the user "mosquitto", who cannot read this temp dir
      "user " + userInfo().username,
      "log_dest stdout",
      "log_type error",
      "log_type warning",
      "log_type notice",
    ];
    if (options.users !== undefined) {
      const file = join(dir, "passwords");
      const passwd = mosquittoPasswdPath();
      let first = true;
      for (const [user, password] of Object.entries(options.users)) {
        const args = first ? ["-c", "-b", file, user, password] : ["-b", file, user, password];
        await promisify(execFile)(passwd, args);
        first = false;
      }
      lines.push("allow_anonymous false", "password_file " + file);
    } else {
      lines.push("allow_anonymous true");
    }
    if (options.acl !== undefined) {
      const file = join(dir, "acl");
      await writeFile(file, options.acl);
      lines.push("acl_file " + file);
    }
    if (options.persistence === true) {
      lines.push("persistence true", "persistence_location " + dir + "/", "autosave_interval 0");
    }
    lines.push(...(options.config ?? []));
    await writeFile(broker.configFile, lines.join("\n") + "\n");
    running.add(broker);
    try {
      await broker.start();
    } catch (error) {
      await broker.close();
      throw error;
    }
    return broker;
  }

  /** What mosquitto printed (errors, warnings, notices), for failure messages. */
  get log(): string {
    return this.#log;
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  /** Starts (again) on the same port; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.#process !== undefined) return;
    const child = spawn(this.executable, ["-c", this.configFile], { stdio: ["ignore", "pipe", "pipe"] });
    this.#process = child;
    children.add(child);
    let exited = false;
    this.#exited = new Promise((resolve) => {
      child.once("exit", () => {
        exited = true;
        children.delete(child);
        if (this.#process === child) this.#process = undefined;
        resolve();
      });
    });
    const keep = (data: Buffer) => {
      if (this.#log.length < 64_000) this.#log += data.toString();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.once("error", (e) => keep(Buffer.from(String(e) + "\n")));
    const until = Date.now() + START_TIMEOUT;
    for (;;) {
      if (exited) throw new Error("mosquitto exited at start:\n" + this.#log);
      if (await accepts(this.port)) return;
      if (Date.now() >= until) {
        await this.stop();
        throw new Error("mosquitto did not accept connections on port " + this.port + " within " + START_TIMEOUT + " ms:\n" + this.#log);
      }
      await sleep(20);
    }
  }

  /**
   * Sends `signal` to the running mosquitto process (SIGKILL: it dies at once, without
   * saving); false when none runs. `running` turns false once it has exited.
   */
  kill(signal: NodeJS.Signals): boolean {
    return this.#process?.kill(signal) ?? false;
  }

  /** SIGTERM (mosquitto saves its persistence file), SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const child = this.#process;
    if (child === undefined) return;
    child.kill("SIGTERM");
    const stopped = await Promise.race([this.#exited.then(() => true), sleep(STOP_TIMEOUT).then(() => false)]);
    if (!stopped) {
      child.kill("SIGKILL");
      await Promise.race([this.#exited, sleep(STOP_TIMEOUT)]);
    }
    this.#process = undefined;
  }

  /** Stops it and removes its temp dir. */
  async close(): Promise<void> {
    await this.stop();
    running.delete(this);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Stops every mosquitto started here and not yet closed. */
export async function stopAllMosquittos(): Promise<void> {
  await Promise.all([...running].map((broker) => broker.close()));
}
