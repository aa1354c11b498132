// XS side of the bridged Wi-Fi interface: a class of the ECMA-419 network interface shape
// of Moddable's embedded:network/interface/wifi (options onChanged; getters connection,
// address, RSSI; close) over a simulated board's radio on the Node side (host-sim/io/wifi.ts,
// through host-sim/engines/xs/wifi-service.ts). onChanged runs only from a delivery, never
// inside a method call, with `this` = the instance; after close() the getters throw as
// Moddable's do. `address()` is the board's address (the firmware's io.address).
// Simulator only: it allocates freely and must not be bundled into device code.

import { call, callback, listen } from "./bridge.js";

const SERVICE = "wifi";
const interfaces = new Map();
let nextId = 1;

export class WiFi {
  #id;
  #onChanged;
  #closed = false;

  constructor(options) {
    if (options === null || typeof options !== "object") throw new TypeError("options required");
    const onChanged = options.onChanged;
    const id = nextId++;
    call(SERVICE, { op: "open", id, onChanged: typeof onChanged === "function" ? "function" : "none" });
    this.#id = id;
    this.#onChanged = typeof onChanged === "function" ? onChanged : undefined;
    interfaces.set(id, this);
  }

  get connection() {
    return this.#state().connection;
  }

  get address() {
    return this.#state().address ?? undefined;
  }

  get RSSI() {
    return this.#state().RSSI ?? undefined;
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    interfaces.delete(this.#id);
    call(SERVICE, { op: "close", id: this.#id });
  }

  #state() {
    if (this.#closed) throw new SyntaxError("C: xsGetHostData: invalid host data");
    return call(SERVICE, { op: "state", id: this.#id }).header;
  }

  #changed(property) {
    if (this.#onChanged) callback(this.#onChanged, this, 1, property);
  }

  static {
    listen(SERVICE, (header) => {
      const wifi = interfaces.get(header.id);
      if (wifi !== undefined && !wifi.#closed) wifi.#changed(header.property);
    });
  }
}

/** The board's IP address, or undefined while its Wi-Fi is down. */
export function address() {
  return call(SERVICE, { op: "address" }).header.address ?? undefined;
}
