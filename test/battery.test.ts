/*
 * Battery mode (config.sleep, device/app/battery.ts) and the simulator's model of deep sleep
 * (host-sim/sleep.ts) and of link latency (--rtt, host-sim/io/network.ts). The configuration
 * checks run on their own; the wakes run the firmware in the simulator against mosquitto and
 * the simulator's embedded broker (aedes, host-sim/broker.ts), each behind a recording TCP proxy (test/support/proxy.ts) so that
 * every byte a board sends is read back with mqtt-packet, with an MQTT.js peer playing Home
 * Assistant. Assertions are on what a user sees (messages, wakes, round trips, log lines),
 * never on elapsed time. Every wait is bounded; every simulator, proxy, peer and broker is
 * stopped.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { IConnectPacket, IPublishPacket, Packet } from "mqtt-packet";
import { resolveConfig } from "../device/app/config.js";
import type { FirmwareConfig, SensorConfig } from "../device/app/config.js";
import { sensorDiscoveryPayload } from "../device/app/discovery.js";
import { existsSync, readFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { BoardNetwork } from "../host-sim/io/network.js";
import { startSimulator } from "../host-sim/simulator.js";
import { BoardSleep } from "../host-sim/sleep.js";
import type { WakeCycle } from "../host-sim/sleep.js";
import type { SimBoard, Simulator, SimulatorOptions } from "../host-sim/simulator.js";
import { EmbeddedBroker } from "../host-sim/broker.js";
import { connectPeer, listenLoopback, parsePackets, sleep, uniqueName, waitFor } from "./brokers/helpers.js";
import type { Peer } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";
import { TcpProxy } from "./support/proxy.js";

const CLIMATE: SensorConfig = {
  id: "climate", driver: "sht3x", address: 0x44,
  readings: [
    { key: "temperature", unit: "°C", device_class: "temperature", decimals: 1, deadband: 2 },
    { key: "humidity", unit: "%", device_class: "humidity", decimals: 0, deadband: 10 },
  ],
};
const minimal: FirmwareConfig = { nodeId: "attic", broker: { host: "broker.local" }, sensors: [CLIMATE], sleep: { interval: 60_000 } };

function mistakesOf(config: FirmwareConfig): string[] {
  try {
    resolveConfig(config);
  } catch (error) {
    return (error as { mistakes: { message: string }[] }).mistakes.map((m) => m.message);
  }
  return [];
}

describe("the sleep key: checked like every other key", () => {
  it("fills in ackTimeout 5,000 ms and pipeline true; absent, the node stays awake", () => {
    expect(resolveConfig(minimal).sleep).toEqual({ interval: 60_000, ackTimeout: 5_000, pipeline: true });
    expect(resolveConfig({ ...minimal, sleep: { interval: 1_000, ackTimeout: 100, pipeline: false } }).sleep)
      .toEqual({ interval: 1_000, ackTimeout: 100, pipeline: false });
    expect(resolveConfig({ ...minimal, sleep: undefined }).sleep).toBeUndefined();
  });

  it("names each mistake: a missing or out-of-range interval, ackTimeout, pipeline, an unknown key with its near miss", () => {
    expect(mistakesOf({ ...minimal, sleep: {} as never })).toEqual(["config sleep.interval: is needed: ms from one wake to the next, 1000 to 86400000"]);
    expect(mistakesOf({ ...minimal, sleep: { interval: 999 } })).toEqual(["config sleep.interval: must be a whole number from 1000 to 86400000"]);
    expect(mistakesOf({ ...minimal, sleep: { interval: 1_000, ackTimeout: 60_001 } })).toEqual(["config sleep.ackTimeout: must be a whole number from 100 to 60000"]);
    expect(mistakesOf({ ...minimal, sleep: { interval: 1_000, pipeline: "yes" as never } })).toEqual(["config sleep.pipeline: must be true or false"]);
    expect(mistakesOf({ ...minimal, sleep: { interval: 1_000, intervall: 5 } as never }))
      .toEqual(['config sleep.intervall: unknown key; did you mean "interval"?']);
    expect(mistakesOf({ ...minimal, sleep: 60_000 as never })).toEqual(["config sleep: must be an object"]);
  });

  it("refuses what a sleeping board cannot do: maxSilence 0 (no expire_after), actuators, a status LED, more readings than the retained words hold", () => {
    expect(mistakesOf({ ...minimal, maxSilence: 0 })).toEqual([
      "config maxSilence: with sleep, must be more than 0: Home Assistant shows a sleeping board's sensors unavailable " +
      "(expire_after) unless a reading comes at least every maxSilence",
    ]);
    expect(mistakesOf({ ...minimal, actuators: [{ id: "relay", pin: 26 }] }))
      .toEqual(["config sleep: a sleeping board takes no commands: leave out the actuators, or sleep"]);
    expect(mistakesOf({ ...minimal, statusLed: { pin: 2 } }))
      .toEqual(["config statusLed: a sleeping board drives no status LED: leave out statusLed, or sleep"]);
    const many = Array.from({ length: 10 }, (_, i) => ({ ...CLIMATE, id: "s" + i }));
    expect(mistakesOf({ ...minimal, sensors: many })).toEqual([
      "config sleep: the memory kept through deep sleep holds 29 words, one per sensor and one per reading; this configuration needs 30",
    ]);
    expect(mistakesOf({ ...minimal, sensors: many.slice(0, 9) })).toEqual([]);
  });

  it("a board leaves out its relay and status LED and starts, as with its other part mistakes", () => {
    const left: string[] = [];
    const resolved = resolveConfig({ ...minimal, statusLed: { pin: 2 }, actuators: [{ id: "relay", pin: 26 }] }, (mistake) => left.push(mistake.message));
    expect(resolved.statusLed).toBeUndefined();
    expect(resolved.actuators).toEqual([]);
    expect(resolved.sleep).toEqual({ interval: 60_000, ackTimeout: 5_000, pipeline: true });
    expect(left).toEqual([
      "config sleep: a sleeping board takes no commands: leave out the actuators, or sleep (actuators is left out)",
      "config statusLed: a sleeping board drives no status LED: leave out statusLed, or sleep (statusLed is left out)",
    ]);
  });

  it("discovery: availability is expire_after (maxSilence plus two intervals, and 10 s), with no availability topic: no will stands for the board", () => {
    const config = resolveConfig({ ...minimal, maxSilence: 600_000 });
    const entity = JSON.parse(sensorDiscoveryPayload(config, config.sensors[0], config.sensors[0].readings[0]));
    expect(entity.expire_after).toBe(600 + 2 * 60 + 10);
    expect(entity.availability_topic).toBeUndefined();
    const awake = resolveConfig({ ...minimal, sleep: undefined, maxSilence: 600_000 });
    expect(JSON.parse(sensorDiscoveryPayload(awake, awake.sensors[0], awake.sensors[0].readings[0])).availability_topic)
      .toBe("xs-mqtt/attic/status");
  });
});

// the XS engine runs the built firmware inside XS, its built-ins frozen as Moddable's preload leaves them
const kinds: { name: string; engine: "node" | "xs"; start(): Promise<{ readonly port: number; close(): Promise<void> }> }[] = [
  { name: "mosquitto", engine: "node", start: () => Mosquitto.start() },
  { name: "the embedded broker", engine: "node", start: () => EmbeddedBroker.start() },
  { name: "mosquitto", engine: "xs", start: () => Mosquitto.start() },
];

describe.each(kinds)("wakes against $name on the $engine engine", (kind) => {
  let broker: { readonly port: number; close(): Promise<void> };
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    broker = await kind.start();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await broker?.close();
    await stopAllMosquittos();
  });

  /** A proxy recording what the board sends, and the simulator behind it with one board in battery mode. */
  async function battery(
    sleepConfig: FirmwareConfig["sleep"],
    extra: Partial<SimulatorOptions> & { config?: Partial<FirmwareConfig>; prepare?: (proxy: TcpProxy) => void } = {},
  ) {
    const proxy = await TcpProxy.start(broker.port, { record: true });
    cleanups.push(() => proxy.close());
    extra.prepare?.(proxy);
    const nodeId = uniqueName("attic").replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 32);
    const sim: Simulator = await startSimulator({
      broker: `mqtt://127.0.0.1:${proxy.port}`,
      devices: 1,
      engine: kind.engine,
      ...extra,
      config: { nodeId, sensors: [CLIMATE], discovery: false, maxSilence: 600_000, sleep: sleepConfig, ...extra.config },
    });
    cleanups.push(() => sim.stop());
    return { proxy, sim, board: sim.boards[0] };
  }

  async function homeAssistant(filters: string[]): Promise<Peer> {
    const peer = await connectPeer(broker.port);
    cleanups.push(() => peer.client.endAsync(true));
    if (filters.length > 0) await peer.client.subscribeAsync(filters, { qos: 1 });
    return peer;
  }

  /** What the board sent on each of its connections, parsed. */
  function connections(proxy: TcpProxy): Packet[][] {
    return proxy.upstream.map((chunks) => parsePackets(chunks));
  }

  function wakes(board: SimBoard, count: number, what: string): Promise<void> {
    return waitFor(() => board.wakes.length >= count, what + ` (${count} wakes)`, 15_000, 20);
  }

  it("a wake: CONNECT (clean, no will) and a retained QoS 1 PUBLISH in one write, then DISCONNECT; the reading arrives, no will fires, the sleeping board has no socket [MQTT-3.1.4-5] [MQTT-3.14.4-3]", async () => {
    const ha = await homeAssistant([]);
    const { proxy, board } = await battery({ interval: 1_000 });
    await ha.client.subscribeAsync([board.topics.state("climate"), board.topics.status], { qos: 1 });
    await wakes(board, 1, "the first wake");
    await waitFor(() => ha.messages.length >= 1, "the reading");
    const reading = ha.messages[0];
    expect(reading.topic).toBe(board.topics.state("climate"));
    expect(Object.keys(JSON.parse(reading.payload.toString()))).toEqual(["temperature", "humidity"]);
    expect(board.wakes[0].roundTrips).toBe(1);
    expect(board.asleep).toBe(true);
    expect(board.status).toBe("asleep");
    await waitFor(() => proxy.open === 0, "the connection closed");

    const [first] = connections(proxy);
    expect(parsePackets([proxy.upstream[0][0]]).map((p) => p.cmd)).toEqual(["connect", "publish"]);
    expect(first.map((p) => p.cmd)).toEqual(["connect", "publish", "disconnect"]);
    const connect = first[0] as IConnectPacket;
    expect(connect.clean).toBe(true);
    expect(connect.will).toBeUndefined();
    const publish = first[1] as IPublishPacket;
    expect([publish.qos, publish.retain]).toEqual([1, true]);
    await sleep(200);
    // only the reading: no "offline" from a will, no birth
    expect(ha.messages.map((m) => m.topic)).toEqual([board.topics.state("climate")]);
  });

  it("packet ids and the deadband survive deep sleep: no connection while the reading stays in its deadband, the next id after a change", async () => {
    const { proxy, board } = await battery({ interval: 1_000 });
    board.chip("sht3x").set({ temperature: 21, humidity: 40 });
    const sent = (): IPublishPacket[] => connections(proxy).flatMap((packets) => packets.filter((p): p is IPublishPacket => p.cmd === "publish"));
    await waitFor(() => sent().some((p) => JSON.parse(p.payload.toString()).temperature === 21) && proxy.open === 0, "21 °C published", 15_000);
    // the publishing wake is on record once the board sleeps again (on the XS engine its record comes with the next report)
    await waitFor(() => board.asleep && board.wakes.filter((cycle) => cycle.roundTrips > 0).length === proxy.connections,
      "the publishing wake recorded", 15_000);
    const published = board.wakes.length;
    const connected = proxy.connections;
    await wakes(board, published + 2, "two more wakes");
    // the reading stayed within its deadband: those wakes did not connect at all
    expect(board.wakes.slice(published, published + 2).map((cycle) => cycle.roundTrips)).toEqual([0, 0]);
    expect(proxy.connections).toBe(connected);
    expect(board.log).toContain("nothing to publish");

    board.chip("sht3x").set({ temperature: 24, humidity: 40 }); // past the 2 °C deadband
    await waitFor(() => proxy.connections === connected + 1 && proxy.open === 0, "the next publish", 15_000);
    const ids = sent().map((p) => p.messageId!);
    expect(ids.at(-1)).toBe(ids.at(-2)! + 1);
    expect(ids.at(-1)).toBeGreaterThan(1);
    expect(JSON.parse(sent().at(-1)!.payload.toString())).toEqual({ temperature: 24, humidity: 40 });
    // the board's figures add up over its wakes, though each wake's firmware starts afresh
    await waitFor(() => board.asleep, "asleep again");
    expect(board.counts.readingsPublished).toBe(sent().length);
    expect(board.messages.sent).toBe(sent().length);
  });

  it("a broker that does not answer: the wake waits ackTimeout, sleeps, and the next wake sends the reading again (its deadband base unchanged)", async () => {
    const ha = await homeAssistant([]);
    // the broker gets everything, the board hears nothing
    const { proxy, board } = await battery({ interval: 1_000, ackTimeout: 300 }, { prepare: (link) => (link.dropToClient = true) });
    await ha.client.subscribeAsync(board.topics.state("climate"), { qos: 1 });
    await wakes(board, 1, "the wake without an answer");
    expect(board.log.some((line) => line === "no acknowledgement within sleep.ackTimeout: sleeping")).toBe(true);
    expect(board.asleep).toBe(true);
    proxy.dropToClient = false;
    await waitFor(() => board.wakes.length >= 2 && board.wakes[1].roundTrips === 1, "a wake that is answered", 15_000);
    // the same reading went again although it stayed within its deadband: the first was never acknowledged
    const publishes = connections(proxy).map((packets) => packets.filter((p) => p.cmd === "publish").length);
    expect(publishes.slice(0, 2)).toEqual([1, 1]);
    await waitFor(() => ha.messages.length >= 2, "both copies at Home Assistant");
  });

  it("the first wake after power-on sends the discovery configs (expire_after, no availability), later wakes only the state", async () => {
    const ha = await homeAssistant(["homeassistant/#"]);
    const { proxy, board } = await battery({ interval: 1_000 }, { config: { discovery: true } });
    await wakes(board, 2, "two wakes");
    await waitFor(() => ha.messages.length >= 2, "two discovery configs");
    const configs = ha.messages.filter((m) => m.topic.endsWith("/config")).map((m) => JSON.parse(m.payload.toString()));
    expect(configs.length).toBe(2);
    for (const config of configs) {
      expect(config.expire_after).toBe(600 + 2 + 10);
      expect(config.availability_topic).toBeUndefined();
    }
    await waitFor(() => proxy.connections >= 1 && proxy.open === 0, "the first connection closed");
    const first = connections(proxy)[0].filter((p) => p.cmd === "publish") as IPublishPacket[];
    expect(first.filter((p) => p.topic.startsWith("homeassistant/")).length).toBe(2);
    expect(first.at(-1)!.topic).toBe(board.topics.state("climate"));
  });

  it("--rtt: with latency on the link, a pipelined wake still waits for one MQTT round trip, the plain sequence for two", async () => {
    const pipelined = await battery({ interval: 1_000 }, { rtt: 40, config: { maxSilence: 1_000 } });
    const plain = await battery({ interval: 1_000, pipeline: false }, { rtt: 40, config: { maxSilence: 1_000 } });
    await wakes(pipelined.board, 3, "pipelined wakes");
    await wakes(plain.board, 3, "plain wakes");
    expect(pipelined.board.wakes.slice(0, 3).map((cycle) => cycle.roundTrips)).toEqual([1, 1, 1]);
    expect(plain.board.wakes.slice(0, 3).map((cycle) => cycle.roundTrips)).toEqual([2, 2, 2]);
  });
});

describe("the simulator's options for battery mode", () => {
  it("rtt: a whole number of ms from 0 to 10,000", async () => {
    for (const rtt of [-1, 10_001, 1.5]) {
      await expect(startSimulator({ devices: 0, rtt })).rejects.toThrow("rtt must be a whole number of ms from 0 to 10000");
    }
  });
});

describe("host-sim/sleep.ts: a board's deep sleep", () => {
  it("holds seeded noise at power-on, checks the index, and keeps what is written", () => {
    const make = (seed: number) => new BoardSleep({ seed, network: new BoardNetwork(), onSleep: () => {}, onWake: () => {} });
    const words = (board: BoardSleep) => Array.from({ length: 32 }, (_, i) => board.getRetainedValue(i));
    expect(words(make(3))).toEqual(words(make(3)));
    expect(words(make(3))).not.toEqual(words(make(4)));
    const board = make(3);
    board.setRetainedValue(31, 0xdead_beef);
    expect(board.getRetainedValue(31)).toBe(0xdead_beef | 0);
    for (const index of [-1, 32, 1.5]) expect(() => board.getRetainedValue(index)).toThrow(RangeError);
    expect(() => board.setRetainedValue(32, 1)).toThrow(RangeError);
    expect(() => board.deep(0)).toThrow("invalid sleep time");
  });

  it("deep(): the cycle is recorded, a socket left open is cut (the radio goes off), the board wakes after the time asked; stop() cancels the next wake", async () => {
    const server = net.createServer();
    const ends: string[] = [];
    server.on("connection", (socket) => {
      socket.on("error", () => {});
      socket.on("close", () => ends.push("closed"));
    });
    const port = await listenLoopback(server);
    const network = new BoardNetwork();
    const slept: WakeCycle[] = [];
    let woke = 0;
    const board = new BoardSleep({ seed: 1, network, onSleep: (cycle) => slept.push(cycle), onWake: () => woke++ });
    try {
      let writable = false;
      new network.TCP({ address: "127.0.0.1", port, onWritable: () => (writable = true) });
      await waitFor(() => writable, "the connection");
      board.deep(50);
      expect(board.asleep).toBe(true);
      expect(slept.map((cycle) => [cycle.wake, cycle.roundTrips, cycle.sleepMs])).toEqual([[1, 0, 50]]);
      await waitFor(() => ends.length === 1 && network.connections === 0, "the socket cut");
      board.deep(50); // asleep already: nothing
      expect(board.cycles.length).toBe(1);
      await waitFor(() => woke === 1, "the wake");
      expect(board.asleep).toBe(false);
      board.deep(50);
      board.stop();
      await sleep(150);
      expect(woke).toBe(1);
      expect(board.cycles.map((cycle) => cycle.wake)).toEqual([1, 2]);
    } finally {
      board.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("manifests/esp32/manifest_sleep.json: the battery build", () => {
  const root = join(import.meta.dirname, "..");
  const read = (file: string) => JSON.parse(readFileSync(join(root, "manifests/esp32", file), "utf8"));

  it("starts device/main-sleep.ts over the board's manifest and the RTC sleep module, and gives every key main-sleep.ts reads, relay and LED off", () => {
    const manifest = read("manifest_sleep.json");
    expect(manifest.include).toEqual(["./manifest.json", "./sleep/manifest.json"]);
    expect(manifest.modules["main-sleep"]).toBe("../../dist/board-sleep");
    expect(existsSync(join(root, "dist/board-sleep.js"))).toBe(true);
    expect(manifest.preload).toEqual(["main-sleep"]);
    expect(manifest.creation.main).toBe("main-sleep");
    const source = readFileSync(join(root, "device/main-sleep.ts"), "utf8");
    const keysRead = [...new Set([...source.matchAll(/\bconfig\.([A-Za-z]+)/g)].map((m) => m[1]))].sort();
    expect(keysRead).toEqual(["sleep", "sleepAckTimeout", "sleepPipeline"]);
    expect(Object.keys(manifest.config).sort()).toEqual([...keysRead, "led", "relay"].sort());
    expect([manifest.config.relay, manifest.config.led]).toEqual(["none", "none"]);
    const sleepModule = read("sleep/manifest.json");
    expect(sleepModule.modules.sleep).toBe("./*");
    for (const file of ["sleep.js", "sleep.c"]) expect(existsSync(join(root, "manifests/esp32/sleep", file)), file).toBe(true);
  });
});
