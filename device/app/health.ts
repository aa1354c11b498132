/*
 * The board's health while the firmware runs: the diagnostics' schedule and state
 * (diagnostics.ts), the Wi-Fi watch (wifi.ts) that pauses the client's connection
 * attempts while the link is down, rejoins the access point (with the board's SSID, from
 * the firmware's tick) and lets the client connect at once when the link is back, the
 * board's address (read at connect and when the Wi-Fi interface reports a new one), and
 * Home Assistant's restart button: "PRESS" stops the node gracefully ("offline",
 * DISCONNECT), then calls the board's restart. The firmware (firmware.ts) owns one and
 * publishes the diagnostics as a pacer item. Publishing the diagnostics allocates nothing;
 * nothing here throws out of an IO callback.
 */

import type { Message, MqttClient, PublishStatus } from "../mqtt/index.js";
import type { Config } from "./config.js";
import { DiagnosticsState, PRESS_BYTES } from "./diagnostics.js";
import type { FirmwareIo } from "./io.js";
import { taken } from "./node-parts.js";
import { SKIP } from "./pacer.js";
import { restartTopic } from "./topics.js";
import { WifiWatch } from "./wifi.js";
import type { WifiListener } from "./wifi.js";

/** The diagnostics' state: QoS 0, kept in the outbox rather than dropped, retained (as the sensor states). */
const STATE = Object.freeze({ qos: 0, queue: true, retain: true });
/** ms from the press to the graceful stop (the press's PUBACK goes first), and again from there to the restart (DISCONNECT on its way). */
export const RESTART_DELAY_MS = 500;

/** What the firmware does for the health part. */
export interface HealthHooks {
  say(line: string): void;
  now(): number;
  /** Stops the node gracefully (Firmware.stop()). */
  stop(): void;
}

export class Health implements WifiListener {
  readonly #client: MqttClient;
  readonly #io: FirmwareIo;
  readonly #hooks: HealthHooks;
  readonly #state: DiagnosticsState | undefined;
  readonly #interval: number;
  readonly #startedAt: number;
  readonly #restart: (() => void) | undefined;
  #wifi: WifiWatch | undefined = undefined;
  #nextAt = 0;
  #restarting = false;

  /**
   * `restart` restarts the board (undefined: no restart button). `state` is undefined when
   * diagnostics are off. Subscribes to the restart topic; opens the Wi-Fi watch (an
   * interface that cannot be opened is reported, and the network counts as up).
   */
  constructor(config: Config, io: FirmwareIo, client: MqttClient, state: DiagnosticsState | undefined,
    restart: (() => void) | undefined, hooks: HealthHooks) {
    this.#client = client;
    this.#io = io;
    this.#hooks = hooks;
    this.#state = state;
    this.#interval = config.diagnosticsInterval;
    this.#startedAt = hooks.now();
    this.#restart = state === undefined ? undefined : restart;
    if (this.#restart !== undefined) client.subscribe(restartTopic(config), { qos: 1 }, (message) => this.#onRestart(message));
    const WiFi = io.WiFi;
    if (WiFi === undefined) return;
    try {
      const credentials = io.wifiCredentials;
      const random = io.random ?? Math.random;
      const rejoin = credentials === undefined ? undefined : { credentials, now: hooks.now, random };
      // this object is the watch's listener (its methods: no closures per node)
      this.#wifi = new WifiWatch(WiFi, this, rejoin);
    } catch (error) {
      hooks.say("Wi-Fi: the interface could not be opened (" + String(error) + "); the network counts as up");
      return;
    }
    if (!this.#wifi.up) this.#onLink(false);
  }

  /** WifiListener: the link went up or down. */
  onLink(up: boolean): void {
    this.#onLink(up);
  }

  /** WifiListener: the interface has an address. */
  onAddress(): void {
    this.readAddress();
  }

  /** WifiListener: the listener threw, or the interface failed. */
  onFault(error: unknown): void {
    this.#hooks.say("Wi-Fi: " + String(error));
  }

  /** Whether the node publishes diagnostics (diagnosticsInterval is not 0). */
  get publishes(): boolean {
    return this.#state !== undefined;
  }

  /** Whether the Wi-Fi link is up (true on a board without a Wi-Fi interface). */
  get wifiUp(): boolean {
    return this.#wifi === undefined || this.#wifi.up;
  }

  /** Joins of the access point made to rejoin it (0 without Wi-Fi or an SSID). */
  get wifiJoins(): number {
    return this.#wifi === undefined ? 0 : this.#wifi.joins;
  }

  /** From the firmware's tick: the Wi-Fi watch rejoins the access point when due. */
  tick(): void {
    this.#wifi?.tick();
  }

  /** The Wi-Fi signal strength, dBm; NaN when unknown or without Wi-Fi. */
  get rssi(): number {
    return this.#wifi === undefined ? NaN : this.#wifi.rssi;
  }

  /** Whether the diagnostics are due (none are without diagnostics). */
  due(now: number): boolean {
    return this.#state !== undefined && now >= this.#nextAt;
  }

  /** ms until the diagnostics are due: 0 when they are, Infinity without diagnostics. */
  untilDue(now: number): number {
    return this.#state === undefined ? Infinity : Math.max(0, this.#nextAt - now);
  }

  /** Reads the board's address again (at connect, and when the Wi-Fi interface reports one). */
  readAddress(): void {
    const state = this.#state;
    const address = this.#io.address;
    if (state === undefined || address === undefined) return;
    try {
      state.setAddress(address());
    } catch (error) {
      state.setAddress(undefined);
      this.#hooks.say("the board's address could not be read: " + String(error));
    }
  }

  /** Publishes the diagnostics' state (the pacer's item); SKIP without diagnostics. */
  publish(): PublishStatus | typeof SKIP {
    const state = this.#state;
    if (state === undefined) return SKIP;
    const now = this.#hooks.now();
    const length = state.encode(Math.floor((now - this.#startedAt) / 1000), this.rssi);
    const status = this.#client.publish(state.topic, state.payload, STATE, length);
    if (taken(status)) this.#nextAt = now + this.#interval;
    return status;
  }

  /** Stops watching the Wi-Fi (the node stopped). A restart already under way goes on. */
  close(): void {
    this.#wifi?.close();
    this.#wifi = undefined;
  }

  #onLink(up: boolean): void {
    this.#hooks.say(up ? "Wi-Fi is back: connecting now" : "Wi-Fi is down: no connection attempts until it is back");
    if (up) this.readAddress();
    this.#client.setNetworkAvailable(up);
  }

  #onRestart(message: Message): void {
    // a retained press (someone else's, by mistake) would restart the board at every connect
    if (message.retain || !message.payloadEquals(PRESS_BYTES) || this.#restarting) return;
    const restart = this.#restart as () => void;
    const hooks = this.#hooks;
    const Timer = this.#io.Timer;
    this.#restarting = true;
    hooks.say("restart requested by Home Assistant");
    let step = 0;
    const timer = Timer.repeat(() => {
      try {
        if (step++ === 0) {
          hooks.stop();
          return;
        }
        Timer.clear(timer);
        restart();
      } catch (error) {
        hooks.say("restart failed: " + String(error));
      }
    }, RESTART_DELAY_MS);
  }
}
