/*
 * The MQTT client's buffer sizes for one node: nodeSizes() measures what the node sends
 * and receives (its largest PUBLISH, the QoS 1 burst after a connect, the largest message
 * on a topic it subscribes to), clientBufferSizes() turns that and what a board asked for
 * into the client's options. Every PUBLISH size is the client's own publishSize(). Runs
 * once at start-up and allocates (topics and payloads are encoded to count their bytes);
 * nothing here may run on the publish or receive paths.
 */

import { publishSize, TX_RESERVE } from "../mqtt/index.js";
import type { TextEncoderLike } from "../mqtt/index.js";
import { OFF_TEXT, ON_TEXT } from "./actuators.js";
import { ONLINE_BYTES } from "./availability.js";
import type { Config } from "./config.js";
import type { Discovery } from "./discovery.js";
import type { ClientBuffers } from "./firmware-types.js";
import { payloadSize } from "./readings.js";
import { DIAGNOSTICS_PAYLOAD_BYTES } from "./diagnostics.js";
import {
  commandTopic, diagnosticsTopic, discoveryManifestTopic, homeAssistantStatusTopic, restartTopic, stateTopic, statusTopic,
} from "./topics.js";

/** The transmit buffer unless the board asks for a larger one, bytes. */
export const DEFAULT_TRANSMIT_BUFFER = 1024;
/**
 * Bytes the client keeps back from PUBLISH packets in its transmit buffer, so that a
 * PUBACK or a PINGREQ always fits beside one (the client's own TX_RESERVE).
 */
export const CLIENT_TRANSMIT_RESERVE = TX_RESERVE;
/**
 * Bytes beyond that reserve for the small packets staged beside the largest PUBLISH
 * without waiting for it to be written out: PUBACKs for commands (4 bytes each), a PINGREQ
 * (2), an actuator's "ON" / "OFF" state on its state topic.
 */
export const TRANSMIT_STAGING_ROOM = 64;
/** The outbox unless the board asks for another, bytes (or twice the transmit buffer, if that is more). */
export const DEFAULT_OUTBOX = 4096;
/** The receive buffer unless the board asks for another (the firmware's own default, whatever the client's). */
export const DEFAULT_RECEIVE_BUFFER = 1024;
/** The smallest receive buffer a board may ask for, bytes. */
export const MIN_RECEIVE_BUFFER = 64;
/** Payload bytes a received message may carry on the longest topic subscribed to: "ON", "OFF", "online" and a short bad command. */
export const RECEIVE_PAYLOAD_ROOM = 32;
/** The fewest payload bytes kept for the discovery manifest announced last, and at least twice the current one's. */
export const MANIFEST_ROOM = 256;
/** The fewest outbox messages a board may ask for. */
export const MIN_OUTBOX_MESSAGES = 4;

/** Bytes of the topic length field, and of the packet id, in a PUBLISH [MQTT-3.3.2]. */
const TOPIC_LENGTH_FIELD = 2;
const PACKET_ID_BYTES = 2;

/** What one node sends and receives, bytes and messages. */
export interface NodeSizes {
  /** The largest PUBLISH packet the node sends (its largest discovery config, usually). */
  largestPublish: number;
  /** Messages of the QoS 1 burst after a connect: the birth, the discovery configs and manifest, the actuator states. */
  burstMessages: number;
  /**
   * The smallest receive buffer that holds a message on every topic subscribed to: a
   * command on the longest command topic (or Home Assistant's status) with
   * RECEIVE_PAYLOAD_ROOM bytes of payload, and the discovery manifest announced last.
   */
  smallestReceive: number;
}

/** The client's buffer options for a node. */
export interface ClientBufferSizes {
  receiveBufferSize: number;
  transmitBufferSize: number;
  outboxBytes: number;
  /** undefined: the client's default. */
  outboxMessages: number | undefined;
}

/**
 * What a received QoS 1 PUBLISH takes in the receive buffer: its remaining length (the
 * decoder keeps the fixed header apart).
 */
export function receivedPublishSize(topicBytes: number, payloadBytes: number): number {
  return TOPIC_LENGTH_FIELD + topicBytes + PACKET_ID_BYTES + payloadBytes;
}

/** Measures what the node with this configuration (and discovery set, if any) sends and receives. */
export function nodeSizes(config: Config, discovery: Discovery | undefined, encoder: TextEncoderLike): NodeSizes {
  const bytes = (text: string) => encoder.encode(text).length;
  let largestPublish = 0;
  let burstMessages = 0;
  const burst = (topic: string, payloadBytes: number) => {
    largestPublish = Math.max(largestPublish, publishSize(bytes(topic), payloadBytes, 1));
    burstMessages++;
  };
  burst(statusTopic(config), ONLINE_BYTES.length);
  if (discovery !== undefined) {
    for (let index = 0; index < discovery.count; index++) burst(discovery.topic(index), bytes(discovery.payload(index)));
    burst(discoveryManifestTopic(config), bytes(discovery.manifest));
  }
  const actuatorStateBytes = Math.max(bytes(ON_TEXT), bytes(OFF_TEXT));
  for (const actuator of config.actuators) burst(stateTopic(config, actuator.id), actuatorStateBytes);
  // sensor states go at QoS 0, at most payloadSize() bytes of JSON each
  for (const sensor of config.sensors) {
    largestPublish = Math.max(largestPublish, publishSize(bytes(stateTopic(config, sensor.id)), payloadSize(sensor), 0));
  }
  if (config.diagnosticsInterval > 0) {
    largestPublish = Math.max(largestPublish, publishSize(bytes(diagnosticsTopic(config)), DIAGNOSTICS_PAYLOAD_BYTES, 0));
  }

  let longestSubscribed = discovery === undefined ? 0 : bytes(homeAssistantStatusTopic(config));
  for (const actuator of config.actuators) longestSubscribed = Math.max(longestSubscribed, bytes(commandTopic(config, actuator)));
  if (config.diagnosticsInterval > 0) longestSubscribed = Math.max(longestSubscribed, bytes(restartTopic(config)));
  let smallestReceive = Math.max(MIN_RECEIVE_BUFFER, receivedPublishSize(longestSubscribed, RECEIVE_PAYLOAD_ROOM));
  if (discovery !== undefined) {
    // the manifest announced last may list more than this configuration
    const manifestRoom = Math.max(2 * bytes(discovery.manifest), MANIFEST_ROOM);
    smallestReceive = Math.max(smallestReceive, receivedPublishSize(bytes(discoveryManifestTopic(config)), manifestRoom));
  }
  return { largestPublish, burstMessages, smallestReceive };
}

/**
 * The client's buffers for a node of these sizes, from what the board asked for: each
 * size asked for is raised to what the node needs; one left out takes the firmware's
 * default (raised likewise).
 */
export function clientBufferSizes(sizes: NodeSizes, asked: ClientBuffers, sensorCount: number): ClientBufferSizes {
  const transmitBufferSize = Math.max(
    asked.transmit ?? DEFAULT_TRANSMIT_BUFFER,
    sizes.largestPublish + CLIENT_TRANSMIT_RESERVE + TRANSMIT_STAGING_ROOM,
  );
  // an outbox asked for is raised to hold the largest message; a burst after a connect
  // that does not fit goes out paced on the broker's acknowledgements
  const outboxBytes = asked.outbox === undefined ? Math.max(DEFAULT_OUTBOX, 2 * transmitBufferSize)
    : Math.max(asked.outbox, sizes.largestPublish);
  const outboxMessages = asked.outboxMessages === undefined ? undefined
    : Math.max(MIN_OUTBOX_MESSAGES, asked.outboxMessages, sizes.burstMessages + sensorCount);
  const receiveBufferSize = Math.max(sizes.smallestReceive, asked.receive ?? DEFAULT_RECEIVE_BUFFER);
  return { receiveBufferSize, transmitBufferSize, outboxBytes, outboxMessages };
}
