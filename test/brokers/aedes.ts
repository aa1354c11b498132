/*
 * An in-process aedes 1.x broker for the broker suites: `Aedes.createBroker()` behind a
 * node:net server on a loopback port, optional user/password check (CONNACK 4 for a wrong
 * one), stop and start again on the same port, close. Every broker made here is tracked;
 * closeAllAedes() ends whatever is left (call it in afterAll). Test side only.
 */

import * as net from "node:net";
import { Aedes } from "aedes";
import type { AuthenticateError } from "aedes";
import { listenLoopback } from "./helpers.js";
import type { BrokerOptions, TestBroker } from "./helpers.js";

/** CONNACK return code 4, "bad user name or password". */
const BAD_USERNAME_OR_PASSWORD = 4;

const running = new Set<AedesBroker>();

export class AedesBroker implements TestBroker {
  readonly name = "aedes";
  readonly retainedSysTopic = undefined;
  readonly #options: BrokerOptions;
  #port = 0;
  #broker: Aedes | undefined = undefined;
  #server: net.Server | undefined = undefined;
  readonly #connections = new Set<net.Socket>();

  private constructor(options: BrokerOptions) {
    this.#options = options;
  }

  /** Starts a broker on a free loopback port. (Sessions live in memory: a restart loses them.) */
  static async start(options: BrokerOptions = {}): Promise<AedesBroker> {
    const broker = new AedesBroker(options);
    running.add(broker);
    try {
      await broker.start();
    } catch (error) {
      await broker.close();
      throw error;
    }
    return broker;
  }

  get port(): number {
    return this.#port;
  }

  /** The aedes instance now running (for its events), if any. */
  get aedes(): Aedes | undefined {
    return this.#broker;
  }

  async start(): Promise<void> {
    if (this.#broker !== undefined) return;
    const users = this.#options.users;
    // (an `authenticate: undefined` would replace aedes's default handler: leave the key out)
    const broker = await Aedes.createBroker(users === undefined ? {} : {
      authenticate: (_client, username, password, done) => {
        if (username !== undefined && password !== undefined && users[username] === password.toString()) {
          done(null, true);
          return;
        }
        const error = new Error("bad user name or password") as AuthenticateError;
        error.returnCode = BAD_USERNAME_OR_PASSWORD;
        done(error, null);
      },
    });
    const server = net.createServer((socket) => {
      this.#connections.add(socket);
      socket.once("close", () => this.#connections.delete(socket));
      broker.handle(socket);
    });
    // port 0 the first time (the OS picks a free one), the same port after a stop
    this.#port = await listenLoopback(server, this.#port);
    this.#broker = broker;
    this.#server = server;
  }

  /** Stops listening, cuts every connection, closes the aedes instance. */
  async stop(): Promise<void> {
    const broker = this.#broker;
    const server = this.#server;
    this.#broker = undefined;
    this.#server = undefined;
    if (server !== undefined) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of this.#connections) socket.destroy();
      await closed;
    }
    if (broker !== undefined) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }

  async close(): Promise<void> {
    await this.stop();
    running.delete(this);
  }
}

/** Closes every aedes broker started here and not yet closed. */
export async function closeAllAedes(): Promise<void> {
  await Promise.all([...running].map((broker) => broker.close()));
}
