/*
 * Opening the connection's socket: the broker's address (from DNS when the host is a name),
 * then a TCP or TLS socket of the class the client was handed, with the options it takes.
 * Holds no state and never retries: the client decides what a failure means.
 */

import type { ClientIo, Socket, SocketClass, SocketOptions } from "./io.js";
import type { Settings } from "./options.js";

export interface SocketEvents {
  onWritable(count: number): void;
  onReadable(count: number): void;
  onError(message?: string): void;
}

/** Calls `onAddress` with the host's address (at once for an IP address or without a resolver), or `onError`. */
export function resolveHost(io: ClientIo, host: string, onAddress: (address: string) => void, onError: () => void): void {
  const resolver = io.resolver;
  if (resolver === undefined || isIpAddress(host)) {
    onAddress(host);
    return;
  }
  try {
    resolver.resolve({ host, onResolved: (_host, address) => onAddress(address), onError });
  } catch {
    onError();
  }
}

/**
 * A new socket to `address`; throws what the socket class throws. TLS takes the shape of
 * Moddable's TLS socket (examples/io/tcp/tlssocket/tlssocket.js): the TCP class to run
 * over as `TCP: {io}`, the name to check as `host`, certificates and key in `secure`.
 */
export function openSocket(io: ClientIo, settings: Settings, address: string, events: SocketEvents): Socket {
  const tls = settings.tls;
  const options: SocketOptions = {
    address, port: settings.port, nodelay: true,
    onWritable: events.onWritable, onReadable: events.onReadable, onError: events.onError,
  };
  if (tls === undefined) return new io.TCP(options);
  options.host = tls.serverName ?? settings.host;
  options.TCP = { io: GuardedTCP as SocketClass, base: io.TCP };
  options.secure = tls.secure;
  return new io.TLS!(options);
}

/**
 * The TCP socket under a TLS socket. Moddable's TLS session throws from inside its TCP
 * socket's callbacks when a handshake fails (a certificate either side refuses, an alert
 * from the broker: modules/crypt/ssl/ssl_handshake.js, ssl_alert.js), and an exception that
 * escapes a callback aborts XS: the board reboots. This socket opens a socket of the class
 * given as `TCP.base` and runs the TLS socket's callbacks guarded: an exception closes the
 * connection and becomes onError(), which the client reports as "tls-failed". It keeps the
 * `readable` and `writable` fields Moddable's TLS socket sets on its TCP socket.
 */
class GuardedTCP implements Socket {
  readable = 0;
  writable = 0;
  readonly #socket: Socket;
  readonly #options: SocketOptions;
  #closed = false;

  constructor(options: SocketOptions) {
    this.#options = options;
    const Base = options.TCP!.base!;
    this.#socket = new Base({
      address: options.address, port: options.port, nodelay: options.nodelay,
      onReadable: (count) => this.#run(this.#options.onReadable, count),
      onWritable: (count) => this.#run(this.#options.onWritable, count),
      onError: () => this.#run(this.#options.onError, undefined),
    });
  }

  /** Runs one of the TLS socket's callbacks; what it throws ends the connection as an error. */
  #run(callback: ((this: Socket, count: never) => void) | undefined, count: number | undefined): void {
    if (callback === undefined || (this.#closed && count !== undefined)) return;
    try {
      if (count === undefined) (callback as (this: Socket) => void).call(this);
      else (callback as (this: Socket, count: number) => void).call(this, count);
    } catch {
      if (this.#closed) return;
      this.close();
      // onReadable or onWritable threw: onError tells the TLS socket, and through it the client
      if (count !== undefined) this.#run(this.#options.onError, undefined);
    }
  }

  read(buffer: ArrayBuffer | ArrayBufferView): number | undefined {
    return this.#socket.read(buffer);
  }

  write(buffer: ArrayBuffer | ArrayBufferView): number | undefined {
    return this.#socket.write(buffer);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }
}

/** Closes a socket that may have closed itself already. */
export function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

/** Whether a host is already an IP address (v4 dotted quad, or v6 with colons): no DNS needed. */
export function isIpAddress(host: string): boolean {
  if (host.indexOf(":") >= 0) return true;
  let dots = 0;
  for (let i = 0; i < host.length; i++) {
    const code = host.charCodeAt(i);
    if (code === 0x2e) dots++;
    else if (code < 0x30 || code > 0x39) return false;
  }
  return dots === 3;
}
