/*
 * Unit tests of device/mqtt/outbox.ts: room in the ring (reserve/add, wrap-around), entry
 * states and the queued/inflight counters (markInflight, markDone, acknowledge), requeue()
 * after a lost connection and DUP on resend, stage() into a real Transmit
 * (maxInflight, TX_RESERVE, stats), roomy and holds(); and every operation against a plain
 * model of the entries (fast-check), so the held-id counts and the staging cursor never
 * answer other than a look at every entry would. What stage() writes is read back with
 * mqtt-packet's parser. No sockets: the transmit buffer is only filled.
 */
import fc from "fast-check";
import type * as mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { encodePublish, publishSize } from "../device/mqtt/encode.js";
import type { ClientStats } from "../device/mqtt/options.js";
import { DONE, INFLIGHT, Outbox, QUEUED, RELEASED } from "../device/mqtt/outbox.js";
import { prepareTopic } from "../device/mqtt/topic.js";
import { TX_RESERVE, Transmit } from "../device/mqtt/transmit.js";
import { parsePackets } from "./brokers/helpers.js";

const encoder = new TextEncoder();

/** Encodes a PUBLISH into the outbox where reserve() says; returns its entry index, or -1 when full. */
function put(outbox: Outbox, topic: string, payload: string, qos: number, packetId: number): number {
  const prepared = prepareTopic(topic, encoder);
  const bytes = encoder.encode(payload);
  const size = publishSize(prepared.bytes.length, bytes.length, qos);
  const at = outbox.reserve(size);
  if (at < 0) return -1;
  expect(encodePublish(outbox.bytes, at, prepared, bytes, qos, false, false, packetId)).toBe(size);
  return outbox.add(at, size, packetId);
}

/** An entry of `size` bytes whose first byte is a PUBLISH header of `qos` (the rest left zero). */
function raw(outbox: Outbox, size: number, packetId: number, qos = 1): number {
  const at = outbox.reserve(size);
  outbox.bytes[at] = 0x30 | (qos << 1);
  return outbox.add(at, size, packetId);
}

function stats(): ClientStats {
  return { sent: 0, acknowledged: 0, resent: 0, dropped: 0, received: 0, oversize: 0, reconnects: 0, attempts: 0, strayAcks: 0 };
}

/** The PUBLISH packets staged in `tx`, as mqtt-packet parses them. */
function staged(tx: Transmit): mqttPacket.IPublishPacket[] {
  return parsePackets([tx.bytes.subarray(0, tx.fill)]) as mqttPacket.IPublishPacket[];
}

function summary(packets: mqttPacket.IPublishPacket[]): [string, number, number | undefined, boolean][] {
  return packets.map((p) => [String(p.payload), p.qos, p.messageId, p.dup]);
}

describe("Outbox: reserve() and add()", () => {
  it("places entries one after the other and counts them, their bytes and the queued ones", () => {
    const outbox = new Outbox(100, 4);
    expect([outbox.count, outbox.usedBytes, outbox.queued, outbox.inflight, outbox.capacity]).toEqual([0, 0, 0, 0, 4]);
    expect(outbox.reserve(30)).toBe(0);
    expect(outbox.add(0, 30, 7)).toBe(0);
    expect(outbox.reserve(30)).toBe(30);
    expect(outbox.add(30, 30, 8)).toBe(1);
    expect([outbox.count, outbox.usedBytes, outbox.queued]).toEqual([2, 60, 2]);
    expect([outbox.offsetOf(1), outbox.lengthOf(1), outbox.packetIdOf(1), outbox.stateOf(1), outbox.wasSent(1)]).toEqual([30, 30, 8, QUEUED, false]);
    expect(outbox.reserve(40)).toBe(60);
    expect(outbox.reserve(41)).toBe(-1); // past the end, and nothing free at the start
  });

  it("says -1 for a packet larger than the ring and when every entry is used", () => {
    const outbox = new Outbox(100, 2);
    expect(outbox.reserve(101)).toBe(-1);
    expect(outbox.reserve(100)).toBe(0);
    outbox.add(0, 10, 1);
    outbox.add(10, 10, 2);
    expect(outbox.reserve(1)).toBe(-1); // two entries of two
  });

  it("an outbox of 0 bytes takes nothing", () => {
    const outbox = new Outbox(0, 4);
    expect(outbox.reserve(1)).toBe(-1);
  });

  it("wraps around: freed room at the start is used once the end is full", () => {
    const outbox = new Outbox(30, 8);
    raw(outbox, 10, 1);
    raw(outbox, 10, 2);
    raw(outbox, 10, 3);
    expect(outbox.reserve(10)).toBe(-1); // full
    outbox.markDone(0);
    expect(outbox.reserve(10)).toBe(0); // the freed start
    expect(outbox.reserve(11)).toBe(-1);
    const wrapped = outbox.add(0, 10, 4);
    expect([wrapped, outbox.offsetOf(wrapped), outbox.count, outbox.usedBytes]).toEqual([3, 0, 3, 30]);
    expect(outbox.reserve(1)).toBe(-1); // the newest entry ends where the oldest starts
    outbox.markDone(1);
    expect(outbox.reserve(10)).toBe(10); // after the wrapped entry, up to the oldest
    expect(outbox.reserve(11)).toBe(-1);
    outbox.markDone(2);
    outbox.markDone(3);
    expect([outbox.count, outbox.usedBytes, outbox.queued]).toEqual([0, 0, 0]);
    expect(outbox.reserve(30)).toBe(0); // empty: from the start again
  });

  it("entry indexes wrap around the table too", () => {
    const outbox = new Outbox(100, 3);
    for (let id = 1; id <= 3; id++) expect(outbox.add(outbox.reserve(10), 10, id)).toBe(id - 1);
    outbox.markDone(0);
    outbox.markDone(1);
    expect(raw(outbox, 10, 4)).toBe(0);
    expect(raw(outbox, 10, 5)).toBe(1);
    expect([outbox.packetIdOf(2), outbox.packetIdOf(0), outbox.packetIdOf(1)]).toEqual([3, 4, 5]);
    expect(outbox.firstQueued()).toBe(2); // the oldest, not the lowest index
  });

  it("uses a part of its owner's buffer when given one", () => {
    const memory = new ArrayBuffer(8 + Outbox.size(10, 2));
    const outbox = new Outbox(10, 2, memory, 8);
    expect(Outbox.size(10, 2)).toBe(12 + 24 + 8); // the ring, 3 words per entry, 2 held-id counts
    expect(outbox.bytes.buffer).toBe(memory);
    expect([outbox.bytes.byteOffset, outbox.bytes.length]).toEqual([8, 10]);
  });
});

describe("Outbox: states, counters, acknowledge() and holds()", () => {
  it("markInflight, acknowledge and markDone move the queued and inflight counters", () => {
    const outbox = new Outbox(100, 4);
    const first = raw(outbox, 10, 11);
    const second = raw(outbox, 10, 12);
    const third = raw(outbox, 10, 13, 0);
    expect([outbox.queued, outbox.inflight]).toEqual([3, 0]);
    outbox.markInflight(first);
    outbox.markInflight(second);
    expect([outbox.queued, outbox.inflight]).toEqual([1, 2]);
    expect([outbox.stateOf(first), outbox.wasSent(first), outbox.stateOf(third), outbox.wasSent(third)]).toEqual([INFLIGHT, true, QUEUED, false]);
    expect(outbox.find(12, INFLIGHT, 1)).toBe(second);
    expect(outbox.find(13, INFLIGHT, 0)).toBe(-1); // queued, not in flight

    // acknowledged out of order: the entry is done, but held until the older one is done too
    expect(outbox.acknowledge(12)).toBe(true);
    expect([outbox.inflight, outbox.count, outbox.usedBytes, outbox.stateOf(second)]).toEqual([1, 3, 30, DONE]);
    expect(outbox.acknowledge(12)).toBe(false); // a second PUBACK for it
    expect(outbox.acknowledge(13)).toBe(false); // not in flight
    expect(outbox.acknowledge(99)).toBe(false);
    expect(outbox.acknowledge(11)).toBe(true);
    expect([outbox.inflight, outbox.queued, outbox.count, outbox.usedBytes]).toEqual([0, 1, 1, 10]);

    outbox.markDone(third); // a queued QoS 0 entry, written
    expect([outbox.queued, outbox.inflight, outbox.count, outbox.usedBytes]).toEqual([0, 0, 0, 0]);
  });

  it("holds() a packet id while its entry is queued or in flight, not once done", () => {
    const outbox = new Outbox(100, 4);
    const first = raw(outbox, 10, 100);
    const second = raw(outbox, 10, 200);
    raw(outbox, 10, 300);
    outbox.markInflight(first);
    outbox.markInflight(second);
    expect([outbox.holds(100), outbox.holds(200), outbox.holds(300), outbox.holds(400)]).toEqual([true, true, true, false]);
    outbox.acknowledge(200); // done but not freed: the oldest is still in flight
    expect(outbox.count).toBe(3);
    expect(outbox.holds(200)).toBe(false);
    outbox.acknowledge(100);
    expect(outbox.holds(100)).toBe(false);
    expect(outbox.holds(300)).toBe(true);
  });

  it("roomy: nothing queued, at most half the entries and half the bytes held", () => {
    const outbox = new Outbox(100, 4);
    expect(outbox.roomy).toBe(true);
    const first = raw(outbox, 50, 1);
    expect(outbox.roomy).toBe(false); // queued
    outbox.markInflight(first);
    expect(outbox.roomy).toBe(true); // 1 of 4 entries, 50 of 100 bytes
    const second = raw(outbox, 1, 2);
    outbox.markInflight(second);
    expect(outbox.roomy).toBe(false); // 51 bytes
    outbox.acknowledge(1);
    expect(outbox.roomy).toBe(true);
    const third = raw(outbox, 1, 3);
    outbox.markInflight(third);
    const fourth = raw(outbox, 1, 4);
    outbox.markInflight(fourth);
    expect(outbox.roomy).toBe(false); // 3 of 4 entries
    outbox.acknowledge(2);
    expect(outbox.roomy).toBe(true); // 2 of 4
  });
});

describe("Outbox: stage() into a Transmit", () => {
  it("copies queued entries oldest first after what is staged; QoS 0 is done once copied, QoS 1 goes in flight; stats.sent counts both", () => {
    const outbox = new Outbox(256, 8);
    put(outbox, "t/a", "zero", 0, 0);
    put(outbox, "t/b", "one", 1, 5);
    put(outbox, "t/c", "two", 1, 6);
    const tx = new Transmit(256);
    tx.bytes.set([0xc0, 0x00]); // a PINGREQ already staged stays in front
    tx.fill = 2;
    const counts = stats();
    outbox.stage(tx, 16, counts);
    const packets = parsePackets([tx.bytes.subarray(0, tx.fill)]);
    expect(packets.map((p) => p.cmd)).toEqual(["pingreq", "publish", "publish", "publish"]);
    const publishes = packets.slice(1) as mqttPacket.IPublishPacket[];
    expect(publishes.map((p) => p.topic)).toEqual(["t/a", "t/b", "t/c"]);
    expect(summary(publishes)).toEqual([["zero", 0, undefined, false], ["one", 1, 5, false], ["two", 1, 6, false]]);
    expect(counts).toEqual({ ...stats(), sent: 3 });
    expect([outbox.queued, outbox.inflight, outbox.count]).toEqual([0, 2, 2]); // the QoS 0 entry is freed
    expect(outbox.holds(5) && outbox.holds(6)).toBe(true);
    outbox.stage(tx, 16, counts); // nothing queued: nothing more
    expect(counts.sent).toBe(3);
  });

  it("stops at maxInflight QoS 1 entries in flight, keeping the order (a QoS 0 entry behind waits too)", () => {
    const outbox = new Outbox(256, 8);
    put(outbox, "t", "a", 1, 1);
    put(outbox, "t", "b", 1, 2);
    put(outbox, "t", "c", 1, 3);
    put(outbox, "t", "d", 0, 0);
    const tx = new Transmit(256);
    const counts = stats();
    outbox.stage(tx, 2, counts);
    expect(summary(staged(tx))).toEqual([["a", 1, 1, false], ["b", 1, 2, false]]);
    expect([outbox.queued, outbox.inflight, counts.sent]).toEqual([2, 2, 2]);
    outbox.acknowledge(1);
    tx.fill = 0;
    outbox.stage(tx, 2, counts);
    expect(summary(staged(tx))).toEqual([["c", 1, 3, false], ["d", 0, undefined, false]]);
    expect([outbox.queued, outbox.inflight, counts.sent]).toEqual([0, 2, 4]);
  });

  it("keeps TX_RESERVE bytes free in the transmit buffer", () => {
    const outbox = new Outbox(256, 8);
    const size = publishSize(1, 10, 1); // 17 bytes
    put(outbox, "t", "0123456789", 1, 1);
    put(outbox, "t", "abcdefghij", 1, 2);
    const tx = new Transmit(2 * size + TX_RESERVE - 1);
    const counts = stats();
    outbox.stage(tx, 16, counts);
    expect(tx.fill).toBe(size); // the second would leave TX_RESERVE - 1
    expect([outbox.queued, outbox.inflight, counts.sent]).toEqual([1, 1, 1]);
    const roomy = new Transmit(2 * size + TX_RESERVE);
    outbox.requeue();
    outbox.stage(roomy, 16, counts);
    expect(roomy.fill).toBe(2 * size);
    expect(summary(staged(roomy))).toEqual([["0123456789", 1, 1, true], ["abcdefghij", 1, 2, false]]);
  });

  it("after a lost connection, requeue() queues the in-flight entries again in their order; stage() resends them with DUP [MQTT-3.3.1-1], counted in stats.resent", () => {
    const outbox = new Outbox(256, 8);
    put(outbox, "t", "a", 1, 10);
    put(outbox, "t", "b", 1, 11);
    put(outbox, "t", "c", 1, 12);
    put(outbox, "t", "d", 1, 13);
    const first = new Transmit(256);
    const counts = stats();
    outbox.stage(first, 3, counts); // a, b, c written; d still queued
    outbox.acknowledge(11); // b done, out of order
    expect([outbox.queued, outbox.inflight]).toEqual([1, 2]);

    expect(outbox.requeue()).toBe(3); // a, c requeued; d never written
    expect([outbox.queued, outbox.inflight]).toEqual([3, 0]);
    const second = new Transmit(256);
    outbox.stage(second, 16, counts);
    expect(summary(staged(second))).toEqual([["a", 1, 10, true], ["c", 1, 12, true], ["d", 1, 13, false]]);
    expect(counts).toEqual({ ...stats(), sent: 4, resent: 2 });
    // DUP is set on the staged copy only: the outbox's own copy of "a" (entry 0) keeps it clear
    expect(outbox.bytes[outbox.offsetOf(0)] & 0x08).toBe(0);
  });

  it("a queued QoS 0 entry is staged once and never resent", () => {
    const outbox = new Outbox(256, 8);
    put(outbox, "t", "q0", 0, 0);
    put(outbox, "t", "q1", 1, 30);
    const counts = stats();
    outbox.stage(new Transmit(256), 16, counts);
    expect(outbox.requeue()).toBe(1);
    const tx = new Transmit(256);
    outbox.stage(tx, 16, counts);
    expect(summary(staged(tx))).toEqual([["q1", 1, 30, true]]);
    expect(counts).toEqual({ ...stats(), sent: 2, resent: 1 });
  });
});

describe("Outbox: QoS 2 through PUBREC, PUBREL and PUBCOMP", () => {
  /** Every packet staged into a new Transmit, as [cmd, packet id, dup]. */
  function stageAll(outbox: Outbox, counts: ClientStats): [string, number | undefined, boolean | undefined][] {
    const tx = new Transmit(512);
    outbox.stage(tx, 16, counts);
    return parsePackets([tx.bytes.subarray(0, tx.fill)]).map((p) => [p.cmd, p.messageId, p.cmd === "publish" ? p.dup : undefined]);
  }

  it("received() releases the entry and makes its PUBREL due; complete() finishes it; the counters follow [MQTT-4.3.3-3]", () => {
    const outbox = new Outbox(256, 4);
    const counts = stats();
    const entry = put(outbox, "t", "x", 2, 40);
    expect(stageAll(outbox, counts)).toEqual([["publish", 40, false]]);
    expect([outbox.queued, outbox.inflight]).toEqual([0, 1]);
    expect(outbox.acknowledge(40)).toBe(false); // a PUBACK does not answer QoS 2
    expect(outbox.complete(40)).toBe(false); // nor a PUBCOMP before the PUBREC
    expect(outbox.received(40)).toBe(true);
    expect([outbox.stateOf(entry), outbox.queued, outbox.inflight, outbox.holds(40)]).toEqual([RELEASED, 1, 1, true]);
    expect(stageAll(outbox, counts)).toEqual([["pubrel", 40, undefined]]);
    expect([outbox.queued, outbox.inflight]).toEqual([0, 1]);
    expect(outbox.received(40)).toBe(true); // a repeated PUBREC: the PUBREL is due again
    expect(stageAll(outbox, counts)).toEqual([["pubrel", 40, undefined]]);
    expect(outbox.complete(40)).toBe(true);
    expect([outbox.count, outbox.queued, outbox.inflight, outbox.holds(40)]).toEqual([0, 0, 0, false]);
    expect(outbox.complete(40)).toBe(false);
    expect(counts).toEqual({ ...stats(), sent: 1 });
  });

  it("requeue(): an unreleased entry's PUBLISH goes again with DUP, a released entry's PUBREL goes again, in their order [MQTT-4.4.0-1]", () => {
    const outbox = new Outbox(256, 4);
    const counts = stats();
    put(outbox, "t", "a", 2, 1);
    put(outbox, "t", "b", 2, 2);
    put(outbox, "t", "c", 1, 3);
    stageAll(outbox, counts);
    outbox.received(1);
    stageAll(outbox, counts); // PUBREL 1
    expect(outbox.requeue()).toBe(3);
    expect([outbox.queued, outbox.inflight]).toEqual([3, 1]);
    expect(stageAll(outbox, counts)).toEqual([["pubrel", 1, undefined], ["publish", 2, true], ["publish", 3, true]]);
    expect(counts).toEqual({ ...stats(), sent: 3, resent: 2 });
  });

  it("a released entry counts in flight against maxInflight; its PUBREL still goes when the limit is reached", () => {
    const outbox = new Outbox(256, 4);
    const counts = stats();
    put(outbox, "t", "a", 2, 1);
    const tx = new Transmit(512);
    outbox.stage(tx, 1, counts);
    put(outbox, "t", "b", 2, 2);
    outbox.received(1);
    const next = new Transmit(512);
    outbox.stage(next, 1, counts);
    expect(parsePackets([next.bytes.subarray(0, next.fill)]).map((p) => p.cmd)).toEqual(["pubrel"]); // "b" waits: 1 in flight
    outbox.complete(1);
    const last = new Transmit(512);
    outbox.stage(last, 1, counts);
    expect(staged(last).map((p) => p.messageId)).toEqual([2]);
  });
});

describe("Outbox: against a plain model of its entries", () => {
  /** An entry as the model sees it, in publish order. */
  interface Entry { id: number; qos: number; state: "queued" | "inflight" | "done" | "released"; releaseDue: boolean; sent: boolean }
  type Op =
    | { op: "publish"; qos: number; id: number }
    | { op: "stage"; maxInflight: number }
    | { op: "puback" | "pubrec" | "pubcomp"; pick: number; stray: boolean }
    | { op: "requeue" };
  const CAPACITY = 6;
  const IDS = 3 * CAPACITY; // ids collide modulo the counts' size, and come back once freed
  const ops: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant("publish" as const), qos: fc.integer({ min: 0, max: 2 }), id: fc.integer({ min: 1, max: IDS }) }),
    fc.record({ op: fc.constant("stage" as const), maxInflight: fc.integer({ min: 1, max: CAPACITY }) }),
    // an answer for one of the entries (any state), or now and then for an id that may be held by none
    fc.record({ op: fc.constantFrom("puback" as const, "pubrec" as const, "pubcomp" as const), pick: fc.nat(), stray: fc.integer({ min: 0, max: 4 }).map((n) => n === 0) }),
    fc.record({ op: fc.constant("requeue" as const) }),
  );

  /** What stage() writes, by the model: [kind, id], oldest entry first, until maxInflight binds. */
  function stageModel(entries: Entry[], maxInflight: number): [string, number][] {
    const out: [string, number][] = [];
    let inflight = entries.filter((e) => e.state === "inflight" || e.state === "released").length;
    for (const e of entries) {
      if (e.releaseDue) {
        out.push(["pubrel", e.id]);
        e.releaseDue = false;
        continue;
      }
      if (e.state !== "queued") continue;
      if (e.qos > 0 && inflight >= maxInflight) break;
      out.push(["publish", e.id]);
      if (e.qos === 0) e.state = "done";
      else [e.state, e.sent, inflight] = ["inflight", true, inflight + 1];
    }
    return out;
  }

  it("holds(), stage()'s order, the counters and the count answer as a look at every entry would, through any sequence of operations", () => {
    fc.assert(
      fc.property(fc.array(ops, { minLength: 1, maxLength: 60 }), (sequence) => {
        const outbox = new Outbox(CAPACITY * 8, CAPACITY);
        const tx = new Transmit(1024);
        let entries: Entry[] = [];
        const live = (id: number) => entries.some((e) => e.id === id && e.state !== "done");
        for (const step of sequence) {
          if (step.op === "publish") {
            // the client never reuses a held id: the next free one from the drawn id, as nextPacketId() does
            let id = step.qos === 0 ? 0 : step.id;
            while (id !== 0 && live(id)) id = (id % IDS) + 1;
            if (put(outbox, "t", "x", step.qos, id) < 0) {
              expect(entries.length).toBeGreaterThan(CAPACITY / 2); // full, by entries or by bytes
              continue;
            }
            entries.push({ id, qos: step.qos, state: "queued", releaseDue: false, sent: false });
          } else if (step.op === "stage") {
            tx.fill = 0;
            const counts = stats();
            outbox.stage(tx, step.maxInflight, counts);
            const staged = parsePackets([tx.bytes.subarray(0, tx.fill)]).map((p) => [p.cmd, "messageId" in p ? p.messageId ?? 0 : 0]);
            expect(staged).toEqual(stageModel(entries, step.maxInflight));
          } else if (step.op === "requeue") {
            outbox.requeue();
            for (const e of entries) {
              if (e.state === "inflight") e.state = "queued";
              if (e.state === "released") e.releaseDue = true;
            }
          } else {
            const id = entries.length > 0 && !step.stray ? entries[step.pick % entries.length].id : (step.pick % IDS) + 1;
            const wanted = step.op === "pubcomp" ? "released" : "inflight";
            const qos = step.op === "puback" ? 1 : 2;
            let e = entries.find((x) => x.id === id && x.state === wanted && x.qos === qos);
            if (step.op === "pubrec") e ??= entries.find((x) => x.id === id && x.state === "released" && x.qos === 2);
            const answered = step.op === "puback" ? outbox.acknowledge(id) : step.op === "pubrec" ? outbox.received(id) : outbox.complete(id);
            expect(answered).toBe(e !== undefined);
            if (e && step.op === "pubrec") [e.state, e.releaseDue] = ["released", true];
            // (a PUBCOMP before the PUBREL went completes the entry all the same: nothing more is due)
            else if (e) [e.state, e.releaseDue] = ["done", false];
          }
          while (entries.length > 0 && entries[0].state === "done") entries = entries.slice(1);
          expect(outbox.count).toBe(entries.length);
          expect(outbox.queued).toBe(entries.filter((e) => e.state === "queued" || e.releaseDue).length);
          expect(outbox.inflight).toBe(entries.filter((e) => e.state === "inflight" || e.state === "released").length);
          for (let id = 1; id <= IDS; id++) expect(outbox.holds(id)).toBe(live(id));
        }
      }),
      { numRuns: 400 },
    );
  });
});
