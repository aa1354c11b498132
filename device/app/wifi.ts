/*
 * Wi-Fi awareness: the firmware watches the board's Wi-Fi interface (an ECMA-419 network
 * interface, io.ts WiFiInterface) and tells the MQTT client whether the network is there
 * (MqttClient.setNetworkAvailable): no connection attempts while the link is down, a
 * connection at once when it is back. It also reads the RSSI for the diagnostics. Nothing
 * here throws out of the interface's callback, and reading the RSSI allocates nothing.
 */

import { NUMBER } from "./ascii.js";
import type { WiFiInterface, WiFiInterfaceClass } from "./io.js";

/**
 * ECMA-419 network interface `connection` values (Moddable: modules/io/wifi/esp32/wifi-esp32.c):
 * 500 connected with its addresses, 400 associated. Moddable says 500 only once the board has
 * both an IPv4 and an IPv6 link-local address, so at start 400 counts as up (a board must
 * never wait for an address it may not get); afterwards the link is down below 400 and back
 * at 500, or at 400 with an "address" change.
 */
export const WIFI_CONNECTED = 500;
export const WIFI_ASSOCIATED = 400;

/** What the watch reports to the firmware: the link's new state, or a new address. */
export interface WifiListener {
  /** The link went down (false) or came back with an address (true). */
  onLink(up: boolean): void;
  /** The board got an address (its IP may have changed). */
  onAddress(): void;
  /** The listener threw, or the interface could not be read. */
  onFault(error: unknown): void;
}

export class WifiWatch {
  readonly #wifi: WiFiInterface;
  readonly #listener: WifiListener;
  #up: boolean;

  /** Throws what the interface's constructor throws. */
  constructor(WiFi: WiFiInterfaceClass, listener: WifiListener) {
    this.#listener = listener;
    const watch = this;
    this.#wifi = new WiFi({
      onChanged(property) {
        watch.#changed(property);
      },
    });
    this.#up = this.#wifi.connection >= WIFI_ASSOCIATED;
  }

  /** Whether the link is up with an address. */
  get up(): boolean {
    return this.#up;
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

  close(): void {
    try {
      this.#wifi.close();
    } catch {
      // closing twice, or an interface already gone: nothing more to release
    }
  }

  #changed(property: string): void {
    try {
      const connection = this.#wifi.connection;
      const up = this.#up ? connection >= WIFI_ASSOCIATED
        : connection >= WIFI_CONNECTED || (property === "address" && connection >= WIFI_ASSOCIATED);
      if (up !== this.#up) {
        this.#up = up;
        this.#listener.onLink(up);
      }
      if (property === "address" && up) this.#listener.onAddress();
    } catch (error) {
      try {
        this.#listener.onFault(error);
      } catch {
        // nothing may throw out of an IO callback
      }
    }
  }
}
