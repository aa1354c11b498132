/*
 * MQTT 5.0 as one value to hand the client: new MqttClient({ protocolVersion: 5, mqtt5, ... }).
 * Through it the client reaches the 5.0 session, decoder, subscription table and CONNECT
 * encoder; the client itself only names their types, so a program that never names `mqtt5`
 * carries none of the 5.0 code (its bundle leaves it out: a 3.1.1 board stays as small as
 * before). A plain object of functions; no state.
 */

import type { PacketDecoder } from "./decode.js";
import { PacketDecoder5 } from "./decode5.js";
import { type Connect5Fields, encodeConnect5 } from "./encode5.js";
import type { TextDecoderLike } from "./io.js";
import type { ClientOptions, Settings } from "./options.js";
import type { Outbox } from "./outbox.js";
import { Session5 } from "./session5.js";
import type { SubscriptionTable } from "./subscriptions.js";
import { SubscriptionTable5 } from "./subscriptions5.js";

export interface Mqtt5 {
  /** The CONNECT packet at protocol level 5 (encode5.ts). */
  encodeConnect(buf: Uint8Array, offset: number, fields: Connect5Fields): number;
  /** The stream decoder over the client's receive buffer (decode5.ts). */
  decoder(receiveBuffer: Uint8Array, size: number): PacketDecoder;
  /** The subscription table in the client's memory (subscriptions5.ts). */
  subscriptions(max: number, memory: ArrayBuffer, at: number, outbox: Outbox, inner: number): SubscriptionTable;
  /** What the client keeps and decides for 5.0 (session5.ts), on the decoder made above. */
  session(options: ClientOptions, settings: Settings, decoder: PacketDecoder, Text: new () => TextDecoderLike): Session5;
}

export const mqtt5: Mqtt5 = {
  encodeConnect: encodeConnect5,
  decoder: (receiveBuffer, size) => new PacketDecoder5(receiveBuffer, size),
  subscriptions: (max, memory, at, outbox, inner) => new SubscriptionTable5(max, memory, at, outbox, inner),
  session: (options, settings, decoder, Text) => Session5.create(options, settings, decoder, Text),
};
