// The sensor-node firmware (device/app/) on Node, against an in-process aedes broker on a
// free loopback port, with an MQTT.js peer playing Home Assistant. Sensors are plain
// objects whose values the test sets; pins are a tiny ECMA-419-shaped Digital class that
// records what it is driven to. Everything a test starts is stopped in afterEach.
import type { Client as AedesClient } from "aedes";
import { connectAsync } from "mqtt";
import type { MqttClient as PeerClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { startFirmware } from "../device/app/firmware.js";
import { mqtt5 } from "../device/mqtt/index.js";
import type { Firmware, FirmwareOptions, FirmwareStatus } from "../device/app/firmware.js";
import type { FirmwareConfig } from "../device/app/config.js";
import { hostIo, TCP, Timer as hostTimer } from "../host-sim/io/io.js";
import { I2CBus } from "../host-sim/io/i2c.js";
import { VirtualPins } from "../host-sim/io/digital.js";
import { SHT3xChip } from "../host-sim/chips/sht3x.js";
import { BH1750Chip } from "../host-sim/chips/bh1750.js";
import { SHT3x } from "../device/drivers/sht3x.js";
import { BH1750 } from "../device/drivers/bh1750.js";
import type { SocketOptions, TimerModule } from "../device/mqtt/io.js";
import { parser as packetParser } from "mqtt-packet";
import { AedesBroker } from "./brokers/aedes.js";
import { Mosquitto } from "./brokers/mosquitto.js";
import { sleep, waitFor } from "./brokers/helpers.js";

// ---- fixtures

interface Received {
  topic: string;
  text: string;
  retain: boolean;
  qos: number;
  at: number;
}

/** How long a wait here may take unless it says otherwise (helpers' waitFor defaults to less). */
const WAIT_MS = 10_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An aedes broker (test/brokers/aedes.ts) on a free loopback port, closed after the test. */
async function startBroker(): Promise<AedesBroker> {
  const broker = await AedesBroker.start();
  cleanups.push(() => broker.close());
  return broker;
}

/** An MQTT.js client recording every message on `filters`. */
async function startPeer(port: number, filters: string[], name = "ha"): Promise<{ client: PeerClient; messages: Received[] }> {
  const client = await connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: `${name}-${Math.random().toString(16).slice(2)}`,
    clean: true,
    reconnectPeriod: 0,
  });
  cleanups.push(() => client.endAsync(true));
  const messages: Received[] = [];
  client.on("message", (topic, payload, packet) => {
    messages.push({ topic, text: payload.toString("utf8"), retain: packet.retain, qos: packet.qos, at: Date.now() });
  });
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, messages };
}

/**
 * The retained messages on a filter, as a fresh subscriber sees them. A subscriber that came
 * before the board published gets the messages live, without the retain flag
 * [MQTT-3.3.1-9]: until the broker holds `expected` of them, a new subscriber looks again.
 */
async function retained(port: number, filter: string, expected: number): Promise<Map<string, Received>> {
  const until = Date.now() + WAIT_MS;
  let messages: Received[] = [];
  const kept = () => messages.filter((m) => m.retain);
  for (;;) {
    messages = (await startPeer(port, [filter], "retained")).messages;
    const look = Date.now() + 500;
    await waitFor(() => kept().length >= expected || Date.now() >= look || Date.now() >= until, "a look", WAIT_MS);
    if (kept().length >= expected) break;
    if (Date.now() >= until) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${expected} retained messages on ${filter}`);
  }
  await sleep(100); // and no more than that
  const out = new Map<string, Received>();
  for (const m of kept()) out.set(m.topic, m);
  expect(out.size).toBe(expected);
  return out;
}

/**
 * Host IO whose TCP sockets also record the topics of the PUBLISH packets written, in wire
 * order, and, in `writes`, those that began in each write() call.
 */
function recordingIo(published: string[], writes: string[][] = []) {
  class RecordingTCP extends TCP {
    constructor(options: SocketOptions) {
      super(options);
      const parser = packetParser({ protocolVersion: 4 });
      parser.on("packet", (packet) => {
        if (packet.cmd === "publish") published.push(packet.topic);
      });
      this.parser = parser;
    }
    parser: ReturnType<typeof packetParser>;
    override write(buffer: ArrayBuffer | ArrayBufferView): number | undefined {
      const bytes = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      const before = published.length;
      this.parser.parse(Buffer.from(bytes));
      writes.push(published.slice(before));
      return super.write(buffer);
    }
  }
  return { ...hostIo(), TCP: RecordingTCP };
}

/** A sensor whose values the test sets; it throws while `failing` is set. */
class TestSensor {
  values: Record<string, number>;
  failing = false;
  calls = 0;
  constructor(values: Record<string, number>) {
    this.values = values;
  }
  sample(): Record<string, number> {
    this.calls++;
    if (this.failing) throw new Error("the chip did not acknowledge");
    return { ...this.values };
  }
}

/** An ECMA-419-shaped Digital class that records each pin's writes. */
function digitalClass() {
  const pins = new Map<number, TestPin>();
  class TestPin {
    static readonly Input = 0;
    static readonly Output = 8;
    readonly pin: number;
    readonly writes: number[] = [];
    closed = false;
    constructor(options: { pin: number; mode: unknown }) {
      if (options.mode !== TestPin.Output) throw new Error("expected Digital.Output");
      this.pin = options.pin;
      pins.set(options.pin, this);
    }
    write(value: 0 | 1): void {
      if (this.closed) throw new Error("closed");
      this.writes.push(value);
    }
    read(): number {
      return this.writes.at(-1) ?? 0;
    }
    close(): void {
      this.closed = true;
    }
    get value(): number | undefined {
      return this.writes.at(-1);
    }
  }
  return { Digital: TestPin, pins };
}

function baseConfig(port: number, overrides: Partial<FirmwareConfig> = {}): FirmwareConfig {
  return {
    nodeId: "node1",
    broker: { host: "127.0.0.1", port },
    sampleInterval: 100,
    maxSilence: 60_000,
    sensors: [
      {
        id: "climate", name: "Climate", driver: "sht3x",
        readings: [
          { key: "temperature", unit: "°C", device_class: "temperature", decimals: 2, deadband: 0.2 },
          { key: "humidity", unit: "%", device_class: "humidity", decimals: 1, deadband: 1 },
        ],
      },
      {
        id: "light", driver: "bh1750",
        readings: [{ key: "illuminance", name: "Light level", unit: "lx", device_class: "illuminance", decimals: 0, deadband: 10 }],
      },
    ],
    actuators: [
      { id: "relay", name: "Relay", pin: 12 },
      { id: "lamp", name: "Lamp", pin: 13, component: "light", initial: "ON", activeLow: true },
    ],
    statusLed: { pin: 2 },
    device: { name: "Test node", model: "test board", manufacturer: "tests", sw_version: "1.2.3" },
    // the diagnostics (their entities and state) are test/firmware.diagnostics.test.ts's: here they would add to every count
    diagnosticsInterval: 0,
    ...overrides,
  };
}

interface Node {
  firmware: Firmware;
  log: string[];
  statuses: FirmwareStatus[];
  climate: TestSensor;
  light: TestSensor;
  pins: Map<number, { value: number | undefined; writes: number[]; closed: boolean }>;
}

/** The host's Timer module, with each repeating timer's periods recorded (its first, then each schedule's). */
function recordingTimer(): { Timer: TimerModule; periods: Map<unknown, number[]> } {
  const periods = new Map<unknown, number[]>();
  type HostId = Parameters<typeof hostTimer.schedule>[0];
  const Timer: TimerModule = {
    repeat: (callback, interval) => {
      const id = hostTimer.repeat(callback as (id: unknown) => void, interval);
      periods.set(id, [interval]);
      return id;
    },
    clear: (id) => hostTimer.clear(id as HostId),
    schedule: (id, delay, repeat) => {
      periods.get(id)?.push(repeat);
      hostTimer.schedule(id as HostId, delay, repeat);
    },
  };
  return { Timer, periods };
}

function start(config: FirmwareConfig, extra: Partial<FirmwareOptions> = {}): Node {
  const log: string[] = [];
  const statuses: FirmwareStatus[] = [];
  const climate = new TestSensor({ temperature: 21.534, humidity: 40.06 });
  const light = new TestSensor({ illuminance: 120.4 });
  const { Digital, pins } = digitalClass();
  const firmware = startFirmware({
    config,
    io: hostIo(),
    sensors: { climate, light },
    Digital,
    log: (line) => log.push(line),
    onStatus: (status) => statuses.push(status),
    ...extra,
  });
  cleanups.push(() => firmware.stop());
  return { firmware, log, statuses, climate, light, pins };
}

function on(messages: Received[], topic: string): Received[] {
  return messages.filter((m) => m.topic === topic);
}

/** A node with its initial states out, and a peer watching the relay's state (its retained one seen). */
async function startWatchingRelay() {
  const broker = await startBroker();
  const node = start(baseConfig(broker.port));
  await waitFor(() => node.firmware.counts.statesPublished === 2, "initial states", WAIT_MS);
  const peer = await startPeer(broker.port, ["xs-mqtt/node1/relay/state"]);
  await waitFor(() => peer.messages.length === 1, "retained relay state", WAIT_MS);
  return { node, peer, relay: node.pins.get(12)! };
}

const DISCOVERY = "homeassistant/+/node1/+/config";
const STATUS = "xs-mqtt/node1/status";

// ---- tests

describe("Home Assistant discovery: what a board no longer has is cleared", () => {
  const brokers: [string, () => Promise<{ port: number }>][] = [
    ["aedes", startBroker],
    ["mosquitto", async () => {
      const broker = await Mosquitto.start();
      cleanups.push(() => broker.stop());
      return broker;
    }],
  ];
  it.each(brokers)("a restart without the light sensor and the lamp deletes their retained configs, and keeps the rest [MQTT-3.3.1-10] (%s)", async (_name, startOne) => {
    const broker = await startOne();
    const first = start(baseConfig(broker.port));
    const all = await retained(broker.port, DISCOVERY, 5);
    expect(all.has("homeassistant/sensor/node1/xs-mqtt_light_illuminance/config")).toBe(true);
    await retained(broker.port, "xs-mqtt/node1/discovery", 1); // the manifest of what it announced
    await first.firmware.stop();

    const config = baseConfig(broker.port);
    const second = start({ ...config, sensors: config.sensors!.filter((spec) => spec.id !== "light"), actuators: config.actuators!.filter((spec) => spec.id !== "lamp") });
    await waitFor(() => second.log.some((line) => line.startsWith("cleared 2 discovery configs")), "the stale configs cleared", WAIT_MS);
    // the broker acknowledged every QoS 1 PUBLISH (the empty configs among them): it keeps no more than that
    await waitFor(() => second.firmware.client.outboxCount === 0, "every PUBACK", WAIT_MS);
    const kept = await retained(broker.port, DISCOVERY, 3);
    expect([...kept.keys()].sort()).toEqual([
      "homeassistant/sensor/node1/xs-mqtt_climate_humidity/config",
      "homeassistant/sensor/node1/xs-mqtt_climate_temperature/config",
      "homeassistant/switch/node1/xs-mqtt_relay/config",
    ]);
    const manifest = await retained(broker.port, "xs-mqtt/node1/discovery", 1);
    expect(manifest.get("xs-mqtt/node1/discovery")!.text).toBe("sensor/xs-mqtt_climate_temperature sensor/xs-mqtt_climate_humidity switch/xs-mqtt_relay");
  });
  it.each(brokers)("a board upgraded from object ids without the prefix clears the configs it announced before [MQTT-3.3.1-10] (%s)", async (_name, startOne) => {
    const broker = await startOne();
    // what the version before the prefix left on the broker: its configs and its manifest, retained
    const old = await startPeer(broker.port, ["old-board/#"], "old-board");
    const oldIds = ["sensor/climate_temperature", "sensor/climate_humidity", "sensor/light_illuminance", "switch/relay", "light/lamp"];
    for (const entry of oldIds) {
      const [component, object] = entry.split("/");
      await old.client.publishAsync(`homeassistant/${component}/node1/${object}/config`, JSON.stringify({ unique_id: `node1_${object}` }), { qos: 1, retain: true });
    }
    await old.client.publishAsync("xs-mqtt/node1/discovery", oldIds.join(" "), { qos: 1, retain: true });
    await retained(broker.port, DISCOVERY, 5);

    const node = start(baseConfig(broker.port));
    await waitFor(() => node.log.some((line) => line.startsWith("cleared 5 discovery configs")), "the old configs cleared", WAIT_MS);
    await waitFor(() => node.firmware.counts.discoveryPublished === 5 && node.firmware.client.outboxCount === 0, "every PUBACK", WAIT_MS);
    const kept = await retained(broker.port, DISCOVERY, 5);
    expect([...kept.keys()].every((topic) => topic.includes("/node1/xs-mqtt_"))).toBe(true);
  });

  it("two installations with the same node id under different prefixes keep their own configs", async () => {
    const broker = await startBroker();
    const upstairs = start(baseConfig(broker.port, { prefix: "upstairs" }));
    const downstairs = start(baseConfig(broker.port, { prefix: "downstairs" }));
    for (const node of [upstairs, downstairs]) {
      await waitFor(() => node.firmware.counts.discoveryPublished === 5 && node.firmware.client.outboxCount === 0, "discovery acknowledged", WAIT_MS);
    }
    const configs = await retained(broker.port, DISCOVERY, 10);
    const uniqueIds = new Set([...configs.values()].map((m) => JSON.parse(m.text).unique_id as string));
    expect(uniqueIds.size).toBe(10);
    expect(JSON.parse(configs.get("homeassistant/switch/node1/upstairs_relay/config")!.text)).toMatchObject({
      unique_id: "upstairs_node1_relay", command_topic: "upstairs/node1/relay/set",
    });
    expect(JSON.parse(configs.get("homeassistant/switch/node1/downstairs_relay/config")!.text)).toMatchObject({
      unique_id: "downstairs_node1_relay", command_topic: "downstairs/node1/relay/set",
    });
  });
});

describe("Home Assistant discovery", () => {
  it("publishes a retained config per sensor reading and per actuator, with the fields Home Assistant reads", async () => {
    const broker = await startBroker();
    const node = start(baseConfig(broker.port));
    await waitFor(() => node.firmware.counts.discoveryPublished === 5 && node.firmware.client.outboxCount === 0, "discovery sent and acknowledged", WAIT_MS);

    const configs = await retained(broker.port, DISCOVERY, 5);
    expect([...configs.keys()].sort()).toEqual([
      "homeassistant/light/node1/xs-mqtt_lamp/config",
      "homeassistant/sensor/node1/xs-mqtt_climate_humidity/config",
      "homeassistant/sensor/node1/xs-mqtt_climate_temperature/config",
      "homeassistant/sensor/node1/xs-mqtt_light_illuminance/config",
      "homeassistant/switch/node1/xs-mqtt_relay/config",
    ]);
    const device = { identifiers: ["xs-mqtt_node1"], name: "Test node", model: "test board", manufacturer: "tests", sw_version: "1.2.3" };
    const availability = { availability_topic: STATUS, payload_available: "online", payload_not_available: "offline" };
    const origin = { name: "xs-mqtt", sw_version: "0.1.0", support_url: "https://www.npmjs.com/package/xs-mqtt" };
    expect(JSON.parse(configs.get("homeassistant/sensor/node1/xs-mqtt_climate_temperature/config")!.text)).toEqual({
      name: "Temperature",
      unique_id: "xs-mqtt_node1_climate_temperature",
      state_topic: "xs-mqtt/node1/climate/state",
      value_template: "{{ value_json.temperature }}",
      unit_of_measurement: "°C",
      device_class: "temperature",
      state_class: "measurement",
      suggested_display_precision: 2,
      expire_after: 71, // maxSilence 60 s + two samples of 0.1 s, rounded up, + 10 s
      ...availability,
      device,
      origin,
    });
    expect(JSON.parse(configs.get("homeassistant/sensor/node1/xs-mqtt_light_illuminance/config")!.text)).toMatchObject({
      name: "Light level",
      unique_id: "xs-mqtt_node1_light_illuminance",
      state_topic: "xs-mqtt/node1/light/state",
      value_template: "{{ value_json.illuminance }}",
      unit_of_measurement: "lx",
      device_class: "illuminance",
    });
    expect(JSON.parse(configs.get("homeassistant/switch/node1/xs-mqtt_relay/config")!.text)).toEqual({
      name: "Relay",
      unique_id: "xs-mqtt_node1_relay",
      command_topic: "xs-mqtt/node1/relay/set",
      state_topic: "xs-mqtt/node1/relay/state",
      payload_on: "ON",
      payload_off: "OFF",
      state_on: "ON",
      state_off: "OFF",
      qos: 1,
      optimistic: false,
      ...availability,
      device,
      origin,
    });
    expect(JSON.parse(configs.get("homeassistant/light/node1/xs-mqtt_lamp/config")!.text)).toMatchObject({
      unique_id: "xs-mqtt_node1_lamp",
      command_topic: "xs-mqtt/node1/lamp/set",
      state_topic: "xs-mqtt/node1/lamp/state",
      payload_on: "ON",
      payload_off: "OFF",
      ...availability,
    });
    // the birth: retained "online" at QoS 1
    const status = await retained(broker.port, STATUS, 1);
    expect(status.get(STATUS)!.text).toBe("online");
  });

  it("paces a burst too large for the outbox: every config arrives once, in order, with no publish failure", async () => {
    const broker = await startBroker();
    const peer = await startPeer(broker.port, ["homeassistant/#", "xs-mqtt/#"]);
    const sensors = Array.from({ length: 10 }, (_, index) => ({
      id: `s${index}`, driver: "test",
      readings: ["temperature", "humidity", "pressure", "dew_point"].map((key) => ({ key, unit: "x" })),
    }));
    const actuators = Array.from({ length: 4 }, (_, a) => ({ id: `out${a}`, pin: 20 + a }));
    const objects = Object.fromEntries(sensors.map((s, i) => [s.id, new TestSensor({ temperature: i, humidity: 50, pressure: 1000, dew_point: 3 })]));
    const wire: string[] = [];
    const node = start(baseConfig(broker.port, { sensors, actuators, statusLed: undefined }), { sensors: objects, io: recordingIo(wire) });
    const expected = 10 * 4 + 4;
    await waitFor(() => peer.messages.filter((m) => m.topic.endsWith("/config")).length >= expected, `${expected} discovery configs`, WAIT_MS);
    await waitFor(() => on(peer.messages, "xs-mqtt/node1/out3/state").length === 1, "the last actuator state", WAIT_MS);
    await waitFor(() => on(peer.messages, "xs-mqtt/node1/s9/state").length === 1, "the last sensor state", WAIT_MS);
    await sleep(200);

    const configs = peer.messages.filter((m) => m.topic.endsWith("/config"));
    expect(configs).toHaveLength(expected);
    expect(new Set(configs.map((m) => m.topic)).size).toBe(expected);
    const bytes = configs.reduce((sum, m) => sum + Buffer.byteLength(m.text), 0);
    expect(bytes).toBeGreaterThan(16_384); // four times the 4,096-byte outbox the node asks for
    expect(node.firmware.counts.discoveryPublished).toBe(expected);
    // order on the wire (the broker may forward QoS 0 ahead of QoS 1): the birth, every
    // discovery config, then the actuator and sensor states
    const order = wire;
    const birth = order.indexOf(STATUS);
    const lastConfig = order.findLastIndex((t) => t.endsWith("/config"));
    const firstState = order.findIndex((t) => t.endsWith("/state"));
    expect(birth).toBe(0);
    expect(firstState).toBe(lastConfig + 1);
    // and the discovery manifest, once: its SUBACK came while the burst filled the outbox, so it goes when room returns
    expect(order.filter((t) => t === "xs-mqtt/node1/discovery")).toHaveLength(1);
    expect(order).toHaveLength(1 + expected + 1 + 4 + 10);
    expect(node.log.filter((line) => line.includes("manifest"))).toEqual([]);
    expect(peer.messages.filter((m) => m.topic.endsWith("/state"))).toHaveLength(4 + 10);
    // and Home Assistant hears of every entity before its first reading
    const seen = peer.messages.map((m) => m.topic);
    expect(seen.findIndex((t) => /^xs-mqtt\/node1\/s\d\/state$/.test(t))).toBeGreaterThan(seen.findLastIndex((t) => t.endsWith("/config")));
    expect(on(peer.messages, "xs-mqtt/node1/s3/state")[0].text).toBe('{"temperature":3.00,"humidity":50.00,"pressure":1000.00,"dew_point":3.00}');
    expect(configs.map((m) => m.topic)).toEqual(
      [...sensors.flatMap((s) => s.readings.map((r) => `homeassistant/sensor/node1/xs-mqtt_${s.id}_${r.key}/config`)),
        ...actuators.map((a) => `homeassistant/switch/node1/xs-mqtt_${a.id}/config`)],
    );
    expect(node.log.filter((line) => line.startsWith("mqtt ") || line.includes("failed"))).toEqual([]);
    expect(node.firmware.client.stats.dropped).toBe(0);
  });

  it("sends discovery and states again when Home Assistant announces itself online, and only then", async () => {
    const broker = await startBroker();
    const node = start(baseConfig(broker.port));
    await waitFor(() => node.firmware.counts.readingsPublished === 2 && node.firmware.counts.discoveryPublished === 5, "first publication", WAIT_MS);
    const peer = await startPeer(broker.port, [DISCOVERY, "xs-mqtt/node1/+/state"]);
    await waitFor(() => peer.messages.length >= 5 + 2, "retained configs and states", WAIT_MS);
    await sleep(100);
    peer.messages.length = 0;

    await peer.client.publishAsync("homeassistant/status", "offline", { qos: 1 });
    await sleep(300);
    expect(peer.messages).toEqual([]);

    await peer.client.publishAsync("homeassistant/status", "online", { qos: 1 });
    await waitFor(() => peer.messages.length >= 5 + 2 + 2, "configs, actuator states and sensor states again", WAIT_MS);
    await sleep(100);
    const topics = peer.messages.map((m) => m.topic);
    expect(topics.filter((t) => t.endsWith("/config"))).toHaveLength(5);
    expect(topics.filter((t) => t.endsWith("/state")).sort()).toEqual([
      "xs-mqtt/node1/climate/state", "xs-mqtt/node1/lamp/state", "xs-mqtt/node1/light/state", "xs-mqtt/node1/relay/state",
    ]);
    expect(node.firmware.counts.discoveryPublished).toBe(10);
    expect(node.log.some((line) => line.includes("Home Assistant is online"))).toBe(true);
  });

  it("leaves discovery out when it is turned off", async () => {
    const broker = await startBroker();
    const peer = await startPeer(broker.port, ["homeassistant/#", "xs-mqtt/#"]);
    const node = start(baseConfig(broker.port, { discovery: false }));
    await waitFor(() => node.firmware.counts.readingsPublished === 2, "readings", WAIT_MS);
    await sleep(100);
    expect(peer.messages.filter((m) => m.topic.startsWith("homeassistant/"))).toEqual([]);
  });
});

describe("readings", () => {
  it("publishes each sensor's readings as JSON with fixed decimals on its state topic, QoS 0, retained", async () => {
    const broker = await startBroker();
    const peer = await startPeer(broker.port, ["xs-mqtt/node1/+/state"]);
    const node = start(baseConfig(broker.port));
    await waitFor(() => on(peer.messages, "xs-mqtt/node1/climate/state").length === 1 && on(peer.messages, "xs-mqtt/node1/light/state").length === 1, "first readings", WAIT_MS);
    const climate = on(peer.messages, "xs-mqtt/node1/climate/state")[0];
    expect(climate.text).toBe('{"temperature":21.53,"humidity":40.1}');
    expect(JSON.parse(climate.text)).toEqual({ temperature: 21.53, humidity: 40.1 });
    expect(climate.qos).toBe(0);
    // retained: a subscriber that comes later (Home Assistant after its restart) gets the latest at once
    const kept = await retained(broker.port, "xs-mqtt/node1/climate/state", 1);
    expect(kept.get("xs-mqtt/node1/climate/state")!.text).toBe('{"temperature":21.53,"humidity":40.1}');
    expect(on(peer.messages, "xs-mqtt/node1/light/state")[0].text).toBe('{"illuminance":120}');

    node.climate.values = { temperature: -3.005, humidity: 0 };
    await waitFor(() => on(peer.messages, "xs-mqtt/node1/climate/state").length === 2, "a negative temperature", WAIT_MS);
    expect(on(peer.messages, "xs-mqtt/node1/climate/state")[1].text).toBe('{"temperature":-3.01,"humidity":0.0}');
    expect(node.firmware.readings()).toEqual([
      { sensor: "climate", key: "temperature", name: "Temperature", unit: "°C", value: -3.01 },
      { sensor: "climate", key: "humidity", name: "Humidity", unit: "%", value: 0 },
      { sensor: "light", key: "illuminance", name: "Light level", unit: "lx", value: 120 },
    ]);
  });

  it("a sample's states leave together: one write (one TCP segment on a board), not one each", async () => {
    const broker = await startBroker();
    const peer = await startPeer(broker.port, ["xs-mqtt/node1/+/state"]);
    const wire: string[] = [];
    const writes: string[][] = [];
    const node = start(baseConfig(broker.port, { statusLed: undefined }), { io: recordingIo(wire, writes) });
    const states = ["xs-mqtt/node1/climate/state", "xs-mqtt/node1/light/state"];
    await waitFor(() => states.every((topic) => on(peer.messages, topic).length === 1), "first readings", WAIT_MS);
    await sleep(100);
    const from = writes.length;
    node.climate.values = { temperature: 25, humidity: 50 };
    node.light.values = { illuminance: 500 };
    node.firmware.sampleNow();
    await waitFor(() => states.every((topic) => on(peer.messages, topic).length === 2), "the second readings", WAIT_MS);
    expect(writes.slice(from).filter((topics) => topics.length > 0)).toEqual([states]);
  });

  it("holds back a change smaller than the deadband until maxSilence, and publishes a larger one at once", async () => {
    const broker = await startBroker();
    const peer = await startPeer(broker.port, ["xs-mqtt/node1/climate/state"]);
    const node = start(baseConfig(broker.port, { maxSilence: 1_500 }));
    await waitFor(() => peer.messages.length === 1, "the first reading", WAIT_MS);
    const first = peer.messages[0];

    node.climate.values = { temperature: 21.65, humidity: 40.8 }; // +0.12 °C < 0.2, +0.7 % < 1
    await sleep(700); // seven samples
    expect(peer.messages).toHaveLength(1);
    await waitFor(() => peer.messages.length === 2, "the max-silence publish", 5_000);
    const silent = peer.messages[1];
    expect(silent.text).toBe('{"temperature":21.65,"humidity":40.8}');
    expect(silent.at - first.at).toBeGreaterThanOrEqual(1_400);

    const before = Date.now();
    node.climate.values = { temperature: 21.65, humidity: 42.0 }; // +1.2 % >= 1
    await waitFor(() => peer.messages.length === 3, "a change past the deadband", WAIT_MS);
    expect(peer.messages[2].text).toBe('{"temperature":21.65,"humidity":42.0}');
    expect(Date.now() - before).toBeLessThan(1_000);

    await sleep(400);
    expect(peer.messages).toHaveLength(3); // unchanged values are not repeated before maxSilence
    expect(node.firmware.counts.samples).toBeGreaterThan(10);
  });

  it("reports a failing sensor once, keeps publishing the others, and says when it recovers", async () => {
    const broker = await startBroker();
    const peer = await startPeer(broker.port, ["xs-mqtt/node1/+/state"]);
    const node = start(baseConfig(broker.port));
    await waitFor(() => node.firmware.counts.readingsPublished === 2, "first readings", WAIT_MS);
    node.climate.failing = true;
    const calls = node.climate.calls;
    await waitFor(() => node.climate.calls >= calls + 5, "five failing samples", WAIT_MS);
    node.light.values = { illuminance: 500 };
    await waitFor(() => on(peer.messages, "xs-mqtt/node1/light/state").some((m) => m.text === '{"illuminance":500}'), "the other sensor", WAIT_MS);
    expect(node.log.filter((line) => line.startsWith("sensor climate: sample failed"))).toHaveLength(1);
    expect(node.log.find((line) => line.startsWith("sensor climate"))).toContain("the chip did not acknowledge");
    expect(node.firmware.counts.sampleFailures).toBeGreaterThanOrEqual(5);
    expect(node.firmware.status).toBe("online");

    node.climate.failing = false;
    node.climate.values = { temperature: 30, humidity: 50 };
    await waitFor(() => on(peer.messages, "xs-mqtt/node1/climate/state").some((m) => m.text === '{"temperature":30.00,"humidity":50.0}'), "the recovered sensor", WAIT_MS);
    expect(node.log.some((line) => line.startsWith("sensor climate: sampling again"))).toBe(true);
  });

  it("reports a configured sensor without a driver and publishes the rest", async () => {
    const broker = await startBroker();
    const peer = await startPeer(broker.port, ["xs-mqtt/node1/+/state"]);
    const light = new TestSensor({ illuminance: 7 });
    const node = start(baseConfig(broker.port), { sensors: { light } });
    await waitFor(() => on(peer.messages, "xs-mqtt/node1/light/state").length === 1, "the light reading", WAIT_MS);
    expect(node.log).toContain("sensor climate: no driver was given; it is neither announced nor published");
    await sleep(300);
    expect(on(peer.messages, "xs-mqtt/node1/climate/state")).toEqual([]);
    // Home Assistant is told only of what runs: no climate entities, the light and the actuators
    const configs = await retained(broker.port, DISCOVERY, 3);
    expect([...configs.keys()].sort()).toEqual([
      "homeassistant/light/node1/xs-mqtt_lamp/config",
      "homeassistant/sensor/node1/xs-mqtt_light_illuminance/config",
      "homeassistant/switch/node1/xs-mqtt_relay/config",
    ]);
  });
});

describe("actuators", () => {
  it("drives the pin on ON and OFF and publishes the state retained at QoS 1", async () => {
    const broker = await startBroker();
    const node = start(baseConfig(broker.port));
    await waitFor(() => node.firmware.counts.statesPublished === 2 && node.firmware.counts.readingsPublished === 2, "initial states", WAIT_MS);
    const relay = node.pins.get(12)!;
    const lamp = node.pins.get(13)!;
    expect(relay.writes).toEqual([0]); // initial OFF
    expect(lamp.writes).toEqual([0]); // initial ON, active low
    const states = await retained(broker.port, "xs-mqtt/node1/+/state", 4); // two actuators, two sensors
    expect(states.get("xs-mqtt/node1/relay/state")!.text).toBe("OFF");
    expect(states.get("xs-mqtt/node1/lamp/state")!.text).toBe("ON");

    const peer = await startPeer(broker.port, ["xs-mqtt/node1/relay/state", "xs-mqtt/node1/lamp/state"]);
    await waitFor(() => peer.messages.length === 2, "retained states", WAIT_MS);
    peer.messages.length = 0;
    await peer.client.publishAsync("xs-mqtt/node1/relay/set", "ON", { qos: 1 });
    await waitFor(() => peer.messages.some((m) => m.topic === "xs-mqtt/node1/relay/state" && m.text === "ON"), "relay ON state", WAIT_MS);
    expect(relay.value).toBe(1);
    expect(peer.messages.find((m) => m.text === "ON")!.qos).toBe(1);
    expect((await retained(broker.port, "xs-mqtt/node1/relay/state", 1)).get("xs-mqtt/node1/relay/state")!.text).toBe("ON");

    await peer.client.publishAsync("xs-mqtt/node1/lamp/set", "OFF", { qos: 0 });
    await waitFor(() => peer.messages.some((m) => m.topic === "xs-mqtt/node1/lamp/state" && m.text === "OFF"), "lamp OFF state", WAIT_MS);
    expect(lamp.value).toBe(1); // active low: OFF drives the pin high
    await peer.client.publishAsync("xs-mqtt/node1/relay/set", "OFF", { qos: 1 });
    await waitFor(() => relay.value === 0, "relay off", WAIT_MS);
    expect(node.firmware.actuators()).toEqual([
      { id: "relay", name: "Relay", state: "OFF" },
      { id: "lamp", name: "Lamp", state: "OFF" },
    ]);
    expect(node.firmware.counts.commands).toBe(3);

    // a local change (e.g. a button) is published the same way
    expect(node.firmware.setActuator("relay", true)).toBe(true);
    expect(node.firmware.setActuator("nope", true)).toBe(false);
    expect(relay.value).toBe(1);
    await waitFor(() => on(peer.messages, "xs-mqtt/node1/relay/state").at(-1)?.text === "ON", "relay ON after setActuator", WAIT_MS);
  });

  it("takes ON, OFF and TOGGLE in any letter case, and publishes the state as ON or OFF", async () => {
    const { node, peer, relay } = await startWatchingRelay();
    const steps: [string, number, string][] = [["on", 1, "ON"], ["Off", 0, "OFF"], ["TOGGLE", 1, "ON"], ["toggle", 0, "OFF"], ["oN", 1, "ON"], ["Toggle", 0, "OFF"]];
    for (const [command, level, state] of steps) {
      const before = on(peer.messages, "xs-mqtt/node1/relay/state").length;
      await peer.client.publishAsync("xs-mqtt/node1/relay/set", command, { qos: 1 });
      await waitFor(() => on(peer.messages, "xs-mqtt/node1/relay/state").length === before + 1, `the state after ${command}`, WAIT_MS);
      expect(relay.value, command).toBe(level);
      expect(on(peer.messages, "xs-mqtt/node1/relay/state").at(-1)!.text, command).toBe(state);
    }
    expect(node.firmware.counts.commands).toBe(steps.length);
    expect(node.firmware.counts.badCommands).toBe(0);
  });

  it("ignores and reports bad commands, and goes on working", async () => {
    const { node, peer, relay } = await startWatchingRelay();
    const writes = relay.writes.length;

    const bad = ["0", "TOGGLED", "", "ON ", "\u00ff\u00fe", "x".repeat(400)];
    for (const payload of bad) await peer.client.publishAsync("xs-mqtt/node1/relay/set", payload, { qos: 1 });
    await peer.client.publishAsync("xs-mqtt/node1/relay/set", Buffer.from([0xc3, 0x28, 0x00]), { qos: 1 }); // not UTF-8
    await waitFor(() => node.firmware.counts.badCommands === bad.length + 1, "every bad command reported", WAIT_MS);
    expect(relay.writes).toHaveLength(writes);
    const reports = node.log.filter((line) => line.startsWith("actuator relay: ignored command"));
    expect(reports).toHaveLength(bad.length + 1);
    expect(reports[0]).toBe('actuator relay: ignored command "0": expected "ON", "OFF" or "TOGGLE"');
    expect(reports[5]).toContain("(400 bytes)");
    expect(node.firmware.status).toBe("online");
    expect(node.firmware.counts.disconnects).toBe(0);
    expect(peer.messages).toHaveLength(1); // no state published for a refused command

    await peer.client.publishAsync("xs-mqtt/node1/relay/set", "ON", { qos: 1 });
    await waitFor(() => relay.value === 1, "a good command after the bad ones", WAIT_MS);
  });
});

describe("availability and reconnection", () => {
  it("shows connecting, then online, on the status LED and to onStatus", async () => {
    const broker = await startBroker();
    const node = start(baseConfig(broker.port));
    expect(node.firmware.status).toBe("connecting");
    await waitFor(() => node.firmware.status === "online", "online", WAIT_MS);
    await sleep(600);
    expect(node.statuses).toEqual(["online"]);
    expect(node.pins.get(2)!.value).toBe(1);
    expect(node.log).toContain("status: online");
  });

  it("blinks the LED while it cannot connect", async () => {
    const broker = await startBroker();
    const port = broker.port;
    await broker.close();
    const node = start(baseConfig(port));
    await sleep(1_200);
    const led = node.pins.get(2)!;
    expect(node.firmware.status).toBe("connecting");
    expect(led.writes.length).toBeGreaterThanOrEqual(4);
    expect(new Set(led.writes)).toEqual(new Set([0, 1]));
    expect(node.log.some((line) => line.startsWith("mqtt connection-lost"))).toBe(true);
  });

  it("the housekeeping tick: every 250 ms until online with nothing pending, then every minute without diagnostics; back to 250 ms while offline", async () => {
    const broker = await startBroker();
    const clients = new Map<string, AedesClient>();
    broker.aedes!.on("client", (client: AedesClient) => clients.set(client.id, client));
    const { Timer, periods } = recordingTimer();
    const node = start(baseConfig(broker.port), { io: { ...hostIo(), Timer } });
    const tick = () => [...periods.values()].find((list) => list[0] === 250) ?? [];
    await waitFor(() => node.firmware.status === "online" && tick().length === 2, "online and the tick slowed", WAIT_MS);
    expect(tick()).toEqual([250, 60_000]);
    clients.get("xs-mqtt-node1")!.conn.destroy();
    await waitFor(() => node.firmware.status === "offline", "offline status", WAIT_MS);
    expect(tick()).toEqual([250, 60_000, 250]); // the LED flashes on the 250 ms beat again
    await waitFor(() => node.firmware.counts.connects === 2 && tick().length === 4, "online again and the tick slowed", 15_000);
    expect(tick()).toEqual([250, 60_000, 250, 60_000]);
  });

  it("the housekeeping tick while online with diagnostics: until they are due, at least every second", async () => {
    const broker = await startBroker();
    const { Timer, periods } = recordingTimer();
    const node = start(baseConfig(broker.port, { diagnosticsInterval: 3_000 }), { io: { ...hostIo(), Timer } });
    const tick = () => [...periods.values()].find((list) => list[0] === 250) ?? [];
    await waitFor(() => node.firmware.counts.diagnosticsPublished >= 3, "three diagnostics", WAIT_MS);
    const idle = tick().slice(1).filter((period) => period !== 250);
    expect(idle.length).toBeGreaterThanOrEqual(2);
    for (const period of idle) {
      expect(period).toBeGreaterThanOrEqual(1_000);
      expect(period).toBeLessThanOrEqual(3_000);
    }
    // at least one idle wait ran to the next diagnostics, past the 1 s floor
    expect(Math.max(...idle)).toBeGreaterThan(1_000);
  });

  it("after the connection is lost: the broker publishes the will, and on reconnect the full state goes out again", async () => {
    const broker = await startBroker();
    const clients = new Map<string, AedesClient>();
    broker.aedes!.on("client", (client: AedesClient) => clients.set(client.id, client));
    const peer = await startPeer(broker.port, [STATUS, DISCOVERY, "xs-mqtt/node1/+/state"]);
    const node = start(baseConfig(broker.port));
    await waitFor(() => node.firmware.counts.readingsPublished === 2 && node.firmware.counts.statesPublished === 2 &&
      node.firmware.counts.discoveryPublished === 5, "the first full state", WAIT_MS);
    await sleep(200);
    const count = (topic: string) => on(peer.messages, topic).length;
    const firstRound = peer.messages.length;
    expect(firstRound).toBe(1 + 5 + 2 + 2);

    const connection = clients.get("xs-mqtt-node1");
    expect(connection).toBeDefined();
    connection!.conn.destroy(); // no DISCONNECT: the broker publishes the will
    await waitFor(() => on(peer.messages, STATUS).some((m) => m.text === "offline"), "the will", WAIT_MS);
    await waitFor(() => node.firmware.status === "offline", "offline status", WAIT_MS);

    await waitFor(() => node.firmware.counts.connects === 2 && node.firmware.status === "online", "reconnected", 15_000);
    await waitFor(() => peer.messages.length >= 2 * firstRound + 1, "everything again", WAIT_MS);
    await sleep(200);
    expect(on(peer.messages, STATUS).map((m) => m.text)).toEqual(["online", "offline", "online"]);
    for (const topic of ["xs-mqtt/node1/climate/state", "xs-mqtt/node1/light/state", "xs-mqtt/node1/relay/state", "xs-mqtt/node1/lamp/state"]) {
      expect(count(topic), topic).toBe(2);
    }
    expect(peer.messages.filter((m) => m.topic.endsWith("/config"))).toHaveLength(10);
    expect(node.statuses).toEqual(["online", "offline", "online"]);
    expect((await retained(broker.port, STATUS, 1)).get(STATUS)!.text).toBe("online");
    // the readings went out again even though they had not changed
    const climate = on(peer.messages, "xs-mqtt/node1/climate/state");
    expect(climate[1].text).toBe(climate[0].text);
  });

  it("stop() publishes a retained offline, closes without the will and releases the pins", async () => {
    const broker = await startBroker();
    const node = start(baseConfig(broker.port));
    await waitFor(() => node.firmware.status === "online" && node.firmware.counts.statesPublished === 2, "online", WAIT_MS);
    const peer = await startPeer(broker.port, [STATUS]);
    await waitFor(() => peer.messages.length === 1, "retained online", WAIT_MS);

    node.firmware.stop();
    expect(node.firmware.status).toBe("offline");
    await waitFor(() => peer.messages.length === 2, "offline", WAIT_MS);
    expect(peer.messages[1].text).toBe("offline");
    await waitFor(() => node.firmware.client.state === "closed", "client closed", WAIT_MS);
    await sleep(200);
    expect(peer.messages).toHaveLength(2); // the will did not fire on top
    expect((await retained(broker.port, STATUS, 1)).get(STATUS)!.text).toBe("offline");
    expect(node.pins.get(12)!.closed).toBe(true);
    expect(node.pins.get(2)!.value).toBe(0);
    const samples = node.climate.calls;
    await sleep(300);
    expect(node.climate.calls).toBe(samples); // timers stopped
    node.firmware.stop(); // twice is harmless
  });
});

describe("on a simulated board", () => {
  it("publishes what the real drivers read from simulated chips, and drives a virtual pin", async () => {
    const broker = await startBroker();
    const peer = await startPeer(broker.port, ["xs-mqtt/node1/+/state"]);
    const bus = new I2CBus();
    const sht = new SHT3xChip();
    const lux = new BH1750Chip();
    sht.set({ temperature: 23.4, humidity: 55 });
    lux.set({ illuminance: 300 });
    bus.attach(0x44, sht);
    bus.attach(0x23, lux);
    const pins = new VirtualPins();
    const sensor = { io: bus.I2C, data: 21, clock: 22 };
    const climate = new SHT3x({ sensor });
    const light = new BH1750({ sensor });
    const log: string[] = [];
    const firmware = startFirmware({
      config: baseConfig(broker.port),
      io: hostIo(),
      sensors: { climate, light },
      Digital: pins.Digital,
      log: (line) => log.push(line),
    });
    cleanups.push(() => firmware.stop());
    cleanups.push(() => { climate.close(); light.close(); });

    await waitFor(() => on(peer.messages, "xs-mqtt/node1/climate/state").length > 0 && on(peer.messages, "xs-mqtt/node1/light/state").length > 0, "readings from the chips", WAIT_MS);
    const reading = JSON.parse(on(peer.messages, "xs-mqtt/node1/climate/state")[0].text);
    expect(reading.temperature).toBeCloseTo(23.4, 1); // the chip's 16-bit resolution
    expect(reading.humidity).toBeCloseTo(55, 0);
    expect(JSON.parse(on(peer.messages, "xs-mqtt/node1/light/state")[0].text).illuminance).toBeGreaterThanOrEqual(299);

    sht.set({ temperature: 26 });
    await waitFor(() => on(peer.messages, "xs-mqtt/node1/climate/state").some((m) => JSON.parse(m.text).temperature > 25.9), "the warmer reading", WAIT_MS);

    expect(pins.level(13)).toBe(0); // the lamp: initially ON, active low
    expect(pins.level(2)).toBe(1); // status LED: online
    await peer.client.publishAsync("xs-mqtt/node1/relay/set", "ON", { qos: 1 });
    await waitFor(() => pins.level(12) === 1, "relay pin high", WAIT_MS);
    expect(log.filter((line) => line.includes("failed"))).toEqual([]);
  });
});

describe("start-up checks", () => {
  it("refuses a bad configuration before connecting, naming the field", () => {
    const port = 1;
    expect(() => startFirmware({ config: baseConfig(port, { nodeId: "node 1" }), io: hostIo() })).toThrow(/config nodeId/);
    expect(() => startFirmware({
      config: baseConfig(port, { actuators: [{ id: "climate", pin: 3 }] }), io: hostIo(), Digital: digitalClass().Digital,
    })).toThrow(/actuators\[0\]\.id: "climate" is used twice/);
    expect(() => startFirmware({ config: baseConfig(port), io: hostIo() })).toThrow(/Digital/);
  });
});

describe("MQTT 5.0: broker.protocolVersion 5 and broker.sessionExpiry (mosquitto; aedes speaks 3.1.1 only)", () => {
  it("the node connects at level 5 and resumes its session: a command sent while it was away is applied when it is back [MQTT-3.1.2-23]", async () => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.stop());
    const config = baseConfig(broker.port, { broker: { host: "127.0.0.1", port: broker.port, protocolVersion: 5, sessionExpiry: 300 } });
    const first = start(config, { mqtt5 });
    await waitFor(() => first.firmware.counts.statesPublished === 2 && first.firmware.client.outboxCount === 0, "initial states acknowledged", WAIT_MS);
    expect(first.firmware.client.session5).toBeDefined();
    first.firmware.stop();
    await waitFor(() => first.firmware.client.state === "closed", "the node to close", WAIT_MS);

    const commander = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 5, reconnectPeriod: 0 });
    cleanups.push(() => commander.endAsync(true));
    await commander.publishAsync("xs-mqtt/node1/relay/set", "ON", { qos: 1 });

    const second = start(config, { mqtt5 });
    await waitFor(() => second.pins.get(12)?.value === 1, "the relay switched on by the kept command", WAIT_MS);
    expect(second.firmware.client.session5).toBeDefined();
  });

  it("protocolVersion 5 without startFirmware's mqtt5 is refused: that board carries no 5.0 code", () => {
    expect(() => start(baseConfig(1883, { broker: { host: "127.0.0.1", protocolVersion: 5 } }))).toThrow(/mqtt5/);
  });

  it("a session expiry without protocolVersion 5 is a configuration mistake", () => {
    expect(() => start(baseConfig(1883, { broker: { host: "127.0.0.1", sessionExpiry: 60 } }))).toThrow(/broker\.sessionExpiry/);
    expect(() => start(baseConfig(1883, { broker: { host: "127.0.0.1", protocolVersion: 6 } }))).toThrow(/broker\.protocolVersion/);
  });
});
