/*
 * Availability, as Home Assistant reads it: <prefix>/<node>/status holds "online" while
 * the node is connected and "offline" otherwise, always retained at QoS 1. "online" is the
 * birth message published on every connect; "offline" is the will, which the broker
 * publishes when the connection is lost without a DISCONNECT, and what stop() publishes
 * itself before closing gracefully (a graceful close never fires the will).
 */

import type { WillOptions } from "../mqtt/index.js";
import { asciiBytes } from "./ascii.js";

export const ONLINE = "online";
export const OFFLINE = "offline";
/**
 * Their bytes, shared by every node: only ever read (compared, and copied into the client's
 * outbox when published). Never write into them.
 */
export const ONLINE_BYTES = asciiBytes(ONLINE);
export const OFFLINE_BYTES = asciiBytes(OFFLINE);

/** Options for the birth and offline messages: retained, QoS 1. */
export const RETAINED_QOS1 = Object.freeze({ qos: 1, retain: true });

/** The will the client registers at connect. */
export function availabilityWill(statusTopic: string): WillOptions {
  return { topic: statusTopic, payload: OFFLINE, qos: 1, retain: true };
}
