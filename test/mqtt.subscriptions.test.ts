/*
 * Unit tests of device/mqtt/subscriptions.ts: the SubscriptionTable's slots (add, replace,
 * remove, full), the SUBSCRIBE and UNSUBSCRIBE packets stage() writes into a real Transmit
 * (read back with mqtt-packet's parser), the answers to SUBACK and UNSUBACK, matching, what a
 * lost connection or session re-stages, and packet ids. No sockets: the transmit buffer is
 * only filled.
 */
import type * as mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { encodePublish, publishSize } from "../device/mqtt/encode.js";
import type { MessageHandler } from "../device/mqtt/options.js";
import { Outbox } from "../device/mqtt/outbox.js";
import {
  SUBACK_CODES, SUBACK_SUPERSEDED, SUBACK_UNKNOWN, SubscriptionTable,
} from "../device/mqtt/subscriptions.js";
import { prepareFilter, prepareTopic } from "../device/mqtt/topic.js";
import { TX_RESERVE, Transmit } from "../device/mqtt/transmit.js";
import { parsePackets } from "./brokers/helpers.js";

const encoder = new TextEncoder();

function table(max: number, outbox = new Outbox(256, 8)): SubscriptionTable {
  const at = 4; // a part of an owner's buffer, as the client gives it
  return new SubscriptionTable(max, new ArrayBuffer(at + SubscriptionTable.size(max)), at, outbox);
}

function add(subs: SubscriptionTable, filter: string, qos = 0, handler?: MessageHandler): boolean {
  return subs.add(filter, prepareFilter(filter, encoder), qos, handler);
}

function remove(subs: SubscriptionTable, filter: string): boolean {
  return subs.remove(filter, prepareFilter(filter, encoder));
}

type Staged = ["subscribe", number, string, number] | ["unsubscribe", number, string];

/** What stage() writes into a fresh transmit buffer of `size` bytes, checked and summarised. */
function stage(subs: SubscriptionTable, size = 512): Staged[] {
  const tx = new Transmit(size);
  subs.stage(tx);
  const bytes = tx.bytes.subarray(0, tx.fill);
  const packets = parsePackets([bytes]);
  const out: Staged[] = [];
  let at = 0;
  for (const packet of packets) {
    // the fixed header's flags are 0010 [MQTT-3.8.1-1][MQTT-3.10.1-1]
    expect(bytes[at]).toBe(packet.cmd === "subscribe" ? 0x82 : 0xa2);
    at += packet.length! + 2; // every packet here has a one-byte length field
    if (packet.cmd === "subscribe") {
      const { subscriptions, messageId } = packet as mqttPacket.ISubscribePacket;
      expect(subscriptions).toHaveLength(1);
      out.push(["subscribe", messageId!, subscriptions[0].topic, subscriptions[0].qos]);
    } else {
      const { unsubscriptions, messageId } = packet as mqttPacket.IUnsubscribePacket;
      expect(unsubscriptions).toHaveLength(1);
      out.push(["unsubscribe", messageId!, unsubscriptions[0]]);
    }
    expect(out.at(-1)![1]).toBeGreaterThan(0); // packet ids are non-zero [MQTT-2.3.1-1]
  }
  expect(at).toBe(tx.fill);
  return out;
}

/** The first slot matching `topic`, and every slot matching it in order. */
function matches(subs: SubscriptionTable, topic: string): number[] {
  const bytes = encoder.encode("##" + topic); // matched at an offset, as in a receive buffer
  const slots: number[] = [];
  for (let slot = subs.match(0, bytes, 2, bytes.length - 2); slot >= 0; slot = subs.match(slot + 1, bytes, 2, bytes.length - 2)) {
    slots.push(slot);
  }
  return slots;
}

/** Calls nextPacketId() until it gives 65535 (at most 65,535 calls); returns the last id given. */
function runTo65535(subs: SubscriptionTable): number {
  let id = 0;
  for (let calls = 0; calls < 65_535 && id !== 65_535; calls++) id = subs.nextPacketId();
  return id;
}

/** Puts a QoS 1 PUBLISH holding `packetId` in the outbox. */
function hold(outbox: Outbox, packetId: number): number {
  const topic = prepareTopic("t", encoder);
  const size = publishSize(1, 0, 1);
  const at = outbox.reserve(size);
  encodePublish(outbox.bytes, at, topic, new Uint8Array(0), 1, false, false, packetId);
  return outbox.add(at, size, packetId);
}

describe("SubscriptionTable: add, replace, remove", () => {
  it("adds filters in slot order and stages one SUBSCRIBE each, with its QoS and a new packet id", () => {
    const subs = table(4);
    const handler: MessageHandler = () => {};
    expect(add(subs, "a/b", 0, handler)).toBe(true);
    expect(add(subs, "c/+", 1)).toBe(true);
    expect([subs.filter(0), subs.filter(1), subs.handler(0), subs.handler(1)]).toEqual(["a/b", "c/+", handler, undefined]);
    expect(stage(subs)).toEqual([["subscribe", 1, "a/b", 0], ["subscribe", 2, "c/+", 1]]);
    expect(stage(subs)).toEqual([]); // waiting for their SUBACKs: nothing more
  });

  it("adding the same filter again replaces its QoS and handler in the same slot", () => {
    const subs = table(2);
    const first: MessageHandler = () => {};
    const second: MessageHandler = () => {};
    add(subs, "x", 0, first);
    expect(add(subs, "x", 1, second)).toBe(true);
    expect(subs.handler(0)).toBe(second);
    expect(stage(subs)).toEqual([["subscribe", 1, "x", 1]]); // one SUBSCRIBE, with the new QoS
    expect(add(subs, "y")).toBe(true);
    expect(subs.filter(1)).toBe("y");
  });

  it("a full table: add() is false for a new filter, true for one it holds", () => {
    const subs = table(2);
    expect(add(subs, "a")).toBe(true);
    expect(add(subs, "b")).toBe(true);
    expect(add(subs, "c")).toBe(false);
    expect(add(subs, "b", 1)).toBe(true);
    expect(stage(subs)).toEqual([["subscribe", 1, "a", 0], ["subscribe", 2, "b", 1]]);
  });

  it("remove(): the handler is gone at once, the slot no longer matches, its UNSUBSCRIBE is staged and then the slot is free", () => {
    const subs = table(1);
    const handler: MessageHandler = () => {};
    add(subs, "a/#", 1, handler);
    stage(subs);
    subs.settle(subs.suback(1, 1), true);
    expect(matches(subs, "a/b")).toEqual([0]);
    remove(subs, "a/#");
    expect(subs.handler(0)).toBeUndefined();
    expect(matches(subs, "a/b")).toEqual([]);
    expect(add(subs, "other")).toBe(false); // the slot is kept until its UNSUBSCRIBE is staged
    expect(stage(subs)).toEqual([["unsubscribe", 2, "a/#"]]);
    expect(add(subs, "other")).toBe(true);
    expect(remove(subs, "never-added")).toBe(false); // no free slot to remember its UNSUBSCRIBE
    expect(stage(subs)).toEqual([["subscribe", 3, "other", 0]]);
  });

  it("a slot unsubscribed while its SUBSCRIBE waits stays taken until that SUBACK comes", () => {
    const subs = table(1);
    add(subs, "a");
    expect(stage(subs)).toEqual([["subscribe", 1, "a", 0]]);
    remove(subs, "a");
    expect(stage(subs)).toEqual([["unsubscribe", 2, "a"]]);
    expect(add(subs, "b")).toBe(false); // id 1 is still in flight in this slot [MQTT-2.3.1-2]
    expect(subs.suback(1, 1)).toBe(SUBACK_SUPERSEDED);
    expect(add(subs, "b")).toBe(true);
    expect(stage(subs)).toEqual([["subscribe", 3, "b", 0]]);
  });
});

describe("SubscriptionTable: stage() into a Transmit", () => {
  it("SUBSCRIBEs and UNSUBSCRIBEs in slot order, each with a packet id of its own", () => {
    const subs = table(4);
    for (const filter of ["s/0", "s/1", "s/2", "s/3"]) add(subs, filter, 1);
    stage(subs);
    for (let id = 1; id <= 4; id++) subs.settle(subs.suback(id, 1), true);
    remove(subs, "s/1");
    remove(subs, "s/3");
    subs.add("s/2", prepareFilter("s/2", encoder), 0, undefined); // subscribed again with another QoS
    expect(add(subs, "s/9")).toBe(false); // s/1's slot is not free before its UNSUBSCRIBE is staged
    expect(stage(subs)).toEqual([["unsubscribe", 5, "s/1"], ["subscribe", 6, "s/2", 0], ["unsubscribe", 7, "s/3"]]);
  });

  it("stops when the next packet would leave less than TX_RESERVE free, taking no packet id for it; the rest goes next time", () => {
    const subs = table(6);
    for (let i = 0; i < 6; i++) add(subs, "a/" + i);
    const size = 2 + 2 + 2 + 3 + 1; // SUBSCRIBE of a 3-byte filter: 10 bytes
    // 4 fit with TX_RESERVE left over (4 * 10 + 16 = 56 <= 60), a 5th would not
    expect(stage(subs, 4 * size + TX_RESERVE + size - 1).map((p) => p[1])).toEqual([1, 2, 3, 4]);
    expect(stage(subs, 4 * size + TX_RESERVE + size - 1).map((p) => p[2])).toEqual(["a/4", "a/5"]);
    expect(subs.nextPacketId()).toBe(7);
  });

  it("an exact fit: the packet and TX_RESERVE fill the buffer", () => {
    const subs = table(2);
    add(subs, "abc");
    add(subs, "def");
    const size = 10;
    expect(stage(subs, size + TX_RESERVE)).toEqual([["subscribe", 1, "abc", 0]]);
    expect(stage(subs, size + TX_RESERVE - 1)).toEqual([]);
    expect(stage(subs, 2 * size + TX_RESERVE)).toEqual([["subscribe", 2, "def", 0]]);
  });

  it("an UNSUBSCRIBE waits for room, and for an UNSUBACK when every UNSUBSCRIBE id slot is in use", () => {
    const subs = table(1);
    add(subs, "ab");
    stage(subs);
    subs.settle(subs.suback(1, 1), true);
    remove(subs, "ab");
    const unsubscribeSize = 2 + 2 + 2 + 2; // 8 bytes
    expect(stage(subs, unsubscribeSize + TX_RESERVE - 1)).toEqual([]);
    expect(stage(subs, unsubscribeSize + TX_RESERVE)).toEqual([["unsubscribe", 2, "ab"]]);
    add(subs, "cd");
    stage(subs);
    subs.settle(subs.suback(3, 1), true);
    remove(subs, "cd");
    expect(stage(subs)).toEqual([]); // the one UNSUBSCRIBE id slot holds 2
    expect(subs.unsuback(2)).toBe("ab");
    expect(stage(subs)).toEqual([["unsubscribe", 4, "cd"]]);
  });
});

describe("SubscriptionTable: unsubscribing from a filter not subscribed in this run", () => {
  it("takes a free slot and stages its UNSUBSCRIBE (a kept session may hold the filter from an earlier boot); the slot is free again after", () => {
    const subs = table(1);
    expect(remove(subs, "old/boot/#")).toBe(true);
    expect(matches(subs, "old/boot/x")).toEqual([]);
    expect(add(subs, "new")).toBe(false); // the slot remembers the UNSUBSCRIBE until it is staged
    expect(stage(subs)).toEqual([["unsubscribe", 1, "old/boot/#"]]);
    expect(subs.unsuback(1)).toBe("old/boot/#");
    expect(add(subs, "new")).toBe(true);
  });
});

describe("SubscriptionTable: SUBACK and UNSUBACK", () => {
  it("suback(): the slot for one return code, SUBACK_CODES for another count, SUBACK_UNKNOWN for an id not waiting", () => {
    const subs = table(3);
    add(subs, "a");
    add(subs, "b");
    stage(subs);
    expect(subs.suback(2, 1)).toBe(1);
    expect(subs.suback(1, 2)).toBe(SUBACK_CODES); // [MQTT-3.8.4-5]
    expect(subs.suback(1, 0)).toBe(SUBACK_CODES);
    expect(subs.suback(9, 1)).toBe(SUBACK_UNKNOWN);
    expect([SUBACK_UNKNOWN, SUBACK_SUPERSEDED, SUBACK_CODES]).toEqual([-1, -2, -3]);
  });

  it("settle(slot, true): the slot is active (matched, not staged again); a later SUBACK for its id is unknown", () => {
    const subs = table(2);
    add(subs, "a/+");
    stage(subs);
    subs.settle(subs.suback(1, 1), true);
    expect(matches(subs, "a/x")).toEqual([0]);
    expect(subs.suback(1, 1)).toBe(SUBACK_UNKNOWN);
    expect(stage(subs)).toEqual([]);
  });

  it("settle(slot, false): refused (0x80), the slot is free again for another filter", () => {
    const subs = table(1);
    add(subs, "secret/#");
    stage(subs);
    subs.settle(subs.suback(1, 1), false);
    expect(matches(subs, "secret/x")).toEqual([]);
    expect(add(subs, "open")).toBe(true);
    expect(subs.filter(0)).toBe("open");
    expect(stage(subs)).toEqual([["subscribe", 2, "open", 0]]);
  });

  it("SUBACK_SUPERSEDED: a filter subscribed again while its SUBSCRIBE waits is re-staged once that SUBACK comes, with the new QoS", () => {
    const subs = table(2);
    const later: MessageHandler = () => {};
    add(subs, "a", 0);
    expect(stage(subs)).toEqual([["subscribe", 1, "a", 0]]);
    add(subs, "a", 1, later);
    expect(stage(subs)).toEqual([]); // not before the first SUBACK
    expect(subs.nextPacketId()).toBe(2); // id 1 stays in use until its SUBACK
    expect(subs.suback(1, 1)).toBe(SUBACK_SUPERSEDED);
    expect(subs.handler(0)).toBe(later);
    expect(stage(subs)).toEqual([["subscribe", 3, "a", 1]]);
    expect(subs.suback(3, 1)).toBe(0);
  });

  it("SUBACK_SUPERSEDED: a filter unsubscribed and subscribed again before its SUBACK", () => {
    const subs = table(1);
    add(subs, "a");
    stage(subs); // SUBSCRIBE 1
    remove(subs, "a");
    add(subs, "a", 1); // before the UNSUBSCRIBE went: the slot waits for SUBACK 1
    expect(stage(subs)).toEqual([]);
    expect(subs.suback(1, 1)).toBe(SUBACK_SUPERSEDED);
    expect(stage(subs)).toEqual([["subscribe", 2, "a", 1]]);
  });

  it("unsuback(): the filter, once, for the id of a staged UNSUBSCRIBE; undefined for any other id", () => {
    const subs = table(2);
    add(subs, "a");
    add(subs, "b");
    stage(subs); // SUBSCRIBE 1 and 2
    subs.settle(subs.suback(1, 1), true);
    remove(subs, "a");
    expect(stage(subs)).toEqual([["unsubscribe", 3, "a"]]);
    expect(subs.unsuback(2)).toBeUndefined(); // a SUBSCRIBE's id
    expect(subs.unsuback(7)).toBeUndefined();
    expect(subs.unsuback(3)).toBe("a");
    expect(subs.unsuback(3)).toBeUndefined();
  });
});

describe("SubscriptionTable: matching", () => {
  it("match() finds every slot whose filter matches, from a slot on; wildcards, the parent level of /#, and $ topics [MQTT-4.7.1-2][MQTT-4.7.1-3][MQTT-4.7.2-1]", () => {
    const subs = table(6);
    for (const filter of ["a/+/c", "a/#", "x/y", "#", "+/+", "$SYS/#"]) add(subs, filter);
    expect(matches(subs, "a/b/c")).toEqual([0, 1, 3]);
    expect(matches(subs, "a")).toEqual([1, 3]);
    expect(matches(subs, "a/b")).toEqual([1, 3, 4]);
    expect(matches(subs, "x/y")).toEqual([2, 3, 4]);
    expect(matches(subs, "x/y/z")).toEqual([3]);
    expect(matches(subs, "x/Y")).toEqual([3, 4]);
    expect(matches(subs, "$SYS/load")).toEqual([5]); // no wildcard first level matches a $ topic
    expect(matches(subs, "a//c")).toEqual([0, 1, 3]);
    const bytes = encoder.encode("x/y");
    expect(subs.match(5, bytes, 0, bytes.length)).toBe(-1);
  });

  it("a refused or removed subscription matches nothing; a pending one already matches", () => {
    const subs = table(3);
    add(subs, "t");
    add(subs, "t/#");
    add(subs, "+");
    stage(subs);
    expect(matches(subs, "t")).toEqual([0, 1, 2]); // SUBACKs not in yet
    subs.settle(subs.suback(1, 1), false);
    remove(subs, "+");
    expect(matches(subs, "t")).toEqual([1]);
  });

  it("the filters' bytes lie end to end: a slot freed in the middle (refused, or its UNSUBSCRIBE staged) and taken again by a longer filter leaves every other filter matched and staged whole", () => {
    const subs = table(4);
    for (const filter of ["a/1", "bb/+/22", "ccc/#", "dddd"]) add(subs, filter, 1);
    expect(stage(subs)).toEqual([["subscribe", 1, "a/1", 1], ["subscribe", 2, "bb/+/22", 1], ["subscribe", 3, "ccc/#", 1], ["subscribe", 4, "dddd", 1]]);
    subs.settle(subs.suback(1, 1), true);
    subs.settle(subs.suback(2, 1), false); // refused: slot 1 is free
    subs.settle(subs.suback(3, 1), true);
    subs.settle(subs.suback(4, 1), true);
    expect([matches(subs, "ccc/x"), matches(subs, "dddd"), matches(subs, "bb/x/22")]).toEqual([[2], [3], []]);
    remove(subs, "a/1");
    expect(stage(subs)).toEqual([["unsubscribe", 5, "a/1"]]);
    expect([matches(subs, "a/1"), matches(subs, "ccc"), matches(subs, "dddd")]).toEqual([[], [2], [3]]);
    add(subs, "a-much-longer/filter/+", 0); // slot 0
    add(subs, "e", 2); // slot 1
    expect(stage(subs)).toEqual([["subscribe", 6, "a-much-longer/filter/+", 0], ["subscribe", 7, "e", 2]]);
    expect(["a-much-longer/filter/x", "e", "ccc", "dddd", "a/1"].map((topic) => matches(subs, topic))).toEqual([[0], [1], [2], [3], []]);
    expect([0, 1, 2, 3].map((slot) => subs.filter(slot))).toEqual(["a-much-longer/filter/+", "e", "ccc/#", "dddd"]);
    subs.sessionLost();
    expect(stage(subs).map((s) => s[2])).toEqual(["a-much-longer/filter/+", "e", "ccc/#", "dddd"]);
  });

  it("exactTopic(): the filter when it has no wildcard, else undefined", () => {
    const subs = table(4);
    for (const filter of ["dev/1/cmd", "dev/+/cmd", "dev/#", "#"]) add(subs, filter);
    expect([0, 1, 2, 3].map((slot) => subs.exactTopic(slot))).toEqual(["dev/1/cmd", undefined, undefined, undefined]);
    add(subs, "dev/1/cmd", 1); // replaced: still exact
    expect(subs.exactTopic(0)).toBe("dev/1/cmd");
  });
});

describe("SubscriptionTable: lost connections and sessions", () => {
  it("connectionLost(): SUBSCRIBEs and UNSUBSCRIBEs waiting for an answer are forgotten; SUBSCRIBEs are staged again, active ones are not", () => {
    const subs = table(3);
    add(subs, "active");
    add(subs, "pending", 1);
    add(subs, "gone");
    stage(subs); // 1, 2, 3
    subs.settle(subs.suback(1, 1), true);
    subs.settle(subs.suback(3, 1), true);
    remove(subs, "gone");
    expect(stage(subs)).toEqual([["unsubscribe", 4, "gone"]]);
    subs.connectionLost();
    expect(subs.suback(2, 1)).toBe(SUBACK_UNKNOWN);
    expect(subs.unsuback(4)).toBeUndefined();
    expect(stage(subs)).toEqual([["subscribe", 5, "pending", 1]]);
    expect(matches(subs, "active")).toEqual([0]);
  });

  it("connectionLost() with a filter subscribed again while pending: staged once, with the new QoS", () => {
    const subs = table(1);
    add(subs, "a", 0);
    stage(subs);
    add(subs, "a", 1);
    subs.connectionLost();
    expect(stage(subs)).toEqual([["subscribe", 2, "a", 1]]);
  });

  it("sessionLost(): every subscription is staged again, except one being unsubscribed", () => {
    const subs = table(4);
    add(subs, "one");
    add(subs, "two", 1);
    add(subs, "three");
    stage(subs);
    for (let id = 1; id <= 3; id++) subs.settle(subs.suback(id, 1), true);
    remove(subs, "three");
    subs.connectionLost();
    subs.sessionLost();
    expect(stage(subs)).toEqual([["subscribe", 4, "one", 0], ["subscribe", 5, "two", 1], ["unsubscribe", 6, "three"]]);
  });
});

describe("SubscriptionTable: packet ids", () => {
  it("nextPacketId() counts from 1, skipping ids the outbox holds and ids of SUBSCRIBEs in flight [MQTT-2.3.1-2]", () => {
    const outbox = new Outbox(256, 8);
    const subs = table(2, outbox);
    hold(outbox, 1);
    hold(outbox, 3);
    add(subs, "f");
    expect(stage(subs)).toEqual([["subscribe", 2, "f", 0]]);
    expect(subs.nextPacketId()).toBe(4);
    expect(subs.nextPacketId()).toBe(5);
  });

  it("wraps from 65535 to 1, still skipping the ids held", () => {
    const outbox = new Outbox(256, 8);
    const subs = table(2, outbox);
    const first = hold(outbox, 1);
    add(subs, "f");
    expect(stage(subs)).toEqual([["subscribe", 2, "f", 0]]);
    hold(outbox, 3);
    expect(runTo65535(subs)).toBe(65_535);
    expect(subs.nextPacketId()).toBe(4); // 1 and 3 in the outbox, 2 a SUBSCRIBE in flight
    outbox.markInflight(first);
    outbox.acknowledge(1);
    subs.settle(subs.suback(2, 1), true);
    expect(runTo65535(subs)).toBe(65_535);
    expect(subs.nextPacketId()).toBe(1);
    expect(subs.nextPacketId()).toBe(2);
    expect(subs.nextPacketId()).toBe(4);
  });

  it("ids of UNSUBSCRIBEs waiting for their UNSUBACK are skipped too", () => {
    const subs = table(1);
    add(subs, "u");
    stage(subs);
    subs.settle(subs.suback(1, 1), true);
    remove(subs, "u");
    expect(stage(subs)).toEqual([["unsubscribe", 2, "u"]]);
    expect(runTo65535(subs)).toBe(65_535);
    expect(subs.nextPacketId()).toBe(1);
    expect(subs.nextPacketId()).toBe(3);
  });
});
