-- A tiny MQTT 3.1.1 client in Lua over LuaSocket, on the codec compiled from device/mqtt:
-- it connects, subscribes to a topic (QoS 1), publishes "hello from Lua" there (QoS 1),
-- prints the message the broker sends back as "topic: payload", and disconnects.
-- Usage (after npm run test:lua or node lua/build.mjs):
--   LUA_PATH="dist/lua/?.lua;;" lua5.4 lua/example/pubsub.lua [host] [port] [topic]
-- Every wait is bounded (5 s in all); on a refusal, an error or a timeout it prints why on
-- stderr and exits 1. One connection, blocking reads with a short timeout: no threads.
local socket = require("socket")
local mqtt = require("xsmqtt")

local host, port = arg[1] or "127.0.0.1", tonumber(arg[2] or "1883")
local topicName = arg[3] or "xs-mqtt/lua/example"
local deadline = socket.gettime() + 5

local function fail(why)
  io.stderr:write("pubsub.lua: ", why, "\n")
  os.exit(1)
end

-- codec calls throw an MqttError (a table with `code` and `message`): say which
local function check(ok, result)
  if ok then return result end
  fail(type(result) == "table" and (tostring(result.code) .. ": " .. tostring(result.message)) or tostring(result))
end

local tcp = assert(socket.tcp())
tcp:settimeout(5)
local ok, err = tcp:connect(host, port)
if not ok then fail("connect to " .. host .. ":" .. port .. ": " .. err) end
tcp:setoption("tcp-nodelay", true)
tcp:settimeout(0.05)

local out = mqtt.buffer(512)
local decoder = mqtt.decoder(1024)

local function send(length)
  local sent, why = tcp:send(mqtt.text(out, 0, length))
  if sent ~= length then fail("send: " .. tostring(why)) end
end

-- the next packet from the broker: its type (fields on `decoder`), until the deadline
local function nextPacket()
  while true do
    local packetType = check(pcall(decoder.next, decoder))
    if packetType ~= mqtt.NEED_MORE then return packetType end
    if socket.gettime() > deadline then fail("timed out waiting for the broker") end
    local data, why, partial = tcp:receive(4096)
    data = data or partial
    if why == "closed" then fail("the broker closed the connection") end
    if data ~= nil and #data > 0 then
      local chunk = mqtt.bytes(data)
      decoder:feed(chunk, 0, chunk.length)
    end
  end
end

-- CONNECT, then its CONNACK [MQTT-3.2.2]
send(check(pcall(mqtt.encodeConnect, out, 0, { clientId = mqtt.bytes("lua-example"), clean = true, keepAlive = 30 })))
if nextPacket() ~= mqtt.CONNACK then fail("no CONNACK first") end
if decoder.returnCode ~= 0 then fail("refused: " .. mqtt.connackRefusal(decoder.returnCode)) end

-- SUBSCRIBE (packet id 1), then its SUBACK
local filter = check(pcall(mqtt.prepareFilter, topicName, mqtt.encoder))
send(check(pcall(mqtt.encodeSubscribe, out, 0, 1, { { filter = filter, qos = 1 } })))
if nextPacket() ~= mqtt.SUBACK or decoder.packetId ~= 1 then fail("no SUBACK") end
if decoder.buf[decoder.codesOffset] == mqtt.SUBACK_FAILURE then fail("subscription refused") end

-- PUBLISH QoS 1 (packet id 2): the broker acknowledges it and sends it back to us
local topic = check(pcall(mqtt.prepareTopic, topicName, mqtt.encoder))
send(check(pcall(mqtt.encodePublish, out, 0, topic, mqtt.bytes("hello from Lua"), 1, false, false, 2)))
local acknowledged, received = false, false
while not (acknowledged and received) do
  local packetType = nextPacket()
  if packetType == mqtt.PUBACK and decoder.packetId == 2 then
    acknowledged = true
  elseif packetType == mqtt.PUBLISH then
    print(mqtt.text(decoder.buf, decoder.topicOffset, decoder.topicLength) .. ": " ..
      mqtt.text(decoder.buf, decoder.payloadOffset, decoder.payloadLength))
    received = true
    if decoder.qos == 1 then send(mqtt.encodePuback(out, 0, decoder.packetId)) end
  end
end

send(mqtt.encodeDisconnect(out, 0))
tcp:close()
