/*
 * A simulated board's Wi-Fi radio: the link (down, associated, or up with an address), the
 * address DHCP gave it, and an RSSI that varies plausibly and deterministically (the same
 * seed and time give the same value), with an ECMA-419 network interface class over it of
 * the shape of Moddable's embedded:network/interface/wifi on an ESP32
 * (modules/io/wifi/esp32/wifi-esp32.c; docs/diagnostics-wifi.md): `connection` 500 /
 * 400 / 200, `address` and `RSSI` undefined while not connected, onChanged("connection")
 * and onChanged("address") called later, never inside a call, with `this` = the instance.
 * drop() loses the link as an access point gone would: the board's connections fail
 * (lwIP aborts what was bound to the lost address) and sockets made while it is down never
 * connect (network.ts); restore() brings it back. Node side only.
 */

import { mulberry32 } from "../engines/xs/in-xs/prng.js";
import type { BoardNetwork } from "./network.js";

/** ECMA-419 network interface `connection` values. */
export const WIFI_CONNECTED = 500;
export const WIFI_ASSOCIATED = 400;
export const WIFI_DISCONNECTED = 200;

/** How long the RSSI's slow drift takes, ms (people walking by, doors), and its swing, dB. */
const DRIFT_PERIOD_MS = 90_000;
const DRIFT_DB = 4;
/** The RSSI's fast jitter: a new value every this many ms, within ± this many dB. */
const JITTER_SLOT_MS = 5_000;
const JITTER_DB = 2;

/** Runs an interface's callback (a board's abort guard on the Node engine; a bridge delivery for XS). */
export type WifiDeliver = (callback: OnChanged, self: SimWiFiInterface, property: string) => void;

/** An interface's onChanged: `this` is the interface. */
export type OnChanged = (this: SimWiFiInterface, property: string) => void;

export interface WifiListener {
  /** The interface's onChanged is due for `property` ("connection" or "address"). */
  changed(property: string): void;
}

export class BoardWiFi {
  /** The board's address while connected (10.77.<n / 250>.<n % 250 + 2>). */
  readonly address: string;
  readonly #seed: number;
  readonly #baseRssi: number;
  readonly #phase: number;
  readonly #now: () => number;
  #connection = WIFI_CONNECTED;
  #network: BoardNetwork | undefined = undefined;
  #drops = 0;
  /** The open interfaces (usually one: the firmware's). */
  readonly #listeners = new Set<WifiListener>();

  constructor(options: { seed: number; boardNumber: number; now?: () => number }) {
    const seed = options.seed >>> 0;
    this.#seed = seed;
    this.#now = options.now ?? (() => performance.now());
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

  /** 500 (up with an address), 400 (associated, no address yet) or 200 (down). */
  get connection(): number {
    return this.#connection;
  }

  get up(): boolean {
    return this.#connection === WIFI_CONNECTED;
  }

  /** Times the link was dropped. */
  get drops(): number {
    return this.#drops;
  }

  /** The signal strength now, whole dBm (also while down: what the radio would measure). */
  rssi(at = this.#now()): number {
    const drift = DRIFT_DB * Math.sin((2 * Math.PI * (at + this.#phase)) / DRIFT_PERIOD_MS);
    const slot = Math.floor(at / JITTER_SLOT_MS);
    const jitter = (mulberry32((this.#seed ^ Math.imul(slot, 0x9e3779b1)) >>> 0)() * 2 - 1) * JITTER_DB;
    return Math.max(-95, Math.min(-30, Math.round(this.#baseRssi + drift + jitter)));
  }

  /** The link is lost: connections fail, new sockets never connect, the interfaces hear "connection". No-op when down. */
  drop(): void {
    if (this.#connection === WIFI_DISCONNECTED) return;
    this.#connection = WIFI_DISCONNECTED;
    this.#drops++;
    this.#network?.setRoutable(false);
    this.#tell("connection");
  }

  /**
   * The link is back: associated at once ("connection", 400), then on the next turn of
   * the event loop with its address ("connection", 500, then "address"), as ESP-IDF's
   * connected and got-IP events come. No-op when not down.
   */
  restore(): void {
    if (this.#connection !== WIFI_DISCONNECTED) return;
    this.#connection = WIFI_ASSOCIATED;
    this.#tell("connection");
    setImmediate(() => {
      if (this.#connection !== WIFI_ASSOCIATED) return;
      this.#connection = WIFI_CONNECTED;
      this.#network?.setRoutable(true);
      this.#tell("connection");
      this.#tell("address");
    });
  }

  /**
   * An ECMA-419 Wi-Fi interface class over this radio; `deliver` runs the instances'
   * onChanged. A bound constructor, not a class per board: a fleet's boards share one
   * class and its hidden classes.
   */
  interfaceClass(deliver: WifiDeliver): new (options: { onChanged?: OnChanged }) => SimWiFiInterface {
    return SimWiFiInterface.bind(null, this, deliver) as unknown as new (options: { onChanged?: OnChanged }) => SimWiFiInterface;
  }

  /** @internal */
  _listen(listener: WifiListener): void {
    this.#listeners.add(listener);
  }

  /** @internal */
  _unlisten(listener: WifiListener): void {
    this.#listeners.delete(listener);
  }

  /** Tells every interface, from the event loop (never inside the caller's call). */
  #tell(property: string): void {
    for (const listener of [...this.#listeners]) setImmediate(() => listener.changed(property));
  }
}

/**
 * One instance of the Wi-Fi interface class: reads the radio's state; after close() every
 * getter throws as Moddable's does on a closed instance (xsmcGetHostDataValidate).
 */
export class SimWiFiInterface implements WifiListener {
  readonly #wifi: BoardWiFi;
  readonly #onChanged: OnChanged | undefined;
  readonly #deliver: WifiDeliver;
  #closed = false;

  constructor(wifi: BoardWiFi, deliver: WifiDeliver, options: { onChanged?: OnChanged }) {
    if (options === null || typeof options !== "object") throw new TypeError("options required");
    const onChanged = options.onChanged;
    if (onChanged !== undefined && typeof onChanged !== "function") throw new Error("not a function");
    this.#wifi = wifi;
    this.#onChanged = onChanged;
    this.#deliver = deliver;
    wifi._listen(this);
  }

  get connection(): number {
    return this.#open().connection;
  }

  get address(): string | undefined {
    const wifi = this.#open();
    return wifi.up ? wifi.address : undefined;
  }

  get RSSI(): number | undefined {
    const wifi = this.#open();
    return wifi.connection === WIFI_DISCONNECTED ? undefined : wifi.rssi();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wifi._unlisten(this);
  }

  /** @internal */
  changed(property: string): void {
    if (this.#closed || this.#onChanged === undefined) return;
    this.#deliver(this.#onChanged, this, property);
  }

  #open(): BoardWiFi {
    if (this.#closed) throw new SyntaxError("C: xsGetHostData: invalid host data");
    return this.#wifi;
  }
}
