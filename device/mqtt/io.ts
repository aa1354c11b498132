/*
 * The shapes of the IO the client is handed (ECMA-419 and Moddable): a TCP or TLS socket
 * class, a DNS resolver, the Timer module, and text encoding. Types only: the board passes
 * Moddable's own classes, the simulator passes classes of the same shape built on Node.
 */

/** A connected byte stream: ECMA-419 `embedded:io/socket/tcp` (and `.../tcp/tls`). */
export interface Socket {
  /**
   * Fills the whole buffer and returns its byteLength, as Moddable's socket does: it throws
   * when fewer bytes are waiting, and returns undefined when none are.
   */
  read(buffer: ArrayBuffer | ArrayBufferView): number | undefined;
  /**
   * Writes all of the buffer or throws (past the writable count); returns the writable count
   * left, or undefined once the connection has failed (Moddable).
   */
  write(buffer: ArrayBuffer | ArrayBufferView): number | undefined;
  close(): void;
}

export interface SocketOptions {
  /** An IP address: resolve host names first. */
  address: string;
  port: number;
  nodelay?: boolean;
  /** TLS only: the name the certificate must carry (and SNI), unless `secure.serverName` says another. */
  host?: string;
  /**
   * TLS only: the TCP socket class the TLS session runs over (Moddable's TLS socket needs
   * it); `base` is the class that one opens, when it wraps another (transport.ts).
   */
  TCP?: { io: SocketClass; base?: SocketClass };
  /** TLS only: the session's options. */
  secure?: SecureOptions;
  onReadable?: (this: Socket, count: number) => void;
  onWritable?: (this: Socket, count: number) => void;
  /** Also means "disconnected". Moddable calls it without arguments. */
  onError?: (this: Socket, message?: string) => void;
}

/**
 * The `secure` options of Moddable's TLS socket (examples/io/tcp/tlssocket/tlssocket.js hands
 * them to its TLS session; modules/crypt/ssl/ssl_cert.js reads them), all DER bytes.
 */
export interface SecureOptions {
  /** A CA certificate to trust, besides the certificate store. */
  certificate?: ArrayBuffer | ArrayBufferView;
  /** The client's certificate chain, the client's own first. */
  clientCertificates?: (ArrayBuffer | ArrayBufferView)[];
  /** The private key of the first client certificate, PKCS #8. */
  clientKey?: ArrayBuffer | ArrayBufferView;
  /** The name to check and send for SNI, instead of the socket's `host`. */
  serverName?: string;
}

export type SocketClass = new (options: SocketOptions) => Socket;

/** A DNS resolver (ECMA-419 `embedded:network/dns/resolver`). */
export interface Resolver {
  resolve(options: {
    host: string;
    onResolved: (host: string, address: string) => void;
    onError: (host: string) => void;
  }): void;
}

export type TimerId = unknown;

/** Moddable's `timer` module. */
export interface TimerModule {
  repeat(callback: (id: TimerId) => void, interval: number): TimerId;
  clear(id: TimerId): void;
  /** Reschedules a timer: due after `delay` ms, then every `repeat` ms (the client changes its timer's period with it when present). */
  schedule?(id: TimerId, delay: number, repeat: number): void;
}

/** Node's and Moddable's TextEncoder (`text/encoder`). */
export interface TextEncoderLike {
  encode(text: string): Uint8Array;
  encodeInto(text: string, into: Uint8Array): { read?: number; written: number };
}

/** Node's and Moddable's TextDecoder (`text/decoder`). */
export interface TextDecoderLike {
  decode(bytes: Uint8Array): string;
}

/** Everything the client needs from its platform. */
export interface ClientIo {
  TCP: SocketClass;
  TLS?: SocketClass;
  resolver?: Resolver;
  Timer: TimerModule;
  TextEncoder: new () => TextEncoderLike;
  TextDecoder: new () => TextDecoderLike;
  /** Milliseconds; defaults to Date.now. */
  now?: () => number;
  /** A number in [0, 1); defaults to Math.random. Used for reconnect jitter. */
  random?: () => number;
}
