/*
 * A simulated board's network link on Node: TCP and TLS classes (host-sim/io/sockets.ts, with
 * the device's send window) that belong to one board, so that the link can be cut as a
 * lost Wi-Fi link would be: cut() destroys the board's connections at once (no DISCONNECT,
 * no FIN wait: the broker publishes the will) and makes new sockets throw "network
 * unreachable" until restore(). For the XS engine the same is TcpService.cut() / restore()
 * (host-sim/engines/xs/tcp-service.ts). With `rtt` the link has latency: a connection comes
 * up one rtt after it is opened (the TCP handshake; a TLS handshake's own round trips are not
 * delayed) and bytes take rtt / 2 each way. The
 * network counts the board's round trips: each time bytes arrive after the board wrote
 * since the last arrival, the board waited for an answer once. The board's Wi-Fi radio
 * (wifi.ts) governs it too: while the Wi-Fi is down (setRoutable(false)) connections fail
 * and new sockets never connect, as on an ESP32. Node side only.
 */

import type { SocketClass } from "../../device/mqtt/index.js";
import type { BoardAbort } from "./abort.js";
import { EMPTY, withItem, withoutItem } from "./lists.js";
import { TCP, TLS } from "./sockets.js";
import type { HostSocketOptions } from "./sockets.js";

export interface NetworkOptions {
  /** CA certificates the board's TLS sockets trust (PEM), for a broker with its own CA. */
  ca?: string;
  /**
   * Why a connection failed, as Node says it ("connect ECONNREFUSED ..."): a board's socket
   * reports a failure without a reason, as Moddable's does, so the simulator logs it here.
   */
  onFailure?: (reason: string) => void;
  /** Runs the sockets' callbacks: an exception escaping one aborts the board (abort.ts). */
  abort?: BoardAbort;
  /** Round-trip time of the link, ms (default 0). */
  rtt?: number;
}

export class BoardNetwork {
  /** The board's ECMA-419 TCP class. */
  readonly TCP: SocketClass;
  readonly #ca: string | undefined;
  /** @internal Runs the sockets' callbacks (NetworkOptions.abort). */
  readonly _abort: BoardAbort | undefined;
  /** See NetworkOptions.onFailure; settable after construction. */
  onFailure: ((reason: string) => void) | undefined;
  #tls: SocketClass | undefined;
  /** Open sockets (one or two: an array is smaller than a Set), replaced on every change (lists.ts). */
  #sockets: readonly (TCP | TLS)[] = EMPTY;
  #down = false;
  #routable = true;
  /** Waiting in settled() for the last connection to close. */
  #emptied: (() => void)[] | undefined = undefined;
  /** The link's round-trip time, ms. */
  readonly rtt: number;
  /** Times the board waited for an answer: bytes arrived after it had written (see above). */
  roundTrips = 0;
  #wrote = false;

  constructor(options: NetworkOptions = {}) {
    this.rtt = options.rtt ?? 0;
    this.#ca = options.ca;
    this._abort = options.abort;
    this.onFailure = options.onFailure;
    // one socket class for every board (bound to this network), so a fleet shares its shapes
    this.TCP = NetworkTCP.bind(null, this);
  }

  /** The board's ECMA-419 TLS class (made on first use: most boards of a fleet never need it). */
  get TLS(): SocketClass {
    this.#tls ??= NetworkTLS.bind(null, this);
    return this.#tls;
  }

  /** @internal Throws while the link is cut (a socket being constructed). */
  _admit(): void {
    if (this.#down) throw new Error("network unreachable");
  }

  /** @internal The CA certificates the board's TLS sockets trust. */
  get _ca(): string | undefined {
    return this.#ca;
  }

  /** Connections not fully closed yet. */
  get connections(): number {
    return this.#sockets.length;
  }

  get down(): boolean {
    return this.#down;
  }

  /** The link is lost: every connection is destroyed and new ones are refused until restore(). */
  cut(): void {
    this.#down = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  /** The link is back. */
  restore(): void {
    this.#down = false;
  }

  /**
   * The board's radio goes off (deep sleep): every socket the board has not closed is
   * destroyed at once; what it closed still sends what it wrote, then its FIN.
   */
  powerOff(): void {
    for (const socket of this.#sockets) if (!socket.closing) socket.destroy();
  }

  /** Whether the board's Wi-Fi carries packets (wifi.ts). */
  get routable(): boolean {
    return this.#routable;
  }

  /**
   * The board's Wi-Fi went down (false) or came back with an address (true). Down: every
   * connection fails (onError, as lwIP aborts the connections bound to the lost address)
   * and sockets made until it is back never connect and never call back (tcp_connect's "no
   * route" is dropped on an ESP32: modules/network/socket/lwip/modLwipSafe.c tcp_connect_safe).
   */
  setRoutable(routable: boolean): void {
    this.#routable = routable;
    if (!routable) for (const socket of this.#sockets) socket.destroy();
  }

  /** Resolves once every connection is fully closed, or after `timeout` ms (then destroys what is left). */
  async settled(timeout: number): Promise<void> {
    if (this.#sockets.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        (this.#emptied ??= []).push(resolve);
        timer = setTimeout(resolve, timeout);
      });
      clearTimeout(timer);
    }
    for (const socket of this.#sockets) socket.destroy();
  }

  /** @internal A new socket of this network, until its connection closes (_untrack). */
  _track(socket: TCP | TLS): void {
    if (!this.#sockets.includes(socket)) this.#sockets = withItem(this.#sockets, socket);
  }

  /** @internal The board wrote, or bytes arrived for it: counts round trips. */
  _traffic(arrived: boolean): void {
    if (!arrived) this.#wrote = true;
    else if (this.#wrote) {
      this.#wrote = false;
      this.roundTrips++;
    }
  }

  /** @internal A socket's connection closed. */
  _untrack(socket: TCP | TLS): void {
    this.#sockets = withoutItem(this.#sockets, socket);
    const emptied = this.#emptied;
    if (this.#sockets.length === 0 && emptied !== undefined) for (const resolve of emptied.splice(0)) resolve();
  }
}

/**
 * A socket class of a BoardNetwork, made from TCP or TLS: refused while the link is cut,
 * tracked until closed, its callbacks run under the board's abort guard, and Node's reason for
 * a failed connection logged. `adapt` makes the base class's options from the ones given.
 */
function networkSocket(Base: typeof TCP | typeof TLS, adapt: (network: BoardNetwork, options: HostSocketOptions) => HostSocketOptions) {
  // TCP and TLS take the same options and share these hooks (HostSocket's): one subclass serves both
  return class extends (Base as typeof TCP) {
    readonly #network: BoardNetwork;

    constructor(network: BoardNetwork, socketOptions: HostSocketOptions) {
      network._admit();
      const options = adapt(network, socketOptions);
      super(network.routable ? options : { ...options, unroutable: true });
      this.#network = network;
      network._track(this);
    }

    override write(buffer: ArrayBuffer | ArrayBufferView): number | undefined {
      const count = super.write(buffer);
      this.#network._traffic(false);
      return count;
    }

    /** With latency: the handshake takes an rtt, bytes and a failure rtt / 2 (timers of one delay keep their order). */
    protected override later(step: 0 | 1 | 2 | 3, run: () => void): void {
      const network = this.#network;
      const go = step !== 1 ? run : () => {
        network._traffic(true);
        run();
      };
      if (network.rtt === 0) go();
      else setTimeout(go, step === 0 ? network.rtt : network.rtt / 2);
    }

    protected override deliver(callback: ((...args: any[]) => void) | undefined, ...args: number[]): void {
      const abort = this.#network._abort;
      if (abort === undefined) super.deliver(callback, ...args);
      else abort.run(callback, this, ...args);
    }

    protected override closed(): void {
      this.#network._untrack(this);
    }

    protected override failed(reason: string): void {
      this.#network.onFailure?.(reason);
    }
  };
}

const NetworkTCP = networkSocket(TCP, (_network, options) => options);

/** A TLS socket of a BoardNetwork trusts the network's CA (its certificate store) unless the options name one. */
const NetworkTLS = networkSocket(TLS, (network, options) => network._ca === undefined ? options : { ...options, trust: network._ca });
