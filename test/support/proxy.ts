/*
 * A TCP proxy on 127.0.0.1 between our client and a real broker, for faults that must be
 * deterministic. On command or on a schedule it cuts both directions at once, cuts in the
 * middle of an MQTT packet, stalls (reads and holds bytes, forwards nothing, keeps the
 * sockets open), drops every byte going to the client, delays every chunk, throttles to a
 * byte rate, forwards in 1-byte pieces, or refuses connections (nothing listens) and accepts
 * again on the same port. It counts connections, cuts and bytes, and can record what the
 * client sent on each connection. close() stops every socket, timer and the listener. Test
 * side only: it never parses more of MQTT than the fixed header's length (to know where
 * packets start and end).
 */

import * as net from "node:net";
import { listenLoopback } from "../brokers/helpers.js";
import { PacketFramer } from "./mqtt-frames.js";

/** "up": client to broker; "down": broker to client. */
export type Direction = "up" | "down";

/** What a scheduled cut does: cut at once, or cut inside a packet going up. */
export type CutKind = "cut" | "mid-packet";

interface Held {
  data: Buffer;
  offset: number;
  /** performance.now() from which it may go (the per-chunk delay). */
  readyAt: number;
}

/** One direction of one connection: a queue of held bytes, pumped out under the proxy's modes. */
class Pipe {
  readonly queue: Held[] = [];
  readonly framer = new PacketFramer();
  /** A wake-up pending (a delay, the throttle, or the next 1-byte piece). */
  timer: NodeJS.Timeout | undefined = undefined;
  immediate: NodeJS.Immediate | undefined = undefined;
  waitingDrain = false;
  sourceEnded = false;
  tokens = 0;
  refilledAt = performance.now();

  constructor(readonly direction: Direction, readonly to: net.Socket) {}

  /** Cancels any wake-up and forgets what is held. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.queue.length = 0;
  }

  get pending(): number {
    let bytes = 0;
    for (const held of this.queue) bytes += held.data.length - held.offset;
    return bytes;
  }
}

interface Link {
  readonly client: net.Socket;
  readonly broker: net.Socket;
  readonly up: Pipe;
  readonly down: Pipe;
  dead: boolean;
}

export class TcpProxy {
  /** The broker's port on 127.0.0.1. */
  readonly target: number;
  /** Connections accepted so far. */
  connections = 0;
  /** Cuts done (on command, mid-packet or scheduled), counting each cut once. */
  cuts = 0;
  /** Of those, cuts that stopped a stream inside an MQTT packet. */
  cutsInsidePacket = 0;
  /** Bytes forwarded so far, over every connection. */
  readonly forwarded = { up: 0, down: 0 };
  /** When true, bytes from the broker are read and thrown away: the client hears nothing. */
  dropToClient = false;
  /**
   * Per connection, in order: every chunk the client sent, as it arrived (started with
   * record: true; otherwise one empty list per connection).
   */
  readonly upstream: Buffer[][] = [];

  #port = 0;
  #server: net.Server | undefined = undefined;
  #closed = false;
  readonly #links = new Set<Link>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #stalled = { up: false, down: false };
  #delayMs = 0;
  #bytesPerSecond = 0;
  #fragment = false;
  #cutMidPacket: Direction | undefined = undefined;
  #cutEvery = 0;
  #cutEveryKind: CutKind | "alternate" = "cut";
  #nextCutAt = 0;
  #scheduledCuts = 0;
  readonly #record: boolean;

  private constructor(target: number, record: boolean) {
    this.target = target;
    this.#record = record;
  }

  /**
   * Listens on a free loopback port and forwards every connection to 127.0.0.1:target;
   * `record` keeps every chunk the client sends in `upstream`.
   */
  static async start(target: number, options: { record?: boolean } = {}): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, options.record === true);
    await proxy.accept();
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** Connections open now. */
  get open(): number {
    return this.#links.size;
  }

  /** Bytes held (stalled, delayed or throttled) in every open connection, going one way or both. */
  held(direction?: Direction): number {
    let bytes = 0;
    for (const link of this.#links) {
      if (direction !== "down") bytes += link.up.pending;
      if (direction !== "up") bytes += link.down.pending;
    }
    return bytes;
  }

  // ---- commands

  /** Cuts every open connection, both directions at once: both sockets destroyed, held bytes lost. */
  cut(): void {
    const links = [...this.#links];
    if (links.length > 0) this.cuts++;
    for (const link of links) this.#kill(link);
  }

  /**
   * Arms a cut inside a packet: the next bytes going `direction` are forwarded only up to a
   * point inside an MQTT packet, then the connection is cut (both sockets destroyed).
   */
  cutMidPacket(direction: Direction = "up"): void {
    this.#cutMidPacket = direction;
    for (const link of this.#links) this.#pump(link, link[direction]);
  }

  /** Disarms a cut armed by cutMidPacket() (or a scheduled one) that has not happened yet. */
  cancelCut(): void {
    this.#cutMidPacket = undefined;
  }

  /** Stalls one direction, or both: bytes are read and held, none forwarded; sockets stay open. */
  stall(direction?: Direction): void {
    if (direction !== "down") this.#stalled.up = true;
    if (direction !== "up") this.#stalled.down = true;
  }

  /** Lifts a stall: what was held goes on, in order. */
  flow(direction?: Direction): void {
    if (direction !== "down") this.#stalled.up = false;
    if (direction !== "up") this.#stalled.down = false;
    this.#pumpAll();
  }

  /** Holds every chunk this many ms before forwarding it (0: none). */
  delay(ms: number): void {
    this.#delayMs = ms;
  }

  /** Forwards at most this many bytes per second in each direction of each connection (0: no limit). */
  throttle(bytesPerSecond: number): void {
    this.#bytesPerSecond = bytesPerSecond;
    for (const link of this.#links) {
      for (const pipe of [link.up, link.down]) {
        pipe.tokens = 0;
        pipe.refilledAt = performance.now();
      }
    }
    this.#pumpAll();
  }

  /** Forwards in 1-byte pieces, one per turn of the event loop (false: whole chunks). */
  fragment(on: boolean): void {
    this.#fragment = on;
    this.#pumpAll();
  }

  /** Stops listening and cuts every connection: connecting now is refused (ECONNREFUSED). */
  async refuse(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.cut();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens (again, on the same port). */
  async accept(): Promise<void> {
    if (this.#server !== undefined || this.#closed) return;
    const server = net.createServer({ allowHalfOpen: true }, (client) => this.#accept(client));
    this.#port = await listenLoopback(server, this.#port);
    this.#server = server;
  }

  // ---- schedules

  /** Runs `action` once, `ms` from now (cancelled by close()). */
  at(ms: number, action: (proxy: TcpProxy) => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closed) action(this);
    }, ms);
    this.#timers.add(timer);
  }

  /**
   * Cuts every time another `bytes` bytes have gone up (client to broker), counted from now:
   * a plain cut, a cut inside a packet, or the two in turn. 0 stops the schedule.
   */
  cutEvery(bytes: number, kind: CutKind | "alternate" = "cut"): void {
    this.#cutEvery = bytes;
    this.#cutEveryKind = kind;
    this.#nextCutAt = this.forwarded.up + bytes;
  }

  /** Stops every connection, timer and the listener. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#cutEvery = 0;
    await this.refuse();
  }

  // ---- connections

  #accept(client: net.Socket): void {
    this.connections++;
    const sent: Buffer[] = [];
    this.upstream.push(sent);
    const broker = net.connect({ host: "127.0.0.1", port: this.target, allowHalfOpen: true });
    client.setNoDelay(true);
    broker.setNoDelay(true);
    const link: Link = { client, broker, up: new Pipe("up", broker), down: new Pipe("down", client), dead: false };
    this.#links.add(link);
    const take = (pipe: Pipe) => (data: Buffer) => {
      if (link.dead) return;
      if (pipe.direction === "up" && this.#record) sent.push(data);
      if (pipe.direction === "down" && this.dropToClient) return;
      pipe.queue.push({ data, offset: 0, readyAt: performance.now() + this.#delayMs });
      this.#pump(link, pipe);
    };
    client.on("data", take(link.up));
    broker.on("data", take(link.down));
    const ended = (pipe: Pipe) => () => {
      pipe.sourceEnded = true;
      this.#pump(link, pipe);
    };
    client.on("end", ended(link.up));
    broker.on("end", ended(link.down));
    const end = () => this.#kill(link);
    client.on("error", end);
    client.on("close", end);
    broker.on("error", end);
    broker.on("close", end);
  }

  #kill(link: Link): void {
    if (link.dead) return;
    link.dead = true;
    this.#links.delete(link);
    link.up.stop();
    link.down.stop();
    link.client.destroy();
    link.broker.destroy();
  }

  #pumpAll(): void {
    for (const link of [...this.#links]) {
      this.#pump(link, link.up);
      this.#pump(link, link.down);
    }
  }

  /** Forwards what the modes allow now, and arranges to be called again for the rest. */
  #pump(link: Link, pipe: Pipe): void {
    if (pipe.timer !== undefined || pipe.immediate !== undefined || pipe.waitingDrain) return;
    while (!link.dead) {
      if (this.#stalled[pipe.direction]) return; // flow() pumps again (a FIN waits too)
      if (pipe.queue.length === 0) {
        if (pipe.sourceEnded && !pipe.to.writableEnded) pipe.to.end();
        return;
      }
      const head = pipe.queue[0];
      const now = performance.now();
      if (head.readyAt > now) {
        this.#wake(link, pipe, head.readyAt - now);
        return;
      }
      let count = this.#fragment ? 1 : head.data.length - head.offset;
      const rate = this.#bytesPerSecond;
      if (rate > 0) {
        const burst = Math.max(1, Math.floor(rate / 50)); // at most 20 ms worth at once
        pipe.tokens = Math.min(burst, pipe.tokens + ((now - pipe.refilledAt) * rate) / 1000);
        pipe.refilledAt = now;
        if (pipe.tokens < 1) {
          this.#wake(link, pipe, Math.ceil(((1 - pipe.tokens) * 1000) / rate));
          return;
        }
        count = Math.min(count, Math.floor(pipe.tokens));
      }
      const piece = head.data.subarray(head.offset, head.offset + count);
      if (this.#cutMidPacket === pipe.direction) {
        const keep = pipe.framer.cutPoint(piece);
        if (keep >= 0) {
          this.#cutMidPacket = undefined;
          this.#cutInside(link, pipe, piece.subarray(0, keep));
          return;
        }
      }
      pipe.framer.feed(piece);
      head.offset += count;
      if (head.offset === head.data.length) pipe.queue.shift();
      if (rate > 0) pipe.tokens -= count;
      const flushed = pipe.to.write(piece);
      this.forwarded[pipe.direction] += count;
      if (pipe.direction === "up" && this.#cutEvery > 0 && this.forwarded.up >= this.#nextCutAt) {
        this.#nextCutAt += this.#cutEvery;
        this.#scheduledCut();
        if (link.dead) return;
      }
      if (!flushed) {
        pipe.waitingDrain = true;
        pipe.to.once("drain", () => {
          pipe.waitingDrain = false;
          this.#pump(link, pipe);
        });
        return;
      }
      if (this.#fragment) {
        // one byte per turn of the loop, so that the reader sees them one at a time
        pipe.immediate = setImmediate(() => {
          pipe.immediate = undefined;
          this.#pump(link, pipe);
        });
        return;
      }
    }
  }

  #wake(link: Link, pipe: Pipe, ms: number): void {
    pipe.timer = setTimeout(() => {
      pipe.timer = undefined;
      this.#pump(link, pipe);
    }, Math.max(1, ms));
  }

  #scheduledCut(): void {
    const kind = this.#cutEveryKind === "alternate"
      ? (this.#scheduledCuts % 2 === 0 ? "cut" : "mid-packet")
      : this.#cutEveryKind;
    this.#scheduledCuts++;
    if (kind === "cut") this.cut();
    else this.cutMidPacket("up");
  }

  /** Writes these first bytes of a packet, then cuts the connection once they are out. */
  #cutInside(link: Link, pipe: Pipe, part: Buffer): void {
    this.cuts++;
    this.cutsInsidePacket++;
    link.dead = true;
    this.#links.delete(link);
    link.up.stop();
    link.down.stop();
    const other = pipe.to === link.broker ? link.client : link.broker;
    other.destroy();
    this.forwarded[pipe.direction] += part.length;
    if (part.length === 0) {
      pipe.to.destroy();
      return;
    }
    pipe.to.write(part, () => pipe.to.destroy());
    this.at(1_000, () => pipe.to.destroy()); // in case the write never completes
  }
}
