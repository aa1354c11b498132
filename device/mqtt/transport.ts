/*
 * Opening the connection's socket: the broker's address (from DNS when the host is a name),
 * then a TCP or TLS socket of the class the client was handed, with the options it takes.
 * Holds no state and never retries: the client decides what a failure means.
 */

import type { ClientIo, Socket } from "./io.js";
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

/** A new socket to `address`; throws what the socket class throws. */
export function openSocket(io: ClientIo, settings: Settings, address: string, events: SocketEvents): Socket {
  const tls = settings.tls;
  const Socket = tls === undefined ? io.TCP : io.TLS!;
  return new Socket({
    address,
    port: settings.port,
    nodelay: true,
    host: tls === undefined ? undefined : tls.serverName ?? settings.host,
    ca: tls === undefined ? undefined : tls.ca,
    onWritable: events.onWritable,
    onReadable: events.onReadable,
    onError: events.onError,
  });
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
