/*
 * The client's options: their types, their checks and their defaults, and the CONNECT
 * packet made from them. Everything here runs once, in the client's constructor; nothing
 * here holds state or touches the network.
 */

import type { ConnectFields } from "./encode.js";
import { encodeConnect, lengthFieldSize } from "./encode.js";
import { MqttError } from "./errors.js";
import type { ClientIo, SecureOptions, TextEncoderLike } from "./io.js";
import type { Message } from "./message.js";
import { derOf } from "./pem.js";
import type { Properties } from "./props.js";
import type { Mqtt5 } from "./mqtt5.js";
import type { AuthHandler, Session5 } from "./session5.js";
import { prepareTopic } from "./topic.js";

export interface WillOptions {
  topic: string;
  payload: string | Uint8Array;
  qos?: number;
  retain?: boolean;
  /** MQTT 5.0: the will's properties (willDelay, messageExpiry, contentType, ...). */
  properties?: Properties;
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
  /**
   * The CA certificate to trust (PEM text, whose first CERTIFICATE block is used, or DER
   * bytes); without it, only the platform's own trust store (Moddable's certificate store).
   */
  ca?: string | ArrayBuffer | ArrayBufferView;
  /** The client certificate (PEM text or DER bytes), for a broker that asks for one; needs `key`. */
  cert?: string | ArrayBuffer | ArrayBufferView;
  /** The client certificate's private key, unencrypted PKCS #8 (PEM "PRIVATE KEY" or DER bytes); needs `cert`. */
  key?: string | ArrayBuffer | ArrayBufferView;
  /** The name the broker's certificate must carry (and SNI); defaults to `host`. */
  serverName?: string;
}

/** The TLS options checked: the name to check and the TLS socket's `secure` options (DER bytes). */
export interface TlsSettings {
  serverName: string | undefined;
  secure: SecureOptions;
}

/** Gets the messages of one subscription. */
export type MessageHandler = (message: Message) => void;

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
  /** QoS 1 and 2 messages on the wire not yet complete, each way (default 16). */
  maxInflight?: number;
  /** Size of the subscription table (default 16). */
  maxSubscriptions?: number;
  /** ms to get a CONNACK after starting to connect (default 10,000). */
  connectTimeout?: number;
  /** Backoff between reconnect attempts; `false` never reconnects. */
  reconnect?: ReconnectOptions | false;
  /**
   * Write the outbox's messages right behind CONNECT, before its CONNACK (default false):
   * CONNECT and a QoS 1 PUBLISH go out in one write, answered in one round trip
   * (pipeline.ts). A refused CONNECT drops them unread [MQTT-3.1.4-5]; they stay in the
   * outbox. Subscriptions still wait for the CONNACK.
   */
  pipeline?: boolean;
  /**
   * The packet id used last, 0 to 65,535 (default 0): the client numbers on after it, e.g. a
   * board woken from deep sleep that kept it in retained memory.
   */
  lastPacketId?: number;
  /** Connect over TLS (needs io.TLS). */
  tls?: TlsOptions | boolean;
  io: ClientIo;
  onConnected?: (sessionPresent: boolean) => void;
  onDisconnected?: (reason: MqttError) => void;
  onMessage?: MessageHandler;
  /**
   * A QoS 1 message was acknowledged (PUBACK), or a QoS 2 one completed (PUBCOMP), by the
   * broker; with MQTT 5.0 also a QoS 2 one the broker refused at PUBREC. `reasonCode`: the
   * acknowledgement's reason code (always 0 on 3.1.1; 0x80 and above: refused).
   */
  onPublished?: (packetId: number, reasonCode: number) => void;
  onSubscribed?: (filter: string, grantedQos: number) => void;
  /** The broker acknowledged an UNSUBSCRIBE (UNSUBACK) for this filter; `reasonCode` is 0 on 3.1.1. */
  onUnsubscribed?: (filter: string, reasonCode: number) => void;
  /**
   * After publish() returned "dropped" or "outbox-full": the client is connected again with
   * room (nothing queued, the transmit buffer and the outbox at least half free). Called
   * once per refusal, so a publisher can retry then instead of polling.
   */
  onReady?: () => void;
  onError?: (error: MqttError) => void;
  // ---- MQTT 5.0 only (docs/mqtt5.md): with protocolVersion 4 these are refused
  /** 4: MQTT 3.1.1 (the default); 5: MQTT 5.0, which needs `mqtt5`. */
  protocolVersion?: number;
  /** The 5.0 code, handed in so that a 3.1.1 program carries none of it: `import { mqtt5 } from "xs-mqtt"`. */
  mqtt5?: Mqtt5;
  /** Seconds the broker keeps the session after the connection ends: 0 (the default) to 4,294,967,295 (for ever). */
  sessionExpiry?: number;
  /** More CONNECT properties: userProperties, authenticationMethod, authenticationData, requestProblemInformation, requestResponseInformation. */
  connectProperties?: Properties;
  /** How many prepared topics may get a topic alias, within the server's Topic Alias Maximum (default 8). */
  maxTopicAliases?: number;
  /** How many topic aliases the server may set toward this client (its Topic Alias Maximum; default 2, 0 to 255): each holds a topic of up to receiveBufferSize bytes. */
  maxIncomingAliases?: number;
  /** The server's AUTH during enhanced authentication: answer with the next authentication data, or undefined to give up. */
  onAuth?: AuthHandler;
}

export interface PublishOptions {
  qos?: number;
  retain?: boolean;
  /** QoS 0 only: keep the message in the outbox while offline instead of dropping it. */
  queue?: boolean;
  /** MQTT 5.0: the PUBLISH properties (contentType, messageExpiry, responseTopic, correlationData, userProperties, payloadFormat). */
  properties?: Properties;
}

export interface SubscribeOptions {
  qos?: number;
  /** MQTT 5.0: the broker does not send back what this client publishes [MQTT-3.8.3-3]. */
  noLocal?: boolean;
  /** MQTT 5.0: forwarded messages keep the RETAIN flag they were published with. */
  retainAsPublished?: boolean;
  /** MQTT 5.0: retained messages on subscribing: 0 always (default), 1 only for a new subscription, 2 never. */
  retainHandling?: number;
  /** MQTT 5.0: a number (1 to 268,435,455) the broker puts on every message this subscription brings (Message5.subscriptionIdentifier). */
  subscriptionIdentifier?: number;
}

/**
 * What publish() did: "sent" (handed to the connection), "queued" (held in the outbox until
 * the connection can take it), "outbox-full" (not accepted: nothing changed), "dropped"
 * (QoS 0 while offline or while the link is congested; counted in stats.dropped).
 */
export type PublishStatus = "sent" | "queued" | "outbox-full" | "dropped";

export type ClientState = "idle" | "connecting" | "connected" | "waiting" | "closing" | "closed";

// The values of PublishStatus and ClientState, each made once: in XS, a string literal in a
// function makes a new string (a chunk) each time it runs (xs/sources/xsRun.c,
// XS_CODE_STRING), a module-level const does not. The client's hot paths use these.
/** The Topic Alias Maximum a 5.0 client announces unless `maxIncomingAliases` says otherwise. */
const INCOMING_ALIASES = 2;

/** How many topic aliases a 5.0 client takes from the server (its Topic Alias Maximum). */
export function incomingAliases(options: ClientOptions): number {
  return options.maxIncomingAliases ?? INCOMING_ALIASES;
}

export const SENT = "sent";
export const QUEUED_STATUS = "queued";
export const OUTBOX_FULL = "outbox-full";
export const DROPPED = "dropped";
export const IDLE = "idle";
export const CONNECTING = "connecting";
export const CONNECTED = "connected";
export const WAITING = "waiting";
export const CLOSING = "closing";
export const CLOSED = "closed";
/** What typeof says of a string and of a number (compared on the publish path and in isWhole). */
const STRING = "string";
const NUMBER = "number";

export interface ClientStats {
  /** PUBLISH packets written (QoS 0 and 1, first sends). */
  sent: number;
  /** QoS 1 and 2 messages acknowledged (PUBACK) or completed (PUBCOMP) by the broker. */
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
  /** PUBACK, PUBREC and PUBCOMP packets for no message awaiting them: ignored and reported ("stray-ack"). */
  strayAcks: number;
}

/** The options checked, with every default filled in. */
export interface Settings {
  host: string;
  port: number;
  tls: TlsSettings | undefined;
  /** Seconds, as CONNECT carries it. */
  keepAlive: number;
  /** A clean session: the broker keeps nothing across connections. */
  clean: boolean;
  /** The client's timer period, ms: a PINGREQ goes a period early so that it is never late. */
  tickInterval: number;
  connectTimeout: number;
  reconnect: boolean;
  minDelay: number;
  maxDelay: number;
  stableAfter: number;
  maxInflight: number;
  receiveBufferSize: number;
  transmitBufferSize: number;
  outboxBytes: number;
  outboxMessages: number;
  maxSubscriptions: number;
  pipeline: boolean;
  lastPacketId: number;
}

/** Checks the options in a fixed order (the first bad one throws its MqttError) and fills in the defaults. */
export function checkOptions(options: ClientOptions): Settings {
  if (options === null || typeof options !== "object") throw new MqttError("argument-invalid", "options");
  const io = options.io;
  if (io === undefined || typeof io.TCP !== "function" || io.Timer === undefined
    || typeof io.TextEncoder !== "function" || typeof io.TextDecoder !== "function") {
    throw new MqttError("argument-invalid", "io: TCP, Timer, TextEncoder, TextDecoder");
  }
  if (typeof options.host !== "string" || options.host.length === 0) throw new MqttError("argument-invalid", "host");
  if (typeof options.clientId !== "string") throw new MqttError("client-id-invalid", "clientId: not a string");
  let tls: TlsSettings | undefined;
  if (options.tls) {
    if (io.TLS === undefined) throw new MqttError("argument-invalid", "tls needs io.TLS");
    tls = tlsSettings(options.tls === true ? {} : options.tls);
  }
  const port = whole(options.port, tls ? 8883 : 1883, 1, 65_535, "port");
  const keepAlive = whole(options.keepAlive, 60, 0, 65_535, "keepAlive");
  const connectTimeout = whole(options.connectTimeout, 10_000, 1, 3_600_000, "connectTimeout");
  const reconnect = options.reconnect;
  const backoff = reconnect === false || reconnect === undefined ? {} : reconnect;
  const minDelay = whole(backoff.minDelay, 1_000, 1, 86_400_000, "reconnect.minDelay");
  const keepAliveMs = keepAlive * 1000;
  const protocolVersion = whole(options.protocolVersion, 4, 4, 5, "protocolVersion");
  if (protocolVersion === 4 && (options.sessionExpiry !== undefined || options.connectProperties !== undefined
    || options.onAuth !== undefined || options.maxTopicAliases !== undefined || options.maxIncomingAliases !== undefined || (options.will !== undefined && options.will.properties !== undefined))) {
    throw new MqttError("argument-invalid", "sessionExpiry, connectProperties, onAuth, maxTopicAliases, maxIncomingAliases and will.properties need protocolVersion 5");
  }
  if (protocolVersion === 5 && (options.mqtt5 === null || typeof options.mqtt5 !== "object" || typeof options.mqtt5.session !== "function")) {
    throw new MqttError("argument-invalid", "protocolVersion 5 needs the mqtt5 option: import { mqtt5 } from \"xs-mqtt\"");
  }
  // checked here, read where used: a 3.1.1 client's settings keep nothing of 5.0
  whole(options.sessionExpiry, 0, 0, 0xffffffff, "sessionExpiry");
  whole(options.maxTopicAliases, 8, 0, 65_535, "maxTopicAliases");
  whole(options.maxIncomingAliases, INCOMING_ALIASES, 0, 255, "maxIncomingAliases");
  return {
    host: options.host,
    port,
    tls,
    keepAlive,
    clean: options.clean ?? true,
    tickInterval: Math.max(20, Math.min(1000, keepAliveMs > 0 ? keepAliveMs / 4 : 1000, minDelay / 2)),
    connectTimeout,
    reconnect: reconnect !== false,
    minDelay,
    maxDelay: whole(backoff.maxDelay, 60_000, minDelay, 86_400_000, "reconnect.maxDelay"),
    stableAfter: whole(backoff.stableAfter, 10_000, 0, 86_400_000, "reconnect.stableAfter"),
    maxInflight: whole(options.maxInflight, 16, 1, 65_535, "maxInflight"),
    receiveBufferSize: whole(options.receiveBufferSize, 512, 16, 268_435_455, "receiveBufferSize"),
    transmitBufferSize: whole(options.transmitBufferSize, 1024, 64, 268_435_455, "transmitBufferSize"),
    outboxBytes: whole(options.outboxBytes, 1024, 0, 268_435_455, "outboxBytes"),
    outboxMessages: whole(options.outboxMessages, 16, 1, 65_535, "outboxMessages"),
    maxSubscriptions: whole(options.maxSubscriptions, 16, 1, 1024, "maxSubscriptions"),
    pipeline: flag(options.pipeline, "pipeline"),
    lastPacketId: whole(options.lastPacketId, 0, 0, 65_535, "lastPacketId"),
  };
}

/**
 * The TLS options as the `secure` options of Moddable's TLS socket take them
 * (examples/io/tcp/tlssocket/tlssocket.js over modules/crypt/ssl/ssl_cert.js): `certificate`
 * (the CA, DER), `clientCertificates` (an array of DER) and `clientKey` (PKCS #8 DER).
 * Throws "argument-invalid" for a bad value, or a certificate without its key (or the reverse).
 */
function tlsSettings(given: TlsOptions): TlsSettings {
  if (typeof given !== "object" || given === null) throw new MqttError("argument-invalid", "tls");
  const { ca, cert, key, serverName } = given;
  if (serverName !== undefined && (typeof serverName !== "string" || serverName.length === 0)) {
    throw new MqttError("argument-invalid", "tls.serverName");
  }
  if ((cert === undefined) !== (key === undefined)) throw new MqttError("argument-invalid", "tls.cert and tls.key: both or neither");
  const secure: SecureOptions = {};
  if (ca !== undefined) secure.certificate = derOf(ca, "CERTIFICATE", "tls.ca");
  if (cert !== undefined) {
    secure.clientCertificates = [derOf(cert, "CERTIFICATE", "tls.cert")];
    secure.clientKey = derOf(key, "PRIVATE KEY", "tls.key (PKCS #8)");
  }
  return { serverName, secure };
}

/**
 * Encodes the CONNECT packet the options describe at the start of `buf`; returns its length.
 * Throws an MqttError for a bad will, client id or credentials, or a buffer too small for it.
 * With protocolVersion 5 and `settings`, an MQTT 5.0 CONNECT: the client's Receive Maximum
 * is maxInflight, its Maximum Packet Size what the receive buffer holds [MQTT-3.1.2-24].
 */
export function encodeConnectPacket(options: ClientOptions, keepAlive: number, encoder: TextEncoderLike, buf: Uint8Array, settings?: Settings): number {
  const fields = connectFields(options, keepAlive, encoder);
  try {
    if (settings !== undefined && options.protocolVersion === 5) {
      const rx = settings.receiveBufferSize;
      const properties: Properties = {
        ...options.connectProperties, sessionExpiry: options.sessionExpiry, receiveMaximum: settings.maxInflight,
        maximumPacketSize: 1 + lengthFieldSize(rx) + rx, topicAliasMaximum: incomingAliases(options) || undefined,
      };
      if (fields.will !== undefined) fields.will = { ...fields.will, properties: options.will!.properties } as typeof fields.will;
      return options.mqtt5!.encodeConnect(buf, 0, { ...fields, properties });
    }
    return encodeConnect(buf, 0, fields);
  } catch (error) {
    if (error instanceof MqttError && error.code === "buffer-too-small") {
      throw new MqttError("buffer-too-small", "transmitBufferSize < CONNECT");
    }
    throw error;
  }
}

/** The CONNECT packet's fields: the strings encoded, the will's topic checked (throws an MqttError). */
function connectFields(options: ClientOptions, keepAlive: number, encoder: TextEncoderLike): ConnectFields {
  const will = options.will;
  const password = options.password;
  const fields: ConnectFields = {
    clientId: encoder.encode(options.clientId),
    clean: options.clean ?? true,
    keepAlive,
    username: options.username === undefined ? undefined : encoder.encode(options.username),
    password: password === undefined ? undefined : typeof password === "string" ? encoder.encode(password) : password,
  };
  if (will !== undefined) {
    const topic = prepareTopic(will.topic, encoder);
    const qos = will.qos ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new MqttError("qos-invalid", "will");
    fields.will = {
      topic,
      payload: typeof will.payload === "string" ? encoder.encode(will.payload) : will.payload,
      qos,
      retain: will.retain ?? false,
    };
  }
  return fields;
}

/** The 5.0 code of a protocolVersion 5 client (checkOptions made sure it is there), or undefined. */
export function mqtt5Of(options: ClientOptions): Mqtt5 | undefined {
  return options.protocolVersion === 5 ? options.mqtt5 : undefined;
}

/**
 * close()'s reason code and session expiry: checked by the 5.0 session, which keeps them for
 * DISCONNECT; a 3.1.1 client (`v5` undefined), whose DISCONNECT carries neither, refuses both.
 */
export function checkClose(v5: Session5 | undefined, reasonCode: number, sessionExpiry: number | undefined): void {
  if (v5 !== undefined) return v5.closing(reasonCode, sessionExpiry);
  if (reasonCode !== 0 || sessionExpiry !== undefined) throw new MqttError("argument-invalid", "a reason code and sessionExpiry need protocolVersion 5");
}

/**
 * The wait before reconnect attempt `failures + 1`, ms: full jitter between minDelay and a
 * cap that doubles per failure up to maxDelay; `random` is in [0, 1).
 */
export function reconnectDelay(settings: Settings, failures: number, random: number): number {
  const cap = Math.min(settings.maxDelay, settings.minDelay * 2 ** Math.min(failures, 30));
  return settings.minDelay + Math.floor(random * (cap - settings.minDelay));
}

/** publish()'s payload as bytes (a string is encoded); throws an MqttError for anything else. */
export function payloadBytes(payload: Uint8Array | string, encoder: TextEncoderLike): Uint8Array {
  const bytes = typeof payload === STRING ? encoder.encode(payload as string) : payload as Uint8Array;
  if (!(bytes instanceof Uint8Array)) throw new MqttError("argument-invalid", "payload");
  return bytes;
}

/** How many bytes of the payload go out: all of them, or `payloadLength` once checked against them. */
export function payloadLengthOf(bytes: Uint8Array, payloadLength: number | undefined): number {
  const length = payloadLength === undefined ? bytes.length : payloadLength;
  if (!Number.isInteger(length) || length < 0 || length > bytes.length) {
    throw new MqttError("argument-invalid", "payloadLength");
  }
  return length;
}

/** The QoS publish or subscribe options ask for (default 0); throws "qos-invalid" unless 0, 1 or 2. */
export function qosOf(options: { qos?: number } | undefined): number {
  const qos = options === undefined || options.qos === undefined ? 0 : options.qos;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new MqttError("qos-invalid");
  return qos;
}

/** subscribe()'s subscription identifier: 0 for none; throws an MqttError for a bad one, or any on 3.1.1. */
export function subscriptionIdOf(options: SubscribeOptions | undefined, v5: boolean): number {
  const id = options === undefined ? undefined : options.subscriptionIdentifier;
  if (id === undefined) return 0;
  if (!v5) throw new MqttError("argument-invalid", "subscriptionIdentifier needs protocolVersion 5");
  if (!isWhole(id, 1, 268_435_455)) throw new MqttError("argument-invalid", "subscriptionIdentifier: 1 to 268,435,455");
  return id;
}

/** Whether a value is a whole number from `min` to `max`: the one range check of every option, here and in device/app. */
export function isWhole(value: unknown, min: number, max: number): value is number {
  return typeof value === NUMBER && Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}

/** Reads an optional true/false option (default false). */
function flag(value: boolean | undefined, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw new MqttError("argument-invalid", name + " must be true or false");
  return value;
}

/** Reads an optional whole-number option, checking its range. */
function whole(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined) return fallback;
  if (!isWhole(value, min, max)) {
    throw new MqttError("argument-invalid", name + ": whole, " + min + "-" + max);
  }
  return value;
}
