// The allocation cases measured on the real XS engine (xsnap), shared by bench/xs-alloc.mjs
// (which prints them) and test/xs-alloc.test.ts (which asserts them): each case is the
// slots one operation allocates, measured with XsWorker.slotsPerOp over dist/xs-mqtt.js.
// Codec cases call the encoder and the decoder directly; client cases drive a whole
// MqttClient in its steady state over LoopbackSocket, a socket of the ECMA-419 shape
// defined here inside XS that accepts every write and lets the case inject the broker's
// bytes through the client's onReadable. Nothing here opens a real socket or writes a file;
// the op of every case checks that it did what it claims (and throws otherwise).

import path from "node:path";
import { fileURLToPath } from "node:url";
import { XsWorker } from "../test/xs/harness.mjs";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The bundle under measurement (built by build/build.mjs). */
export const BUNDLE = path.join(root, "dist", "xs-mqtt.js");

/** Iterations per measurement (slotsPerOp needs n * slots per op well below ~200,000). */
export const DEFAULT_N = 1000;

/** Goals from docs/design.md "Minimal allocation": at most this many slots per op. */
export const GOALS = /** @type {const} */ ({
  "encode-publish-qos0": 0,
  "encode-publish-qos1": 0,
  "decode-publish-qos0": 0,
  "decode-publish-qos1": 0,
  "publish-qos0": 0,
  "publish-qos1-acked": 0,
  "receive-qos0": 4,
  "receive-qos1": 4,
});

/** @typedef {keyof typeof GOALS} CaseName */

// Loads the bundle as the global `M` (run once per worker, before any case).
const LOAD = `import(${JSON.stringify(BUNDLE)}).then((m) => { globalThis.M = m; })`;

// Shared by every case: a topic, a payload, and the bytes of packets built with the encoder.
const COMMON = `
var enc = new TextEncoder();
var topic = M.prepareTopic("sensors/node-1/temperature", enc);
var payload = enc.encode("21.5 C, humidity 40 %");
var tx = new Uint8Array(256);
var size0 = M.publishSize(topic.bytes.length, payload.length, 0);
var size1 = M.publishSize(topic.bytes.length, payload.length, 1);
function packet(qos, packetId) {
  const buf = new Uint8Array(256);
  const n = M.encodePublish(buf, 0, topic, payload, qos, false, false, packetId);
  if (typeof n !== "number") throw n;
  return buf.slice(0, n);
}
`;

// A socket of the ECMA-419 shape, entirely inside XS. write() keeps a copy of the last
// packet written (through a view cached per buffer: the client writes the same resizable
// ArrayBuffer every time) and reports a large writable count; inject() hands bytes to the
// client through its onReadable, and read() copies them out. No allocation per call once
// the view over the client's buffer exists.
const LOOPBACK = `
class LoopbackSocket {
  static last = undefined;
  constructor(options) {
    this.options = options;
    this.inbound = new Uint8Array(1536);
    this.inStart = 0;
    this.inEnd = 0;
    this.written = new Uint8Array(1536);
    this.writtenLength = 0;
    this.writes = 0;
    this.viewed = undefined;
    this.view = undefined;
    this.closed = false;
    LoopbackSocket.last = this;
  }
  read(buffer) {
    const into = buffer;
    const n = Math.min(into.length, this.inEnd - this.inStart);
    for (let i = 0; i < n; i++) into[i] = this.inbound[this.inStart + i];
    this.inStart += n;
    return n;
  }
  write(buffer) {
    if (this.closed) throw new Error("write: closed");
    if (buffer !== this.viewed) {
      this.viewed = buffer;
      this.view = new Uint8Array(buffer);
    }
    const view = this.view;
    const n = buffer.byteLength;
    for (let i = 0; i < n; i++) this.written[i] = view[i];
    this.writtenLength = n;
    this.writes++;
    return 65536;
  }
  close() { this.closed = true; }
  inject(bytes, length) {
    for (let i = 0; i < length; i++) this.inbound[i] = bytes[i];
    this.inStart = 0;
    this.inEnd = length;
    this.options.onReadable.call(this, length);
  }
  writable(count) { this.options.onWritable.call(this, count); }
  // the packet id of the last packet written (PUBLISH QoS 1, SUBSCRIBE)
  lastPacketId() {
    const w = this.written;
    if ((w[0] >> 4) === 3) {
      const topicLength = (w[2] << 8) | w[3];
      return (w[4 + topicLength] << 8) | w[5 + topicLength];
    }
    return (w[2] << 8) | w[3];
  }
}
var Timer = { repeat(callback, interval) { return 1; }, clear(id) {} };
var client = new M.MqttClient({
  host: "127.0.0.1", clientId: "bench", keepAlive: 0, reconnect: false,
  io: { TCP: LoopbackSocket, Timer, TextEncoder, TextDecoder },
});
client.connect();
var sock = LoopbackSocket.last;
sock.writable(65536);
if ((sock.written[0] >> 4) !== 1) throw new Error("the client did not write CONNECT");
sock.inject(new Uint8Array([0x20, 2, 0, 0]), 4);
if (client.state !== "connected") throw new Error("not connected after CONNACK: " + client.state);
var qos1 = { qos: 1 };
var ack = new Uint8Array([0x40, 2, 0, 0]);
`;

// Subscribes (exact filter, so the topic string is known), answers the SUBACK and leaves a
// handler that reads topic and payload.
const SUBSCRIBED = (qos) => `
var seen = 0;
var seenTopic = "";
var seenLength = 0;
client.subscribe("sensors/node-1/temperature", { qos: ${qos} }, (message) => {
  seenTopic = message.topic;
  seenLength = message.payload.length;
  seen++;
});
if ((sock.written[0] >> 4) !== 8) throw new Error("the client did not write SUBSCRIBE");
var subId = sock.lastPacketId();
sock.inject(new Uint8Array([0x90, 3, subId >> 8, subId & 0xff, ${qos}]), 5);
var incoming = packet(${qos}, 7);
`;

/** @type {Record<CaseName, { setup: string, op: string }>} */
export const CASES = {
  "encode-publish-qos0": {
    setup: COMMON,
    op: `if (M.encodePublish(tx, 0, topic, payload, 0, false, false, 0) !== size0 || tx[0] !== 0x30) throw new Error("encode");`,
  },
  "encode-publish-qos1": {
    setup: COMMON,
    op: `if (M.encodePublish(tx, 0, topic, payload, 1, false, false, 1234) !== size1 || tx[0] !== 0x32) throw new Error("encode");`,
  },
  "decode-publish-qos0": {
    setup: `${COMMON} var dec = new M.PacketDecoder(1024); var bytes = packet(0, 0);`,
    op: `dec.feed(bytes, 0, bytes.length);
if (dec.next() !== M.PUBLISH || dec.payloadLength !== payload.length || dec.next() !== M.NEED_MORE) throw new Error("decode");`,
  },
  "decode-publish-qos1": {
    setup: `${COMMON} var dec = new M.PacketDecoder(1024); var bytes = packet(1, 4321);`,
    op: `dec.feed(bytes, 0, bytes.length);
if (dec.next() !== M.PUBLISH || dec.packetId !== 4321 || dec.next() !== M.NEED_MORE) throw new Error("decode");`,
  },
  "publish-qos0": {
    setup: COMMON + LOOPBACK,
    op: `if (client.publish(topic, payload) !== "sent" || (sock.written[0] >> 4) !== 3) throw new Error("publish");`,
  },
  "publish-qos1-acked": {
    setup: COMMON + LOOPBACK,
    op: `if (client.publish(topic, payload, qos1) !== "sent") throw new Error("publish");
const id = sock.lastPacketId();
ack[2] = id >> 8;
ack[3] = id & 0xff;
sock.inject(ack, 4);
if (client.outboxCount !== 0) throw new Error("the PUBACK did not free the outbox");`,
  },
  "receive-qos0": {
    setup: COMMON + LOOPBACK + SUBSCRIBED(0),
    op: `const before = seen;
sock.inject(incoming, incoming.length);
if (seen !== before + 1 || seenLength !== payload.length) throw new Error("receive");`,
  },
  "receive-qos1": {
    setup: COMMON + LOOPBACK + SUBSCRIBED(1),
    op: `const before = seen;
const writes = sock.writes;
sock.inject(incoming, incoming.length);
if (seen !== before + 1 || seenLength !== payload.length) throw new Error("receive");
if (sock.writes !== writes + 1 || sock.written[0] !== 0x40 || sock.lastPacketId() !== 7) throw new Error("no PUBACK");`,
  },
};

/**
 * Measures one case in a worker of its own (cases must not share a heap: each defines
 * globals and a client). Closes the worker.
 * @param {CaseName} name
 * @param {number} [n]
 * @returns {Promise<number>} slots per op
 */
export async function measureCase(name, n = DEFAULT_N) {
  const spec = CASES[name];
  if (spec === undefined) throw new Error(`no xs-alloc case named ${name}`);
  const worker = await XsWorker.start({ name: `xs-alloc ${name}` });
  try {
    await worker.importModule(BUNDLE);
    await worker.evaluate(LOAD);
    return await worker.slotsPerOp(spec.setup, spec.op, n);
  } finally {
    await worker.close();
  }
}
