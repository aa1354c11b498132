/*
 * The client's fixed-size tables, laid out once in one ArrayBuffer (each buffer costs a
 * header, on XS and on Node alike): the outbox (4-aligned, first), the subscription table and
 * the incoming QoS 2 ids (2-aligned, one Uint16Array), the receive buffer, then the CONNECT packet; with
 * protocolVersion 5, the 5.0 decoder and subscription table over the same memory. Runs once,
 * in the client's constructor; allocates nothing after. Packet ids go on after the settings' lastPacketId.
 * The CONNECT packet has no view of its own (each view costs a header): the decoder's
 * receiveBuffer spans it too, after its receiveSize bytes (connectPacketInto() copies it out).
 */

import { PacketDecoder } from "./decode.js";
import { InboundQos2 } from "./inbound.js";
import type { Mqtt5 } from "./mqtt5.js";
import type { Settings } from "./options.js";
import { Outbox } from "./outbox.js";
import { SubscriptionTable } from "./subscriptions.js";

export interface ClientMemory {
  outbox: Outbox;
  subscriptions: SubscriptionTable;
  inbound: InboundQos2;
  /** Its receiveBuffer holds, after its receiveSize bytes, a copy of the encoded CONNECT packet given. */
  decoder: PacketDecoder;
}

/** Copies the CONNECT packet kept by layOut() to the start of `into`; returns its length. */
export function connectPacketInto(decoder: PacketDecoder, into: Uint8Array): number {
  const from = decoder.receiveBuffer;
  const at = decoder.receiveSize;
  const length = from.length - at;
  for (let i = 0; i < length; i++) into[i] = from[at + i];
  return length;
}

/** Makes the tables the settings ask for (with `v5`, MQTT 5.0's), and keeps a copy of `connect`. */
export function layOut(settings: Settings, connect: Uint8Array, v5?: Mqtt5): ClientMemory {
  const { outboxBytes, outboxMessages, maxSubscriptions, maxInflight, receiveBufferSize } = settings;
  const outboxSize = Outbox.size(outboxBytes, outboxMessages);
  const receiveAt = outboxSize + SubscriptionTable.size(maxSubscriptions) + InboundQos2.size(maxInflight);
  const connectAt = receiveAt + receiveBufferSize;
  const memory = new ArrayBuffer(connectAt + connect.length);
  const outbox = new Outbox(outboxBytes, outboxMessages, memory, 0);
  // the incoming QoS 2 ids lie in the subscription table's view (a view less), after its filter lengths
  const inboundWords = InboundQos2.size(maxInflight) / 2;
  const inboundAt = SubscriptionTable.innerAt(maxSubscriptions);
  const subscriptions = v5 === undefined
    ? new SubscriptionTable(maxSubscriptions, memory, outboxSize, outbox, inboundWords)
    : v5.subscriptions(maxSubscriptions, memory, outboxSize, outbox, inboundWords);
  subscriptions.continueAfter(settings.lastPacketId);
  const receiveBuffer = new Uint8Array(memory, receiveAt, receiveBufferSize + connect.length);
  receiveBuffer.set(connect, receiveBufferSize);
  return {
    outbox,
    subscriptions,
    inbound: new InboundQos2(maxInflight, subscriptions.table, inboundAt),
    decoder: v5 === undefined ? new PacketDecoder(receiveBuffer, receiveBufferSize) : v5.decoder(receiveBuffer, receiveBufferSize),
  };
}
