/*
 * The entry of the Lua target (lua/build.mjs compiles it with typescript-to-lua into
 * dist/lua/lua/codec.lua): the MQTT 3.1.1 codec of device/mqtt, re-exported as it is.
 * Must not add code: device/ stays the one source; Lua's own helpers are in lua/shim/.
 */
export * from "../device/mqtt/encode.js";
export * from "../device/mqtt/decode.js";
export * from "../device/mqtt/topic.js";
export * from "../device/mqtt/utf8.js";
export * from "../device/mqtt/errors.js";
export * from "../device/mqtt/constants.js";
