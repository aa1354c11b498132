/*
 * The Node side of the bridged Wi-Fi interface (in-xs/wifi.js): one interface of a
 * simulated board's radio (host-sim/io/wifi.ts) per XS instance. Commands open, state
 * (answers connection, address and RSSI), close, and "address" (the board's address, for
 * the firmware's io.address; no instance needed); an instance's onChanged goes into XS as
 * a delivery with the property's name. Node side only.
 */

import type { BoardWiFi, SimWiFiInterface } from "../../io/wifi.js";
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
    if (request.header.op !== "address") return super.command(request);
    const wifi = this.#wifi;
    return { header: { address: wifi.up ? wifi.address : null } };
  }

  protected open(id: number, { header }: Frame): SimWiFiInterface {
    const deliver = this.#deliver;
    const service = this.name;
    const Interface = this.#wifi.interfaceClass((_callback, _self, property) => void deliver({ service, event: "changed", id, property }));
    return new Interface({ onChanged: header.onChanged === "function" ? () => {} : undefined });
  }

  protected operate(wifi: SimWiFiInterface, { header }: Frame): ServiceReply | undefined {
    if (header.op !== "state") throw new Error("wifi: unknown op " + JSON.stringify(header.op));
    return { header: { connection: wifi.connection, address: wifi.address ?? null, RSSI: wifi.RSSI ?? null } };
  }
}
