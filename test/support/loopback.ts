/*
 * A TCP or TLS server on a free port of 127.0.0.1 for the socket tests, and the clean-up of
 * everything a test opened: the server, the connections it accepted, the sockets under test.
 * Test code only; call close() in afterEach.
 */
import { createServer } from "node:net";
import type { Server, Socket as NodeSocket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { TlsOptions } from "node:tls";

export class LoopbackServer {
  server: Server | undefined = undefined;
  /** The connections the server accepted, in order. */
  readonly peers: NodeSocket[] = [];
  /** Sockets under test: closed by close(). */
  readonly sockets: { close(): void }[] = [];

  /**
   * Listens (TLS when `tls` gives a certificate and key); returns the port. `onPeer` sees each
   * accepted connection too. A refused TLS handshake is not an error here: tests expect some.
   */
  async listen(options: { tls?: TlsOptions; onPeer?: (peer: NodeSocket) => void } = {}): Promise<number> {
    const accept = (peer: NodeSocket): void => {
      this.peers.push(peer);
      options.onPeer?.(peer);
    };
    const server = options.tls === undefined ? createServer(accept) : createTlsServer(options.tls, accept);
    server.on("tlsClientError", () => {});
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as { port: number }).port;
  }

  /** Stops listening (the accepted connections stay). */
  async closeServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Closes the sockets under test, the accepted connections and the server. */
  async close(): Promise<void> {
    for (const socket of this.sockets.splice(0)) {
      try { socket.close(); } catch { /* closed already */ }
    }
    for (const peer of this.peers.splice(0)) peer.destroy();
    await this.closeServer();
  }
}
