/*
 * The client library's public entry (bundled as dist/xs-mqtt.js): the codec, topics and
 * errors. Re-exports only; nothing here runs at load time.
 */

export * from "./constants.js";
export { MqttError, isMqttError } from "./errors.js";
export type { ErrorCode } from "./errors.js";
export { checkUtf8, UTF8_OK, UTF8_INVALID, UTF8_NULL } from "./utf8.js";
export {
  isValidTopicName, isValidTopicFilter, topicMatches, prepareTopic, prepareFilter,
} from "./topic.js";
export type { PreparedTopic, Utf8Encoder } from "./topic.js";
export {
  encodeConnect, encodePublish, encodePuback, encodePubrec, encodePubrel, encodePubcomp,
  encodeSubscribe, encodeUnsubscribe, encodePingreq, encodeDisconnect, lengthFieldSize, publishSize,
} from "./encode.js";
export type { ConnectFields, SubscribeFilter, Will } from "./encode.js";
export { PacketDecoder, NEED_MORE, OVERSIZE } from "./decode.js";
export {
  encodeConnect5, encodePublish5, encodeAck5, encodeSubscribe5, encodeUnsubscribe5, encodeDisconnect5, encodeAuth,
  publishSize5,
} from "./encode5.js";
export type { Connect5Fields, SubscribeFilter5, Will5 } from "./encode5.js";
export { PacketDecoder5 } from "./decode5.js";
export { mqtt5 } from "./mqtt5.js";
export type { Mqtt5 } from "./mqtt5.js";
export type { Session5, AuthHandler } from "./session5.js";
export { Message5 } from "./message5.js";
export * from "./reasons.js";
export {
  PROP_PAYLOAD_FORMAT, PROP_MESSAGE_EXPIRY, PROP_CONTENT_TYPE, PROP_RESPONSE_TOPIC, PROP_CORRELATION_DATA,
  PROP_SUBSCRIPTION_ID, PROP_SESSION_EXPIRY, PROP_ASSIGNED_CLIENT_ID, PROP_SERVER_KEEPALIVE, PROP_AUTH_METHOD,
  PROP_AUTH_DATA, PROP_REQUEST_PROBLEM_INFO, PROP_WILL_DELAY, PROP_REQUEST_RESPONSE_INFO, PROP_RESPONSE_INFO,
  PROP_SERVER_REFERENCE, PROP_REASON_STRING, PROP_RECEIVE_MAXIMUM, PROP_TOPIC_ALIAS_MAXIMUM, PROP_TOPIC_ALIAS,
  PROP_MAXIMUM_QOS, PROP_RETAIN_AVAILABLE, PROP_USER_PROPERTY, PROP_MAXIMUM_PACKET_SIZE, PROP_WILDCARD_AVAILABLE,
  PROP_SUBSCRIPTION_ID_AVAILABLE, PROP_SHARED_AVAILABLE, propertiesSize, varIntSize, writeVarInt,
} from "./props.js";
export type { Properties, UserProperty } from "./props.js";
export { MqttClient } from "./client.js";
export { isWhole } from "./options.js";
export { TX_RESERVE } from "./transmit.js";
export { Ticker } from "./keepalive.js";
export type {
  ClientOptions, ClientState, ClientStats, MessageHandler, PublishOptions, PublishStatus, ReconnectOptions,
  SubscribeOptions, TlsOptions, WillOptions,
} from "./options.js";
export { Message } from "./message.js";
export type {
  ClientIo, Resolver, SecureOptions, Socket, SocketClass, SocketOptions, TextDecoderLike, TextEncoderLike, TimerId, TimerModule,
} from "./io.js";
