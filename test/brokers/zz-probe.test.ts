import { it } from "vitest";
import { MqttClient } from "../../device/mqtt/client.js";
import { Mosquitto } from "./mosquitto.js";
import { connectPeer, recordingIo, waitFor } from "./helpers.js";
it("timing", async () => {
  const b = await Mosquitto.start();
  const rec = recordingIo();
  let conn = 0, pub = 0; const got: number[] = [];
  const c = new MqttClient({ host: "127.0.0.1", port: b.port, clientId: "big", io: rec.io, transmitBufferSize: 4096, receiveBufferSize: 4096, outboxBytes: 8192,
    onConnected: () => conn++, onPublished: () => pub++, onSubscribed: () => {} });
  c.connect(); await waitFor(() => conn === 1, "c");
  const p = await connectPeer(b.port); const t0 = Date.now();
  await p.client.subscribeAsync("big/out", { qos: 1 });
  console.log("sub", Date.now() - t0);
  const big = new Uint8Array(3000);
  c.publish("big/out", big, { qos: 1 });
  await waitFor(() => p.messages.length === 1 && pub === 1, "x");
  console.log("qos1 out", Date.now() - t0, rec.sockets[0].written.map(w => w.length));
  c.publish("big/out", big.subarray(0, 2000), { qos: 0 });
  await waitFor(() => p.messages.length === 2, "y");
  console.log("qos0 out", Date.now() - t0);
  c.subscribe("big/in", { qos: 1 }, (m) => got.push(m.payloadLength));
  await new Promise(r => setTimeout(r, 100));
  const t1 = Date.now();
  await p.client.publishAsync("big/in", Buffer.from(big), { qos: 1 });
  await waitFor(() => got.length === 1, "z");
  console.log("in", Date.now() - t1);
  c.close(); await p.client.endAsync(true); await b.close();
});
