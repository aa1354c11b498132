/*
 * A simulated board's network link on Node: TCP and TLS classes (host-sim/sockets.ts, with
 * the device's send window) that belong to one board, so that the link can be cut as a
 * lost Wi-Fi link would be: cut() destroys the board's connections at once (no DISCONNECT,
 * no FIN wait: the broker publishes the will) and makes new sockets throw "network
 * unreachable" until restore(). For the XS engine the same is TcpService.cut() / restore()
 * (host-sim/xs/tcp-service.ts). Node side only.
 */

import type { SocketClass } from "../device/mqtt/io.js";
import { TCP, TLS } from "./sockets.js";
import type { HostSocketOptions } from "./sockets.js";

export interface NetworkOptions {
  /** CA certificates the board's TLS sockets trust (PEM), for a broker with its own CA. */
  ca?: string;
}

export class BoardNetwork {
  /** The board's ECMA-419 TCP class. */
  readonly TCP: SocketClass;
  readonly #ca: string | undefined;
  #tls: SocketClass | undefined;
  readonly #sockets = new Set<TCP | TLS>();
  #down = false;
  /** Waiting in settled() for the last connection to close. */
  readonly #emptied: (() => void)[] = [];

  constructor(options: NetworkOptions = {}) {
    const network = this;
    this.#ca = options.ca;
    this.TCP = class BoardTCP extends TCP {
      constructor(socketOptions: HostSocketOptions) {
        if (network.#down) throw new Error("network unreachable");
        super(socketOptions);
        network.#track(this, this.socket);
      }
    };
  }

  /** The board's ECMA-419 TLS class (made on first use: most boards of a fleet never need it). */
  get TLS(): SocketClass {
    if (this.#tls !== undefined) return this.#tls;
    const network = this;
    const ca = this.#ca;
    this.#tls = class BoardTLS extends TLS {
      constructor(socketOptions: HostSocketOptions) {
        if (network.#down) throw new Error("network unreachable");
        super(ca === undefined || socketOptions.ca !== undefined ? socketOptions : { ...socketOptions, ca });
        network.#track(this, this.socket);
      }
    };
    return this.#tls;
  }

  /** Connections not fully closed yet. */
  get connections(): number {
    return this.#sockets.size;
  }

  get down(): boolean {
    return this.#down;
  }

  /** The link is lost: every connection is destroyed and new ones are refused until restore(). */
  cut(): void {
    this.#down = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  /** The link is back. */
  restore(): void {
    this.#down = false;
  }

  /** Resolves once every connection is fully closed, or after `timeout` ms (then destroys what is left). */
  async settled(timeout: number): Promise<void> {
    if (this.#sockets.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#emptied.push(resolve);
        timer = setTimeout(resolve, timeout);
      });
      clearTimeout(timer);
    }
    for (const socket of this.#sockets) socket.destroy();
  }

  #track(socket: TCP | TLS, inner: { once(event: "close", listener: () => void): unknown }): void {
    this.#sockets.add(socket);
    inner.once("close", () => {
      this.#sockets.delete(socket);
      if (this.#sockets.size === 0) for (const resolve of this.#emptied.splice(0)) resolve();
    });
  }
}
