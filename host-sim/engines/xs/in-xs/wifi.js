// XS side of the bridged Wi-Fi interface: a class of the ECMA-419 network interface shape
// of Moddable's embedded:network/interface/wifi (options onChanged; getters connection,
// address, RSSI; connect, disconnect, close) over a simulated board's radio on the Node side
// (host-sim/io/wifi.ts, through host-sim/engines/xs/wifi-service.ts). connect() reads its
// options here in Moddable's order (wifi-esp32.c xs_wifi419_connect) and the Node side checks
// and joins; onChanged runs only from a delivery, never inside a method call, with `this` =
// the instance; after close() everything throws as Moddable's does. `address()` is the
// board's address (the firmware's io.address), `credentials()` the access point's SSID and
// password (what a board's mc/config gives).
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

  connect(options) {
    this.#open();
    if (this.connection === 300) throw new Error("already connecting");
    if (options === undefined || options === null) throw new TypeError("cannot coerce " + options + " to object");
    const object = Object(options);
    if (!("SSID" in object)) throw new Error("SSID required");
    const SSID = `${object.SSID}`; // ToString, as XS: a Symbol is a TypeError
    const password = "password" in object ? `${object.password}` : null;
    const channel = "channel" in object ? Math.trunc(Number(object.channel)) || 0 : null;
    call(SERVICE, { op: "connect", id: this.#id, SSID, password, channel });
  }

  disconnect() {
    this.#open();
    call(SERVICE, { op: "disconnect", id: this.#id });
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    interfaces.delete(this.#id);
    call(SERVICE, { op: "close", id: this.#id });
  }

  #open() {
    if (this.#closed) throw new SyntaxError("C: xsGetHostData: invalid host data");
  }

  #state() {
    this.#open();
    return call(SERVICE, { op: "state", id: this.#id }).header;
  }

  // an event delivered: applied on the Node side now (as Moddable's wifiConnectDeliver runs in the machine), then onChanged as due
  #changed(wifiEvent) {
    const { properties } = call(SERVICE, { op: "apply", id: this.#id, wifiEvent }).header;
    for (const property of properties) {
      if (this.#onChanged && !this.#closed) callback(this.#onChanged, this, 1, property);
    }
  }

  static {
    listen(SERVICE, (header) => {
      const wifi = interfaces.get(header.id);
      if (wifi !== undefined && !wifi.#closed) wifi.#changed(header.wifiEvent);
    });
  }
}

/** The board's IP address, or undefined while its Wi-Fi is down. */
export function address() {
  return call(SERVICE, { op: "address" }).header.address ?? undefined;
}

/** The access point's SSID and password: { SSID, password } (password undefined for an open one). */
export function credentials() {
  const { SSID, password } = call(SERVICE, { op: "credentials" }).header;
  return password === null ? { SSID } : { SSID, password };
}
