/*
 * The Lua target's second entry (lua/build.mjs compiles it into dist/lua/lua/client.lua):
 * the MQTT 3.1.1 client of device/mqtt, its session core (connect, keepalive, reconnect,
 * outbox, subscriptions, QoS 1 and 2) over the IO a Lua program hands it (lua/shim/mqttio.lua
 * over LuaSocket). Must not add code: device/ stays the one source.
 */
export { MqttClient } from "../device/mqtt/client.js";
