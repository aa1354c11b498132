/*
 * Wi-Fi awareness: the firmware watches the board's Wi-Fi interface (an ECMA-419 network
 * interface, io.ts WiFiInterface) and tells the MQTT client whether the network is there
 * (MqttClient.setNetworkAvailable): no connection attempts while the link is down, a
 * connection at once when it is back. With the board's SSID it also rejoins the access
 * point when the link is lost, since nothing else does on an ESP32 (Moddable's
 * setup/network joins once at boot; ESP-IDF's esp_wifi_connect tries once): connect() with
 * a bounded exponential backoff and jitter, from the firmware's tick. It reads the RSSI for
 * the diagnostics. Nothing here throws out of the interface's callback or the tick; a
 * rejoin and reading the RSSI allocate nothing.
 */

import { NUMBER } from "./ascii.js";
import type { WiFiInterface, WiFiInterfaceClass, WifiCredentials } from "./io.js";

/**
 * ECMA-419 network interface `connection` values (Moddable: modules/io/wifi/esp32/wifi-esp32.c):
 * 500 connected with its addresses, 400 associated. Moddable says 500 only once the board has
 * both an IPv4 and an IPv6 link-local address, so at start 400 counts as up (a board must
 * never wait for an address it may not get); afterwards the link is down below 400 and back
 * at 500, or at 400 with an "address" change.
 */
export const WIFI_CONNECTED = 500;
export const WIFI_ASSOCIATED = 400;

/** 300: the instance's own connect() is under way. */
export const WIFI_CONNECTING = 300;

/** The first rejoin after the link is lost, ms; each failed join doubles the wait, up to the cap. */
export const REJOIN_FIRST_MS = 1_000;
export const REJOIN_MAX_MS = 60_000;
/** A join that reports nothing for this long (no address from DHCP, say) is ended and counts as failed. */
export const JOIN_TIMEOUT_MS = 30_000;

/** What the watch reports to the firmware: the link's new state, or a new address. */
export interface WifiListener {
  /** The link went down (false) or came back with an address (true). */
  onLink(up: boolean): void;
  /** The board got an address (its IP may have changed). */
  onAddress(): void;
  /** The listener threw, or the interface could not be read or refused a join. */
  onFault(error: unknown): void;
}

/** How the watch rejoins the access point when the link is lost. */
export interface WifiRejoin {
  /** connect()'s options: the board's SSID and password (made once, passed to every join). */
  readonly credentials: WifiCredentials;
  /** Milliseconds (the firmware's clock). */
  now(): number;
  /** A number in [0, 1): the jitter. */
  random(): number;
}

/**
 * The wait before the join after `failures` failed ones, ms: REJOIN_FIRST_MS doubled per
 * failure up to REJOIN_MAX_MS, less up to a quarter of it at random, so boards that lost
 * the same access point do not all ask it at once.
 */
export function rejoinDelay(failures: number, random: number): number {
  const cap = Math.min(REJOIN_MAX_MS, REJOIN_FIRST_MS * 2 ** Math.min(failures, 6));
  return cap - Math.floor(random * (cap / 4));
}

export class WifiWatch {
  readonly #wifi: WiFiInterface;
  readonly #listener: WifiListener;
  readonly #rejoin: WifiRejoin | undefined;
  #up: boolean;
  /** Joins that failed since the link was lost. */
  #failures = 0;
  /** When the next join is due (while down and no join is under way). */
  #nextAt = 0;
  /** A join of ours is under way, since #joinedAt. */
  #joining = false;
  #joinedAt = 0;
  #joins = 0;

  /**
   * `rejoin` undefined: the watch only listens (a board with no SSID configured). Throws
   * what the interface's constructor throws.
   */
  constructor(WiFi: WiFiInterfaceClass, listener: WifiListener, rejoin?: WifiRejoin) {
    this.#listener = listener;
    this.#rejoin = rejoin;
    const watch = this;
    this.#wifi = new WiFi({
      onChanged(property) {
        watch.#changed(property);
      },
    });
    this.#up = this.#wifi.connection >= WIFI_ASSOCIATED;
    if (!this.#up && rejoin !== undefined) this.#retry(rejoin.now(), 0);
  }

  /** Whether the link is up with an address. */
  get up(): boolean {
    return this.#up;
  }

  /** connect() calls the watch made to rejoin the access point. */
  get joins(): number {
    return this.#joins;
  }

  /** The signal strength, dBm; NaN while not connected. */
  get rssi(): number {
    if (!this.#up) return NaN;
    try {
      const rssi = this.#wifi.RSSI;
      return typeof rssi === NUMBER ? rssi as number : NaN;
    } catch {
      return NaN;
    }
  }

  /**
   * From the firmware's tick: while the link is down, joins the access point when the
   * backoff's wait is over, and ends a join that reported nothing for JOIN_TIMEOUT_MS.
   * Allocates nothing (connect() gets the same options each time); throws nothing.
   */
  tick(): void {
    const rejoin = this.#rejoin;
    if (rejoin === undefined || this.#up) return;
    let now = this.#nextAt;
    try {
      now = rejoin.now();
      if (this.#joining) {
        if (now - this.#joinedAt < JOIN_TIMEOUT_MS) return;
        this.#joining = false;
        this.#retry(now, ++this.#failures);
        this.#wifi.disconnect();
        return;
      }
      if (now < this.#nextAt) return;
      this.#joins++;
      this.#joining = true;
      this.#joinedAt = now;
      this.#wifi.connect(rejoin.credentials);
    } catch (error) {
      // refused ("connect failed", "already connecting"): wait as after a failed join
      if (this.#joining) {
        this.#joining = false;
        this.#retry(now, ++this.#failures);
      }
      this.#fault(error);
    }
  }

  close(): void {
    try {
      this.#wifi.close();
    } catch {
      // closing twice, or an interface already gone: nothing more to release
    }
  }

  #retry(now: number, failures: number): void {
    this.#failures = failures;
    this.#nextAt = now + rejoinDelay(failures, (this.#rejoin as WifiRejoin).random());
  }

  #changed(property: string): void {
    try {
      const connection = this.#wifi.connection;
      const up = this.#up ? connection >= WIFI_ASSOCIATED
        : connection >= WIFI_CONNECTED || (property === "address" && connection >= WIFI_ASSOCIATED);
      const rejoin = this.#rejoin;
      if (rejoin !== undefined) {
        if (up) this.#joining = false;
        else if (this.#up) this.#retry(rejoin.now(), 0);
        else if (this.#joining && connection < WIFI_CONNECTING) {
          // our join failed (no access point, or it refused us)
          this.#joining = false;
          this.#retry(rejoin.now(), this.#failures + 1);
        }
      }
      if (up !== this.#up) {
        this.#up = up;
        this.#listener.onLink(up);
      }
      if (property === "address" && up) this.#listener.onAddress();
    } catch (error) {
      this.#fault(error);
    }
  }

  #fault(error: unknown): void {
    try {
      this.#listener.onFault(error);
    } catch {
      // nothing may throw out of an IO callback
    }
  }
}
