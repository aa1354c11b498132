/*
 * mqtt-packet as the independent parser of the codec suites: the packets in a byte string
 * at protocol level 4 or 5, failing the test on any parse error or leftover byte.
 * Test code only; reads nothing but its argument.
 */

import { expect } from "vitest";
import * as mqtt from "mqtt-packet";

export type Parsed = Record<string, unknown> & { cmd: string };

/** Parses bytes with mqtt-packet at `protocolVersion`; fails on any parse error or leftover. */
export function mqttParse(bytes: Uint8Array, protocolVersion: 4 | 5 = 4): Parsed[] {
  const parser = mqtt.parser({ protocolVersion });
  const packets: Parsed[] = [];
  const errors: unknown[] = [];
  parser.on("packet", (p) => packets.push(p as unknown as Parsed));
  parser.on("error", (e) => errors.push(e));
  const left = parser.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  expect(errors).toEqual([]);
  expect(left).toBe(0);
  return packets;
}
