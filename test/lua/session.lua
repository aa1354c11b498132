-- The client compiled to Lua (dist/lua/lua/client.lua) over LuaSocket, through a broker
-- test/lua.test.ts starts on 127.0.0.1: the subscription table with holes in it, and QoS 2
-- both ways. Prints one line per event; the test compares them. Each step is bounded (5 s).
-- Usage: lua5.4 test/lua/session.lua <dist/lua> <port> <topic prefix>
-- Steps: subscribe a, b, c, d and e; unsubscribe b, d and e (free slots around used ones:
-- TSTL's arrays are Lua sequences, whose length `#` may end at the first hole, here before c); subscribe c again with a new handler, which must
-- replace the first [MQTT-3.8.4-3]; publish QoS 2 to c and to a, each delivered once to its
-- current handler [MQTT-4.3.3-2]; then, once it prints "restart the broker" (the test
-- restarts it on the same port), lose the connection, publish QoS 1 to a while away
-- (queued), reconnect on its own with its subscriptions renewed, and get that message; close.
local dir, port, prefix = arg[1], tonumber(arg[2]), arg[3]
package.path = dir .. "/?.lua;" .. package.path
local mqtt = require("xsmqtt")
local net = require("mqttio").new()

local events = 0
local lastError, away = nil, false
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
  onConnected = function(sessionPresent)
    lastError = nil
    say("connected, session present " .. tostring(sessionPresent))
  end,
  onSubscribed = function(filter, qos) say("subscribed " .. filter:sub(#prefix + 2) .. " qos " .. qos) end,
  onUnsubscribed = function(filter) say("unsubscribed " .. filter:sub(#prefix + 2)) end,
  onDisconnected = function(reason) say("disconnected: " .. reason.code) end,
  -- a failed attempt while the broker restarts repeats the error: said once
  onError = function(err)
    if err.code ~= lastError then say("error " .. err.code) end
    lastError = err.code
  end,
  reconnect = { minDelay = 100, maxDelay = 500 },
})

local function handler(name)
  return function(message)
    say(name .. " got " .. message.topic:sub(#prefix + 2) .. " qos " .. message.qos .. ": " .. message:text())
    if message:text() == "while away" then away = true end
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
say("restart the broker")
step(2, "the connection's loss (an error and a disconnect)")
say("publish a: " .. client:publish(prefix .. "/a", "while away", { qos = 1 }))
net.run(10, function() return away end)
if not away then
  print("timed out waiting for the reconnection and the queued message")
  os.exit(1)
end
client:close()
net.run(5, function() return client.state == "closed" end)
say("state " .. client.state)
