// The simulator's Wi-Fi (host-sim/io/wifi.ts): the radio's RSSI model and its ECMA-419
// interface class, a board's sockets while the link is down (as an ESP32's: the connection
// fails, new sockets never connect), and through the simulator library on both engines
// (Node and real XS): the diagnostics state from the broker's side, a Wi-Fi drop and
// return, Home Assistant's restart button, and the CLI's board line. Sockets only on
// 127.0.0.1; every wait bounded; everything started is stopped.
import * as net from "node:net";
import { connectAsync } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { boardLines } from "../host-sim/cli/cli-view.js";
import { BoardNetwork } from "../host-sim/io/network.js";
import { BoardWiFi, WIFI_ASSOCIATED, WIFI_CONNECTED, WIFI_DISCONNECTED } from "../host-sim/io/wifi.js";
import { startSimulator } from "../host-sim/simulator.js";
import type { Simulator } from "../host-sim/simulator.js";
import { listenLoopback, sleep, waitFor } from "./brokers/helpers.js";
import { Mosquitto } from "./brokers/mosquitto.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

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

  it("its interface class has the ECMA-419 shape: connection 500/400/200, no address or RSSI while down, onChanged later, never inside a call", async () => {
    const wifi = new BoardWiFi({ seed: 1, boardNumber: 3 });
    const heard: [number, string][] = [];
    const WiFi = wifi.interfaceClass((callback, self, property) => callback.call(self, property));
    const iface = new WiFi({ onChanged(this: InstanceType<typeof WiFi>, property) { heard.push([this.connection, property]); } });
    expect(iface.connection).toBe(WIFI_CONNECTED);
    expect(iface.address).toBe("10.77.0.5");
    expect(typeof iface.RSSI).toBe("number");
    wifi.drop();
    expect(heard).toEqual([]); // not inside drop()
    expect(iface.connection).toBe(WIFI_DISCONNECTED);
    expect(iface.address).toBeUndefined();
    expect(iface.RSSI).toBeUndefined();
    await waitFor(() => heard.length === 1, "the drop heard");
    wifi.restore();
    expect(iface.connection).toBe(WIFI_ASSOCIATED);
    await waitFor(() => heard.length === 4, "associated, then up with an address");
    expect(heard).toEqual([[WIFI_DISCONNECTED, "connection"], [WIFI_ASSOCIATED, "connection"], [WIFI_CONNECTED, "connection"], [WIFI_CONNECTED, "address"]]);
    expect(wifi.drops).toBe(1);
    iface.close();
    iface.close();
    expect(() => iface.connection).toThrow(SyntaxError);
  });

  it("while it is down the board's sockets behave as an ESP32's: the open connection fails, a new one never connects nor calls back", async () => {
    const accepted: net.Socket[] = [];
    const server = net.createServer((socket) => accepted.push(socket));
    const port = await listenLoopback(server);
    cleanups.push(() => new Promise<void>((resolve) => { for (const s of accepted) s.destroy(); server.close(() => resolve()); }));
    const wifi = new BoardWiFi({ seed: 1, boardNumber: 1 });
    const network = new BoardNetwork();
    wifi.attach(network);
    cleanups.push(() => network.settled(0));
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
    await waitFor(() => wifi.up, "up");
    await sleep(200);
    expect(events.filter((e) => e.startsWith("late"))).toEqual([]); // a socket made while down stays dead
    const again = new network.TCP({ address: "127.0.0.1", port, onWritable: () => events.push("again: writable") });
    await waitFor(() => events.includes("again: writable"), "a new connection once the link is back");
    again.close();
  });
});

async function simulator(engine: "node" | "xs"): Promise<Simulator> {
  const sim = await startSimulator({ devices: 1, engine, config: { diagnosticsInterval: 1000 } });
  cleanups.push(() => sim.stop());
  return sim;
}

describe.each(["node", "xs"] as const)("the simulator library, %s engine", (engine) => {
  it("diagnostics from the broker's side; a Wi-Fi drop: offline, no attempts while down, online again once it is back; the CLI line shows it", async () => {
    const sim = await simulator(engine);
    const board = sim.boards[0];
    const state = await sim.waitForMessage("xs-mqtt/board-1/diagnostics/state", { timeout: 15_000 });
    const diagnostics = JSON.parse(state.payload) as { uptime: number; rssi: number; ip: string };
    expect(diagnostics.ip).toBe("10.77.0.3");
    expect(Number.isInteger(diagnostics.rssi) && diagnostics.rssi <= -30 && diagnostics.rssi >= -95).toBe(true);
    await waitFor(() => board.status === "online", "online", 15_000);
    expect(boardLines(board, false).join(" ")).toMatch(/\| wifi -\d+ dBm \| sent \d+/);

    const will = sim.waitForMessage("xs-mqtt/board-1/status", { predicate: (m) => m.payload === "offline", timeout: 15_000 });
    await will.subscribed;
    board.wifi.drop();
    await will;
    await waitFor(() => board.status === "offline", "offline", 5_000);
    await sleep(500); // a report from inside XS
    const attempts = board.stats.attempts;
    expect(boardLines(board, false)[0]).toMatch(/^board-1 +no wifi +relay OFF, led OFF \| .*wifi down/);
    await sleep(2_500); // past the client's first reconnect delays
    expect(board.stats.attempts).toBe(attempts);

    const back = sim.waitForMessage("xs-mqtt/board-1/status", { predicate: (m) => m.payload === "online", timeout: 15_000 });
    await back.subscribed;
    board.wifi.restore();
    await back;
    await waitFor(() => board.stats.attempts === attempts + 1, "one attempt, at once", 5_000);
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
