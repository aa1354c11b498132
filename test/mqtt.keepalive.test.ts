/*
 * Unit tests of device/mqtt/keepalive.ts: when a PINGREQ is due (no gap between the
 * client's packets may exceed the keepalive [MQTT-3.1.2-23], and a PINGREQ goes one timer
 * period early so it is never late), when a silent broker counts as dead (1.5 x keepalive),
 * and the connected client's timer period.
 * Plain arithmetic on given times: no clock, no socket.
 */
import { describe, expect, it } from "vitest";
import { Keepalive, KEEPALIVE_DEAD, KEEPALIVE_IDLE, KEEPALIVE_PING } from "../device/mqtt/keepalive.js";

describe("Keepalive.check()", () => {
  it("keepalive 0 is off: never a PINGREQ, never dead", () => {
    const keepalive = new Keepalive(0, 1_000);
    expect(keepalive.check(10_000_000)).toBe(KEEPALIVE_IDLE);
  });

  it("a PINGREQ one timer period before the keepalive has passed since the last packet sent [MQTT-3.1.2-23]", () => {
    const keepalive = new Keepalive(10, 1_000);
    keepalive.lastSent = 0;
    keepalive.lastReceived = 5_000;
    expect(keepalive.check(8_749)).toBe(KEEPALIVE_IDLE);
    expect(keepalive.check(8_750)).toBe(KEEPALIVE_PING); // 10 s less one 1.25 s period (an eighth of 10 s)
  });

  it("a PINGREQ when nothing came from the broker for a whole keepalive, even while sending", () => {
    const keepalive = new Keepalive(10, 1_000);
    keepalive.lastSent = 12_000;
    keepalive.lastReceived = 2_000;
    expect(keepalive.check(11_999)).toBe(KEEPALIVE_IDLE);
    expect(keepalive.check(12_000)).toBe(KEEPALIVE_PING);
  });

  it("no second PINGREQ while one is outstanding", () => {
    const keepalive = new Keepalive(10, 1_000);
    keepalive.pingOutstanding = true;
    expect(keepalive.check(9_500)).toBe(KEEPALIVE_IDLE);
    keepalive.pingOutstanding = false;
    expect(keepalive.check(9_500)).toBe(KEEPALIVE_PING);
  });

  it("dead after 1.5 x keepalive without a byte from the broker, outstanding PINGREQ or not", () => {
    const keepalive = new Keepalive(10, 1_000);
    keepalive.lastReceived = 1_000;
    keepalive.lastSent = 15_000;
    keepalive.pingOutstanding = true;
    expect(keepalive.check(15_999)).toBe(KEEPALIVE_IDLE);
    expect(keepalive.check(16_000)).toBe(KEEPALIVE_DEAD);
  });
});

describe("Keepalive.interval: the connected client's timer period", () => {
  it("an eighth of the keepalive, at least the client's tick and at most 5 s; 5 s with keepalive off", () => {
    expect(new Keepalive(60, 500).interval).toBe(5_000);
    expect(new Keepalive(10, 500).interval).toBe(1_250);
    expect(new Keepalive(1, 250).interval).toBe(250);
    expect(new Keepalive(0, 1_000).interval).toBe(5_000);
    const keepalive = new Keepalive(60, 500);
    keepalive.period = 20_000; // MQTT 5.0's Server Keep Alive
    expect(keepalive.interval).toBe(2_500);
  });
});
