/*
 * Unit tests of device/mqtt/inbound.ts: the packet ids of incoming QoS 2 messages between
 * their PUBREC and the broker's PUBREL, so that a copy sent again is not delivered twice
 * [MQTT-4.3.3-2], and of device/mqtt/memory.ts, which lays the client's tables out in one
 * ArrayBuffer. No socket, no clock.
 */
import { describe, expect, it } from "vitest";
import { INBOUND_DUPLICATE, INBOUND_FULL, INBOUND_NEW, InboundQos2 } from "../device/mqtt/inbound.js";
import { connectPacketInto, layOut } from "../device/mqtt/memory.js";
import { checkOptions } from "../device/mqtt/options.js";
import { SUBACK_UNKNOWN } from "../device/mqtt/subscriptions.js";
import { Transmit } from "../device/mqtt/transmit.js";
import { hostIo } from "../host-sim/io/io.js";

describe("InboundQos2", () => {
  it("a new id is taken, a repeat is a duplicate until its release; a full table says so", () => {
    const inbound = new InboundQos2(2, new Uint16Array(1 + InboundQos2.size(2) / 2), 1);
    expect(inbound.receive(7)).toBe(INBOUND_NEW);
    expect(inbound.receive(7)).toBe(INBOUND_DUPLICATE);
    expect(inbound.receive(8)).toBe(INBOUND_NEW);
    expect(inbound.receive(9)).toBe(INBOUND_FULL);
    inbound.release(7);
    expect(inbound.receive(7)).toBe(INBOUND_NEW); // the id is a new message again
    inbound.release(99); // unknown: nothing happens
    expect(inbound.receive(8)).toBe(INBOUND_DUPLICATE);
    inbound.clear();
    expect([inbound.receive(8), inbound.receive(7)]).toEqual([INBOUND_NEW, INBOUND_NEW]);
  });
});

describe("layOut", () => {
  it("puts every table in one ArrayBuffer without overlap and keeps a copy of CONNECT after the receive buffer", () => {
    const settings = checkOptions({
      host: "127.0.0.1", clientId: "c", io: hostIo(), outboxBytes: 101, outboxMessages: 3, maxSubscriptions: 5, maxInflight: 4, receiveBufferSize: 77,
    });
    const connect = Uint8Array.from([0x10, 2, 3, 4]);
    const memory = layOut(settings, connect);
    connect[0] = 0;
    const copy = new Uint8Array(6).fill(0xee);
    expect(connectPacketInto(memory.decoder, copy)).toBe(4);
    expect(Array.from(copy)).toEqual([0x10, 2, 3, 4, 0xee, 0xee]);
    const receiveBuffer = memory.decoder.receiveBuffer;
    const buffer = memory.outbox.bytes.buffer;
    expect(receiveBuffer.buffer).toBe(buffer);
    expect(memory.outbox.bytes.byteOffset).toBe(0);
    expect(memory.decoder.receiveSize).toBe(77);
    // the receive buffer's view spans the CONNECT packet, to the end of the one buffer
    expect(receiveBuffer.byteOffset + 77 + 4).toBe(buffer.byteLength);
    // the tables fill every byte between the outbox's ring and the receive buffer: 3 words per
    // outbox entry and its 4 held-id counts (a power of two, at least one per entry), the
    // subscriptions' 10 bytes per slot, the inbound QoS 2 ids
    expect(receiveBuffer.byteOffset).toBe(104 + 3 * 12 + 4 * 4 + 10 * 5 + 2 * 4);
    // writing every receive buffer byte touches nothing else
    receiveBuffer.fill(0xff, 0, 77);
    expect(connectPacketInto(memory.decoder, copy)).toBe(4);
    expect(Array.from(copy.subarray(0, 4))).toEqual([0x10, 2, 3, 4]);
    expect(memory.inbound.receive(5)).toBe(INBOUND_NEW);
  });

  it("the incoming QoS 2 ids share the subscription table's view, and neither takes the other's ids for its own", () => {
    const settings = checkOptions({
      host: "127.0.0.1", clientId: "c", io: hostIo(), outboxBytes: 64, outboxMessages: 2, maxSubscriptions: 2, maxInflight: 2, receiveBufferSize: 32,
    });
    const { subscriptions, inbound } = layOut(settings, Uint8Array.from([0x10, 0]));
    expect(subscriptions.table.length).toBe(5 * 2 + 2);
    // the broker's ids 1 and 2 await their PUBREL: the table is full, and its ids are not ours
    expect([inbound.receive(1), inbound.receive(2), inbound.receive(3)]).toEqual([INBOUND_NEW, INBOUND_NEW, INBOUND_FULL]);
    expect(subscriptions.nextPacketId()).toBe(1);
    expect(subscriptions.suback(2, 1)).toBe(SUBACK_UNKNOWN);
    expect(subscriptions.unsuback(2)).toBeUndefined();
    // a subscription's id in flight is not a message awaiting PUBREL, and a lost connection keeps those
    subscriptions.add("a", Uint8Array.from([0x61]), 1, undefined);
    subscriptions.add("b", Uint8Array.from([0x62]), 1, undefined);
    subscriptions.remove("b", Uint8Array.from([0x62]));
    subscriptions.stage(new Transmit(64));
    subscriptions.connectionLost();
    expect([inbound.receive(1), inbound.receive(2)]).toEqual([INBOUND_DUPLICATE, INBOUND_DUPLICATE]);
    inbound.clear();
    expect(subscriptions.nextPacketId()).toBe(4); // after the SUBSCRIBE's 2 and the UNSUBSCRIBE's 3
  });
});
