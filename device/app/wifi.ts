/*
 * Wi-Fi awareness: the firmware watches the board's Wi-Fi interface (an ECMA-419 network
 * interface, io.ts WiFiInterface) and tells the MQTT client whether the network is there
 * (MqttClient.setNetworkAvailable): no connection attempts while the link is down, a
 * connection at once when it is back. It also reads the RSSI for the diagnostics. Nothing
 * here throws out of the interface's callback, and reading the RSSI allocates nothing.
 */

import type { WiFiInterface, WiFiInterfaceClass } from "./io.js";

/** ECMA-419 network interface `connection`: connected and holding an address (Moddable: modules/io/wifi/esp32/wifi-esp32.c). */
export const WIFI_CONNECTED = 500;

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
    this.#up = this.#wifi.connection >= WIFI_CONNECTED;
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
      return typeof rssi === "number" ? rssi : NaN;
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
      const up = this.#wifi.connection >= WIFI_CONNECTED;
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
