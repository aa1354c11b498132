/*
 * The subscription table of an MQTT 5.0 client: the same table (subscriptions.ts), writing
 * SUBSCRIBE and UNSUBSCRIBE as 5.0 has them (an empty property list after the packet id).
 * Only a protocolVersion 5 client makes one; allocates nothing of its own.
 */

import type { SubscribeFilter } from "./encode.js";
import { encodeSubscribe5, encodeUnsubscribe5 } from "./encode5.js";
import { SubscriptionTable } from "./subscriptions.js";

export class SubscriptionTable5 extends SubscriptionTable {
  protected override get headroom(): number {
    return 1;
  }

  protected override encodeSubscribe(buf: Uint8Array, offset: number, packetId: number, list: readonly SubscribeFilter[]): number {
    return encodeSubscribe5(buf, offset, packetId, list);
  }

  protected override encodeUnsubscribe(buf: Uint8Array, offset: number, packetId: number, list: readonly Uint8Array[]): number {
    return encodeUnsubscribe5(buf, offset, packetId, list);
  }
}
