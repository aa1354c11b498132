/*
 * The client's `pipeline` option at the byte level (device/mqtt/pipeline.ts), on the fake
 * clock and scripted sockets of test/support/ (a broker that holds its CONNACK back until
 * the test sends it): what is written before the CONNACK, with and without the option
 * [MQTT-3.1.4-5], and what happens to a pipelined message when the CONNECT is refused. No
 * real network, no real time.
 */

import { describe, expect, it } from "vitest";
import type * as mqtt from "mqtt-packet";
import { brief, cmds, expectNoMisuse, harness } from "./support/session-harness.js";

const QOS1 = { qos: 1 } as const;

/**
 * A session whose broker answers nothing until the test says so: CONNACK first, then the
 * PUBACKs, as a broker must [MQTT-3.2.0-1] (the script would acknowledge a PUBLISH at once).
 */
function holdingConnack(pipeline: boolean) {
  const session = harness({ pipeline });
  session.net.connack = null;
  session.net.autoPuback = false;
  return session;
}

/** The broker's CONNACK, then a PUBACK for each id. */
function accept(link: { send(packet: mqtt.Packet): void }, ...ids: number[]): void {
  link.send({ cmd: "connack", sessionPresent: false, returnCode: 0 });
  for (const id of ids) link.send({ cmd: "puback", messageId: id });
}

describe("pipeline: the outbox right behind CONNECT, before the CONNACK [MQTT-3.1.4-5]", () => {
  it("a QoS 1 message published before connect() goes out in the same write as CONNECT", () => {
    const session = holdingConnack(true);
    expect(session.client.publish("s/state", "21.5", QOS1)).toBe("queued");
    const link = session.start();
    expect(link.chunks.length).toBe(1);
    expect(cmds(link.take())).toEqual(["connect", "publish"]);
    expect(session.client.connected).toBe(false);
    accept(link, 1);
    session.settle();
    expect(session.connects).toEqual([false]);
    expect(session.published).toEqual([1]);
    expect(session.client.outboxCount).toBe(0);
    expect(cmds(link.take())).toEqual([]); // nothing written twice
    expectNoMisuse(session);
  });

  it("one published while CONNECT waits for its CONNACK is written at once", () => {
    const session = holdingConnack(true);
    const link = session.start();
    expect(cmds(link.take())).toEqual(["connect"]);
    session.client.publish("s/state", "22", QOS1);
    session.settle();
    expect(link.take().map(brief)).toEqual([{ cmd: "publish", topic: "s/state", payload: "22", qos: 1, dup: false, retain: false, id: 1 }]);
  });

  it("without the option (the default) nothing follows CONNECT until the CONNACK [MQTT-3.1.0-1]", () => {
    const session = holdingConnack(false);
    session.client.publish("s/state", "21.5", QOS1);
    const link = session.start();
    session.client.publish("s/state", "22", QOS1);
    session.settle();
    expect(cmds(link.take())).toEqual(["connect"]);
    accept(link);
    session.settle();
    expect(cmds(link.take())).toEqual(["publish", "publish"]);
  });

  it("subscriptions still wait for the CONNACK (its session-present flag settles their table)", () => {
    const session = holdingConnack(true);
    session.client.subscribe("s/set", QOS1);
    session.client.publish("s/state", "x", QOS1);
    const link = session.start();
    expect(cmds(link.take())).toEqual(["connect", "publish"]);
    accept(link, 1);
    session.settle();
    expect(cmds(link.take())).toEqual(["subscribe"]);
  });

  it("a broker that acknowledges the pipelined PUBLISH before its CONNACK breaks the protocol [MQTT-3.2.0-1]: the connection is dropped", () => {
    const session = holdingConnack(true);
    session.client.publish("s/state", "x", QOS1);
    const link = session.start();
    link.send({ cmd: "puback", messageId: 1 });
    session.settle();
    expect(session.codes()).toEqual(["protocol-violation"]);
    expect(session.client.outboxCount).toBe(1);
  });

  it("a refused CONNECT: the broker processed nothing after it, so the message stays in the outbox and goes again with DUP on the next connection [MQTT-3.3.1-1]", () => {
    const session = holdingConnack(true);
    session.client.publish("s/state", "21.5", QOS1);
    const first = session.start();
    expect(cmds(first.take())).toEqual(["connect", "publish"]);
    first.send({ cmd: "connack", sessionPresent: false, returnCode: 3 }); // server unavailable
    session.settle();
    expect(session.codes()).toEqual(["server-unavailable"]);
    expect(session.client.outboxCount).toBe(1);
    session.net.connack = { sessionPresent: false, returnCode: 0 };
    session.net.autoPuback = true;
    session.clock.advance(1_000); // the reconnect delay (jitter 0: minDelay)
    session.settle();
    const second = session.net.last;
    expect(second).not.toBe(first);
    const packets = second.take();
    expect(cmds(packets)).toEqual(["connect", "publish"]);
    const again = packets[1] as mqtt.IPublishPacket;
    expect([again.dup, again.messageId]).toEqual([true, 1]);
    expect(session.published).toEqual([1]);
  });
});
