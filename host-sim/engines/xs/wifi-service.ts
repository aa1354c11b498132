/*
 * The Node side of the bridged Wi-Fi interface (in-xs/wifi.js): one interface of a
 * simulated board's radio (host-sim/io/wifi.ts) per XS instance. Commands open, state
 * (answers connection, address and RSSI), connect (the options XS read: SSID, password,
 * channel; the interface's throws go back to XS), disconnect, close, and, with no instance
 * needed, "address" (the board's address, for the firmware's io.address) and "credentials"
 * (the access point's SSID and password: what a board's mc/config gives). An instance's
 * onChanged goes into XS as a delivery with the property's name. Node side only.
 */

import type { BoardWiFi, SimWiFiInterface, WifiConnectOptions } from "../../io/wifi.js";
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
    const Interface = this.#wifi.interfaceClass((_callback, _self, property) => void deliver({ service, event: "changed", id, property }));
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
    if (header.op === "disconnect") {
      wifi.disconnect();
      return undefined;
    }
    if (header.op !== "state") throw new Error("wifi: unknown op " + JSON.stringify(header.op));
    return { header: { connection: wifi.connection, address: wifi.address ?? null, RSSI: wifi.RSSI ?? null } };
  }
}
