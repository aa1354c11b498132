-- The client's IO on Lua (what device/mqtt/io.ts describes), over LuaSocket: a TCP socket
-- class that behaves as Moddable's does for the client (onWritable once connected and when
-- room comes back, onReadable with the count waiting, read() filling the whole buffer or
-- throwing, write() taking all or throwing, onError on a failure or the peer's close), a
-- repeating Timer, UTF-8 text encoding, and the loop that drives them: a Lua program calls
-- io.run(seconds[, done]) and the client's callbacks run inside it.
-- Usage: local io = require("mqttio").new(); local client = mqtt.MqttClient.new({ ..., io = io })
-- One loop per io value; nothing is global. Host names are not resolved: give an IP address.
local socket = require("socket")

local New = require("lualib_bundle").__TS__New
local byte, char, concat, sub = string.byte, string.char, table.concat, string.sub

--- How many bytes a socket says it takes (Moddable's ESP32 window); more are queued.
local WINDOW = 8192

local M = {}

--- A class in TSTL's layout (what compiled code calls `new` on), with an empty constructor.
local function class(name)
  local c = { name = name }
  c.prototype = { constructor = c, ____constructor = function() end }
  c.prototype.__index = c.prototype
  return c
end

--- bytes[0 .. count-1] of an ArrayBuffer or a typed array, as a Lua string
local function toString(bytes, count)
  local parts = {}
  for i = 0, count - 1 do parts[i + 1] = char(bytes[i]) end
  return concat(parts)
end

function M.new()
  local io = {}
  local sockets = {} -- the open sockets, by their LuaSocket object
  local timers = {} -- the repeating timers, in creation order
  local function now() return socket.gettime() * 1000 end

  -- ---------------------------------------------------------------- TCP
  local TCP = class("TCP")

  function TCP.prototype.____constructor(self, options)
    self.options = options
    self.pending = "" -- received, not yet read
    self.queued = "" -- written, not yet taken by the kernel
    local tcp = assert(socket.tcp())
    tcp:settimeout(0)
    local ok, err = tcp:connect(options.address, options.port)
    if not ok and err ~= "timeout" and err ~= "Operation already in progress" then
      error("connect to " .. tostring(options.address) .. ":" .. tostring(options.port) .. ": " .. tostring(err))
    end
    if options.nodelay then tcp:setoption("tcp-nodelay", true) end
    self.tcp = tcp
    self.connected = false
    sockets[tcp] = self
  end

  function TCP.prototype.read(self, buffer)
    local count = buffer.length
    local pending = self.pending
    if #pending == 0 then return nil end
    if #pending < count then error("read: " .. count .. " bytes asked, " .. #pending .. " waiting") end
    for i = 1, count do buffer[i - 1] = byte(pending, i) end -- a typed array or a view: indexed alike
    self.pending = sub(pending, count + 1)
    return count
  end

  function TCP.prototype.write(self, buffer)
    if self.tcp == nil then return nil end
    local count = buffer.byteLength or buffer.length
    local data = toString(getmetatable(buffer) == ArrayBuffer.prototype and buffer.store or buffer, count)
    if #self.queued + count > WINDOW then error("write: " .. count .. " bytes, room for " .. (WINDOW - #self.queued)) end
    self.queued = self.queued .. data
    self:flush()
    return WINDOW - #self.queued
  end

  function TCP.prototype.flush(self)
    if #self.queued == 0 or not self.connected then return end
    local sent, err, last = self.tcp:send(self.queued)
    sent = sent or last or 0
    self.queued = sub(self.queued, sent + 1)
    if err ~= nil and err ~= "timeout" then self:fail(err) end
  end

  function TCP.prototype.close(self)
    if self.tcp == nil then return end
    sockets[self.tcp] = nil
    self.tcp:close()
    self.tcp = nil
  end

  function TCP.prototype.fail(self, message)
    if self.tcp == nil then return end
    self:close()
    local onError = self.options.onError
    if onError ~= nil then onError(self, message) end
  end

  io.TCP = TCP

  -- ---------------------------------------------------------------- Timer
  local Timer = {}
  Timer["repeat"] = function(_, callback, interval)
    local timer = { callback = callback, interval = interval, due = now() + interval }
    timers[#timers + 1] = timer
    return timer
  end
  function Timer.clear(_, timer)
    for i = #timers, 1, -1 do
      if timers[i] == timer then table.remove(timers, i) end
    end
  end
  io.Timer = Timer

  -- ---------------------------------------------------------------- text (Lua strings are bytes)
  local TextEncoder = class("TextEncoder")
  function TextEncoder.prototype.encode(_, text)
    local out = New(Uint8Array, #text)
    for i = 1, #text do out[i - 1] = byte(text, i) end
    return out
  end
  function TextEncoder.prototype.encodeInto(_, text, into)
    local n = math.min(#text, into.length)
    for i = 1, n do into[i - 1] = byte(text, i) end
    return { read = n, written = n }
  end
  io.TextEncoder = TextEncoder

  local TextDecoder = class("TextDecoder")
  function TextDecoder.prototype.decode(_, bytes)
    return toString(bytes, bytes.length)
  end
  io.TextDecoder = TextDecoder

  -- called as methods (`io:random()`): the argument is the io table, not a range
  io.now = function() return now() end
  io.random = function() return math.random() end

  --- Runs the sockets and timers for up to `seconds`, or until `done()` is true.
  function io.run(seconds, done)
    local deadline = now() + seconds * 1000
    while (done == nil or not done()) and now() < deadline do
      local readers, writers = {}, {}
      for tcp, sock in pairs(sockets) do
        readers[#readers + 1] = tcp
        if not sock.connected or #sock.queued > 0 then writers[#writers + 1] = tcp end
      end
      local wait = math.max(0, deadline - now())
      for _, timer in ipairs(timers) do wait = math.min(wait, math.max(0, timer.due - now())) end
      local readable, writable = socket.select(readers, writers, math.min(wait, 50) / 1000)
      for _, tcp in ipairs(writable) do
        local sock = sockets[tcp]
        if sock ~= nil and not sock.connected then
          if tcp:getpeername() == nil then
            sock:fail("connection refused")
          else
            sock.connected = true
            local onWritable = sock.options.onWritable
            if onWritable ~= nil then onWritable(sock, WINDOW - #sock.queued) end
          end
        elseif sock ~= nil then
          local before = #sock.queued
          sock:flush()
          local onWritable = sock.options.onWritable
          if sockets[tcp] ~= nil and #sock.queued < before and onWritable ~= nil then onWritable(sock, WINDOW - #sock.queued) end
        end
      end
      for _, tcp in ipairs(readable) do
        local sock = sockets[tcp]
        if sock ~= nil and sock.connected then
          local data, err, partial = tcp:receive(8192)
          data = data or partial
          if data ~= nil and #data > 0 then
            sock.pending = sock.pending .. data
            local onReadable = sock.options.onReadable
            if onReadable ~= nil then onReadable(sock, #sock.pending) end
          end
          if err == "closed" then sock:fail("closed") end
        end
      end
      local time = now()
      for _, timer in ipairs({ table.unpack(timers) }) do
        if timer.due <= time then
          timer.due = time + timer.interval
          timer.callback(timer)
        end
      end
    end
  end

  return io
end

return M
