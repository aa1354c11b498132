/*
 * A simulated board's Wi-Fi: the access point (there, or away), the board's station (not
 * associated, joining, associated, or up with the address DHCP gave it), and an RSSI that
 * varies plausibly and deterministically (the same seed and time give the same value), with
 * an ECMA-419 network interface class over it of the shape of Moddable's
 * embedded:network/interface/wifi on an ESP32 (modules/io/wifi/esp32/wifi-esp32.c; the
 * rows of docs/moddable-io.md "Wi-Fi"): `connection` 500 / 400 / 300 / 200 per instance,
 * `address` and `RSSI` undefined while not connected, onChanged("connection") and
 * onChanged("address") called later, never inside a call, with `this` = the instance;
 * connect() starts one join (ESP-IDF's esp_wifi_connect tries once) and disconnect() ends it.
 * drop() takes the access point away: the board's connections fail (lwIP aborts what was
 * bound to the lost address) and sockets made while it is down never connect (network.ts).
 * restore() brings the access point back, and that alone does not bring the board back:
 * as on an ESP32 (Moddable's build/devices/esp32/setup/network.js joins once at boot), the
 * station stays disconnected until the firmware calls connect(). Node side only.
 */

import { mulberry32 } from "../engines/xs/in-xs/prng.js";
import { markActivity } from "./activity.js";
import { EMPTY, withItem, withoutItem } from "./lists.js";
import type { BoardNetwork } from "./network.js";

/** ECMA-419 network interface `connection` values. */
export const WIFI_CONNECTED = 500;
export const WIFI_ASSOCIATED = 400;
export const WIFI_CONNECTING = 300;
export const WIFI_DISCONNECTED = 200;

/** The access point the simulated boards join: its SSID and password. */
export const SIM_SSID = "xs-mqtt-sim";
export const SIM_PASSWORD = "xs-mqtt-sim-pass";

/** How long a join takes, ms, until it is associated or fails (ESP-IDF's scan and authentication, shortened). */
export const JOIN_MS = 100;

/** How long the RSSI's slow drift takes, ms (people walking by, doors), and its swing, dB. */
const DRIFT_PERIOD_MS = 90_000;
const DRIFT_DB = 4;
/** The RSSI's fast jitter: a new value every this many ms, within ± this many dB. */
const JITTER_SLOT_MS = 5_000;
const JITTER_DB = 2;

/** The station's state (ESP-IDF's): not associated, joining, associated without an address, up with one. */
const IDLE = 0;
const JOINING = 1;
const ASSOCIATED = 2;
const UP = 3;

/** ESP-IDF's events as Moddable passes them to every interface (wifi-esp32.c `broadcastWiFiEvent`). */
export const CONNECTED = "connected";
export const DISCONNECTED = "disconnected";
export const GOT_IP = "got-ip";
export type WifiEvent = typeof CONNECTED | typeof DISCONNECTED | typeof GOT_IP;

/** Runs an interface's callback (a board's abort guard on the Node engine; a bridge delivery for XS). */
export type WifiDeliver = (callback: OnChanged, self: SimWiFiInterface, property: string) => void;

/** An interface's onChanged: `this` is the interface. */
export type OnChanged = (this: SimWiFiInterface, property: string) => void;

export interface WifiListener {
  /** An ESP-IDF event for the interface (wifi-esp32.c `wifiConnectDeliver`). */
  changed(event: WifiEvent): void;
}

/** The default clock of a radio (one function for every board). */
function performanceNow(): number {
  return performance.now();
}

/** connect()'s options as Moddable reads them (`xs_wifi419_connect`). */
export interface WifiConnectOptions {
  SSID?: unknown;
  password?: unknown;
  channel?: unknown;
}

export class BoardWiFi {
  /** The board's address while connected (10.77.<n / 250>.<n % 250 + 2>). */
  readonly address: string;
  /** The access point's SSID and password: a join with others fails. */
  readonly ssid: string;
  readonly password: string | undefined;
  readonly #seed: number;
  readonly #baseRssi: number;
  readonly #phase: number;
  readonly #now: () => number;
  /** Up at start, as Moddable's setup/network leaves a board before its main runs. */
  #station = UP;
  #accessPoint = true;
  #network: BoardNetwork | undefined = undefined;
  #drops = 0;
  #joins = 0;
  /** Numbers the joins, so a join's late steps see that it was ended. */
  #join = 0;
  /** The open interfaces (usually one: the firmware's), replaced on every change (lists.ts: a Set would cost each board of a fleet a hash table). */
  #listeners: readonly WifiListener[] = EMPTY;

  /** The board's activity slot (activity.ts; -1: none): each change of the station counts. */
  readonly #activity: number;

  constructor(options: { seed: number; boardNumber: number; now?: () => number; ssid?: string; password?: string; activity?: number }) {
    const seed = options.seed >>> 0;
    this.#activity = options.activity ?? -1;
    this.#seed = seed;
    this.#now = options.now ?? performanceNow;
    this.ssid = options.ssid ?? SIM_SSID;
    this.password = "password" in options ? options.password : SIM_PASSWORD;
    const random = mulberry32(seed ^ 0x3c6ef372);
    // a board somewhere between next to the access point and two walls away
    this.#baseRssi = -45 - Math.floor(random() * 30);
    this.#phase = random() * DRIFT_PERIOD_MS;
    const n = options.boardNumber;
    this.address = "10.77." + Math.floor(n / 250) + "." + ((n % 250) + 2);
  }

  /** @internal The engine's network link, whose sockets the radio's state governs. */
  attach(network: BoardNetwork): void {
    this.#network = network;
    network.setRoutable(this.up);
  }

  /** The station as a whole: 500 (up with an address), 400 (associated, no address yet), 300 (joining) or 200 (not associated). */
  get connection(): number {
    const station = this.#station;
    return station === UP ? WIFI_CONNECTED : station === ASSOCIATED ? WIFI_ASSOCIATED : station === JOINING ? WIFI_CONNECTING : WIFI_DISCONNECTED;
  }

  /** Whether the station is up with an address. */
  get up(): boolean {
    return this.#station === UP;
  }

  /** Whether the station is associated (with or without an address yet). */
  get associated(): boolean {
    return this.#station === ASSOCIATED || this.#station === UP;
  }

  /** Whether the access point is there (drop() takes it away, restore() brings it back). */
  get accessPoint(): boolean {
    return this.#accessPoint;
  }

  /** Times the access point went away. */
  get drops(): number {
    return this.#drops;
  }

  /** Joins started (esp_wifi_connect() calls that began one): the board's connect() calls. */
  get joins(): number {
    return this.#joins;
  }

  /** The signal strength now, whole dBm (also while down: what the radio would measure). */
  rssi(at = this.#now()): number {
    const drift = DRIFT_DB * Math.sin((2 * Math.PI * (at + this.#phase)) / DRIFT_PERIOD_MS);
    const slot = Math.floor(at / JITTER_SLOT_MS);
    const jitter = (mulberry32((this.#seed ^ Math.imul(slot, 0x9e3779b1)) >>> 0)() * 2 - 1) * JITTER_DB;
    return Math.max(-95, Math.min(-30, Math.round(this.#baseRssi + drift + jitter)));
  }

  /**
   * The access point goes away: an associated station loses the link (its connections fail,
   * new sockets never connect) and every interface hears "connection"; a join under way
   * fails. The station does not come back by itself. No-op while the access point is away.
   */
  drop(): void {
    if (!this.#accessPoint) return;
    this.#accessPoint = false;
    this.#drops++;
    if (this.#station === ASSOCIATED || this.#station === UP) this.#lose();
  }

  /**
   * The access point is back. The station stays disconnected (as ESP-IDF's does) until an
   * interface's connect() joins it. No-op while the access point is there.
   */
  restore(): void {
    this.#accessPoint = true;
  }

  /**
   * @internal esp_wifi_connect(): false while the station is associated (ESP-IDF refuses);
   * otherwise a join starts (one that is under way goes on): after JOIN_MS the station is
   * associated (the interfaces hear it), then on the next turn of the event loop it has its
   * address; or, when the access point is away or the SSID or password is not its, the join
   * fails with a disconnect.
   */
  _connect(ssid: string, password: string | undefined): boolean {
    if (this.#station === ASSOCIATED || this.#station === UP) return false;
    if (this.#station === JOINING) return true;
    this.#station = JOINING;
    this.#joins++;
    const join = ++this.#join;
    setTimeout(() => {
      if (this.#station !== JOINING || this.#join !== join) return;
      if (!this.#accessPoint || ssid !== this.ssid || password !== this.password) {
        this.#station = IDLE;
        this.#tell(DISCONNECTED);
        return;
      }
      this.#station = ASSOCIATED;
      this.#tell(CONNECTED);
      setImmediate(() => {
        if (this.#station !== ASSOCIATED || this.#join !== join) return;
        this.#station = UP;
        this.#network?.setRoutable(true);
        this.#tell(GOT_IP);
      });
    }, JOIN_MS).unref();
    return true;
  }

  /** @internal esp_wifi_disconnect(): a join under way or the link ends; the interfaces hear the disconnect. */
  _disconnect(): void {
    if (this.#station === IDLE) return;
    this.#join++;
    this.#lose();
  }

  /**
   * An ECMA-419 Wi-Fi interface class over this radio; `deliver` runs the instances'
   * onChanged. With `forward`, an instance hands each event to it instead, untouched, and
   * whoever runs the instance's callbacks applies it with apply() when they run (the XS
   * engine: inside XS, as Moddable's delivery runs in the machine). A bound constructor,
   * not a class per board: a fleet's boards share one class and its hidden classes.
   */
  interfaceClass(deliver: WifiDeliver, forward?: (event: WifiEvent) => void): new (options: { onChanged?: OnChanged }) => SimWiFiInterface {
    return SimWiFiInterface.bind(null, this, deliver, forward) as unknown as new (options: { onChanged?: OnChanged }) => SimWiFiInterface;
  }

  /** @internal */
  _listen(listener: WifiListener): void {
    if (!this.#listeners.includes(listener)) this.#listeners = withItem(this.#listeners, listener);
  }

  /** @internal */
  _unlisten(listener: WifiListener): void {
    this.#listeners = withoutItem(this.#listeners, listener);
  }

  /** The station is no longer associated: its connections fail, the interfaces hear the disconnect. */
  #lose(): void {
    this.#station = IDLE;
    this.#network?.setRoutable(false);
    this.#tell(DISCONNECTED);
  }

  /** Tells every interface, from the event loop (never inside the caller's call). */
  #tell(event: WifiEvent): void {
    markActivity(this.#activity); // (every change of the station is told)
    for (const listener of this.#listeners) setImmediate(() => listener.changed(event));
  }
}

/**
 * One instance of the Wi-Fi interface class, as Moddable's (wifi-esp32.c): its own view of
 * the link (`connecting`, `connected`, its addresses), taken from the radio when it is made
 * and changed only when an event is delivered to it, or by its own connect() and
 * disconnect(); `address` and `RSSI` read the radio now. After close() every method and
 * getter throws as Moddable's does on a closed instance (xsmcGetHostDataValidate).
 */
export class SimWiFiInterface implements WifiListener {
  readonly #wifi: BoardWiFi;
  readonly #onChanged: OnChanged | undefined;
  readonly #deliver: WifiDeliver;
  readonly #forward: ((event: WifiEvent) => void) | undefined;
  #closed = false;
  #connecting = false;
  #connected: boolean;
  /** Has its addresses (Moddable's `ip` 0x03: IPv4 and IPv6 link-local). */
  #addressed: boolean;

  constructor(wifi: BoardWiFi, deliver: WifiDeliver, forward: ((event: WifiEvent) => void) | undefined, options: { onChanged?: OnChanged }) {
    if (options === null || typeof options !== "object") throw new TypeError("options required");
    const onChanged = options.onChanged;
    if (onChanged !== undefined && typeof onChanged !== "function") throw new Error("not a function");
    this.#wifi = wifi;
    this.#onChanged = onChanged;
    this.#deliver = deliver;
    this.#forward = forward;
    this.#connected = wifi.associated;
    this.#addressed = wifi.up;
    wifi._listen(this);
  }

  /** 500: connected with its addresses; 400: connected; 300: connecting (its own connect()); 200: neither (`xs_wifi419_connection_get`). */
  get connection(): number {
    this.#open();
    return this.#connected ? (this.#addressed ? WIFI_CONNECTED : WIFI_ASSOCIATED) : this.#connecting ? WIFI_CONNECTING : WIFI_DISCONNECTED;
  }

  get address(): string | undefined {
    const wifi = this.#open();
    return wifi.up ? wifi.address : undefined;
  }

  get RSSI(): number | undefined {
    const wifi = this.#open();
    return wifi.associated ? wifi.rssi() : undefined;
  }

  /**
   * Joins the access point (`xs_wifi419_connect`): Error "already connecting" while its own
   * join is under way; TypeError for options that are not an object; Error "SSID required";
   * RangeError "cannot buffer string" for an SSID over 32 bytes or a password over 64;
   * RangeError "invalid channel" outside 1…13; Error "connect failed" when ESP-IDF refuses
   * (the station is associated). Returns undefined at once: the outcome comes later as
   * onChanged("connection"): 400 then 500 and "address", or 200 when the join failed.
   */
  connect(options: WifiConnectOptions): void {
    const wifi = this.#open();
    if (this.#connecting) throw new Error("already connecting");
    if (options === undefined || options === null) throw new TypeError("cannot coerce " + String(options) + " to object");
    const object = Object(options) as WifiConnectOptions;
    if (!("SSID" in object)) throw new Error("SSID required");
    const ssid = bounded(object.SSID, 32);
    const password = "password" in object ? bounded(object.password, 64) : undefined;
    if ("channel" in object) {
      const channel = Math.trunc(Number(object.channel)) || 0;
      if (channel < 1 || channel > 13) throw new RangeError("invalid channel");
    }
    this.#connecting = true;
    if (!wifi._connect(ssid, password)) {
      this.#connecting = false;
      throw new Error("connect failed");
    }
  }

  /** Leaves the access point, or ends a join (`xs_wifi419_disconnect`): this instance reads 200 at once; the others hear it. */
  disconnect(): void {
    const wifi = this.#open();
    wifi._disconnect();
    this.#connecting = false;
    this.#connected = false;
    this.#addressed = false;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wifi._unlisten(this);
  }

  /** @internal An event for this instance: applied, then onChanged as it says (or handed to `forward`). */
  changed(event: WifiEvent): void {
    if (this.#closed) return;
    if (this.#forward !== undefined) return this.#forward(event);
    const onChanged = this.#onChanged;
    for (const property of this.apply(event)) {
      if (onChanged !== undefined && !this.#closed) this.#deliver(onChanged, this, property);
    }
  }

  /**
   * Applies a delivered event as wifiConnectDeliver does: the new state, and the onChanged
   * calls due: "connection" when the view changed, then "address" when it got its address.
   */
  apply(event: WifiEvent): string[] {
    if (this.#closed) return [];
    const connecting = this.#connecting;
    const connected = this.#connected;
    const addressed = this.#addressed;
    if (event === CONNECTED) {
      this.#connecting = false;
      this.#connected = true;
      this.#addressed = false;
    } else if (event === DISCONNECTED) {
      this.#connecting = false;
      this.#connected = false;
      this.#addressed = false;
    } else {
      this.#connected = true;
      this.#addressed = true;
    }
    const properties: string[] = [];
    if (connecting !== this.#connecting || connected !== this.#connected || addressed !== this.#addressed) properties.push("connection");
    if (!addressed && this.#addressed) properties.push("address");
    return properties;
  }

  #open(): BoardWiFi {
    if (this.#closed) throw new SyntaxError("C: xsGetHostData: invalid host data");
    return this.#wifi;
  }
}

/** A string option as Moddable copies it into a buffer of `bytes` bytes and a NUL (fxToStringBuffer). */
function bounded(value: unknown, bytes: number): string {
  const text = `${value as string}`; // ToString, as XS: a Symbol is a TypeError
  if (Buffer.byteLength(text) > bytes) throw new RangeError("cannot buffer string");
  return text;
}
