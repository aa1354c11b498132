// Broker throughput: three publishers measured one after another in the same run, through
// one private mosquitto, into one counting subscriber, with 64-byte payloads:
//   ours    MqttClient from dist/xs-mqtt.js on the host simulator's IO (host-sim/io/io.ts,
//           bundled for Node with esbuild at start: TCP with the device's 1,536-byte send
//           window), default options unless a line says otherwise;
//   mqttjs  MQTT.js 5 (node_modules/mqtt), protocol 3.1.1;
//   raw     a plain socket writing pre-encoded PUBLISH packets in 1,000-packet blocks (the
//           limit of broker + subscriber, give or take the noise: blocks of 18, 100 and
//           1,000 packets ran alike here; it reads and ignores the PUBACKs).
// Each publisher publishes as fast as it can while respecting backpressure:
//   ours    publish() until it refuses; "dropped" (QoS 0, transmit buffer full) -> wait for
//           onReady and publish the same message again (counted as retries, so all N
//           arrive); "outbox-full" (QoS 1) -> wait for the next onPublished or onReady.
//   mqttjs  QoS 0: publish() until stream.writableNeedDrain, then wait for "drain".
//           QoS 1: at most MQTTJS_WINDOW publishes awaiting their callback (the PUBACK),
//           and wait for "drain" when the stream asks.
//   raw     socket.write() of whole blocks; waits for "drain" when write() returns false.
// The subscriber is a child process (this file with --subscriber) on a raw socket: a
// hand-written CONNECT and SUBSCRIBE "bench/#" QoS 1 (so QoS 0 messages arrive as QoS 0 and
// QoS 1 as QoS 1), a streaming byte-level parser of fixed header and remaining length that
// counts PUBLISH packets and answers QoS 1 ones with PUBACK (one write per data chunk).
// rate = messages received by the subscriber / (time of the last one received - time just
// before the first publish), both on the monotonic clock (process.hrtime) shared by the
// two processes. Connecting is not timed. Each case runs ROUNDS rounds, the publisher
// order rotated every round, after a short unreported warm-up; the figure is the median.
//
// Then the client-bound cases: the same three publishers and rounds against a sink child
// process (this file with --sink) in mosquitto's place, which accepts the connection, answers
// CONNECT and PINGREQ, frames and counts PUBLISH packets and answers QoS 1 ones with PUBACK
// (the subscriber's parser): the publisher's own costs, with no broker between. They run
// twice: ours with the defaults on the default send window (Moddable's Linux port's, 1,536
// bytes), then sized ("-sized" cases, their options printed as "ours_options"): on an
// ESP32's send window (8,192 bytes), a 4,096-byte transmit buffer, and at QoS 1 the window
// MQTT.js has, MQTTJS_WINDOW messages in flight, with an outbox that holds them. A fourth
// publisher runs there, raw-window: the raw socket held to ours' send window (blocks of at
// most the window's bytes, the next written once the last has gone, as ours waits for
// onWritable): what the window alone allows, where raw writes 1,000 packets a system call.
// With --profile it runs only our client's QoS 0 client-bound case under V8's sampling
// profiler (the inspector, 100 µs) and prints the frames with the most self time; with
// --client-bound it runs only the client-bound cases.
//
// Prints one JSON object per line:
//   {"bench":"broker","case":"qos0"|"qos1","messages":N,"ours_msgs_s":A,"mqttjs_msgs_s":B,
//    "raw_msgs_s":C, "ours_vs_raw":A/C, "ours_vs_mqttjs":A/B, "ours_cpu_us_per_msg":U, ...,
//    "ours_qos0_retries":R, "rounds":3, "all_received":bool}
//   {"bench":"broker","case":"qos0-client-bound"|"qos1-client-bound", the same fields,
//    "ours_vs_mqttjs_cpu": ours_cpu_us_per_msg / mqttjs_cpu_us_per_msg, "raw_window_bytes":W,
//    "raw_window_msgs_s":D, "ours_vs_raw_window":A/D, "raw_window_cpu_us_per_msg":..}
//   {"bench":"broker","case":"qos0-client-bound-sized"|"qos1-client-bound-sized", the same
//    fields, "ours_options":{...},"ours_window":8192}
//   with --profile: {"bench":"broker","case":"qos0-client-bound-profile","top":[{"frame","self_pct"},..]}
//   where *_cpu_us_per_msg is the CPU time (user + system) of this process, which runs
//   only the publisher, per message: a figure that the machine's load disturbs less than
//   the rate does. R = "dropped" answers retried per round (QoS 0).
//   {"bench":"broker","case":"qos1-burst","messages":200000,"completed":bool,"seconds":S,
//    "peak_heap_mb":M, "start_heap_mb":M0, "peak_heap_mb_by_quarter":[..4],
//    "retained_heap_start_mb":R0, "retained_heap_end_mb":R1, "received":n}
//    (our client, QoS 1, offered as fast as the outbox takes them; heapUsed of this process
//    sampled every 10 ms; the quarters are of the run's whole seconds;
//    retained = heapUsed after a full GC, before the burst and after it with the client
//    still connected: memory that grew with traffic would show there)
//   {"bench":"broker","case":"qos0-options"|"qos1-options","options":{...},"ours_msgs_s":A,
//    "raw_msgs_s":C or "mqttjs_msgs_s":B, "ours_vs_raw" or "ours_vs_mqttjs", ...}
//    (our client with the default sizes, {}, then other buffer and window sizes, each next
//    to a reference publisher (raw for QoS 0, MQTT.js for QoS 1) in A-B-B-A order, means
//    of two measurements each: compare the ratios between lines, not across runs)
// Every measurement has a deadline (30 s; the burst 60 s); one that misses it is reported
// with completed:false (or all_received:false). The option lines are skipped once the run
// passes 4.5 minutes; a whole run took 2 minutes here (3.5 with the machine busy). Its
// progress (each measurement as it starts) goes to stderr (bench/progress.mjs).
// mosquitto runs with max_inflight_messages 0 and max_queued_messages 0 (no limits): its
// defaults would drop QoS 0 messages queued past 1,000 for the subscriber and pace QoS 1
// deliveries at 20 in flight.
//
// Sockets: only to 127.0.0.1, to the mosquitto this bench starts (bench/mosquitto.mjs, its
// own config file, a free port). It stops what it starts: the subscriber, every publisher
// and mosquitto, in a finally block (and an exit hook), also after an error.
// Usage: npm run bench:broker (builds dist/ first). Environment, both optional:
// BENCH_ROUNDS (default 3); XS_MQTT_BUNDLE, another build of dist/xs-mqtt.js to measure
// (e.g. a candidate change to the client, built with build/build.mjs elsewhere).

import { fork } from "node:child_process";
import { once } from "node:events";
import inspector from "node:inspector/promises";
import * as net from "node:net";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { progress } from "./progress.mjs";

const PAYLOAD_BYTES = 64;
const QOS0_MESSAGES = 100_000;
const QOS1_MESSAGES = 50_000;
const BURST_MESSAGES = 200_000;
const WARMUP_MESSAGES = 10_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** --profile: only our client's QoS 0 client-bound case, with the top frames of its CPU profile. */
const PROFILE = process.argv.includes("--profile");
/** --client-bound: only the client-bound cases. */
const CLIENT_BOUND = process.argv.includes("--client-bound");
const MEASURE_TIMEOUT_MS = 30_000; // one publisher, one case, one round
const BURST_TIMEOUT_MS = 60_000;
const RUN_BUDGET_MS = 270_000; // the option sweep is skipped past this
const MQTTJS_WINDOW = 1_000; // QoS 1 publishes in flight for MQTT.js (100 and 10,000 did no better here)
/** The send window of an ESP32 (Moddable's lwIP configuration), for the sized client-bound cases. */
const ESP32_WINDOW = 8192;
/** Ours in the sized client-bound cases, by QoS: at QoS 1 MQTT.js's window, and an outbox that holds it (128 bytes a message). */
const SIZED = [
  { transmitBufferSize: 4096 },
  { transmitBufferSize: 4096, maxInflight: MQTTJS_WINDOW, outboxMessages: MQTTJS_WINDOW, outboxBytes: 128 * MQTTJS_WINDOW },
];
const RAW_BLOCK = 1_000;
/** The host simulator's default send window (Moddable's Linux port's), for raw-window in the default client-bound cases. */
const DEFAULT_WINDOW = 1536;
const TOPIC_PREFIX = "bench/";
const SUB_FILTER = "bench/#";

/** Our client with other sizes: [QoS, options]. Defaults are 1,024 TX, 16 in flight, 4,096/64 outbox. */
const OPTION_VARIANTS = [
  [0, {}],
  [0, { transmitBufferSize: 1536 }],
  [0, { transmitBufferSize: 4096 }],
  [1, {}],
  [1, { maxInflight: 32 }],
  [1, { maxInflight: 64, outboxBytes: 8192, outboxMessages: 128 }],
];

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === "--subscriber") {
  runSubscriber(Number(process.argv[3]));
} else if (process.argv[2] === "--sink") {
  runSink();
} else {
  await main();
}

// ---------------------------------------------------------------- the counting subscriber

function runSubscriber(port) {
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.setNoDelay(true);
  const clientId = Buffer.from("bench-counter");
  const filter = Buffer.from(SUB_FILTER);
  // CONNECT: protocol "MQTT" level 4, clean session, keepalive 0
  const connectBody = Buffer.concat([
    Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0, clientId.length >> 8, clientId.length & 0xff]),
    clientId,
  ]);
  // SUBSCRIBE packet id 1, one filter at QoS 1
  const subscribeBody = Buffer.concat([
    Buffer.from([0, 1, filter.length >> 8, filter.length & 0xff]), filter, Buffer.from([1]),
  ]);
  socket.write(Buffer.concat([
    Buffer.from([0x10, connectBody.length]), connectBody,
    Buffer.from([0x82, subscribeBody.length]), subscribeBody,
  ]));

  const counter = packetCounter();
  counter.attach(socket, (type) => {
    if (type === 9) process.send({ type: "ready" });
  });
  socket.on("error", (error) => {
    process.send({ type: "error", message: error.message });
    process.exit(1);
  });
  socket.on("close", () => process.exit(0));
  counter.listen(() => socket.destroy());
}

/**
 * The client-bound sink: a child process that stands in for the broker, so the publisher's
 * own costs are measured: it accepts MQTT connections on a free 127.0.0.1 port (sent to the
 * parent as {type: "port"}), answers CONNECT with CONNACK and PINGREQ with PINGRESP, frames
 * and counts PUBLISH packets and answers QoS 1 ones with PUBACK, as the subscriber does.
 */
function runSink() {
  const counter = packetCounter();
  const sockets = new Set();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    counter.attach(socket, (type) => {
      if (type === 1) socket.write(Buffer.from([0x20, 2, 0, 0]));
      else if (type === 12) socket.write(Buffer.from([0xd0, 0]));
      else if (type === 14) socket.end();
    });
  });
  server.listen(0, "127.0.0.1", () => process.send({ type: "port", port: server.address().port }));
  counter.listen(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
}

/**
 * Counts PUBLISH packets over the sockets attached (a streaming parser of fixed header and
 * remaining length per socket; QoS 1 PUBLISHes answered with PUBACK, one write per data
 * chunk) and answers the parent: "expect" arms a count, "done" goes once it is reached,
 * "report" says how far it is, "exit" ends the process.
 */
function packetCounter() {
  let count = 0;
  let expected = Infinity;
  let firstAt = 0;
  let lastAt = 0;
  let doneSent = false;
  let acks = Buffer.allocUnsafe(4096);

  /** Parses what `socket` receives; `onPacket(type)` hears every packet other than PUBLISH. */
  function attach(socket, onPacket) {
    // parser state: 0 fixed header byte, 1 remaining length, 2 body
    let state = 0;
    let header = 0;
    let remaining = 0;
    let multiplier = 1;
    let pos = 0;
    let wantId = false;
    let topicLength = 0;
    let packetId = 0;

    const packetDone = () => {
      const type = header >> 4;
      if (type === 3) count++;
      else onPacket(type);
    };

    socket.on("data", (data) => {
      const before = count;
      let ackBytes = 0;
      if (acks.length < data.length) acks = Buffer.allocUnsafe(data.length);
      const length = data.length;
      let index = 0;
      while (index < length) {
        if (state === 0) {
          header = data[index++];
          remaining = 0;
          multiplier = 1;
          state = 1;
          continue;
        }
        if (state === 1) {
          const byte = data[index++];
          remaining += (byte & 0x7f) * multiplier;
          multiplier *= 128;
          if (byte & 0x80) continue;
          pos = 0;
          wantId = header >> 4 === 3 && ((header >> 1) & 3) > 0;
          topicLength = 0;
          packetId = 0;
          if (remaining === 0) {
            packetDone();
            state = 0;
          } else {
            state = 2;
          }
          continue;
        }
        // body: for a QoS 1 PUBLISH read the topic length and packet id, skip everything else
        if (wantId) {
          if (pos < 2) {
            topicLength = (topicLength << 8) | data[index++];
            pos++;
          } else if (pos < 2 + topicLength) {
            const take = Math.min(2 + topicLength - pos, length - index);
            index += take;
            pos += take;
          } else {
            packetId = (packetId << 8) | data[index++];
            pos++;
            if (pos === 4 + topicLength) {
              wantId = false;
              acks[ackBytes] = 0x40;
              acks[ackBytes + 1] = 2;
              acks[ackBytes + 2] = packetId >> 8;
              acks[ackBytes + 3] = packetId & 0xff;
              ackBytes += 4;
            }
          }
        } else {
          const take = Math.min(remaining - pos, length - index);
          index += take;
          pos += take;
        }
        if (pos === remaining) {
          packetDone();
          state = 0;
        }
      }
      if (ackBytes > 0) socket.write(Buffer.from(acks.subarray(0, ackBytes)));
      if (count !== before) {
        lastAt = nowMs();
        if (before === 0) firstAt = lastAt;
        if (!doneSent && count >= expected) {
          doneSent = true;
          process.send({ type: "done", count, firstAt, lastAt });
        }
      }
    });
  }

  /** Answers the parent; `close()` before the process exits. */
  function listen(close) {
    process.on("message", (message) => {
      if (message.cmd === "expect") {
        count = 0;
        expected = message.count;
        firstAt = 0;
        lastAt = 0;
        doneSent = false;
        process.send({ type: "armed" });
      } else if (message.cmd === "report") {
        process.send({ type: "report", count, firstAt, lastAt });
      } else if (message.cmd === "exit") {
        close();
        process.exit(0);
      }
    });
    process.on("disconnect", () => process.exit(0));
  }

  return { attach, listen };
}

/** The frames with the most self time in a CPU profile (idle and the GC apart), as {frame, self_pct}. */
function topFrames(profile, count) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((id, at) => {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === "(idle)") return;
    const key = `${functionName || "(anonymous)"} ${url.split("/").pop()}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + profile.timeDeltas[at]);
    total += profile.timeDeltas[at];
  });
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, count).map(([frame, time]) => ({ frame, self_pct: Math.round((1000 * time) / total) / 10 }));
}

/** A full garbage collection, without --expose-gc on the command line (bench:broker has none). */
function fullGc() {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc");
}

/** Milliseconds on the monotonic clock that parent and child share. */
function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

// ---------------------------------------------------------------- the parent

async function main() {
  const startedAt = Date.now();
  const { startMosquitto } = await import("./mosquitto.mjs");
  const { loadHostIo } = await import("./host-io.mjs");
  const { MqttClient } = await import(process.env.XS_MQTT_BUNDLE ? pathToFileURL(process.env.XS_MQTT_BUNDLE).href : "../dist/xs-mqtt.js");
  const require = createRequire(import.meta.url);
  const mqtt = require("mqtt");

  // unlimited in-flight and queued messages towards the subscriber: without this mosquitto
  // drops QoS 0 messages past 1,000 queued per client and paces QoS 1 at 20 in flight
  const broker = await startMosquitto({ config: ["max_inflight_messages 0", "max_queued_messages 0"] });
  // the measurements, in order: warm-ups and rounds of qos0 and qos1 (3 publishers), of the
  // four client-bound cases (4: raw-window too), the burst, the sweep's warm-up and its four
  // measurements per variant; --profile: a warm-up and the profiled run
  const caseSteps = (publishers) => publishers * (1 + ROUNDS);
  const clientBoundSteps = 4 * caseSteps(4);
  const steps = PROFILE ? 2 : CLIENT_BOUND ? clientBoundSteps : 2 * caseSteps(3) + clientBoundSteps + 1 + 1 + 4 * OPTION_VARIANTS.length;
  const shown = progress("bench:broker", steps);
  let subscriber;
  let sinkChild;
  const open = new Set(); // publishers to close whatever happens
  try {
    const { hostIo, TCP } = await loadHostIo(broker.dir);
    const io = hostIo();
    const esp32Io = { ...io, TCP: class extends TCP { constructor(options) { super({ ...options, window: ESP32_WINDOW }); } } };
    let port = broker.port;
    const payload = new Uint8Array(PAYLOAD_BYTES).fill(0x61);
    const payloadBuffer = Buffer.from(payload);
    let nextId = 0;

    // ---- the counting processes: the subscriber (through mosquitto), the sink (in its place)
    /** A child that counts what it receives: `to(message)`, `from(type, deadline)`. */
    function counterProcess(args, name) {
      const child = fork(self, args, { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
      const inbox = [];
      let waiting;
      child.on("message", (message) => {
        inbox.push(message);
        if (waiting) waiting();
      });
      child.on("error", () => {}); // a send after it died: reported by the exit below
      child.on("exit", (code, signal) => {
        inbox.push({ type: "error", message: `exited (${signal ?? code}); mosquitto: ${broker.status}` });
        if (waiting) waiting();
      });
      return {
        child,
        inbox,
        to(message) {
          if (!child.connected) throw new Error(`the ${name} is gone; mosquitto: ${broker.status}`);
          child.send(message);
        },
        /** The next message of `type` from it, or undefined at `deadline`. */
        async from(type, deadline) {
          for (;;) {
            const at = inbox.findIndex((m) => m.type === type || m.type === "error");
            if (at >= 0) {
              const message = inbox.splice(at, 1)[0];
              if (message.type === "error") {
                throw new Error(`${name}: ${message.message}; mosquitto: ${broker.status} ${broker.stderr.trim()}`);
              }
              return message;
            }
            const left = deadline - Date.now();
            if (left <= 0) return undefined;
            await new Promise((resolve) => {
              const timer = setTimeout(resolve, left);
              waiting = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            waiting = undefined;
          }
        },
      };
    }
    const subscribing = counterProcess(["--subscriber", String(port)], "subscriber");
    subscriber = subscribing.child;
    let counting = subscribing;
    const toSubscriber = (message) => counting.to(message);
    const fromSubscriber = (type, deadline) => counting.from(type, deadline);
    if (!(await fromSubscriber("ready", Date.now() + 10_000))) throw new Error("the subscriber did not subscribe");

    // ---- publishers: open() connects; run(count, deadline) publishes count messages; close() ends it
    function ours(qos, options = {}, withIo = io) {
      let client;
      let wake;
      let failure;
      const wakeUp = () => {
        const resolve = wake;
        wake = undefined;
        if (resolve) resolve();
      };
      return {
        name: "ours",
        async open() {
          let connected;
          const ready = new Promise((resolve, reject) => {
            connected = resolve;
            setTimeout(() => reject(new Error("ours: no CONNACK")), 10_000).unref();
          });
          client = new MqttClient({
            host: "127.0.0.1", port, clientId: `bench-ours-${nextId++}`, io: withIo, keepAlive: 60, reconnect: false,
            ...options,
            onConnected: () => connected(),
            onPublished: wakeUp,
            onReady: wakeUp,
            onError: (e) => { failure = e; wakeUp(); },
          });
          open.add(this);
          client.connect();
          await ready;
          this.topic = client.prepareTopic(TOPIC_PREFIX + "qos" + qos);
        },
        async run(count, deadline) {
          const topic = this.topic;
          const opts = { qos };
          let retries = 0;
          let waits = 0;
          let published = 0;
          const watchdog = setTimeout(wakeUp, Math.max(0, deadline - Date.now()));
          try {
            while (published < count) {
              const status = client.publish(topic, payload, opts);
              if (status === "sent" || status === "queued") {
                published++;
                continue;
              }
              if (failure !== undefined) throw failure;
              if (Date.now() > deadline) break;
              if (status === "dropped") retries++;
              else waits++;
              await new Promise((resolve) => { wake = resolve; });
            }
          } finally {
            clearTimeout(watchdog);
          }
          return { published, retries, waits };
        },
        async close() {
          open.delete(this);
          client.close();
          for (let t = 0; t < 100 && client.state !== "closed"; t++) await new Promise((r) => setTimeout(r, 20));
        },
        get stats() { return client.stats; },
      };
    }

    function mqttjs(qos) {
      let client;
      return {
        name: "mqttjs",
        async open() {
          client = mqtt.connect({
            host: "127.0.0.1", port, protocolVersion: 4, clientId: `bench-mqttjs-${nextId++}`,
            keepalive: 60, reconnectPeriod: 0, clean: true,
          });
          client.on("error", (e) => console.error(`mqttjs publisher: ${e.message}`));
          open.add(this);
          await Promise.race([
            once(client, "connect"),
            new Promise((_, reject) => setTimeout(() => reject(new Error("mqttjs: no CONNACK")), 10_000).unref()),
          ]);
        },
        async run(count, deadline) {
          const topic = TOPIC_PREFIX + "qos" + qos;
          const opts = { qos };
          let published = 0;
          if (qos === 0) {
            while (published < count) {
              client.publish(topic, payloadBuffer, opts);
              published++;
              if (client.stream.writableNeedDrain) {
                if (Date.now() > deadline) break;
                await once(client.stream, "drain");
              }
            }
            return { published };
          }
          let outstanding = 0;
          let wake;
          let failed = 0;
          const acked = (err) => {
            outstanding--;
            if (err) failed++;
            const resolve = wake;
            wake = undefined;
            if (resolve) resolve();
          };
          const watchdog = setTimeout(() => { if (wake) wake(); }, Math.max(0, deadline - Date.now()));
          try {
            while (published < count) {
              if (outstanding >= MQTTJS_WINDOW) {
                if (Date.now() > deadline) break;
                await new Promise((resolve) => { wake = resolve; });
                continue;
              }
              outstanding++;
              client.publish(topic, payloadBuffer, opts, acked);
              published++;
              if (client.stream.writableNeedDrain) await once(client.stream, "drain");
            }
          } finally {
            clearTimeout(watchdog);
          }
          return { published, failed };
        },
        async close() {
          open.delete(this);
          await new Promise((resolve) => client.end(true, {}, resolve));
        },
      };
    }

    /** `window`: raw-window, blocks of at most `window` bytes, each written once the one before has gone. */
    function raw(qos, window) {
      let socket;
      const topic = Buffer.from(TOPIC_PREFIX + "qos" + qos);
      const body = 2 + topic.length + (qos > 0 ? 2 : 0) + PAYLOAD_BYTES;
      const size = 2 + body; // body < 128: one length byte
      const perBlock = window === undefined ? RAW_BLOCK : Math.floor(window / size);
      const block = Buffer.alloc(size * perBlock);
      for (let index = 0; index < perBlock; index++) {
        let at = index * size;
        block[at++] = 0x30 | (qos << 1);
        block[at++] = body;
        block.writeUInt16BE(topic.length, at);
        at += 2;
        topic.copy(block, at);
        at += topic.length;
        if (qos > 0) {
          block.writeUInt16BE(index + 1, at);
          at += 2;
        }
        block.set(payload, at);
      }
      return {
        name: window === undefined ? "raw" : "raw-window",
        async open() {
          socket = net.connect({ host: "127.0.0.1", port });
          socket.setNoDelay(true);
          socket.on("error", (error) => {
            if (!this.closing) console.error(`raw publisher: ${error.message}`);
          });
          open.add(this);
          await once(socket, "connect");
          const id = Buffer.from(`bench-raw-${nextId++}`);
          socket.write(Buffer.concat([
            Buffer.from([0x10, 12 + id.length, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60, 0, id.length]), id,
          ]));
          const [connack] = await once(socket, "data"); // 4 bytes, never split in practice
          if (connack[0] !== 0x20 || connack[3] !== 0) throw new Error("raw: CONNECT refused");
          socket.on("data", () => {}); // PUBACKs: read and ignored
        },
        async run(count, deadline) {
          let sent = 0;
          while (sent < count) {
            const batch = Math.min(perBlock, count - sent);
            const bytes = batch === perBlock ? block : block.subarray(0, batch * size);
            if (window !== undefined) {
              await new Promise((resolve) => socket.write(bytes, resolve));
              sent += batch;
              if (Date.now() > deadline) break;
              continue;
            }
            const ok = socket.write(bytes);
            sent += batch;
            if (!ok) {
              if (Date.now() > deadline) break;
              await once(socket, "drain");
            }
          }
          return { published: sent };
        },
        async close() {
          open.delete(this);
          this.closing = true;
          socket.end(Buffer.from([0xe0, 0]));
          if (!socket.closed) await Promise.race([once(socket, "close"), new Promise((r) => setTimeout(r, 2000))]);
          socket.destroy();
        },
      };
    }

    let stage = "";

    /** One publisher, `count` messages: connect, publish, wait for the subscriber to count them all. */
    async function measure(publisher, count, timeoutMs, beforeClose) {
      shown.step(`${stage}: ${publisher.name}, ${count.toLocaleString("en")} messages`);
      counting.inbox.length = 0;
      toSubscriber({ cmd: "expect", count });
      if (!(await fromSubscriber("armed", Date.now() + 5_000))) throw new Error("subscriber not armed");
      await publisher.open();
      const deadline = Date.now() + timeoutMs;
      const cpu0 = process.cpuUsage();
      const t0 = nowMs();
      let info;
      try {
        info = await publisher.run(count, deadline);
      } catch (error) {
        info = { error: String(error) };
      }
      let result = await fromSubscriber("done", deadline);
      const cpu = process.cpuUsage(cpu0);
      if (beforeClose) beforeClose();
      await publisher.close();
      if (!result) {
        // missed the deadline: take what arrived, then let stragglers settle before the next case
        toSubscriber({ cmd: "report" });
        result = await fromSubscriber("report", Date.now() + 5_000);
        if (!result) throw new Error("the subscriber does not answer");
        let last = -1;
        for (let k = 0; k < 20; k++) {
          await new Promise((r) => setTimeout(r, 250));
          toSubscriber({ cmd: "report" });
          const report = await fromSubscriber("report", Date.now() + 5_000);
          if (!report || report.count === last) break;
          last = report.count;
        }
      }
      const seconds = result.lastAt > t0 ? (result.lastAt - t0) / 1000 : Infinity;
      const cpuPerMessage = (cpu.user + cpu.system) / Math.max(1, result.count);
      return { received: result.count, complete: result.count >= count, seconds, rate: result.count / seconds, cpuPerMessage, ...info };
    }

    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const round0 = (x) => Math.round(x);
    const ratio = (a, b) => Math.round((a / b) * 100) / 100;
    const us = (x) => Math.round(x * 100) / 100;
    const emit = (line) => {
      shown.clear();
      console.log(JSON.stringify(line));
    };

    // ---- qos0 and qos1: the three publishers, rotated over the rounds
    /** One case, "qos<qos><suffix>"; `sized`: ours with SIZED[qos] on an ESP32's window. */
    async function compare(qos, count, suffix, sized = false) {
      stage = "qos" + qos + suffix;
      const options = sized ? SIZED[qos] : {};
      const makers = [() => ours(qos, options, sized ? esp32Io : io), () => mqttjs(qos), () => raw(qos)];
      // client-bound: also a raw socket held to ours' window (what the window alone allows)
      const window = sized ? ESP32_WINDOW : DEFAULT_WINDOW;
      if (suffix.startsWith("-client-bound")) makers.push(() => raw(qos, window));
      for (const make of makers) await measure(make(), WARMUP_MESSAGES, MEASURE_TIMEOUT_MS); // warm-up
      const rates = { ours: [], mqttjs: [], raw: [], "raw-window": [] };
      const cpus = { ours: [], mqttjs: [], raw: [], "raw-window": [] };
      let retries = 0;
      let allReceived = true;
      for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < makers.length; k++) {
          const publisher = makers[(k + round) % makers.length]();
          const measured = await measure(publisher, count, MEASURE_TIMEOUT_MS);
          rates[publisher.name].push(measured.rate);
          cpus[publisher.name].push(measured.cpuPerMessage);
          if (!measured.complete) allReceived = false;
          if (publisher.name === "ours" && measured.retries) retries += measured.retries;
        }
      }
      const [oursRate, mqttjsRate, rawRate] = [median(rates.ours), median(rates.mqttjs), median(rates.raw)];
      const line = {
        bench: "broker", case: "qos" + qos + suffix, messages: count,
        ours_msgs_s: round0(oursRate), mqttjs_msgs_s: round0(mqttjsRate), raw_msgs_s: round0(rawRate),
        ours_vs_raw: ratio(oursRate, rawRate), ours_vs_mqttjs: ratio(oursRate, mqttjsRate),
        ours_cpu_us_per_msg: us(median(cpus.ours)), mqttjs_cpu_us_per_msg: us(median(cpus.mqttjs)),
        raw_cpu_us_per_msg: us(median(cpus.raw)),
        ours_vs_mqttjs_cpu: ratio(median(cpus.ours), median(cpus.mqttjs)),
      };
      if (rates["raw-window"].length > 0) {
        const windowRate = median(rates["raw-window"]);
        Object.assign(line, { raw_window_bytes: window, raw_window_msgs_s: round0(windowRate), ours_vs_raw_window: ratio(oursRate, windowRate),
          raw_window_cpu_us_per_msg: us(median(cpus["raw-window"])) });
      }
      if (qos === 0) line.ours_qos0_retries = Math.round(retries / ROUNDS);
      if (sized) Object.assign(line, { ours_options: options, ours_window: ESP32_WINDOW });
      line.rounds = ROUNDS;
      line.all_received = allReceived;
      emit(line);
    }
    if (!PROFILE && !CLIENT_BOUND) for (const [qos, count] of [[0, QOS0_MESSAGES], [1, QOS1_MESSAGES]]) await compare(qos, count, "");

    // ---- client-bound: the same, against the sink in the broker's place
    {
      const sink = counterProcess(["--sink"], "sink");
      sinkChild = sink.child;
      const listening = await sink.from("port", Date.now() + 10_000);
      if (!listening) throw new Error("the sink did not listen");
      [port, counting] = [listening.port, sink];
      if (PROFILE) {
        // the publisher's own costs, sampled: the top frames of our client's QoS 0 case
        await measure(ours(0), WARMUP_MESSAGES, MEASURE_TIMEOUT_MS);
        const session = new inspector.Session();
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.setSamplingInterval", { interval: 100 });
        await session.post("Profiler.start");
        const measured = await measure(ours(0), QOS0_MESSAGES, MEASURE_TIMEOUT_MS);
        const { profile } = await session.post("Profiler.stop");
        session.disconnect();
        emit({ bench: "broker", case: "qos0-client-bound-profile", messages: QOS0_MESSAGES, ours_msgs_s: round0(measured.rate), top: topFrames(profile, 15) });
        sink.to({ cmd: "exit" });
        return;
      }
      for (const [qos, count] of [[0, QOS0_MESSAGES], [1, QOS1_MESSAGES]]) await compare(qos, count, "-client-bound");
      for (const [qos, count] of [[0, QOS0_MESSAGES], [1, QOS1_MESSAGES]]) await compare(qos, count, "-client-bound-sized", true);
      [port, counting] = [broker.port, subscribing];
      sink.to({ cmd: "exit" });
      if (CLIENT_BOUND) return;
    }

    // ---- qos1-burst: 200,000 QoS 1 publishes from our client, heap sampled
    {
      // the peak of each second (preallocated: sampling must not grow the heap itself)
      const perSecond = new Float64Array(Math.ceil(BURST_TIMEOUT_MS / 1000) + 10);
      const sampleStart = performance.now();
      let lastSecond = 0;
      const sample = () => {
        const second = Math.min(perSecond.length - 1, Math.floor((performance.now() - sampleStart) / 1000));
        const heap = process.memoryUsage().heapUsed;
        if (heap > perSecond[second]) perSecond[second] = heap;
        lastSecond = second;
      };
      stage = "qos1-burst";
      const start = process.memoryUsage().heapUsed;
      // what stays after a full GC, before the burst and after it (the client still open)
      const gc = fullGc();
      gc();
      const retainedStart = process.memoryUsage().heapUsed;
      let retainedEnd = 0;
      const sampler = setInterval(sample, 10);
      let measured;
      try {
        measured = await measure(ours(1), BURST_MESSAGES, BURST_TIMEOUT_MS, () => {
          clearInterval(sampler);
          gc();
          retainedEnd = process.memoryUsage().heapUsed;
        });
      } finally {
        clearInterval(sampler);
      }
      // the peak overall and in each quarter of the run: growth with traffic would show as a
      // rising series, young-generation garbage as a flat one
      const mb = (x) => Math.round((x / 1048576) * 10) / 10;
      const quarters = [0, 0, 0, 0];
      let peak = 0;
      for (let k = 0; k <= lastSecond; k++) {
        const quarter = Math.min(3, Math.floor((k / (lastSecond + 1)) * 4));
        quarters[quarter] = Math.max(quarters[quarter], perSecond[k]);
        peak = Math.max(peak, perSecond[k]);
      }
      emit({
        bench: "broker", case: "qos1-burst", messages: BURST_MESSAGES, completed: measured.complete,
        seconds: Math.round(measured.seconds * 100) / 100, peak_heap_mb: mb(peak), start_heap_mb: mb(start),
        peak_heap_mb_by_quarter: quarters.map(mb), retained_heap_start_mb: mb(retainedStart),
        retained_heap_end_mb: mb(retainedEnd), received: measured.received,
      });
    }

    // ---- our client with other sizes (defaults first), each next to a reference publisher in
    // A-B-B-A order (ours, reference, reference, ours): the ratio of the two means. An
    // unreported warm-up first: the first measurement after the burst ran fast here.
    stage = "options";
    await measure(raw(0), WARMUP_MESSAGES, MEASURE_TIMEOUT_MS);
    for (const [qos, options] of OPTION_VARIANTS) {
      stage = `qos${qos}-options ${JSON.stringify(options)}`;
      if (Date.now() - startedAt > RUN_BUDGET_MS) {
        emit({ bench: "broker", case: `qos${qos}-options`, options, skipped: "time budget" });
        continue;
      }
      const count = qos === 0 ? QOS0_MESSAGES : QOS1_MESSAGES;
      const reference = () => (qos === 0 ? raw(0) : mqttjs(1));
      const mine = [await measure(ours(qos, options), count, MEASURE_TIMEOUT_MS)];
      const theirs = [await measure(reference(), count, MEASURE_TIMEOUT_MS)];
      theirs.push(await measure(reference(), count, MEASURE_TIMEOUT_MS));
      mine.push(await measure(ours(qos, options), count, MEASURE_TIMEOUT_MS));
      const mean = (ms, key) => (ms[0][key] + ms[1][key]) / 2;
      const [oursRate, referenceRate] = [mean(mine, "rate"), mean(theirs, "rate")];
      const line = {
        bench: "broker", case: `qos${qos}-options`, options, messages: count, ours_msgs_s: round0(oursRate),
        ours_cpu_us_per_msg: us(mean(mine, "cpuPerMessage")),
      };
      if (qos === 0) {
        line.raw_msgs_s = round0(referenceRate);
        line.ours_vs_raw = ratio(oursRate, referenceRate);
        line.ours_qos0_retries = Math.round((mine[0].retries + mine[1].retries) / 2);
      } else {
        line.mqttjs_msgs_s = round0(referenceRate);
        line.ours_vs_mqttjs = ratio(oursRate, referenceRate);
      }
      line.all_received = [...mine, ...theirs].every((m) => m.complete);
      emit(line);
    }
  } finally {
    shown.clear();
    for (const publisher of open) {
      try {
        await publisher.close();
      } catch {
        // closing anyway
      }
    }
    if (subscriber && subscriber.exitCode === null) {
      subscriber.kill();
    }
    if (sinkChild && sinkChild.exitCode === null) sinkChild.kill();
    await broker.stop();
  }
}
