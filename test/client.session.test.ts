/*
 * Session-logic tests of MqttClient at the byte level, in the style of mosquitto's
 * fake-broker scripts, on the fake clock, Timer module and scripted ECMA-419 sockets of
 * test/support/ (fake-clock.ts, fake-network.ts, session-harness.ts): the peer decodes every
 * byte the client writes with mqtt-packet and answers with packets that mqtt-packet generates
 * (or hand-made malformed bytes). No real network, no real time. Must stay fast (the whole
 * file well under 20 s) and must not depend on other suites.
 */

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as mqtt from "mqtt-packet";
import { MqttError } from "../device/mqtt/index.js";
import type { PublishStatus } from "../device/mqtt/index.js";
import type { Link } from "./support/fake-network.js";
import {
  ADDRESS, ALMOST_ONE, brief, cmds, expectNoMisuse, harness, publishes,
} from "./support/session-harness.js";
import type { Harness } from "./support/session-harness.js";

// ---------------------------------------------------------------------------------------
// CONNECT and CONNACK
// ---------------------------------------------------------------------------------------

describe("CONNECT and CONNACK", () => {
  it("writes CONNECT first, byte for byte: protocol MQTT level 4, clean, keepalive, client id first in the payload [MQTT-3.1.0-1][MQTT-3.1.3-3]", () => {
    const session = harness({ clientId: "sensor-1", keepAlive: 30 });
    const link = session.start();
    expect(link.options.address).toBe(ADDRESS);
    expect(link.options.port).toBe(1883);
    const expected = mqtt.generate({
      cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 30, clientId: "sensor-1",
    }, { protocolVersion: 4 });
    expect(link.rawPackets()[0]).toEqual(expected);
    const [connect] = link.take();
    expect(connect).toMatchObject({
      cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 30, clientId: "sensor-1",
    });
    // connect flags: only Clean Session; the reserved bit is zero
    expect(link.rawPackets()[0][9]).toBe(0x02);
    expect(session.client.connected).toBe(true);
    expect(session.connects).toEqual([false]);
    expectNoMisuse(session);
  });

  it("carries the will, user name and password when given, in the payload order [MQTT-3.1.2-9][MQTT-3.1.2-14][MQTT-3.1.2-19][MQTT-3.1.2-21][MQTT-3.1.3-1]", () => {
    const session = harness({
      clientId: "node-7", clean: false, keepAlive: 120, username: "alice", password: "s3cret",
      will: { topic: "nodes/node-7/status", payload: "offline", qos: 1, retain: true },
    });
    const link = session.start();
    const expected = mqtt.generate({
      cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: false, keepalive: 120, clientId: "node-7",
      username: "alice", password: Buffer.from("s3cret"),
      will: { topic: "nodes/node-7/status", payload: Buffer.from("offline"), qos: 1, retain: true },
    }, { protocolVersion: 4 });
    expect(link.rawPackets()[0]).toEqual(expected);
    const [connect] = link.take() as mqtt.IConnectPacket[];
    expect(connect.clean).toBe(false);
    expect(connect.keepalive).toBe(120);
    expect(connect.username).toBe("alice");
    expect(Buffer.from(connect.password!).toString()).toBe("s3cret");
    expect(connect.will).toMatchObject({ topic: "nodes/node-7/status", qos: 1, retain: true });
    expect(Buffer.from(connect.will!.payload as Buffer).toString()).toBe("offline");
    // user name, password, will retain, will QoS 1, will flag
    expect(link.rawPackets()[0][9]).toBe(0x80 | 0x40 | 0x20 | 0x08 | 0x04);
    expectNoMisuse(session);
  });

  it("leaves the will, user name and password flags clear without them [MQTT-3.1.2-13][MQTT-3.1.2-15][MQTT-3.1.2-18][MQTT-3.1.2-20]", () => {
    const session = harness({ clean: false, will: undefined });
    const link = session.start();
    const flags = link.rawPackets()[0][9];
    expect(flags).toBe(0x00);
    expect(link.take()[0]).not.toHaveProperty("will");
  });

  it("sends nothing after CONNECT until the CONNACK, then what was published meanwhile", () => {
    const session = harness();
    session.net.connack = null;
    const link = session.start();
    expect(session.client.publish("a/b", "early", { qos: 1 })).toBe("queued");
    session.client.subscribe("cmd/#", { qos: 1 });
    session.settle();
    expect(cmds(link.take())).toEqual(["connect"]);
    link.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
    session.settle();
    expect(link.take().map(brief)).toEqual([
      { cmd: "subscribe", id: 2, subs: [["cmd/#", 1]] },
      { cmd: "publish", topic: "a/b", payload: "early", qos: 1, dup: false, retain: false, id: 1 },
    ]);
    expect(session.published).toEqual([1]);
  });

  it("gives up on a socket that never connects: connect-timeout, then a reconnect later", () => {
    const session = harness({ connectTimeout: 5_000, reconnect: { minDelay: 1_000, maxDelay: 8_000 } });
    session.net.onOpen = () => { /* the SYN goes nowhere */ };
    const first = session.start();
    session.clock.advance(4_900);
    expect(session.codes()).toEqual([]);
    session.clock.advance(100);
    expect(session.codes()).toEqual(["connect-timeout"]);
    expect(first.status).toBe("closed");
    expect(session.client.state).toBe("waiting");
    expect(session.disconnects).toEqual([]); // never connected, so never disconnected
    session.net.onOpen = (link) => link.accept();
    session.clock.advance(1_000);
    expect(session.net.links.length).toBe(2);
    expect(session.client.connected).toBe(true);
    expect(cmds(session.net.last.take())).toEqual(["connect"]);
  });

  it("gives up on a server that never answers CONNECT: connect-timeout, socket closed, then a reconnect", () => {
    const session = harness({ connectTimeout: 5_000, reconnect: { minDelay: 1_000, maxDelay: 8_000 } });
    session.net.connack = null;
    const first = session.start();
    expect(cmds(first.take())).toEqual(["connect"]);
    session.clock.advance(5_000);
    expect(session.codes()).toEqual(["connect-timeout"]);
    expect(first.status).toBe("closed");
    session.net.connack = { sessionPresent: false, returnCode: 0 };
    session.clock.advance(1_000);
    expect(session.net.links.length).toBe(2);
    expect(session.client.connected).toBe(true);
    expect(session.client.stats.attempts).toBe(2);
  });

  const refusals: [number, string][] = [
    [1, "unacceptable-protocol"], [2, "identifier-rejected"], [3, "server-unavailable"],
    [4, "bad-credentials"], [5, "not-authorized"],
  ];
  it.each(refusals)("CONNACK return code %i gives %s via onError, closes the socket and backs off without a storm", (code, name) => {
    const session = harness(
      { reconnect: { minDelay: 1_000, maxDelay: 16_000 } },
      { random: () => ALMOST_ONE },
    );
    session.net.connack = { sessionPresent: false, returnCode: code };
    const first = session.start();
    expect(session.codes()).toEqual([name]);
    expect(session.errors[0]).toBeInstanceOf(MqttError);
    expect(first.status).toBe("closed");
    expect(session.connects).toEqual([]);
    expect(session.disconnects).toEqual([]);
    expect(session.client.state).toBe("waiting");
    // two simulated minutes of refusals
    session.clock.advance(120_000);
    const starts = session.net.links.map((l) => l.openedAt);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]);
    expect(gaps.slice(0, 7)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 16_000, 16_000]);
    expect(session.net.links.length).toBeLessThanOrEqual(11);
    expect(session.client.stats.attempts).toBe(session.net.links.length);
    expect(new Set(session.codes())).toEqual(new Set([name]));
    expect(session.codes().length).toBe(session.net.links.length);
    for (const link of session.net.links) expect(cmds(link.take())).toEqual(["connect"]);
    expectNoMisuse(session);
  });
});

// ---------------------------------------------------------------------------------------
// Keepalive
// ---------------------------------------------------------------------------------------

describe("keepalive", () => {
  it("sends PINGREQ when idle so that no gap between packets exceeds the keepalive [MQTT-3.1.2-23]", () => {
    const session = harness({ keepAlive: 10 });
    const link = session.start();
    // a packet sent between two timer ticks: the next PINGREQ must still be in time
    session.clock.advance(130);
    session.client.publish("t", "x", { qos: 1 });
    session.clock.advance(100_000);
    const times = link.packets.map((s) => s.at);
    const kinds = link.packets.map((s) => s.packet.cmd);
    expect(kinds.slice(0, 2)).toEqual(["connect", "publish"]);
    expect(kinds.slice(2).every((k) => k === "pingreq")).toBe(true);
    const gaps = times.slice(2).map((t, i) => t - times[i + 1]);
    expect(gaps.length).toBeGreaterThanOrEqual(9);
    for (const gap of gaps) {
      expect(gap).toBeLessThanOrEqual(10_000);
      expect(gap).toBeGreaterThanOrEqual(8_750); // not chatty either: at most one timer period (an eighth of the keepalive) early
    }
    expect(session.client.connected).toBe(true);
    expect(session.errors).toEqual([]);
  });

  it("does not ping a link that carries other packets", () => {
    const session = harness({ keepAlive: 10 });
    const link = session.start();
    for (let t = 0; t < 60_000; t += 2_000) {
      session.client.publish("t", "x", { qos: 1 }); // answered by PUBACK: both directions busy
      session.clock.advance(2_000);
    }
    expect(cmds(link.take()).filter((c) => c === "pingreq")).toEqual([]);
  });

  it("declares a link silent for 1.5 x keepalive dead: keepalive-timeout, closed, then a reconnect", () => {
    const session = harness({ keepAlive: 10, reconnect: { minDelay: 1_000, maxDelay: 4_000 } });
    session.net.autoPingresp = false;
    const link = session.start();
    session.clock.until(() => session.disconnects.length > 0, 60_000);
    expect(session.disconnects.map((e) => e.code)).toEqual(["keepalive-timeout"]);
    expect(session.codes()).toEqual(["keepalive-timeout"]);
    expect(link.closedAt).toBeGreaterThanOrEqual(15_000);
    expect(link.closedAt).toBeLessThanOrEqual(15_500);
    expect(link.status).toBe("closed");
    expect(cmds(link.take())).toEqual(["connect", "pingreq"]); // one PINGREQ, not a burst
    session.clock.advance(1_000);
    expect(session.net.links.length).toBe(2);
    expect(session.client.connected).toBe(true);
  });

  it("keeps a link alive on PINGRESP", () => {
    const session = harness({ keepAlive: 10 });
    const link = session.start();
    session.clock.advance(300_000);
    expect(session.client.connected).toBe(true);
    expect(session.net.links.length).toBe(1);
    expect(cmds(link.take()).filter((c) => c === "pingreq").length).toBeGreaterThanOrEqual(29);
    expect(session.errors).toEqual([]);
  });

  it("still pings while publishing QoS 0 constantly with no server bytes, so the link is not falsely declared dead [MQTT-3.1.2-23]", () => {
    const session = harness({ keepAlive: 10 });
    const link = session.start();
    for (let i = 0; i < 400; i++) {
      expect(session.client.publish("sensor/t", "21.5")).toBe("sent");
      session.clock.advance(250);
    }
    const seen = link.packets.filter((s) => s.packet.cmd === "pingreq").map((s) => s.at);
    expect(seen.length).toBeGreaterThanOrEqual(9);
    const gaps = seen.slice(1).map((t, i) => t - seen[i]);
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(10_500);
    expect(session.client.connected).toBe(true);
    expect(session.net.links.length).toBe(1);
    expect(session.errors).toEqual([]);
    expect(session.client.stats.sent).toBe(400);
  });

  it("declares the link dead when PINGREQ stays unanswered, even while publishing", () => {
    const session = harness({ keepAlive: 10 });
    session.net.autoPingresp = false;
    session.start();
    for (let i = 0; i < 80 && session.disconnects.length === 0; i++) {
      session.client.publish("sensor/t", "21.5");
      session.clock.advance(250);
    }
    expect(session.disconnects.map((e) => e.code)).toEqual(["keepalive-timeout"]);
    expect(session.clock.now).toBeGreaterThanOrEqual(15_000);
    expect(session.clock.now).toBeLessThanOrEqual(15_500);
  });
});

// ---------------------------------------------------------------------------------------
// Reconnect backoff
// ---------------------------------------------------------------------------------------

/** Delays between socket openings while every attempt is refused at once. */
function refusedGaps(random: () => number, attempts: number): number[] {
  const session = harness({ reconnect: { minDelay: 1_000, maxDelay: 30_000 } }, { random });
  session.net.onOpen = (link) => link.cut("connection refused");
  session.start();
  session.clock.until(() => session.net.links.length >= attempts, 10 * 60_000);
  expect(session.codes().every((c) => c === "connection-lost")).toBe(true);
  const starts = session.net.links.map((l) => l.openedAt);
  return starts.slice(1).map((t, i) => t - starts[i]);
}

describe("reconnect backoff", () => {
  it("waits minDelay when random gives 0", () => {
    expect(refusedGaps(() => 0, 10)).toEqual(new Array(9).fill(1_000));
  });

  it("waits the cap when random gives almost 1: the cap doubles per failure up to maxDelay", () => {
    expect(refusedGaps(() => ALMOST_ONE, 10)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it("spreads the delay uniformly between minDelay and the cap (full jitter)", () => {
    // minDelay + random x (cap - minDelay), cap = 1,000 x 2^failures
    expect(refusedGaps(() => 0.5, 7)).toEqual([1_000, 1_500, 2_500, 4_500, 8_500, 15_500]);
  });

  it("resets after a connection that stayed up for stableAfter, not after a shorter one", () => {
    const session = harness(
      { keepAlive: 0, reconnect: { minDelay: 1_000, maxDelay: 16_000, stableAfter: 10_000 } },
      { random: () => ALMOST_ONE },
    );
    let refuse = 4;
    session.net.onOpen = (link) => {
      if (refuse > 0) {
        refuse--;
        link.cut("connection refused");
      } else {
        link.accept();
      }
    };
    session.start();
    session.clock.until(() => session.client.connected, 60_000);
    expect(session.net.links.length).toBe(5); // gaps 1, 2, 4, 8 s
    // up for less than stableAfter: the backoff keeps growing
    session.clock.advance(5_000);
    session.net.last.cut();
    session.settle();
    let cutAt = session.clock.now;
    session.clock.until(() => session.client.connected, 60_000);
    expect(session.net.last.openedAt - cutAt).toBe(16_000);
    // up for stableAfter: the next delay is back to minDelay, then doubles again
    session.clock.advance(10_000);
    session.net.last.cut();
    session.settle();
    cutAt = session.clock.now;
    refuse = 1;
    session.clock.until(() => session.client.connected, 60_000);
    const starts = session.net.links.slice(-2).map((l) => l.openedAt);
    expect(starts[0] - cutAt).toBe(1_000);
    expect(starts[1] - starts[0]).toBe(2_000);
  });

  it("never reconnects with reconnect: false", () => {
    const session = harness({ reconnect: false });
    const link = session.start();
    link.cut();
    session.settle();
    expect(session.disconnects.map((e) => e.code)).toEqual(["connection-lost"]);
    session.clock.advance(600_000);
    expect(session.net.links.length).toBe(1);
    expect(session.client.state).toBe("closed");
    expect(session.clock.activeTimers).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------
// QoS 1: the outbox, resend and flow
// ---------------------------------------------------------------------------------------

/** Cuts the current link, waits for the next one and answers its CONNECT with this CONNACK. */
function reconnect(session: Harness, sessionPresent: boolean): Link {
  const before = session.net.links.length;
  const saved = session.net.connack;
  session.net.connack = { sessionPresent, returnCode: 0 };
  if (session.client.connected) {
    session.net.last.cut();
    session.settle();
  }
  session.clock.until(() => session.net.links.length > before && session.client.connected, 120_000);
  session.net.connack = saved;
  expect(session.client.connected).toBe(true);
  return session.net.last;
}

describe("QoS 1 publish", () => {
  it("resends unacknowledged PUBLISH in order with DUP set and the same ids when the session is present [MQTT-4.4.0-1][MQTT-3.3.1-1][MQTT-2.3.1-3][MQTT-4.6.0-1]", () => {
    const session = harness({ clean: false });
    session.net.autoPuback = false;
    const first = session.start();
    for (const text of ["one", "two", "three"]) expect(session.client.publish("log", text, { qos: 1 })).toBe("sent");
    session.settle();
    const originals = first.rawPackets().slice(1);
    expect(publishes(first.take()).map((p) => [p.messageId, p.dup])).toEqual([[1, false], [2, false], [3, false]]);
    const second = reconnect(session, true);
    expect(session.connects).toEqual([false, true]);
    const resent = second.take();
    expect(resent.map(brief)).toEqual([
      { cmd: "connect" },
      { cmd: "publish", topic: "log", payload: "one", qos: 1, dup: true, retain: false, id: 1 },
      { cmd: "publish", topic: "log", payload: "two", qos: 1, dup: true, retain: false, id: 2 },
      { cmd: "publish", topic: "log", payload: "three", qos: 1, dup: true, retain: false, id: 3 },
    ]);
    // byte for byte the original packets, with the DUP bit set in the first byte
    const again = second.rawPackets().slice(1);
    for (let i = 0; i < 3; i++) {
      expect(again[i][0]).toBe(originals[i][0] | 0x08);
      expect(again[i].subarray(1)).toEqual(originals[i].subarray(1));
    }
    expect(session.client.stats.resent).toBe(3);
    for (const id of [1, 2, 3]) second.send({ cmd: "puback", messageId: id });
    session.settle();
    expect(session.published).toEqual([1, 2, 3]);
    expect(session.client.outboxCount).toBe(0);
    expect(session.client.outboxUsed).toBe(0);
    expectNoMisuse(session);
  });

  it("resends them with DUP set and renews every subscription when the session is not present: they may have reached the broker [MQTT-3.3.1-1]", () => {
    const session = harness({ clean: false });
    session.net.autoPuback = false;
    const first = session.start();
    session.client.subscribe("cmd/#", { qos: 1 });
    session.client.subscribe("cfg", { qos: 0 });
    session.client.publish("log", "one", { qos: 1 });
    session.client.publish("log", "two", { qos: 1 });
    session.settle();
    expect(cmds(first.take())).toEqual(["connect", "subscribe", "subscribe", "publish", "publish"]);
    const second = reconnect(session, false);
    expect(second.take().map(brief)).toEqual([
      { cmd: "connect" },
      { cmd: "subscribe", id: 5, subs: [["cmd/#", 1]] },
      { cmd: "subscribe", id: 6, subs: [["cfg", 0]] },
      { cmd: "publish", topic: "log", payload: "one", qos: 1, dup: true, retain: false, id: 3 },
      { cmd: "publish", topic: "log", payload: "two", qos: 1, dup: true, retain: false, id: 4 },
    ]);
    expect(second.rawPackets()[3][0]).toBe(0x3a); // PUBLISH, DUP, QoS 1
    // with the session present, the broker still has the subscriptions: only the outbox goes again
    const third = reconnect(session, true);
    expect(third.take().map(brief)).toEqual([
      { cmd: "connect" },
      { cmd: "publish", topic: "log", payload: "one", qos: 1, dup: true, retain: false, id: 3 },
      { cmd: "publish", topic: "log", payload: "two", qos: 1, dup: true, retain: false, id: 4 },
    ]);
  });

  it("resends before anything published offline or right after the reconnect [MQTT-4.6.0-1]", () => {
    let afterConnack: PublishStatus | undefined;
    const session = harness({ clean: false });
    const client = session.client;
    session.net.autoPuback = false;
    session.start();
    client.publish("log", "a", { qos: 1 });
    client.publish("log", "b", { qos: 1 });
    session.settle();
    session.net.last.cut();
    session.settle();
    expect(client.state).toBe("waiting");
    expect(client.publish("log", "c", { qos: 1 })).toBe("queued");
    expect(client.publish("log", "d", { queue: true })).toBe("queued");
    expect(client.publish("log", "lost")).toBe("dropped");
    const before = session.net.links.length;
    session.net.onPacket = (link, packet) => {
      if (packet.cmd !== "connect") return false;
      link.send({ cmd: "connack", returnCode: 0, sessionPresent: true });
      // the very next IO callback after the CONNACK is handled publishes again
      session.loop.post(() => {
        afterConnack = client.publish("log", "e", { qos: 1 });
      });
      return true;
    };
    session.clock.until(() => session.net.links.length > before && afterConnack !== undefined, 60_000);
    session.settle();
    expect(afterConnack).toBe("sent");
    expect(session.net.last.take().map(brief)).toEqual([
      { cmd: "connect" },
      { cmd: "publish", topic: "log", payload: "a", qos: 1, dup: true, retain: false, id: 1 },
      { cmd: "publish", topic: "log", payload: "b", qos: 1, dup: true, retain: false, id: 2 },
      { cmd: "publish", topic: "log", payload: "c", qos: 1, dup: false, retain: false, id: 3 },
      { cmd: "publish", topic: "log", payload: "d", qos: 0, dup: false, retain: false },
      { cmd: "publish", topic: "log", payload: "e", qos: 1, dup: false, retain: false, id: 4 },
    ]);
  });

  it("publishes from inside onConnected go after the resends", () => {
    const statuses: PublishStatus[] = [];
    let session: Harness | undefined = undefined;
    session = harness({
      clean: false,
      onConnected: (present) => {
        if (present) statuses.push(session!.client.publish("log", "from-callback", { qos: 1 }));
      },
    });
    session.net.autoPuback = false;
    session.start();
    session.client.publish("log", "old", { qos: 1 });
    session.settle();
    const link = reconnect(session, true);
    expect(statuses).toEqual(["sent"]);
    expect(publishes(link.take()).map((p) => [Buffer.from(p.payload as Buffer).toString(), p.dup])).toEqual([
      ["old", true], ["from-callback", false],
    ]);
  });

  it("keeps at most maxInflight PUBLISH unacknowledged on the wire, sending the rest in order as PUBACKs arrive", () => {
    const session = harness({ maxInflight: 3 });
    session.net.autoPuback = false;
    const link = session.start();
    link.take();
    for (let i = 1; i <= 10; i++) expect(session.client.publish("q", "m" + i, { qos: 1 })).toBe(i <= 3 ? "sent" : "queued");
    session.settle();
    const onWire: number[] = [];
    let out = publishes(link.take()).map((p) => p.messageId!);
    expect(out).toEqual([1, 2, 3]);
    onWire.push(...out);
    while (onWire.length < 10) {
      link.send({ cmd: "puback", messageId: onWire[session.published.length] });
      session.settle();
      out = publishes(link.take()).map((p) => p.messageId!);
      expect(out.length).toBeLessThanOrEqual(1);
      onWire.push(...out);
      expect(onWire.length - session.published.length).toBeLessThanOrEqual(3);
    }
    expect(onWire).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("returns outbox-full at once when the outbox bytes are used up, changing nothing", () => {
    const session = harness({ outboxBytes: 100, maxInflight: 16 });
    session.net.autoPuback = false;
    const link = session.start();
    link.take();
    const payload = new Uint8Array(20); // 2 + 1 + 2 + 20 + 2 header = 27 bytes a packet
    expect(session.client.publish("t", payload, { qos: 1 })).toBe("sent");
    expect(session.client.publish("t", payload, { qos: 1 })).toBe("sent");
    expect(session.client.publish("t", payload, { qos: 1 })).toBe("sent");
    session.settle();
    expect(publishes(link.take()).length).toBe(3);
    const stats = { ...session.client.stats };
    const used = session.client.outboxUsed;
    expect(used).toBe(81);
    expect(session.client.publish("t", payload, { qos: 1 })).toBe("outbox-full");
    session.settle();
    expect(session.client.outboxUsed).toBe(used);
    expect(session.client.outboxCount).toBe(3);
    expect(session.client.stats).toEqual(stats);
    expect(link.take()).toEqual([]);
    // a smaller message still fits; the refused ones took no packet id
    expect(session.client.publish("t", new Uint8Array(10), { qos: 1 })).toBe("sent");
    link.send({ cmd: "puback", messageId: 1 });
    session.settle();
    expect(session.client.publish("t", payload, { qos: 1 })).toBe("sent");
    session.settle();
    expect(publishes(link.take()).map((p) => p.messageId)).toEqual([4, 5]);
  });

  it("returns outbox-full at once when the outbox message count is used up, changing nothing", () => {
    const session = harness({ outboxMessages: 3, outboxBytes: 10_000 });
    session.net.autoPuback = false;
    const link = session.start();
    link.take();
    for (let i = 0; i < 3; i++) expect(session.client.publish("t", "x", { qos: 1 })).toBe("sent");
    const stats = { ...session.client.stats };
    const used = session.client.outboxUsed;
    expect(session.client.publish("t", "x", { qos: 1 })).toBe("outbox-full");
    expect(session.client.outboxCount).toBe(3);
    expect(session.client.outboxUsed).toBe(used);
    expect(session.client.stats).toEqual(stats);
    link.send({ cmd: "puback", messageId: 1 });
    session.settle();
    expect(session.client.publish("t", "x", { qos: 1 })).toBe("sent");
    session.settle();
    expect(publishes(link.take()).map((p) => p.messageId)).toEqual([1, 2, 3, 4]);
  });

  it("calls onReady once after a refused publish, when the connection has room again, and not before", () => {
    let ready = 0;
    const session = harness({ outboxMessages: 4, outboxBytes: 10_000, onReady: () => ready++ });
    session.net.autoPuback = false;
    expect(session.client.publish("t", "offline")).toBe("dropped");
    const link = session.start();
    link.take();
    expect(ready).toBe(1); // connected with room: the refused publisher may go on
    for (const payload of ["a", "b", "c", "d"]) expect(session.client.publish("t", payload, { qos: 1 })).toBe("sent");
    expect(session.client.publish("t", "e", { qos: 1 })).toBe("outbox-full");
    session.settle();
    expect(ready).toBe(1); // still full: nothing to say yet
    link.send({ cmd: "puback", messageId: 1 });
    session.settle();
    expect(ready).toBe(1); // one entry free, but the outbox is not yet half free
    link.send({ cmd: "puback", messageId: 2 });
    session.settle();
    expect(ready).toBe(2);
    expect(session.client.publish("t", "e", { qos: 1 })).toBe("sent");
    link.send({ cmd: "puback", messageId: 3 });
    session.settle();
    expect(ready).toBe(2); // no refusal since: no call
  });

  it("drops QoS 0 while offline and counts it; queues it with {queue: true} and sends it on connect", () => {
    const session = harness();
    expect(session.client.publish("t", "before-connect")).toBe("dropped");
    expect(session.client.stats.dropped).toBe(1);
    expect(session.client.publish("t", "kept-1", { queue: true })).toBe("queued");
    expect(session.client.publish("t", "kept-2", { qos: 0, queue: true, retain: true })).toBe("queued");
    expect(session.client.outboxCount).toBe(2);
    session.net.connack = null;
    const link = session.start();
    expect(session.client.publish("t", "while-connecting")).toBe("dropped");
    expect(session.client.stats.dropped).toBe(2);
    link.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
    session.settle();
    expect(link.take().map(brief)).toEqual([
      { cmd: "connect" },
      { cmd: "publish", topic: "t", payload: "kept-1", qos: 0, dup: false, retain: false },
      { cmd: "publish", topic: "t", payload: "kept-2", qos: 0, dup: false, retain: true },
    ]);
    expect(session.client.outboxCount).toBe(0);
    expect(session.client.stats.sent).toBe(2);
    // once written, a QoS 0 message is never sent again
    const next = reconnect(session, false);
    expect(cmds(next.take())).toEqual(["connect"]);
  });

  it("resends the unacknowledged messages after a PUBACK out of order, and not the acknowledged one [MQTT-4.4.0-1]", () => {
    const session = harness({ clean: false });
    session.net.autoPuback = false;
    const first = session.start();
    for (const text of ["a", "b", "c"]) session.client.publish("log", text, { qos: 1 });
    session.settle();
    first.send({ cmd: "puback", messageId: 2 });
    session.settle();
    expect(session.published).toEqual([2]);
    const second = reconnect(session, true);
    expect(publishes(second.take()).map((p) => [p.messageId, Buffer.from(p.payload as Buffer).toString(), p.dup])).toEqual([
      [1, "a", true], [3, "c", true],
    ]);
    second.send({ cmd: "puback", messageId: 1 });
    second.send({ cmd: "puback", messageId: 3 });
    session.settle();
    expect(session.published).toEqual([2, 1, 3]);
    expect(session.client.outboxCount).toBe(0);
    expect(session.codes()).toEqual(["connection-lost"]); // the cut
  });

  it("resends QoS 1 messages queued around a written QoS 0 one, and never the QoS 0 one", () => {
    const session = harness({ clean: false });
    session.net.autoPuback = false;
    session.net.connack = null;
    const first = session.start();
    session.client.publish("log", "q1-a", { qos: 1 });
    session.client.publish("log", "q0-b", { queue: true });
    session.client.publish("log", "q1-c", { qos: 1 });
    first.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
    session.settle();
    expect(publishes(first.take()).map((p) => Buffer.from(p.payload as Buffer).toString())).toEqual(["q1-a", "q0-b", "q1-c"]);
    session.net.connack = { sessionPresent: false, returnCode: 0 };
    const second = reconnect(session, true);
    expect(publishes(second.take()).map((p) => [Buffer.from(p.payload as Buffer).toString(), p.qos, p.dup])).toEqual([
      ["q1-a", 1, true], ["q1-c", 1, true],
    ]);
    second.send({ cmd: "puback", messageId: 1 });
    second.send({ cmd: "puback", messageId: 2 });
    session.settle();
    expect(session.client.outboxCount).toBe(0);
    expect(session.codes()).toEqual(["connection-lost"]); // the cut
  });
});

// ---------------------------------------------------------------------------------------
// Packet identifiers
// ---------------------------------------------------------------------------------------

describe("packet identifiers", () => {
  it("wraps from 65,535 to 1 over 65,536 acknowledged publishes, never 0, skipping an id still in use [MQTT-2.3.1-1][MQTT-2.3.1-2]", () => {
    const session = harness({ keepAlive: 0 });
    session.net.autoSuback = false;
    const link = session.start();
    // a SUBSCRIBE whose SUBACK never comes holds packet id 1
    session.client.subscribe("held/#");
    session.settle();
    expect(link.take().map(brief)).toEqual([{ cmd: "connect" }, { cmd: "subscribe", id: 1, subs: [["held/#", 0]] }]);
    const ids: number[] = [];
    const inFlight = new Set<number>([1]);
    let collisions = 0;
    session.net.onPacket = (link, packet) => {
      if (packet.cmd !== "publish") return false;
      const id = packet.messageId!;
      if (inFlight.has(id)) collisions++;
      inFlight.add(id);
      ids.push(id);
      link.send({ cmd: "puback", messageId: id });
      session.loop.post(() => inFlight.delete(id)); // acknowledged once the PUBACK was handled
      return true;
    };
    const payload = new Uint8Array(1);
    const topic = session.client.prepareTopic("n");
    // eight in flight at a time, then their PUBACKs
    for (let i = 0; i < 65_536; i += 8) {
      for (let j = 0; j < 8; j++) session.client.publish(topic, payload, { qos: 1 });
      session.settle();
    }
    expect(collisions).toBe(0);
    expect(ids.length).toBe(65_536);
    expect(ids.indexOf(0)).toBe(-1);
    expect(ids.slice(0, 3)).toEqual([2, 3, 4]);
    expect(ids.slice(65_532)).toEqual([65_534, 65_535, 2, 3]);
    let gaps = 0;
    for (let i = 1; i < 65_534; i++) if (ids[i] !== ids[i - 1] + 1) gaps++;
    expect(gaps).toBe(0); // 2, 3, ... 65,535 in a row
    expect(session.published.length).toBe(65_536);
    expect(session.client.stats.acknowledged).toBe(65_536);
    expect(session.client.outboxCount).toBe(0);
    expect(session.client.connected).toBe(true);
  });

  it("skips the id of a PUBLISH still in flight after wrapping around [MQTT-2.3.1-2]", () => {
    const session = harness({ keepAlive: 0 });
    session.net.autoPuback = false;
    const link = session.start();
    session.client.publish("held", "x", { qos: 1 }); // id 1, never acknowledged here
    session.settle();
    const ids: number[] = [];
    session.net.onPacket = (_l, packet) => {
      if (packet.cmd === "subscribe" || packet.cmd === "unsubscribe") ids.push(packet.messageId!);
      return false;
    };
    // each cycle spends two ids, SUBSCRIBE then UNSUBSCRIBE; eight cycles before their acks
    for (let i = 0; i < 32_768; i += 8) {
      for (let j = 0; j < 8; j++) {
        session.client.subscribe("s");
        session.client.unsubscribe("s");
      }
      session.settle();
    }
    expect(ids.length).toBe(65_536);
    expect(ids.slice(0, 2)).toEqual([2, 3]);
    expect(ids.slice(65_532)).toEqual([65_534, 65_535, 2, 3]);
    expect(ids.indexOf(1)).toBe(-1);
    expect(ids.indexOf(0)).toBe(-1);
    link.send({ cmd: "puback", messageId: 1 });
    session.settle();
    expect(session.published).toEqual([1]);
    expect(session.errors).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// Incoming messages
// ---------------------------------------------------------------------------------------

describe("incoming messages", () => {
  it("skips a PUBLISH bigger than receiveBufferSize: stats.oversize, oversize-skipped, still PUBACKed, connection kept, next one delivered", () => {
    const session = harness({ receiveBufferSize: 64 });
    const link = session.start();
    session.client.subscribe("in/#", { qos: 1 });
    session.settle();
    link.take();
    link.send({ cmd: "publish", topic: "in/big", payload: Buffer.alloc(300, 0x61), qos: 1, messageId: 7, dup: false, retain: false });
    // the next one arrives in small pieces right behind it
    const next = mqtt.generate({ cmd: "publish", topic: "in/small", payload: Buffer.from("ok"), qos: 1, messageId: 8, dup: false, retain: false }, { protocolVersion: 4 });
    for (let i = 0; i < next.length; i += 3) link.deliver(next.subarray(i, i + 3));
    session.settle();
    expect(session.client.stats.oversize).toBe(1);
    expect(session.codes()).toEqual(["oversize-skipped"]);
    expect(link.take().map(brief)).toEqual([{ cmd: "puback", id: 7 }, { cmd: "puback", id: 8 }]);
    expect(session.messages.map((m) => [m.topic, m.payload.toString(), m.qos])).toEqual([["in/small", "ok", 1]]);
    expect(session.client.connected).toBe(true);
    expect(session.disconnects).toEqual([]);
    expect(session.net.links.length).toBe(1);
  });

  it("skips an oversize QoS 0 PUBLISH split across many reads and stays in sync", () => {
    const session = harness({ receiveBufferSize: 32 });
    const link = session.start();
    session.client.subscribe("#");
    session.settle();
    link.take();
    const big = mqtt.generate({ cmd: "publish", topic: "a", payload: Buffer.alloc(5_000, 1), qos: 0, dup: false, retain: false }, { protocolVersion: 4 });
    const small = mqtt.generate({ cmd: "publish", topic: "b", payload: Buffer.from("fine"), qos: 0, dup: false, retain: false }, { protocolVersion: 4 });
    const stream = Buffer.concat([big, small, big, small]);
    for (let i = 0; i < stream.length; i += 97) link.deliver(stream.subarray(i, i + 97));
    session.settle();
    expect(session.client.stats.oversize).toBe(2);
    expect(session.messages.map((m) => m.payload.toString())).toEqual(["fine", "fine"]);
    expect(link.take()).toEqual([]);
    expect(session.client.connected).toBe(true);
  });

  it("acknowledges QoS 1 messages in the order received, holding back reads while the send window is shut [MQTT-4.6.0-2]", () => {
    const session = harness({ transmitBufferSize: 64 }, { window: 8, autoDrain: false });
    const link = session.start();
    link.drain();
    session.client.subscribe("in/+", { qos: 1 });
    session.settle();
    for (let step = 0; step < 20; step++) {
      link.drain();
      session.settle();
    }
    link.take();
    for (let id = 1; id <= 40; id++) {
      link.send({ cmd: "publish", topic: "in/" + id, payload: Buffer.from("v" + id), qos: 1, messageId: id, dup: false, retain: false });
    }
    for (let step = 0; step < 100; step++) {
      link.drain();
      session.settle();
    }
    expect(link.take().map(brief)).toEqual(Array.from({ length: 40 }, (_, i) => ({ cmd: "puback", id: i + 1 })));
    expect(session.messages.map((m) => m.payload.toString())).toEqual(Array.from({ length: 40 }, (_, i) => "v" + (i + 1)));
    expect(link.writes.every((n) => n <= 8)).toBe(true);
    expect(session.errors).toEqual([]);
    expectNoMisuse(session);
  });

  it("delivers to the matching subscription handlers and to onMessage", () => {
    const got: string[] = [];
    const session = harness();
    const link = session.start();
    session.client.subscribe("home/+/temp", { qos: 1 }, (m) => got.push("wild:" + m.topic + "=" + m.text()));
    session.client.subscribe("home/kitchen/temp", { qos: 0 }, (m) => got.push("exact:" + m.topic));
    session.settle();
    link.send({ cmd: "publish", topic: "home/kitchen/temp", payload: Buffer.from("21"), qos: 0, dup: false, retain: true });
    link.send({ cmd: "publish", topic: "home/hall/temp", payload: Buffer.from("19"), qos: 1, messageId: 9, dup: true, retain: false });
    session.settle();
    expect(got).toEqual(["wild:home/kitchen/temp=21", "exact:home/kitchen/temp", "wild:home/hall/temp=19"]);
    expect(session.messages.map((m) => [m.topic, m.qos, m.retain, m.dup, m.packetId])).toEqual([
      ["home/kitchen/temp", 0, true, false, 0], ["home/hall/temp", 1, false, true, 9],
    ]);
    expect(brief(link.take().pop()!)).toEqual({ cmd: "puback", id: 9 });
  });
});

// ---------------------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------------------

describe("subscriptions", () => {
  it("reports a refused subscription (SUBACK 0x80) and frees its slot", () => {
    const session = harness({ maxSubscriptions: 1 });
    session.net.autoSuback = false;
    const link = session.start();
    session.client.subscribe("secret/#", { qos: 1 });
    session.settle();
    const [sub] = link.take().filter((p) => p.cmd === "subscribe");
    link.send({ cmd: "suback", messageId: sub.messageId!, granted: [0x80] });
    session.settle();
    expect(session.codes()).toEqual(["subscription-refused"]);
    expect(session.client.connected).toBe(true);
    session.client.subscribe("open/#"); // the only slot is free again
    session.settle();
    expect(link.take().map(brief)).toEqual([{ cmd: "subscribe", id: 2, subs: [["open/#", 0]] }]);
  });

  it("subscribing again to a filter whose SUBACK is still due keeps its packet id known, then sends the new QoS [MQTT-2.3.1-2]", () => {
    const granted: [string, number][] = [];
    const session = harness({ onSubscribed: (f, q) => granted.push([f, q]) });
    session.net.autoSuback = false;
    const link = session.start();
    link.take();
    session.client.subscribe("cmd/#", { qos: 0 });
    session.client.subscribe("cmd/#", { qos: 1 }); // changed its mind before the SUBACK
    session.client.publish("x", "y", { qos: 1 });
    session.settle();
    const answer = () => {
      const sent = link.take().map(brief);
      for (const packet of sent.filter((x) => x.cmd === "subscribe")) {
        link.send({ cmd: "suback", messageId: packet.id as number, granted: [(packet.subs as [string, number][])[0][1]] });
      }
      session.settle();
      return sent;
    };
    const first = answer();
    const second = answer();
    expect(answer()).toEqual([]);
    const written = [...first, ...second];
    const ids = written.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length); // no id used twice
    expect(written.filter((p) => p.cmd === "subscribe").map((p) => p.subs)).toEqual([[["cmd/#", 0]], [["cmd/#", 1]]]);
    expect(session.codes()).toEqual([]);
    expect(session.client.connected).toBe(true);
    expect(granted).toEqual([["cmd/#", 1]]);
    // the subscription stands, with the QoS asked last
    link.send({ cmd: "publish", topic: "cmd/led", payload: Buffer.from("on"), qos: 1, messageId: 11, dup: false, retain: false });
    session.settle();
    expect(session.messages.map((m) => m.topic)).toEqual(["cmd/led"]);
    const renewed = reconnect(session, false);
    expect(renewed.take().map(brief).filter((p) => p.cmd === "subscribe").map((p) => p.subs)).toEqual([[["cmd/#", 1]]]);
  });

  it("never leaves an UNSUBSCRIBE untracked: more unsubscribes than the table holds, all UNSUBACKed", () => {
    const session = harness({ maxSubscriptions: 2 });
    session.net.autoUnsuback = false;
    const link = session.start();
    for (let i = 0; i < 4; i++) {
      session.client.subscribe("toggle");
      session.settle();
      session.client.unsubscribe("toggle");
      session.settle();
    }
    const unsubs = link.take().filter((p) => p.cmd === "unsubscribe");
    const all = link.packets.map((s) => s.packet).filter((p) => p.cmd === "subscribe" || p.cmd === "unsubscribe").map((p) => p.messageId);
    expect(new Set(all).size).toBe(all.length);
    for (const p of unsubs) link.send({ cmd: "unsuback", messageId: p.messageId!, granted: [] });
    session.settle();
    expect(session.codes()).toEqual([]);
    expect(session.client.connected).toBe(true);
  });
});

describe("QoS 2, both ways", () => {
  it("publish: PUBLISH, PUBREC, PUBREL, PUBCOMP; onPublished and stats at the PUBCOMP, the id free after it [MQTT-4.3.3-1][MQTT-4.3.3-3]", () => {
    const session = harness();
    const link = session.start();
    link.take();
    expect(session.client.publish("q2/t", "exactly once", { qos: 2 })).toBe("sent");
    const id = session.client.lastPacketId;
    session.settle();
    expect(link.take().map(brief)).toEqual([{ cmd: "publish", topic: "q2/t", payload: "exactly once", qos: 2, dup: false, retain: false, id }]);
    link.send({ cmd: "pubrec", messageId: id });
    session.settle();
    expect(link.take().map((p) => [p.cmd, p.messageId])).toEqual([["pubrel", id]]);
    expect(link.rawPackets().at(-1)).toEqual(Buffer.from([0x62, 0x02, 0x00, id])); // PUBREL flags 0010 [MQTT-3.6.1-1]
    expect(session.published).toEqual([]);
    expect(session.client.outboxCount).toBe(1);
    link.send({ cmd: "pubcomp", messageId: id });
    session.settle();
    expect(session.published).toEqual([id]);
    expect(session.client.outboxCount).toBe(0);
    expect(session.client.stats.acknowledged).toBe(1);
    expect(session.codes()).toEqual([]);
  });

  it("after a reconnect with the session kept: an unreleased message goes again with DUP, a released one gets its PUBREL again, not the PUBLISH [MQTT-4.4.0-1]", () => {
    const session = harness({ clean: false });
    const first = session.start();
    session.client.publish("q2/a", "a", { qos: 2 });
    session.client.publish("q2/b", "b", { qos: 2 });
    session.settle();
    const [a, b] = publishes(first.take()).map((p) => p.messageId!);
    first.send({ cmd: "pubrec", messageId: a });
    session.settle();
    expect(cmds(first.take())).toEqual(["pubrel"]);
    const second = reconnect(session, true);
    expect(second.take().map((p) => p.cmd === "publish" ? brief(p) : [p.cmd, p.messageId])).toEqual([
      ["connect", undefined],
      ["pubrel", a],
      { cmd: "publish", topic: "q2/b", payload: "b", qos: 2, dup: true, retain: false, id: b },
    ]);
    second.send({ cmd: "pubcomp", messageId: a });
    second.send({ cmd: "pubrec", messageId: b });
    session.settle();
    second.send({ cmd: "pubcomp", messageId: b });
    session.settle();
    expect(session.published).toEqual([a, b]);
    expect(session.client.outboxCount).toBe(0);
  });

  it("receive: delivered once, PUBREC for it and for every copy sent again before the PUBREL, even across a reconnect with the session kept; PUBCOMP for the PUBREL [MQTT-4.3.3-2]", () => {
    const session = harness({ clean: false });
    const first = session.start();
    session.client.subscribe("in/#", { qos: 2 });
    session.settle();
    first.take();
    const publish = (dup: boolean): mqtt.IPublishPacket => ({ cmd: "publish", topic: "in/x", payload: Buffer.from("once"), qos: 2, messageId: 9, dup, retain: false });
    first.send(publish(false));
    session.settle();
    expect(session.messages.map((m) => [m.topic, m.qos, m.payload.toString()])).toEqual([["in/x", 2, "once"]]);
    expect(first.take().map((p) => [p.cmd, p.messageId])).toEqual([["pubrec", 9]]);
    first.send(publish(true));
    session.settle();
    const second = reconnect(session, true);
    second.take();
    second.send(publish(true));
    session.settle();
    expect(second.take().map((p) => [p.cmd, p.messageId])).toEqual([["pubrec", 9]]);
    expect(session.messages.length).toBe(1);
    second.send({ cmd: "pubrel", messageId: 9 });
    session.settle();
    expect(second.take().map((p) => [p.cmd, p.messageId])).toEqual([["pubcomp", 9]]);
    second.send(publish(false)); // id 9 again after its PUBREL: a new message
    session.settle();
    expect(session.messages.length).toBe(2);
  });

  it("a new session forgets the ids awaiting PUBREL: the same id is a new message", () => {
    const session = harness({ clean: false });
    const first = session.start();
    first.send({ cmd: "publish", topic: "in/x", payload: Buffer.from("1"), qos: 2, messageId: 4, dup: false, retain: false });
    session.settle();
    const second = reconnect(session, false);
    second.send({ cmd: "publish", topic: "in/x", payload: Buffer.from("2"), qos: 2, messageId: 4, dup: false, retain: false });
    session.settle();
    expect(session.messages.map((m) => m.payload.toString())).toEqual(["1", "2"]);
  });

  it("more messages awaiting PUBREL than maxInflight: qos2-table-full, the connection dropped and reopened", () => {
    const session = harness({ clean: false, maxInflight: 2, reconnect: { minDelay: 1_000, maxDelay: 2_000 } });
    const link = session.start();
    for (const id of [1, 2, 3]) link.send({ cmd: "publish", topic: "in/x", payload: Buffer.from(String(id)), qos: 2, messageId: id, dup: false, retain: false });
    session.settle();
    expect(session.messages.map((m) => m.payload.toString())).toEqual(["1", "2"]);
    expect(session.codes()).toEqual(["qos2-table-full"]);
    expect(link.status).toBe("closed");
  });

  it("a PUBREC or PUBCOMP for no message awaiting it is a stray-ack: counted, reported, the connection stays", () => {
    const session = harness();
    const link = session.start();
    session.client.publish("q1", "x", { qos: 1 });
    session.settle();
    const [q1] = publishes(link.take()).map((p) => p.messageId!);
    link.send({ cmd: "pubrec", messageId: q1 }); // a QoS 1 message gets no PUBREC
    link.send({ cmd: "pubcomp", messageId: 77 });
    session.settle();
    expect(session.codes()).toEqual(["stray-ack", "stray-ack"]);
    expect(session.client.stats.strayAcks).toBe(2);
    expect(session.client.connected).toBe(true);
  });
});

describe("unsubscribing, UNSUBACK and the packet id of a publish", () => {
  it("unsubscribe() of a filter not subscribed in this run still sends UNSUBSCRIBE (a kept session may hold it from an earlier boot), and onUnsubscribed reports its UNSUBACK", () => {
    const unsubscribed: string[] = [];
    const session = harness({ clean: false, onUnsubscribed: (filter) => unsubscribed.push(filter) });
    session.net.autoUnsuback = false;
    session.client.unsubscribe("old/boot/#"); // offline: remembered, sent once connected
    const link = session.start();
    const [unsubscribe] = link.take().filter((p) => p.cmd === "unsubscribe").map(brief);
    expect(unsubscribe).toEqual({ cmd: "unsubscribe", id: 1, filters: ["old/boot/#"] });
    expect(unsubscribed).toEqual([]);
    link.send({ cmd: "unsuback", messageId: 1, granted: [] });
    session.settle();
    expect(unsubscribed).toEqual(["old/boot/#"]);
    expect(session.codes()).toEqual([]);
    session.client.subscribe("a");
    session.settle();
    session.client.unsubscribe("a");
    session.settle();
    const [second] = link.take().filter((p) => p.cmd === "unsubscribe");
    link.send({ cmd: "unsuback", messageId: second.messageId!, granted: [] });
    session.settle();
    expect(unsubscribed).toEqual(["old/boot/#", "a"]);
  });

  it("unsubscribe() validates its filter: filter-invalid thrown, nothing sent [MQTT-4.7.1-2][MQTT-4.7.1-3]", () => {
    const session = harness();
    const link = session.start();
    link.take();
    for (const bad of ["a/#/b", "a+", ""]) {
      expect(() => session.client.unsubscribe(bad)).toThrow(expect.objectContaining({ code: "filter-invalid" }));
    }
    session.settle();
    expect(link.take()).toEqual([]);
  });

  it("unsubscribe() with every slot taken throws too-many-subscriptions and sends nothing", () => {
    const session = harness({ maxSubscriptions: 1 });
    const link = session.start();
    session.client.subscribe("kept");
    session.settle();
    link.take();
    expect(() => session.client.unsubscribe("other")).toThrow(expect.objectContaining({ code: "too-many-subscriptions" }));
    session.settle();
    expect(link.take()).toEqual([]);
  });

  it("lastPacketId: the id of the last QoS 1 message publish() took, the one onPublished reports; 0 after QoS 0 or a refusal", () => {
    const session = harness({ outboxMessages: 2 });
    session.net.autoPuback = false;
    const link = session.start();
    expect(session.client.lastPacketId).toBe(0);
    expect(session.client.publish("t", "one", { qos: 1 })).toBe("sent");
    const first = session.client.lastPacketId;
    expect(session.client.publish("t", "two", { qos: 1 })).toBe("sent");
    const second = session.client.lastPacketId;
    session.settle();
    expect(publishes(link.take()).map((p) => p.messageId)).toEqual([first, second]);
    expect(first).not.toBe(second);
    expect(session.client.publish("t", "three", { qos: 1 })).toBe("outbox-full");
    expect(session.client.lastPacketId).toBe(0);
    link.send({ cmd: "puback", messageId: second });
    session.settle();
    expect(session.published).toEqual([second]);
    expect(session.client.publish("t", "q0")).toBe("sent");
    expect(session.client.lastPacketId).toBe(0);
    expect(() => session.client.publish("t/+", "bad", { qos: 1 })).toThrow();
    expect(session.client.lastPacketId).toBe(0); // bad input changes nothing
  });

  it("a PUBACK for a packet id not in flight is counted and reported as stray-ack; the connection stays", () => {
    const session = harness();
    session.net.autoPuback = false;
    const link = session.start();
    session.client.publish("t", "one", { qos: 1 });
    session.settle();
    link.take();
    link.send({ cmd: "puback", messageId: 999 });
    link.send({ cmd: "puback", messageId: 1 });
    link.send({ cmd: "puback", messageId: 1 }); // a repeat
    session.settle();
    expect(session.codes()).toEqual(["stray-ack", "stray-ack"]);
    expect(session.errors[0].message).toContain("999");
    expect(session.client.stats.strayAcks).toBe(2);
    expect(session.published).toEqual([1]);
    expect(session.client.connected).toBe(true);
    expect(session.disconnects).toEqual([]);
    expect(session.net.links.length).toBe(1);
  });

  it("CONNACK with session present in answer to a clean session is a protocol-violation [MQTT-3.2.2-1]", () => {
    const session = harness({ clean: true, reconnect: { minDelay: 1_000, maxDelay: 2_000 } });
    session.net.connack = { sessionPresent: true, returnCode: 0 };
    const link = session.start();
    expect(session.codes()).toEqual(["protocol-violation"]);
    expect(session.errors[0].message).toContain("MQTT-3.2.2-1");
    expect(session.connects).toEqual([]);
    expect(link.status).toBe("closed");
    const kept = harness({ clean: false });
    kept.net.connack = { sessionPresent: true, returnCode: 0 };
    kept.start();
    expect(kept.connects).toEqual([true]); // with clean: false the same CONNACK is fine
  });
});

// ---------------------------------------------------------------------------------------
// Protocol violations by the peer
// ---------------------------------------------------------------------------------------

const gen = (packet: mqtt.Packet): Buffer => mqtt.generate(packet, { protocolVersion: 4 });

const violations: [string, Buffer][] = [
  ["a second CONNACK", gen({ cmd: "connack", returnCode: 0, sessionPresent: false })],
  ["an unsolicited SUBACK", gen({ cmd: "suback", messageId: 42, granted: [0] })],
  ["an unsolicited UNSUBACK", gen({ cmd: "unsuback", messageId: 43, granted: [] })],
  ["a malformed PUBACK (reserved flags) [MQTT-2.2.2-2]", Buffer.from([0x41, 0x02, 0x00, 0x01])],
  ["a malformed remaining length (5 bytes)", Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f])],
  ["a packet type only clients send (CONNECT)", gen({ cmd: "connect", clientId: "x", protocolId: "MQTT", protocolVersion: 4 })],
  ["a PUBLISH with a wildcard topic [MQTT-3.3.2-2]", Buffer.from([0x30, 0x05, 0x00, 0x03, 0x61, 0x2f, 0x2b])],
  ["a PUBACK of the wrong length", Buffer.from([0x40, 0x03, 0x00, 0x01, 0x00])],
];

describe("protocol violations by the peer", () => {
  it.each(violations)("%s: protocol-violation via onError and onDisconnected, socket closed, then a reconnect [MQTT-4.8.0-1]", (_name, bytes) => {
    const session = harness({ reconnect: { minDelay: 1_000, maxDelay: 2_000 } });
    const link = session.start();
    session.client.subscribe("in/#", { qos: 1 });
    session.settle();
    link.take();
    link.deliver(bytes);
    session.settle();
    expect(session.codes()).toEqual(["protocol-violation"]);
    expect(session.disconnects.map((e) => e.code)).toEqual(["protocol-violation"]);
    expect(link.status).toBe("closed");
    expect(session.messages).toEqual([]);
    expect(link.take()).toEqual([]); // nothing answers a violation
    session.clock.advance(1_000);
    expect(session.net.links.length).toBe(2);
    expect(session.client.connected).toBe(true);
    expect(cmds(session.net.last.take())).toEqual(["connect", "subscribe"]);
    expectNoMisuse(session);
  });

  it("names the decoder's finding in the protocol-violation message", () => {
    const session = harness();
    const link = session.start();
    link.deliver(Buffer.from([0x41, 0x02, 0x00, 0x01]));
    session.settle();
    expect(session.errors[0].code).toBe("protocol-violation");
    expect(session.errors[0].message).toContain("reserved-flags");
  });

  it("treats a PUBLISH before CONNACK as a violation of the handshake", () => {
    const session = harness({ reconnect: { minDelay: 1_000, maxDelay: 2_000 } });
    session.net.connack = null;
    session.client.subscribe("#");
    const link = session.start();
    link.send({ cmd: "publish", topic: "early", payload: Buffer.from("x"), qos: 0, dup: false, retain: false });
    session.settle();
    expect(session.codes()).toEqual(["protocol-violation"]);
    expect(session.disconnects).toEqual([]);
    expect(session.messages).toEqual([]);
    expect(link.status).toBe("closed");
  });

  it("keeps the outbox across a violation and resends it", () => {
    const session = harness({ clean: false });
    session.net.autoPuback = false;
    const link = session.start();
    session.client.publish("log", "keep", { qos: 1 });
    session.settle();
    link.send({ cmd: "unsuback", messageId: 77, granted: [] });
    session.settle();
    expect(session.codes()).toEqual(["protocol-violation"]);
    session.net.connack = { sessionPresent: true, returnCode: 0 };
    session.clock.until(() => session.client.connected, 60_000);
    expect(publishes(session.net.last.take()).map((p) => [p.messageId, p.dup])).toEqual([[1, true]]);
  });
});

// ---------------------------------------------------------------------------------------
// The send window
// ---------------------------------------------------------------------------------------

describe("the send window", () => {
  it("writes a 1,500-byte PUBLISH in pieces of at most the writable count as onWritable arrives, losing and reordering nothing", () => {
    const session = harness({ transmitBufferSize: 2_048, outboxBytes: 4_096 }, { window: 100, autoDrain: false });
    const link = session.start();
    link.drain(); // the CONNECT went out
    session.settle();
    expect(session.client.connected).toBe(true);
    link.take();
    const big = Uint8Array.from({ length: 1_500 }, (_, i) => (i * 7) & 0xff);
    expect(session.client.publish("bulk", big, { qos: 1 })).toBe("sent");
    expect(session.client.publish("small", "after-big")).toBe("sent");
    expect(session.client.publish("bulk", big.subarray(0, 300), { qos: 1 })).toBe("sent");
    session.settle();
    for (let i = 0; i < 30; i++) {
      link.drain();
      session.settle();
    }
    expect(link.writes.every((n) => n <= 100)).toBe(true);
    expect(link.writes.length).toBeGreaterThanOrEqual(19); // 1,850 bytes could not go in fewer
    const all = publishes(link.packets.map((s) => s.packet));
    expect(all.map((p) => [p.topic, p.qos, (p.payload as Buffer).length])).toEqual([
      ["bulk", 1, 1_500], ["small", 0, 9], ["bulk", 1, 300],
    ]);
    expect(Buffer.from(all[0].payload as Buffer)).toEqual(Buffer.from(big));
    expect(Buffer.from(all[2].payload as Buffer)).toEqual(Buffer.from(big.subarray(0, 300)));
    expect(session.errors).toEqual([]);
    expectNoMisuse(session);
  });

  it("writes exactly the accepted packets, in order, whatever the writable counts (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant("publish" as const), qos: fc.constantFrom(0, 1), size: fc.integer({ min: 0, max: 700 }) }),
            fc.record({ kind: fc.constant("drain" as const), count: fc.integer({ min: 0, max: 300 }) }),
          ),
          { maxLength: 40 },
        ),
        (steps) => {
          const session = harness({ transmitBufferSize: 1_024, outboxBytes: 4_096 }, { window: 64, autoDrain: false });
          const link = session.start();
          link.drain();
          session.settle();
          const accepted: string[] = [];
          let count = 0;
          for (const step of steps) {
            if (step.kind === "drain") {
              link.drain(step.count);
              session.settle();
              continue;
            }
            const text = String(count++).padEnd(step.size, ".");
            const status = session.client.publish("w", text, { qos: step.qos });
            if (status === "sent" || status === "queued") accepted.push(text);
          }
          // drain until a drain writes nothing more
          for (let writes = -1; writes !== link.writes.length;) {
            writes = link.writes.length;
            link.drain(512);
            session.settle();
          }
          const written = publishes(link.packets.map((s) => s.packet)).map((p) => Buffer.from(p.payload as Buffer).toString());
          expect(written).toEqual(accepted);
          expect(session.errors).toEqual([]);
          expectNoMisuse(session);
        },
      ),
      { numRuns: 60 },
    );
  });
});

// ---------------------------------------------------------------------------------------
// Handlers that throw
// ---------------------------------------------------------------------------------------

describe("handlers that throw", () => {
  it("reports handler-threw, keeps working and still acknowledges QoS 1", () => {
    const session = harness();
    const link = session.start();
    const seen: string[] = [];
    session.client.subscribe("in/#", { qos: 1 }, (message) => {
      seen.push(message.text());
      if (message.text() === "boom") throw new Error("handler bug");
    });
    session.settle();
    link.take();
    link.send({ cmd: "publish", topic: "in/a", payload: Buffer.from("boom"), qos: 1, messageId: 3, dup: false, retain: false });
    link.send({ cmd: "publish", topic: "in/a", payload: Buffer.from("fine"), qos: 1, messageId: 4, dup: false, retain: false });
    session.settle();
    expect(session.codes()).toEqual(["handler-threw"]);
    expect(session.errors[0].message).toContain("handler bug");
    expect(seen).toEqual(["boom", "fine"]);
    expect(session.messages.map((m) => m.payload.toString())).toEqual(["boom", "fine"]);
    expect(link.take().map(brief)).toEqual([{ cmd: "puback", id: 3 }, { cmd: "puback", id: 4 }]);
    expect(session.client.connected).toBe(true);
    expect(session.client.publish("out", "still", { qos: 1 })).toBe("sent");
  });

  it("survives throwing onMessage, onConnected, onPublished and onSubscribed callbacks", () => {
    const errors: string[] = [];
    const boom = () => { throw new Error("callback bug"); };
    const session = harness({
      onMessage: boom, onConnected: boom, onPublished: boom, onSubscribed: boom,
      onError: (e) => errors.push(e.code),
    });
    const link = session.start();
    session.client.subscribe("in");
    session.client.publish("out", "x", { qos: 1 });
    session.settle();
    link.send({ cmd: "publish", topic: "in", payload: Buffer.from("m"), qos: 1, messageId: 1, dup: false, retain: false });
    session.settle();
    expect(errors).toEqual(["handler-threw", "handler-threw", "handler-threw", "handler-threw"]);
    expect(session.client.connected).toBe(true);
    expect(cmds(link.take())).toEqual(["connect", "subscribe", "publish", "puback"]);
  });
});

// ---------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------

function snapshot(session: Harness): unknown {
  return {
    stats: { ...session.client.stats }, count: session.client.outboxCount, used: session.client.outboxUsed, state: session.client.state,
    written: session.net.links.reduce((n, l) => n + l.raw().length, 0),
  };
}

function expectRejected(session: Harness, code: string, call: () => unknown): void {
  const before = snapshot(session);
  let thrown: unknown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(MqttError);
  expect((thrown as MqttError).code).toBe(code);
  session.settle();
  expect(snapshot(session)).toEqual(before);
}

describe("bad input is rejected synchronously with a typed error and nothing changed", () => {
  it("invalid topics and filters, QoS 3 publish, payload too large [MQTT-4.7.1-1][MQTT-4.7.1-2][MQTT-4.7.1-3][MQTT-4.7.3-1][MQTT-4.7.3-2]", () => {
    const session = harness({ transmitBufferSize: 256, outboxBytes: 200 });
    session.net.autoPuback = false;
    const link = session.start();
    session.client.publish("ok", "1", { qos: 1 }); // id 1
    session.settle();
    expectRejected(session, "topic-invalid", () => session.client.publish("a/+", "x"));
    expectRejected(session, "topic-invalid", () => session.client.publish("a/#", "x", { qos: 1 }));
    expectRejected(session, "topic-invalid", () => session.client.publish("", "x", { qos: 1 }));
    expectRejected(session, "topic-invalid", () => session.client.publish("a\u0000b", "x"));
    expectRejected(session, "topic-invalid", () => session.client.prepareTopic("+"));
    expectRejected(session, "filter-invalid", () => session.client.subscribe("a/#/b"));
    expectRejected(session, "filter-invalid", () => session.client.subscribe("a+"));
    expectRejected(session, "filter-invalid", () => session.client.subscribe("sport/tennis#"));
    expectRejected(session, "filter-invalid", () => session.client.subscribe(""));
    expectRejected(session, "filter-invalid", () => session.client.subscribe("a\u0000"));
    expectRejected(session, "qos-invalid", () => session.client.publish("t", "x", { qos: 3 }));
    expectRejected(session, "qos-invalid", () => session.client.publish("t", "x", { qos: -1 }));
    expectRejected(session, "qos-invalid", () => session.client.subscribe("t", { qos: 3 }));
    expectRejected(session, "payload-too-large", () => session.client.publish("t", new Uint8Array(300)));
    expectRejected(session, "payload-too-large", () => session.client.publish("t", new Uint8Array(220), { qos: 1 })); // > outboxBytes
    expectRejected(session, "payload-too-large", () => session.client.publish("t", new Uint8Array(220), { queue: true }));
    expectRejected(session, "argument-invalid", () => session.client.publish("t", 42 as unknown as string));
    // none of them took a packet id
    session.client.publish("ok", "2", { qos: 1 });
    session.settle();
    expect(publishes(link.take()).map((p) => p.messageId)).toEqual([1, 2]);
  });

  it("too many subscriptions", () => {
    const session = harness({ maxSubscriptions: 2 });
    const link = session.start();
    session.client.subscribe("a");
    session.client.subscribe("b");
    session.settle();
    expectRejected(session, "too-many-subscriptions", () => session.client.subscribe("c"));
    session.client.subscribe("a", { qos: 1 }); // the same filter again replaces, and fits
    session.client.unsubscribe("b");
    session.settle();
    session.client.subscribe("c");
    session.settle();
    expect(link.take().map(brief).slice(1)).toEqual([
      { cmd: "subscribe", id: 1, subs: [["a", 0]] },
      { cmd: "subscribe", id: 2, subs: [["b", 0]] },
      { cmd: "subscribe", id: 3, subs: [["a", 1]] },
      { cmd: "unsubscribe", id: 4, filters: ["b"] },
      { cmd: "subscribe", id: 5, subs: [["c", 0]] },
    ]);
  });

  it("use after close: closed", () => {
    const session = harness();
    session.start();
    session.client.close();
    session.settle();
    expectRejected(session, "closed", () => session.client.publish("t", "x"));
    expectRejected(session, "closed", () => session.client.publish("t", "x", { qos: 1 }));
    expectRejected(session, "closed", () => session.client.subscribe("t"));
    expectRejected(session, "closed", () => session.client.unsubscribe("t"));
    expectRejected(session, "closed", () => session.client.connect());
  });
});

// ---------------------------------------------------------------------------------------
// close()
// ---------------------------------------------------------------------------------------

describe("close()", () => {
  it("writes DISCONNECT after the staged bytes, reports onDisconnected when the broker has closed, clears the timer and never reconnects [MQTT-3.14.4-1]", () => {
    const session = harness({}, { window: 100, autoDrain: false });
    const link = session.start();
    link.drain();
    session.settle();
    link.take();
    expect(session.clock.activeTimers).toBe(1);
    expect(session.client.publish("t", new Uint8Array(250))).toBe("sent");
    session.client.publish("t", "q1", { qos: 1 });
    session.client.close();
    expect(session.client.state).toBe("closing");
    expect(link.status).toBe("open");
    for (let i = 0; i < 10; i++) {
      link.drain();
      session.settle();
    }
    expect(cmds(link.take())).toEqual(["publish", "publish", "disconnect"]);
    expect(link.raw().subarray(-2)).toEqual(Buffer.from([0xe0, 0x00]));
    // the broker closed the connection once it had read DISCONNECT (the client waited for that)
    expect(link.status).toBe("ended");
    expect(session.client.state).toBe("closed");
    expect(session.disconnects.map((e) => e.code)).toEqual(["closed"]);
    expect(session.clock.activeTimers).toBe(0);
    session.clock.advance(600_000);
    expect(session.net.links.length).toBe(1);
    expectNoMisuse(session);
  });

  it("gives up on a stalled link after a linger and closes anyway", () => {
    const session = harness({}, { window: 100, autoDrain: false });
    const link = session.start();
    link.drain();
    session.settle();
    session.client.publish("t", new Uint8Array(500));
    session.client.close();
    session.clock.advance(1_000);
    expect(session.client.state).toBe("closing");
    session.clock.advance(1_500);
    expect(session.client.state).toBe("closed");
    expect(link.status).toBe("closed");
    expect(session.clock.activeTimers).toBe(0);
    expect(session.disconnects.map((e) => e.code)).toEqual(["closed"]);
  });

  it("while waiting to reconnect: no DISCONNECT, timer cleared, no reconnect", () => {
    const session = harness();
    const link = session.start();
    link.cut();
    session.settle();
    expect(session.client.state).toBe("waiting");
    session.client.close();
    expect(session.client.state).toBe("closed");
    expect(session.clock.activeTimers).toBe(0);
    session.clock.advance(600_000);
    expect(session.net.links.length).toBe(1);
    expect(cmds(link.take())).toEqual(["connect"]);
  });

  it("from inside a message handler", () => {
    const session = harness();
    const link = session.start();
    session.client.subscribe("stop", {}, () => session.client.close());
    session.settle();
    link.take();
    link.send({ cmd: "publish", topic: "stop", payload: Buffer.from("now"), qos: 1, messageId: 1, dup: false, retain: false });
    session.settle();
    expect(session.client.state).toBe("closed");
    expect(cmds(link.take()).pop()).toBe("disconnect");
    session.clock.advance(600_000);
    expect(session.net.links.length).toBe(1);
    expectNoMisuse(session);
  });
});

// ---------------------------------------------------------------------------------------
// The session as a whole: a property over random interleavings
// ---------------------------------------------------------------------------------------

type Step =
  | { kind: "publish"; qos: 0 | 1; queue: boolean; size: number }
  | { kind: "ack"; count: number; pick: number; inOrder: boolean }
  | { kind: "cut" }
  | { kind: "reconnect"; session: boolean }
  | { kind: "wait"; ms: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("publish" as const), qos: fc.constantFrom(0 as const, 1 as const), queue: fc.boolean(), size: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("ack" as const), count: fc.integer({ min: 1, max: 4 }), pick: fc.nat(), inOrder: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cut" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("reconnect" as const), session: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 1, max: 3_000 }) }) },
);

const OUTBOX_BYTES = 256;
const OUTBOX_MESSAGES = 6;
const MAX_INFLIGHT = 3;

function runSession(steps: Step[], window: number, finalSession: boolean): void {
  const problems: string[] = [];
  const accepted = new Set<number>();
  const acked = new Map<number, number>();
  const firstOrder: number[] = [];
  const seen = new Map<number, { conn: number; epoch: number; id: number }>();
  const idToSeq = new Map<number, number>();
  let unacked: { id: number; seq: number }[] = [];
  let current: Link | undefined;
  let conn = 0;
  let epoch = 0;
  let sessionPresentNow = false;
  let sessionExists = false;
  let nextSeq = 0;

  // the client's view of acknowledgements: onPublished(id) is for the message last written with that id
  const onPublished = (id: number) => {
    const seq = idToSeq.get(id);
    if (seq === undefined) {
      problems.push("onPublished(" + id + ") for an id never written");
      return;
    }
    acked.set(seq, (acked.get(seq) ?? 0) + 1);
  };
  const session = harness(
    {
      clean: false, keepAlive: 5, maxInflight: MAX_INFLIGHT, outboxBytes: OUTBOX_BYTES, outboxMessages: OUTBOX_MESSAGES,
      reconnect: { minDelay: 100, maxDelay: 800, stableAfter: 1_000 },
      onPublished,
    },
    { window, random: () => 0.5 },
  );
  const { client, net } = session;
  net.connack = null; // CONNACKs come from the "reconnect" steps

  net.onPacket = (link, packet) => {
    if (packet.cmd !== "publish") return false;
    if (link !== current) {
      problems.push("PUBLISH before CONNACK");
      return true;
    }
    const text = Buffer.from(packet.payload as Buffer).toString();
    const seq = Number(text.slice(0, text.indexOf(":")));
    const before = seen.get(seq);
    if (before === undefined && !firstOrder.includes(seq)) firstOrder.push(seq);
    if (packet.qos === 0) {
      if (firstOrder.indexOf(seq) !== firstOrder.length - 1 || seen.has(seq)) problems.push("QoS 0 message " + seq + " written twice");
      if (packet.dup) problems.push("QoS 0 with DUP [MQTT-3.3.1-2]");
      seen.set(seq, { conn, epoch, id: 0 });
      return true;
    }
    const id = packet.messageId!;
    if (unacked.some((u) => u.id === id)) problems.push("packet id " + id + " reused while in flight [MQTT-2.3.1-2]");
    if (before !== undefined && before.id !== id) problems.push("message " + seq + " resent with id " + id + ", was " + before.id + " [MQTT-2.3.1-3]");
    if (packet.dup && before === undefined) problems.push("DUP on a first transmission");
    // written on an earlier connection, it may have reached the broker, session or not
    if (!packet.dup && before !== undefined && before.conn < conn) {
      problems.push("message " + seq + " resent without DUP [MQTT-3.3.1-1]");
    }
    seen.set(seq, { conn, epoch, id });
    idToSeq.set(id, seq);
    unacked.push({ id, seq });
    if (unacked.length > MAX_INFLIGHT) problems.push(unacked.length + " PUBLISH in flight, more than maxInflight");
    return true;
  };
  const doReconnect = (keepSession: boolean) => {
    if (current !== undefined && current.open) {
      current.cut();
      session.settle();
    }
    const ready = () => {
      const link = net.links[net.links.length - 1];
      return link !== undefined && link !== current && link.open && link.packets.some((s) => s.packet.cmd === "connect");
    };
    if (!session.clock.until(ready, 120_000)) {
      problems.push("no reconnect attempt");
      return;
    }
    const link = net.last;
    current = link;
    unacked = [];
    conn++;
    sessionPresentNow = keepSession && sessionExists;
    if (!sessionPresentNow) epoch++;
    sessionExists = true;
    link.send({ cmd: "connack", returnCode: 0, sessionPresent: sessionPresentNow });
    session.settle();
  };

  const check = () => {
    if (client.outboxUsed > OUTBOX_BYTES) problems.push("outbox holds " + client.outboxUsed + " bytes");
    if (client.outboxCount > OUTBOX_MESSAGES) problems.push("outbox holds " + client.outboxCount + " messages");
  };

  client.connect();
  session.settle();
  doReconnect(false);
  for (const step of steps) {
    switch (step.kind) {
      case "publish": {
        const seq = nextSeq++;
        const count = client.outboxCount;
        const used = client.outboxUsed;
        const status = client.publish("s/t", seq + ":" + "x".repeat(step.size), { qos: step.qos, queue: step.queue });
        if (status === "outbox-full") {
          if (client.outboxCount !== count || client.outboxUsed !== used) problems.push("outbox-full changed the outbox");
        } else if (step.qos === 1) {
          if (status === "dropped") problems.push("a QoS 1 message was dropped");
          accepted.add(seq);
        }
        session.settle();
        break;
      }
      case "ack": {
        if (current === undefined || !current.open || !client.connected) break;
        for (let i = 0; i < step.count && unacked.length > 0; i++) {
          const at = step.inOrder ? 0 : step.pick % unacked.length;
          const [{ id }] = unacked.splice(at, 1);
          current.send({ cmd: "puback", messageId: id });
        }
        session.settle();
        break;
      }
      case "cut":
        if (current !== undefined && current.open) {
          current.cut();
          session.settle();
        }
        break;
      case "reconnect":
        doReconnect(step.session);
        break;
      case "wait":
        session.clock.advance(step.ms);
        break;
    }
    check();
    if (problems.length > 0) break;
  }
  // quiesce: connect once more and acknowledge everything until the outbox is empty
  if (problems.length === 0) {
    doReconnect(finalSession);
    for (let round = 0; round < 100 && client.outboxCount > 0 && problems.length === 0; round++) {
      while (unacked.length > 0) current!.send({ cmd: "puback", messageId: unacked.shift()!.id });
      session.settle();
        check();
    }
  }
  expect(problems).toEqual([]);
  expect(client.outboxCount).toBe(0);
  expect(client.outboxUsed).toBe(0);
  for (const seq of accepted) expect(acked.get(seq), "acknowledgements of message " + seq).toBe(1);
  for (const seq of acked.keys()) expect(accepted.has(seq)).toBe(true);
  for (let i = 1; i < firstOrder.length; i++) expect(firstOrder[i]).toBeGreaterThan(firstOrder[i - 1]);
  for (const seq of accepted) expect(firstOrder).toContain(seq);
  for (const code of session.codes()) expect(["connection-lost", "connect-timeout"]).toContain(code);
  expectNoMisuse(session);
}

describe("the session under random interleavings", () => {
  it("acknowledges every accepted QoS 1 message exactly once, keeps the outbox in budget and first transmissions in publish order (property) [MQTT-4.4.0-1][MQTT-4.6.0-1][MQTT-2.3.1-2][MQTT-2.3.1-3][MQTT-3.3.1-1]", () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 8, max: 600 }),
        fc.boolean(),
        (steps, window, finalSession) => runSession(steps, window, finalSession),
      ),
      { numRuns: 300 },
    );
  });
});
