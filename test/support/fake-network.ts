/*
 * The fake network of the client's byte-level session tests, in the style of mosquitto's
 * fake-broker scripts: a scripted ECMA-419 socket per connection whose peer decodes every byte
 * the client writes with mqtt-packet and answers with packets that mqtt-packet generates (or
 * bytes the test makes by hand), and a default broker script. Socket callbacks go through the
 * test's Loop, never from inside a method call. No real sockets.
 */

import * as mqtt from "mqtt-packet";
import type { Socket, SocketClass, SocketOptions } from "../../device/mqtt/index.js";
import type { FakeClock, Loop } from "./fake-clock.js";
import { splitPackets } from "./mqtt-frames.js";


export interface Seen {
  packet: mqtt.Packet;
  /** clock.now when the write that completed this packet happened */
  at: number;
}

/** "closed": by the client; "ended": by the server (its FIN); "cut": the link broke. */
export type LinkStatus = "opening" | "open" | "closed" | "ended" | "cut";

function bytesOf(buffer: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * One TCP connection. The client sees an ECMA-419 socket (read, write, close and the
 * callbacks of its options); the test drives the peer's side (accept, send, drain, cut).
 * write() takes at most the writable count and throws past it, like Moddable's sockets.
 */
export class Link implements Socket {
  readonly options: SocketOptions;
  readonly index: number;
  readonly openedAt: number;
  closedAt = -1;
  status: LinkStatus = "opening";
  /** The send window: what the socket can take before the peer drains it. */
  window: number;
  autoDrain: boolean;
  writable = 0;
  /** The byte count of each write() call. */
  readonly writes: number[] = [];
  readonly chunks: Buffer[] = [];
  readonly packets: Seen[] = [];
  readonly parseErrors: string[] = [];
  /** The protocol level of the client's CONNECT: send() answers in it (4: 3.1.1, 5: 5.0). */
  protocolVersion = 4;
  #taken = 0;
  readonly #inbound: Uint8Array[] = [];
  #inboundOffset = 0;
  #available = 0;
  #drainPosted = false;
  readonly #net: Net;
  readonly #parser: mqtt.Parser;

  constructor(net: Net, options: SocketOptions) {
    this.#net = net;
    this.options = options;
    this.index = net.links.length;
    this.openedAt = net.clock.now;
    this.window = net.window;
    this.autoDrain = net.autoDrain;
    this.#parser = mqtt.parser({ protocolVersion: 4 });
    this.#parser.on("packet", (packet: mqtt.Packet) => {
      if (packet.cmd === "connect" && packet.protocolVersion === 5) this.protocolVersion = 5;
      this.packets.push({ packet, at: net.clock.now });
      net.respond(this, packet);
    });
    this.#parser.on("error", (e: unknown) => this.parseErrors.push(String(e)));
    net.links.push(this);
    net.onOpen(this);
  }

  // ---- the client's side (ECMA-419)

  read(buffer: ArrayBuffer | ArrayBufferView): number {
    if (this.status !== "open") {
      this.#net.misuse.push("read on a " + this.status + " socket");
      throw new Error("read on a " + this.status + " socket");
    }
    const into = bytesOf(buffer);
    let count = 0;
    while (count < into.length && this.#inbound.length > 0) {
      const head = this.#inbound[0];
      const take = Math.min(into.length - count, head.length - this.#inboundOffset);
      into.set(head.subarray(this.#inboundOffset, this.#inboundOffset + take), count);
      count += take;
      this.#inboundOffset += take;
      if (this.#inboundOffset === head.length) {
        this.#inbound.shift();
        this.#inboundOffset = 0;
      }
    }
    this.#available -= count;
    return count;
  }

  write(buffer: ArrayBuffer | ArrayBufferView): number {
    if (this.status !== "open") {
      this.#net.misuse.push("write on a " + this.status + " socket");
      throw new Error("write on a " + this.status + " socket");
    }
    const bytes = Buffer.from(bytesOf(buffer)); // a copy: the client reuses its buffers
    if (bytes.length > this.writable) {
      this.#net.misuse.push("write of " + bytes.length + " bytes with " + this.writable + " writable");
      throw new Error("would block");
    }
    this.writable -= bytes.length;
    this.writes.push(bytes.length);
    this.chunks.push(bytes);
    this.#parser.parse(bytes);
    if (this.autoDrain && !this.#drainPosted) {
      this.#drainPosted = true;
      this.#net.loop.post(() => {
        this.#drainPosted = false;
        this.#refill(this.window);
      });
    }
    return this.writable;
  }

  close(): void {
    if (this.status === "opening" || this.status === "open") {
      this.status = "closed";
      this.closedAt = this.#net.clock.now;
    }
  }

  // ---- the peer's side

  /** The connection is up: onWritable(window) comes next. */
  accept(): void {
    this.#net.loop.post(() => {
      if (this.status !== "opening") return;
      this.status = "open";
      this.writable = this.window;
      this.options.onWritable?.call(this, this.writable);
    });
  }

  /** Bytes from the server; onReadable comes next. */
  deliver(bytes: Uint8Array): void {
    this.#net.loop.post(() => {
      if (this.status !== "open") return;
      this.#inbound.push(Uint8Array.from(bytes));
      this.#available += bytes.length;
      this.options.onReadable?.call(this, this.#available);
    });
  }

  /** A packet from the server, generated by mqtt-packet. */
  send(packet: mqtt.Packet): void {
    this.deliver(mqtt.generate(packet, { protocolVersion: this.protocolVersion }));
  }

  /** The network took what was written: the writable count becomes `count` (the window by default). */
  drain(count = this.window): void {
    this.#net.loop.post(() => this.#refill(count));
  }

  #refill(count: number): void {
    if (this.status !== "open") return;
    this.writable = count;
    this.options.onWritable?.call(this, count);
  }

  /** The connection breaks (or is refused): onError comes next. */
  cut(message = "connection reset"): void {
    this.#net.loop.post(() => {
      if (this.status !== "opening" && this.status !== "open") return;
      this.status = "cut";
      this.closedAt = this.#net.clock.now;
      this.options.onError?.call(this, message);
    });
  }

  /** The server closes the connection (a broker does after DISCONNECT): onError() comes next, as on Moddable's sockets. */
  end(): void {
    this.#net.loop.post(() => {
      if (this.status !== "open") return;
      this.status = "ended";
      this.closedAt = this.#net.clock.now;
      this.options.onError?.call(this);
    });
  }

  /** Packets written since the last take(). */
  take(): mqtt.Packet[] {
    const out = this.packets.slice(this.#taken).map((s) => s.packet);
    this.#taken = this.packets.length;
    return out;
  }

  get open(): boolean {
    return this.status === "open";
  }

  /** Every byte written, in order. */
  raw(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** The raw bytes of each whole packet written. */
  rawPackets(): Buffer[] {
    return splitPackets(this.raw());
  }
}

/**
 * The fake network and the default broker script: CONNACK (as configured) to CONNECT,
 * PUBACK to QoS 1 PUBLISH, SUBACK granting the asked QoS, UNSUBACK, PINGRESP. A test turns
 * any of these off, or takes packets first with onPacket (return true to skip the default).
 */
export class Net {
  readonly links: Link[] = [];
  readonly misuse: string[] = [];
  window = 1 << 20;
  autoDrain = true;
  connack: { sessionPresent: boolean; returnCode: number } | null = { sessionPresent: false, returnCode: 0 };
  autoPuback = true;
  autoSuback = true;
  autoUnsuback = true;
  autoPingresp = true;
  /** The server closes the connection once it has read DISCONNECT. */
  endOnDisconnect = true;
  onOpen: (link: Link) => void = (link) => link.accept();
  onPacket: ((link: Link, packet: mqtt.Packet) => boolean | void) | undefined = undefined;
  readonly TCP: SocketClass;

  constructor(readonly loop: Loop, readonly clock: FakeClock) {
    const net = this;
    this.TCP = class ScriptedSocket extends Link {
      constructor(options: SocketOptions) {
        super(net, options);
      }
    };
  }

  get last(): Link {
    const link = this.links[this.links.length - 1];
    if (link === undefined) throw new Error("no socket was opened");
    return link;
  }

  respond(link: Link, packet: mqtt.Packet): void {
    if (this.onPacket !== undefined && this.onPacket(link, packet) === true) return;
    switch (packet.cmd) {
      case "connect":
        // (5.0 calls the return code a reason code)
        if (this.connack !== null) link.send({ cmd: "connack", reasonCode: this.connack.returnCode, ...this.connack });
        return;
      case "publish":
        if (packet.qos === 1 && this.autoPuback) link.send({ cmd: "puback", messageId: packet.messageId });
        return;
      case "subscribe":
        if (this.autoSuback) {
          link.send({ cmd: "suback", messageId: packet.messageId!, granted: packet.subscriptions.map((s) => s.qos) });
        }
        return;
      case "unsubscribe":
        // 5.0's UNSUBACK has a reason code per filter
        if (this.autoUnsuback) link.send({ cmd: "unsuback", messageId: packet.messageId, granted: link.protocolVersion === 5 ? packet.unsubscriptions.map(() => 0) : [] });
        return;
      case "pingreq":
        if (this.autoPingresp) link.send({ cmd: "pingresp" });
        return;
      case "disconnect":
        if (this.endOnDisconnect) link.end();
        return;
      default:
        return;
    }
  }
}
