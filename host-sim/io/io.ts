/*
 * The IO bundle a client or a simulated board gets on Node: sockets, DNS, Timer, text
 * encoding (Moddable's, host-sim/io/text.ts). Node side only.
 */

import type { ClientIo } from "../../device/mqtt/index.js";
import { HostResolver } from "./dns.js";
import { TextDecoder, TextEncoder } from "./text.js";
import { TCP, TLS } from "./sockets.js";
import { Timer } from "./timer.js";

export function hostIo(): ClientIo {
  return {
    TCP,
    TLS,
    resolver: new HostResolver(),
    Timer,
    TextEncoder,
    TextDecoder,
  };
}

export { TCP, TLS, Timer, HostResolver };
