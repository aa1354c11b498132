/*
 * A tiny TCP proxy between our client and a real broker, for the faults the broker suites
 * need to be deterministic: drop every byte from the broker to the client (PUBACKs, PINGRESPs
 * lost), cut every connection, stop accepting (the broker looks down) and accept again on the
 * same port. It records what the client sent on each connection. Test side only.
 */

import * as net from "node:net";
import { listenLoopback } from "./helpers.js";

interface Link {
  client: net.Socket;
  broker: net.Socket;
}

export class TcpProxy {
  readonly target: number;
  /** When true, bytes from the broker are read and thrown away: the client hears nothing. */
  dropToClient = false;
  /** Per connection, in order: every chunk the client sent. */
  readonly upstream: Buffer[][] = [];
  #port = 0;
  #server: net.Server | undefined = undefined;
  readonly #links = new Set<Link>();

  private constructor(target: number) {
    this.target = target;
  }

  /** Listens on a free loopback port and forwards to 127.0.0.1:target. */
  static async start(target: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.resume();
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** Connections accepted so far. */
  get accepted(): number {
    return this.upstream.length;
  }

  /** Accepts connections (again, on the same port). */
  async resume(): Promise<void> {
    if (this.#server !== undefined) return;
    const server = net.createServer((client) => this.#accept(client));
    this.#port = await listenLoopback(server, this.#port);
    this.#server = server;
  }

  #accept(client: net.Socket): void {
    const chunks: Buffer[] = [];
    this.upstream.push(chunks);
    const broker = net.connect({ host: "127.0.0.1", port: this.target });
    const link = { client, broker };
    this.#links.add(link);
    client.setNoDelay(true);
    broker.setNoDelay(true);
    client.on("data", (data) => {
      chunks.push(data);
      broker.write(data); // buffered by node until the broker side is connected
    });
    broker.on("data", (data) => {
      if (!this.dropToClient) client.write(data);
    });
    const end = () => {
      this.#links.delete(link);
      client.destroy();
      broker.destroy();
    };
    client.on("error", end);
    client.on("close", end);
    broker.on("error", end);
    broker.on("close", end);
  }

  /** Cuts every open connection at once, both sides (no DISCONNECT: a lost link). */
  cut(): void {
    for (const link of [...this.#links]) {
      this.#links.delete(link);
      link.client.destroy();
      link.broker.destroy();
    }
  }

  /** Stops accepting and cuts every connection: to the client, the broker is down. */
  async pause(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.cut();
    await closed;
  }

  async close(): Promise<void> {
    await this.pause();
  }
}
