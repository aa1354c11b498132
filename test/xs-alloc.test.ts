// Allocation on the real XS engine (xsnap): the slots one operation allocates, measured by
// the cases in bench/xs-alloc-cases.mjs over the built bundle dist/xs-mqtt.js (npm test
// builds it first). Publishing (QoS 0, and QoS 1 with its PUBACK) and encoding must
// allocate nothing, and so must a reading through the firmware (dist/firmware.js: sample
// timer, deadband, pacer, JSON, publish); the other cases must meet their goals (0 per
// decode, at most 4 per received message), and so must an idle connected board over
// simulated time (firmware-idle: slots per simulated second).
// Chunk bytes (string and buffer contents, which take no slot) are measured by the chunk
// probe (host-sim/engines/xs/chunk-probe.mjs): its positive controls must read what they allocate, and
// the idle board, the client's publish and receive paths and a reading must read 0.
// Each measurement starts and closes its own XS worker; nothing is skipped without xsnap.
import { describe, expect, it } from "vitest";
import {
  CHUNK_GOALS, CHUNK_RESOLUTION, CONTROLS, GOALS, IDLE_SECONDS, measureCase, measureChunks, measureControl,
} from "../bench/xs-alloc-cases.mjs";
import { XsWorker } from "../host-sim/engines/xs/harness.mjs";

describe("slots allocated per operation on XS", () => {
  for (const name of [
    "encode-publish-qos0", "encode-publish-qos1", "publish-qos0", "publish-qos1-acked", "publish-qos2-complete", "receive-qos1-in-place",
    "publish-v5-qos1-acked", "receive-v5-qos1-in-place", "receive-v5-alias-in-place",
  ] as const) {
    it(`${name}: exactly 0`, async () => {
      expect(await measureCase(name)).toBe(0);
    });
  }

  it("firmware-reading: exactly 0 (the firmware's steady-state publish path allocates nothing per reading beyond its JSON text)", async () => {
    expect(GOALS["firmware-reading"]).toBe(0);
    expect(await measureCase("firmware-reading")).toBe(0);
  });

  it("firmware-idle: exactly 0 slots per simulated second (ticks, unchanged samples, keepalive PINGREQ/PINGRESP, maxSilence republish, diagnostics with Wi-Fi RSSI and IP)", async () => {
    expect(GOALS["firmware-idle"]).toBe(0);
    expect(await measureCase("firmware-idle", 600)).toBe(0);
  });

  it("firmware-rejoin: exactly 0 slots per failed Wi-Fi join (the backoff's wait on the firmware's tick, connect() with the credentials made once, the failure heard)", async () => {
    expect(GOALS["firmware-rejoin"]).toBe(0);
    expect(await measureCase("firmware-rejoin", 50)).toBe(0);
  });

  for (const name of ["decode-publish-qos0", "decode-publish-qos1", "receive-qos0", "receive-qos1", "receive-qos2"] as const) {
    it(`${name}: at most ${GOALS[name]}`, async () => {
      expect(await measureCase(name)).toBeLessThanOrEqual(GOALS[name]);
    });
  }

  it("the meter does see an allocation when there is one (these zeros are not vacuous)", async () => {
    const worker = await XsWorker.start({ name: "xs-alloc meter check" });
    try {
      // what the client's write path relies on: resizing a resizable ArrayBuffer in place,
      // and handing it to a function, allocate nothing; a view over it does
      const setup = "var ab = new ArrayBuffer(64, { maxByteLength: 64 }); var sink = { write(b) { return b.byteLength; } };";
      expect(await worker.slotsPerOp(setup, "ab.resize(10); sink.write(ab); ab.resize(64);", 1000)).toBe(0);
      expect(await worker.slotsPerOp(setup, "ab.resize(10); sink.write(new Uint8Array(ab)); ab.resize(64);", 1000)).toBeGreaterThan(0);
    } finally {
      await worker.close();
    }
  });
});

describe("chunk bytes (string and buffer contents) on XS", () => {
  for (const name of Object.keys(CONTROLS) as (keyof typeof CONTROLS)[]) {
    it(`the chunk probe reads its positive control ${name} (${CONTROLS[name].expected} bytes per simulated second) to within ${CHUNK_RESOLUTION} bytes over the run`, async () => {
      const expected = CONTROLS[name].expected;
      expect(expected).toBeGreaterThan(0);
      expect(Math.abs(await measureControl(name, IDLE_SECONDS) - expected)).toBeLessThanOrEqual(CHUNK_RESOLUTION / IDLE_SECONDS);
    });
  }

  it("firmware-idle: 0 chunk bytes per simulated second (no string made by ticks, samples, keepalive or the maxSilence republish)", async () => {
    expect(CHUNK_GOALS["firmware-idle"]).toBe(0);
    expect(await measureChunks("firmware-idle", IDLE_SECONDS)).toBe(0);
  });

  for (const name of ["publish-qos0", "publish-qos1-acked", "publish-qos2-complete", "receive-qos0", "receive-qos1", "receive-qos2", "receive-qos1-in-place", "firmware-reading"] as const) {
    it(`${name}: 0 chunk bytes per op`, async () => {
      expect(await measureChunks(name, 200)).toBe(0);
    });
  }
});
