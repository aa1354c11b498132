/*
 * The hand-written MQTT 3.1.1 vectors (test/vectors/codec-vectors.ts) against the codec's
 * TypeScript source: the whole runner under every chunking, one readable case per vector,
 * the expected bytes cross-checked with mqtt-packet's generate (so that the hand-written
 * bytes are right), oversize packets, in-place decoding, and checks that the runner itself
 * catches a broken codec. The same runner runs inside real XS in codec.xs.test.ts.
 */

import { describe, expect, it } from "vitest";
import * as mqtt from "mqtt-packet";
import * as lib from "../device/mqtt/index.js";
import {
  decodeErrorVectors, decodeVectors, encodeErrorVectors, encodeVectors, oversizeVectors,
  topicFilterVectors, topicMatchVectors, topicNameVectors,
  type EncodeCall, type ExpectedPacket,
} from "./vectors/codec-vectors.js";
import { callEncoder, chunkingsFor, fromHex, runVectors, toHex, type MqttLibrary } from "./vectors/run-vectors.js";

const utf8 = new TextEncoder();
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex").toUpperCase();
const vectorHex = (text: string): string => text.replace(/ /g, "").toUpperCase();

/** Encodes one call into a fresh buffer; returns the bytes or the error code. */
function encode(call: EncodeCall, size = 70_000): string {
  const buf = new Uint8Array(size);
  const written = callEncoder(lib, utf8, call, buf, 0);
  return typeof written === "number" ? hex(buf.subarray(0, written)) : "error " + written.code;
}

/** Feeds bytes whole; returns next()'s result with the decoder. */
function decodeWhole(bytes: Uint8Array, receiveBufferSize = 70_000): { result: number; dec: lib.PacketDecoder } {
  const dec = new lib.PacketDecoder(receiveBufferSize);
  dec.feed(bytes, 0, bytes.length);
  return { result: dec.next(), dec };
}

/** The code of the MqttError `call` throws, or what it returned instead. */
function thrownCode(call: () => unknown): unknown {
  try {
    return call();
  } catch (error) {
    return lib.isMqttError(error) ? error.code : error;
  }
}

/** The fields a decoded packet reports, in the vectors' format. */
function fieldsOf(dec: lib.PacketDecoder, result: number): ExpectedPacket {
  const out: ExpectedPacket = { type: result, flags: dec.flags, remainingLength: dec.remainingLength };
  if (result === lib.PUBLISH) {
    Object.assign(out, {
      qos: dec.qos, retain: dec.retain, dup: dec.dup, packetId: dec.packetId,
      topic: new TextDecoder().decode(dec.buf.subarray(dec.topicOffset, dec.topicOffset + dec.topicLength)),
      payload: hex(dec.buf.subarray(dec.payloadOffset, dec.payloadOffset + dec.payloadLength)),
    });
  } else if (result === lib.CONNACK) {
    Object.assign(out, { sessionPresent: dec.sessionPresent, returnCode: dec.returnCode });
  } else if (result === lib.SUBACK) {
    Object.assign(out, { packetId: dec.packetId, codes: hex(dec.buf.subarray(dec.codesOffset, dec.codesOffset + dec.codesLength)) });
  } else if (result !== lib.PINGRESP) {
    out.packetId = dec.packetId;
  }
  return out;
}

// ---------------------------------------------------------------- mqtt-packet's view of a vector

/** The mqtt-packet object for an encode vector's call (MQTT 3.1.1). */
function mqttPacketOf(call: EncodeCall): mqtt.Packet {
  switch (call.packet) {
    case "connect": {
      const packet: mqtt.IConnectPacket = {
        cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: call.clean, clientId: call.clientId, keepalive: call.keepAlive,
      };
      if (call.username !== undefined) packet.username = call.username;
      if (call.password !== undefined) packet.password = Buffer.from(call.password, "utf8");
      if (call.will !== undefined) {
        packet.will = {
          topic: call.will.topic, payload: Buffer.from(vectorHex(call.will.payload), "hex"),
          qos: call.will.qos as mqtt.QoS, retain: call.will.retain,
        };
      }
      return packet;
    }
    case "publish":
      return {
        cmd: "publish", topic: call.topic, payload: Buffer.from(vectorHex(call.payload), "hex"), qos: call.qos as mqtt.QoS,
        retain: call.retain, dup: call.dup, ...(call.qos > 0 ? { messageId: call.packetId } : {}),
      };
    case "puback": case "pubrec": case "pubrel": case "pubcomp":
      return { cmd: call.packet, messageId: call.packetId };
    case "subscribe":
      return { cmd: "subscribe", messageId: call.packetId, subscriptions: call.filters.map((f) => ({ topic: f.filter, qos: f.qos as mqtt.QoS })) };
    case "unsubscribe":
      return { cmd: "unsubscribe", messageId: call.packetId, unsubscriptions: call.filters };
    case "pingreq": case "disconnect":
      return { cmd: call.packet };
  }
}

const commandOf: Record<number, string> = {
  [lib.CONNACK]: "connack", [lib.PUBLISH]: "publish", [lib.PUBACK]: "puback", [lib.PUBREC]: "pubrec", [lib.PUBREL]: "pubrel",
  [lib.PUBCOMP]: "pubcomp", [lib.SUBACK]: "suback", [lib.UNSUBACK]: "unsuback", [lib.PINGRESP]: "pingresp",
};

/** The mqtt-packet object for a decode vector's expected fields. */
function mqttPacketOfExpected(packet: ExpectedPacket): mqtt.Packet {
  const cmd = commandOf[packet.type];
  switch (packet.type) {
    case lib.CONNACK:
      return { cmd: "connack", sessionPresent: packet.sessionPresent as boolean, returnCode: packet.returnCode };
    case lib.PUBLISH:
      return {
        cmd: "publish", topic: packet.topic as string, payload: Buffer.from(packet.payload as string, "hex"), qos: packet.qos as mqtt.QoS,
        retain: packet.retain as boolean, dup: packet.dup as boolean, ...(packet.qos ? { messageId: packet.packetId } : {}),
      };
    case lib.SUBACK:
      return { cmd: "suback", messageId: packet.packetId, granted: [...Buffer.from(packet.codes as string, "hex")] };
    case lib.PINGRESP:
      return { cmd: "pingresp" };
    default:
      return { cmd, messageId: packet.packetId } as mqtt.Packet;
  }
}

// ---------------------------------------------------------------- the whole runner

describe("every vector under every chunking (runVectors)", () => {
  it("has no failure", () => {
    const result = runVectors(lib, utf8);
    expect(result.failures).toEqual([]);
    // each vector under each mode or chunking counts once
    expect(result.passed).toBeGreaterThan(2_500);
  });
});

// ---------------------------------------------------------------- encode

describe("encode vectors (client to server)", () => {
  it.each(encodeVectors.map((vector) => [vector.name, vector] as const))("%s", (_name, vector) => {
    expect(encode(vector.call)).toBe(vectorHex(vector.bytes));
  });

  it.each(encodeVectors.map((vector) => [vector.name, vector] as const))("mqtt-packet generates the same bytes: %s", (_name, vector) => {
    expect(hex(mqtt.generate(mqttPacketOf(vector.call)))).toBe(vectorHex(vector.bytes));
  });

  it("PUBLISH remaining length 2,097,152 takes a four-byte length field 80 80 80 01 (section 2.2.3)", () => {
    const call: EncodeCall = { packet: "publish", topic: "t", payload: "", qos: 0, retain: false, dup: false, packetId: 0 };
    const topic = lib.prepareTopic("t", utf8);
    const payload = new Uint8Array(2_097_152 - 3).fill(0x42);
    const buf = new Uint8Array(2_097_152 + 5);
    expect(lib.encodePublish(buf, 0, topic, payload, 0, false, false, 0)).toBe(buf.length);
    expect(hex(buf.subarray(0, 8))).toBe("3080808001000174");
    const generated = mqtt.generate({ ...(mqttPacketOf(call) as mqtt.IPublishPacket), payload: Buffer.from(payload) });
    expect(Buffer.compare(generated, buf)).toBe(0);
    expect(lib.lengthFieldSize(2_097_151)).toBe(3);
    expect(lib.lengthFieldSize(268_435_455)).toBe(4);
    expect(lib.lengthFieldSize(268_435_456)).toBe(0);
  });
});

describe("encode refusals: nothing is written", () => {
  it.each(encodeErrorVectors.map((vector) => [vector.name, vector] as const))("%s", (_name, vector) => {
    const buf = new Uint8Array(vector.bufferSize ?? 256).fill(0xa5);
    const result = callEncoder(lib, utf8, vector.call, buf, vector.offset ?? 0);
    expect(lib.isMqttError(result) ? result.code : result).toBe(vector.code);
    expect(buf.every((b) => b === 0xa5)).toBe(true);
  });

  it("a refused PUBLISH leaves earlier packets in the buffer intact (buffer-too-small)", () => {
    const buf = new Uint8Array(12);
    expect(lib.encodePingreq(buf, 0)).toBe(2);
    const topic = lib.prepareTopic("a/b", utf8);
    expect(thrownCode(() => lib.encodePublish(buf, 2, topic, new Uint8Array(4), 1, false, false, 1))).toBe("buffer-too-small");
    expect(hex(buf)).toBe("C000" + "00".repeat(10));
  });
});

// ---------------------------------------------------------------- decode

describe("decode vectors (server to client)", () => {
  it.each(decodeVectors.map((vector) => [vector.name, vector] as const))("%s", (_name, vector) => {
    const { result, dec } = decodeWhole(fromHex(vector.bytes));
    expect(fieldsOf(dec, result)).toEqual({ ...vector.packet, ...(vector.packet.payload !== undefined ? { payload: vector.packet.payload.toUpperCase() } : {}) });
    expect(dec.next()).toBe(lib.NEED_MORE);
  });

  it.each(decodeVectors.map((vector) => [vector.name, vector] as const))("mqtt-packet generates the same bytes: %s", (_name, vector) => {
    expect(hex(mqtt.generate(mqttPacketOfExpected(vector.packet)))).toBe(vectorHex(vector.bytes));
  });
});

describe("decode errors: the connection must be closed", () => {
  it.each(decodeErrorVectors.map((vector) => [vector.name, vector] as const))("%s", (_name, vector) => {
    const dec = new lib.PacketDecoder(vector.receiveBufferSize ?? 64);
    const bytes = fromHex(vector.bytes);
    dec.feed(bytes, 0, bytes.length);
    expect(thrownCode(() => dec.next())).toBe(vector.code);
    // the decoder is ready for the next connection's stream
    const next = fromHex("40 02 00 2A");
    dec.feed(next, 0, next.length);
    expect(dec.next()).toBe(lib.PUBACK);
    expect(dec.packetId).toBe(42);
  });

  it("a decode error drops the rest of the chunk: the packet after the bad one is not decoded", () => {
    const bytes = fromHex("D0 00 42 02 00 01 40 02 00 01");
    const dec = new lib.PacketDecoder(64);
    dec.feed(bytes, 0, bytes.length);
    expect(dec.next()).toBe(lib.PINGRESP);
    expect(thrownCode(() => dec.next())).toBe("reserved-flags");
    expect(dec.pending).toBe(0);
    expect(dec.next()).toBe(lib.NEED_MORE);
  });
});

// ---------------------------------------------------------------- oversize

/**
 * Feeds the stream under a chunking; returns each next() result with what it reported.
 * Stops at an error: the connection would be closed there.
 */
function decodeChunked(dec: lib.PacketDecoder, stream: Uint8Array, cuts: number[]): string[] {
  const events: string[] = [];
  const bounds = [0, ...cuts, stream.length];
  for (let piece = 0; piece + 1 < bounds.length && !events.some((e) => e.startsWith("error")); piece++) {
    const chunk = stream.slice(bounds[piece], bounds[piece + 1]);
    dec.feed(chunk, 0, chunk.length);
    try {
      for (let result = dec.next(); result !== lib.NEED_MORE; result = dec.next()) {
        if (result === lib.OVERSIZE) {
          const publishFields = dec.type === lib.PUBLISH ? ` qos ${dec.qos} id ${dec.packetId}` : "";
          events.push(`OVERSIZE type ${dec.type} length ${dec.remainingLength}${publishFields}`);
        }
        else events.push(`type ${result} id ${dec.packetId}`);
      }
    } catch (error) {
      events.push("error " + (lib.isMqttError(error) ? error.code : String(error)));
    }
  }
  return events;
}

describe("a packet bigger than the receive buffer is skipped and reported (OVERSIZE)", () => {
  it.each(oversizeVectors.map((vector) => [vector.name, vector] as const))("%s, under every chunking", (_name, vector) => {
    const stream = fromHex(vector.bytes + vector.next.bytes);
    const oversize = vector.oversize;
    const publishFields = oversize.type === lib.PUBLISH ? ` qos ${oversize.qos} id ${oversize.packetId}` : "";
    const expected = [
      `OVERSIZE type ${oversize.type} length ${oversize.remainingLength}${publishFields}`,
      `type ${vector.next.packet.type} id ${vector.next.packet.packetId ?? 0}`,
    ];
    const chunkings = chunkingsFor(stream.length, 77);
    expect(chunkings.length).toBeGreaterThan(stream.length); // whole, bytewise, every split, random
    for (const { label, cuts } of chunkings) {
      const dec = new lib.PacketDecoder(vector.receiveBufferSize);
      expect(decodeChunked(dec, stream, cuts), label).toEqual(expected);
    }
  });

  it("a QoS 1 PUBLISH one byte larger than the receive buffer reports its packet id, so that it can be acknowledged", () => {
    // remaining length 2 + 3 + 2 + 9 = 16 into a 15-byte receive buffer
    const stream = fromHex("32 10 00 03 61 2F 62 BE EF" + "41".repeat(9) + "40 02 00 01");
    for (const { label, cuts } of chunkingsFor(stream.length, 3)) {
      const events = decodeChunked(new lib.PacketDecoder(15), stream, cuts);
      expect(events, label).toEqual(["OVERSIZE type 3 length 16 qos 1 id 48879", "type 4 id 1"]);
    }
    // and one byte smaller fits
    expect(decodeChunked(new lib.PacketDecoder(16), stream, [])).toEqual(["type 3 id 48879", "type 4 id 1"]);
  });

  it("a 2 MB PUBLISH (four-byte length) arriving in 1460-byte segments is skipped, then the next packet decodes", () => {
    const body = 2_097_152;
    const stream = new Uint8Array(5 + body + 4);
    stream.set(fromHex("32 80 80 80 01 00 01 74 12 34"), 0);
    stream.fill(0x55, 10, 5 + body);
    stream.set(fromHex("62 02 12 34"), 5 + body);
    const cuts: number[] = [];
    for (let at = 1460; at < stream.length; at += 1460) cuts.push(at);
    const dec = new lib.PacketDecoder(4096);
    dec.receiveBuffer.fill(0x5c);
    expect(decodeChunked(dec, stream, cuts)).toEqual(["OVERSIZE type 3 length 2097152 qos 1 id 4660", "type 6 id 4660"]);
    expect(dec.receiveBuffer.every((b) => b === 0x5c)).toBe(true); // nothing of it was copied
  });

  it("an oversize QoS 1 PUBLISH whose packet id would run past the packet is a protocol error, not a bogus id [MQTT-2.3.1-1]", () => {
    // remaining length 17: topic length 14, then only the packet id's first byte
    const stream = fromHex("32 11 00 0E 61 62 63 64 65 66 67 68 69 6A 6B 6C 6D 6E 0A");
    for (const { label, cuts } of chunkingsFor(stream.length, 5)) {
      expect(decodeChunked(new lib.PacketDecoder(10), stream, cuts), label).toEqual(["error length-mismatch"]);
    }
  });
});

// ---------------------------------------------------------------- in place

describe("the decoder reads in place and copies only split packets", () => {
  it("a packet that arrives whole in one chunk is read in that chunk: decoder.buf is the chunk", () => {
    const chunk = fromHex("EE EE 32 09 00 03 61 2F 62 00 07 6F 6B EE");
    const dec = new lib.PacketDecoder(64);
    dec.receiveBuffer.fill(0x5c);
    dec.feed(chunk, 2, chunk.length - 1);
    expect(dec.next()).toBe(lib.PUBLISH);
    expect(dec.buf).toBe(chunk);
    expect(dec.bodyOffset).toBe(4);
    expect(dec.topicOffset).toBe(6);
    expect(dec.payloadOffset).toBe(11);
    expect(dec.receiveBuffer.every((b) => b === 0x5c)).toBe(true);
  });

  it("with one packet whole and the next split, only the split packet's body is copied", () => {
    const wholePacket = fromHex("30 07 00 03 61 2F 62 68 69"); // whole in the first chunk
    const splitPacket = fromHex("32 09 00 03 61 2F 62 00 07 6F 6B"); // split after 5 bytes
    const first = new Uint8Array([...wholePacket, ...splitPacket.subarray(0, 5)]);
    const second = splitPacket.slice(5);
    const dec = new lib.PacketDecoder(64);
    dec.receiveBuffer.fill(0x5c);
    dec.feed(first, 0, first.length);
    expect(dec.next()).toBe(lib.PUBLISH);
    expect(dec.buf).toBe(first);
    expect(dec.receiveBuffer.every((x) => x === 0x5c)).toBe(true);
    expect(dec.next()).toBe(lib.NEED_MORE);
    first.fill(0xdd); // the decoder must have kept what it needs of the split packet
    dec.feed(second, 0, second.length);
    expect(dec.next()).toBe(lib.PUBLISH);
    expect(dec.buf).toBe(dec.receiveBuffer);
    expect(dec.bodyOffset).toBe(0);
    expect(dec.packetId).toBe(7);
    expect(toHex(dec.receiveBuffer, 0, 9)).toBe("0003612F6200076F6B");
    expect(dec.receiveBuffer.subarray(9).every((x) => x === 0x5c)).toBe(true); // nothing past its body
  });

  it("a packet whose header and body arrive in different chunks is read in place in the body's chunk", () => {
    const dec = new lib.PacketDecoder(64);
    dec.receiveBuffer.fill(0x5c);
    const header = fromHex("90 06");
    const body = fromHex("00 01 00 01 02 80");
    dec.feed(header, 0, 2);
    expect(dec.next()).toBe(lib.NEED_MORE);
    dec.feed(body, 0, body.length);
    expect(dec.next()).toBe(lib.SUBACK);
    expect(dec.buf).toBe(body);
    expect(dec.codesOffset).toBe(2);
    expect(dec.receiveBuffer.every((x) => x === 0x5c)).toBe(true);
  });
});

// ---------------------------------------------------------------- topics

describe("topic names (section 4.7)", () => {
  it.each(topicNameVectors.map((v) => ["text" in v.name ? JSON.stringify(v.name.text.slice(0, 30)) : "hex " + v.name.hex, v] as const))(
    "%s", (_label, vector) => {
      const bytes = "text" in vector.name ? utf8.encode(vector.name.text) : fromHex(vector.name.hex);
      expect(lib.isValidTopicName(bytes, 0, bytes.length), vector.why).toBe(vector.valid);
    },
  );
});

describe("topic filters (section 4.7)", () => {
  it.each(topicFilterVectors.map((v) => ["text" in v.filter ? JSON.stringify(v.filter.text) : "hex " + v.filter.hex, v] as const))(
    "%s", (_label, vector) => {
      const bytes = "text" in vector.filter ? utf8.encode(vector.filter.text) : fromHex(vector.filter.hex);
      expect(lib.isValidTopicFilter(bytes, 0, bytes.length), vector.why).toBe(vector.valid);
    },
  );
});

describe("topic matching (section 4.7, [MQTT-4.7.2-1])", () => {
  it.each(topicMatchVectors.map((v) => [`${v.filter} ${v.matches ? "matches" : "does not match"} ${v.topic}: ${v.why}`, v] as const))(
    "%s", (_label, vector) => {
      const filter = utf8.encode(vector.filter);
      const topic = utf8.encode(vector.topic);
      expect(lib.topicMatches(filter, 0, filter.length, topic, 0, topic.length)).toBe(vector.matches);
    },
  );
});

// ---------------------------------------------------------------- the runner catches a broken codec

describe("the runner reports a broken codec", () => {
  const failuresWith = (patch: Partial<MqttLibrary>): string[] => runVectors({ ...lib, ...patch } as MqttLibrary, utf8).failures;

  it("an encoder that writes a wrong byte", () => {
    const failures = failuresWith({
      encodePuback: (buf, offset, id) => lib.encodePuback(buf, offset, id === 1 ? 2 : id),
    });
    expect(failures.some((f) => f.startsWith("encode PUBACK packet id 1 /"))).toBe(true);
  });

  it("an encoder that writes past the packet, or writes when it refuses", () => {
    const failures = failuresWith({
      encodePingreq: (buf, offset) => {
        if (offset < buf.length) buf[offset] = 0xc0;
        const written = lib.encodePingreq(buf, offset);
        if (typeof written === "number" && offset + 2 < buf.length) buf[offset + 2] = 0;
        return written;
      },
    });
    expect(failures.some((f) => f.includes("PINGREQ / at offset 5 in a larger buffer: wrote outside the packet"))).toBe(true);
    expect(failures.some((f) => f.includes("PINGREQ / one byte short: buffer-too-small: the buffer was written"))).toBe(true);
  });

  it("a decoder that copies every packet instead of reading it in place", () => {
    class CopyingDecoder extends lib.PacketDecoder {
      override feed(input: Uint8Array, start: number, end: number): void {
        super.feed(input.slice(start, end), 0, end - start);
      }
    }
    const failures = failuresWith({ PacketDecoder: CopyingDecoder });
    expect(failures.some((f) => f.includes("was not read in place"))).toBe(true);
  });

  it("a decoder that keeps reading a chunk after NEED_MORE is caught by the overwritten chunk", () => {
    class StaleDecoder extends lib.PacketDecoder {
      #first: Uint8Array | undefined;
      override feed(input: Uint8Array, start: number, end: number): void {
        this.#first ??= input;
        super.feed(input, start, end);
      }
      override next(): number {
        const result = super.next();
        if (result === lib.PUBLISH && this.buf === this.receiveBuffer && this.#first !== undefined) this.buf = this.#first;
        return result;
      }
    }
    const failures = failuresWith({ PacketDecoder: StaleDecoder });
    expect(failures.some((f) => f.includes("/ one byte at a time:") && /topic|outside buf/.test(f))).toBe(true);
  });

  it("topic matching that forgets the $ rule", () => {
    const failures = failuresWith({ topicMatches: () => true });
    expect(failures.some((f) => f.includes("\"#\" does not match \"$SYS/x\""))).toBe(true);
  });

  it("a decoder that reports the wrong error code", () => {
    class WrongCode extends lib.PacketDecoder {
      override next(): number {
        try {
          return super.next();
        } catch (error) {
          if (lib.isMqttError(error) && error.code === "utf8-null") throw new lib.MqttError("utf8-invalid");
          throw error;
        }
      }
    }
    const failures = failuresWith({ PacketDecoder: WrongCode });
    expect(failures.some((f) => f.includes("U+0000") && f.includes("error utf8-invalid"))).toBe(true);
  });
});
