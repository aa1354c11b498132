/*
 * The package's "xs-mqtt/node" entry (bundled as dist/node.mjs): the IO a client needs on
 * Node.js, as ECMA-419 classes that behave as Moddable's do. hostIo() assembles them for
 * `new MqttClient({ ..., io: hostIo() })`; the classes are exported for one's own IO
 * (a TCP socket with another send window, a Timer shared with other code). Re-exports
 * only; it holds no client code, which comes from "xs-mqtt".
 */

export { hostIo } from "./io/io.js";
export { TCP, TLS, DEFAULT_WINDOW, TLS_OVERHEAD } from "./io/sockets.js";
export type { HostSocketOptions } from "./io/sockets.js";
export { HostResolver, DNS_TIMEOUT_PER_SERVER } from "./io/dns.js";
export type { HostResolverOptions } from "./io/dns.js";
export { Timer } from "./io/timer.js";
export type { HostTimerId } from "./io/timer.js";
export { TextDecoder, TextEncoder } from "./io/text.js";
