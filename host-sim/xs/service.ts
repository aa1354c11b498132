/*
 * What a Node-side service of the XS host is (TCP, Timer, and later a simulated board's
 * I2C or pins): it answers the commands XS sends it, synchronously, and sends events into
 * XS through the host's deliver(). Types only.
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
