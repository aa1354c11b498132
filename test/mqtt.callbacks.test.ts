/*
 * Unit tests of device/mqtt/callbacks.ts: each user callback gets its value; what a callback
 * throws reaches onError as "handler-threw" and never the caller; a throwing onError is
 * swallowed; missing callbacks are fine; the options object is not kept. Plain calls: no
 * sockets, no timers.
 */
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { describe, expect, it } from "vitest";
import { Callbacks } from "../device/mqtt/callbacks.js";
import { MqttError } from "../device/mqtt/errors.js";
import type { ClientIo } from "../device/mqtt/io.js";
import { Message } from "../device/mqtt/message.js";
import type { ClientOptions } from "../device/mqtt/options.js";

const io = {} as ClientIo; // never used by Callbacks

function options(extra: Partial<ClientOptions>): ClientOptions {
  return { host: "h", clientId: "c", io, ...extra };
}

function message(): Message {
  return new Message(new Uint8Array(4), TextDecoder);
}

describe("Callbacks: each callback with its value", () => {
  it("connected, disconnected, message, published, subscribed, ready and error", () => {
    const calls: unknown[][] = [];
    const callbacks = new Callbacks(options({
      onConnected: (sessionPresent) => calls.push(["connected", sessionPresent]),
      onDisconnected: (reason) => calls.push(["disconnected", reason]),
      onMessage: (received) => calls.push(["message", received]),
      onPublished: (packetId, reasonCode) => calls.push(["published", packetId, reasonCode]),
      onSubscribed: (filter, qos) => calls.push(["subscribed", filter, qos]),
      onReady: (...args: unknown[]) => calls.push(["ready", ...args]),
      onError: (error) => calls.push(["error", error]),
    }));
    const lost = new MqttError("connection-lost");
    const refused = new MqttError("subscription-refused", "a/#");
    const received = message();
    callbacks.connected(true);
    callbacks.connected(false);
    callbacks.disconnected(lost);
    callbacks.message(undefined, received);
    callbacks.published(513, 0x10);
    callbacks.subscribed("a/+", 1);
    callbacks.ready();
    callbacks.error(refused);
    expect(calls).toEqual([
      ["connected", true],
      ["connected", false],
      ["disconnected", lost],
      ["message", received],
      ["published", 513, 0x10],
      ["subscribed", "a/+", 1],
      ["ready", undefined],
      ["error", refused],
    ]);
    expect(calls[2][1]).toBe(lost);
    expect(calls[3][1]).toBe(received);
  });

  it("message(handler, received) goes to the subscription's handler, not onMessage; message(undefined, received) to onMessage", () => {
    const seen: string[] = [];
    const callbacks = new Callbacks(options({ onMessage: () => seen.push("onMessage") }));
    const received = message();
    callbacks.message((got) => seen.push(got === received ? "handler" : "handler got another message"), received);
    callbacks.message(undefined, received);
    expect(seen).toEqual(["handler", "onMessage"]);
  });

  it("without any callback, every call returns quietly", () => {
    const callbacks = new Callbacks(options({}));
    expect(() => {
      callbacks.connected(true);
      callbacks.disconnected(new MqttError("closed"));
      callbacks.message(undefined, message());
      callbacks.published(1, 0);
      callbacks.subscribed("a", 0);
      callbacks.ready();
      callbacks.error(new MqttError("dns-failed"));
    }).not.toThrow();
  });
});

describe("Callbacks: a callback that throws", () => {
  const throwing = (text: string) => () => { throw new Error(text); };

  it("is reported to onError as handler-threw with the thrown text, and the call returns", () => {
    const errors: MqttError[] = [];
    const callbacks = new Callbacks(options({
      onConnected: throwing("in onConnected"),
      onDisconnected: throwing("in onDisconnected"),
      onMessage: throwing("in onMessage"),
      onPublished: throwing("in onPublished"),
      onSubscribed: throwing("in onSubscribed"),
      onReady: throwing("in onReady"),
      onError: (error) => errors.push(error),
    }));
    callbacks.connected(false);
    callbacks.disconnected(new MqttError("closed"));
    callbacks.message(undefined, message());
    callbacks.message(() => { throw "a string"; }, message());
    callbacks.published(2, 0);
    callbacks.subscribed("t", 0);
    callbacks.ready();
    expect(errors.map((e) => e.code)).toEqual(Array(7).fill("handler-threw"));
    expect(errors.every((e) => e instanceof MqttError)).toBe(true);
    expect(errors.map((e) => e.message)).toEqual([
      "a handler threw: caught (Error: in onConnected)",
      "a handler threw: caught (Error: in onDisconnected)",
      "a handler threw: caught (Error: in onMessage)",
      "a handler threw: caught (a string)",
      "a handler threw: caught (Error: in onPublished)",
      "a handler threw: caught (Error: in onSubscribed)",
      "a handler threw: caught (Error: in onReady)",
    ]);
  });

  it("without onError, the throw is swallowed", () => {
    const callbacks = new Callbacks(options({ onConnected: throwing("x"), onSubscribed: throwing("y"), onMessage: throwing("z") }));
    expect(() => callbacks.connected(true)).not.toThrow();
    expect(() => callbacks.subscribed("a", 1)).not.toThrow();
    expect(() => callbacks.message(undefined, message())).not.toThrow();
  });

  it("an onError that throws is swallowed, whether called for an error or for another callback's throw", () => {
    let errorCalls = 0;
    const callbacks = new Callbacks(options({
      onPublished: throwing("in onPublished"),
      onSubscribed: throwing("in onSubscribed"),
      onError: () => { errorCalls++; throw new Error("in onError"); },
    }));
    expect(() => callbacks.published(3, 0)).not.toThrow();
    expect(() => callbacks.subscribed("a", 0)).not.toThrow();
    expect(() => callbacks.error(new MqttError("connect-timeout"))).not.toThrow();
    // once for each throw, once for the error, once more for onError's own throw; then it stops
    expect(errorCalls).toBe(4);
  });
});

describe("Callbacks: what it keeps", () => {
  it("the callbacks, not the options object: a callback set on the options afterwards is not called, and the options can be collected", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const calls: string[] = [];
    const made = (): { callbacks: Callbacks; held: WeakRef<ClientOptions> } => {
      const given = options({ onConnected: () => calls.push("first") });
      Object.assign(given, { extra: new Uint8Array(4096) }); // what else a caller may put in its options
      const callbacks = new Callbacks(given);
      given.onConnected = () => calls.push("second");
      return { callbacks, held: new WeakRef(given) };
    };
    const { callbacks, held } = made();
    callbacks.connected(false);
    expect(calls).toEqual(["first"]);
    // (a WeakRef's target is kept until the current job ends)
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(held.deref()).toBeUndefined();
  });
});
