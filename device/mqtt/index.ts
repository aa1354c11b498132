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
export { MqttClient } from "./client.js";
export { isWhole } from "./options.js";
export { TX_RESERVE } from "./transmit.js";
export type {
  ClientOptions, ClientState, ClientStats, MessageHandler, PublishOptions, PublishStatus, ReconnectOptions,
  SubscribeOptions, TlsOptions, WillOptions,
} from "./options.js";
export { Message } from "./message.js";
export type {
  ClientIo, Resolver, SecureOptions, Socket, SocketClass, SocketOptions, TextDecoderLike, TextEncoderLike, TimerId, TimerModule,
} from "./io.js";
