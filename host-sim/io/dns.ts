/*
 * An ECMA-419 DNS resolver on node:dns that answers as Moddable's UDP resolver does
 * (examples/io/udp/dns/dns.js; docs/moddable-io.md, "DNS"): IPv4 A records only (Node is
 * asked for family 4), callbacks never from inside resolve() and with `this` = the
 * resolver, onResolved(host, address) / onError(host), "localhost" and dotted IPv4
 * addresses answered without a query, and a failure after Moddable's retries (5 s per
 * server) when no answer comes. Node side only; it must not answer with an IPv6 address.
 */

import { lookup } from "node:dns";
import type { Resolver } from "../../device/mqtt/index.js";
import type { BoardAbort } from "./abort.js";

export interface HostResolverOptions {
  /** DNS servers (Moddable's required `servers`): only their count matters here (the retry time). */
  servers?: readonly string[];
  /** Runs the callbacks: an exception escaping one aborts the board (abort.ts). */
  abort?: BoardAbort;
}

/** Moddable's resolver queries each server once a second, 5 times, before onError. */
export const DNS_TIMEOUT_PER_SERVER = 5000;

type Callback = ((this: HostResolver, host: string, address?: string) => void) | undefined;

export class HostResolver implements Resolver {
  readonly #servers: number;
  readonly #abort: BoardAbort | undefined;
  #closed = false;

  constructor(options: HostResolverOptions = {}) {
    this.#servers = Math.max(1, options.servers?.length ?? 1);
    this.#abort = options.abort;
  }

  /** As Moddable's: throws Error when there is no host, no callback, or the resolver is closed. */
  resolve(options: { host: string; onResolved?: (host: string, address: string) => void; onError?: (host: string) => void }): void {
    const { onResolved, onError } = options;
    if (!options.host || (!onResolved && !onError) || this.#closed) throw new Error();
    let host = String(options.host);
    if (host === "localhost") host = "127.0.0.1";
    if (isDottedQuad(host)) {
      // answered by the resolver's first timer tick, never inside resolve()
      setImmediate(() => this.#call(onResolved as Callback, host, host));
      return;
    }
    let done = false;
    const timeout = setTimeout(() => {
      done = true;
      this.#call(onError as Callback, host);
    }, DNS_TIMEOUT_PER_SERVER * this.#servers);
    lookup(host, { family: 4 }, (error, address) => {
      if (done) return;
      done = true;
      clearTimeout(timeout);
      if (error) this.#call(onError as Callback, host);
      else this.#call(onResolved as Callback, host, address);
    });
  }

  /** Pending requests get no callback afterwards; resolve() throws. */
  close(): void {
    this.#closed = true;
  }

  #call(callback: Callback, host: string, address?: string): void {
    if (this.#closed || callback === undefined) return;
    const args: [string] | [string, string] = address === undefined ? [host] : [host, address];
    if (this.#abort === undefined) (callback as (...a: string[]) => void).apply(this, args);
    else this.#abort.run(callback as (...a: string[]) => void, this, ...args);
  }
}

/** Four dot-separated decimal numbers, as Moddable's resolver tests for an address. */
function isDottedQuad(host: string): boolean {
  const parts = host.split(".");
  return parts.length === 4 && parts.every((part) => parseInt(part) === Number(part));
}
