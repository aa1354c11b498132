/*
 * The simulator's embedded broker: an in-process aedes on a free 127.0.0.1 port, used when
 * no broker URL is given. close() cuts every connection and stops it. Node side only;
 * it listens on loopback only.
 */

import * as net from "node:net";
import { Aedes } from "aedes";

export class EmbeddedBroker {
  readonly port: number;
  readonly #aedes: Aedes;
  readonly #server: net.Server;
  readonly #connections: Set<net.Socket>;
  #closing: Promise<void> | undefined;

  private constructor(aedes: Aedes, server: net.Server, port: number, connections: Set<net.Socket>) {
    this.#aedes = aedes;
    this.#server = server;
    this.port = port;
    this.#connections = connections;
  }

  static async start(): Promise<EmbeddedBroker> {
    const aedes = await Aedes.createBroker();
    const connections = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      connections.add(socket);
      socket.once("close", () => connections.delete(socket));
      aedes.handle(socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw error;
    }
    return new EmbeddedBroker(aedes, server, (server.address() as net.AddressInfo).port, connections);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Stops listening, cuts what is still connected, closes aedes. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const socket of this.#connections) socket.destroy();
      await closed;
      await new Promise<void>((resolve) => this.#aedes.close(() => resolve()));
    })();
    return this.#closing;
  }
}
