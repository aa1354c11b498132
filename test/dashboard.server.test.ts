/*
 * The dashboard's server and memory without a browser: its ring buffers stay bounded (the
 * fleet's hour, a board's hour of readings, a watched board's last 200 messages), a feed
 * client that stops reading gets frames skipped (and told how many) instead of a growing
 * buffer, and the JSON API refuses what it cannot do with a status and a message. Real
 * boards on the embedded broker or a real mosquitto; the server on 127.0.0.1; everything
 * stopped in afterEach.
 */

import * as net from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DashboardFeed, HISTORY_MS, LOG_ENTRIES } from "../host-sim/dashboard/feed.js";
import { startDashboard } from "../host-sim/dashboard/server.js";
import type { Dashboard } from "../host-sim/dashboard/server.js";
import { simulatorSource } from "../host-sim/dashboard/source.js";
import type { DashboardSource } from "../host-sim/dashboard/source.js";
import { EmbeddedBroker } from "../host-sim/broker.js";
import { startSimulator } from "../host-sim/simulator.js";
import type { SimulatorOptions } from "../host-sim/simulator.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";

const ASSETS = join(import.meta.dirname, "../dist/dashboard/");

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => stopAllMosquittos());

async function serve(options: SimulatorOptions, tickMs?: number): Promise<Dashboard> {
  const sim = await startSimulator(options);
  cleanups.push(() => sim.stop());
  const dashboard = await startDashboard({ source: simulatorSource(sim), tickMs, assets: ASSETS });
  cleanups.push(() => dashboard.close());
  return dashboard;
}

async function post(dashboard: Dashboard, path: string, body: unknown, type = "application/json"): Promise<{ status: number; body: { error?: string } }> {
  const response = await fetch(dashboard.url + path.slice(1), { method: "POST", headers: { "content-type": type }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() as { error?: string } };
}

/** A source of `ids` whose only reading is "temperature" = 20 (the feed's memory alone). */
function fixedSource(ids: string[]): DashboardSource {
  return {
    brokerUrl: "mqtt://127.0.0.1:1",
    ca: undefined,
    embeddedBroker: false,
    ids: () => ids,
    totals: () => ({ boards: ids.length, online: ids.length, messages: 0 }),
    status: (id) => (ids.includes(id) ? "online" : undefined),
    row: () => undefined,
    readings: (id) => (ids.includes(id) ? [{ key: "temperature", name: "Temperature", unit: "°C", value: 20 }] : undefined),
    commandTopic: () => undefined,
    messageFilters: () => undefined,
    setChip: () => Promise.resolve("no chips"),
    setNetwork: () => "no network",
    restartBroker: () => Promise.reject(new Error("no broker")),
  };
}

describe("the dashboard's memory is bounded", () => {
  it("the fleet's and a board's histories keep the last hour only; a watched board's log its last 200 messages", () => {
    const feed = new DashboardFeed(fixedSource(["a"]), { tickMs: 1000, historyStepMs: 30_000 });
    const start = 1_000_000_000_000;
    const ticks = 2 * HISTORY_MS / 1000; // two hours of ticks
    for (let n = 0; n < ticks; n++) feed.tick(start + n * 1000);
    const now = start + (ticks - 1) * 1000;
    const fleet = feed.fleetHistory(now);
    expect(fleet.t.length).toBeLessThanOrEqual(HISTORY_MS / 1000);
    expect(fleet.t[0]).toBeGreaterThanOrEqual(now - HISTORY_MS);
    const board = feed.boardHistory("a", now)!;
    expect(board.t.length).toBe(HISTORY_MS / 30_000);
    expect(board.values.temperature.every((value) => value === 20)).toBe(true);
    expect(feed.boardHistory("nobody", now)).toBeUndefined();

    feed.message("a", "x/a/state", "not watched", 0, false);
    expect(feed.log("a")).toEqual([]);
    feed.watch("a");
    for (let n = 0; n < LOG_ENTRIES + 50; n++) feed.message("a", "x/a/state", String(n), 1, n % 2 === 0);
    const log = feed.log("a");
    expect(log.length).toBe(LOG_ENTRIES);
    expect(log[0].payload).toBe("50");
    expect(feed.log("a", log[LOG_ENTRIES - 3].seq).map((m) => m.payload)).toEqual([String(LOG_ENTRIES + 48), String(LOG_ENTRIES + 49)]);
    feed.unwatch("a");
    expect(feed.log("a")).toEqual([]);
  });

  it("a feed client that stops reading gets frames skipped, and is told how many when it reads again", async () => {
    // 60 boards make a frame of about 20 KB; a frame every 5 ms fills a socket nobody reads
    const dashboard = await serve({ devices: 60 }, 5);
    const url = new URL(dashboard.url);
    const socket = net.connect(Number(url.port), "127.0.0.1");
    cleanups.push(() => socket.destroy());
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    socket.pause();
    let text = "";
    const dropped = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no frame said that frames were skipped")), 30_000);
      // read again once the server must have met a full socket (20 KB x 200 frames a second)
      setTimeout(() => {
        socket.on("data", (chunk: Buffer) => {
          text = (text + chunk.toString()).slice(-200_000);
          for (const match of text.matchAll(/"dropped":(\d+)/g)) {
            if (Number(match[1]) > 0) {
              clearTimeout(timer);
              resolve(Number(match[1]));
            }
          }
        });
        socket.resume();
      }, 3_000);
    });
    expect(dropped).toBeGreaterThan(0);
  });
});

describe("the dashboard's MQTT client", () => {
  it("falls back to MQTT 3.1.1 with an external broker that refuses 5.0 (aedes: CONNACK 1), and its command gets through", async () => {
    const aedes = await EmbeddedBroker.start(); // to the simulator an external broker: a --broker URL
    cleanups.push(() => aedes.close());
    const sim = await startSimulator({ devices: 1, broker: aedes.url });
    cleanups.push(() => sim.stop());
    const dashboard = await startDashboard({ source: simulatorSource(sim), assets: ASSETS });
    cleanups.push(() => dashboard.close());
    const board = sim.boards[0];
    const on = sim.waitForMessage(board.topics.state("relay"), { predicate: (m) => m.payload === "ON" });
    await on.subscribed;
    expect(await post(dashboard, "/api/boards/board-1/actuators/relay", { state: "ON" })).toEqual({ status: 200, body: { topic: "xs-mqtt/board-1/relay/set", payload: "ON" } });
    await on;
    expect(board.actuators.find((a) => a.id === "relay")?.state).toBe("ON");
  });
});

describe("the dashboard's API refuses what it cannot do", () => {
  it("unknown boards and actuators, a bad state, a body that is not JSON, a restart of an external broker", async () => {
    const mosquitto = await Mosquitto.start();
    const dashboard = await serve({ devices: 1, broker: `mqtt://127.0.0.1:${mosquitto.port}` });
    expect(await post(dashboard, "/api/boards/board-9/actuators/relay", { state: "ON" })).toEqual({ status: 404, body: { error: 'no board "board-9"' } });
    expect(await post(dashboard, "/api/boards/board-1/actuators/fan", { state: "ON" })).toEqual({ status: 404, body: { error: 'board-1 has no actuator "fan"' } });
    expect(await post(dashboard, "/api/boards/board-1/actuators/relay", { state: "on!" })).toEqual({ status: 400, body: { error: 'state must be "ON" or "OFF"' } });
    expect((await post(dashboard, "/api/boards/board-1/actuators/relay", { state: "ON" }, "text/plain")).status).toBe(415);
    expect(await post(dashboard, "/api/boards/board-1/chip", { chip: "sht3x", values: { pressure: 1 } })).toEqual({ status: 400, body: { error: 'sht3x has no "pressure": temperature or humidity' } });
    expect(await post(dashboard, "/api/broker/restart", {})).toEqual({ status: 409, body: { error: "only the embedded broker can be restarted from here" } });
    const history = await fetch(dashboard.url + "api/boards/board-9/history");
    expect(history.status).toBe(404);
    const page = await fetch(dashboard.url);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain('<script type="module" src="app.js"></script>');
  });
});
