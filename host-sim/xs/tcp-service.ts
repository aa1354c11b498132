/*
 * The Node side of the bridged TCP socket (in-xs/tcp.js): one host-sim TCP socket
 * (host-sim/sockets.ts, with the device's 1,536-byte send window) per XS socket. Commands
 * connect, write (answering the writable count, or refusing with "would block"), close;
 * the socket's onWritable, onReadable (with the bytes) and onError go into XS as
 * deliveries. cut() plays a lost link (every connection destroyed, new ones refused with
 * "network unreachable") until restore(). Node side only: it never interprets the bytes.
 */

import type { Frame } from "./frame.js";
import type { Deliver, ServiceReply, XsService } from "./service.js";
import { DEFAULT_WINDOW, TCP } from "../sockets.js";
import type { HostSocketOptions } from "../sockets.js";

/** A host-sim TCP socket that also tells when its connection is fully closed. */
class BridgedSocket extends TCP {
  readonly gone: Promise<void>;
  constructor(options: HostSocketOptions) {
    super(options);
    this.gone = new Promise((resolve) => this.socket.once("close", () => resolve()));
  }
}

export class TcpService implements XsService {
  readonly name = "tcp";
  readonly #deliver: Deliver;
  readonly #window: number;
  /** Every socket whose connection is not fully closed yet, by XS socket id. */
  readonly #sockets = new Map<number, BridgedSocket>();
  /** The sockets XS has not closed, by XS socket id. */
  readonly #open = new Map<number, BridgedSocket>();
  #down = false;

  constructor(deliver: Deliver, window = DEFAULT_WINDOW) {
    this.#deliver = deliver;
    this.#window = window;
  }

  /** Connections not fully closed yet (XS closed them or not). */
  get connections(): number {
    return this.#sockets.size;
  }

  command({ header, body }: Frame): ServiceReply | undefined {
    const id = header.id;
    if (typeof id !== "number") throw new Error("tcp: a command without a socket id");
    switch (header.op) {
      case "connect": {
        if (this.#down) throw new Error("network unreachable");
        if (this.#sockets.has(id)) throw new Error("tcp: socket id " + id + " is in use");
        const deliver = this.#deliver;
        const service = this.name;
        const socket = new BridgedSocket({
          address: String(header.address),
          port: Number(header.port),
          nodelay: header.nodelay !== false,
          window: this.#window,
          onWritable(count) {
            void deliver({ service, event: "writable", id, count });
          },
          onReadable(count) {
            const data: ArrayBuffer = (this as BridgedSocket).read(count);
            void deliver({ service, event: "readable", id }, new Uint8Array(data));
          },
          onError(message) {
            void deliver({ service, event: "error", id, message: message ?? "connection lost" });
          },
        });
        this.#sockets.set(id, socket);
        this.#open.set(id, socket);
        void socket.gone.then(() => {
          if (this.#sockets.get(id) === socket) this.#sockets.delete(id);
        });
        return undefined;
      }
      case "write": {
        const socket = this.#open.get(id);
        if (socket === undefined) throw new Error("write: the socket is closed");
        return { header: { writable: socket.write(body) } };
      }
      case "close":
        this.#open.get(id)?.close();
        this.#open.delete(id);
        return undefined;
      default:
        throw new Error("tcp: unknown op " + JSON.stringify(header.op));
    }
  }

  /** Resolves once every connection is fully closed. */
  async settled(): Promise<void> {
    await Promise.all([...this.#sockets.values()].map((socket) => socket.gone));
  }

  /** The link is lost: every connection is destroyed (no FIN wait) and new ones are refused until restore(). */
  cut(): void {
    this.#down = true;
    for (const socket of this.#sockets.values()) socket.destroy();
  }

  /** The link is back: connections may be opened again. */
  restore(): void {
    this.#down = false;
  }

  close(): void {
    for (const socket of this.#sockets.values()) socket.destroy();
    this.#open.clear();
  }
}
