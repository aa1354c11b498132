/*
 * What a Node-side service of the XS host is (TCP, Timer, a simulated board's I2C or
 * pins): it answers the commands XS sends it, synchronously, and sends events into XS
 * through the host's deliver(). InstanceService is the common part of the services whose
 * XS instances each hold one Node object (an I2C connection, a pin). Node side only.
 */

import type { Frame, FrameHeader } from "./frame.js";

/** What a service answers: more header fields (merged into the reply) and body bytes. */
export interface ServiceReply {
  header?: Record<string, unknown>;
  body?: Uint8Array;
}

export interface XsService {
  /** The `service` name its frames carry. */
  readonly name: string;
  /**
   * Handles one command while XS waits. Throwing refuses it: XS gets the error's message
   * thrown from its call (how a socket's "would block" reaches the device code).
   */
  command(request: Frame): ServiceReply | undefined;
  /** Releases everything it holds (sockets, timers); called once, by XsHost.close(). */
  close(): void;
}

/** Sends an event into XS, after the deliveries already queued; resolves once XS handled it. */
export type Deliver = (header: FrameHeader | Record<string, unknown> & { service: string }, body?: Uint8Array) => Promise<void>;

/**
 * A service whose XS instances (numbered by XS) each hold one Node object: "open" makes it,
 * "close" closes it, every other op goes to operate(); a command for an id not open is
 * refused with "closed". close() closes whatever XS left open.
 */
export abstract class InstanceService<T extends { close(): void }> implements XsService {
  abstract readonly name: string;
  readonly #open = new Map<number, T>();

  /** Makes the Node object of a new XS instance from the "open" command. */
  protected abstract open(id: number, request: Frame): T;

  /** Every op but "open" and "close", on an open instance. */
  protected abstract operate(instance: T, request: Frame): ServiceReply | undefined;

  command(request: Frame): ServiceReply | undefined {
    const { header } = request;
    const id = header.id;
    if (typeof id !== "number") throw new Error(this.name + ": a command without an id");
    if (header.op === "open") {
      if (this.#open.has(id)) throw new Error(this.name + ": id " + id + " is in use");
      this.#open.set(id, this.open(id, request));
      return undefined;
    }
    const instance = this.#open.get(id);
    if (instance === undefined) throw new Error("closed");
    if (header.op === "close") {
      instance.close();
      this.#open.delete(id);
      return undefined;
    }
    return this.operate(instance, request);
  }

  close(): void {
    for (const instance of this.#open.values()) instance.close();
    this.#open.clear();
  }
}
