/*
 * The Node side of the bridged Wi-Fi interface (in-xs/wifi.js): one interface of a
 * simulated board's radio (host-sim/io/wifi.ts) per XS instance. Commands open, state
 * (answers connection, address and RSSI), connect (the options XS read: SSID, password,
 * channel; the interface's throws go back to XS), disconnect, close, and, with no instance
 * needed, "address" (the board's address, for the firmware's io.address) and "credentials"
 * (the access point's SSID and password: what a board's mc/config gives). An instance's
 * events go into XS as deliveries; XS applies each ("apply": the instance's new state and
 * the onChanged calls due) when its delivery runs, so inside onChanged `connection` reads
 * what it reads on a board. Node side only.
 */

import type { BoardWiFi, SimWiFiInterface, WifiConnectOptions, WifiEvent } from "../../io/wifi.js";
import type { Frame } from "./frame.js";
import { InstanceService } from "./service.js";
import type { Deliver, ServiceReply } from "./service.js";

export class WifiService extends InstanceService<SimWiFiInterface> {
  readonly name = "wifi";
  readonly #wifi: BoardWiFi;
  readonly #deliver: Deliver;

  constructor(wifi: BoardWiFi, deliver: Deliver) {
    super();
    this.#wifi = wifi;
    this.#deliver = deliver;
  }

  override command(request: Frame): ServiceReply | undefined {
    const wifi = this.#wifi;
    if (request.header.op === "credentials") return { header: { SSID: wifi.ssid, password: wifi.password ?? null } };
    if (request.header.op !== "address") return super.command(request);
    return { header: { address: wifi.up ? wifi.address : null } };
  }

  protected open(id: number, { header }: Frame): SimWiFiInterface {
    const deliver = this.#deliver;
    const service = this.name;
    // each event goes into XS as it is; XS applies it ("apply") when its delivery runs, as Moddable's runs in the machine
    const Interface = this.#wifi.interfaceClass(() => {}, (wifiEvent) => void deliver({ service, event: "changed", id, wifiEvent }));
    return new Interface({ onChanged: header.onChanged === "function" ? () => {} : undefined });
  }

  protected operate(wifi: SimWiFiInterface, { header }: Frame): ServiceReply | undefined {
    if (header.op === "connect") {
      const options: WifiConnectOptions = { SSID: header.SSID };
      if (header.password !== null) options.password = header.password;
      if (header.channel !== null) options.channel = header.channel;
      wifi.connect(options);
      return undefined;
    }
    if (header.op === "apply") return { header: { properties: wifi.apply(header.wifiEvent as WifiEvent) } };
    if (header.op === "disconnect") {
      wifi.disconnect();
      return undefined;
    }
    if (header.op !== "state") throw new Error("wifi: unknown op " + JSON.stringify(header.op));
    return { header: { connection: wifi.connection, address: wifi.address ?? null, RSSI: wifi.RSSI ?? null } };
  }
}
