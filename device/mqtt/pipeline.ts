/*
 * Pipelining: whether the outbox's messages may be written right behind CONNECT, before the
 * broker's CONNACK. MQTT 3.1.1 section 3.1.4 allows it: a client may send further packets
 * immediately after CONNECT without waiting for the CONNACK, and a server that refuses the
 * CONNECT must not process anything sent after it [MQTT-3.1.4-5]; the server's first packet
 * is the CONNACK [MQTT-3.2.0-1], so the acknowledgements come after it, in order. A board
 * that wakes to publish one reading thus needs one round trip after the TCP handshake
 * (CONNECT + PUBLISH out, CONNACK + PUBACK back) instead of two. A message so written and
 * not acknowledged stays in the outbox and goes again, with DUP, on the next connection
 * [MQTT-3.3.1-1]. Subscriptions still wait for the CONNACK (their table is settled by its
 * session-present flag). Pure functions: no state, no allocation.
 */

import type { Settings } from "./options.js";

/** Whether the outbox is staged while CONNECT waits for its CONNACK: only with the `pipeline` option. */
export function stagesBehindConnect(handshaking: boolean, settings: Settings): boolean {
  return handshaking && settings.pipeline;
}
