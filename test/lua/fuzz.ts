/*
 * Seeded encode/decode round trips of the codec, written once and run twice: by vitest on
 * Node against the TypeScript source, and under Lua 5.4 compiled by typescript-to-lua
 * (test/lua/run.lua), so that Lua's checks go beyond the fixed vectors and both engines must
 * report the same digest of every outcome.
 * Each case: a random PUBLISH (valid UTF-8 topic with multi-byte characters, payload of 0 to
 * 300 bytes, QoS, retain, DUP, packet id) or a PUBACK/PUBREC/PUBREL/PUBCOMP is encoded at a
 * random offset, checked against publishSize, and decoded in random chunks; the decoded
 * fields and bytes must equal what was encoded. Then one random byte of it is changed and
 * the decoder must give a packet, NEED_MORE, OVERSIZE or an MqttError, never anything else.
 * Plain TypeScript over Uint8Array only (no Node API, no Math.random, no clock): TSTL
 * compiles it, and the same seed gives the same cases on both engines.
 */

import type * as Library from "../../device/mqtt/index.js";
import { Rng } from "../support/xorshift32.js";

type Codec = Pick<typeof Library,
  "encodePublish" | "encodePuback" | "encodePubrec" | "encodePubrel" | "encodePubcomp" | "publishSize" | "prepareTopic" |
  "PacketDecoder" | "isMqttError" | "NEED_MORE" | "OVERSIZE" | "PUBLISH" | "PUBACK" | "PUBREC" | "PUBREL" | "PUBCOMP">;

export interface Utf8Encoder {
  encode(text: string): Uint8Array;
}

export interface FuzzResult {
  /** checks that passed (a round trip, a mutated stream) */
  passed: number;
  /** one line per failed check, with its seed and case */
  failures: string[];
  /** a digest of every outcome, equal on every engine that runs the codec alike */
  digest: number;
}

/** Characters of the topics: ASCII, a slash, 2-, 3- and 4-byte UTF-8. */
const TOPIC_CHARS = ["a", "b", "z", "0", "/", "_", "-", "$", "é", "ß", "€", "水", "😀"];
const MODULUS = 2_147_483_647;

function mix(digest: number, value: number): number {
  return (digest * 31 + value) % MODULUS;
}

function randomTopic(random: Rng): string {
  let text = "";
  const count = random.int(1, 12);
  for (let i = 0; i < count; i++) text += TOPIC_CHARS[random.below(TOPIC_CHARS.length)];
  return text;
}

/** Feeds stream[0, length) in random chunks; calls `each` with every result or MqttError code. */
function decodeChunked(
  codec: Codec, dec: Library.PacketDecoder, random: Rng, stream: Uint8Array, length: number,
  each: (result: number | string) => boolean,
): void {
  let at = 0;
  while (at < length) {
    const take = Math.min(length - at, 1 + random.below(random.chance(0.5) ? 4 : 64));
    dec.feed(stream, at, at + take);
    at += take;
    for (let guard = 0; guard <= take; guard++) {
      let result: number | string;
      try {
        result = dec.next();
      } catch (error) {
        result = codec.isMqttError(error) ? error.code : "a throw that is not an MqttError: " + String(error);
      }
      if (!each(result) || result === codec.NEED_MORE) break;
    }
  }
}

/** Runs `cases` seeded cases from `seed`; never throws. */
export function runFuzz(codec: Codec, encoder: Utf8Encoder, seed: number, cases: number): FuzzResult {
  const failures: string[] = [];
  let passed = 0;
  let digest = 1;
  const buf = new Uint8Array(512);
  const acks = [codec.PUBACK, codec.PUBREC, codec.PUBREL, codec.PUBCOMP];
  for (let n = 0; n < cases; n++) {
    const random = new Rng(seed + n * 7919);
    const label = "fuzz seed " + seed + " case " + n;
    try {
      const offset = random.below(8);
      const ack = random.chance(0.2) ? acks[random.below(4)] : 0;
      const packetId = random.int(1, 65_535);
      let topicBytes: Uint8Array = new Uint8Array(0);
      let payload: Uint8Array = new Uint8Array(0);
      let qos = 0;
      let retain = false;
      let dup = false;
      let size: number;
      if (ack === 0) {
        const topic = codec.prepareTopic(randomTopic(random), encoder);
        topicBytes = topic.bytes;
        payload = new Uint8Array(random.below(301));
        for (let i = 0; i < payload.length; i++) payload[i] = random.below(256);
        qos = random.below(3);
        retain = random.chance(0.5);
        dup = qos > 0 && random.chance(0.3);
        size = codec.encodePublish(buf, offset, topic, payload, qos, retain, dup, packetId);
        if (size !== codec.publishSize(topicBytes.length, payload.length, qos)) throw new Error("publishSize differs from the encoded " + size);
      } else if (ack === codec.PUBACK) size = codec.encodePuback(buf, offset, packetId);
      else if (ack === codec.PUBREC) size = codec.encodePubrec(buf, offset, packetId);
      else if (ack === codec.PUBREL) size = codec.encodePubrel(buf, offset, packetId);
      else size = codec.encodePubcomp(buf, offset, packetId);
      digest = mix(digest, size);
      const stream = buf.slice(offset, offset + size);

      // the round trip: exactly one packet, with the fields and bytes encoded
      const dec = new codec.PacketDecoder(400);
      let got = "";
      decodeChunked(codec, dec, random, stream, size, (result) => {
        if (result === codec.NEED_MORE) return true;
        if (typeof result === "string") {
          got += " error " + result;
          return false;
        }
        got += " type " + result;
        if (result !== (ack === 0 ? codec.PUBLISH : ack)) return false;
        if (dec.packetId !== (ack === 0 && qos === 0 ? 0 : packetId)) got += " packetId " + dec.packetId;
        if (ack !== 0) return true;
        if (dec.qos !== qos || dec.retain !== retain || dec.dup !== dup) got += " flags " + dec.qos + "/" + String(dec.retain) + "/" + String(dec.dup);
        if (dec.topicLength !== topicBytes.length || dec.payloadLength !== payload.length) got += " lengths " + dec.topicLength + "/" + dec.payloadLength;
        for (let i = 0; i < dec.topicLength; i++) if (dec.buf[dec.topicOffset + i] !== topicBytes[i]) got += " topic byte " + i;
        for (let i = 0; i < dec.payloadLength; i++) if (dec.buf[dec.payloadOffset + i] !== payload[i]) got += " payload byte " + i;
        return true;
      });
      const want = " type " + (ack === 0 ? codec.PUBLISH : ack);
      if (got === want) passed++;
      else failures.push(label + ": decoded" + got + ", expected" + want);

      // one byte changed: a typed outcome only, the same on every engine
      const at = random.below(size);
      stream[at] = (stream[at] + 1 + random.below(255)) % 256;
      const small = new codec.PacketDecoder(16 + random.below(300));
      let outcome = "";
      decodeChunked(codec, small, random, stream, size, (result) => {
        if (typeof result === "string" && result.startsWith("a throw")) outcome = result;
        digest = mix(digest, typeof result === "number" ? result + 100 : result.length);
        return typeof result === "number";
      });
      if (outcome === "") passed++;
      else failures.push(label + ": after changing byte " + at + ": " + outcome);
    } catch (error) {
      failures.push(label + ": threw " + (codec.isMqttError(error) ? error.code : String(error)));
    }
  }
  return { passed, failures, digest };
}
