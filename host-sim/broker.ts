/*
 * The simulator's embedded broker: an in-process aedes on a free 127.0.0.1 port, used when
 * no broker URL is given. restart() stops it and starts a fresh one on the same port (its
 * clients reconnect; retained messages and sessions are lost, as a broker without
 * persistence loses them); close() cuts every connection and stops it. Node side only;
 * it listens on loopback only.
 */

import * as net from "node:net";
import { Aedes } from "aedes";

export class EmbeddedBroker {
  readonly port: number;
  #aedes: Aedes;
  #server: net.Server;
  readonly #connections: Set<net.Socket>;
  #closing: Promise<void> | undefined;
  #restarting: Promise<void> | undefined;

  private constructor(listening: { aedes: Aedes; server: net.Server }, connections: Set<net.Socket>) {
    this.#aedes = listening.aedes;
    this.#server = listening.server;
    this.#connections = connections;
    this.port = (listening.server.address() as net.AddressInfo).port;
  }

  static async start(): Promise<EmbeddedBroker> {
    const connections = new Set<net.Socket>();
    return new EmbeddedBroker(await listen(0, connections), connections);
  }

  /** Stops the broker (every connection cut) and starts a fresh one on the same port. */
  restart(): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new Error("the embedded broker is stopped"));
    this.#restarting ??= (async () => {
      try {
        await this.#stop();
        const fresh = await listen(this.port, this.#connections);
        this.#aedes = fresh.aedes;
        this.#server = fresh.server;
      } finally {
        this.#restarting = undefined;
      }
    })();
    return this.#restarting;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Stops listening, cuts what is still connected, closes aedes. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#restarting?.catch(() => {});
      await this.#stop();
    })();
    return this.#closing;
  }

  async #stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#connections) socket.destroy();
    await closed;
    await new Promise<void>((resolve) => this.#aedes.close(() => resolve()));
  }
}

/** A fresh aedes listening on 127.0.0.1:port (0: a free one), its sockets kept in `connections`. */
async function listen(port: number, connections: Set<net.Socket>): Promise<{ aedes: Aedes; server: net.Server }> {
  const aedes = await Aedes.createBroker();
  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.once("close", () => connections.delete(socket));
    aedes.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw error;
  }
  return { aedes, server };
}
