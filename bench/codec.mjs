// Codec throughput: our PUBLISH encoder and stream decoder (dist/xs-mqtt.js) against
// mqtt-packet 9, on Node, in memory only. It opens no sockets and writes no files; every
// byte it encodes or decodes is in a buffer it made itself.
//
// Per case, both sides do what a client does for one QoS 1 PUBLISH of "sensors/node-1/
// temperature/state" with a 16, 256 or 4096-byte payload:
//   encode  ours: encodePublish() into one preallocated buffer with a prepared topic.
//           mqtt-packet: generate({cmd:"publish", topic, payload: Buffer, qos: 1, ...}),
//           its canonical API (a fresh Buffer per packet). Its other API, writeToStream(),
//           is not measured: to a stream that drops its writes it never copies the payload,
//           so it does less than either side here.
//   decode  ours: PacketDecoder.feed() then next() until NEED_MORE, reading each packet's
//           packet id, topic length, payload length and first payload byte.
//           mqtt-packet: parser({protocolVersion: 4}).parse() with an on("packet") handler
//           reading the same fields (its topic is a string, its payload a Buffer slice).
//           Both are handed the same bytes: one chunk holding 16 packets per call, so the
//           per-call cost is spread the same way; the rate counts packets.
// Then the MQTT 5.0 cases, 256-byte payload, after the 3.1.1 ones (so that these never share
// a warmed call site with them): the same QoS 1 PUBLISH with a Message Expiry, a Content
// Type, Correlation Data and one user property, both sides at protocolVersion 5:
//   encode-publish-v5  ours: encodePublish5() with one Properties object kept across calls.
//   decode-publish-v5  ours: PacketDecoder5, reading the fields above and the Message Expiry
//                      and the Correlation Data's length by accessor; mqtt-packet reads the
//                      same from its packet.properties.
// Each side warms up, then the two run in alternating rounds (order swapped every round)
// of about SAMPLE_MS each; the figure is the median round. The whole run stays well under
// a minute. Results fold into a sink so that nothing is optimised away.
//
// Prints one JSON object per case:
//   {"bench":"codec","case":CASE,"ours_per_s":X,"mqtt_packet_per_s":Y,"ratio":X/Y}
// with rates in operations (packets) per second and ratio = ours / mqtt-packet.
// Usage: npm run bench:codec (builds dist/ first).

import { createRequire } from "node:module";
import {
  encodePublish, encodePublish5, NEED_MORE, PacketDecoder, PacketDecoder5, prepareTopic, PROP_CORRELATION_DATA,
  PROP_MESSAGE_EXPIRY, propertiesSize, PUBLISH,
} from "../dist/xs-mqtt.js";

const require = createRequire(import.meta.url);
const mqttPacket = require("mqtt-packet");

const TOPIC = "sensors/node-1/temperature/state";
const SIZES = [16, 256, 4096];
const PACKETS_PER_CHUNK = 16;
const WARMUP_MS = 300; // per side, per case
const SAMPLE_MS = 120; // one round of one side
const ROUNDS = 9;
const CASE_BUDGET_MS = 7_000; // at least 3 rounds, then stop once past this

let sink = 0;

// ---- the four timed loops: each side has its own, so no call site is shared

function oursEncode(count, buf, topic, payload) {
  let acc = 0;
  for (let i = 0; i < count; i++) {
    const written = encodePublish(buf, 0, topic, payload, 1, false, false, (i & 0x7fff) + 1);
    if (typeof written !== "number") throw written;
    acc += written + buf[written - 1];
  }
  return acc;
}

function theirsEncode(count, topic, payload) {
  let acc = 0;
  for (let i = 0; i < count; i++) {
    const out = mqttPacket.generate({
      cmd: "publish", topic, payload, qos: 1, messageId: (i & 0x7fff) + 1, retain: false, dup: false,
    });
    acc += out.length + out[out.length - 1];
  }
  return acc;
}

function oursDecode(count, decoder, chunk) {
  let acc = 0;
  let packets = 0;
  for (let i = 0; i < count; i++) {
    decoder.feed(chunk, 0, chunk.length);
    for (;;) {
      const type = decoder.next();
      if (type === NEED_MORE) break;
      if (type !== PUBLISH) throw new Error("unexpected packet type " + type);
      acc += decoder.packetId + decoder.topicLength + decoder.payloadLength + decoder.buf[decoder.payloadOffset];
      packets++;
    }
  }
  return { acc, packets };
}

function oursEncode5(count, buf, topic, payload, props) {
  let acc = 0;
  for (let i = 0; i < count; i++) {
    const written = encodePublish5(buf, 0, topic, payload, 1, false, false, (i & 0x7fff) + 1, props, propertiesSize(props, PUBLISH));
    acc += written + buf[written - 1];
  }
  return acc;
}

function theirsEncode5(count, topic, payload, properties) {
  let acc = 0;
  for (let i = 0; i < count; i++) {
    const out = mqttPacket.generate({
      cmd: "publish", topic, payload, qos: 1, messageId: (i & 0x7fff) + 1, retain: false, dup: false, properties,
    }, { protocolVersion: 5 });
    acc += out.length + out[out.length - 1];
  }
  return acc;
}

function oursDecode5(count, decoder, chunk) {
  let acc = 0;
  let packets = 0;
  for (let i = 0; i < count; i++) {
    decoder.feed(chunk, 0, chunk.length);
    for (;;) {
      const type = decoder.next();
      if (type === NEED_MORE) break;
      if (type !== PUBLISH) throw new Error("unexpected packet type " + type);
      acc += decoder.packetId + decoder.topicLength + decoder.payloadLength + decoder.buf[decoder.payloadOffset]
        + decoder.number(PROP_MESSAGE_EXPIRY, 0) + decoder.bytesLength(PROP_CORRELATION_DATA);
      packets++;
    }
  }
  return { acc, packets };
}

function makeTheirsDecoder5() {
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const tally = { acc: 0, packets: 0 };
  parser.on("packet", (packet) => {
    tally.acc += packet.messageId + packet.topic.length + packet.payload.length + packet.payload[0]
      + packet.properties.messageExpiryInterval + packet.properties.correlationData.length;
    tally.packets++;
  });
  parser.on("error", (err) => { throw err; });
  return { parser, tally };
}

/** mqtt-packet's parser reports packets through an event, so its handler keeps the tally. */
function makeTheirsDecoder() {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const tally = { acc: 0, packets: 0 };
  parser.on("packet", (packet) => {
    tally.acc += packet.messageId + packet.topic.length + packet.payload.length + packet.payload[0];
    tally.packets++;
  });
  parser.on("error", (err) => { throw err; });
  return { parser, tally };
}

function theirsDecode(count, parser, tally, chunk) {
  tally.acc = 0;
  tally.packets = 0;
  for (let i = 0; i < count; i++) parser.parse(chunk);
  return { acc: tally.acc, packets: tally.packets };
}

// ---- timing

function elapsedMs(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * A side under test: run(n) does n calls and returns how many operations they made.
 * Finds n so that one round takes about SAMPLE_MS, warming up on the way.
 */
function calibrate(run) {
  let count = 1;
  const start = process.hrtime.bigint();
  let perCallMs = Infinity;
  for (;;) {
    const roundStart = process.hrtime.bigint();
    run(count);
    const ms = elapsedMs(roundStart);
    if (ms > 20) perCallMs = Math.min(perCallMs, ms / count);
    if (elapsedMs(start) >= WARMUP_MS && perCallMs !== Infinity) break;
    if (ms < 20) count *= 2;
  }
  return Math.max(1, Math.round(SAMPLE_MS / perCallMs));
}

function sample(run, count) {
  const start = process.hrtime.bigint();
  const ops = run(count);
  const ms = elapsedMs(start);
  return (ops / ms) * 1000;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function compare(name, ours, theirs) {
  const start = process.hrtime.bigint();
  const nOurs = calibrate(ours);
  const nTheirs = calibrate(theirs);
  const oursRates = [];
  const theirsRates = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round >= 3 && elapsedMs(start) > CASE_BUDGET_MS) break;
    if (round % 2 === 0) {
      oursRates.push(sample(ours, nOurs));
      theirsRates.push(sample(theirs, nTheirs));
    } else {
      theirsRates.push(sample(theirs, nTheirs));
      oursRates.push(sample(ours, nOurs));
    }
  }
  const oursRate = median(oursRates);
  const theirsRate = median(theirsRates);
  console.log(JSON.stringify({
    bench: "codec",
    case: name,
    ours_per_s: Math.round(oursRate),
    mqtt_packet_per_s: Math.round(theirsRate),
    ratio: Math.round((oursRate / theirsRate) * 100) / 100,
  }));
}

// ---- fixtures

const topic = prepareTopic(TOPIC, new TextEncoder());

function makePayload(size) {
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 31 + 7) & 0xff;
  payload[0] = 0x7b; // never 0, so the first byte always counts
  return payload;
}

function equalBytes(left, right) {
  if (left.length !== right.length) return false;
  for (let i = 0; i < left.length; i++) if (left[i] !== right[i]) return false;
  return true;
}

/** 16 QoS 1 PUBLISH packets back to back, ids 1..16, as mqtt-packet writes them. */
function makeChunk(payload) {
  const parts = [];
  for (let id = 1; id <= PACKETS_PER_CHUNK; id++) {
    parts.push(mqttPacket.generate({
      cmd: "publish", topic: TOPIC, payload: Buffer.from(payload), qos: 1, messageId: id, retain: false, dup: false,
    }));
  }
  return Buffer.concat(parts);
}

// ---- the cases

const encodeCases = [];
const decodeCases = [];
for (const size of SIZES) {
  const payload = makePayload(size);
  const payloadBuffer = Buffer.from(payload);

  // encode: both sides must write the same bytes
  const out = new Uint8Array(size + 64);
  const written = encodePublish(out, 0, topic, payload, 1, false, false, 1);
  if (typeof written !== "number") throw written;
  const reference = mqttPacket.generate({
    cmd: "publish", topic: TOPIC, payload: payloadBuffer, qos: 1, messageId: 1, retain: false, dup: false,
  });
  if (!equalBytes(out.subarray(0, written), reference)) throw new Error(`encode-publish-${size}: outputs differ`);
  encodeCases.push({
    name: `encode-publish-${size}`,
    ours: (n) => { sink += oursEncode(n, out, topic, payload); return n; },
    theirs: (n) => { sink += theirsEncode(n, TOPIC, payloadBuffer); return n; },
  });

  // decode: the same 16-packet chunk for both; ours as a plain Uint8Array, as on the device
  const chunkBuffer = makeChunk(payload);
  const chunk = new Uint8Array(chunkBuffer);
  const decoder = new PacketDecoder(size + 64);
  const { parser, tally } = makeTheirsDecoder();
  const checkOurs = oursDecode(1, decoder, chunk);
  const checkTheirs = theirsDecode(1, parser, tally, chunkBuffer);
  if (checkOurs.packets !== PACKETS_PER_CHUNK || checkTheirs.packets !== PACKETS_PER_CHUNK || checkOurs.acc !== checkTheirs.acc) {
    throw new Error(`decode-publish-${size}: the decoders disagree`);
  }
  decodeCases.push({
    name: `decode-publish-${size}`,
    ours: (n) => { const r = oursDecode(n, decoder, chunk); sink += r.acc; return r.packets; },
    theirs: (n) => { const r = theirsDecode(n, parser, tally, chunkBuffer); sink += r.acc; return r.packets; },
  });
}

// ---- the MQTT 5.0 cases
const v5Cases = [];
{
  const size = 256;
  const encoder = new TextEncoder();
  const payload = makePayload(size);
  const payloadBuffer = Buffer.from(payload);
  const props = {
    messageExpiry: 3600, contentType: encoder.encode("application/json"), correlationData: encoder.encode("req-0001"),
    userProperties: [{ name: encoder.encode("unit"), value: encoder.encode("C") }],
  };
  const properties = {
    messageExpiryInterval: 3600, contentType: "application/json", correlationData: Buffer.from("req-0001"), userProperties: { unit: "C" },
  };
  const out = new Uint8Array(size + 128);
  const written = encodePublish5(out, 0, topic, payload, 1, false, false, 1, props, propertiesSize(props, PUBLISH));
  const reference = mqttPacket.generate({
    cmd: "publish", topic: TOPIC, payload: payloadBuffer, qos: 1, messageId: 1, retain: false, dup: false, properties,
  }, { protocolVersion: 5 });
  if (written !== reference.length) throw new Error("encode-publish-v5: the sizes differ");
  v5Cases.push({
    name: "encode-publish-v5-" + size,
    ours: (n) => { sink += oursEncode5(n, out, topic, payload, props); return n; },
    theirs: (n) => { sink += theirsEncode5(n, TOPIC, payloadBuffer, properties); return n; },
  });
  const parts = [];
  for (let id = 1; id <= PACKETS_PER_CHUNK; id++) {
    parts.push(mqttPacket.generate({
      cmd: "publish", topic: TOPIC, payload: payloadBuffer, qos: 1, messageId: id, retain: false, dup: false, properties,
    }, { protocolVersion: 5 }));
  }
  const chunkBuffer = Buffer.concat(parts);
  const chunk = new Uint8Array(chunkBuffer);
  const decoder = new PacketDecoder5(size + 128);
  const { parser, tally } = makeTheirsDecoder5();
  const checkOurs = oursDecode5(1, decoder, chunk);
  const checkTheirs = theirsDecode(1, parser, tally, chunkBuffer);
  if (checkOurs.packets !== PACKETS_PER_CHUNK || checkTheirs.packets !== PACKETS_PER_CHUNK || checkOurs.acc !== checkTheirs.acc) {
    throw new Error("decode-publish-v5: the decoders disagree");
  }
  v5Cases.push({
    name: "decode-publish-v5-" + size,
    ours: (n) => { const r = oursDecode5(n, decoder, chunk); sink += r.acc; return r.packets; },
    theirs: (n) => { const r = theirsDecode(n, parser, tally, chunkBuffer); sink += r.acc; return r.packets; },
  });
}

for (const c of [...encodeCases, ...decodeCases, ...v5Cases]) compare(c.name, c.ours, c.theirs);

if (!Number.isFinite(sink)) throw new Error("sink lost");
