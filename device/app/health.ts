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
import type { FirmwareIo, WifiCredentials } from "./io.js";
import { nowOf, say, taken } from "./node-parts.js";
import { SKIP } from "./pacer.js";
import { restartTopic } from "./topics.js";
import { WifiWatch } from "./wifi.js";
import type { WifiListener, WifiRejoin } from "./wifi.js";

/** The diagnostics' state: QoS 0, kept in the outbox rather than dropped, retained (as the sensor states). */
const STATE = Object.freeze({ qos: 0, queue: true, retain: true });
/** ms from the press to the graceful stop (the press's PUBACK goes first), and again from there to the restart (DISCONNECT on its way). */
export const RESTART_DELAY_MS = 500;

/** The node the health part belongs to: what the restart button stops. */
export interface HealthNode {
  /** Stops the node gracefully (Firmware.stop()). */
  stop(): void;
}

/**
 * The health part is also the Wi-Fi watch's listener and its rejoin (wifi.ts): its own
 * methods, so a node keeps no closures or option objects for them.
 */
export class Health implements WifiListener, WifiRejoin {
  readonly #client: MqttClient;
  readonly #io: FirmwareIo;
  /** The node's log (its lines: say()), or undefined. */
  readonly #log: ((line: string) => void) | undefined;
  readonly #node: HealthNode;
  readonly #state: DiagnosticsState | undefined;
  readonly #interval: number;
  readonly #startedAt: number;
  readonly #restart: (() => void) | undefined;
  #wifi: WifiWatch | undefined = undefined;
  #nextAt = 0;
  #restarting = false;

  /**
   * `restart` restarts the board (undefined: no restart button). `state` is undefined when
   * diagnostics are off. `log` hears the part's lines; `node` is stopped by the restart
   * button. Subscribes to the restart topic; opens the Wi-Fi watch (an interface that
   * cannot be opened is reported, and the network counts as up).
   */
  constructor(config: Config, io: FirmwareIo, client: MqttClient, state: DiagnosticsState | undefined,
    restart: (() => void) | undefined, log: ((line: string) => void) | undefined, node: HealthNode) {
    this.#client = client;
    this.#io = io;
    this.#log = log;
    this.#node = node;
    this.#state = state;
    this.#interval = config.diagnosticsInterval;
    this.#startedAt = this.now();
    this.#restart = state === undefined ? undefined : restart;
    if (this.#restart !== undefined) client.subscribe(restartTopic(config), { qos: 1 }, (message) => this.#onRestart(message));
    const WiFi = io.WiFi;
    if (WiFi === undefined) return;
    try {
      // this object is the watch's listener and its rejoin (rejoining needs the board's SSID)
      this.#wifi = new WifiWatch(WiFi, this, io.wifiCredentials === undefined ? undefined : this);
    } catch (error) {
      this.#say("Wi-Fi: the interface could not be opened (" + String(error) + "); the network counts as up");
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
    this.#say("Wi-Fi: " + String(error));
  }

  /** WifiRejoin: the board's SSID and password (the IO's, the same object for every join). */
  get credentials(): WifiCredentials {
    return this.#io.wifiCredentials as WifiCredentials;
  }

  /** WifiRejoin: the node's clock, ms. */
  now(): number {
    return nowOf(this.#io);
  }

  /** WifiRejoin: the jitter, from the IO's random (Math.random without one). */
  random(): number {
    const random = this.#io.random;
    return random === undefined ? Math.random() : random();
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
      this.#say("the board's address could not be read: " + String(error));
    }
  }

  /** Publishes the diagnostics' state (the pacer's item); SKIP without diagnostics. */
  publish(): PublishStatus | typeof SKIP {
    const state = this.#state;
    if (state === undefined) return SKIP;
    const now = this.now();
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
    this.#say(up ? "Wi-Fi is back: connecting now" : "Wi-Fi is down: no connection attempts until it is back");
    if (up) this.readAddress();
    this.#client.setNetworkAvailable(up);
  }

  #onRestart(message: Message): void {
    // a retained press (someone else's, by mistake) would restart the board at every connect
    if (message.retain || !message.payloadEquals(PRESS_BYTES) || this.#restarting) return;
    const restart = this.#restart as () => void;
    const node = this.#node;
    const Timer = this.#io.Timer;
    this.#restarting = true;
    this.#say("restart requested by Home Assistant");
    let step = 0;
    const timer = Timer.repeat(() => {
      try {
        if (step++ === 0) {
          node.stop();
          return;
        }
        Timer.clear(timer);
        restart();
      } catch (error) {
        this.#say("restart failed: " + String(error));
      }
    }, RESTART_DELAY_MS);
  }

  #say(line: string): void {
    say(this.#log, line);
  }
}
