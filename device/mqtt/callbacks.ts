/*
 * The client's calls into user code: the callbacks of ClientOptions and the subscription
 * handlers. Each call is guarded: what user code throws never reaches the IO layer (on a
 * board an exception out of an IO callback aborts), it is reported to onError as
 * "handler-threw". Holds the options' callbacks only (not the options object, so what else
 * the caller put in it can be collected); allocates only to report a throw.
 */

import { MqttError } from "./errors.js";
import type { Message } from "./message.js";
import type { ClientOptions, MessageHandler } from "./options.js";

export class Callbacks {
  readonly #onConnected: ClientOptions["onConnected"];
  readonly #onDisconnected: ClientOptions["onDisconnected"];
  readonly #onMessage: ClientOptions["onMessage"];
  readonly #onPublished: ClientOptions["onPublished"];
  readonly #onSubscribed: ClientOptions["onSubscribed"];
  readonly #onUnsubscribed: ClientOptions["onUnsubscribed"];
  readonly #onReady: ClientOptions["onReady"];
  readonly #onError: ClientOptions["onError"];

  constructor(options: ClientOptions) {
    this.#onConnected = options.onConnected;
    this.#onDisconnected = options.onDisconnected;
    this.#onMessage = options.onMessage;
    this.#onPublished = options.onPublished;
    this.#onSubscribed = options.onSubscribed;
    this.#onUnsubscribed = options.onUnsubscribed;
    this.#onReady = options.onReady;
    this.#onError = options.onError;
  }

  connected(sessionPresent: boolean): void {
    const onConnected = this.#onConnected;
    if (onConnected !== undefined) this.#call(onConnected, sessionPresent);
  }

  disconnected(reason: MqttError): void {
    const onDisconnected = this.#onDisconnected;
    if (onDisconnected !== undefined) this.#call(onDisconnected, reason);
  }

  /** A message for `handler` (a subscription's), or for onMessage when it is undefined. */
  message(handler: MessageHandler | undefined, message: Message): void {
    const callback = handler ?? this.#onMessage;
    if (callback !== undefined) this.#call(callback, message);
  }

  /** `reasonCode`: the acknowledgement's (MQTT 5.0), 0 on 3.1.1. */
  published(packetId: number, reasonCode: number): void {
    const onPublished = this.#onPublished;
    if (onPublished !== undefined) this.#call2(onPublished, packetId, reasonCode);
  }

  subscribed(filter: string, grantedQos: number): void {
    const onSubscribed = this.#onSubscribed;
    if (onSubscribed !== undefined) this.#call2(onSubscribed, filter, grantedQos);
  }

  unsubscribed(filter: string, reasonCode: number): void {
    const onUnsubscribed = this.#onUnsubscribed;
    if (onUnsubscribed !== undefined) this.#call2(onUnsubscribed, filter, reasonCode);
  }

  ready(): void {
    const onReady = this.#onReady;
    if (onReady !== undefined) this.#call(onReady, undefined);
  }

  error(error: MqttError): void {
    const onError = this.#onError;
    if (onError !== undefined) this.#call(onError, error);
  }

  #call<T>(callback: (value: T) => void, value: T): void {
    try {
      callback(value);
    } catch (error) {
      this.#threw(error);
    }
  }

  #call2<T>(callback: (value: T, code: number) => void, value: T, code: number): void {
    try {
      callback(value, code);
    } catch (error) {
      this.#threw(error);
    }
  }

  #threw(thrown: unknown): void {
    const onError = this.#onError;
    if (onError === undefined) return;
    try {
      onError(new MqttError("handler-threw", String(thrown)));
    } catch {
      // the error handler itself threw: nothing more to tell
    }
  }
}
