// The board entry as built (dist/board.js: device/main.ts, which the manifests build) started
// inside the real XS engine the way Moddable starts it: its default export called with no
// arguments, its mc/config the esp32 manifest's own (broker, port and node changed), and
// Moddable's modules it imports (embedded:io/*, timer, text/*, mc/config, net) supplied by
// small modules of this test over the XS bridge of the simulator: TCP and Timer to Node, the
// I²C bus and pins to a simulated board's chips and VirtualPins. There is no Moddable SDK
// here, so this is as close to the board as the tests get: what main.ts reads from
// mc/config, which drivers and pins it opens, and what the board then publishes to
// mosquitto, seen by an MQTT.js peer playing Home Assistant. UDP and DNS are not bridged:
// the broker is an IP address, which the client connects to without resolving.
// Every process started here (mosquitto, the XS worker) and the peer are stopped in afterAll.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BoardHardware } from "../host-sim/board.js";
import { DigitalService } from "../host-sim/xs/digital-service.js";
import { XS_IO_MODULE, XsHost } from "../host-sim/xs/host.js";
import { I2cService } from "../host-sim/xs/i2c-service.js";
import { connectPeer, waitFor } from "./brokers/helpers.js";
import type { Peer } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";

const root = path.join(import.meta.dirname, "..");
const IN_XS = path.dirname(XS_IO_MODULE);
const NODE = "xs-main";

/** What this test puts in place of Moddable's modules (read from globals set before the board's code loads). */
const MODDABLE_MODULES: Record<string, string> = {
  "embedded:io/digital": "export default globalThis.BoardModules.Digital;",
  "embedded:io/i2c": "export default globalThis.BoardModules.I2C;",
  "embedded:io/socket/tcp": "export default globalThis.hostIo.TCP;",
  "embedded:io/socket/udp": "export default class UDP { constructor() { throw new Error(\"no UDP in this test\"); } }",
  "embedded:network/dns/resolver/udp": `export default class Resolver {
    constructor(options) { globalThis.BoardModules.resolverOptions = options; }
    resolve() { throw new Error("no DNS in this test"); }
  }`,
  "mc/config": "export default globalThis.BoardModules.config;",
  "net": "export default { get(key) { return key === \"DNS\" ? [] : undefined; } };",
  "text/encoder": "export default globalThis.TextEncoder;",
  "text/decoder": "export default globalThis.TextDecoder;",
  "timer": "export default globalThis.hostIo.Timer;",
};

let broker: Mosquitto;
let xs: XsHost;
let peer: Peer;
let dir: string;
const hardware = new BoardHardware(7);
const traced: string[] = [];
const hostErrors: string[] = [];

/** dist/board.js with Moddable's modules replaced by this test's, as one file XS loads. */
async function bundleBoard(): Promise<string> {
  const outfile = path.join(dir, "board-main.js");
  await build({
    entryPoints: [path.join(root, "dist/board.js")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    logLevel: "error",
    plugins: [{
      name: "moddable-modules",
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => (args.path in MODDABLE_MODULES ? { path: args.path, namespace: "moddable" } : undefined));
        b.onLoad({ filter: /.*/, namespace: "moddable" }, (args) => ({ contents: MODDABLE_MODULES[args.path], loader: "js" }));
      },
    }],
  });
  return outfile;
}

/** The latest payload on a topic (live: the peer subscribed before the board started). */
function latest(topic: string): string | undefined {
  return peer.messages.findLast((m) => m.topic === topic)?.payload.toString();
}

/** What the broker retains on a topic, as a fresh subscriber gets it. */
async function retainedOn(topic: string): Promise<string | undefined> {
  const fresh = await connectPeer(broker.port);
  try {
    await fresh.client.subscribeAsync(topic, { qos: 1 });
    await waitFor(() => fresh.messages.length > 0, `the retained message on ${topic}`, 5_000);
    return fresh.messages[0].retain ? fresh.messages[0].payload.toString() : undefined;
  } finally {
    await fresh.client.endAsync(true);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "xs-mqtt-board-main-"));
  broker = await Mosquitto.start();
  peer = await connectPeer(broker.port);
  await peer.client.subscribeAsync([`xs-mqtt/${NODE}/#`, `homeassistant/+/${NODE}/+/config`], { qos: 1 });
  const board = await bundleBoard();
  const manifest = JSON.parse(readFileSync(path.join(root, "manifests/esp32/manifest.json"), "utf8")) as { config: Record<string, unknown> };
  // as mcconfig's command line would give them: strings
  const config = { ...manifest.config, broker: "127.0.0.1", port: String(broker.port), node: NODE, sampleInterval: "500" };

  xs = await XsHost.start({
    name: "board-main",
    print: (text) => traced.push(text),
    onError: (error) => hostErrors.push(error.message),
  });
  xs.register(new I2cService(hardware.bus));
  xs.register(new DigitalService(hardware.pins, (header, body) => xs.deliver(header, body)));
  await xs.load(path.join(IN_XS, "digital.js"), "BridgedDigital");
  await xs.load(path.join(IN_XS, "i2c.js"), "BridgedI2C");
  await xs.evaluate(`globalThis.BoardModules = { Digital: BridgedDigital.Digital, I2C: BridgedI2C.I2C, config: ${JSON.stringify(config)} }; undefined`);
  hardware.sht3x.set({ temperature: 21.5, humidity: 45 });
  await xs.load(board, "BoardMain");
  await xs.evaluate("BoardMain.default(); undefined"); // as Moddable calls "main" at start-up
});

afterAll(async () => {
  await peer?.client.endAsync(true);
  await xs?.close();
  await stopAllMosquittos();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("device/main.ts (dist/board.js) started inside XS with the esp32 manifest's configuration", () => {
  it("runs in XS and says where it connects", async () => {
    expect((await xs.evaluate("[typeof process, typeof Buffer, typeof BoardMain.default]")).value).toEqual(["undefined", "undefined", "function"]);
    await waitFor(() => traced.join("").includes(`connecting to 127.0.0.1:${broker.port} as xs-mqtt-${NODE}`), "the connecting line", 5_000);
    // no DHCP DNS servers here: the manifest's dns is used
    expect((await xs.evaluate("BoardModules.resolverOptions.servers")).value).toEqual(["1.1.1.1"]);
  });

  it("comes online: the retained birth and a discovery config per reading and for the relay", async () => {
    await waitFor(() => latest(`xs-mqtt/${NODE}/status`) === "online", "the birth", 10_000);
    const configs = ["sensor/xs-main/climate_temperature", "sensor/xs-main/climate_humidity", "sensor/xs-main/light_illuminance", "switch/xs-main/relay"]
      .map((id) => `homeassistant/${id}/config`);
    await waitFor(() => configs.every((topic) => latest(topic) !== undefined), "4 discovery configs", 10_000);
    const relay = JSON.parse(latest(configs[3])!) as Record<string, unknown>;
    expect(relay).toMatchObject({ command_topic: `xs-mqtt/${NODE}/relay/set`, availability_topic: `xs-mqtt/${NODE}/status` });
    expect(relay.device).toMatchObject({ model: "ESP32 sensor node", sw_version: "0.1.0" });
    // the LED in the manifest is the status LED (lit while online), not an actuator
    expect(peer.messages.some((m) => m.topic.startsWith("homeassistant/light/"))).toBe(false);
    await waitFor(() => hardware.pins.level(2) === 1, "the status LED lit", 5_000);
    expect(await retainedOn(`xs-mqtt/${NODE}/status`)).toBe("online");
    expect(JSON.parse((await retainedOn(configs[0]))!)).toMatchObject({ unique_id: `${NODE}_climate_temperature`, unit_of_measurement: "°C" });
  });

  it("publishes what its SHT3x and BH1750 drivers read over the bridged I²C bus", async () => {
    await waitFor(() => peer.messages.some((m) => m.topic === `xs-mqtt/${NODE}/climate/state`), "a climate reading", 10_000);
    const climate = JSON.parse(peer.messages.findLast((m) => m.topic === `xs-mqtt/${NODE}/climate/state`)!.payload.toString());
    expect(climate).toEqual({ temperature: 21.5, humidity: 45 });
    hardware.sht3x.set({ temperature: 23.25, humidity: 50 });
    await waitFor(() => peer.messages.some((m) => m.topic === `xs-mqtt/${NODE}/climate/state` && JSON.parse(m.payload.toString()).temperature === 23.25),
      "the new temperature", 10_000);
    await waitFor(() => peer.messages.some((m) => m.topic === `xs-mqtt/${NODE}/light/state`), "a light reading", 10_000);
  });

  it("switches the relay on GPIO 26 on ON and OFF, and publishes its state retained", async () => {
    expect(hardware.pins.level(26)).toBe(0);
    await peer.client.publishAsync(`xs-mqtt/${NODE}/relay/set`, "ON", { qos: 1 });
    await waitFor(() => hardware.pins.level(26) === 1 && latest(`xs-mqtt/${NODE}/relay/state`) === "ON", "the relay on", 5_000);
    await peer.client.publishAsync(`xs-mqtt/${NODE}/relay/set`, "OFF", { qos: 1 });
    await waitFor(() => hardware.pins.level(26) === 0 && latest(`xs-mqtt/${NODE}/relay/state`) === "OFF", "the relay off", 5_000);
    expect(await retainedOn(`xs-mqtt/${NODE}/relay/state`)).toBe("OFF");
    expect(hostErrors).toEqual([]);
  });
});
