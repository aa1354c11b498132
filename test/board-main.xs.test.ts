// The board entry as built (dist/board.js: device/main.ts, which the manifests build) started
// inside the real XS engine the way Moddable starts it: its default export called with no
// arguments, with a manifest's own mc/config (broker, port and node changed), and Moddable's
// modules it imports (embedded:io/*, embedded:network/interface/wifi, timer, text/*,
// mc/config, net) and the System global supplied by this test:
// - with the esp32 manifest: TCP and Timer bridged to Node, the I²C bus, pins and Wi-Fi radio
//   bridged to a simulated board's chips, VirtualPins and BoardWiFi (the simulator's XS
//   bridge), mc/config's ssid and password its access point's; Net.get("IP") answers an
//   address, System.restart() counts;
// - with the lin manifest: its own desktop stand-ins for Digital, I2C and Wi-Fi (manifests/lin),
//   and a System without restart(), as Moddable's Linux build has;
// - the battery build (dist/board-sleep.js: device/main-sleep.ts over dist/board.js) with
//   manifests/esp32/manifest_sleep.json's configuration and a sleep module of this test's in
//   the shape of Moddable's (its retained words carried from one XS worker to the next, as
//   RTC memory is from one wake to the next).
// There is no Moddable SDK here, so this is as close to the board as the tests get: what
// main.ts reads from mc/config, which drivers and pins it opens, and what the board then
// publishes to mosquitto, seen by an MQTT.js peer playing Home Assistant. UDP and DNS are
// not bridged: the broker is an IP address, which the client connects to without resolving.
// Every process started here (mosquitto, the XS workers) and every peer is stopped in afterAll.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BoardHardware } from "../host-sim/board.js";
import { DigitalService } from "../host-sim/engines/xs/digital-service.js";
import { XS_IO_MODULE, XsHost } from "../host-sim/engines/xs/host.js";
import { I2cService } from "../host-sim/engines/xs/i2c-service.js";
import { WifiService } from "../host-sim/engines/xs/wifi-service.js";
import { connectPeer, sleep, waitFor } from "./brokers/helpers.js";
import type { Peer } from "./brokers/helpers.js";
import { Mosquitto, stopAllMosquittos } from "./brokers/mosquitto.js";

const root = path.join(import.meta.dirname, "..");
const IN_XS = path.dirname(XS_IO_MODULE);
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
  "embedded:network/interface/wifi": "export default globalThis.BoardModules.WiFi;",
  "mc/config": "export default globalThis.BoardModules.config;",
  "net": "export default { get(key) { return key === \"DNS\" ? [] : key === \"IP\" ? globalThis.BoardModules.IP : undefined; } };",
  "text/encoder": "export default globalThis.TextEncoder;",
  "text/decoder": "export default globalThis.TextDecoder;",
  "timer": "export default globalThis.hostIo.Timer;",
  // SNTP answers the time in BoardModules.sntpTime (seconds) soon after it is made; Time.set() records it
  "sntp": `export default class SNTP {
    static time = 1;
    static retry = 2;
    static error = -1;
    constructor(options, callback) {
      globalThis.BoardModules.sntpHost = options.host;
      globalThis.hostIo.Timer.set(() => callback(SNTP.time, globalThis.BoardModules.sntpTime), 20);
    }
  }`,
  "time": "export default { set(seconds) { globalThis.BoardModules.clockSet = seconds; } };",
  // Sleep.deep() records the time asked for; on a board it would not return
  "sleep": `export default class Sleep {
    static getRetainedValue(index) { return globalThis.BoardModules.retained[index]; }
    static setRetainedValue(index, value) { globalThis.BoardModules.retained[index] = value | 0; }
    static deep(ms) { globalThis.BoardModules.slept = ms; trace("deep sleep " + ms + "\\n"); }
  }`,
};

let broker: Mosquitto;
let dir: string;
/** dist/board.js bundled for XS with this test's modules. */
let boardModule: string;

/** dist/board.js (or another board entry over it) with Moddable's modules replaced by this test's, as one file XS loads. */
async function bundleBoard(entry = "dist/board.js"): Promise<string> {
  const outfile = path.join(dir, path.basename(entry, ".js") + "-main.js");
  await build({
    entryPoints: [path.join(root, entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    logLevel: "error",
    plugins: [{
      name: "moddable-modules",
      setup(board) {
        board.onResolve({ filter: /.*/ }, (args) => (args.path === "main" ? { path: path.join(root, "dist/board.js") }
          : args.path in MODDABLE_MODULES ? { path: args.path, namespace: "moddable" } : undefined));
        board.onLoad({ filter: /.*/, namespace: "moddable" }, (args) => ({ contents: MODDABLE_MODULES[args.path], loader: "js" }));
      },
    }],
  });
  return outfile;
}

/** A manifest's mc/config with the broker, port and node (and `extra`) changed, as strings as mcconfig's command line gives them. */
function manifestConfig(name: string, node: string, extra: Record<string, string> = {}, file = "manifest.json"): Record<string, unknown> {
  const read = (json: string) => (JSON.parse(readFileSync(path.join(root, "manifests", name, json), "utf8")) as { config: Record<string, unknown> }).config;
  // a manifest that includes ./manifest.json: its config over that one's, as mcconfig merges them
  const config = file === "manifest.json" ? read(file) : { ...read("manifest.json"), ...read(file) };
  return { ...config, broker: "127.0.0.1", port: String(broker.port), node, ...extra };
}

interface RunningBoard {
  xs: XsHost;
  /** A peer subscribed to the node's topics and its discovery configs before the board started. */
  peer: Peer;
  /** What the board traced. */
  traced: string[];
  hostErrors: string[];
  /** The latest payload on a topic (live, or retained). */
  latest(topic: string): string | undefined;
  close(): Promise<void>;
}

/** The expressions, in XS, of the classes and globals a board's Moddable modules give. */
interface BoardModules {
  Digital: string;
  I2C: string;
  /** The Wi-Fi interface class, or "undefined". */
  WiFi: string;
  /** What Net.get("IP") answers. */
  IP: string;
  /** The System global. */
  System: string;
}

/**
 * Starts the board entry in an XS worker of its own: `modules` loads the Digital, I2C and
 * Wi-Fi classes into XS (as globals) and returns the expression of each; then main() runs
 * with `config` as mc/config.
 */
async function startBoardMain(
  node: string, config: Record<string, unknown>, modules: (xs: XsHost) => Promise<BoardModules>,
  entry = boardModule, retained: number[] = [], setup?: { module: string; clock: number },
): Promise<RunningBoard> {
  const peer = await connectPeer(broker.port);
  await peer.client.subscribeAsync([`xs-mqtt/${node}/#`, `homeassistant/+/${node}/+/config`], { qos: 1 });
  const traced: string[] = [];
  const hostErrors: string[] = [];
  let xs: XsHost | undefined;
  const close = async () => {
    await peer.client.endAsync(true);
    await xs?.close();
  };
  try {
    xs = await XsHost.start({ name: node, print: (text) => traced.push(text), onError: (error) => hostErrors.push(error.message) });
    const { Digital, I2C, WiFi, IP, System } = await modules(xs);
    await xs.evaluate(`globalThis.BoardModules = { Digital: ${Digital}, I2C: ${I2C}, WiFi: ${WiFi}, IP: ${IP}, restarts: 0, ` +
      `config: ${JSON.stringify(config)}, retained: ${JSON.stringify(retained)} }; globalThis.System = ${System}; undefined`);
    await xs.load(entry, "BoardMain");
    if (setup === undefined) {
      await xs.evaluate("BoardMain.default(); undefined"); // as Moddable calls "main" at start-up
    } else {
      // as Moddable starts: setup/network with its done(), and main once done() is called;
      // until then Date.now() reads setup.clock (ms), a board's clock before SNTP sets it
      // (Date itself is frozen, as after preload: the global binding is swapped instead)
      await xs.load(setup.module, "BoardSetup");
      await xs.evaluate(`BoardModules.setupDone = 0;
        const RealDate = globalThis.Date;
        globalThis.Date = { now: () => ${setup.clock} };
        BoardSetup.default(() => {
          globalThis.Date = RealDate;
          BoardModules.setupDone++;
          BoardMain.default();
        });
        undefined`);
    }
  } catch (error) {
    await close();
    throw error;
  }
  const latest = (topic: string) => peer.messages.findLast((m) => m.topic === topic)?.payload.toString();
  return { xs, peer, traced, hostErrors, latest, close };
}

/**
 * Digital, I2C and Wi-Fi bridged to `hardware`'s pins, chips and radio (the simulator's XS
 * bridge; the radio governs the bridged TCP's link), an address for Net.get("IP") and a
 * System whose restart() counts, for startBoardMain().
 */
function bridged(hardware: BoardHardware): (xs: XsHost) => Promise<BoardModules> {
  return async (host) => {
    host.register(new I2cService(hardware.bus));
    host.register(new DigitalService(hardware.pins, (header, body) => host.deliver(header, body)));
    host.register(new WifiService(hardware.wifi, (header, body) => host.deliver(header, body)));
    hardware.wifi.attach(host.tcp.network);
    await host.load(path.join(IN_XS, "digital.js"), "BridgedDigital");
    await host.load(path.join(IN_XS, "i2c.js"), "BridgedI2C");
    await host.load(path.join(IN_XS, "wifi.js"), "BridgedWiFi");
    return {
      Digital: "BridgedDigital.Digital", I2C: "BridgedI2C.I2C", WiFi: "BridgedWiFi.WiFi", IP: JSON.stringify(BOARD_IP),
      System: "{ restart() { globalThis.BoardModules.restarts++; } }",
    };
  };
}

/** What Net.get("IP") answers on the esp32 board here. */
const BOARD_IP = "192.168.1.77";

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
  boardModule = await bundleBoard();
});

afterAll(async () => {
  await stopAllMosquittos();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("device/main.ts (dist/board.js) started inside XS with the esp32 manifest's configuration", () => {
  const NODE = "xs-main";
  const hardware = new BoardHardware(7);
  let board: RunningBoard;
  let xs: XsHost;
  let peer: Peer;
  let traced: string[];
  let latest: (topic: string) => string | undefined;

  beforeAll(async () => {
    hardware.sht3x.set({ temperature: 21.5, humidity: 45 });
    // ssid and password as mcconfig's command line gives them (ssid=... password=...), the access point's
    const wifi = { ssid: hardware.wifi.ssid, password: hardware.wifi.password ?? "" };
    board = await startBoardMain(NODE, manifestConfig("esp32", NODE, { sampleInterval: "500", ...wifi }), bridged(hardware));
    ({ xs, peer, traced, latest } = board);
  });

  afterAll(async () => {
    await board?.close();
  });

  it("runs in XS and says where it connects", async () => {
    expect((await xs.evaluate("[typeof process, typeof Buffer, typeof BoardMain.default]")).value).toEqual(["undefined", "undefined", "function"]);
    await waitFor(() => traced.join("").includes(`connecting to 127.0.0.1:${broker.port} as xs-mqtt-${NODE}`), "the connecting line", 5_000);
    // no DHCP DNS servers here: the manifest's dns is used
    expect((await xs.evaluate("BoardModules.resolverOptions.servers")).value).toEqual(["1.1.1.1"]);
  });

  it("comes online: the retained birth and a discovery config per reading and for the relay", async () => {
    await waitFor(() => latest(`xs-mqtt/${NODE}/status`) === "online", "the birth", 10_000);
    const configs = ["sensor/xs-main/xs-mqtt_climate_temperature", "sensor/xs-main/xs-mqtt_climate_humidity", "sensor/xs-main/xs-mqtt_light_illuminance", "switch/xs-main/xs-mqtt_relay"]
      .map((id) => `homeassistant/${id}/config`);
    await waitFor(() => configs.every((topic) => latest(topic) !== undefined), "4 discovery configs", 10_000);
    const relay = JSON.parse(latest(configs[3])!) as Record<string, unknown>;
    expect(relay).toMatchObject({ command_topic: `xs-mqtt/${NODE}/relay/set`, availability_topic: `xs-mqtt/${NODE}/status` });
    expect(relay.device).toMatchObject({ model: "ESP32 sensor node", sw_version: "0.1.0" });
    // the LED in the manifest is the status LED (lit while online), not an actuator
    expect(peer.messages.some((m) => m.topic.startsWith("homeassistant/light/"))).toBe(false);
    await waitFor(() => hardware.pins.level(2) === 1, "the status LED lit", 5_000);
    expect(await retainedOn(`xs-mqtt/${NODE}/status`)).toBe("online");
    expect(JSON.parse((await retainedOn(configs[0]))!)).toMatchObject({ unique_id: `xs-mqtt_${NODE}_climate_temperature`, unit_of_measurement: "°C" });
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
    expect(board.hostErrors).toEqual([]);
  });

  it("announces its diagnostics and publishes uptime, the Wi-Fi interface's RSSI and Net.get(\"IP\")", async () => {
    for (const id of ["sensor/xs-main/xs-mqtt_diagnostics_uptime", "sensor/xs-main/xs-mqtt_diagnostics_rssi",
      "sensor/xs-main/xs-mqtt_diagnostics_ip", "button/xs-main/xs-mqtt_diagnostics_restart"]) {
      await waitFor(() => latest(`homeassistant/${id}/config`) !== undefined, id, 10_000);
      expect(JSON.parse(latest(`homeassistant/${id}/config`)!).entity_category).toBe(id.startsWith("button") ? "config" : "diagnostic");
    }
    await waitFor(() => latest(`xs-mqtt/${NODE}/diagnostics/state`) !== undefined, "the diagnostics", 10_000);
    const state = JSON.parse(latest(`xs-mqtt/${NODE}/diagnostics/state`)!) as { uptime: number; rssi: number; ip: string };
    expect(state.ip).toBe(BOARD_IP);
    expect(Math.abs(state.rssi - hardware.wifi.rssi())).toBeLessThanOrEqual(4);
    expect(Number.isInteger(state.uptime)).toBe(true);
  });

  it("Wi-Fi lost: goes offline and rejoins the access point with mc/config's ssid and password; back: connects at once", async () => {
    hardware.wifi.drop();
    await waitFor(() => latest(`xs-mqtt/${NODE}/status`) === "offline", "the will", 10_000);
    await waitFor(() => traced.join("").includes("Wi-Fi is down: no connection attempts until it is back"), "the log line", 5_000);
    const connects = () => traced.join("").split("status: online").length - 1;
    const before = connects();
    hardware.wifi.restore();
    await waitFor(() => latest(`xs-mqtt/${NODE}/status`) === "online" && connects() === before + 1, "online again", 15_000);
    expect(hardware.wifi.joins).toBeGreaterThanOrEqual(1); // the firmware's connect() joined it
    expect(traced.join("")).toContain("Wi-Fi is back: connecting now");
  });

  it("Home Assistant's restart button: \"offline\" from the firmware, then System.restart()", async () => {
    await peer.client.publishAsync(`xs-mqtt/${NODE}/diagnostics/restart`, "PRESS", { qos: 1 });
    await waitFor(() => latest(`xs-mqtt/${NODE}/status`) === "offline", "offline", 5_000);
    await waitFor(() => traced.join("").includes("stopped"), "the graceful stop", 5_000);
    const restarts = async () => (await xs.evaluate<number>("BoardModules.restarts")).value;
    for (let i = 0; i < 50 && (await restarts()) === 0; i++) await sleep(100); // bounded: 5 s
    expect(await restarts()).toBe(1);
    expect(board.hostErrors).toEqual([]);
  });
});

describe("the board's setup/network (dist/board-network.js: device/setup-network.ts) inside XS, then main, as Moddable starts an esp32 build", () => {
  let setupModule: string;
  const boards: RunningBoard[] = [];

  beforeAll(async () => {
    setupModule = await bundleBoard("dist/board-network.js");
  });

  afterAll(async () => {
    for (const board of boards) await board.close();
  });

  /** A board powered up: its station not associated, the access point there or away. */
  function poweredUp(seed: number, accessPoint: boolean): BoardHardware {
    const hardware = new BoardHardware(seed);
    hardware.sht3x.set({ temperature: 20, humidity: 50 });
    hardware.wifi.drop(); // the station as at power-up: not associated
    if (accessPoint) hardware.wifi.restore();
    return hardware;
  }

  it("the access point there: joins it with mc/config's ssid and password, sets the clock from mc/config's SNTP server, then main comes online", async () => {
    const NODE = "xs-setup-joined";
    const hardware = poweredUp(11, true);
    const config = manifestConfig("esp32", NODE, { ssid: hardware.wifi.ssid, password: hardware.wifi.password ?? "", sntp: "pool.ntp.org" });
    const board = await startBoardMain(NODE, config, bridged(hardware), boardModule, [], { module: setupModule, clock: 0 });
    boards.push(board);
    await board.xs.evaluate("BoardModules.sntpTime = 1796380800; undefined");
    await waitFor(() => board.latest(`xs-mqtt/${NODE}/status`) === "online", "online", 10_000);
    expect((await board.xs.evaluate("[BoardModules.setupDone, BoardModules.sntpHost, BoardModules.clockSet]")).value).toEqual([1, "pool.ntp.org", 1796380800]);
    expect(hardware.wifi.joins).toBe(1); // setup/network's join; the firmware found the link up
    expect(board.traced.join("")).toContain("clock set from pool.ntp.org");
    expect(board.hostErrors).toEqual([]);
  });

  it("the access point away at power-up: its one join fails, main starts anyway, and the board comes online by itself once the access point is back (the SDK's setup/network would keep main from ever running)", async () => {
    const NODE = "xs-setup-no-ap";
    const hardware = poweredUp(12, false);
    const config = manifestConfig("esp32", NODE, { ssid: hardware.wifi.ssid, password: hardware.wifi.password ?? "", sntp: "pool.ntp.org" });
    const board = await startBoardMain(NODE, config, bridged(hardware), boardModule, [], { module: setupModule, clock: 0 });
    boards.push(board);
    await waitFor(() => board.traced.join("").includes("not joined; starting without it"), "setup/network giving up", 5_000);
    expect((await board.xs.evaluate("BoardModules.setupDone")).value).toBe(1);
    // main runs: its Wi-Fi watch joins again with backoff (about 1 s, then 2 s) while the access point is away
    await waitFor(() => hardware.wifi.joins >= 3, "the firmware's own joins", 10_000);
    expect(board.latest(`xs-mqtt/${NODE}/status`)).toBeUndefined();
    hardware.wifi.restore();
    await waitFor(() => board.latest(`xs-mqtt/${NODE}/status`) === "online", "online once the access point is back", 15_000);
    // no address at start-up, so no SNTP: the clock is left as it was
    expect((await board.xs.evaluate("[typeof BoardModules.sntpHost, typeof BoardModules.clockSet]")).value).toEqual(["undefined", "undefined"]);
    expect(board.hostErrors).toEqual([]);
  });

  it("no ssid in mc/config: done() at once, no join, and main starts", async () => {
    const NODE = "xs-setup-no-ssid";
    const hardware = new BoardHardware(13);
    const board = await startBoardMain(NODE, manifestConfig("esp32", NODE), bridged(hardware), boardModule, [], { module: setupModule, clock: 0 });
    boards.push(board);
    expect((await board.xs.evaluate("BoardModules.setupDone")).value).toBe(1);
    await waitFor(() => board.latest(`xs-mqtt/${NODE}/status`) === "online", "online", 10_000);
    expect(hardware.wifi.joins).toBe(0);
  });
});

describe("device/main.ts (dist/board.js) started inside XS with the lin manifest's configuration and desktop stand-ins", () => {
  const NODE = "xs-desktop-test";
  let board: RunningBoard;

  beforeAll(async () => {
    // the lin manifest leaves the sensors out; an SHT3x asked for shows what the I2C stand-in does
    board = await startBoardMain(NODE, manifestConfig("lin", NODE, { sht3x: "68" }), async (host) => {
      await host.load(path.join(root, "manifests/lin/digital.js"), "LinDigital");
      await host.load(path.join(root, "manifests/lin/i2c.js"), "LinI2C");
      await host.load(path.join(root, "manifests/lin/wifi.js"), "LinWiFi");
      // Moddable's Linux System (modules/io/manifests/lin/system.js) has no restart()
      return { Digital: "LinDigital.default", I2C: "LinI2C.default", WiFi: "LinWiFi.default", IP: JSON.stringify("10.0.2.15"), System: "{}" };
    });
  });

  afterAll(async () => {
    await board?.close();
  });

  it("reports the missing I²C bus and the sensor it leaves without a driver, and comes online", async () => {
    await waitFor(() => board.latest(`xs-mqtt/${NODE}/status`) === "online", "the birth", 10_000);
    const log = board.traced.join("");
    expect(log).toContain("xs-mqtt: sht3x (climate) not found: Error: no I2C bus in the desktop simulator (address 68)");
    expect(log).toContain("sensor climate: no driver was given; it is neither announced nor published");
    // the relay is announced; the climate sensor, which has no driver, is not (its configs
    // would go out before the relay's)
    await waitFor(() => board.latest(`homeassistant/switch/${NODE}/xs-mqtt_relay/config`) !== undefined, "the relay's discovery config", 10_000);
    for (const object of ["climate_temperature", "climate_humidity"]) {
      expect(board.latest(`homeassistant/sensor/${NODE}/xs-mqtt_${object}/config`), object).toBeUndefined();
    }
    expect(board.peer.messages.some((m) => m.topic === `xs-mqtt/${NODE}/climate/state`)).toBe(false);
  });

  it("switches the stand-in relay pin on ON, which traces the write", async () => {
    await board.peer.client.publishAsync(`xs-mqtt/${NODE}/relay/set`, "ON", { qos: 1 });
    await waitFor(() => board.latest(`xs-mqtt/${NODE}/relay/state`) === "ON", "the relay state ON", 5_000);
    expect(board.traced.join("")).toContain("digital: pin 26 = 1");
    expect(board.hostErrors).toEqual([]);
  });

  it("has no Wi-Fi: announces uptime, IP address and restart but no RSSI, and publishes the host's address", async () => {
    await waitFor(() => board.latest(`homeassistant/button/${NODE}/xs-mqtt_diagnostics_restart/config`) !== undefined, "the restart button", 10_000);
    expect(board.latest(`homeassistant/sensor/${NODE}/xs-mqtt_diagnostics_uptime/config`)).toBeDefined();
    expect(board.latest(`homeassistant/sensor/${NODE}/xs-mqtt_diagnostics_ip/config`)).toBeDefined();
    expect(board.latest(`homeassistant/sensor/${NODE}/xs-mqtt_diagnostics_rssi/config`)).toBeUndefined();
    await waitFor(() => board.latest(`xs-mqtt/${NODE}/diagnostics/state`) !== undefined, "the diagnostics", 10_000);
    expect(JSON.parse(board.latest(`xs-mqtt/${NODE}/diagnostics/state`)!)).toMatchObject({ rssi: null, ip: "10.0.2.15" });
  });

  it("restart button without System.restart(): the firmware starts again in the app and comes back online", async () => {
    const online = () => board.traced.join("").split("status: online").length - 1;
    const before = online();
    await board.peer.client.publishAsync(`xs-mqtt/${NODE}/diagnostics/restart`, "PRESS", { qos: 1 });
    await waitFor(() => board.latest(`xs-mqtt/${NODE}/status`) === "offline", "offline", 5_000);
    await waitFor(() => online() === before + 1 && board.latest(`xs-mqtt/${NODE}/status`) === "online", "online again", 10_000);
    expect(board.traced.join("").split(`connecting to 127.0.0.1:${broker.port}`).length - 1).toBe(2);
    expect(board.hostErrors).toEqual([]);
  });
});

describe("device/main.ts (dist/board.js) inside XS with mistakes in the esp32 manifest's configuration", () => {
  const NODE = "xs-main-mistakes";
  const hardware = new BoardHardware(9);
  let board: RunningBoard;

  beforeAll(async () => {
    hardware.bh1750.set({ illuminance: 250 });
    // an SHT3x address past 127 and a relay pin that is not a number, as mcconfig's command line gives them
    board = await startBoardMain(NODE, manifestConfig("esp32", NODE, { sampleInterval: "500", sht3x: "200", relay: "26a" }), bridged(hardware));
  });

  afterAll(async () => {
    await board?.close();
  });

  it("logs each mistake, leaves the climate sensor and the relay out, and starts with the rest", async () => {
    await waitFor(() => board.latest(`xs-mqtt/${NODE}/status`) === "online", "the birth", 10_000);
    const log = board.traced.join("");
    expect(log).toContain("xs-mqtt: config sensors[0].address: must be a whole number from 0 to 127 (sensors[0] is left out)");
    expect(log).toContain("xs-mqtt: config actuators[0].pin: must be a whole number from 0 to 1023 (actuators[0] is left out)");
    expect(log).not.toContain("cannot start");
    await waitFor(() => board.latest(`xs-mqtt/${NODE}/light/state`) !== undefined, "a light reading", 10_000);
    expect(JSON.parse(board.latest(`xs-mqtt/${NODE}/light/state`)!)).toEqual({ illuminance: 250 });
    await waitFor(() => board.latest(`homeassistant/sensor/${NODE}/xs-mqtt_light_illuminance/config`) !== undefined, "the light's config", 10_000);
    await waitFor(() => board.latest(`xs-mqtt/${NODE}/discovery`) !== undefined, "the manifest", 10_000);
    expect(board.latest(`xs-mqtt/${NODE}/discovery`)).toBe("sensor/xs-mqtt_light_illuminance sensor/xs-mqtt_diagnostics_uptime " +
      "sensor/xs-mqtt_diagnostics_rssi sensor/xs-mqtt_diagnostics_ip button/xs-mqtt_diagnostics_restart");
    expect(board.peer.messages.some((m) => m.topic.includes("climate") || m.topic.includes("relay"))).toBe(false);
    expect(board.hostErrors).toEqual([]);
  });
});

describe("device/main-sleep.ts (dist/board-sleep.js) started inside XS with manifest_sleep.json's configuration", () => {
  const NODE = "xs-sleep";
  const STATE = `xs-mqtt/${NODE}/climate/state`;
  const hardware = new BoardHardware(11);
  let sleepModule: string;
  /** RTC memory after a power-on: noise. */
  const retained = Array.from({ length: 32 }, (_, i) => (i * 0x9e3779b1) | 0);

  beforeAll(async () => {
    sleepModule = await bundleBoard("dist/board-sleep.js");
    hardware.sht3x.set({ temperature: 21.5, humidity: 45 });
    hardware.bh1750.set({ illuminance: 250 });
  });

  /** One wake: main() in a fresh XS worker with the words the last one left; resolves with the board once it asked to sleep. */
  async function wake(): Promise<{ board: RunningBoard; slept: number; words: number[] }> {
    const config = manifestConfig("esp32", NODE, { sleep: "60000", sleepAckTimeout: "3000" }, "manifest_sleep.json");
    const board = await startBoardMain(NODE, config, bridged(hardware), sleepModule, retained);
    try {
      await waitFor(() => board.traced.join("").includes("deep sleep "), "the deep sleep", 10_000);
      const state = (await board.xs.evaluate<string>("JSON.stringify(globalThis.BoardModules)")).value;
      const modules = JSON.parse(state) as { slept: number; retained: number[] };
      retained.splice(0, 32, ...modules.retained);
      return { board, slept: modules.slept, words: modules.retained };
    } catch (error) {
      await board.close();
      throw error;
    }
  }

  it("wakes, publishes its readings (the relay and LED of the esp32 manifest left out), keeps packet id and values in the retained words, and deep-sleeps; the next wake stays offline within the deadband", async () => {
    const first = await wake();
    try {
      const log = first.board.traced.join("");
      expect(log).toContain("woke (wake 0, retained memory started afresh)");
      expect(log).not.toContain("cannot start");
      expect(first.slept).toBeGreaterThan(50_000);
      expect(first.slept).toBeLessThanOrEqual(60_000);
      await waitFor(() => first.board.latest(STATE) !== undefined, "the climate reading", 10_000);
      expect(JSON.parse(first.board.latest(STATE)!)).toEqual({ temperature: 21.5, humidity: 45 });
      expect(first.board.peer.messages.some((m) => m.topic.includes("relay") || m.topic.endsWith("/status"))).toBe(false);
      expect(first.words[1] & 0xffff).toBeGreaterThan(0); // the packet id used last
      expect(first.board.hostErrors).toEqual([]);
    } finally {
      await first.board.close();
    }
    const second = await wake();
    try {
      const log = second.board.traced.join("");
      expect(log).toContain("woke (wake 1)");
      expect(log).toContain("nothing to publish");
      expect(second.words[1]).toBe(first.words[1]);
    } finally {
      await second.board.close();
    }
  });
});
