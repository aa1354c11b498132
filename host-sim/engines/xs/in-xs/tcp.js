// XS side of the bridged TCP socket: a class of the ECMA-419 `embedded:io/socket/tcp`
// shape (options object with address, port, nodelay, onWritable, onReadable, onError;
// read, write, close) whose connection is a host-sim TCP socket on the Node side. It reads
// exactly as Moddable's socket does (read(buffer) fills the whole buffer or throws).
// write() is synchronous and throws what the host's socket throws ("would block" past the
// 1,536-byte window); received bytes arrive as deliveries and wait here until read.
// Callbacks run only from deliveries, never from inside a method call. Simulator only: it
// allocates freely and must not be bundled into device code.

import { bytesOf, call, callback, listen } from "./bridge.js";

const SERVICE = "tcp";
const sockets = new Map();
let nextId = 1;

export class TCP {
  #id;
  #options;
  #inbound = [];
  #offset = 0;
  #available = 0;
  #closed = false;
  #connected = false;
  #failed = false;
  /** The connection failed while bytes were unread: onError waits until they are read. */
  #errorHeld = false;

  constructor(options) {
    if (options === null || typeof options !== "object") throw new TypeError("TCP: options required");
    if (typeof options.address !== "string") throw new TypeError("TCP: address must be an IP address string");
    this.#options = options;
    this.#id = nextId++;
    call(SERVICE, {
      op: "connect", id: this.#id, address: options.address, port: options.port, nodelay: options.nodelay ?? true,
    });
    sockets.set(this.#id, this);
  }

  /**
   * As Moddable's read (modules/io/socket/lwip/tcp.c, xs_tcp_read): undefined when nothing is
   * waiting; otherwise exactly the count asked for (all that is waiting when none is given,
   * `buffer.byteLength` for a buffer, which returns that count), and "invalid" when that is
   * 0 or more than is waiting.
   */
  read(target) {
    if (this.#closed) throw new Error("closed");
    if (this.#available === 0) return undefined;
    const into = target === undefined || typeof target === "number" ? undefined : bytesOf(target);
    const wanted = into !== undefined ? into.length : target === undefined ? this.#available : Math.trunc(Number(target));
    if (!(wanted > 0) || wanted > this.#available) throw new Error("invalid");
    const out = into ?? new Uint8Array(wanted);
    this.#copyInto(out, wanted);
    if (this.#errorHeld && this.#available === 0) {
      // the last unread bytes are read: the error comes once the callback (or script) that read
      // them has returned, as Moddable triggers it from its task, never inside read()
      this.#errorHeld = false;
      callback(() => { if (!this.#closed) this.#error(); }, undefined, 0);
    }
    return into !== undefined ? wanted : out.buffer;
  }

  #copyInto(into, count) {
    let done = 0;
    while (done < count) {
      const head = this.#inbound[0];
      const take = Math.min(head.length - this.#offset, count - done);
      into.set(head.subarray(this.#offset, this.#offset + take), done);
      done += take;
      this.#offset += take;
      if (this.#offset === head.length) {
        this.#inbound.shift();
        this.#offset = 0;
      }
    }
    this.#available -= count;
  }

  /**
   * Writes all of the buffer or throws ("would block" past the window, "not ready" before the
   * connection is up and once it failed, as on an ESP32); returns the writable byte count left.
   */
  write(buffer) {
    if (this.#closed) throw new Error("closed");
    if (!this.#connected || this.#failed) throw new Error("not ready");
    return call(SERVICE, { op: "write", id: this.#id }, buffer).header.writable;
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    sockets.delete(this.#id);
    call(SERVICE, { op: "close", id: this.#id });
  }

  #event(header, body) {
    const options = this.#options;
    switch (header.event) {
      case "writable":
        this.#connected = true;
        if (options.onWritable) callback(options.onWritable, this, 1, header.count);
        return;
      case "readable":
        if (body.length === 0) return;
        this.#inbound.push(body);
        this.#available += body.length;
        if (options.onReadable) callback(options.onReadable, this, 1, this.#available);
        return;
      case "error":
        sockets.delete(this.#id);
        this.#failed = true;
        // no arguments, and only once what arrived before it was read (modules/io/socket/lwip/tcp.c)
        if (this.#available > 0) this.#errorHeld = true;
        else this.#error();
        return;
      default:
        throw new Error("TCP: unknown event " + JSON.stringify(header.event));
    }
  }

  #error() {
    if (this.#options.onError) callback(this.#options.onError, this, 0);
  }

  static {
    listen(SERVICE, (header, body) => {
      const socket = sockets.get(header.id);
      if (socket !== undefined && !socket.#closed) socket.#event(header, body);
    });
  }
}
