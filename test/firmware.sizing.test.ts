// Unit tests of the firmware's buffer sizing and publish plan: the sizes it computes are
// the sizes of the packets as mqtt-packet encodes them, and a client built with them takes
// the node's largest message (and refuses one byte more when its outbox was asked small);
// the plan orders birth, discovery configs, actuator states, the barrier and sensor states.
import * as mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../device/app/config.js";
import type { Config, FirmwareConfig } from "../device/app/config.js";
import { Discovery } from "../device/app/discovery.js";
import {
  ITEM_ACTUATOR, ITEM_BARRIER, ITEM_BIRTH, ITEM_DISCOVERY, ITEM_SENSOR, PublishPlan,
} from "../device/app/publish-plan.js";
import { payloadSize, SensorReadings } from "../device/app/readings.js";
import {
  CLIENT_TRANSMIT_RESERVE, clientBufferSizes, DEFAULT_OUTBOX, DEFAULT_RECEIVE_BUFFER, DEFAULT_TRANSMIT_BUFFER,
  MANIFEST_ROOM, MIN_OUTBOX_MESSAGES, nodeSizes, RECEIVE_PAYLOAD_ROOM, TRANSMIT_STAGING_ROOM,
} from "../device/app/sizing.js";
import { commandTopic, discoveryManifestTopic, stateTopic, statusTopic } from "../device/app/topics.js";
import { MqttClient, MqttError, OVERSIZE, PacketDecoder, PUBLISH } from "../device/mqtt/index.js";

const encoder = new TextEncoder();

/** A node like a simulated board: two sensors, two actuators, discovery on. */
function boardConfig(overrides: Partial<FirmwareConfig> = {}): Config {
  return resolveConfig({
    nodeId: "sizing-node",
    broker: { host: "127.0.0.1" },
    sensors: [
      {
        id: "climate", name: "Climate", driver: "sht3x",
        readings: [
          { key: "temperature", name: "Temperature", unit: "°C", device_class: "temperature", decimals: 2, deadband: 0.1 },
          { key: "humidity", name: "Humidity", unit: "%", device_class: "humidity", decimals: 1, deadband: 0.5 },
        ],
      },
      { id: "light", name: "Light", driver: "bh1750", readings: [{ key: "illuminance", unit: "lx", device_class: "illuminance", decimals: 0 }] },
    ],
    actuators: [
      { id: "relay", name: "Relay", pin: 26 },
      { id: "lamp", name: "Lamp (living room, by the window)", pin: 2, component: "light" },
    ],
    device: { name: "A simulated board with a long name", model: "xs-mqtt simulated ESP32", manufacturer: "xs-mqtt" },
    ...overrides,
  });
}

/** The bytes of a PUBLISH as mqtt-packet (npm) encodes it. */
function encodedSize(topic: string, payload: string | Uint8Array, qos: 0 | 1, retain: boolean): number {
  return mqttPacket.generate({
    cmd: "publish", topic, payload: Buffer.from(payload), qos, retain, dup: false,
    ...(qos > 0 ? { messageId: 1 } : {}),
  }).length;
}

/** A client for the node that is never connected (publish() queues or drops). */
function client(config: Config, buffers: ReturnType<typeof clientBufferSizes>): MqttClient {
  class NoSocket {
    constructor() {
      throw new Error("not for connecting");
    }
  }
  return new MqttClient({
    host: config.broker.host,
    clientId: config.broker.clientId,
    ...buffers,
    io: {
      TCP: NoSocket as never,
      Timer: { set: () => 0, repeat: () => 0, clear: () => {} } as never,
      TextEncoder,
      TextDecoder: TextDecoder as never,
    },
  });
}

/** What the client's decoder makes of a QoS 1 PUBLISH of `payloadBytes` on `topic`, with a receive buffer of `receiveBytes`. */
function received(receiveBytes: number, topic: string, payloadBytes: number): number {
  const decoder = new PacketDecoder(receiveBytes);
  const packet = mqttPacket.generate({
    cmd: "publish", topic, payload: Buffer.alloc(payloadBytes, 0x4f), qos: 1, messageId: 7, retain: true, dup: false,
  });
  decoder.feed(new Uint8Array(packet), 0, packet.length);
  return decoder.next();
}

describe("buffer sizing", () => {
  it("finds the largest PUBLISH: the largest discovery config, as many bytes as mqtt-packet encodes", () => {
    const config = boardConfig();
    const discovery = new Discovery(config, config.sensors);
    const sizes = nodeSizes(config, discovery, encoder);
    const discoveryPackets: number[] = [];
    for (let index = 0; index < discovery.count; index++) {
      discoveryPackets.push(encodedSize(discovery.topic(index), discovery.payload(index), 1, true));
    }
    const others = [
      encodedSize(statusTopic(config), "online", 1, true),
      ...config.actuators.map((actuator) => encodedSize(stateTopic(config, actuator.id), "OFF", 1, true)),
      ...config.sensors.map((sensor) => encodedSize(stateTopic(config, sensor.id), "x".repeat(payloadSize(sensor)), 0, false)),
    ];
    expect(sizes.largestPublish).toBe(Math.max(...discoveryPackets));
    expect(sizes.largestPublish).toBeGreaterThan(Math.max(...others));
    // the birth, every discovery config and the manifest, every actuator state
    expect(sizes.burstMessages).toBe(1 + discovery.count + 1 + config.actuators.length);
  });

  it("counts the discovery manifest, the largest PUBLISH of a node with many readings", () => {
    const keys = Array.from({ length: 40 }, (_, i) => `reading_${i}`);
    // a long sensor id: in every manifest entry, once in its state topic
    const config = boardConfig({ sensors: [{ id: "sensor_with_a_32_character_id_xx", driver: "test", readings: keys.map((key) => ({ key })) }] });
    const discovery = new Discovery(config, config.sensors);
    const manifest = encodedSize(discoveryManifestTopic(config), discovery.manifest, 1, true);
    for (let index = 0; index < discovery.count; index++) {
      expect(encodedSize(discovery.topic(index), discovery.payload(index), 1, true)).toBeLessThan(manifest);
    }
    expect(nodeSizes(config, discovery, encoder).largestPublish).toBe(manifest);
  });

  it("without discovery, finds a sensor's state at its widest JSON, and a real state is never wider", () => {
    const keys = ["a_rather_long_reading_key_one", "a_rather_long_reading_key_two", "a_rather_long_reading_key_3"];
    const config = boardConfig({
      discovery: false,
      actuators: [],
      sensors: [{ id: "wide", driver: "test", readings: keys.map((key) => ({ key, decimals: 6 })) }],
    });
    const sensor = config.sensors[0];
    const sizes = nodeSizes(config, undefined, encoder);
    expect(sizes.largestPublish).toBe(encodedSize(stateTopic(config, "wide"), "x".repeat(payloadSize(sensor)), 0, false));
    expect(sizes.burstMessages).toBe(1); // the birth

    const readings = new SensorReadings(sensor, undefined, 0);
    readings.update(Object.fromEntries(keys.map((key) => [key, -9_007_199_254.740991])), 0);
    const length = readings.encode();
    const widest = encodedSize(stateTopic(config, "wide"), readings.payload.subarray(0, length), 0, false);
    expect(widest).toBeLessThanOrEqual(sizes.largestPublish);
  });

  it("raises a transmit buffer asked for to the largest PUBLISH with the client's reserve and staging room", () => {
    const config = boardConfig();
    const sizes = nodeSizes(config, new Discovery(config, config.sensors), encoder);
    const small = clientBufferSizes(sizes, { transmit: 128 }, config.sensors.length);
    expect(small.transmitBufferSize).toBe(sizes.largestPublish + CLIENT_TRANSMIT_RESERVE + TRANSMIT_STAGING_ROOM);
    const large = clientBufferSizes(sizes, { transmit: 8192 }, config.sensors.length);
    expect(large.transmitBufferSize).toBe(8192);
  });

  it("gives a client that takes the largest message, and an outbox asked small holds exactly it", () => {
    const config = boardConfig();
    const discovery = new Discovery(config, config.sensors);
    const sizes = nodeSizes(config, discovery, encoder);
    const buffers = clientBufferSizes(sizes, { receive: 16, transmit: 64, outbox: 64, outboxMessages: 0 }, config.sensors.length);
    expect(buffers.outboxBytes).toBe(sizes.largestPublish);
    let largest = 0;
    for (let index = 1; index < discovery.count; index++) {
      if (discovery.payload(index).length > discovery.payload(largest).length) largest = index;
    }
    const topic = discovery.topic(largest);
    const payload = discovery.payload(largest);
    const node = client(config, buffers);
    expect(node.publish(topic, payload, { qos: 1, retain: true })).toBe("queued");
    expect(node.outboxUsed).toBe(sizes.largestPublish);
    let refused: unknown;
    try {
      client(config, buffers).publish(topic, payload + " ", { qos: 1, retain: true });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(MqttError);
    expect((refused as MqttError).code).toBe("payload-too-large");
  });

  it("raises an outbox message count asked for to the burst and one per sensor", () => {
    const config = boardConfig();
    const sizes = nodeSizes(config, new Discovery(config, config.sensors), encoder);
    expect(clientBufferSizes(sizes, { outboxMessages: 0 }, 2).outboxMessages).toBe(sizes.burstMessages + 2);
    expect(clientBufferSizes(sizes, { outboxMessages: 500 }, 2).outboxMessages).toBe(500);
    const tiny = { largestPublish: 100, burstMessages: 1, smallestReceive: 64 };
    expect(clientBufferSizes(tiny, { outboxMessages: 0 }, 0).outboxMessages).toBe(MIN_OUTBOX_MESSAGES);
    expect(clientBufferSizes(tiny, {}, 0).outboxMessages).toBeUndefined(); // the client's default
  });

  it("takes the firmware's defaults when a board asks for nothing", () => {
    const tiny = { largestPublish: 100, burstMessages: 1, smallestReceive: 64 };
    expect(clientBufferSizes(tiny, {}, 1)).toEqual({
      receiveBufferSize: DEFAULT_RECEIVE_BUFFER, transmitBufferSize: DEFAULT_TRANSMIT_BUFFER, outboxBytes: DEFAULT_OUTBOX, outboxMessages: undefined,
    });
    const big = { largestPublish: 3000, burstMessages: 1, smallestReceive: 64 };
    const buffers = clientBufferSizes(big, {}, 1);
    expect(buffers.transmitBufferSize).toBe(3000 + CLIENT_TRANSMIT_RESERVE + TRANSMIT_STAGING_ROOM);
    expect(buffers.outboxBytes).toBe(2 * buffers.transmitBufferSize);
  });

  it("raises a receive buffer asked for to hold a command of 32 bytes on the longest command topic, and no more", () => {
    const config = boardConfig({ discovery: false, actuators: [{ id: "an-actuator-with-a-long-id-32-ch", pin: 4 }] });
    const sizes = nodeSizes(config, undefined, encoder);
    const buffers = clientBufferSizes(sizes, { receive: 16 }, config.sensors.length);
    expect(buffers.receiveBufferSize).toBe(sizes.smallestReceive);
    const topic = commandTopic(config, config.actuators[0]);
    expect(received(buffers.receiveBufferSize, topic, RECEIVE_PAYLOAD_ROOM)).toBe(PUBLISH);
    expect(received(buffers.receiveBufferSize, topic, RECEIVE_PAYLOAD_ROOM + 1)).toBe(OVERSIZE);
  });

  it("raises a receive buffer asked for to hold a discovery manifest twice as long as the node's own, or 256 bytes", () => {
    const config = boardConfig();
    const discovery = new Discovery(config, config.sensors);
    const sizes = nodeSizes(config, discovery, encoder);
    const buffers = clientBufferSizes(sizes, { receive: 16 }, config.sensors.length);
    const manifestBytes = encoder.encode(discovery.manifest).length;
    const room = Math.max(2 * manifestBytes, MANIFEST_ROOM);
    expect(received(buffers.receiveBufferSize, discoveryManifestTopic(config), room)).toBe(PUBLISH);
    expect(received(buffers.receiveBufferSize, discoveryManifestTopic(config), room + 1)).toBe(OVERSIZE);
    expect(clientBufferSizes(sizes, {}, 2).receiveBufferSize).toBe(DEFAULT_RECEIVE_BUFFER);
  });
});

describe("publish plan", () => {
  it("orders the birth, the discovery configs, the actuator states, the barrier, then the sensor states", () => {
    const plan = new PublishPlan(3, 2, 2);
    const kinds = Array.from({ length: plan.count }, (_, index) => [plan.kind(index), plan.position(index)]);
    expect(kinds).toEqual([
      [ITEM_BIRTH, -1],
      [ITEM_DISCOVERY, 0], [ITEM_DISCOVERY, 1], [ITEM_DISCOVERY, 2],
      [ITEM_ACTUATOR, 0], [ITEM_ACTUATOR, 1],
      [ITEM_BARRIER, -1],
      [ITEM_SENSOR, 0], [ITEM_SENSOR, 1],
    ]);
    expect(plan.actuatorItem(1)).toBe(5);
    expect(plan.sensorItem(0)).toBe(7);
    expect(plan.discoveryStart).toBe(1);
  });

  it("has a birth and a barrier even for a node with nothing else", () => {
    const plan = new PublishPlan(0, 0, 0);
    expect(plan.count).toBe(2);
    expect([plan.kind(0), plan.kind(1)]).toEqual([ITEM_BIRTH, ITEM_BARRIER]);
    const sensorsOnly = new PublishPlan(0, 0, 1);
    expect(sensorsOnly.kind(sensorsOnly.sensorItem(0))).toBe(ITEM_SENSOR);
  });
});

describe("the receive buffer a board did not size", () => {
  it("is the default, raised to hold the discovery manifest announced last (a large node's, twice over)", () => {
    const small = { largestPublish: 200, burstMessages: 3, smallestReceive: 300 };
    expect(clientBufferSizes(small, {}, 1).receiveBufferSize).toBe(DEFAULT_RECEIVE_BUFFER);
    const large = { largestPublish: 900, burstMessages: 50, smallestReceive: 2_600 };
    expect(clientBufferSizes(large, {}, 10).receiveBufferSize).toBe(2_600);
  });
});
