/*
 * The XS engine of a simulated board: the built firmware (dist/firmware.js) runs inside a
 * real XS engine, in an xsnap worker of the board's own (XsHost), with TCP and Timer
 * bridged from Node, and the board's I²C bus and pins bridged as XsHost services to the
 * Node-side simulated chips and VirtualPins, and its Wi-Fi radio (io/wifi.ts) as the "wifi"
 * service. in-xs/board.js starts it there and reports status changes and snapshots through
 * the "board" service. A board in battery mode (config.sleep) gets a BoardSleep
 * (host-sim/sleep.ts) on its network link, bridged as the "sleep" service: the retained
 * words stay here, and at each wake in-xs/board.js starts the firmware afresh inside XS. An exception that escapes a
 * delivery inside XS (a socket's, timer's or pin's callback) aborts the board
 * (host-sim/io/abort.ts has the Node engine's counterpart). Node side only.
 */

import path from "node:path";
import type { FirmwareStatus } from "../../../device/app/firmware.js";
import type { BoardEngine, BoardSnapshot, BoardStart } from "../../board.js";
import { CLIENT_BUFFERS, CLOSE_TIMEOUT, I2C_CLOCK, I2C_DATA } from "../../board-config.js";
import { DigitalService } from "./digital-service.js";
import type { Frame } from "./frame.js";
import { XS_IO_MODULE, XsHost } from "./host.js";
import { I2cService } from "./i2c-service.js";
import { WifiService } from "./wifi-service.js";
import { SleepService } from "./sleep-service.js";
import { BoardSleep } from "../../sleep.js";
import type { ServiceReply, XsService } from "./service.js";

/** The XS side of a board, next to the bridge's own modules. */
export const XS_BOARD_MODULE = path.join(path.dirname(XS_IO_MODULE), "board.js");

/** How often the board inside XS sends its snapshot, ms. */
const REPORT_INTERVAL = 250;

/** The "board" service: what the XS side of the board reports. */
class BoardService implements XsService {
  readonly name = "board";
  snapshot: BoardSnapshot | undefined;
  readonly #start: BoardStart;

  constructor(start: BoardStart) {
    this.#start = start;
  }

  command({ header }: Frame): ServiceReply | undefined {
    switch (header.op) {
      case "status":
        this.#start.listener._onStatus(header.status as FirmwareStatus);
        return undefined;
      case "log":
        this.#start.listener._onLog(String(header.line));
        return undefined;
      case "report": {
        const { service: _service, op: _op, ...snapshot } = header;
        this.snapshot = snapshot as unknown as BoardSnapshot;
        return undefined;
      }
      default:
        throw new Error("board: unknown op " + JSON.stringify(header.op));
    }
  }

  close(): void {}
}

export async function startXsBoard(start: BoardStart): Promise<BoardEngine> {
  if (start.config.broker.tls === true) throw new Error("the XS engine bridges TCP only: use an mqtt:// broker with engine \"xs\"");
  const name = `board-${start.number}`;
  let aborted = false;
  const host = await XsHost.start({
    name,
    rtt: start.rtt,
    stack: start.stack,
    print: (text) => {
      for (const line of text.split("\n")) if (line.length > 0) start.listener._onLog(line);
    },
    // an exception that escaped a delivery (a socket's, timer's or pin's callback inside XS)
    // or a dead worker: the board aborts (io/abort.ts), its sockets destroyed without DISCONNECT
    onError: (error) => {
      if (aborted) return;
      aborted = true;
      void host.close();
      start.listener._onAbort(error);
    },
  });
  host.tcp.onFailure = (reason) => start.listener._onLog("network: " + reason);
  const service = new BoardService(start);
  const sleep = start.config.sleep === undefined ? undefined : new BoardSleep({
    seed: start.seed,
    network: host.tcp.network,
    onSleep: (cycle) => start.listener._onSleep(cycle),
    onWake: () => {
      start.listener._onStatus("connecting");
      void host.deliver({ service: "sleep", event: "wake" });
    },
  });
  try {
    if (sleep !== undefined) host.register(new SleepService(sleep));
    host.register(new I2cService(start.hardware.bus));
    host.register(new DigitalService(start.hardware.pins, (header, body) => host.deliver(header, body)));
    host.register(new WifiService(start.hardware.wifi, (header, body) => host.deliver(header, body)));
    host.register(service);
    start.hardware.wifi.attach(host.tcp.network);
    await host.load(start.firmwarePath, "Firmware");
    await host.load(XS_BOARD_MODULE, "Board");
    const wiring = { data: I2C_DATA, clock: I2C_CLOCK, seed: start.seed, buffers: CLIENT_BUFFERS, reportInterval: REPORT_INTERVAL };
    await host.evaluate(`Board.start(Firmware, ${JSON.stringify(start.config)}, ${JSON.stringify(wiring)}); undefined`);
  } catch (error) {
    await host.close();
    throw error;
  }
  let stopped = false;
  return {
    config: start.config,
    // the first report comes from Board.start()
    readings: () => service.snapshot!.readings,
    actuators: () => service.snapshot!.actuators,
    pushReadingValues(out) {
      const readings = service.snapshot!.readings;
      for (let i = 0; i < readings.length; i++) out.push(readings[i].value);
      return readings.length;
    },
    pushActuatorStates(out) {
      const actuators = service.snapshot!.actuators;
      for (let i = 0; i < actuators.length; i++) out.push(actuators[i].state === "ON" ? 1 : 0);
      return actuators.length;
    },
    counts: () => service.snapshot!.counts,
    stats: () => service.snapshot!.stats,
    async setActuator(id, on) {
      return (await host.evaluate<boolean>(`Board.setActuator(${JSON.stringify(id)}, ${on === true})`)).value;
    },
    cutNetwork() {
      host.tcp.cut();
    },
    restoreNetwork() {
      host.tcp.restore();
    },
    wakes: () => sleep?.cycles ?? [],
    asleep: () => sleep?.asleep ?? false,
    async stop() {
      if (stopped) return;
      stopped = true;
      sleep?.stop();
      if (aborted) return host.close(); // an aborted board runs nothing more: no "offline", no DISCONNECT
      try {
        await host.evaluate("Board.stop(); undefined");
        await host.tcp.settled(CLOSE_TIMEOUT);
      } catch (error) {
        start.listener._onLog(`stop: ${(error as Error).message}`);
      } finally {
        await host.close();
      }
    },
  };
}
