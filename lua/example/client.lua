-- A tiny MQTT client in Lua: the client of device/mqtt (its session core: connect,
-- keepalive, reconnect, the outbox, QoS 1 and 2) compiled to Lua, over LuaSocket. It
-- connects, subscribes to a topic, publishes "hello from Lua" there with QoS 1, prints the
-- message the broker sends back as "topic: payload", and closes.
-- Usage (after npm run test:lua or node lua/build.mjs):
--   LUA_PATH="dist/lua/?.lua;;" lua5.4 lua/example/client.lua [host] [port] [topic]
-- At most 5 seconds; on an error (the client's code and message on stderr) or a timeout it
-- exits 1. The host must be an IP address (mqttio resolves no names).
local mqtt = require("xsmqtt")
local net = require("mqttio").new()

local host, port = arg[1] or "127.0.0.1", tonumber(arg[2] or "1883")
local topic = arg[3] or "xs-mqtt/lua/example"
local failed = false

local client
client = mqtt.client({
  host = host,
  port = port,
  clientId = "lua-example",
  io = net,
  onConnected = function()
    client:subscribe(topic, { qos = 1 }, function(message)
      print(message.topic .. ": " .. message:text())
      client:close()
    end)
    client:publish(topic, "hello from Lua", { qos = 1 })
  end,
  onError = function(err)
    io.stderr:write("client.lua: ", err.code, ": ", err.message, "\n")
    failed = true
    client:close()
  end,
})
client:connect()
net.run(5, function() return client.state == "closed" end)
if client.state ~= "closed" then
  io.stderr:write("client.lua: no message back within 5 s\n")
  os.exit(1)
end
os.exit(failed and 1 or 0)
