// XS side entry of the host bridge, loaded by XsHost.start() as the global `hostIo`: the
// IO a client gets inside xsnap (TCP and Timer bridged to Node, TextEncoder/TextDecoder
// from xsnap's globals) and the bridge itself, for services added later (a simulated
// board's I2C, digital pins, ...). Simulator only: never bundled into device code.

import { TCP } from "./tcp.js";
import { Timer } from "./timer.js";

export { call, listen } from "./bridge.js";
export { TCP, Timer };
export const TextEncoder = globalThis.TextEncoder;
export const TextDecoder = globalThis.TextDecoder;

/** The ClientIo shape (device/mqtt/io.ts) over the bridge. */
export const io = Object.freeze({ TCP, Timer, TextEncoder, TextDecoder });
