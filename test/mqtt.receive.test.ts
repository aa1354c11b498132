/*
 * Unit tests of device/mqtt/receive.ts: exact-length reads from the simulator's
 * Moddable-exact TCP socket (host-sim/io/sockets.ts, which throws on a read longer than what
 * is waiting) fed to a PacketDecoder. A node:net server on 127.0.0.1 sends packets made by
 * mqtt-packet; they must arrive decoded. Everything is closed after each test.
 */
import * as mqtt from "mqtt-packet";
import type { Socket as NodeSocket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { NEED_MORE, PacketDecoder } from "../device/mqtt/decode.js";
import { PINGRESP, PUBLISH, SUBACK } from "../device/mqtt/constants.js";
import { Receive } from "../device/mqtt/receive.js";
import { TCP } from "../host-sim/io/sockets.js";
import { waitFor } from "./brokers/helpers.js";
import { LoopbackServer } from "./support/loopback.js";

const loopback = new LoopbackServer();

afterEach(() => loopback.close());

interface Decoded {
  type: number;
  topic?: string;
  payload?: Buffer;
  qos?: number;
  packetId?: number;
  codes?: number[];
}

/**
 * A TCP socket connected to a server on 127.0.0.1 and, when `drive`, a Receive reading it
 * as the client does: onReadable sets `waiting`, then read() and next() until nothing is left.
 */
async function connect(receiveBufferSize: number, drive = true): Promise<{ peer: NodeSocket; socket: TCP; packets: Decoded[]; reads: number[]; readable: number[] }> {
  const port = await loopback.listen();
  const rx = new Receive(receiveBufferSize);
  const decoder = new PacketDecoder(receiveBufferSize);
  const packets: Decoded[] = [];
  const reads: number[] = [];
  const readable: number[] = [];
  let connected = false;
  class ReadCountingTCP extends TCP {
    override read(buffer?: ArrayBuffer | ArrayBufferView | number): any {
      // a view (Moddable's TLS socket throws for an ArrayBuffer): its byteLength is the count asked for
      reads.push(ArrayBuffer.isView(buffer) ? buffer.byteLength : -1);
      return super.read(buffer);
    }
  }
  const socket: TCP = new ReadCountingTCP({
    address: "127.0.0.1",
    port,
    onWritable() { connected = true; },
    onReadable(count) {
      readable.push(count);
      if (!drive) return;
      rx.waiting = count;
      for (;;) {
        if (decoder.pending === 0 && !rx.read(socket, decoder)) return;
        for (let type = decoder.next(); type !== NEED_MORE; type = decoder.next()) packets.push(decoded(decoder, type));
        if (rx.waiting === 0) return;
      }
    },
  });
  loopback.sockets.push(socket);
  await waitFor(() => connected && loopback.peers.length === 1, "the connection");
  return { peer: loopback.peers[0], socket, packets, reads, readable };
}

function decoded(decoder: PacketDecoder, type: number): Decoded {
  const buf = decoder.buf;
  if (type === PUBLISH) {
    return {
      type,
      topic: Buffer.from(buf.subarray(decoder.topicOffset, decoder.topicOffset + decoder.topicLength)).toString(),
      payload: Buffer.from(buf.subarray(decoder.payloadOffset, decoder.payloadOffset + decoder.payloadLength)),
      qos: decoder.qos,
      packetId: decoder.packetId,
    };
  }
  if (type === SUBACK) return { type, packetId: decoder.packetId, codes: [...buf.subarray(decoder.codesOffset, decoder.codesOffset + decoder.codesLength)] };
  return { type };
}

function publish(topic: string, payload: Buffer, qos: 0 | 1, messageId?: number): Buffer {
  return mqtt.generate({ cmd: "publish", topic, payload, qos, retain: false, dup: false, messageId }, { protocolVersion: 4 });
}

describe("Receive: exact-length reads into a PacketDecoder", () => {
  it("packets the server sends arrive decoded, read exactly as many bytes as are waiting", async () => {
    const { peer, packets, reads } = await connect(512);
    const stream = Buffer.concat([
      publish("a/b", Buffer.from("hello"), 0),
      mqtt.generate({ cmd: "suback", messageId: 7, granted: [1] }, { protocolVersion: 4 }),
      publish("c", Buffer.from([0, 1, 2]), 1, 9),
      mqtt.generate({ cmd: "pingresp" }),
    ]);
    peer.write(stream);
    await waitFor(() => packets.length === 4, "four packets");
    expect(packets).toEqual([
      { type: PUBLISH, topic: "a/b", payload: Buffer.from("hello"), qos: 0, packetId: 0 },
      { type: SUBACK, packetId: 7, codes: [1] },
      { type: PUBLISH, topic: "c", payload: Buffer.from([0, 1, 2]), qos: 1, packetId: 9 },
      { type: PINGRESP },
    ]);
    expect(reads.reduce((sum, n) => sum + n, 0)).toBe(stream.length); // no read past what was waiting (that throws)
  });

  it("reads at most 256 bytes at a time; a packet larger than a chunk is gathered whole", async () => {
    const { peer, packets, reads } = await connect(2048);
    const payload = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
    const packet = publish("big", payload, 1, 300);
    peer.write(packet);
    await waitFor(() => packets.length === 1, "the packet");
    expect(packets[0]).toEqual({ type: PUBLISH, topic: "big", payload, qos: 1, packetId: 300 });
    expect(Math.max(...reads)).toBe(256);
    expect(reads.reduce((sum, n) => sum + n, 0)).toBe(packet.length);
  });

  it("a small receive buffer reads chunks of its size plus a header's 5 bytes", async () => {
    const { peer, packets, reads } = await connect(16);
    const stream = Buffer.concat([publish("t", Buffer.from("0123456789"), 0), publish("u", Buffer.from("abc"), 0)]);
    peer.write(stream);
    await waitFor(() => packets.length === 2, "two packets");
    expect(packets.map((p) => [p.topic, String(p.payload)])).toEqual([["t", "0123456789"], ["u", "abc"]]);
    expect(Math.max(...reads)).toBe(21);
    expect(reads.reduce((sum, n) => sum + n, 0)).toBe(stream.length);
  });

  it("read() counts `waiting` down by what it read, and feeds exactly that to the decoder", async () => {
    const { peer, socket, readable } = await connect(2048, false);
    const stream = Buffer.alloc(600);
    for (let i = 0; i < 600; i += 2) stream[i] = 0xd0; // 300 PINGRESPs
    peer.write(stream);
    await waitFor(() => readable.at(-1) === 600, "600 bytes waiting");
    const rx = new Receive(2048);
    const decoder = new PacketDecoder(2048);
    rx.waiting = readable.at(-1)!;
    const waiting: number[] = [];
    let pingresps = 0;
    while (rx.waiting > 0) {
      expect(rx.read(socket, decoder)).toBe(true);
      waiting.push(rx.waiting);
      for (let type = decoder.next(); type !== NEED_MORE; type = decoder.next()) if (type === PINGRESP) pingresps++;
    }
    expect(waiting).toEqual([344, 88, 0]);
    expect(pingresps).toBe(300);
    expect(rx.read(socket, decoder)).toBe(false); // nothing left
  });

  it("read() returns false and zeroes `waiting` when nothing is waiting, feeding the decoder nothing", async () => {
    const { socket } = await connect(512);
    const rx = new Receive(512);
    const decoder = new PacketDecoder(512);
    rx.waiting = 10;
    expect(rx.read(socket, decoder)).toBe(false);
    expect(rx.waiting).toBe(0);
    expect(decoder.pending).toBe(0);
  });
});
