// The allocation cases measured on the real XS engine (xsnap), shared by bench/xs-alloc.mjs
// (which prints them) and test/xs-alloc.test.ts (which asserts them): each case is the
// slots one operation allocates, measured with XsWorker.slotsPerOp over dist/xs-mqtt.js,
// and for some the chunk bytes (string and buffer contents), measured with chunkBytesPerOp.
// Codec cases call the encoder and the decoder directly; client cases drive a whole
// MqttClient in its steady state over LoopbackSocket, a socket of the ECMA-419 shape
// defined here inside XS that accepts every write and lets the case inject the broker's
// bytes through the client's onReadable. The firmware case runs the sensor-node firmware
// (dist/firmware.js) on the same socket. Nothing here opens a real socket or writes a
// file; the op of every case checks that it did what it claims (and throws otherwise).

import path from "node:path";
import { fileURLToPath } from "node:url";
import { chunkBytesPerOp, chunkFootprint, CHUNK_RESOLUTION } from "../host-sim/engines/xs/chunk-probe.mjs";
import { XsWorker } from "../host-sim/engines/xs/harness.mjs";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The bundle under measurement (built by build/build.mjs). */
const BUNDLE = path.join(root, "dist", "xs-mqtt.js");

/** The firmware bundle (built by build/build.mjs): what the firmware case measures. */
const FIRMWARE_BUNDLE = path.join(root, "dist", "firmware.js");

/** Iterations per measurement (slotsPerOp needs n * slots per op well below ~200,000). */
export const DEFAULT_N = 1000;

/** The allocation targets: at most this many slots per op. */
export const GOALS = /** @type {const} */ ({
  "encode-publish-qos0": 0,
  "encode-publish-qos1": 0,
  "decode-publish-qos0": 0,
  "decode-publish-qos1": 0,
  "publish-qos0": 0,
  "publish-qos1-acked": 0,
  "publish-qos2-complete": 0,
  // MQTT 5.0: a QoS 1 PUBLISH with a reused Properties object, and its PUBACK with a reason code
  "publish-v5-qos1-acked": 0,
  // MQTT 5.0: a QoS 1 message with properties whose handler reads them by accessor, in place
  "receive-v5-qos1-in-place": 0,
  // MQTT 5.0: a QoS 1 message whose topic came as its topic alias alone, read from the alias table
  "receive-v5-alias-in-place": 0,
  "receive-qos0": 4,
  "receive-qos1": 4,
  "receive-qos1-in-place": 0,
  "receive-qos2": 4,
  // the issue's acceptance: a reading allocates nothing beyond its JSON text, which the
  // firmware writes into a buffer made at start-up (bytes, not slots)
  "firmware-reading": 0,
  // a connected board sampling unchanged readings: slots per simulated second
  "firmware-idle": 0,
  // a board rejoining its Wi-Fi access point with backoff: slots per failed join
  "firmware-rejoin": 0,
});

/** @typedef {keyof typeof GOALS} CaseName */

/** Simulated seconds the chunk measurement of firmware-idle covers (and its controls). */
export const IDLE_SECONDS = 600;

/**
 * The chunk-byte targets (string and buffer contents, measured by measureChunks): at most
 * this many chunk bytes per op; firmware-idle's op is one simulated second.
 */
export const CHUNK_GOALS = /** @type {const} */ ({
  "firmware-idle": 0,
});


// The strings the ops compare with, made once: in XS a string literal makes a new string
// (a chunk) each time it runs, which chunkBytesPerOp would count as the op's.
const STRINGS = `
var SENT = "sent";
var ONLINE = "online";
`;

// Shared by every case: a topic, a payload, and the bytes of packets built with the encoder.
const COMMON = STRINGS + `
var enc = new TextEncoder();
var topic = M.prepareTopic("sensors/node-1/temperature", enc);
var payload = enc.encode("21.5 C, humidity 40 %");
var tx = new Uint8Array(256);
var size0 = M.publishSize(topic.bytes.length, payload.length, 0);
var size1 = M.publishSize(topic.bytes.length, payload.length, 1);
function packet(qos, packetId) {
  const buf = new Uint8Array(256);
  const length = M.encodePublish(buf, 0, topic, payload, qos, false, false, packetId);
  return buf.slice(0, length);
}
`;

// A socket of the ECMA-419 shape, entirely inside XS. write() keeps a copy of the last
// packet written (through a view cached per buffer: the client writes the same resizable
// ArrayBuffer every time) and reports a large writable count; inject() hands bytes to the
// client through its onReadable, and read() copies them out exactly as Moddable's does. No allocation per call once
// the view over the client's buffer exists.
const LOOPBACK_SOCKET = `
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
    this.pingreqs = 0;
    this.viewed = undefined;
    this.view = undefined;
    this.readViewed = undefined;
    this.readView = undefined;
    this.closed = false;
    LoopbackSocket.last = this;
  }
  // as Moddable's read(buffer): exactly buffer.byteLength bytes, "invalid" past what is
  // waiting, undefined when nothing is (the client reads into its resizable ArrayBuffer)
  read(buffer) {
    const waiting = this.inEnd - this.inStart;
    if (waiting === 0) return undefined;
    const n = buffer.byteLength;
    if (n === 0 || n > waiting) throw new Error("invalid");
    if (buffer !== this.readViewed) {
      this.readViewed = buffer;
      this.readView = ArrayBuffer.isView(buffer) ? buffer : new Uint8Array(buffer);
    }
    const into = this.readView;
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
    if (view[0] === 0xc0) this.pingreqs++;
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
`;

const LOOPBACK = LOOPBACK_SOCKET + `
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
var qos2 = { qos: 2 };
var ack = new Uint8Array([0x40, 2, 0, 0]);
var pubrec = new Uint8Array([0x50, 2, 0, 0]);
var pubcomp = new Uint8Array([0x70, 2, 0, 0]);
var pubrel = new Uint8Array([0x62, 2, 0, 7]);
`;

// The client at protocolVersion 5, connected by a 5.0 CONNACK (no properties: no topic
// aliases), with a Properties object made once and a PUBACK carrying reason code 0x10.
const LOOPBACK5 = LOOPBACK_SOCKET + `
var Timer = { repeat(callback, interval) { return 1; }, clear(id) {} };
var reasons = 0;
var client = new M.MqttClient({
  host: "127.0.0.1", clientId: "bench", keepAlive: 0, reconnect: false, protocolVersion: 5, mqtt5: M.mqtt5,
  io: { TCP: LoopbackSocket, Timer, TextEncoder, TextDecoder },
  onPublished: (id, reasonCode) => { reasons += reasonCode; },
});
client.connect();
var sock = LoopbackSocket.last;
sock.writable(65536);
if ((sock.written[0] >> 4) !== 1 || sock.written[8] !== 5) throw new Error("the client did not write a level 5 CONNECT");
sock.inject(new Uint8Array([0x20, 3, 0, 0, 0]), 5);
if (client.state !== "connected") throw new Error("not connected after CONNACK: " + client.state);
var qos1v5 = { qos: 1, properties: { messageExpiry: 3600, contentType: enc.encode("text/plain") } };
var ack5 = new Uint8Array([0x40, 3, 0, 0, 0x10]);
`;

// Subscribes (exact filter, so the topic string is known), answers the SUBACK and leaves a
// handler that reads topic and payload: as a string and a view, or in place (topicIs,
// copyPayload: what a handler that must not allocate does).
const SUBSCRIBED = (qos, inPlace = false) => `
var seen = 0;
var seenTopic = "";
var seenLength = 0;
var copied = new Uint8Array(64);
client.subscribe("sensors/node-1/temperature", { qos: ${qos} }, ${inPlace ? `(message) => {
  if (!message.topicIs(topic)) throw new Error("topic");
  seenLength = message.copyPayload(copied);
  seen++;
}` : `(message) => {
  seenTopic = message.topic;
  seenLength = message.payload.length;
  seen++;
}`});
if ((sock.written[0] >> 4) !== 8) throw new Error("the client did not write SUBSCRIBE");
var subId = sock.lastPacketId();
sock.inject(new Uint8Array([0x90, 3, subId >> 8, subId & 0xff, ${qos}]), 5);
var incoming = packet(${qos}, 7);
`;

// Shared by the firmware cases: starts dist/firmware.js (as the global M) with one SHT3x-like
// sensor on LoopbackSocket, the given Timer and the global `clock`, answers CONNECT with
// CONNACK and the birth with its PUBACK, and returns the firmware, online.
const CONNECTED_FIRMWARE = STRINGS + LOOPBACK_SOCKET + `
// the board's Wi-Fi interface (ECMA-419 shape): up, with a signal the diagnostics report;
// drop() loses the link, connect() counts the joins, fail() ends one as an absent access point does
var CONNECTION = "connection";
var CREDENTIALS = { SSID: "bench", password: "bench-pass" };
class BenchWiFi {
  constructor(options) { this.onChanged = options.onChanged; this.state = 500; this.joins = 0; BenchWiFi.last = this; }
  get connection() { return this.state; }
  get RSSI() { return this.state === 500 ? -61 : undefined; }
  connect(options) { if (options !== CREDENTIALS) throw new Error("not the board's credentials"); this.joins++; this.state = 300; }
  disconnect() { this.state = 200; }
  drop() { this.state = 200; this.onChanged(CONNECTION); }
  fail() { this.state = 200; this.onChanged(CONNECTION); }
  close() {}
}
function startConnected({ keepAlive, sampleInterval, maxSilence, statusLed }, Timer, sensor, Digital) {
  const fw = M.startFirmware({
    config: {
      nodeId: "bench",
      broker: { host: "127.0.0.1", keepAlive },
      discovery: false,
      sampleInterval,
      maxSilence,
      statusLed,
      sensors: [{
        id: "climate", driver: "sht3x",
        readings: [
          { key: "temperature", unit: "°C", decimals: 2, deadband: 0.05 },
          { key: "humidity", unit: "%", decimals: 1, deadband: 0.5 },
        ],
      }],
    },
    io: { TCP: LoopbackSocket, Timer, TextEncoder, TextDecoder, now: () => clock, WiFi: BenchWiFi, wifiCredentials: CREDENTIALS, address: () => "192.168.1.23", random: () => 0.5 },
    sensors: { climate: sensor },
    Digital,
  });
  const sock = LoopbackSocket.last;
  sock.writable(65536);
  if ((sock.written[0] >> 4) !== 1) throw new Error("the firmware's client did not write CONNECT");
  sock.inject(new Uint8Array([0x20, 2, 0, 0]), 4);
  if (fw.status !== "online") throw new Error("the firmware is not online after CONNACK: " + fw.status);
  if (sock.written[0] !== 0x33 || fw.client.outboxCount !== 1) throw new Error("the firmware did not publish its birth");
  const birthId = sock.lastPacketId();
  sock.inject(new Uint8Array([0x40, 2, birthId >> 8, birthId & 0xff]), 4);
  if (fw.client.outboxCount !== 0) throw new Error("the PUBACK did not free the outbox");
  return fw;
}
`;

// The sensor-node firmware (dist/firmware.js, loaded as `M`) on LoopbackSocket, connected
// by an injected CONNACK, with one sensor (two readings) and a fake Timer that keeps the
// callbacks so the case can fire them. The sensor's sample() returns the same object every
// time with values that alternate past the deadbands, so every sample is published.
// Discovery is off and there are no actuators: after the CONNACK only the birth (QoS 1)
// goes out, and the sensor states wait for its PUBACK, which is injected here. The first
// tick takes the first sample; from then on the op fires the sample timer's callback, the
// firmware's real path: sampleNow(), the deadband check, the pacer, the JSON written into
// the sensor's buffer, client.publish() (QoS 0) and the socket write.
const FIRMWARE = CONNECTED_FIRMWARE + `
var timers = [];
var Timer = {
  repeat(callback, interval) { timers.push({ callback, interval, cleared: false }); return timers.length; },
  clear(id) { timers[id - 1].cleared = true; },
};
function timerEvery(interval) {
  const found = timers.filter((t) => t.interval === interval && !t.cleared);
  if (found.length !== 1) throw new Error("expected one timer every " + interval + " ms, found " + found.length);
  return found[0].callback;
}
var SAMPLE_INTERVAL = 60000;
var TICK_MS = 250;
var clock = 1000000;
var values = { temperature: 21.5, humidity: 40.5 };
var flip = 0;
var sensor = {
  sample() {
    flip ^= 1;
    values.temperature = flip === 1 ? 21.53 : 21.61;
    values.humidity = flip === 1 ? 40.2 : 40.9;
    return values;
  },
};
var fw = startConnected({ keepAlive: 0, sampleInterval: SAMPLE_INTERVAL, maxSilence: 0 }, Timer, sensor);
var sock = LoopbackSocket.last;
var sampleTick = timerEvery(SAMPLE_INTERVAL);
var counts = fw.counts;
var written = sock.written;
// the text of the last PUBLISH written (its remaining length fits one byte here)
function writtenText() {
  const w = sock.written;
  // 0x31: PUBLISH, QoS 0, retain (sensor states are retained)
  if (w[0] !== 0x31 || w[1] > 127) throw new Error("not a short retained QoS 0 PUBLISH");
  const topicLength = (w[2] << 8) | w[3];
  const decoder = new TextDecoder();
  return decoder.decode(w.subarray(4, 4 + topicLength)) + " " + decoder.decode(w.subarray(4 + topicLength, 2 + w[1]));
}
timerEvery(TICK_MS)(); // the first tick takes the first sample
if (counts.readingsPublished !== 1) throw new Error("the first sample was not published");
if (writtenText() !== 'xs-mqtt/bench/climate/state {"temperature":21.53,"humidity":40.2}') throw new Error("first reading: " + writtenText());
var readingLength = sock.writtenLength;
clock += SAMPLE_INTERVAL;
sampleTick();
if (counts.readingsPublished !== 2) throw new Error("the second sample was not published");
if (writtenText() !== 'xs-mqtt/bench/climate/state {"temperature":21.61,"humidity":40.9}') throw new Error("second reading: " + writtenText());
`;


// A connected, idle board: dist/firmware.js on LoopbackSocket with a fake clock that fires
// every Timer callback when it is due (firmware tick, sample timer, client keepalive
// timer). The sensor returns the same values every sample, so no reading moves past its
// deadband; what the board does is: tick every 250 ms (showing its status on a status
// LED), sample every 5 s, send PINGREQ when the 30 s keepalive asks (PINGRESP injected
// back [MQTT-3.1.2-23]), republish its unchanged readings every 60 s (maxSilence: a
// publish, which allocates nothing either), and publish its diagnostics (uptime, Wi-Fi
// RSSI, IP address) every 60 s. One op is one simulated second; the measured run covers
// n seconds.
const FIRMWARE_IDLE = CONNECTED_FIRMWARE + `
var clock = 1000000;
var timers = [];
var Timer = {
  repeat(callback, interval) { timers.push({ callback, interval, due: clock + interval, cleared: false }); return timers.length; },
  clear(id) { timers[id - 1].cleared = true; },
};
var values = { temperature: 21.5, humidity: 40.5 };
var sensor = { sample() { return values; } };
// the status LED's pin: counts its writes (the LED is lit once online, then left alone)
var LedPin = class {
  static Output = 1;
  static writes = 0;
  static level = -1;
  write(value) { LedPin.writes++; LedPin.level = value; }
};
var fw = startConnected({ keepAlive: 30, sampleInterval: 5000, maxSilence: 60000, statusLed: { pin: 2 } }, Timer, sensor, LedPin);
var sock = LoopbackSocket.last;
var pingresp = new Uint8Array([0xd0, 0]);
var pings = 0;
// advances the clock by ms, firing each due callback (no allocation)
function advance(ms) {
  clock += ms;
  for (let i = 0; i < timers.length; i++) {
    const t = timers[i];
    while (!t.cleared && t.due <= clock) {
      t.due += t.interval;
      t.callback();
    }
  }
  // a PINGREQ gets its PINGRESP, even when another packet was written after it
  if (sock.pingreqs !== pings) {
    pings = sock.pingreqs;
    sock.inject(pingresp, 2);
  }
}
var counts = fw.counts;
for (let i = 0; i < 8; i++) advance(250); // the first tick takes (and publishes) the first sample
if (counts.readingsPublished !== 1) throw new Error("the first sample was not published");
`;

// The idle board of FIRMWARE_IDLE whose Wi-Fi link is then lost, its access point away: the
// client paused (its own timer still ticking every 500 ms), the firmware's tick rejoining
// with backoff (device/app/wifi.ts).
const FIRMWARE_REJOIN = FIRMWARE_IDLE + `
var wifi = BenchWiFi.last;
wifi.drop();
if (fw.status === ONLINE) throw new Error("the board is still online without Wi-Fi");
if (timers.filter((t) => !t.cleared && t.interval === 500).length !== 1) throw new Error("expected the client's one timer every 500 ms");
`;

// A loop on the idle board's simulated clock that makes one string of `length` characters
// every `interval` ms: the positive controls of the chunk measurement.
const CONTROL_LOOP = (interval, length) => `
var controlA = "x".repeat(${length >> 1});
var controlB = "y".repeat(${length - (length >> 1)});
var controlMade = undefined;
Timer.repeat(() => { controlMade = controlA + controlB; }, ${interval});
`;

/**
 * The positive controls of the chunk measurement: the idle board of firmware-idle with a
 * loop that makes a known number of chunk bytes per simulated second (`expected`: each
 * string's chunkFootprint, times strings per second). measureControl() must read each
 * within CHUNK_RESOLUTION / seconds of it.
 */
export const CONTROLS = {
  // one 100-character string every simulated second: 120 bytes per second
  "every-second": { setup: FIRMWARE_IDLE + CONTROL_LOOP(1000, 100), expected: chunkFootprint(100) },
  // one 51-character string every simulated minute: 72 bytes a minute, 1.2 per second
  "every-minute": { setup: FIRMWARE_IDLE + CONTROL_LOOP(60000, 51), expected: chunkFootprint(51) / 60 },
};

/**
 * Each case: its setup and op; `bundle`, the bundle loaded as `M` (default BUNDLE); and
 * `exclude`, an op whose slots per call (measured after the case, in the same worker) are
 * not the measured code's: subtracted from the figure.
 * `verify` runs after the measurement, in the same worker, and throws when the runs did not
 * do what the case claims.
 * @type {Record<CaseName, { setup: string, op: string, bundle?: string, exclude?: string, verify?: string }>}
 */
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
    op: `if (client.publish(topic, payload) !== SENT || (sock.written[0] >> 4) !== 3) throw new Error("publish");`,
  },
  "publish-qos1-acked": {
    setup: COMMON + LOOPBACK,
    op: `if (client.publish(topic, payload, qos1) !== SENT) throw new Error("publish");
const id = sock.lastPacketId();
if (client.lastPacketId !== id) throw new Error("client.lastPacketId is not the id written");
ack[2] = id >> 8;
ack[3] = id & 0xff;
sock.inject(ack, 4);
if (client.outboxCount !== 0) throw new Error("the PUBACK did not free the outbox");`,
  },
  "publish-v5-qos1-acked": {
    setup: COMMON + LOOPBACK5,
    op: `if (client.publish(topic, payload, qos1v5) !== "sent") throw new Error("publish");
const id = sock.lastPacketId();
if (client.lastPacketId !== id) throw new Error("client.lastPacketId is not the id written");
const before = reasons;
ack5[2] = id >> 8;
ack5[3] = id & 0xff;
sock.inject(ack5, 5);
if (client.outboxCount !== 0) throw new Error("the PUBACK did not free the outbox");
if (reasons !== before + 0x10) throw new Error("onPublished did not get the reason code");`,
  },
  "receive-v5-qos1-in-place": {
    setup: COMMON + LOOPBACK5 + `
var seen = 0;
var seenLength = 0;
var copied = new Uint8Array(64);
var contentType = enc.encode("text/plain");
client.subscribe("sensors/node-1/temperature", { qos: 1 }, (message) => {
  if (!message.topicIs(topic)) throw new Error("topic");
  if (message.messageExpiry !== 60 || !message.propertyEquals(M.PROP_CONTENT_TYPE, contentType)) throw new Error("properties");
  seenLength = message.copyPayload(copied);
  seen++;
});
if ((sock.written[0] >> 4) !== 8) throw new Error("the client did not write SUBSCRIBE");
var subId = sock.lastPacketId();
sock.inject(new Uint8Array([0x90, 4, subId >> 8, subId & 0xff, 0, 1]), 6);
var incomingProps = { messageExpiry: 60, contentType };
var incomingBuf = new Uint8Array(256);
var incomingLength = M.encodePublish5(incomingBuf, 0, topic, payload, 1, false, false, 7, incomingProps, M.propertiesSize(incomingProps, M.PUBLISH));
var incoming = incomingBuf.slice(0, incomingLength);
`,
    op: `const before = seen;
sock.inject(incoming, incoming.length);
if (seen !== before + 1 || seenLength !== payload.length) throw new Error("receive");
if (sock.written[0] !== 0x40 || sock.lastPacketId() !== 7) throw new Error("no PUBACK");`,
  },
  "receive-v5-alias-in-place": {
    setup: COMMON + LOOPBACK5 + `
var seen = 0;
var seenLength = 0;
var copied = new Uint8Array(64);
client.subscribe("sensors/+/temperature", { qos: 1 }, (message) => {
  if (!message.topicIs(topic)) throw new Error("topic");
  seenLength = message.copyPayload(copied);
  seen++;
});
if ((sock.written[0] >> 4) !== 8) throw new Error("the client did not write SUBSCRIBE");
var subId = sock.lastPacketId();
sock.inject(new Uint8Array([0x90, 4, subId >> 8, subId & 0xff, 0, 1]), 6);
var aliasProps = { topicAlias: 1 };
var aliasSize = M.propertiesSize(aliasProps, M.PUBLISH);
var incomingBuf = new Uint8Array(256);
// the first PUBLISH sets alias 1 (topic and alias), the op's come with the alias alone
var setLength = M.encodePublish5(incomingBuf, 0, topic, payload, 1, false, false, 6, aliasProps, aliasSize);
sock.inject(incomingBuf.slice(0, setLength), setLength);
if (seen !== 1) throw new Error("the PUBLISH setting the alias was not delivered");
var incomingLength = M.encodePublish5(incomingBuf, 0, undefined, payload, 1, false, false, 7, aliasProps, aliasSize);
var incoming = incomingBuf.slice(0, incomingLength);
if (incoming[2] !== 0 || incoming[3] !== 0) throw new Error("not an empty topic");
`,
    op: `const before = seen;
sock.inject(incoming, incoming.length);
if (seen !== before + 1 || seenLength !== payload.length) throw new Error("receive");
if (sock.written[0] !== 0x40 || sock.lastPacketId() !== 7) throw new Error("no PUBACK");`,
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
  "publish-qos2-complete": {
    setup: COMMON + LOOPBACK,
    op: `if (client.publish(topic, payload, qos2) !== SENT) throw new Error("publish");
const id = client.lastPacketId;
if (sock.lastPacketId() !== id) throw new Error("the PUBLISH written has another id");
pubrec[2] = id >> 8;
pubrec[3] = id & 0xff;
sock.inject(pubrec, 4);
if (sock.written[0] !== 0x62 || sock.lastPacketId() !== id) throw new Error("no PUBREL");
pubcomp[2] = id >> 8;
pubcomp[3] = id & 0xff;
sock.inject(pubcomp, 4);
if (client.outboxCount !== 0) throw new Error("the PUBCOMP did not free the outbox");`,
  },
  "receive-qos2": {
    setup: COMMON + LOOPBACK + SUBSCRIBED(2),
    op: `const before = seen;
sock.inject(incoming, incoming.length);
if (seen !== before + 1 || seenLength !== payload.length) throw new Error("receive");
if (sock.written[0] !== 0x50 || sock.lastPacketId() !== 7) throw new Error("no PUBREC");
sock.inject(pubrel, 4);
if (sock.written[0] !== 0x70 || sock.lastPacketId() !== 7) throw new Error("no PUBCOMP");`,
  },
  "receive-qos1-in-place": {
    setup: COMMON + LOOPBACK + SUBSCRIBED(1, true),
    op: `const before = seen;
const writes = sock.writes;
sock.inject(incoming, incoming.length);
if (seen !== before + 1 || seenLength !== payload.length || copied[0] !== payload[0]) throw new Error("receive");
if (sock.writes !== writes + 1 || sock.written[0] !== 0x40 || sock.lastPacketId() !== 7) throw new Error("no PUBACK");`,
  },
  // one reading through the firmware, minus what the sensor's own sample() allocates
  "firmware-reading": {
    bundle: FIRMWARE_BUNDLE,
    setup: FIRMWARE,
    op: `const before = counts.readingsPublished;
clock += SAMPLE_INTERVAL;
sampleTick();
if (counts.readingsPublished !== before + 1 || written[0] !== 0x31 || sock.writtenLength !== readingLength) throw new Error("the reading was not published");`,
    exclude: `sensor.sample();`,
  },
  // one failed join while the access point is away: the backoff's wait runs out on the
  // firmware's tick (a simulated 250 ms each), connect() is called, the join fails (see FIRMWARE_REJOIN)
  "firmware-rejoin": {
    bundle: FIRMWARE_BUNDLE,
    setup: FIRMWARE_REJOIN,
    op: `const before = wifi.joins;
for (let i = 0; i < 400 && wifi.joins === before; i++) advance(250);
if (wifi.joins !== before + 1) throw new Error("no join within 100 s");
wifi.fail();`,
    verify: `if (wifi.joins < 10) throw new Error("too few joins: " + wifi.joins);
if (counts.wifiJoins !== wifi.joins) throw new Error("the firmware's count of its joins is " + counts.wifiJoins + ", not " + wifi.joins);
if (fw.client.stats.attempts !== 1) throw new Error("the client made attempts while Wi-Fi was down: " + fw.client.stats.attempts);`,
  },
  // one simulated second of an idle connected board (see FIRMWARE_IDLE)
  "firmware-idle": {
    bundle: FIRMWARE_BUNDLE,
    setup: FIRMWARE_IDLE,
    op: `advance(250); advance(250); advance(250); advance(250);
if (fw.status !== ONLINE || !fw.client.connected) throw new Error("the board went offline: " + fw.status);`,
    // n seconds ran three times (warm-up, baseline 0, measured): the keepalive pinged,
    // maxSilence republished the unchanged readings, the diagnostics went out, and nothing else
    verify: `if (pings < 2) throw new Error("no keepalive PINGREQ/PINGRESP in the idle run: " + pings);
if (counts.readingsPublished < 3) throw new Error("maxSilence did not republish: " + counts.readingsPublished);
if (counts.samples < 10) throw new Error("the board did not sample: " + counts.samples);
if (counts.diagnosticsPublished < 3) throw new Error("no diagnostics in the idle run: " + counts.diagnosticsPublished);
if (LedPin.level !== 1) throw new Error("the status LED is not lit while online");`,
  },
};

/**
 * Measures one case in a worker of its own (cases must not share a heap: each defines
 * globals and a client). Closes the worker.
 * @param {CaseName} name
 * @param {number} [count]
 * @returns {Promise<number>} slots per op
 */
export async function measureCase(name, count = DEFAULT_N) {
  const spec = CASES[name];
  if (spec === undefined) throw new Error(`no xs-alloc case named ${name}`);
  const bundle = spec.bundle ?? BUNDLE;
  const worker = await XsWorker.start({ name: `xs-alloc ${name}` });
  try {
    await worker.importModule(bundle, "M");
    const slots = await worker.slotsPerOp(spec.setup, spec.op, count);
    if (spec.verify !== undefined) await worker.evaluate(spec.verify);
    if (spec.exclude === undefined) return slots;
    return slots - await worker.slotsPerOp("", spec.exclude, count);
  } finally {
    await worker.close();
  }
}

/**
 * XS computrons (xsnap's compute meter, which counts the instructions XS runs) one op of a
 * case takes, in a worker of its own: a delivery that runs the op `count` times less one
 * that runs it no time, after a warm-up run. Closes the worker.
 * @param {CaseName} name
 * @param {number} [count]
 * @param {string} [bundle] the build to measure (default: the case's)
 * @returns {Promise<number>}
 */
export async function measureCompute(name, count = DEFAULT_N, bundle = undefined) {
  const spec = CASES[name];
  if (spec === undefined) throw new Error(`no xs-alloc case named ${name}`);
  const worker = await XsWorker.start({ name: `xs-compute ${name}` });
  try {
    await worker.importModule(bundle ?? spec.bundle ?? BUNDLE, "M");
    await worker.evaluate(spec.setup);
    const loop = (n) => `for (let __computeI = 0; __computeI < ${n}; __computeI++) {\n${spec.op}\n}`;
    await worker.evaluate(loop(count));
    const base = (await worker.evaluate(loop(0))).compute;
    const measured = (await worker.evaluate(loop(count))).compute;
    return (measured - base) / count;
  } finally {
    await worker.close();
  }
}

/**
 * Chunk-heap bytes one op of a case allocates (string and buffer contents, XS's chunk
 * headers included), by chunkBytesPerOp (host-sim/engines/xs/chunk-probe.mjs), in a worker of its own. Closes the worker.
 * Exact to within CHUNK_RESOLUTION / count.
 * @param {CaseName} name
 * @param {number} [count]
 * @returns {Promise<number>}
 */
export async function measureChunks(name, count = DEFAULT_N) {
  const spec = CASES[name];
  if (spec === undefined) throw new Error(`no xs-alloc case named ${name}`);
  return chunksIn(name, spec.bundle ?? BUNDLE, spec.setup, spec.op, count, spec.verify);
}

/**
 * A positive control's reading (see CONTROLS): chunk bytes per simulated second.
 * @param {keyof typeof CONTROLS} name
 * @param {number} [seconds]
 * @returns {Promise<number>}
 */
export async function measureControl(name, seconds = IDLE_SECONDS) {
  const idle = CASES["firmware-idle"];
  return chunksIn(`control ${name}`, FIRMWARE_BUNDLE, CONTROLS[name].setup, idle.op, seconds, idle.verify);
}

/**
 * @param {string} name @param {string} bundle @param {string} setup @param {string} op
 * @param {number} count @param {string | undefined} verify
 */
async function chunksIn(name, bundle, setup, op, count, verify) {
  const worker = await XsWorker.start({ name: `xs-alloc chunks ${name}` });
  try {
    await worker.importModule(bundle, "M");
    const bytes = await chunkBytesPerOp(worker, setup, op, count);
    if (verify !== undefined) await worker.evaluate(verify);
    return bytes;
  } finally {
    await worker.close();
  }
}

export { CHUNK_RESOLUTION };
