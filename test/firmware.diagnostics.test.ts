// The firmware's diagnostics and Wi-Fi awareness (device/app/diagnostics.ts, health.ts,
// wifi.ts) on Node, against real brokers (aedes in-process, mosquitto), checked from the
// broker's side with an MQTT.js peer playing Home Assistant. The board's Wi-Fi is the
// simulator's radio (host-sim/io/wifi.ts) with its ECMA-419 interface class, governing a
// BoardNetwork whose sockets behave as an ESP32's while the link is down. Every wait is
// bounded; everything a test starts is stopped in afterEach.
import { connectAsync } from "mqtt";
import type { MqttClient as PeerClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { startFirmware } from "../device/app/firmware.js";
import type { Firmware, FirmwareOptions } from "../device/app/firmware.js";
import type { FirmwareConfig } from "../device/app/config.js";
import { sensorDeviceClass } from "../device/app/ha-sensor-classes.js";
import { hostIo } from "../host-sim/io/io.js";
import { BoardNetwork } from "../host-sim/io/network.js";
import { BoardWiFi, WIFI_DISCONNECTED } from "../host-sim/io/wifi.js";
import { REJOIN_MAX_MS, rejoinDelay } from "../device/app/wifi.js";
import { AedesBroker } from "./brokers/aedes.js";
import { Mosquitto } from "./brokers/mosquitto.js";
import type { TestBroker } from "./brokers/helpers.js";
import { sleep, waitFor } from "./brokers/helpers.js";

const WAIT_MS = 10_000;
const NODE = "diag1";
const DIAGNOSTICS = `xs-mqtt/${NODE}/diagnostics/state`;
const RESTART = `xs-mqtt/${NODE}/diagnostics/restart`;
const STATUS = `xs-mqtt/${NODE}/status`;
const config = (kind: string, key: string) => `homeassistant/${kind}/${NODE}/xs-mqtt_diagnostics_${key}/config`;

interface Received {
  topic: string;
  text: string;
  retain: boolean;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const BROKERS: Record<string, () => Promise<TestBroker>> = {
  aedes: () => AedesBroker.start(),
  mosquitto: () => Mosquitto.start(),
};

async function startBroker(name = "aedes"): Promise<TestBroker> {
  const broker = await BROKERS[name]();
  cleanups.push(() => broker.close());
  return broker;
}

/** An MQTT.js client recording every message on `filters` (retained copies included). */
async function startPeer(port: number, filters: string[]): Promise<{ client: PeerClient; messages: Received[] }> {
  const client = await connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `ha-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  cleanups.push(() => client.endAsync(true));
  const messages: Received[] = [];
  client.on("message", (topic, payload, packet) => messages.push({ topic, text: payload.toString("utf8"), retain: packet.retain }));
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, messages };
}

function nodeConfig(port: number, overrides: Partial<FirmwareConfig> = {}): FirmwareConfig {
  return {
    nodeId: NODE,
    broker: { host: "127.0.0.1", port, keepAlive: 5 },
    sampleInterval: 100,
    sensors: [{ id: "climate", driver: "sht3x", readings: [{ key: "temperature", unit: "°C", device_class: "temperature" }] }],
    ...overrides,
  };
}

interface Board {
  firmware: Firmware;
  wifi: BoardWiFi;
  network: BoardNetwork;
  log: string[];
  restarts: number;
}

/**
 * Starts the firmware with the simulator's Wi-Fi radio (seeded) and its network link, the
 * board's address from the radio, and a restart that counts (and, with `again`, starts
 * the firmware anew as the simulator does).
 */
function startBoard(config: FirmwareConfig, options: { restart?: boolean; again?: boolean; wifiUp?: boolean; listenOnly?: boolean } = {}): Board {
  const wifi = new BoardWiFi({ seed: 42, boardNumber: 7 });
  const network = new BoardNetwork();
  wifi.attach(network);
  if (options.wifiUp === false) wifi.drop();
  const board: Board = { firmware: undefined as unknown as Firmware, wifi, network, log: [], restarts: 0 };
  const sensor = { sample: () => ({ temperature: 21.5 }) };
  const begin = (): Firmware => startFirmware({
    config,
    io: {
      ...hostIo(),
      TCP: network.TCP,
      WiFi: wifi.interfaceClass((callback, self, property) => callback.call(self, property)),
      address: () => (wifi.up ? wifi.address : undefined),
      // listenOnly: the firmware is given no SSID, so it only listens to the interface
      ...(options.listenOnly === true ? {} : { wifiCredentials: { SSID: wifi.ssid, password: wifi.password } }),
    },
    sensors: { climate: sensor },
    log: (line) => board.log.push(line),
    ...(options.restart === false ? {} : {
      restart: () => {
        board.restarts++;
        if (options.again === true) board.firmware = begin();
      },
    }),
  } satisfies FirmwareOptions);
  board.firmware = begin();
  cleanups.push(async () => {
    board.firmware.stop();
    await network.settled(2_000);
  });
  return board;
}

function on(messages: Received[], topic: string): Received[] {
  return messages.filter((m) => m.topic === topic);
}

describe.each(["aedes", "mosquitto"])("Home Assistant diagnostics (%s)", (brokerName) => {
  it("announces uptime, Wi-Fi signal and IP address as diagnostic sensors and a restart button, with fields Home Assistant accepts", async () => {
    const broker = await startBroker(brokerName);
    const peer = await startPeer(broker.port, [`homeassistant/+/${NODE}/+/config`, `xs-mqtt/${NODE}/discovery`]);
    const board = startBoard(nodeConfig(broker.port, { device: { configuration_url: "http://192.168.1.50/" } }));
    const topics = [config("sensor", "uptime"), config("sensor", "rssi"), config("sensor", "ip"), config("button", "restart")];
    await waitFor(() => topics.every((t) => on(peer.messages, t).length > 0) && on(peer.messages, `xs-mqtt/${NODE}/discovery`).length > 0,
      "the diagnostic configs", WAIT_MS);
    const configs = topics.map((t) => JSON.parse(on(peer.messages, t)[0].text) as Record<string, any>);
    const [uptime, rssi, ip, restart] = configs;
    for (const entity of configs) {
      expect(entity.unique_id).toMatch(new RegExp(`^xs-mqtt_${NODE}_diagnostics_`));
      expect(entity.availability_topic).toBe(STATUS);
      expect(entity.device.identifiers).toEqual([`xs-mqtt_${NODE}`]);
      expect(entity.device.configuration_url).toBe("http://192.168.1.50/");
      expect(entity.origin.name).toBe("xs-mqtt");
    }
    for (const sensor of [uptime, rssi, ip]) {
      expect(sensor.entity_category).toBe("diagnostic");
      expect(sensor.state_topic).toBe(DIAGNOSTICS);
      expect(sensor.expire_after).toBe(130); // two 60 s intervals and 10 s of slack
      if (sensor.device_class === undefined) continue;
      // the pairs Home Assistant's sensor platform takes (device/app/ha-sensor-classes.ts)
      const classes = sensorDeviceClass(sensor.device_class)!;
      expect(classes.units, sensor.name).toContain(sensor.unit_of_measurement);
      expect(classes.stateClasses, sensor.name).toContain(sensor.state_class);
    }
    expect(uptime).toMatchObject({ name: "Uptime", value_template: "{{ value_json.uptime }}", device_class: "duration", unit_of_measurement: "s", state_class: "total_increasing" });
    expect(rssi).toMatchObject({ name: "Wi-Fi signal", value_template: "{{ value_json.rssi }}", device_class: "signal_strength", unit_of_measurement: "dBm", state_class: "measurement" });
    expect(ip).toMatchObject({ name: "IP address", value_template: "{{ value_json.ip }}" });
    expect(ip.device_class).toBeUndefined();
    expect(ip.state_class).toBeUndefined();
    expect(restart).toMatchObject({ name: "Restart", command_topic: RESTART, payload_press: "PRESS", device_class: "restart", entity_category: "config", retain: false });
    const manifest = on(peer.messages, `xs-mqtt/${NODE}/discovery`).at(-1)!.text.split(" ");
    expect(manifest).toEqual(expect.arrayContaining(["sensor/xs-mqtt_diagnostics_uptime", "sensor/xs-mqtt_diagnostics_rssi",
      "sensor/xs-mqtt_diagnostics_ip", "button/xs-mqtt_diagnostics_restart"]));
    expect(board.firmware.counts.discoveryPublished).toBe(5);
  });

  it("publishes the diagnostics state every diagnosticsInterval, retained: uptime in whole seconds, the interface's RSSI, the board's address", async () => {
    const broker = await startBroker(brokerName);
    const peer = await startPeer(broker.port, [DIAGNOSTICS]);
    const board = startBoard(nodeConfig(broker.port, { diagnosticsInterval: 1000 }));
    await waitFor(() => on(peer.messages, DIAGNOSTICS).length >= 3, "three diagnostics states", WAIT_MS);
    const states = on(peer.messages, DIAGNOSTICS).map((m) => JSON.parse(m.text) as { uptime: number; rssi: number; ip: string });
    expect(Object.keys(states[0])).toEqual(["uptime", "rssi", "ip"]);
    for (const state of states) {
      expect(Number.isInteger(state.uptime)).toBe(true);
      expect(Number.isInteger(state.rssi)).toBe(true);
      expect(state.rssi).toBeGreaterThanOrEqual(-95);
      expect(state.rssi).toBeLessThanOrEqual(-30);
      expect(state.ip).toBe("10.77.0.9");
    }
    expect(states[2].uptime).toBeGreaterThan(states[0].uptime);
    const late = await startPeer(broker.port, [DIAGNOSTICS]);
    await waitFor(() => late.messages.length > 0, "the retained state", WAIT_MS);
    expect(late.messages[0].retain).toBe(true);
    expect(board.firmware.counts.diagnosticsPublished).toBeGreaterThanOrEqual(3);
  });
});

describe("diagnostics: which entities, and the bookkeeping", () => {
  it("without a Wi-Fi interface or a restart: uptime and IP only, the IP null while unknown, no configuration_url", async () => {
    const broker = await startBroker();
    const peer = await startPeer(broker.port, [`homeassistant/+/${NODE}/+/config`, DIAGNOSTICS]);
    const firmware = startFirmware({ config: nodeConfig(broker.port), io: hostIo(), sensors: { climate: { sample: () => ({ temperature: 20 }) } } });
    cleanups.push(() => firmware.stop());
    await waitFor(() => on(peer.messages, DIAGNOSTICS).length > 0 && firmware.counts.discoveryPublished === 3, "the diagnostics", WAIT_MS);
    await sleep(200);
    const configs = peer.messages.filter((m) => m.topic.endsWith("/config")).map((m) => m.topic).sort();
    expect(configs).toEqual([`homeassistant/sensor/${NODE}/xs-mqtt_climate_temperature/config`, config("sensor", "ip"), config("sensor", "uptime")].sort());
    expect(JSON.parse(on(peer.messages, config("sensor", "uptime"))[0].text).device.configuration_url).toBeUndefined();
    expect(JSON.parse(on(peer.messages, DIAGNOSTICS)[0].text)).toMatchObject({ rssi: null, ip: null });
  });

  it("diagnosticsInterval 0 announces none, and clears the configs an earlier run announced [MQTT-3.3.1-10]", async () => {
    const broker = await startBroker();
    const first = startBoard(nodeConfig(broker.port));
    await waitFor(() => first.firmware.counts.discoveryPublished === 5 && first.firmware.client.outboxCount === 0, "the first run's configs", WAIT_MS);
    // the manifest of what it announced goes out after its SUBACK: the second run clears from it
    const manifests = await startPeer(broker.port, [`xs-mqtt/${NODE}/discovery`]);
    await waitFor(() => on(manifests.messages, `xs-mqtt/${NODE}/discovery`).some((m) => m.text.includes("button/xs-mqtt_diagnostics_restart")),
      "the first run's retained manifest", WAIT_MS);
    await waitFor(() => first.firmware.client.outboxCount === 0, "the manifest acknowledged", WAIT_MS);
    first.firmware.stop();
    await first.network.settled(2_000);
    const peer = await startPeer(broker.port, [`homeassistant/+/${NODE}/+/config`]);
    await waitFor(() => peer.messages.length === 5, "the retained configs", WAIT_MS);
    const second = startBoard(nodeConfig(broker.port, { diagnosticsInterval: 0 }));
    const diagnostic = [config("sensor", "uptime"), config("sensor", "rssi"), config("sensor", "ip"), config("button", "restart")];
    await waitFor(() => diagnostic.every((t) => on(peer.messages, t).some((m) => m.text === "")), "the diagnostic configs cleared", WAIT_MS);
    expect(second.firmware.counts.discoveryPublished).toBe(1);
    expect(second.log).toContain("cleared 4 discovery configs no longer configured");
  });

  it("refuses a configuration_url that is not http(s), a diagnosticsInterval under 1 s, and an id kept for the diagnostics", () => {
    expect(() => startFirmware({ config: nodeConfig(1883, { device: { configuration_url: "192.168.1.50" } }), io: hostIo() }))
      .toThrow(/device\.configuration_url: must be an http:\/\/ or https:\/\/ URL/);
    expect(() => startFirmware({ config: nodeConfig(1883, { diagnosticsInterval: 500 }), io: hostIo() }))
      .toThrow(/diagnosticsInterval: must be 0 \(off\) or at least 1000 ms/);
    expect(() => startFirmware({ config: nodeConfig(1883, { actuators: [{ id: "diagnostics", pin: 4 }] }), io: hostIo() }))
      .toThrow(/actuators\[0\]\.id: "diagnostics" is kept for the node's diagnostics/);
  });
});

describe("the restart button", () => {
  it("PRESS: the node says offline itself (no will), disconnects, restarts, and comes back online with its discovery", async () => {
    const broker = await startBroker("mosquitto");
    const peer = await startPeer(broker.port, [STATUS, config("button", "restart")]);
    const board = startBoard(nodeConfig(broker.port), { again: true });
    await waitFor(() => board.firmware.status === "online" && on(peer.messages, config("button", "restart")).length === 1, "online", WAIT_MS);
    const before = board.firmware;
    await peer.client.publishAsync(RESTART, "PRESS", { qos: 1 });
    await waitFor(() => board.restarts === 1 && board.firmware !== before && board.firmware.status === "online", "the restart", WAIT_MS);
    expect(before.status).toBe("offline");
    expect(board.log).toContain("restart requested by Home Assistant");
    await waitFor(() => on(peer.messages, config("button", "restart")).length === 2, "the button announced again", WAIT_MS);
    // "offline" from the firmware before DISCONNECT, then the new run's birth: nothing else
    expect(on(peer.messages, STATUS).map((m) => m.text)).toEqual(["online", "offline", "online"]);
  });

  it("a retained PRESS, or another payload, restarts nothing", async () => {
    const broker = await startBroker();
    const peer = await startPeer(broker.port, [STATUS]);
    await peer.client.publishAsync(RESTART, "PRESS", { qos: 1, retain: true });
    const board = startBoard(nodeConfig(broker.port));
    await waitFor(() => board.firmware.status === "online" && board.firmware.client.outboxCount === 0, "online", WAIT_MS);
    await peer.client.publishAsync(RESTART, "press please", { qos: 1 });
    await sleep(1_500); // three restart delays
    expect(board.restarts).toBe(0);
    expect(board.firmware.status).toBe("online");
  });
});

describe("Wi-Fi awareness", () => {
  it("while the Wi-Fi is down: the connection fails, the broker publishes the will, and no connection attempt is made; back, the board connects at once", async () => {
    const broker = await startBroker("mosquitto");
    const peer = await startPeer(broker.port, [STATUS]);
    const board = startBoard(nodeConfig(broker.port));
    const client = board.firmware.client;
    await waitFor(() => board.firmware.status === "online", "online", WAIT_MS);
    const attempts = client.stats.attempts;
    board.wifi.drop();
    await waitFor(() => board.firmware.status === "offline", "offline", WAIT_MS);
    await waitFor(() => on(peer.messages, STATUS).at(-1)?.text === "offline", "the will", WAIT_MS);
    expect(board.log).toContain("Wi-Fi is down: no connection attempts until it is back");
    await sleep(3_000); // longer than the client's first reconnect delays (1 s, then up to 2 s)
    expect(client.stats.attempts).toBe(attempts);
    expect(client.state).toBe("waiting");
    board.wifi.restore();
    await waitFor(() => board.firmware.status === "online", "online again", WAIT_MS);
    expect(client.stats.attempts).toBe(attempts + 1);
    expect(board.wifi.joins).toBeGreaterThanOrEqual(1); // back only through the firmware's connect()
    expect(board.firmware.counts.wifiJoins).toBe(board.wifi.joins);
    expect(board.log).toContain("Wi-Fi is back: connecting now");
    await waitFor(() => on(peer.messages, STATUS).at(-1)?.text === "online", "the birth again", WAIT_MS);
  });

  it("a firmware that only listens (no SSID given) stays offline once the access point is back: nothing rejoins it by itself", async () => {
    const broker = await startBroker("mosquitto");
    const peer = await startPeer(broker.port, [STATUS]);
    const board = startBoard(nodeConfig(broker.port), { listenOnly: true });
    await waitFor(() => on(peer.messages, STATUS).at(-1)?.text === "online", "the birth", WAIT_MS);
    board.wifi.drop();
    await waitFor(() => on(peer.messages, STATUS).at(-1)?.text === "offline", "the will", WAIT_MS);
    const attempts = board.firmware.client.stats.attempts;
    board.wifi.restore();
    await sleep(3_000); // many times a join, and past the rejoin's first waits
    expect([board.wifi.joins, board.wifi.connection, board.firmware.counts.wifiJoins]).toEqual([0, WIFI_DISCONNECTED, 0]);
    expect(board.firmware.client.stats.attempts).toBe(attempts);
    expect(board.firmware.status).not.toBe("online");
    expect(on(peer.messages, STATUS).at(-1)?.text).toBe("offline");
  });

  it("the rejoin's backoff: about 1 s first, doubling per failed join up to 60 s, less up to a quarter at random", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((failures) => rejoinDelay(failures, 0))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(rejoinDelay(0, 0.999_999)).toBe(751);
    expect(rejoinDelay(9, 0.999_999)).toBe(45_001);
    for (let failures = 0; failures < 12; failures++) {
      for (const random of [0, 0.25, 0.5, 0.75, 0.999]) {
        const delay = rejoinDelay(failures, random);
        expect(delay).toBeGreaterThan(0.75 * Math.min(60_000, 1_000 * 2 ** failures));
        expect(delay).toBeLessThanOrEqual(REJOIN_MAX_MS);
      }
    }
  });

  it("a board that starts without Wi-Fi makes no attempt until the link comes up", async () => {
    const broker = await startBroker();
    const board = startBoard(nodeConfig(broker.port), { wifiUp: false });
    await sleep(1_500);
    expect(board.firmware.client.stats.attempts).toBe(0);
    expect(board.firmware.status).toBe("connecting");
    board.wifi.restore();
    await waitFor(() => board.firmware.status === "online", "online", WAIT_MS);
    expect(board.firmware.client.stats.attempts).toBe(1);
  });

  it("an interface that says 400 at start (Moddable's 500 needs an IPv6 link-local address too) counts as up: the board connects", async () => {
    const broker = await startBroker();
    // an ECMA-419 Wi-Fi interface of a board that got its IPv4 address and no IPv6 one
    class Ipv4OnlyWiFi {
      constructor(_options: { onChanged: (property: string) => void }) {}
      get connection(): number { return 400; }
      get RSSI(): number { return -70; }
      connect(): void {}
      disconnect(): void {}
      close(): void {}
    }
    const firmware = startFirmware({ config: nodeConfig(broker.port), io: { ...hostIo(), WiFi: Ipv4OnlyWiFi } });
    cleanups.push(() => firmware.stop());
    await waitFor(() => firmware.status === "online", "online", WAIT_MS);
    expect(firmware.client.stats.attempts).toBe(1);
  });

  it("the diagnostics state carries the RSSI the interface reports and the address the link got", async () => {
    const broker = await startBroker();
    const peer = await startPeer(broker.port, [DIAGNOSTICS]);
    const board = startBoard(nodeConfig(broker.port, { diagnosticsInterval: 1000 }));
    await waitFor(() => on(peer.messages, DIAGNOSTICS).length >= 2, "two states", WAIT_MS);
    const { rssi, ip } = JSON.parse(on(peer.messages, DIAGNOSTICS).at(-1)!.text) as { rssi: number; ip: string };
    // the radio's RSSI moves slowly (a 90 s drift, a 5 s jitter slot): within its own swing of now
    expect(Math.abs(rssi - board.wifi.rssi())).toBeLessThanOrEqual(4);
    expect(ip).toBe(board.wifi.address);
  });
});
