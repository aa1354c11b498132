-- The client compiled to Lua (dist/lua/lua/client.lua) over LuaSocket, through a broker
-- test/lua.test.ts starts on 127.0.0.1: the subscription table with holes in it, and QoS 2
-- both ways. Prints one line per event; the test compares them. Each step is bounded (5 s).
-- Usage: lua5.4 test/lua/session.lua <dist/lua> <port> <topic prefix>
-- Steps: subscribe a, b, c, d and e; unsubscribe b, d and e (free slots around used ones:
-- TSTL's arrays are Lua sequences, whose length `#` may end at the first hole, here before c); subscribe c again with a new handler, which must
-- replace the first [MQTT-3.8.4-3]; publish QoS 2 to c and to a, each delivered once to its
-- current handler [MQTT-4.3.3-2]; close.
local dir, port, prefix = arg[1], tonumber(arg[2]), arg[3]
package.path = dir .. "/?.lua;" .. package.path
local mqtt = require("xsmqtt")
local net = require("mqttio").new()

local events = 0
local function say(line)
  print(line)
  events = events + 1
end

local function step(count, what)
  local target = events + count
  net.run(5, function() return events >= target end)
  if events < target then
    print("timed out waiting for " .. what)
    os.exit(1)
  end
end

local client = mqtt.client({
  host = "127.0.0.1",
  port = port,
  clientId = prefix:gsub("/", "-"),
  io = net,
  onConnected = function(sessionPresent) say("connected, session present " .. tostring(sessionPresent)) end,
  onSubscribed = function(filter, qos) say("subscribed " .. filter:sub(#prefix + 2) .. " qos " .. qos) end,
  onUnsubscribed = function(filter) say("unsubscribed " .. filter:sub(#prefix + 2)) end,
  onError = function(err) say("error " .. err.code .. ": " .. err.message) end,
})

local function handler(name)
  return function(message)
    say(name .. " got " .. message.topic:sub(#prefix + 2) .. " qos " .. message.qos .. ": " .. message:text())
  end
end

client:connect()
step(1, "CONNACK")
for _, name in ipairs({ "a", "b", "c", "d", "e" }) do client:subscribe(prefix .. "/" .. name, { qos = 2 }, handler("first " .. name)) end
step(5, "5 SUBACKs")
for _, name in ipairs({ "b", "d", "e" }) do client:unsubscribe(prefix .. "/" .. name) end
step(3, "3 UNSUBACKs")
client:subscribe(prefix .. "/c", { qos = 2 }, handler("second c"))
step(1, "the SUBACK of c again")
say("publish c: " .. client:publish(prefix .. "/c", "to c", { qos = 2 }))
step(1, "the message on c")
say("publish a: " .. client:publish(prefix .. "/a", "to a", { qos = 2 }))
step(1, "the message on a")
net.run(0.3) -- a second delivery would come now
client:close()
net.run(5, function() return client.state == "closed" end)
say("state " .. client.state)
