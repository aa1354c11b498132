-- The Lua half of `npm run bench:lua` (bench/lua.mjs runs it): the codec compiled to Lua
-- (dist/lua/) encoding and decoding one 64-byte QoS 0 PUBLISH, and what the typed-array
-- shim costs on its own. In memory only: no sockets, no files written.
-- Usage: lua5.4 bench/lua-codec.lua <dist/lua> <milliseconds per round> <rounds>
-- Prints one JSON line per case: {"case":..,"per_s":..,"ns":..,"bytes_allocated":..}
-- where per_s is the median round's rate, ns its time per operation, and bytes_allocated
-- the Lua heap allocated per operation (collectgarbage("count") across a round, the
-- collector stopped).
local dir, ms, rounds = arg[1] or "dist/lua", tonumber(arg[2] or "400"), tonumber(arg[3] or "5")
package.path = dir .. "/?.lua;" .. package.path
local mqtt = require("xsmqtt")
local New = require("lualib_bundle").__TS__New -- `new` as compiled code does it

local TOPIC = "sensors/node-1/temp" -- 19 bytes: 2 + 2 + 19 + 41 = 64 bytes with the header
local PAYLOAD = 41
local topic = mqtt.prepareTopic(TOPIC, mqtt.encoder)
local payload = mqtt.bytes(string.rep("*", PAYLOAD))
local buf = mqtt.bytes(string.rep("\0", 256))
local size = mqtt.encodePublish(buf, 0, topic, payload, 0, false, false, 0)
assert(size == 64, "the PUBLISH is " .. size .. " bytes, not 64")
local packet = buf:slice(0, 64)
local decoder = New(mqtt.PacketDecoder, 256)
local view = New(Uint8Array, New(ArrayBuffer, 128, { maxByteLength = 128 }))
view:set(packet, 0)
local PUBLISH, NEED_MORE = mqtt.PUBLISH, mqtt.NEED_MORE
local encodePublish = mqtt.encodePublish
local clock = os.clock
local sink = 0

--- A case reading 64 bytes of `array` one by one.
local function reader(array)
  return function(n)
    for _ = 1, n do
      local s = 0
      for i = 0, 63 do s = s + array[i] end
      sink = sink + s
    end
  end
end

local cases = {
  { "encode-publish-64", function(n)
    for _ = 1, n do sink = sink + encodePublish(buf, 0, topic, payload, 0, false, false, 0) end
  end },
  { "decode-publish-64", function(n)
    for _ = 1, n do
      decoder:feed(packet, 0, 64)
      if decoder:next() ~= PUBLISH then error("not a PUBLISH") end
      sink = sink + decoder.payloadLength
      if decoder:next() ~= NEED_MORE then error("more than one packet") end
    end
  end },
  -- the shim alone: what the codec's buffers cost in Lua
  { "shim-new-uint8array-64", function(n)
    for _ = 1, n do sink = sink + New(Uint8Array, 64).length end
  end },
  { "shim-copy-64", function(n)
    for _ = 1, n do buf:set(packet, 0) end
  end },
  { "shim-read-64", reader(packet) },
  -- a view over an ArrayBuffer, as the client's receive chunk and tables are: metamethods
  { "shim-view-read-64", reader(view) },
}

--- Operations per round of about `ms`, found by doubling.
local function calibrate(run)
  local n = 1
  while true do
    local t = clock()
    run(n)
    local elapsed = clock() - t
    if elapsed * 1000 >= ms / 4 then return math.max(1, math.floor(n * ms / (elapsed * 1000))) end
    n = n * 2
  end
end

for _, case in ipairs(cases) do
  local name, run = case[1], case[2]
  local n = calibrate(run)
  local rates = {}
  local allocated
  for r = 1, rounds do
    collectgarbage("collect")
    collectgarbage("stop")
    local before = collectgarbage("count")
    local t = clock()
    run(n)
    local elapsed = clock() - t
    local kb = collectgarbage("count") - before
    collectgarbage("restart")
    rates[r] = n / elapsed
    local bytes = kb * 1024 / n
    allocated = allocated == nil and bytes or math.min(allocated, bytes)
  end
  table.sort(rates)
  local median = rates[(rounds + 1) // 2]
  print(string.format('{"case":"%s","per_s":%d,"ns":%.1f,"bytes_allocated":%.1f}', name, math.floor(median), 1e9 / median, allocated))
end
if sink == 0.5 then print(sink) end
