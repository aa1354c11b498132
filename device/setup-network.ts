/*
 * The board's Wi-Fi at start-up: Moddable's "setup/network" module, this project's in place
 * of the SDK's (manifests/esp32/network/manifest.json names it; mcconfig links the first
 * module of a name it meets, and the esp32 manifests include that manifest first).
 * Moddable runs every setup/* module before main, and main only once each has called
 * done(). The SDK's own (build/devices/esp32/setup/network.js, SDK 8.2.3) calls done() only
 * once the board has an address, and ESP-IDF tries a join once: a board powered up while
 * its access point is still starting (after a power cut, routers take a minute) would
 * never run main. This one joins the same way (mc/config's ssid and password; then the
 * clock from SNTP when mc/config names a server and the clock is not set), but lets main
 * start after a failed join, or after BOOT_JOIN_MS without an address: the firmware's
 * Wi-Fi watch (device/app/wifi.ts) then rejoins with backoff. With no ssid it does
 * nothing. Runs once, before main; nothing here throws out of a callback.
 */

import WiFi from "embedded:network/interface/wifi";
import config from "mc/config";
import SNTP from "sntp";
import Time from "time";
import Timer from "timer";

/** How long the join at start-up may take before main starts without Wi-Fi, ms. */
export const BOOT_JOIN_MS = 20_000;

/** ECMA-419 `connection`: 500 up with its addresses, 400 associated; 200 or less, not associated (the join failed). */
const CONNECTED = 500;
const ASSOCIATED = 400;
const DISCONNECTED = 200;

/** A clock past this (2023-01-03, as the SDK's module checks) was set already: no SNTP. */
const CLOCK_SET_AFTER = 1_672_722_071_000;

export default function setupNetwork(done: () => void): void {
  const ssid = config.ssid;
  if (WiFi === undefined || typeof ssid !== "string" || ssid === "") {
    done();
    return;
  }
  const password = config.password;
  const sntp = config.sntp;
  let finished = false;
  let timer: Timer | undefined;
  let wifi: InstanceType<NonNullable<typeof WiFi>> | undefined;
  const finish = (line: string | undefined): void => {
    if (finished) return;
    finished = true;
    if (line !== undefined) trace(line + "\n");
    if (timer !== undefined) Timer.clear(timer);
    try {
      wifi?.close();
    } catch {
      // an interface already gone: nothing to release
    }
    done();
  };
  const setClock = (): void => {
    if (typeof sntp !== "string" || sntp === "" || Date.now() > CLOCK_SET_AFTER) return finish(undefined);
    try {
      new SNTP({ host: sntp }, (message, value) => {
        if (message === SNTP.time && value !== undefined) {
          Time.set(value);
          finish("clock set from " + sntp);
        } else if (message === SNTP.error) finish("no time from " + sntp);
      });
    } catch (error) {
      finish("no time from " + sntp + ": " + String(error));
    }
  };
  try {
    wifi = new WiFi({
      onChanged() {
        if (finished) return;
        const connection = this.connection;
        if (connection >= CONNECTED) {
          if (timer !== undefined) Timer.clear(timer);
          timer = undefined;
          trace("Wi-Fi: " + ssid + ", IP address " + this.address + "\n");
          setClock();
        } else if (connection <= DISCONNECTED) {
          finish("Wi-Fi: " + ssid + " not joined; starting without it, rejoining with backoff");
        }
      },
    });
    timer = Timer.set(() => {
      timer = undefined;
      try {
        // a join that never associated is ended; an associated link (waiting for its IPv6
        // link-local address, without which Moddable never says 500) is left up
        if (wifi !== undefined && wifi.connection < ASSOCIATED) wifi.disconnect();
      } catch {
        // no join to end
      }
      finish("Wi-Fi: no address from " + ssid + " in " + BOOT_JOIN_MS / 1000 + " s; starting without it, rejoining with backoff");
    }, BOOT_JOIN_MS);
    wifi.connect(typeof password === "string" && password !== "" ? { SSID: ssid, password } : { SSID: ssid });
  } catch (error) {
    finish("Wi-Fi: " + String(error) + "; starting without it");
  }
}
