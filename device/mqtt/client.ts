/*
 * The MQTT client (3.1.1, or 5.0 through session5.ts): the connection's life cycle (DNS,
 * socket, CONNECT, keepalive, reconnect with backoff, a pause while the network is down,
 * close) and the dispatch of what the broker sends; options.ts, transmit.ts,
 * subscriptions.ts, outbox.ts do the rest. Network and time come from the ECMA-419 shapes it
 * is handed (io.ts). Buffers are allocated by the constructor; connected, publishing and
 * receiving allocate nothing. Never blocks, never throws out of IO callbacks.
 */

import { AUTH, CONNACK, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBACK_FAILURE, UNSUBACK } from "./constants.js";
import { Callbacks } from "./callbacks.js";
import { NEED_MORE, OVERSIZE, type PacketDecoder } from "./decode.js";
import { encodeDisconnect, encodePingreq, encodePuback, encodePubcomp, encodePublish, encodePubrec, publishSize } from "./encode.js";
import { connackRefusal, type ErrorCode, MqttError } from "./errors.js";
import type { ClientIo, Socket, TextEncoderLike } from "./io.js";
import { INBOUND_FULL, INBOUND_NEW, type InboundQos2 } from "./inbound.js";
import { Keepalive, KEEPALIVE_DEAD, KEEPALIVE_PING, Ticker } from "./keepalive.js";
import { connectPacketInto, layOut } from "./memory.js";
import { Message } from "./message.js";
import {
  checkClose, checkOptions, CLOSED, CLOSING, type ClientOptions, type ClientState, type ClientStats, CONNECTED, CONNECTING, DROPPED,
  encodeConnectPacket, IDLE, mqtt5Of, type MessageHandler, OUTBOX_FULL, payloadBytes, payloadLengthOf, type PublishOptions,
  type PublishStatus, qosOf, QUEUED_STATUS, reconnectDelay, SENT, type Settings, type SubscribeOptions, subscriptionIdOf, WAITING,
} from "./options.js";
import { type Outbox, QUEUED } from "./outbox.js";
import { stagesBehindConnect } from "./pipeline.js";
import { Receive } from "./receive.js";
import type { Session5 } from "./session5.js";
import { SUBACK_CODES, SUBACK_SUPERSEDED, SUBACK_UNKNOWN, type SubscriptionTable } from "./subscriptions.js";
import { PreparedTopic, prepareFilter, prepareTopic } from "./topic.js";
import { Transmit, TX_RESERVE } from "./transmit.js";
import { closeQuietly, openSocket, resolveHost } from "./transport.js";

/** How long close() waits for the outbox's queued messages to go, then for the broker to close the connection, ms. */
const CLOSE_LINGER = 2_000;

export class MqttClient {
  readonly stats: ClientStats = { sent: 0, acknowledged: 0, resent: 0, dropped: 0, received: 0, oversize: 0, reconnects: 0, attempts: 0, strayAcks: 0 };

  readonly #callbacks: Callbacks;
  readonly #settings: Settings;
  readonly #io: ClientIo;
  readonly #encoder: TextEncoderLike;
  /** The largest packet publish() sends at once, and the largest it may queue in the outbox. */
  readonly #maxPacket: number;
  readonly #maxQueuedPacket: number;
  readonly #tx: Transmit;
  readonly #rx: Receive;
  readonly #decoder: PacketDecoder;
  readonly #outbox: Outbox;
  readonly #subscriptions: SubscriptionTable;
  readonly #inbound: InboundQos2;
  readonly #message: Message;
  readonly #keepalive: Keepalive;
  readonly #v5: Session5 | undefined;

  #state: ClientState = IDLE;
  #socket: Socket | undefined = undefined;
  /** Bumped whenever a socket is dropped: callbacks of an older socket see a different one and do nothing. */
  #generation = 0;
  /** The timer: the keepalive's period while connected, the shorter tick otherwise. */
  readonly #ticker = new Ticker();
  /** CONNECT is written, its CONNACK not yet read. */
  #handshaking = false;
  #failures = 0;
  /** When the current wait ends (connect timeout, reconnect, close linger), ms. */
  #deadline = 0;
  #connectedAt = 0;
  /** True while a read or a batch() is handled: writes wait for its end. */
  #batching = false;
  /** A publish was refused ("dropped", "outbox-full"): onReady is due when room returns. */
  #refused = false;
  #everConnected = false;
  #lastPacketId = 0;
  #networkDown = false; // setNetworkAvailable(false): no connection attempts
  /** Closing: the DISCONNECT's reason code, staged once the outbox has written what it held queued (-1: staged). */
  #closeReason = -1;
  readonly #now: () => number;

  constructor(options: ClientOptions) {
    const settings = this.#settings = checkOptions(options);
    this.#callbacks = new Callbacks(options);
    const io = this.#io = options.io;
    this.#now = io.now ?? Date.now;
    const encoder = this.#encoder = new io.TextEncoder();
    const txSize = settings.transmitBufferSize;
    // the CONNECT packet is encoded in the transmit buffer first, then kept
    const tx = this.#tx = new Transmit(txSize);
    const connectLength = encodeConnectPacket(options, settings.keepAlive, encoder, tx.bytes, settings);
    this.#rx = new Receive(settings.receiveBufferSize);
    const memory = layOut(settings, tx.bytes.subarray(0, connectLength), mqtt5Of(options));
    ({ outbox: this.#outbox, subscriptions: this.#subscriptions, inbound: this.#inbound, decoder: this.#decoder } = memory);
    this.#maxPacket = txSize - TX_RESERVE;
    this.#maxQueuedPacket = Math.min(txSize - TX_RESERVE, settings.outboxBytes);
    const v5 = this.#v5 = mqtt5Of(options)?.session(options, settings, this.#decoder, io.TextDecoder);
    this.#message = v5 === undefined ? new Message(this.#decoder.receiveBuffer, io.TextDecoder) : v5.message;
    this.#keepalive = new Keepalive(settings.keepAlive, settings.tickInterval);
  }

  /** "idle", "connecting", "connected", "waiting" (to reconnect), "closing" or "closed". */
  get state(): ClientState { return this.#state; }
  get connected(): boolean { return this.#state === CONNECTED; }
  /** Messages held in the outbox (not yet acknowledged, or queued). */
  get outboxCount(): number { return this.#outbox.count; }
  /** Bytes held in the outbox. */
  get outboxUsed(): number { return this.#outbox.usedBytes; }

  /** The packet id of the last QoS 1 message publish() took, for matching onPublished; 0 after one it did not take. */
  get lastPacketId(): number { return this.#lastPacketId; }

  /** MQTT 5.0: the server's limits from CONNACK and the assigned client id (docs/mqtt5.md); undefined on 3.1.1. */
  get session5(): Session5 | undefined { return this.#v5; }

  /** Starts connecting; from then on the client keeps itself connected until close(). */
  connect(): void {
    this.#checkOpen();
    if (this.#state !== IDLE) return;
    this.#ticker.start(this.#io.Timer, () => this.#tick(), this.#settings.tickInterval);
    this.#open();
  }

  /** The network is down (false: no attempts, a connection is dropped) or back (true: a waiting client connects at once). */
  setNetworkAvailable(available: boolean): void {
    this.#networkDown = !available;
    if (!available && (this.#state === CONNECTING || this.#state === CONNECTED)) this.#fail("connection-lost", "network unavailable");
    else if (available && this.#state === WAITING) this.#open();
  }

  /** Validates and encodes a topic once, for publishing without allocation. Throws an MqttError for a bad name. */
  prepareTopic(name: string): PreparedTopic {
    return prepareTopic(name, this.#encoder);
  }

  /** Publishes; returns at once, throws an MqttError for bad input (changing nothing). `payloadLength`: a reused buffer's first bytes. */
  publish(topic: PreparedTopic | string, payload: Uint8Array | string, options?: PublishOptions, payloadLength?: number): PublishStatus {
    this.#checkOpen();
    const prepared = topic instanceof PreparedTopic ? topic : this.prepareTopic(topic);
    const bytes = payloadBytes(payload, this.#encoder);
    const length = payloadLengthOf(bytes, payloadLength);
    const qos = qosOf(options);
    const retain = options !== undefined && options.retain === true;
    const v5 = this.#v5;
    const size = v5 === undefined ? publishSize(prepared.bytes.length, length, qos) : v5.size(prepared, length, qos, retain, options);
    const queue = options !== undefined && options.queue === true;
    const limit = Math.min(qos === 0 && !queue ? this.#maxPacket : this.#maxQueuedPacket, v5 === undefined ? Infinity : v5.maximumPacketSize);
    if (size === 0 || size > limit) {
      throw new MqttError("payload-too-large", "the packet would take " + size + " bytes; this client allows " + limit);
    }
    this.#lastPacketId = 0;
    if (qos === 0) {
      const online = this.#state === CONNECTED && !this.#handshaking;
      const tx = this.#tx;
      // (5.0: a topic alias may add 3 bytes)
      if (online && this.#outbox.queued === 0 && tx.room >= size + TX_RESERVE + (v5 === undefined ? 0 : 3)) {
        tx.fill += v5 === undefined ? encodePublish(tx.bytes, tx.fill, prepared, bytes, 0, retain, false, 0, length)
          : v5.encode(tx.bytes, tx.fill, prepared, bytes, 0, retain, false, 0, length, prepared === topic);
        this.stats.sent++;
        this.#flush();
        return SENT;
      }
      // online behind older queued messages, a QoS 0 message waits its turn in the outbox
      const behind = online && this.#outbox.queued > 0 && size <= this.#maxQueuedPacket;
      if (!queue && !behind) {
        this.stats.dropped++;
        this.#refused = true;
        return DROPPED;
      }
    }
    const outbox = this.#outbox;
    const offset = outbox.reserve(size);
    if (offset < 0) {
      this.#refused = true;
      if (qos > 0 || queue) return OUTBOX_FULL;
      this.stats.dropped++;
      return DROPPED;
    }
    const packetId = qos > 0 ? this.#subscriptions.nextPacketId() : 0;
    this.#lastPacketId = packetId;
    if (v5 === undefined) encodePublish(outbox.bytes, offset, prepared, bytes, qos, retain, false, packetId, length);
    else v5.encode(outbox.bytes, offset, prepared, bytes, qos, retain, false, packetId, length, false);
    const index = outbox.add(offset, size, packetId);
    if (this.#state === CONNECTED || this.#handshaking) this.#flush();
    return outbox.stateOf(index) === QUEUED ? QUEUED_STATUS : SENT;
  }

  /**
   * Runs `publishes` with writing held back, then writes what they staged at once (one TCP segment, not one each).
   * Inside, QoS 0 messages past the transmit buffer's room are "dropped"; QoS 1 and 2 wait in the outbox.
   */
  batch(publishes: () => void): void {
    const outer = this.#batching;
    this.#batching = true;
    try {
      publishes();
    } finally {
      this.#batching = outer;
      if (!outer && (this.#state === CONNECTED || this.#handshaking)) this.#flush();
    }
  }

  /** Subscribes (again: replaces QoS and handler; renewed after a reconnect without a session). Throws MqttError: bad filter or QoS, table full. */
  subscribe(filter: string, options?: SubscribeOptions, handler?: MessageHandler): void {
    this.#checkOpen();
    const bytes = prepareFilter(filter, this.#encoder);
    const qos = qosOf(options) | (this.#v5 === undefined ? 0 : this.#v5.subscriptionOptions(options)); // 5.0: options above the QoS
    if (handler !== undefined && typeof handler !== "function") throw new MqttError("argument-invalid", "handler");
    if (!this.#subscriptions.add(filter, bytes, qos, handler, subscriptionIdOf(options, this.#v5 !== undefined))) throw new MqttError("too-many-subscriptions");
    if (this.#state === CONNECTED) this.#flush();
  }

  /** Removes a subscription: its handler is not called again. */
  unsubscribe(filter: string): void {
    this.#checkOpen();
    const bytes = prepareFilter(filter, this.#encoder);
    if (!this.#subscriptions.remove(filter, bytes)) throw new MqttError("too-many-subscriptions");
    if (this.#state === CONNECTED) this.#flush();
  }

  /** Closes for good: what is staged is written, then DISCONNECT, so no will (5.0: unless `reasonCode` is 0x04). */
  close(reasonCode = 0, sessionExpiry?: number): void {
    if (this.#state === CLOSED || this.#state === CLOSING) return;
    checkClose(this.#v5, reasonCode, sessionExpiry);
    if (this.#state === CONNECTED && this.#socket !== undefined) {
      this.#state = CLOSING;
      this.#closeReason = reasonCode; // DISCONNECT once the outbox has written what it holds queued (#stage)
      this.#deadline = this.#now() + CLOSE_LINGER;
      this.#ticker.period = this.#settings.tickInterval; // the linger ends on time
      // then the socket stays open, and read, until the broker closes it (#fail) or the linger ends (#tick): closed
      // with answers unread, it is reset, and a broker that takes the reset before DISCONNECT publishes the will
      this.#flushNow();
      return;
    }
    this.#finishClose();
  }

  #checkOpen(): void {
    if (this.#state === CLOSED || this.#state === CLOSING) throw new MqttError("closed");
  }

  // ---- connection life cycle

  #open(): void {
    if (this.#networkDown) return void (this.#state = WAITING); // the network's return opens
    this.#state = CONNECTING;
    this.stats.attempts++;
    const generation = ++this.#generation;
    this.#deadline = this.#now() + this.#settings.connectTimeout;
    const host = this.#settings.host;
    const current = (): boolean => generation === this.#generation && this.#state === CONNECTING;
    resolveHost(this.#io, host, (address) => {
      if (current()) this.#openSocket(address, generation);
    }, () => {
      if (current()) this.#fail("dns-failed", host);
    });
  }

  #openSocket(address: string, generation: number): void {
    this.#tx.reset();
    this.#rx.waiting = 0;
    this.#decoder.reset();
    try {
      // callbacks of a socket dropped since see another generation, and do nothing
      this.#socket = openSocket(this.#io, this.#settings, address, {
        onWritable: (count) => generation === this.#generation && this.#onWritable(count),
        onReadable: (count) => generation === this.#generation && this.#onReadable(count),
        onError: (message) => generation === this.#generation && this.#onSocketError(message),
      });
    } catch (error) {
      this.#socket = undefined;
      this.#fail(this.#settings.tls === undefined ? "connection-lost" : "tls-failed", String(error));
    }
  }

  #onWritable(count: number): void {
    const tx = this.#tx;
    tx.onWritable(count);
    if (this.#state === CONNECTING && !this.#handshaking) {
      // the connection is up: CONNECT goes first
      this.#handshaking = true;
      tx.fill = connectPacketInto(this.#decoder, tx.bytes); // encoded once: CONNECT never changes
      this.#keepalive.lastReceived = this.#now();
    }
    this.#flush();
    if (this.#decoder.pending > 0 || this.#rx.waiting > 0) this.#onReadable(this.#rx.waiting);
  }

  /** The socket failed or closed (while closing, that ends the close: see #fail). */
  #onSocketError(message?: string): void {
    const inTlsHandshake = this.#settings.tls !== undefined && this.#state === CONNECTING && !this.#handshaking;
    this.#fail(inTlsHandshake ? "tls-failed" : "connection-lost", message);
  }

  /** Ends the current connection attempt or connection and schedules the next one; while closing, ends the close. */
  #fail(code: ErrorCode, detail?: string, malformed = false): void {
    if (this.#state === CLOSING || this.#state === CLOSED) return this.#finishClose();
    const error = this.#v5 === undefined ? new MqttError(code, detail) : this.#v5.error(code, detail);
    const wasConnected = this.#state === CONNECTED;
    // acknowledgements staged for packets handled before a violation still go out, if the socket takes them
    // (5.0: then DISCONNECT with the violation's reason code)
    if (wasConnected && code === "protocol-violation" && this.#socket !== undefined) {
      if (this.#v5 !== undefined) this.#v5.violation(this.#tx, error.reasonCode, malformed);
      this.#tx.writeAllOrNothing(this.#socket);
    }
    this.#dropSocket();
    const settings = this.#settings;
    if (wasConnected && this.#now() - this.#connectedAt >= settings.stableAfter) this.#failures = 0;
    this.#callbacks.error(error);
    if (wasConnected) this.#callbacks.disconnected(error);
    if ((this.#state as ClientState) === CLOSED) return; // a callback closed the client
    if (!settings.reconnect) return this.#finishClose();
    const random = this.#io.random === undefined ? Math.random() : this.#io.random();
    this.#state = WAITING;
    this.#deadline = this.#now() + reconnectDelay(settings, this.#failures++, random);
  }

  #dropSocket(): void {
    this.#generation++;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#handshaking = false;
    this.#ticker.period = this.#settings.tickInterval;
    this.#keepalive.pingOutstanding = false;
    this.#tx.reset();
    this.#rx.waiting = 0;
    this.#decoder.reset();
    this.#outbox.requeue();
    this.#subscriptions.connectionLost();
    if (socket !== undefined) closeQuietly(socket);
  }

  #finishClose(): void {
    const wasOpen = this.#socket !== undefined && (this.#state === CLOSING || this.#state === CONNECTED);
    this.#state = CLOSED;
    this.#dropSocket();
    this.#ticker.stop();
    if (wasOpen) this.#callbacks.disconnected(new MqttError("closed"));
  }

  /** The timer: keepalive while connected, otherwise the end of the current wait (#deadline). */
  #tick(): void {
    const now = this.#now();
    const state = this.#state;
    if (state === CONNECTED) {
      const due = this.#keepalive.check(now);
      if (due === KEEPALIVE_DEAD) this.#fail("keepalive-timeout");
      else if (due === KEEPALIVE_PING && this.#stageReserved(encodePingreq, 0)) {
        this.#keepalive.pingOutstanding = true;
        this.#flush();
      }
    } else if (now >= this.#deadline) {
      if (state === CONNECTING) this.#fail("connect-timeout");
      // paused, no #open(): XS makes its closures' scope on entry, even for an early return
      else if (state === WAITING && !this.#networkDown) this.#open();
      else if (state === CLOSING) {
        // the linger is over: DISCONNECT all the same if the socket takes it (no will), then the end
        if (this.#stageDisconnect() && this.#socket !== undefined) this.#tx.writeAllOrNothing(this.#socket);
        this.#finishClose();
      }
    }
  }

  // ---- output

  /**
   * Stages a PUBACK, PINGREQ or DISCONNECT. TX_RESERVE keeps room for them (publishes and
   * subscriptions leave it free, and input stops while less is free), so a full buffer here
   * is a broken invariant: it fails the connection with "buffer-too-small". False then.
   */
  #stageReserved(encode: (buf: Uint8Array, offset: number, packetId: number) => number, packetId: number): boolean {
    const tx = this.#tx;
    if (this.#state === CLOSING && this.#closeReason < 0) return false; // nothing after DISCONNECT [MQTT-3.14.4-1]
    try {
      tx.fill += encode(tx.bytes, tx.fill, packetId);
      return true;
    } catch {
      this.#fail("buffer-too-small", "no room kept for a control packet");
      return false;
    }
  }

  /** Stages what the connection may take and writes it, or only stages while a read is handled (it writes at its end). */
  #flush(): void {
    if (this.#batching) this.#stage();
    else this.#flushNow();
  }

  /** Stages subscriptions, then the outbox in order, as far as the transmit buffer allows (pipeline.ts: behind CONNECT). */
  #stage(): void {
    const state = this.#state;
    if (state === CONNECTED) this.#subscriptions.stage(this.#tx);
    // closing: the outbox until DISCONNECT is staged, nothing after it
    else if (state === CLOSING ? this.#closeReason < 0 : !stagesBehindConnect(this.#handshaking, this.#settings)) return;
    this.#outbox.stage(this.#tx, this.#v5 === undefined ? this.#settings.maxInflight : this.#v5.inflightLimit, this.stats);
    if (state === CLOSING && this.#outbox.queued === 0) this.#stageDisconnect();
  }

  /** Closing: stages DISCONNECT unless it is staged already; false when nothing was staged. */
  #stageDisconnect(): boolean {
    const reason = this.#closeReason;
    const staged = reason >= 0 && this.#stageReserved(this.#v5 === undefined ? encodeDisconnect : this.#v5.encodeDisconnect, reason);
    this.#closeReason = -1;
    return staged;
  }

  /** Stages what the connection may take and writes; then tells a refused publisher when there is room. */
  #flushNow(): void {
    const tx = this.#tx;
    for (;;) {
      this.#stage();
      if (tx.fill === 0 || tx.writable <= 0 || this.#socket === undefined) break;
      if (tx.gathering && this.#state !== CLOSING) break;
      try {
        tx.write(this.#socket);
      } catch (error) {
        this.#fail("connection-lost", String(error));
        return;
      }
      this.#keepalive.lastSent = this.#now();
    }
    if (!this.#refused || this.#state !== CONNECTED || this.#handshaking || !this.#outbox.roomy || tx.room < tx.bytes.length >> 1) return;
    this.#refused = false;
    this.#callbacks.ready();
  }

  // ---- input

  #onReadable(count: number): void {
    this.#rx.waiting = count;
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
        if (this.#rx.waiting <= 0 || this.#socket === undefined) return;
        try {
          if (!this.#rx.read(this.#socket, decoder)) return;
        } catch (error) {
          this.#fail("connection-lost", String(error));
          return;
        }
        this.#keepalive.lastReceived = this.#now();
      }
      if (this.#tx.room < TX_RESERVE) {
        this.#flushNow();
        if (generation !== this.#generation || this.#tx.room < TX_RESERVE) return; // resumed by onWritable
      }
      let kind: number;
      try {
        kind = decoder.next();
      } catch (error) {
        this.#fail("protocol-violation", (error as MqttError).code + ": " + (error as MqttError).message, true);
        return;
      }
      if (kind === NEED_MORE) continue;
      this.#handle(kind);
      if (generation !== this.#generation) return;
    }
  }

  #handle(kind: number): void {
    const decoder = this.#decoder;
    if (this.#handshaking && kind !== CONNACK && kind !== AUTH) {
      this.#fail("protocol-violation", "packet type " + kind + " before CONNACK");
      return;
    }
    const v5Error = this.#v5 === undefined ? undefined : this.#v5.check(kind, this.#tx);
    if (v5Error !== undefined || kind === AUTH) return v5Error === undefined ? this.#flush() : this.#fail(v5Error, this.#v5!.detail);
    switch (kind) {
      case PUBLISH: case OVERSIZE: return this.#onPublish(kind);
      case PUBACK: case PUBREC: case PUBCOMP: return this.#onAck(kind, decoder.packetId);
      case PUBREL:
        // the broker released an incoming QoS 2 message: PUBCOMP, whether the id is known or not
        this.#inbound.release(decoder.packetId);
        if (this.#stageReserved(encodePubcomp, decoder.packetId)) this.#flush();
        return;
      case CONNACK: return this.#onConnack();
      case SUBACK: return this.#onSuback();
      case UNSUBACK: {
        const filter = this.#subscriptions.unsuback(decoder.packetId);
        if (filter === undefined) this.#fail("protocol-violation", "UNSUBACK for unsent id " + decoder.packetId);
        else this.#callbacks.unsubscribed(filter, this.#v5 === undefined ? 0 : decoder.buf[decoder.codesOffset]);
        return;
      }
      default: // PINGRESP
        this.#keepalive.pingOutstanding = false;
    }
  }

  /** A PUBLISH (or one skipped for its size: reported, acknowledged). QoS 2: PUBREC, delivered once until PUBREL [MQTT-4.3.3-2]. */
  #onPublish(kind: number): void {
    const decoder = this.#decoder;
    const { qos, packetId } = decoder;
    if (kind === OVERSIZE) {
      this.stats.oversize++;
      this.#callbacks.error(new MqttError("oversize-skipped", decoder.remainingLength + " bytes"));
      if (decoder.type !== PUBLISH || this.#state !== CONNECTED) return;
    }
    const fresh = qos < 2 ? INBOUND_NEW : this.#inbound.receive(packetId);
    if (fresh === INBOUND_FULL) {
      this.#fail("qos2-table-full");
      return;
    }
    if (fresh === INBOUND_NEW && kind === PUBLISH) this.#deliver();
    if (qos > 0 && this.#stageReserved(qos === 1 ? encodePuback : encodePubrec, packetId)) this.#flush();
  }

  /** PUBACK (QoS 1 done), PUBREC (QoS 2 released: PUBREL next) or PUBCOMP (QoS 2 done) for an outbox message. */
  #onAck(kind: number, packetId: number): void {
    const outbox = this.#outbox;
    const reason = this.#v5 === undefined ? 0 : this.#v5.reasonCode; // 5.0: 0x80 and above ends the exchange
    const known = kind === PUBACK ? outbox.acknowledge(packetId) : kind === PUBCOMP ? outbox.complete(packetId)
      : reason < 0x80 ? outbox.received(packetId) : this.#v5!.refused(outbox, packetId);
    if (!known) {
      // a sloppy broker's repeat: counted and reported, not worth a reconnect loop
      this.stats.strayAcks++;
      this.#callbacks.error(new MqttError("stray-ack", "type " + kind + ", id " + packetId));
      return;
    }
    if (kind !== PUBREC || reason >= 0x80) {
      this.stats.acknowledged++;
      this.#callbacks.published(packetId, reason);
    }
    this.#flush();
  }

  #onConnack(): void {
    const decoder = this.#decoder;
    const refusal = !this.#handshaking ? "a second CONNACK"
      : decoder.sessionPresent && this.#settings.clean ? "session present after clean [MQTT-3.2.2-1]" : undefined;
    const refused = this.#v5 === undefined ? undefined : this.#v5.connack(this.#keepalive);
    if (refusal !== undefined || decoder.returnCode !== 0) {
      this.#fail(refusal === undefined ? refused ?? connackRefusal(decoder.returnCode) : "protocol-violation", refusal ?? this.#v5?.detail);
      return;
    }
    this.#handshaking = false;
    this.#state = CONNECTED;
    this.#ticker.period = this.#keepalive.interval;
    this.#connectedAt = this.#now();
    this.#keepalive.lastReceived = this.#connectedAt;
    if (this.#everConnected) this.stats.reconnects++;
    this.#everConnected = true;
    // a new session: the broker has none of our subscriptions (a message written before
    // still goes with DUP: it may have reached the broker [MQTT-3.3.1-1])
    if (!decoder.sessionPresent) {
      this.#subscriptions.sessionLost();
      this.#inbound.clear();
    }
    this.#callbacks.connected(decoder.sessionPresent);
    if (this.#state === CONNECTED) this.#flush();
  }

  #onSuback(): void {
    const decoder = this.#decoder;
    const subscriptions = this.#subscriptions;
    const slot = subscriptions.suback(decoder.packetId, decoder.codesLength);
    if (slot === SUBACK_SUPERSEDED) this.#flush(); // a subscription made again meanwhile goes out now
    if (slot === SUBACK_UNKNOWN) this.#fail("protocol-violation", "SUBACK for unsent id " + decoder.packetId);
    if (slot === SUBACK_CODES) this.#fail("protocol-violation", "SUBACK codes: " + decoder.codesLength + " [MQTT-3.8.4-5]");
    if (slot < 0) return;
    const code = decoder.buf[decoder.codesOffset];
    const filter = subscriptions.filter(slot);
    subscriptions.settle(slot, code < SUBACK_FAILURE);
    if (code >= SUBACK_FAILURE) this.#callbacks.error(new MqttError("subscription-refused", JSON.stringify(filter) + (code === SUBACK_FAILURE ? "" : " 0x" + code.toString(16))));
    else this.#callbacks.subscribed(filter, code);
  }

  #deliver(): void {
    const decoder = this.#decoder;
    const message = this.#message;
    message.load(decoder);
    this.stats.received++;
    const generation = this.#generation;
    const subscriptions = this.#subscriptions;
    const { topicBuffer: buf, topicOffset, topicLength } = message;
    for (let slot = subscriptions.match(0, buf, topicOffset, topicLength); slot >= 0;
      slot = subscriptions.match(slot + 1, buf, topicOffset, topicLength)) {
      const exact = subscriptions.exactTopic(slot);
      if (exact !== undefined) message.knownTopic = exact;
      const handler = subscriptions.handler(slot);
      if (handler !== undefined) this.#callbacks.message(handler, message);
      if (generation !== this.#generation) return;
    }
    this.#callbacks.message(undefined, message);
  }
}
