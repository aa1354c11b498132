-- The Lua face of the client: require("xsmqtt") loads the typed-array shim, then the codec
-- and the client compiled from device/mqtt (dist/lua/lua/codec.lua, client.lua): the
-- codec's exports and MqttClient, and client(options) for `new MqttClient(options)` (its IO:
-- require("mqttio").new()). For a program that drives the codec itself it adds buffer(n)
-- and decoder(size) (JavaScript's `new`), bytes(s) and an encoder for prepareTopic and
-- prepareFilter (a Lua string already is bytes: UTF-8 source text stays UTF-8), and
-- text(buf, offset, length) back to a string.
-- Must not hold state: every client keeps its own buffers.
require("typedarray")
local codec = require("lua.codec")
local New = require("lualib_bundle").__TS__New
codec.MqttClient = require("lua.client").MqttClient

local Uint8Array = Uint8Array
local byte, char, concat = string.byte, string.char, table.concat

--- new Uint8Array(n): n zero bytes.
function codec.buffer(n)
  return New(Uint8Array, n)
end

--- new MqttClient(options): the client (docs/client.md), `options.io` from require("mqttio").new().
function codec.client(options)
  return New(codec.MqttClient, options)
end

--- new PacketDecoder(size): a stream decoder with a receive buffer of `size` bytes.
function codec.decoder(size)
  return New(codec.PacketDecoder, size)
end

--- A Uint8Array holding the bytes of the Lua string `s`.
function codec.bytes(s)
  local n = #s
  local out = setmetatable({ length = n }, Uint8Array.prototype)
  for i = 1, n do out[i - 1] = byte(s, i) end
  return out
end

--- buf[offset .. offset+length-1] as a Lua string.
function codec.text(buf, offset, length)
  local parts = {}
  for i = 0, length - 1 do parts[i + 1] = char(buf[offset + i]) end
  return concat(parts)
end

--- What prepareTopic and prepareFilter call: encoder:encode(s).
codec.encoder = { encode = function(_, s) return codec.bytes(s) end }

return codec
