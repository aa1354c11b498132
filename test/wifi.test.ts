// The simulator's Wi-Fi (host-sim/io/wifi.ts): the radio's RSSI model and its ECMA-419
// interface class, a board's sockets while the link is down (as an ESP32's: the connection
// fails, new sockets never connect), and through the simulator library on both engines
// (Node and real XS): the diagnostics state from the broker's side, a Wi-Fi drop and
// return, Home Assistant's restart button, and the CLI's board line. Sockets only on
// 127.0.0.1; every wait bounded; everything started is stopped.
import * as net from "node:net";
import path from "node:path";
import { connectAsync } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { WifiWatch } from "../device/app/wifi.js";
import { boardLines } from "../host-sim/cli/cli-view.js";
import { BoardNetwork } from "../host-sim/io/network.js";
import { BoardWiFi, JOIN_MS, WIFI_ASSOCIATED, WIFI_CONNECTED, WIFI_CONNECTING, WIFI_DISCONNECTED } from "../host-sim/io/wifi.js";
import { XS_IO_MODULE, XsHost } from "../host-sim/engines/xs/host.js";
import { WifiService } from "../host-sim/engines/xs/wifi-service.js";
import { startSimulator } from "../host-sim/simulator.js";
import type { Simulator } from "../host-sim/simulator.js";
import { listenLoopback, sleep, waitFor } from "./brokers/helpers.js";
import { Mosquitto } from "./brokers/mosquitto.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TCP server on 127.0.0.1 that keeps what it accepts, and a radio (seeded) governing a board's network link; both stopped after the test. */
async function radioAndServer(seed: number): Promise<{ accepted: net.Socket[]; port: number; wifi: BoardWiFi; network: BoardNetwork }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((socket) => accepted.push(socket));
  const port = await listenLoopback(server);
  cleanups.push(() => new Promise<void>((resolve) => { for (const s of accepted) s.destroy(); server.close(() => resolve()); }));
  const wifi = new BoardWiFi({ seed, boardNumber: 1 });
  const network = new BoardNetwork();
  wifi.attach(network);
  cleanups.push(() => network.settled(0));
  return { accepted, port, wifi, network };
}

describe("the simulated Wi-Fi radio", () => {
  it("reports an RSSI that is plausible, varies with time, and is the same for the same seed and time", () => {
    const a = new BoardWiFi({ seed: 5, boardNumber: 1 });
    const b = new BoardWiFi({ seed: 5, boardNumber: 1 });
    const other = new BoardWiFi({ seed: 6, boardNumber: 1 });
    const times = Array.from({ length: 60 }, (_, i) => i * 7_000);
    const values = times.map((t) => a.rssi(t));
    expect(times.map((t) => b.rssi(t))).toEqual(values);
    expect(times.map((t) => other.rssi(t))).not.toEqual(values);
    for (const value of values) {
      expect(Number.isInteger(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(-95);
      expect(value).toBeLessThanOrEqual(-30);
    }
    expect(new Set(values).size).toBeGreaterThan(3);
    // a signal that drifts, not one that jumps: neighbours 7 s apart stay within a few dB
    for (let i = 1; i < values.length; i++) expect(Math.abs(values[i] - values[i - 1])).toBeLessThanOrEqual(6);
  });

  it("its interface class has the ECMA-419 shape: connection 500/400/300/200, no address or RSSI while down, onChanged later, never inside a call", async () => {
    const wifi = new BoardWiFi({ seed: 1, boardNumber: 3 });
    const heard: [number, string][] = [];
    const WiFi = wifi.interfaceClass((callback, self, property) => callback.call(self, property));
    const iface = new WiFi({ onChanged(this: InstanceType<typeof WiFi>, property) { heard.push([this.connection, property]); } });
    expect(iface.connection).toBe(WIFI_CONNECTED);
    expect(iface.address).toBe("10.77.0.5");
    expect(typeof iface.RSSI).toBe("number");
    wifi.drop();
    expect(heard).toEqual([]); // not inside drop()
    // the instance's own view changes when the event is delivered to it (wifi-esp32.c wifiConnectDeliver); the radio's at once
    expect(iface.connection).toBe(WIFI_CONNECTED);
    expect(iface.address).toBeUndefined();
    expect(iface.RSSI).toBeUndefined();
    await waitFor(() => heard.length === 1, "the drop heard");
    expect(iface.connection).toBe(WIFI_DISCONNECTED);
    wifi.restore();
    expect(iface.connection).toBe(WIFI_DISCONNECTED); // the access point is back; the station is not
    expect(iface.connect({ SSID: wifi.ssid, password: wifi.password })).toBeUndefined();
    expect(iface.connection).toBe(WIFI_CONNECTING);
    expect(heard.length).toBe(1); // nothing from inside connect()
    await waitFor(() => heard.length === 4, "associated, then up with an address");
    expect(heard).toEqual([[WIFI_DISCONNECTED, "connection"], [WIFI_ASSOCIATED, "connection"], [WIFI_CONNECTED, "connection"], [WIFI_CONNECTED, "address"]]);
    expect(wifi.drops).toBe(1);
    expect(wifi.joins).toBe(1);
    iface.close();
    iface.close();
    expect(() => iface.connection).toThrow(SyntaxError);
    expect(() => iface.connect({ SSID: wifi.ssid })).toThrow(SyntaxError);
  });

  it("restore() alone does not bring the station back: a listening interface stays at 200 and the board's sockets never connect (no join without connect())", async () => {
    const { accepted, port, wifi, network } = await radioAndServer(2);
    const heard: number[] = [];
    const WiFi = wifi.interfaceClass((callback, self, property) => callback.call(self, property));
    const listening = new WiFi({ onChanged(this: InstanceType<typeof WiFi>) { heard.push(this.connection); } });
    wifi.drop();
    await waitFor(() => heard.length === 1, "the drop heard");
    wifi.restore();
    expect(wifi.accessPoint).toBe(true);
    await sleep(10 * JOIN_MS); // many times the time a join takes
    expect(heard).toEqual([WIFI_DISCONNECTED]);
    expect([listening.connection, wifi.connection, wifi.joins, wifi.up]).toEqual([WIFI_DISCONNECTED, WIFI_DISCONNECTED, 0, false]);
    const events: string[] = [];
    const socket = new network.TCP({ address: "127.0.0.1", port, onWritable: () => events.push("writable"), onError: () => events.push("error") });
    await sleep(300);
    expect(events).toEqual([]);
    expect(accepted.length).toBe(0);
    socket.close();
    listening.close();
  });

  it("connect() as Moddable's on an ESP32: its throws, one join per call that fails with a disconnect while the access point is away, 'connect failed' while associated; disconnect()", async () => {
    const wifi = new BoardWiFi({ seed: 3, boardNumber: 1 });
    const heard: [string, number, string][] = [];
    const WiFi = wifi.interfaceClass((callback, self, property) => callback.call(self, property));
    const joiner = new WiFi({ onChanged(this: InstanceType<typeof WiFi>, property) { heard.push(["joiner", this.connection, property]); } });
    const other = new WiFi({ onChanged(this: InstanceType<typeof WiFi>, property) { heard.push(["other", this.connection, property]); } });
    // associated: ESP-IDF refuses esp_wifi_connect, Moddable throws and is not left connecting
    expect(() => joiner.connect({ SSID: wifi.ssid, password: wifi.password })).toThrow(new Error("connect failed"));
    expect(joiner.connection).toBe(WIFI_CONNECTED);
    wifi.drop();
    await waitFor(() => heard.length === 2, "both heard the drop");
    expect(() => joiner.connect(undefined as never)).toThrow(TypeError);
    expect(() => joiner.connect({} as never)).toThrow(new Error("SSID required"));
    expect(() => joiner.connect({ SSID: "x".repeat(33) })).toThrow(new RangeError("cannot buffer string"));
    expect(() => joiner.connect({ SSID: wifi.ssid, password: "p".repeat(65) })).toThrow(new RangeError("cannot buffer string"));
    expect(() => joiner.connect({ SSID: wifi.ssid, channel: 14 } as never)).toThrow(new RangeError("invalid channel"));
    expect(wifi.joins).toBe(0);
    // the access point is away: the join fails with a disconnect; only the joiner hears it (its 300 becomes 200)
    joiner.connect({ SSID: wifi.ssid, password: wifi.password });
    expect([joiner.connection, other.connection, wifi.connection]).toEqual([WIFI_CONNECTING, WIFI_DISCONNECTED, WIFI_CONNECTING]);
    expect(() => joiner.connect({ SSID: wifi.ssid })).toThrow(new Error("already connecting"));
    const late = new WiFi({});
    expect(late.connection).toBe(WIFI_DISCONNECTED); // made while another instance's join is under way
    late.close();
    await waitFor(() => heard.length === 3, "the failed join");
    expect(heard[2]).toEqual(["joiner", WIFI_DISCONNECTED, "connection"]);
    expect(wifi.joins).toBe(1);
    // back, but a wrong password fails as well
    wifi.restore();
    joiner.connect({ SSID: wifi.ssid, password: "wrong" });
    await waitFor(() => heard.length === 4, "the refused join");
    expect(heard[3]).toEqual(["joiner", WIFI_DISCONNECTED, "connection"]);
    // a join ended by disconnect(): 200 at once, nothing more heard from it
    joiner.connect({ SSID: wifi.ssid, password: wifi.password });
    joiner.disconnect();
    expect(joiner.connection).toBe(WIFI_DISCONNECTED);
    await sleep(5 * JOIN_MS);
    expect(heard.length).toBe(4);
    expect(wifi.up).toBe(false);
    // the right one: both instances hear the station come up
    joiner.connect({ SSID: wifi.ssid, password: wifi.password });
    await waitFor(() => heard.filter(([, connection, property]) => connection === WIFI_CONNECTED && property === "address").length === 2, "up, heard by both");
    expect(heard.slice(4).filter(([who]) => who === "other").map(([, c, p]) => [c, p])).toEqual([[WIFI_ASSOCIATED, "connection"], [WIFI_CONNECTED, "connection"], [WIFI_CONNECTED, "address"]]);
    expect(wifi.joins).toBe(4);
    joiner.close();
    other.close();
  });

  it("while it is down the board's sockets behave as an ESP32's: the open connection fails, a new one never connects nor calls back", async () => {
    const { accepted, port, wifi, network } = await radioAndServer(1);
    const events: string[] = [];
    const open = new network.TCP({ address: "127.0.0.1", port, onWritable: () => events.push("open: writable"), onError: () => events.push("open: error") });
    await waitFor(() => events.includes("open: writable") && accepted.length === 1, "connected");
    wifi.drop();
    await waitFor(() => events.includes("open: error"), "the open connection's error");
    const late = new network.TCP({
      address: "127.0.0.1", port,
      onWritable: () => events.push("late: writable"), onReadable: () => events.push("late: readable"), onError: () => events.push("late: error"),
    });
    await sleep(500);
    expect(events.filter((e) => e.startsWith("late"))).toEqual([]);
    expect(accepted.length).toBe(1); // it never reached the server
    expect(() => late.write(new Uint8Array(1))).toThrow("not ready");
    late.close();
    wifi.restore();
    const WiFi = wifi.interfaceClass((callback, self, property) => callback.call(self, property));
    const joiner = new WiFi({});
    joiner.connect({ SSID: wifi.ssid, password: wifi.password });
    await waitFor(() => wifi.up, "up");
    joiner.close();
    await sleep(200);
    expect(events.filter((e) => e.startsWith("late"))).toEqual([]); // a socket made while down stays dead
    const again = new network.TCP({ address: "127.0.0.1", port, onWritable: () => events.push("again: writable") });
    await waitFor(() => events.includes("again: writable"), "a new connection once the link is back");
    again.close();
  });
});

describe("the firmware's Wi-Fi watch (device/app/wifi.ts) on what the simulator's radio never does", () => {
  /** An interface whose joins the test settles: `mode` "refuse" throws from connect(), "silent" never reports. */
  function scriptedWiFi(mode: "refuse" | "silent") {
    const calls: string[] = [];
    let connection = WIFI_CONNECTED;
    let onChanged: ((property: string) => void) | undefined;
    class ScriptedWiFi {
      constructor(options: { onChanged: (this: ScriptedWiFi, property: string) => void }) {
        onChanged = (property) => options.onChanged.call(this, property);
      }
      get connection(): number { return connection; }
      get RSSI(): undefined { return undefined; }
      connect(): void {
        calls.push("connect");
        if (mode === "refuse") throw new Error("connect failed");
        connection = WIFI_CONNECTING;
      }
      disconnect(): void {
        calls.push("disconnect");
        connection = WIFI_DISCONNECTED;
      }
      close(): void {}
    }
    const lose = () => {
      connection = WIFI_DISCONNECTED;
      onChanged?.("connection");
    };
    return { ScriptedWiFi, calls, lose };
  }

  it("a connect() that throws is reported, never thrown out of the tick, and waited out as a failed join", () => {
    const { ScriptedWiFi, calls, lose } = scriptedWiFi("refuse");
    let clock = 0;
    const faults: string[] = [];
    const links: boolean[] = [];
    const watch = new WifiWatch(ScriptedWiFi, { onLink: (up) => links.push(up), onAddress: () => {}, onFault: (e) => faults.push(String(e)) },
      { credentials: { SSID: "home" }, now: () => clock, random: () => 0 });
    lose();
    expect(links).toEqual([false]);
    const at: number[] = [];
    for (; clock <= 20_000; clock += 250) {
      const before = calls.length;
      watch.tick();
      if (calls.length > before) at.push(clock);
    }
    expect(at).toEqual([1_000, 3_000, 7_000, 15_000]); // 1, 2, 4, 8 s apart
    expect(faults).toEqual(Array(4).fill("Error: connect failed"));
    expect(watch.joins).toBe(4);
  });

  it("a join that reports nothing for 30 s is ended with disconnect() and the next one comes after the backoff", () => {
    const { ScriptedWiFi, calls, lose } = scriptedWiFi("silent");
    let clock = 0;
    const watch = new WifiWatch(ScriptedWiFi, { onLink: () => {}, onAddress: () => {}, onFault: () => {} },
      { credentials: { SSID: "home", password: "secret" }, now: () => clock, random: () => 0 });
    lose();
    const log: string[] = [];
    for (; clock <= 40_000; clock += 250) {
      const before = calls.length;
      watch.tick();
      for (const call of calls.slice(before)) log.push(call + " " + clock);
    }
    expect(log).toEqual(["connect 1000", "disconnect 31000", "connect 33000"]);
  });
});

describe("the bridged Wi-Fi interface inside XS", () => {
  it("connect() throws as Moddable's, in its order, and joins through the radio; disconnect() and close() too", async () => {
    const xs = await XsHost.start({ name: "wifi-bridge" });
    cleanups.push(() => xs.close());
    const wifi = new BoardWiFi({ seed: 4, boardNumber: 1 });
    xs.register(new WifiService(wifi, (header, body) => xs.deliver(header, body)));
    await xs.load(path.join(path.dirname(XS_IO_MODULE), "wifi.js"), "BridgedWiFi");
    const attempt = (options: string) => `(() => { try { w.connect(${options}); return "ok " + w.connection; } catch (e) { return e.constructor.name + ": " + e.message; } })()`;
    await xs.evaluate("globalThis.heard = []; globalThis.w = new BridgedWiFi.WiFi({ onChanged(p) { heard.push(this.connection + ' ' + p); } }); undefined");
    expect((await xs.evaluate(attempt(`{ SSID: "${wifi.ssid}", password: "${wifi.password}" }`))).value).toBe("Error: connect failed");
    wifi.drop();
    const heardCount = async (count: number) => {
      for (let i = 0; i < 200 && (await xs.evaluate("heard.length")).value !== count; i++) await sleep(10);
      expect((await xs.evaluate("heard.length")).value).toBe(count);
    };
    await heardCount(1); // the drop
    const refused: unknown[] = [];
    for (const options of ["undefined", "{}", `{ SSID: "${"x".repeat(33)}" }`, `{ SSID: "a", password: "${"p".repeat(65)}" }`, "{ SSID: 'a', channel: 0 }", "{ SSID: Symbol() }"]) {
      refused.push((await xs.evaluate(attempt(options))).value);
    }
    expect(refused).toEqual(["TypeError: cannot coerce undefined to object", "Error: SSID required", "RangeError: cannot buffer string",
      "RangeError: cannot buffer string", "RangeError: invalid channel", expect.stringMatching(/^TypeError/)]);
    expect(wifi.joins).toBe(0);
    wifi.restore();
    expect((await xs.evaluate(attempt(`{ SSID: "${wifi.ssid}", password: "${wifi.password}", secure: true }`))).value).toBe("ok 300");
    expect((await xs.evaluate(attempt("undefined"))).value).toBe("Error: already connecting"); // before the options are read
    await heardCount(4); // associated, then up
    expect((await xs.evaluate("heard")).value).toEqual(["200 connection", "400 connection", "500 connection", "500 address"]);
    expect(wifi.joins).toBe(1);
    expect((await xs.evaluate("w.disconnect(); w.connection")).value).toBe(WIFI_DISCONNECTED);
    expect(wifi.up).toBe(false);
    expect((await xs.evaluate("w.close(); (() => { try { w.connect({ SSID: 'a' }); } catch (e) { return e.constructor.name; } })()")).value).toBe("SyntaxError");
  });
});

async function simulator(engine: "node" | "xs"): Promise<Simulator> {
  const sim = await startSimulator({ devices: 1, engine, config: { diagnosticsInterval: 1000 } });
  cleanups.push(() => sim.stop());
  return sim;
}

describe.each(["node", "xs"] as const)("the simulator library, %s engine", (engine) => {
  it("diagnostics from the broker's side; the access point away: offline, no MQTT attempts, joins that back off; back while the backoff waits: the next join brings the board online; the CLI line shows it", async () => {
    const sim = await simulator(engine);
    const board = sim.boards[0];
    const state = await sim.waitForMessage("xs-mqtt/board-1/diagnostics/state", { timeout: 15_000 });
    const diagnostics = JSON.parse(state.payload) as { uptime: number; rssi: number; ip: string };
    expect(diagnostics.ip).toBe("10.77.0.3");
    expect(Number.isInteger(diagnostics.rssi) && diagnostics.rssi <= -30 && diagnostics.rssi >= -95).toBe(true);
    await waitFor(() => board.status === "online", "online", 15_000);
    expect(boardLines(board, false).join(" ")).toMatch(/\| wifi -\d+ dBm \| sent \d+/);
    expect(board.wifi.joins).toBe(0);

    const will = sim.waitForMessage("xs-mqtt/board-1/status", { predicate: (m) => m.payload === "offline", timeout: 15_000 });
    await will.subscribed;
    board.wifi.drop();
    await will;
    await waitFor(() => board.status === "offline", "offline", 5_000);
    await sleep(500); // a report from inside XS
    const attempts = board.stats.attempts;
    expect(boardLines(board, false)[0]).toMatch(/^board-1 +no wifi +relay OFF, led OFF \| .*wifi down/);
    // 6 s with the access point away: joins 1, 2, 4 s apart (less up to a quarter) make at
    // most 3; a join at every firmware tick (250 ms) would make more than 15
    await sleep(6_000);
    expect(board.stats.attempts).toBe(attempts); // the client stays paused
    expect(board.wifi.joins).toBeGreaterThanOrEqual(1);
    expect(board.wifi.joins).toBeLessThanOrEqual(3);
    expect(board.status).toBe("offline");

    const back = sim.waitForMessage("xs-mqtt/board-1/status", { predicate: (m) => m.payload === "online", timeout: 30_000 });
    await back.subscribed;
    // restored while the board waits out its backoff (no join under way): its next join is the one
    await waitFor(() => board.wifi.connection === WIFI_DISCONNECTED, "between joins", 10_000);
    const joins = board.wifi.joins;
    board.wifi.restore();
    await back;
    expect(board.wifi.joins).toBe(joins + 1);
    expect(board.wifi.up).toBe(true);
    await waitFor(() => board.stats.attempts === attempts + 1, "one MQTT attempt, at once", 5_000);
    // the board's own count of its joins (its stats, as the CLI and the dashboard show them)
    await waitFor(() => board.counts.wifiJoins === board.wifi.joins, "the board's count of its joins", 5_000);
  });

  it("Home Assistant's restart button: offline, then the firmware starts anew (uptime from 0) and announces itself again", async () => {
    const sim = await simulator(engine);
    const board = sim.boards[0];
    await waitFor(() => board.status === "online", "online", 15_000);
    await sleep(2_500); // some uptime to lose
    const peer = await connectAsync(sim.brokerUrl, { clientId: "ha-restart", reconnectPeriod: 0 });
    cleanups.push(() => peer.endAsync(true));
    const offline = sim.waitForMessage("xs-mqtt/board-1/status", { predicate: (m) => m.payload === "offline" });
    const config = sim.waitForMessage("homeassistant/button/board-1/xs-mqtt_diagnostics_restart/config", { predicate: (m) => !m.retain, timeout: 15_000 });
    await Promise.all([offline.subscribed, config.subscribed]);
    await peer.publishAsync("xs-mqtt/board-1/diagnostics/restart", "PRESS", { qos: 1 });
    await offline;
    const announced = JSON.parse((await config).payload) as { command_topic: string };
    expect(announced.command_topic).toBe("xs-mqtt/board-1/diagnostics/restart");
    const fresh = await sim.waitForMessage("xs-mqtt/board-1/diagnostics/state", {
      predicate: (m) => !m.retain && (JSON.parse(m.payload) as { uptime: number }).uptime <= 1, timeout: 15_000,
    });
    expect(fresh.topic).toBe("xs-mqtt/board-1/diagnostics/state");
    await waitFor(() => board.status === "online", "online again", 15_000);
    expect(sim.aborted).toEqual([]);
  });
});

describe("the simulator library against mosquitto", () => {
  it("a board's burst after a connect outgrows its small outbox, and its discovery manifest still goes out, listing every config", async () => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.close());
    const sim = await startSimulator({ broker: `mqtt://127.0.0.1:${broker.port}`, devices: 1 });
    cleanups.push(() => sim.stop());
    const manifest = await sim.waitForMessage("xs-mqtt/board-1/discovery", { timeout: 15_000 });
    expect(manifest.payload).toBe("sensor/xs-mqtt_climate_temperature sensor/xs-mqtt_climate_humidity sensor/xs-mqtt_light_illuminance " +
      "switch/xs-mqtt_relay light/xs-mqtt_led sensor/xs-mqtt_diagnostics_uptime sensor/xs-mqtt_diagnostics_rssi " +
      "sensor/xs-mqtt_diagnostics_ip button/xs-mqtt_diagnostics_restart");
    expect(sim.boards[0].log.filter((line) => line.includes("manifest"))).toEqual([]);
  });
});
