/*
 * What a client speaking MQTT 5.0 keeps and decides beyond 3.1.1, for client.ts to delegate
 * to: the server's limits from CONNACK (Receive Maximum, Maximum Packet Size, Topic Alias
 * Maximum, Server Keep Alive, Assigned Client Identifier), the outgoing topic aliases of
 * prepared topics, the PUBLISH properties, the AUTH exchange and the reason codes of the
 * acknowledgements and of DISCONNECT. Made only for protocolVersion 5: a 3.1.1 client never
 * constructs one. Tables are made by the constructor; publishing, acknowledging and
 * receiving allocate nothing (a CONNACK decodes its assigned client id once).
 */

import {
  AUTH, DISCONNECT, PUBLISH, SUB_NO_LOCAL, SUB_RETAIN_AS_PUBLISHED, SUB_RETAIN_HANDLING_SHIFT,
} from "./constants.js";
import type { PacketDecoder } from "./decode.js";
import type { PacketDecoder5 } from "./decode5.js";
import { encodeAuth, encodeDisconnect5, encodePublish5, publishSize5 } from "./encode5.js";
import type { ErrorCode } from "./errors.js";
import { MqttError } from "./errors.js";
import type { TextDecoderLike } from "./io.js";
import type { Keepalive } from "./keepalive.js";
import type { Properties } from "./props.js";
import {
  PROP_ASSIGNED_CLIENT_ID, PROP_AUTH_DATA, PROP_MAXIMUM_PACKET_SIZE, PROP_MAXIMUM_QOS, PROP_REASON_STRING,
  PROP_RECEIVE_MAXIMUM, PROP_RETAIN_AVAILABLE, PROP_SERVER_KEEPALIVE, PROP_TOPIC_ALIAS, PROP_TOPIC_ALIAS_MAXIMUM,
  propertiesSize,
} from "./props.js";
import { IncomingAliases, REASON_MALFORMED_PACKET, REASON_PROTOCOL_ERROR } from "./aliases5.js";
import { Message5 } from "./message5.js";
import type { ClientOptions, PublishOptions, Settings, SubscribeOptions } from "./options.js";
import { incomingAliases, isWhole } from "./options.js";
import { INFLIGHT, type Outbox } from "./outbox.js";
import { connackRefusal5, REASON_CONTINUE_AUTHENTICATION, reasonAllowed, reasonName } from "./reasons.js";
import type { PreparedTopic } from "./topic.js";
import type { Transmit } from "./transmit.js";

/** The server's AUTH: its reason code and authentication data; returns the data to answer with, or undefined to give up. */
export type AuthHandler = (reasonCode: number, data: Uint8Array | undefined) => Uint8Array | undefined;

export class Session5 {
  /** The server's Receive Maximum: QoS 1 and 2 messages in flight at once [MQTT-3.3.4-7]. */
  receiveMaximum = 65_535;
  /** How many QoS 1 and 2 messages this client puts in flight: its maxInflight within the server's Receive Maximum. */
  inflightLimit: number;
  /** The server's Maximum Packet Size, bytes [MQTT-3.2.2-15]. */
  maximumPacketSize = 268_435_460;
  /** The server's Topic Alias Maximum (0: no aliases) [MQTT-3.3.2-9]. */
  topicAliasMaximum = 0;
  /** The server's Maximum QoS and Retain Available. */
  maximumQos = 2;
  retainAvailable = true;
  /** The keepalive in force, seconds: the server's Server Keep Alive, else the client's. */
  keepAlive: number;
  /** The client identifier the server assigned (CONNACK), when the client gave none. */
  assignedClientId: string | undefined = undefined;
  /** What to say about the last failure check() or connack() reported: the reason's name, and the server's reason string when it sent one. */
  detail = "";
  /** The reason code of that failure (DISCONNECT, refusing CONNACK, AUTH), for the MqttError that reports it. */
  #reason = 0;

  /** The one received message handlers get, with its properties. */
  readonly message: Message5;
  readonly #decoder: PacketDecoder5;
  readonly #Text: new () => TextDecoderLike;
  readonly #authMethod: Uint8Array | undefined;
  /** The client's own keepalive, seconds: back in force on a connection whose CONNACK names none. */
  readonly #keepAlive: number;
  readonly #maxInflight: number;
  readonly #onAuth: AuthHandler | undefined;
  /** The prepared topic of each alias (index + 1), and whether this connection has set it. */
  readonly #aliases: (PreparedTopic | undefined)[];
  readonly #aliasSet: Uint8Array;
  /** The aliases the server sets toward this client; undefined when it announces none. */
  readonly #incoming: IncomingAliases | undefined;
  /** The properties of the PUBLISH being encoded: the caller's, plus the topic alias. */
  readonly #scratch: Properties = {};
  #scratchSize = 0;
  #aliasOnly = false;
  /** What close() sends: a reason code and Session Expiry. */
  readonly #closing: Properties = {};

  constructor(
    decoder: PacketDecoder5, Text: new () => TextDecoderLike, keepAlive: number, maxInflight: number, maxAliases: number,
    authMethod: Uint8Array | undefined, onAuth: AuthHandler | undefined, incoming?: IncomingAliases,
  ) {
    this.#maxInflight = this.inflightLimit = maxInflight;
    this.#decoder = decoder;
    this.#incoming = incoming;
    this.message = new Message5(decoder, Text, incoming);
    this.#keepAlive = this.keepAlive = keepAlive;
    this.#Text = Text;
    this.#aliases = [];
    for (let i = 0; i < maxAliases; i++) this.#aliases.push(undefined);
    this.#aliasSet = new Uint8Array(maxAliases);
    this.#authMethod = authMethod;
    this.#onAuth = onAuth;
  }

  /** The session of a protocolVersion 5 client, from its options (checked) and its 5.0 decoder. */
  static create(
    options: ClientOptions, settings: Settings, decoder: PacketDecoder, Text: new () => TextDecoderLike,
  ): Session5 {
    const method = options.connectProperties === undefined ? undefined : options.connectProperties.authenticationMethod;
    if (options.onAuth !== undefined && (typeof options.onAuth !== "function" || method === undefined)) {
      throw new MqttError("argument-invalid", "onAuth needs connectProperties.authenticationMethod");
    }
    const incoming = incomingAliases(options);
    return new Session5(
      decoder as PacketDecoder5, Text, settings.keepAlive, settings.maxInflight, options.maxTopicAliases ?? 8, method, options.onAuth,
      incoming === 0 ? undefined : new IncomingAliases(incoming, settings.receiveBufferSize),
    );
  }

  /** The reason code of the acknowledgement just read (0 when left out). */
  get reasonCode(): number {
    return this.#decoder.reasonCode;
  }

  /** A PUBREC refusing a QoS 2 message (0x80 and above): no PUBREL follows, the message is done. */
  refused(outbox: Outbox, packetId: number): boolean {
    const index = outbox.find(packetId, INFLIGHT, 2);
    if (index >= 0) outbox.markDone(index);
    return index >= 0;
  }

  /** The text of a string property of the last packet (allocates: CONNACK and failures only). */
  #text(id: number): string | undefined {
    const at = this.#decoder.bytesOffset(id);
    return at < 0 ? undefined : new this.#Text().decode(this.#decoder.buf.subarray(at, at + this.#decoder.bytesLength(id)));
  }

  #failWith(reason: number, code: ErrorCode): ErrorCode {
    this.#reason = reason;
    const text = this.#text(PROP_REASON_STRING);
    this.detail = reasonName(reason) + (text === undefined ? "" : ": " + text);
    return code;
  }

  /** A new connection: no alias is set on it yet. */
  connectionLost(): void {
    this.#aliasSet.fill(0);
    if (this.#incoming !== undefined) this.#incoming.clear();
  }

  /**
   * Reads a CONNACK: a refusal gives its error (reason and detail set); acceptance takes the
   * server's limits and keepalive, and returns undefined.
   */
  connack(keepalive: Keepalive): ErrorCode | undefined {
    const d = this.#decoder;
    if (d.reasonCode >= 0x80) return this.#failWith(d.reasonCode, connackRefusal5(d.reasonCode));
    this.receiveMaximum = d.number(PROP_RECEIVE_MAXIMUM, 65_535);
    this.inflightLimit = Math.min(this.#maxInflight, this.receiveMaximum);
    this.maximumPacketSize = d.number(PROP_MAXIMUM_PACKET_SIZE, 268_435_460);
    this.topicAliasMaximum = d.number(PROP_TOPIC_ALIAS_MAXIMUM, 0);
    this.maximumQos = d.number(PROP_MAXIMUM_QOS, 2);
    this.retainAvailable = d.number(PROP_RETAIN_AVAILABLE, 1) === 1;
    const assigned = this.#text(PROP_ASSIGNED_CLIENT_ID);
    if (assigned !== undefined) this.assignedClientId = assigned;
    // the server's keepalive replaces the client's [MQTT-3.2.2-21]
    this.keepAlive = d.number(PROP_SERVER_KEEPALIVE, this.#keepAlive);
    keepalive.period = this.keepAlive * 1000;
    this.connectionLost();
    return undefined;
  }

  /**
   * A packet only 5.0 has, or that 5.0 reads differently, before the client's own handling:
   * DISCONNECT, and a PUBLISH with a topic alias this client cannot take, give an error;
   * AUTH is answered through the callback, into `tx`. Undefined when the client goes on.
   */
  check(kind: number, tx: Transmit): ErrorCode | undefined {
    const d = this.#decoder;
    if (kind === PUBLISH) {
      const incoming = this.#incoming;
      // a Topic Alias Maximum of 0: the server may send no alias [MQTT-3.1.2-26]
      const reason = incoming === undefined ? (d.has(PROP_TOPIC_ALIAS) ? 0x94 : 0) : incoming.resolve(d);
      return reason === 0 ? undefined : this.#failWith(reason, "protocol-violation");
    }
    if (kind === DISCONNECT) return this.#failWith(d.reasonCode, "server-disconnected");
    if (kind !== AUTH) return undefined;
    if (d.reasonCode !== REASON_CONTINUE_AUTHENTICATION || this.#onAuth === undefined || this.#authMethod === undefined) {
      return this.#failWith(d.reasonCode, "auth-failed");
    }
    const at = d.bytesOffset(PROP_AUTH_DATA);
    let answer: Uint8Array | undefined;
    try {
      answer = this.#onAuth(d.reasonCode, at < 0 ? undefined : d.buf.subarray(at, at + d.bytesLength(PROP_AUTH_DATA)));
    } catch {
      answer = undefined;
    }
    if (!(answer instanceof Uint8Array)) return this.#failWith(d.reasonCode, "auth-failed");
    const props = this.#scratch;
    this.#clearScratch();
    props.authenticationMethod = this.#authMethod;
    props.authenticationData = answer;
    try {
      const size = 1 + 1 + 3 + this.#authMethod.length + 3 + answer.length;
      if (!tx.hasRoomFor(size)) return this.#failWith(0x80, "buffer-too-small");
      tx.fill += encodeAuth(tx.bytes, tx.fill, REASON_CONTINUE_AUTHENTICATION, props);
    } catch {
      return this.#failWith(0x80, "auth-failed");
    } finally {
      this.#clearScratch();
    }
    return undefined;
  }

  #clearScratch(): void {
    const s = this.#scratch;
    s.payloadFormat = s.messageExpiry = s.topicAlias = undefined;
    s.contentType = s.responseTopic = s.correlationData = s.authenticationMethod = s.authenticationData = undefined;
    s.userProperties = undefined;
  }

  /**
   * The size of a PUBLISH of `topic` with the caller's properties `props`, as the outbox
   * keeps it (the whole topic, no alias); 0 when MQTT cannot carry it. Keeps the properties
   * for encode(). Throws an MqttError for a property PUBLISH may not carry.
   */
  size(topic: PreparedTopic, payloadLength: number, qos: number, retain: boolean, options: PublishOptions | undefined): number {
    // what the server said it takes [MQTT-3.2.2-11][MQTT-3.2.2-14]
    if (qos > this.maximumQos) throw new MqttError("qos-invalid", "the server takes QoS " + this.maximumQos + " at most");
    if (retain && !this.retainAvailable) throw new MqttError("argument-invalid", "the server keeps no retained messages");
    const props = options === undefined ? undefined : options.properties;
    const s = this.#scratch;
    this.#clearScratch();
    if (props !== undefined) {
      if (props === null || typeof props !== "object") throw new MqttError("argument-invalid", "properties");
      s.payloadFormat = props.payloadFormat;
      s.messageExpiry = props.messageExpiry;
      s.contentType = props.contentType;
      s.responseTopic = props.responseTopic;
      s.correlationData = props.correlationData;
      s.userProperties = props.userProperties;
      // the client sets topic aliases itself; a client's PUBLISH has no subscription identifier [MQTT-3.3.4-6]
      if (props.topicAlias !== undefined || props.subscriptionIdentifier !== undefined) throw new MqttError("argument-invalid", "topicAlias, subscriptionIdentifier");
    }
    this.#scratchSize = propertiesSize(s, PUBLISH);
    return publishSize5(topic.bytes.length, payloadLength, qos, this.#scratchSize);
  }

  /** The largest packet the server takes, within `limit`. */
  limit(limit: number): number {
    return Math.min(limit, this.maximumPacketSize);
  }

  /**
   * Encodes the PUBLISH size() measured. `direct`: a topic the caller prepared, written
   * straight to the connection, so it may go as its alias (set on first use on this
   * connection, then alone); a topic given as a string gets no alias (it is a new object each time).
   */
  encode(
    buf: Uint8Array, offset: number, topic: PreparedTopic, payload: Uint8Array, qos: number, retain: boolean,
    dup: boolean, packetId: number, payloadLength: number, direct: boolean,
  ): number {
    const s = this.#scratch;
    let size = this.#scratchSize;
    this.#aliasOnly = false;
    if (direct && this.topicAliasMaximum > 0) {
      const alias = this.#alias(topic);
      if (alias > 0) {
        s.topicAlias = alias;
        size += 3;
        this.#aliasOnly = this.#aliasSet[alias - 1] === 1;
        this.#aliasSet[alias - 1] = 1;
      }
    }
    try {
      return encodePublish5(buf, offset, this.#aliasOnly ? undefined : topic, payload, qos, retain, dup, packetId, s, size, payloadLength);
    } finally {
      this.#clearScratch();
    }
  }

  /** The alias of a prepared topic (taking a free one on first use), or 0 when all are taken. */
  #alias(topic: PreparedTopic): number {
    const aliases = this.#aliases;
    const usable = Math.min(aliases.length, this.topicAliasMaximum);
    for (let i = 0; i < usable; i++) {
      const held = aliases[i];
      if (held === topic) return i + 1;
      if (held === undefined) {
        aliases[i] = topic;
        return i + 1;
      }
    }
    return 0;
  }

  /** Sets what close() sends: a reason code (Table 2-6) and a Session Expiry; throws an MqttError for a bad one. */
  closing(reason: number, sessionExpiry: number | undefined): void {
    if (!reasonAllowed(DISCONNECT, reason)) throw new MqttError("argument-invalid", "DISCONNECT reason code");
    if (sessionExpiry !== undefined && !isWhole(sessionExpiry, 0, 0xffffffff)) throw new MqttError("argument-invalid", "sessionExpiry");
    this.#closing.sessionExpiry = sessionExpiry;
  }

  /**
   * Stages DISCONNECT for a protocol violation the client found, before it closes the
   * connection (MQTT 5.0 4.13.1): the reason check() gave, else 0x81 (Malformed Packet) for a
   * packet the decoder refused, else 0x82 (Protocol Error). Nothing when `tx` has no room.
   */
  violation(tx: Transmit, reason: number | undefined, malformed: boolean): void {
    const code = reason !== undefined ? reason : malformed ? REASON_MALFORMED_PACKET : REASON_PROTOCOL_ERROR;
    if (tx.room >= 4) tx.fill += encodeDisconnect5(tx.bytes, tx.fill, code); // the last packet: the control reserve may go
  }

  /** DISCONNECT with the reason and Session Expiry closing() set, in the shape the client's reserve takes. */
  readonly encodeDisconnect = (buf: Uint8Array, offset: number, reason: number): number =>
    encodeDisconnect5(buf, offset, reason, this.#closing);

  /** The error for a failure, with the reason code of what check() or connack() reported on it. */
  error(code: ErrorCode, detail: string | undefined): MqttError {
    const error = new MqttError(code, detail);
    if (this.detail !== "") error.reasonCode = this.#reason;
    this.#reason = 0;
    this.detail = "";
    return error;
  }

  /** The subscription options of subscribe()'s options, as the flag bits above the QoS (constants.ts). */
  subscriptionOptions(options: SubscribeOptions | undefined): number {
    if (options === undefined) return 0;
    const handling = options.retainHandling ?? 0;
    if (handling !== 0 && handling !== 1 && handling !== 2) throw new MqttError("argument-invalid", "retainHandling: 0, 1 or 2");
    return (options.noLocal === true ? SUB_NO_LOCAL : 0) | (options.retainAsPublished === true ? SUB_RETAIN_AS_PUBLISHED : 0)
      | (handling << SUB_RETAIN_HANDLING_SHIFT);
  }

}
