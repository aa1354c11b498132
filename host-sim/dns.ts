/*
 * An ECMA-419 DNS resolver on node:dns. Node side only.
 */

import { lookup } from "node:dns";
import type { Resolver } from "../device/mqtt/io.js";

export class HostResolver implements Resolver {
  resolve(options: { host: string; onResolved: (host: string, address: string) => void; onError: (host: string) => void }): void {
    lookup(options.host, (error, address) => {
      if (error) options.onError(options.host);
      else options.onResolved(options.host, address);
    });
  }
}
