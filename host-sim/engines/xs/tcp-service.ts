/*
 * The Node side of the bridged TCP socket (in-xs/tcp.js): one socket of a BoardNetwork
 * (host-sim/io/network.ts: host-sim sockets with the device's 1,536-byte send window, a link
 * that can be cut) per XS socket. Commands connect, write (answering the writable count,
 * or refusing with "would block"), close; the socket's onWritable, onReadable (with the
 * bytes) and onError go into XS as deliveries. cut() plays a lost link (every connection
 * destroyed, new ones refused with "network unreachable") until restore(), as the network
 * of a board on the Node engine does. Node side only: it never interprets the bytes.
 */

import type { Socket } from "../../../device/mqtt/index.js";
import { BoardNetwork } from "../../io/network.js";
import { DEFAULT_WINDOW } from "../../io/sockets.js";
import type { HostSocketOptions } from "../../io/sockets.js";
import type { Frame } from "./frame.js";
import type { Deliver, ServiceReply, XsService } from "./service.js";

export class TcpService implements XsService {
  readonly name = "tcp";
  readonly #deliver: Deliver;
  readonly #window: number;
  readonly #network: BoardNetwork;

  /** Why a connection failed, as Node says it (XS is told nothing, as on a board). */
  set onFailure(log: ((reason: string) => void) | undefined) {
    this.#network.onFailure = log;
  }
  /** The sockets XS has not closed, by XS socket id (ids are never reused). */
  readonly #open = new Map<number, Socket>();

  constructor(deliver: Deliver, window = DEFAULT_WINDOW, rtt = 0) {
    this.#deliver = deliver;
    this.#window = window;
    this.#network = new BoardNetwork({ rtt });
  }

  /** The board's network link (its Wi-Fi radio governs it: host-sim/io/wifi.ts). */
  get network(): BoardNetwork {
    return this.#network;
  }

  /** Connections not fully closed yet (XS closed them or not). */
  get connections(): number {
    return this.#network.connections;
  }

  command({ header, body }: Frame): ServiceReply | undefined {
    const id = header.id;
    if (typeof id !== "number") throw new Error("tcp: a command without a socket id");
    switch (header.op) {
      case "connect": {
        if (this.#open.has(id)) throw new Error("tcp: socket id " + id + " is in use");
        const deliver = this.#deliver;
        const service = this.name;
        const options: HostSocketOptions = {
          address: String(header.address),
          port: Number(header.port),
          nodelay: header.nodelay !== false,
          window: this.#window,
          onWritable(count) {
            void deliver({ service, event: "writable", id, count });
          },
          onReadable(count) {
            const data = new Uint8Array(count);
            this.read(data);
            void deliver({ service, event: "readable", id }, data);
          },
          onError(message) {
            void deliver({ service, event: "error", id, message: message ?? "connection lost" });
          },
        };
        this.#open.set(id, new this.#network.TCP(options)); // throws "network unreachable" while cut
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

  /** Resolves once every connection is fully closed, or after `timeout` ms (then destroys what is left). */
  settled(timeout: number): Promise<void> {
    return this.#network.settled(timeout);
  }

  /** The link is lost: every connection is destroyed (no FIN wait) and new ones are refused until restore(). */
  cut(): void {
    this.#network.cut();
  }

  /** The link is back: connections may be opened again. */
  restore(): void {
    this.#network.restore();
  }

  close(): void {
    this.#network.cut();
    this.#open.clear();
  }
}
