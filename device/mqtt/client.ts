/*
 * The MQTT 3.1.1 client (QoS 0 and 1): connection, keepalive, reconnect with backoff,
 * the bounded outbox with in-order resend, subscriptions and message delivery.
 * Its network and time come from the ECMA-419 shapes it is handed (io.ts). Every buffer
 * and table is allocated by the constructor; connected, publishing and receiving allocate
 * nothing (publish with a prepared topic and a Uint8Array payload). Never blocks, never
 * throws out of an IO callback, never grows with traffic.
 */

import { CONNACK, PINGRESP, PUBACK, PUBLISH, SUBACK, SUBACK_FAILURE, UNSUBACK } from "./constants.js";
import { DECODE_ERROR, NEED_MORE, OVERSIZE, PacketDecoder } from "./decode.js";
import {
  encodeConnect, encodeDisconnect, encodePingreq, encodePuback, encodePublish, encodeSubscribe,
  encodeUnsubscribe, lengthFieldSize, publishSize,
} from "./encode.js";
import type { ErrorCode } from "./errors.js";
import { MqttError } from "./errors.js";
import type { ClientIo, Socket, TextEncoderLike, TimerId } from "./io.js";
import { Message } from "./message.js";
import { Outbox, QUEUED } from "./outbox.js";
import { PreparedTopic, prepareFilter, prepareTopic, topicMatches } from "./topic.js";

export interface WillOptions {
  topic: string;
  payload: string | Uint8Array;
  qos?: number;
  retain?: boolean;
}

export interface ReconnectOptions {
  /** First delay after a failure, ms (default 1,000). */
  minDelay?: number;
  /** Largest delay, ms (default 60,000). */
  maxDelay?: number;
  /** A connection that stayed up this long resets the backoff, ms (default 10,000). */
  stableAfter?: number;
}

export interface TlsOptions {
  /** CA certificates to trust (PEM text or DER bytes). */
  ca?: string | ArrayBuffer | ArrayBufferView;
  /** The name the broker's certificate must carry; defaults to `host`. */
  serverName?: string;
}

export interface ClientOptions {
  host: string;
  /** Default 1883, or 8883 with TLS. */
  port?: number;
  clientId: string;
  username?: string;
  password?: string | Uint8Array;
  /** Seconds, 0 to 65,535 (default 60); 0 turns keepalive off. */
  keepAlive?: number;
  /** Default true. With false the broker keeps the session across connections. */
  clean?: boolean;
  will?: WillOptions;
  /** Largest incoming packet body; larger messages are skipped and counted (default 512). */
  receiveBufferSize?: number;
  /** Staging for outgoing bytes; bounds the largest outgoing packet (default 1,024). */
  transmitBufferSize?: number;
  /** Bytes for QoS 1 messages not yet acknowledged, and those queued offline (default 1,024). */
  outboxBytes?: number;
  /** Largest number of messages in the outbox (default 16). */
  outboxMessages?: number;
  /** QoS 1 messages on the wire without their PUBACK (default 16). */
  maxInflight?: number;
  /** Size of the subscription table (default 16). */
  maxSubscriptions?: number;
  /** ms to get a CONNACK after starting to connect (default 10,000). */
  connectTimeout?: number;
  /** Backoff between reconnect attempts; `false` never reconnects. */
  reconnect?: ReconnectOptions | false;
  /** Connect over TLS (needs io.TLS). */
  tls?: TlsOptions | boolean;
  io: ClientIo;
  onConnected?: (sessionPresent: boolean) => void;
  onDisconnected?: (reason: MqttError) => void;
  onMessage?: (message: Message) => void;
  /** A QoS 1 message was acknowledged by the broker. */
  onPublished?: (packetId: number) => void;
  onSubscribed?: (filter: string, grantedQos: number) => void;
  /**
   * After publish() returned "dropped" or "outbox-full": the client is connected again with
   * room (nothing queued, the transmit buffer and the outbox at least half free). Called
   * once per refusal, so a publisher can retry then instead of polling.
   */
  onReady?: () => void;
  onError?: (error: MqttError) => void;
}

export interface PublishOptions {
  qos?: number;
  retain?: boolean;
  /** QoS 0 only: keep the message in the outbox while offline instead of dropping it. */
  queue?: boolean;
}

export interface SubscribeOptions {
  qos?: number;
}

/**
 * What publish() did: "sent" (handed to the connection), "queued" (held in the outbox until
 * the connection can take it), "outbox-full" (not accepted: nothing changed), "dropped"
 * (QoS 0 while offline or while the link is congested; counted in stats.dropped).
 */
export type PublishStatus = "sent" | "queued" | "outbox-full" | "dropped";

export type ClientState = "idle" | "connecting" | "connected" | "waiting" | "closing" | "closed";

export interface ClientStats {
  /** PUBLISH packets written (QoS 0 and 1, first sends). */
  sent: number;
  /** QoS 1 messages acknowledged by the broker. */
  acknowledged: number;
  /** QoS 1 messages written again after a reconnect. */
  resent: number;
  /** QoS 0 messages dropped (offline or congested). */
  dropped: number;
  /** Messages received and delivered. */
  received: number;
  /** Incoming messages skipped for being larger than the receive buffer. */
  oversize: number;
  /** Successful connections after the first. */
  reconnects: number;
  /** Connection attempts started. */
  attempts: number;
}

type Handler = (message: Message) => void;

interface Subscription {
  filter: string;
  /** The filter's UTF-8 bytes, matched against every incoming topic. */
  bytes: Uint8Array;
  handler: Handler | undefined;
}

/** A subscription slot's state. */
const SUB_FREE = 0;
const SUB_UNSENT = 1;
const SUB_PENDING = 2;
const SUB_ACTIVE = 3;
/** Subscribed again while its SUBSCRIBE waits for the SUBACK: sent again once that SUBACK comes. */
const SUB_STALE = 4;
/** Unsubscribed: its UNSUBSCRIBE goes as soon as the connection can take it (then the slot is free). */
const SUB_UNSUBSCRIBE = 5;

/** Bytes of the transmit buffer kept back from publishes, so PUBACK and PINGREQ always fit. */
const TX_RESERVE = 16;
/** The most bytes written at once when the socket takes only part of what is staged. */
const PARTIAL_WRITE_MAX = 256;
/** How long close() waits for the staged bytes to drain, ms. */
const CLOSE_LINGER = 2_000;

export class MqttClient {
  readonly stats: ClientStats = {
    sent: 0, acknowledged: 0, resent: 0, dropped: 0, received: 0, oversize: 0, reconnects: 0, attempts: 0,
  };

  // configuration
  readonly #io: ClientIo;
  readonly #encoder: TextEncoderLike;
  readonly #host: string;
  readonly #port: number;
  readonly #tls: TlsOptions | undefined;
  readonly #keepAliveMs: number;
  readonly #connectTimeout: number;
  readonly #reconnect: boolean;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #stableAfter: number;
  readonly #maxInflight: number;
  readonly #maxPacket: number;
  readonly #maxQueuedPacket: number;
  readonly #connectPacket: Uint8Array;
  readonly #options: ClientOptions;

  // buffers and tables, all made here
  readonly #txBuffer: ArrayBuffer;
  readonly #tx: Uint8Array;
  readonly #spareBuffer: ArrayBuffer;
  readonly #spare: Uint8Array;
  /**
   * What a socket read goes into. Moddable's `read(buffer)` fills the whole buffer and throws
   * when fewer bytes are waiting, so the buffer is resized to what is waiting for the read,
   * then back to its full size (within its first allocation: no new memory), as the
   * transmit buffer is for a write. #chunk views all of it.
   */
  readonly #chunkBuffer: ArrayBuffer;
  readonly #chunk: Uint8Array;
  readonly #decoder: PacketDecoder;
  readonly #outbox: Outbox;
  readonly #message: Message;
  /** The subscription in each slot: made when subscribing, dropped when the slot is freed. */
  readonly #subs: (Subscription | undefined)[];
  /** Per slot: bit 0 the QoS, bit 1 set for a filter without wildcards. */
  readonly #subFlags: Uint8Array;
  readonly #subState: Uint8Array;
  /**
   * Packet ids in flight for subscriptions: [0, max) the SUBSCRIBE of each slot, [max, 2 max)
   * the UNSUBSCRIBEs awaiting their UNSUBACK. One table, so a new id is checked in one pass.
   */
  readonly #subPacketId: Uint16Array;
  readonly #subscribeList: { filter: Uint8Array; qos: number }[];
  readonly #unsubscribeList: Uint8Array[];

  // run-time state
  #state: ClientState = "idle";
  #socket: Socket | undefined = undefined;
  #generation = 0;
  #timer: TimerId | undefined = undefined;
  #handshaking = false;
  #writable = 0;
  #readable = 0;
  #txFill = 0;
  #inflight = 0;
  #queued = 0;
  #nextId = 0;
  #failures = 0;
  #deadline = 0;
  #connectedAt = 0;
  #lastSent = 0;
  #lastReceived = 0;
  #pingOutstanding = false;
  /** True while a read is handled: writes wait for its end. */
  #batching = false;
  /** A publish was refused ("dropped", "outbox-full"): onReady is due when room returns. */
  #refused = false;
  /** The largest writable count seen on this connection: below it, writes are outstanding. */
  #window = 0;
  /** The timer's period, ms: a PINGREQ goes a period early so that it is never late. */
  #tickInterval = 1000;
  #everConnected = false;

  constructor(options: ClientOptions) {
    if (options === null || typeof options !== "object") throw new MqttError("argument-invalid", "options");
    const io = options.io;
    if (io === undefined || typeof io.TCP !== "function" || io.Timer === undefined) {
      throw new MqttError("argument-invalid", "io must give TCP, Timer, TextEncoder and TextDecoder");
    }
    if (typeof options.host !== "string" || options.host.length === 0) throw new MqttError("argument-invalid", "host");
    if (typeof options.clientId !== "string") throw new MqttError("client-id-invalid", "clientId must be a string");
    this.#options = options;
    this.#io = io;
    const encoder = this.#encoder = new io.TextEncoder();
    this.#host = options.host;
    if (options.tls) {
      if (io.TLS === undefined) throw new MqttError("argument-invalid", "tls needs io.TLS");
      this.#tls = options.tls === true ? {} : options.tls;
    }
    this.#port = whole(options.port, this.#tls ? 8883 : 1883, 1, 65_535, "port");
    const keepAlive = whole(options.keepAlive, 60, 0, 65_535, "keepAlive");
    this.#keepAliveMs = keepAlive * 1000;
    this.#connectTimeout = whole(options.connectTimeout, 10_000, 1, 3_600_000, "connectTimeout");
    const reconnect = options.reconnect;
    this.#reconnect = reconnect !== false;
    const r = reconnect === false || reconnect === undefined ? {} : reconnect;
    this.#minDelay = whole(r.minDelay, 1_000, 1, 86_400_000, "reconnect.minDelay");
    this.#maxDelay = whole(r.maxDelay, 60_000, this.#minDelay, 86_400_000, "reconnect.maxDelay");
    this.#stableAfter = whole(r.stableAfter, 10_000, 0, 86_400_000, "reconnect.stableAfter");
    this.#maxInflight = whole(options.maxInflight, 16, 1, 65_535, "maxInflight");
    const rxSize = whole(options.receiveBufferSize, 512, 16, 268_435_455, "receiveBufferSize");
    const txSize = whole(options.transmitBufferSize, 1024, 64, 268_435_455, "transmitBufferSize");
    const outboxBytes = whole(options.outboxBytes, 1024, 0, 268_435_455, "outboxBytes");
    const outboxMessages = whole(options.outboxMessages, 16, 1, 65_535, "outboxMessages");
    const maxSubscriptions = whole(options.maxSubscriptions, 16, 1, 1024, "maxSubscriptions");

    // the CONNECT packet never changes: encode it once
    let will: { topic: PreparedTopic; payload: Uint8Array; qos: number; retain: boolean } | undefined;
    if (options.will !== undefined) {
      const topic = prepareTopic(options.will.topic, encoder);
      if (topic instanceof MqttError) throw topic;
      const payload = options.will.payload;
      will = {
        topic,
        payload: typeof payload === "string" ? encoder.encode(payload) : payload,
        qos: options.will.qos ?? 0,
        retain: options.will.retain ?? false,
      };
      if (will.qos !== 0 && will.qos !== 1) throw new MqttError("qos-invalid", "will");
    }
    const password = options.password;
    const fields = {
      clientId: encoder.encode(options.clientId),
      clean: options.clean ?? true,
      keepAlive,
      username: options.username === undefined ? undefined : encoder.encode(options.username),
      password: password === undefined ? undefined : typeof password === "string" ? encoder.encode(password) : password,
      will,
    };
    // the transmit buffer is resizable so that a prefix of it can be written without a view;
    // the CONNECT packet is encoded there first, then kept
    this.#txBuffer = new ArrayBuffer(txSize, { maxByteLength: txSize });
    this.#tx = new Uint8Array(this.#txBuffer);
    const connectLength = encodeConnect(this.#tx, 0, fields);
    if (connectLength instanceof MqttError) {
      if (connectLength.code === "buffer-too-small") throw new MqttError("buffer-too-small", "transmitBufferSize is smaller than the CONNECT packet");
      throw connectLength;
    }

    // the fixed-size parts are views of one ArrayBuffer (each buffer costs a header, on XS
    // and on Node alike): the outbox (4-aligned, first), the subscriptions' packet ids, flags
    // and states, the receive buffer, the CONNECT packet
    const outboxSize = Outbox.size(outboxBytes, outboxMessages);
    const chunkSize = Math.min(rxSize + 5, 256);
    this.#chunkBuffer = new ArrayBuffer(chunkSize, { maxByteLength: chunkSize });
    this.#chunk = new Uint8Array(this.#chunkBuffer);
    const memory = new ArrayBuffer(outboxSize + 6 * maxSubscriptions + rxSize + connectLength);
    let at = 0;
    this.#outbox = new Outbox(outboxBytes, outboxMessages, memory, at);
    at += outboxSize;
    this.#subPacketId = new Uint16Array(memory, at, 2 * maxSubscriptions);
    at += 4 * maxSubscriptions;
    this.#subFlags = new Uint8Array(memory, at, maxSubscriptions);
    at += maxSubscriptions;
    this.#subState = new Uint8Array(memory, at, maxSubscriptions);
    at += maxSubscriptions;
    this.#decoder = new PacketDecoder(new Uint8Array(memory, at, rxSize));
    at += rxSize;
    this.#connectPacket = new Uint8Array(memory, at, connectLength);
    this.#connectPacket.set(this.#tx.subarray(0, connectLength));
    const spareSize = Math.min(txSize, PARTIAL_WRITE_MAX);
    this.#spareBuffer = new ArrayBuffer(spareSize, { maxByteLength: spareSize });
    this.#spare = new Uint8Array(this.#spareBuffer);
    this.#maxPacket = txSize - TX_RESERVE;
    this.#maxQueuedPacket = Math.min(txSize - TX_RESERVE, outboxBytes);
    this.#message = new Message(this.#decoder.receiveBuffer, io.TextDecoder);
    this.#subs = new Array<Subscription | undefined>(maxSubscriptions).fill(undefined);
    this.#subscribeList = [{ filter: this.#chunk, qos: 0 }];
    this.#unsubscribeList = [this.#chunk];
  }

  /** "idle", "connecting", "connected", "waiting" (to reconnect), "closing" or "closed". */
  get state(): ClientState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state === "connected";
  }

  /** Messages held in the outbox (not yet acknowledged, or queued). */
  get outboxCount(): number {
    return this.#outbox.count;
  }

  /** Bytes held in the outbox. */
  get outboxUsed(): number {
    return this.#outbox.usedBytes;
  }

  /** Starts connecting; from then on the client keeps itself connected until close(). */
  connect(): void {
    if (this.#state === "closed" || this.#state === "closing") throw new MqttError("closed");
    if (this.#state !== "idle") return;
    const tick = Math.max(20, Math.min(1000, this.#keepAliveMs > 0 ? this.#keepAliveMs / 4 : 1000, this.#minDelay / 2));
    this.#tickInterval = tick;
    this.#timer = this.#io.Timer.repeat(() => this.#tick(), tick);
    this.#open();
  }

  /** Validates and encodes a topic once, for publishing without allocation. */
  prepareTopic(name: string): PreparedTopic {
    const topic = prepareTopic(name, this.#encoder);
    if (topic instanceof MqttError) throw topic;
    return topic;
  }

  /**
   * Publishes a message. Returns at once; throws an MqttError for bad input (and then
   * changes nothing). Prepared topics and Uint8Array payloads allocate nothing;
   * `payloadLength` sends only the first bytes of a reused payload buffer.
   */
  publish(
    topic: PreparedTopic | string, payload: Uint8Array | string, options?: PublishOptions, payloadLength?: number,
  ): PublishStatus {
    if (this.#state === "closed" || this.#state === "closing") throw new MqttError("closed");
    const prepared = topic instanceof PreparedTopic ? topic : this.prepareTopic(topic);
    const bytes = typeof payload === "string" ? this.#encoder.encode(payload) : payload;
    if (!(bytes instanceof Uint8Array)) throw new MqttError("argument-invalid", "the payload must be a string or a Uint8Array");
    const length = payloadLength === undefined ? bytes.length : payloadLength;
    if (!Number.isInteger(length) || length < 0 || length > bytes.length) {
      throw new MqttError("argument-invalid", "payloadLength must be from 0 to the payload's length");
    }
    const qos = options === undefined || options.qos === undefined ? 0 : options.qos;
    if (qos !== 0 && qos !== 1) throw new MqttError("qos-invalid");
    const retain = options !== undefined && options.retain === true;
    const size = publishSize(prepared.bytes.length, length, qos);
    const queue = options !== undefined && options.queue === true;
    const limit = qos === 0 && !queue ? this.#maxPacket : this.#maxQueuedPacket;
    if (size === 0 || size > limit) {
      throw new MqttError("payload-too-large", "the packet would take " + size + " bytes; this client allows " + limit);
    }
    if (qos === 0) {
      const online = this.#state === "connected" && !this.#handshaking;
      if (online && this.#queued === 0 && this.#txRoom() >= size + TX_RESERVE) {
        this.#txFill += encodePublish(this.#tx, this.#txFill, prepared, bytes, 0, retain, false, 0, length) as number;
        this.stats.sent++;
        this.#flush();
        return "sent";
      }
      // online behind older queued messages, a QoS 0 message waits its turn in the outbox
      const behind = online && this.#queued > 0 && size <= this.#maxQueuedPacket;
      if (!queue && !behind) {
        this.stats.dropped++;
        this.#refused = true;
        return "dropped";
      }
    }
    const outbox = this.#outbox;
    const offset = outbox.reserve(size);
    if (offset < 0) {
      this.#refused = true;
      if (qos === 1 || queue) return "outbox-full";
      this.stats.dropped++;
      return "dropped";
    }
    const packetId = qos === 1 ? this.#allocatePacketId() : 0;
    encodePublish(outbox.bytes, offset, prepared, bytes, qos, retain, false, packetId, length);
    const index = outbox.add(offset, size, packetId);
    this.#queued++;
    if (this.#state === "connected") this.#flush();
    return outbox.stateOf(index) === QUEUED ? "queued" : "sent";
  }

  /**
   * Subscribes to a topic filter; `handler` gets the matching messages. Subscribing again
   * to the same filter replaces its QoS and handler. Renewed after a reconnect without a
   * session. Throws an MqttError for a bad filter or QoS, or when the table is full.
   */
  subscribe(filter: string, options?: SubscribeOptions, handler?: Handler): void {
    if (this.#state === "closed" || this.#state === "closing") throw new MqttError("closed");
    const bytes = prepareFilter(filter, this.#encoder);
    if (bytes instanceof MqttError) throw bytes;
    const qos = options === undefined || options.qos === undefined ? 0 : options.qos;
    if (qos !== 0 && qos !== 1) throw new MqttError("qos-invalid", "subscriptions take QoS 0 or 1");
    if (handler !== undefined && typeof handler !== "function") throw new MqttError("argument-invalid", "handler");
    let slot = this.#findSubscription(filter);
    if (slot < 0) slot = this.#freeSubscriptionSlot();
    if (slot < 0) throw new MqttError("too-many-subscriptions");
    this.#subs[slot] = { filter, bytes, handler };
    this.#subFlags[slot] = qos | (filter.indexOf("+") < 0 && filter.indexOf("#") < 0 ? 2 : 0);
    if (this.#subState[slot] === SUB_PENDING || this.#subState[slot] === SUB_STALE
      || (this.#subState[slot] === SUB_UNSUBSCRIBE && this.#subPacketId[slot] !== 0)) {
      this.#subState[slot] = SUB_STALE; // keep the packet id in flight known until its SUBACK [MQTT-2.3.1-2]
    } else {
      this.#subState[slot] = SUB_UNSENT;
      this.#subPacketId[slot] = 0;
    }
    if (this.#state === "connected") this.#flush();
  }

  /** Removes a subscription: its handler is not called again. */
  unsubscribe(filter: string): void {
    if (this.#state === "closed" || this.#state === "closing") throw new MqttError("closed");
    const slot = this.#findSubscription(filter);
    if (slot < 0) return;
    (this.#subs[slot] as Subscription).handler = undefined;
    // the slot keeps the filter until its UNSUBSCRIBE is staged: offline, without room, or with
    // every UNSUBSCRIBE id in use, it goes later (a kept session would go on sending otherwise)
    this.#subState[slot] = SUB_UNSUBSCRIBE;
    if (this.#state === "connected") this.#flush();
  }

  /**
   * Closes the client: what is staged is written, then DISCONNECT, so the broker does not
   * publish the will. The client cannot be used again.
   */
  close(): void {
    if (this.#state === "closed" || this.#state === "closing") return;
    if (this.#state === "connected" && this.#socket !== undefined) {
      this.#state = "closing";
      const n = encodeDisconnect(this.#tx, this.#txFill);
      if (typeof n === "number") this.#txFill += n;
      this.#deadline = this.#now() + CLOSE_LINGER;
      this.#flushNow();
      if (this.#txFill === 0) this.#finishClose();
      return;
    }
    this.#finishClose();
  }

  // ---- connection life cycle

  #open(): void {
    this.#state = "connecting";
    this.stats.attempts++;
    const generation = ++this.#generation;
    this.#deadline = this.#now() + this.#connectTimeout;
    const host = this.#host;
    const resolver = this.#io.resolver;
    if (resolver === undefined || isIpAddress(host)) {
      this.#openSocket(host, generation);
      return;
    }
    try {
      resolver.resolve({
        host,
        onResolved: (_host, address) => {
          if (generation === this.#generation && this.#state === "connecting") this.#openSocket(address, generation);
        },
        onError: () => {
          if (generation === this.#generation && this.#state === "connecting") this.#fail("dns-failed", host);
        },
      });
    } catch {
      this.#fail("dns-failed", host);
    }
  }

  #openSocket(address: string, generation: number): void {
    const client = this;
    const tls = this.#tls;
    const Socket = tls === undefined ? this.#io.TCP : this.#io.TLS!;
    this.#writable = 0;
    this.#window = 0;
    this.#readable = 0;
    this.#txFill = 0;
    this.#decoder.reset();
    try {
      this.#socket = new Socket({
        address,
        port: this.#port,
        nodelay: true,
        host: tls === undefined ? undefined : tls.serverName ?? this.#host,
        ca: tls === undefined ? undefined : tls.ca,
        onWritable(count: number) {
          if (generation === client.#generation) client.#onWritable(count);
        },
        onReadable(count: number) {
          if (generation === client.#generation) client.#onReadable(count);
        },
        onError(message?: string) {
          if (generation === client.#generation) client.#onSocketError(message);
        },
      });
    } catch (e) {
      this.#socket = undefined;
      this.#fail(tls === undefined ? "connection-lost" : "tls-failed", String(e));
    }
  }

  #onWritable(count: number): void {
    this.#writable = count;
    if (count > this.#window) this.#window = count;
    if (this.#state === "connecting" && !this.#handshaking) {
      // the connection is up: CONNECT goes first
      this.#handshaking = true;
      const packet = this.#connectPacket;
      this.#tx.set(packet, 0);
      this.#txFill = packet.length;
      this.#lastReceived = this.#now();
    }
    this.#flush();
    if (this.#state === "closing" && this.#txFill === 0) {
      this.#finishClose();
      return;
    }
    if (this.#decoder.pending > 0 || this.#readable > 0) this.#onReadable(this.#readable);
  }

  #onSocketError(message?: string): void {
    if (this.#state === "closing") {
      this.#finishClose();
      return;
    }
    const code: ErrorCode = this.#tls !== undefined && this.#state === "connecting" && !this.#handshaking
      ? "tls-failed" : "connection-lost";
    this.#fail(code, message);
  }

  /** Ends the current connection attempt or connection and schedules the next one. */
  #fail(code: ErrorCode, detail?: string): void {
    if (this.#state === "closing" || this.#state === "closed") {
      this.#finishClose();
      return;
    }
    const error = new MqttError(code, detail);
    const wasConnected = this.#state === "connected";
    if (wasConnected && code === "protocol-violation") this.#writeStagedBeforeClosing();
    this.#dropSocket();
    if (wasConnected && this.#now() - this.#connectedAt >= this.#stableAfter) this.#failures = 0;
    this.#report(error);
    if (wasConnected) {
      const cb = this.#options.onDisconnected;
      if (cb !== undefined) this.#guard(cb, error);
    }
    if ((this.#state as ClientState) === "closed") return; // a callback closed the client
    if (!this.#reconnect) {
      this.#finishClose();
      return;
    }
    const cap = Math.min(this.#maxDelay, this.#minDelay * 2 ** Math.min(this.#failures, 30));
    const random = this.#io.random === undefined ? Math.random() : this.#io.random();
    this.#failures++;
    this.#state = "waiting";
    this.#deadline = this.#now() + this.#minDelay + Math.floor(random * (cap - this.#minDelay));
  }

  /** Acknowledgements staged for packets handled before a violation still go out, if the socket takes them. */
  #writeStagedBeforeClosing(): void {
    const socket = this.#socket;
    const fill = this.#txFill;
    if (socket === undefined || fill === 0 || this.#writable < fill) return;
    const buffer = this.#txBuffer;
    try {
      buffer.resize(fill);
      socket.write(buffer);
    } catch {
      // the connection is being closed anyway
    } finally {
      buffer.resize(buffer.maxByteLength);
    }
  }

  #dropSocket(): void {
    this.#generation++;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#handshaking = false;
    this.#pingOutstanding = false;
    this.#txFill = 0;
    this.#writable = 0;
    this.#window = 0;
    this.#readable = 0;
    this.#inflight = 0;
    this.#decoder.reset();
    this.#queued = this.#outbox.requeue();
    for (let i = 0; i < this.#subState.length; i++) {
      if (this.#subState[i] === SUB_PENDING || this.#subState[i] === SUB_STALE) this.#subState[i] = SUB_UNSENT;
    }
    this.#subPacketId.fill(0);
    if (socket !== undefined) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
  }

  #finishClose(): void {
    const wasOpen = this.#socket !== undefined && (this.#state === "closing" || this.#state === "connected");
    this.#state = "closed";
    this.#dropSocket();
    if (this.#timer !== undefined) {
      this.#io.Timer.clear(this.#timer);
      this.#timer = undefined;
    }
    if (wasOpen) {
      const cb = this.#options.onDisconnected;
      if (cb !== undefined) this.#guard(cb, new MqttError("closed"));
    }
  }

  #tick(): void {
    const now = this.#now();
    switch (this.#state) {
      case "connecting":
        if (now >= this.#deadline) this.#fail("connect-timeout");
        return;
      case "waiting":
        if (now >= this.#deadline) this.#open();
        return;
      case "closing":
        if (now >= this.#deadline) this.#finishClose();
        return;
      case "connected": {
        const keepAlive = this.#keepAliveMs;
        if (keepAlive === 0) return;
        if (now - this.#lastReceived >= keepAlive * 1.5) {
          this.#fail("keepalive-timeout");
          return;
        }
        // no gap between packets sent may exceed the keepalive [MQTT-3.1.2-23]: the next tick would be too late
        const idle = now - this.#lastSent >= keepAlive - this.#tickInterval;
        if (!this.#pingOutstanding && (idle || now - this.#lastReceived >= keepAlive)) {
          const n = encodePingreq(this.#tx, this.#txFill);
          if (typeof n === "number") {
            this.#txFill += n;
            this.#pingOutstanding = true;
            this.#flush();
          }
        }
        return;
      }
      default:
        return;
    }
  }

  // ---- output

  #txRoom(): number {
    return this.#tx.length - this.#txFill;
  }

  /** Whether a packet with this remaining length fits the transmit buffer now, leaving TX_RESERVE. */
  #hasRoomFor(remaining: number): boolean {
    return this.#txRoom() >= 1 + lengthFieldSize(remaining) + remaining + TX_RESERVE;
  }

  /** Stages what the connection may take and writes it, or only stages while a read is handled (it writes at its end). */
  #flush(): void {
    if (this.#batching) this.#stage();
    else this.#flushNow();
  }

  /** Stages subscriptions, then the outbox in order, as far as the transmit buffer allows. */
  #stage(): void {
    if (this.#state === "connected" && !this.#handshaking) {
      this.#stageSubscriptions();
      this.#stageOutbox();
    }
  }

  /** Stages what the connection may take and writes; then tells a refused publisher when there is room. */
  #flushNow(): void {
    this.#writeStaged();
    if (this.#refused) this.#readyCheck();
  }

  #readyCheck(): void {
    const outbox = this.#outbox;
    if (this.#state !== "connected" || this.#handshaking || this.#queued > 0) return;
    if (this.#txRoom() < this.#tx.length >> 1) return;
    if (outbox.count * 2 > outbox.capacity || outbox.usedBytes * 2 > outbox.bytes.length) return;
    this.#refused = false;
    const cb = this.#options.onReady;
    if (cb !== undefined) this.#guard(cb, undefined);
  }

  /** Stages what the connection may take and writes. */
  #writeStaged(): void {
    for (;;) {
      this.#stage();
      if (this.#txFill === 0 || this.#writable <= 0 || this.#socket === undefined) return;
      // while earlier writes are still outstanding, small packets gather and go out together
      // when the socket reports room again (one write per round trip, not one per packet)
      if (this.#writable < this.#window && this.#txFill < this.#tx.length >> 1 && this.#state !== "closing") return;
      if (!this.#write()) return;
    }
  }

  /** Writes as much of the staged bytes as the socket takes. Returns false when the socket failed. */
  #write(): boolean {
    const socket = this.#socket as Socket;
    const fill = this.#txFill;
    let count = Math.min(fill, this.#writable);
    if (count < fill) count = Math.min(count, this.#spare.length);
    try {
      if (count === fill) {
        const buffer = this.#txBuffer;
        buffer.resize(count);
        try {
          this.#writable = socket.write(buffer) ?? 0; // undefined: the connection failed (onError follows)
        } finally {
          buffer.resize(buffer.maxByteLength);
        }
      } else {
        // a prefix only: copy it out, write it, move the rest to the front
        const spare = this.#spare;
        const tx = this.#tx;
        this.#spareBuffer.resize(count);
        for (let i = 0; i < count; i++) spare[i] = tx[i];
        try {
          this.#writable = socket.write(this.#spareBuffer) ?? 0;
        } finally {
          this.#spareBuffer.resize(this.#spareBuffer.maxByteLength);
        }
        tx.copyWithin(0, count, fill);
      }
    } catch (e) {
      this.#fail("connection-lost", String(e));
      return false;
    }
    this.#txFill = fill - count;
    this.#lastSent = this.#now();
    return true;
  }

  #stageSubscriptions(): void {
    const states = this.#subState;
    for (let slot = 0; slot < states.length; slot++) {
      if (states[slot] === SUB_UNSUBSCRIBE) {
        if (!this.#stageUnsubscribe(slot)) return;
        continue;
      }
      if (states[slot] !== SUB_UNSENT) continue;
      const filter = (this.#subs[slot] as Subscription).bytes;
      // room first: waiting for it takes no packet id and makes no error object
      if (!this.#hasRoomFor(2 + 2 + filter.length + 1)) return;
      const entry = this.#subscribeList[0];
      entry.filter = filter;
      entry.qos = this.#subFlags[slot] & 1;
      const packetId = this.#allocatePacketId();
      this.#txFill += encodeSubscribe(this.#tx, this.#txFill, packetId, this.#subscribeList) as number;
      states[slot] = SUB_PENDING;
      this.#subPacketId[slot] = packetId;
    }
  }

  /** Stages a slot's UNSUBSCRIBE and frees the slot; false when it must wait for room. */
  #stageUnsubscribe(slot: number): boolean {
    const free = this.#subPacketId.indexOf(0, this.#subState.length);
    if (free < 0) return false;
    const filter = (this.#subs[slot] as Subscription).bytes;
    if (!this.#hasRoomFor(2 + 2 + filter.length)) return false;
    const packetId = this.#allocatePacketId();
    this.#unsubscribeList[0] = filter;
    this.#txFill += encodeUnsubscribe(this.#tx, this.#txFill, packetId, this.#unsubscribeList) as number;
    this.#subPacketId[free] = packetId;
    this.#subState[slot] = SUB_FREE;
    this.#subs[slot] = undefined;
    return true;
  }

  #stageOutbox(): void {
    const outbox = this.#outbox;
    const bytes = outbox.bytes;
    const tx = this.#tx;
    while (this.#queued > 0) {
      const index = outbox.firstQueued(); // not always at count - queued: done entries may lie between
      if (index < 0) return;
      const offset = outbox.offsetOf(index);
      const length = outbox.lengthOf(index);
      const qos = (bytes[offset] >> 1) & 3;
      if (qos > 0 && this.#inflight >= this.#maxInflight) return;
      if (this.#txRoom() < length + TX_RESERVE) return;
      const at = this.#txFill;
      for (let i = 0; i < length; i++) tx[at + i] = bytes[offset + i];
      this.#txFill = at + length;
      this.#queued--;
      if (qos === 0) {
        this.stats.sent++;
        outbox.markDone(index);
        continue;
      }
      if (outbox.wasSent(index)) {
        tx[at] |= 0x08; // DUP: this message may have reached the broker before [MQTT-3.3.1-1]
        this.stats.resent++;
      } else {
        this.stats.sent++;
      }
      outbox.markInflight(index);
      this.#inflight++;
    }
  }

  #allocatePacketId(): number {
    for (;;) {
      this.#nextId = this.#nextId === 65_535 ? 1 : this.#nextId + 1;
      const id = this.#nextId;
      if (this.#outbox.holds(id)) continue;
      if (this.#subPacketId.indexOf(id) >= 0) continue;
      return id;
    }
  }

  // ---- input

  #onReadable(count: number): void {
    this.#readable = count;
    const generation = this.#generation;
    // what the packets of this read call for (acknowledgements, the next queued messages)
    // goes out in one write at the end, not one write per packet
    this.#batching = true;
    try {
      this.#readInput(generation);
    } finally {
      this.#batching = false;
    }
    if (generation === this.#generation) this.#flush();
  }

  #readInput(generation: number): void {
    const decoder = this.#decoder;
    for (;;) {
      if (decoder.pending === 0) {
        if (this.#readable <= 0 || this.#socket === undefined) return;
        const buffer = this.#chunkBuffer;
        const wanted = Math.min(this.#readable, buffer.maxByteLength);
        let n: number | undefined;
        buffer.resize(wanted);
        try {
          n = this.#socket.read(buffer);
        } catch (e) {
          this.#fail("connection-lost", String(e));
          return;
        } finally {
          buffer.resize(buffer.maxByteLength);
        }
        if (n !== wanted) { // undefined: nothing was waiting after all
          this.#readable = 0;
          return;
        }
        this.#readable -= n;
        this.#lastReceived = this.#now();
        decoder.feed(this.#chunk, 0, n);
      }
      if (this.#txRoom() < TX_RESERVE) {
        this.#flushNow();
        if (generation !== this.#generation || this.#txRoom() < TX_RESERVE) return; // resumed by onWritable
      }
      const kind = decoder.next();
      if (kind === NEED_MORE) continue;
      this.#handle(kind);
      if (generation !== this.#generation) return;
    }
  }

  #handle(kind: number): void {
    const d = this.#decoder;
    switch (kind) {
      case PUBLISH:
        if (this.#state !== "connected" || this.#handshaking || d.qos === 2) {
          this.#violation(d.qos === 2 ? "a QoS 2 PUBLISH for a QoS 1 subscription" : "PUBLISH before CONNACK");
          return;
        }
        this.#deliver();
        if (d.qos === 1) this.#acknowledge(d.packetId);
        return;
      case PUBACK: {
        const index = this.#outbox.findInflight(d.packetId);
        if (index < 0 || this.#handshaking) {
          this.#violation("PUBACK for packet id " + d.packetId + ", which is not in flight");
          return;
        }
        this.#outbox.markDone(index);
        this.#inflight--;
        this.stats.acknowledged++;
        const cb = this.#options.onPublished;
        if (cb !== undefined) this.#guard(cb, d.packetId);
        this.#flush();
        return;
      }
      case CONNACK:
        this.#onConnack();
        return;
      case SUBACK:
        this.#onSuback();
        return;
      case UNSUBACK: {
        const at = this.#subPacketId.indexOf(d.packetId, this.#subState.length);
        if (at < 0) {
          this.#violation("UNSUBACK for packet id " + d.packetId + ", which was not sent");
          return;
        }
        this.#subPacketId[at] = 0;
        return;
      }
      case PINGRESP:
        this.#pingOutstanding = false;
        return;
      case OVERSIZE:
        this.stats.oversize++;
        this.#report(new MqttError("oversize-skipped", d.remainingLength + " bytes"));
        if (d.type === PUBLISH && d.qos === 1 && this.#state === "connected") this.#acknowledge(d.packetId);
        return;
      case DECODE_ERROR: {
        const cause = d.error as MqttError;
        this.#fail("protocol-violation", cause.code + ": " + cause.message);
        return;
      }
      default:
        // PUBREC, PUBREL, PUBCOMP: this client never uses QoS 2
        this.#violation("packet type " + kind + " for QoS 2, which this client never uses");
    }
  }

  #violation(detail: string): void {
    this.#fail("protocol-violation", detail);
  }

  #onConnack(): void {
    const d = this.#decoder;
    if (!this.#handshaking) {
      this.#violation("a second CONNACK");
      return;
    }
    const code = d.returnCode;
    if (code !== 0) {
      const codes: ErrorCode[] = [
        "protocol-violation", "unacceptable-protocol", "identifier-rejected", "server-unavailable",
        "bad-credentials", "not-authorized",
      ];
      this.#fail(codes[code]);
      return;
    }
    this.#handshaking = false;
    this.#state = "connected";
    this.#connectedAt = this.#now();
    this.#lastReceived = this.#connectedAt;
    if (this.#everConnected) this.stats.reconnects++;
    this.#everConnected = true;
    if (!d.sessionPresent) {
      // a new session: the broker knows nothing of our messages or subscriptions
      this.#outbox.forgetSent();
      for (let i = 0; i < this.#subState.length; i++) {
        if (this.#subState[i] !== SUB_FREE && this.#subState[i] !== SUB_UNSUBSCRIBE) this.#subState[i] = SUB_UNSENT;
      }
    }
    const cb = this.#options.onConnected;
    if (cb !== undefined) this.#guard(cb, d.sessionPresent);
    if (this.#state === "connected") this.#flush();
  }

  #onSuback(): void {
    const d = this.#decoder;
    const slot = this.#subPacketId.indexOf(d.packetId);
    if (slot < 0 || slot >= this.#subState.length) {
      this.#violation("SUBACK for packet id " + d.packetId + ", which was not sent");
      return;
    }
    if (this.#subState[slot] !== SUB_PENDING) {
      this.#subPacketId[slot] = 0; // unsubscribed, or subscribed again, while the SUBSCRIBE was in flight
      if (this.#subState[slot] === SUB_STALE) {
        this.#subState[slot] = SUB_UNSENT;
        this.#flush();
      }
      return;
    }
    if (d.codesLength !== 1) {
      this.#violation("SUBACK with " + d.codesLength + " codes for one filter [MQTT-3.8.4-5]");
      return;
    }
    const code = d.buf[d.codesOffset];
    this.#subPacketId[slot] = 0;
    const filter = (this.#subs[slot] as Subscription).filter;
    if (code === SUBACK_FAILURE) {
      this.#subState[slot] = SUB_FREE;
      this.#subs[slot] = undefined;
      this.#report(new MqttError("subscription-refused", JSON.stringify(filter)));
      return;
    }
    this.#subState[slot] = SUB_ACTIVE;
    const cb = this.#options.onSubscribed;
    if (cb !== undefined) this.#guard2(cb, filter, code);
  }

  #deliver(): void {
    const d = this.#decoder;
    const message = this.#message;
    message.buffer = d.buf;
    message.topicOffset = d.topicOffset;
    message.topicLength = d.topicLength;
    message.payloadOffset = d.payloadOffset;
    message.payloadLength = d.payloadLength;
    message.qos = d.qos;
    message.retain = d.retain;
    message.dup = d.dup;
    message.packetId = d.packetId;
    message.knownTopic = undefined;
    this.stats.received++;
    const generation = this.#generation;
    const states = this.#subState;
    for (let slot = 0; slot < states.length; slot++) {
      const state = states[slot];
      if (state === SUB_FREE || state === SUB_UNSUBSCRIBE) continue;
      const sub = this.#subs[slot] as Subscription;
      const filter = sub.bytes;
      if (!topicMatches(filter, 0, filter.length, d.buf, d.topicOffset, d.topicLength)) continue;
      if (this.#subFlags[slot] & 2) message.knownTopic = sub.filter;
      const handler = sub.handler;
      if (handler !== undefined) this.#guard(handler, message);
      if (generation !== this.#generation) return;
    }
    const cb = this.#options.onMessage;
    if (cb !== undefined) this.#guard(cb, message);
  }

  #acknowledge(packetId: number): void {
    const n = encodePuback(this.#tx, this.#txFill, packetId);
    if (typeof n === "number") this.#txFill += n;
    this.#flush();
  }

  /** A free slot whose last SUBSCRIBE is not still waiting for its SUBACK, or -1. */
  #freeSubscriptionSlot(): number {
    for (let slot = 0; slot < this.#subState.length; slot++) {
      if (this.#subState[slot] === SUB_FREE && this.#subPacketId[slot] === 0) return slot;
    }
    return -1;
  }

  #findSubscription(filter: string): number {
    const subs = this.#subs;
    for (let slot = 0; slot < subs.length; slot++) {
      const sub = subs[slot];
      if (this.#subState[slot] !== SUB_FREE && sub !== undefined && sub.filter === filter) return slot;
    }
    return -1;
  }

  // ---- callbacks into user code: never let them throw into the IO layer

  #report(error: MqttError): void {
    const cb = this.#options.onError;
    if (cb !== undefined) this.#guard(cb, error);
  }

  #guard<T>(callback: (value: T) => void, value: T): void {
    try {
      callback(value);
    } catch (e) {
      this.#handlerThrew(e);
    }
  }

  #guard2<A, B>(callback: (a: A, b: B) => void, a: A, b: B): void {
    try {
      callback(a, b);
    } catch (e) {
      this.#handlerThrew(e);
    }
  }

  #handlerThrew(e: unknown): void {
    const cb = this.#options.onError;
    if (cb === undefined) return;
    try {
      cb(new MqttError("handler-threw", String(e)));
    } catch {
      // the error handler itself threw: nothing more to tell
    }
  }

  #now(): number {
    const now = this.#io.now;
    return now === undefined ? Date.now() : now();
  }
}

/** Reads an optional whole-number option, checking its range. */
function whole(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new MqttError("argument-invalid", name + " must be a whole number from " + min + " to " + max);
  }
  return value;
}

/** Whether a host is already an IP address (v4 dotted quad, or v6 with colons). */
function isIpAddress(host: string): boolean {
  if (host.indexOf(":") >= 0) return true;
  let dots = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 0x2e) dots++;
    else if (c < 0x30 || c > 0x39) return false;
  }
  return dots === 3;
}
