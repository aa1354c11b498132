/*
 * ECMA-419 TCP and TLS socket classes built on node:net and node:tls that behave as
 * Moddable's socket does (modules/io/socket/lwip/tcp.c; docs/moddable-io.md lists every
 * behaviour and its source): a send window (1,536 bytes by default, as on Moddable's Linux
 * port; an ESP32's is 8,192, so the default is the stricter) past which write() throws
 * "would block", onWritable when room returns, exact-length reads,
 * onError() without arguments and only once what arrived before the error was read, and
 * callbacks that never run inside a method call.
 * Node side only: device code sees these only through the shapes in device/mqtt/io.ts.
 */

import * as net from "node:net";
import * as tls from "node:tls";
import type { Socket, SocketOptions } from "../../device/mqtt/index.js";
import { bytesOf } from "./bytes.js";
import { EMPTY, withItem, withoutAt } from "./lists.js";

export interface HostSocketOptions extends SocketOptions {
  /** Bytes that may be written before onWritable (default 1,536). */
  window?: number;
  /** TLS: the PEM CA certificates trusted when `secure.certificate` is not given (a board's certificate store). */
  trust?: string;
  secure?: SocketOptions["secure"] & { verify?: boolean };
  /** Made while the board's Wi-Fi is down (network.ts setRoutable): never connects, never calls back. */
  unroutable?: boolean;
}

/**
 * The default send window: Moddable's Linux port's. An ESP32's lwIP send buffer (Moddable's
 * sdkconfig) is 8,192 bytes: a smaller window only makes "would block" come sooner.
 */
export const DEFAULT_WINDOW = 1536;

/** The HostSocket a Node socket belongs to (the event listeners are shared, not closures per socket). */
const OWNER = Symbol("HostSocket");
type OwnedSocket = net.Socket & { [OWNER]: HostSocket };

abstract class HostSocket implements Socket {
  readonly #window: number;
  /** Received and not yet read: usually one chunk, so a new array per change (lists.ts) rather than one with room for 17. */
  #inbound: readonly Buffer[] = EMPTY;
  #inboundOffset = 0;
  #available = 0;
  #writable = 0;
  #connected = false;
  #failed = false;
  /** The connection failed while bytes were still unread: onError waits for them to be read. */
  #errorHeld = false;
  #closed = false;
  /** This turn's writes, sent together at its end (_sendTurn), and their length. */
  #turn: Buffer | undefined = undefined;
  #turnLength = 0;
  protected readonly socket: net.Socket;
  readonly #options: HostSocketOptions;

  protected constructor(options: HostSocketOptions, socket: net.Socket, connectEvent: string) {
    this.#options = options;
    this.#window = options.window ?? DEFAULT_WINDOW;
    this.socket = socket;
    (socket as OwnedSocket)[OWNER] = this;
    socket.on(connectEvent, HostSocket.#onConnect);
    socket.on("data", HostSocket.#onData);
    socket.on("error", HostSocket.#onError);
    socket.on("close", HostSocket.#onClose);
  }

  static #onConnect(this: net.Socket): void {
    const self = (this as OwnedSocket)[OWNER];
    self.later(0, () => {
      if (self.#closed || self.#failed) return;
      self.#connected = true;
      self.#writable = self.#window;
      self.#reportWritable();
    });
  }

  static #onData(this: net.Socket, data: Buffer): void {
    const self = (this as OwnedSocket)[OWNER];
    self.later(1, () => {
      if (self.#closed) return;
      self.#inbound = withItem(self.#inbound, data);
      self.#available += data.length;
      self.deliver(self.#options.onReadable, self.#available);
    });
  }

  /**
   * Runs `step` of the link: 0 the connection coming up (the TCP handshake), 1 bytes arriving,
   * 2 bytes or the FIN leaving, 3 the connection failing. At once here; a board's link with
   * latency (network.ts) runs them later, in order.
   */
  protected later(_step: 0 | 1 | 2 | 3, step: () => void): void {
    step();
  }

  static #onError(this: net.Socket, error: Error): void {
    (this as OwnedSocket)[OWNER].#fail(error.message);
  }

  static #onClose(this: net.Socket): void {
    const self = (this as OwnedSocket)[OWNER];
    self.#fail("connection closed");
    self.closed();
  }

  /**
   * Runs one of the socket's callbacks (`this` = the socket). A board's sockets run them
   * through its BoardAbort (network.ts), where an exception that escapes aborts the board;
   * a socket of its own lets it escape to Node (an uncaught exception), as nothing on a
   * board would catch it either.
   */
  protected deliver(callback: ((...args: any[]) => void) | undefined, ...args: number[]): void {
    callback?.apply(this, args);
  }

  #reportWritable(): void {
    const count = this.writableCount(this.#writable);
    if (count !== undefined) this.deliver(this.#options.onWritable, count);
  }

  /** close() was called: what was written still goes out, then the FIN. */
  get closing(): boolean {
    return this.#closed;
  }

  /** Received bytes not read yet. */
  protected get waiting(): number {
    return this.#available;
  }

  /** The count onWritable reports for `room` bytes of room, or undefined for no callback (TLS deducts its overhead). */
  protected writableCount(room: number): number | undefined {
    return room;
  }

  /** The Node socket closed (after any error callback): for subclasses that track their sockets. */
  protected closed(): void {}

  /** The connection failed, for the reason Node gives (the device is told nothing): for subclasses that log it. */
  protected failed(_reason: string): void {}

  /** Moddable calls onError with no arguments, and not before the bytes that arrived first are read. */
  #fail(message: string): void {
    if (this.#failed || this.#closed) return;
    this.later(3, () => this.#failNow(message));
  }

  #failNow(message: string): void {
    if (this.#failed || this.#closed) return;
    this.#failed = true;
    this.failed(message);
    if (this.#available > 0) this.#errorHeld = true;
    else this.deliver(this.#options.onError);
  }

  /**
   * As Moddable's read (modules/io/socket/lwip/tcp.c, xs_tcp_read): undefined when nothing is
   * waiting; otherwise exactly the count asked for (all that is waiting when none is given,
   * `buffer.byteLength` for a buffer, which returns that count), and "invalid" when that is
   * 0 or more than is waiting.
   */
  read(buffer?: ArrayBuffer | ArrayBufferView | number): any {
    if (this.#closed) throw new Error("closed");
    if (this.#available === 0) return undefined;
    const target = buffer === undefined || typeof buffer === "number" ? undefined : bytesOf(buffer);
    const wanted = target !== undefined ? target.length : buffer === undefined ? this.#available : Math.trunc(Number(buffer));
    if (!(wanted > 0) || wanted > this.#available) throw new Error("invalid");
    const out = target ?? new Uint8Array(wanted);
    this.#copyInto(out, wanted);
    if (this.#errorHeld && this.#available === 0) {
      // the last unread bytes are read: the error comes now, from the event loop
      this.#errorHeld = false;
      setImmediate(() => { if (!this.#closed) this.deliver(this.#options.onError); });
    }
    return target !== undefined ? wanted : out.buffer;
  }

  #copyInto(target: Uint8Array, count: number): void {
    let done = 0;
    while (done < count) {
      const head = this.#inbound[0];
      const take = Math.min(head.length - this.#inboundOffset, count - done);
      target.set(head.subarray(this.#inboundOffset, this.#inboundOffset + take), done);
      done += take;
      this.#inboundOffset += take;
      if (this.#inboundOffset === head.length) {
        this.#inbound = withoutAt(this.#inbound, 0);
        this.#inboundOffset = 0;
      }
    }
    this.#available -= count;
  }

  /**
   * As Moddable's on an ESP32 (xs_tcp_write, modules/io/socket/lwip/tcp.c): "not ready" before
   * the connection is up and again once it failed (the failure clears `ready` at once, even
   * while onError waits for unread bytes). Moddable's Linux port returns undefined instead.
   */
  write(buffer: ArrayBuffer | ArrayBufferView): number | undefined {
    if (this.#closed) throw new Error("closed");
    if (!this.#connected || this.#failed) throw new Error("not ready");
    const bytes = bytesOf(buffer);
    const length = bytes.length;
    if (length > this.#writable) throw new Error("would block");
    this.#writable -= length;
    // the caller reuses its buffer at once: the bytes are copied into this turn's batch,
    // made at the first write's length (most turns have one write: a board batches its
    // packets), and at the window's on a second (what is written and not yet sent never
    // exceeds the window). Small buffers come from Node's shared pool: a fleet's writes
    // take a new pool every few dozen turns, not every few.
    let turn = this.#turn;
    if (turn === undefined) {
      turn = this.#turn = Buffer.allocUnsafe(length);
      this.#turnLength = 0;
      process.nextTick(sendTurn, this);
    } else if (this.#turnLength + length > turn.length) {
      const grown = Buffer.allocUnsafe(this.#window);
      grown.set(turn.subarray(0, this.#turnLength));
      turn = this.#turn = grown;
    }
    turn.set(bytes, this.#turnLength);
    this.#turnLength += length;
    return this.#writable;
  }

  /**
   * @internal The turn's writes go out as one Node write (one system call), as lwIP gathers
   * a board's writes into segments: a client that writes packet by packet costs a fleet one
   * call per turn, not per packet. Their room comes back together, once Node has handed all
   * of them to the kernel (Moddable's Linux port refills its window only once everything
   * was sent).
   */
  _sendTurn(): void {
    const turn = this.#turn;
    if (turn === undefined) return;
    this.#turn = undefined;
    const length = this.#turnLength;
    const data = turn.subarray(0, length);
    this.later(2, () => {
      if (this.socket.destroyed) return;
      this.socket.write(data, () => {
        if (this.#closed || this.#failed) return;
        this.#writable += length;
        this.#reportWritable();
      });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#connected && !this.socket.connecting) {
      this.socket.destroy(); // never connected (an unroutable socket): nothing to send
      return;
    }
    // what was written still goes out, then FIN
    this._sendTurn();
    this.later(2, () => this.socket.end(() => this.socket.destroy()));
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  /** Cuts the connection at once, as a lost link would (no FIN handshake wait). */
  destroy(): void {
    this.socket.destroy();
  }
}

function sendTurn(socket: HostSocket): void {
  socket._sendTurn();
}

/**
 * As Moddable's constructor (xs_tcp_constructor in modules/io/socket/lwip/tcp.c and lin/tcp.c):
 * the address must be an IP address, never a host name (resolve it first), else Error
 * "invalid address"; a port outside 0...65535 is RangeError "invalid port".
 */
function checkAddress(options: HostSocketOptions): void {
  if (net.isIP(String(options.address)) === 0) throw new Error("invalid address");
  const port = Math.trunc(Number(options.port));
  if (!(port >= 0 && port <= 65535)) throw new RangeError("invalid port");
}

/** `embedded:io/socket/tcp` on node:net. */
export class TCP extends HostSocket {
  constructor(options: HostSocketOptions) {
    checkAddress(options);
    const socket = options.unroutable === true ? new net.Socket()
      : net.connect({ host: options.address, port: options.port, noDelay: options.nodelay ?? true });
    super(options, socket, "connect");
  }
}

/** What Moddable's TLS socket deducts from the TCP room for a record's overhead. */
export const TLS_OVERHEAD = 96;

/**
 * `embedded:io/socket/tcp/tls` on node:tls, with the options of Moddable's TLS socket
 * (examples/io/tcp/tlssocket/tlssocket.js) and nothing else: `TCP: {io}` (without it the
 * constructor throws a TypeError, as Moddable's does when it makes its TCP socket), `host`
 * as the name to check and send (SNI) unless `secure.serverName` says another, and in
 * `secure` (modules/crypt/ssl/ssl_cert.js) `certificate` (a CA, DER), `clientCertificates`
 * (DER) and `clientKey` (PKCS #8 DER); `verify: false` skips the check. A top-level `ca`,
 * or PEM where DER goes, does not work here, as on a board. TLS 1.2 only, as Moddable's
 * socket asks for (protocolVersion 0x303). Node connects on its own, not through `TCP.io`.
 */
export class TLS extends HostSocket {
  constructor(options: HostSocketOptions) {
    const Tcp = (options.TCP as { io: unknown }).io;
    if (typeof Tcp !== "function") throw new TypeError("TCP.io is not a constructor");
    checkAddress(options);
    const secure = options.secure ?? {};
    const serverName = secure.serverName ?? options.host;
    const certificate = secure.certificate === undefined ? undefined : pemOf(derBytes(secure.certificate, "certificate"), "CERTIFICATE");
    const chain = secure.clientCertificates;
    if (chain !== undefined && !Array.isArray(chain)) throw new TypeError("clientCertificates must be an array");
    const socket = options.unroutable === true ? new net.Socket() : tls.connect({
      host: options.address,
      port: options.port,
      servername: serverName !== undefined && net.isIP(serverName) === 0 ? serverName : undefined,
      ca: certificate ?? options.trust,
      cert: chain === undefined || chain.length === 0 ? undefined
        : chain.map((c, i) => pemOf(derBytes(c, "clientCertificates[" + i + "]"), "CERTIFICATE")).join(""),
      key: secure.clientKey === undefined ? undefined : pemOf(Buffer.from(bytesOf(secure.clientKey)), "PRIVATE KEY"),
      minVersion: "TLSv1.2",
      maxVersion: "TLSv1.2",
      rejectUnauthorized: secure.verify !== false,
      // Moddable's check fails without a name to check (ssl_cert.js, verify: "tls_server_name required")
      checkServerIdentity: (_name, cert) => serverName === undefined
        ? new Error("no server name to check") : tls.checkServerIdentity(serverName, cert),
    });
    socket.setNoDelay(options.nodelay ?? true);
    super(options, socket, "secureConnect");
  }

  /**
   * As Moddable's TLS socket's read (tlssocket.js): a buffer must be a view (an ArrayBuffer
   * is a RangeError once data waits: it copies into `new Uint8Array(buffer.buffer)`), and a
   * view is filled with at most what is waiting, returning that count.
   */
  override read(buffer?: ArrayBuffer | ArrayBufferView | number): any {
    if (buffer !== undefined && typeof buffer === "object" && !ArrayBuffer.isView(buffer)) {
      if (this.waiting > 0) throw new RangeError("offset out of range");
      return undefined;
    }
    if (buffer !== undefined && typeof buffer === "object" && buffer.byteLength > this.waiting && this.waiting > 0) {
      return super.read(new Uint8Array(buffer.buffer, buffer.byteOffset, this.waiting));
    }
    return super.read(buffer);
  }

  /**
   * As Moddable's TLS socket (examples/io/tcp/tlssocket/tlssocket.js, #onWritable): the TCP
   * room less 96 bytes (its estimate of a record's overhead), and no callback at 96 or less.
   */
  protected override writableCount(room: number): number | undefined {
    return room > TLS_OVERHEAD ? room - TLS_OVERHEAD : undefined;
  }
}

/**
 * DER bytes from a `secure` option: Moddable's TLS decodes DER only (ssl_cert.js, X509.decode),
 * and throws at construction for anything else.
 */
function derBytes(value: unknown, name: string): Buffer {
  if (!(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) throw new TypeError(name + ": DER bytes expected");
  const bytes = Buffer.from(bytesOf(value));
  if (bytes[0] !== 0x30) throw new Error(name + ": not DER (a certificate is an ASN.1 SEQUENCE)");
  return bytes;
}

/** DER bytes as the PEM text Node reads (Node reads DER CA certificates as nothing at all). */
function pemOf(der: Buffer, label: string): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return "-----BEGIN " + label + "-----\n" + lines.join("\n") + "\n-----END " + label + "-----\n";
}
