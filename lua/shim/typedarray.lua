-- The JavaScript globals the code compiled by typescript-to-lua uses and TSTL's lualib
-- lacks: ArrayBuffer (resizable too), Uint8Array, Uint16Array and Uint32Array (the subset
-- the codec, the client and the vector runner call), JSON.stringify (for strings and
-- numbers: error details and test labels), and for lua/build.mjs's translations
-- __JS_Truthy (JavaScript's truth of a value) and __JS_TypeOf (`typeof`, "function" for a
-- class). Loading this file sets those globals; it must not change any other.
--
-- A Uint8Array made from a length is a Lua table holding its bytes at integer keys 0 ..
-- length-1, with a `length` field and Uint8Array.prototype as metatable (TSTL's class
-- layout, so `new`, `instanceof` and method calls work): the codec's `buf[i]` is a plain
-- table access. A view (subarray(), or any typed array over an ArrayBuffer) is a table
-- whose reads and writes go through metamethods to the bytes it shares: correct, slower.
-- Differences from JavaScript, none of which the code relies on (test/lua.test.ts runs the
-- same vectors and a seeded fuzz under Lua, and the client against mosquitto):
--   * a write into a plain Uint8Array stores the value as given: no wrap to 0..255, and a
--     write past the end is stored, not dropped (the codec writes bytes, after checking room);
--   * a value written into a view must be an integer (JavaScript would truncate a fraction).

local floor = math.floor
local tointeger = math.tointeger
local move = table.move

local function whole(value, what)
  local n = tointeger(value)
  if n == nil or n < 0 then error("RangeError: " .. what .. ": not a length: " .. tostring(value), 3) end
  return n
end

-- ---------------------------------------------------------------- ArrayBuffer

local ArrayBuffer = { name = "ArrayBuffer" }
ArrayBuffer.prototype = { constructor = ArrayBuffer }
ArrayBuffer.prototype.__index = ArrayBuffer.prototype

-- new ArrayBuffer(length[, { maxByteLength }]): `store` holds bytes 0 .. maxByteLength-1
function ArrayBuffer.prototype.____constructor(self, length, options)
  local n = whole(length or 0, "ArrayBuffer")
  local max = options ~= nil and options.maxByteLength ~= nil and whole(options.maxByteLength, "maxByteLength") or n
  if max < n then error("RangeError: maxByteLength below the length", 2) end
  local store = {}
  for i = 0, max - 1 do store[i] = 0 end
  self.store = store
  self.byteLength = n
  self.maxByteLength = max
  self.resizable = options ~= nil and options.maxByteLength ~= nil
end

-- bytes cut off are zero when the buffer grows again, as in JavaScript
function ArrayBuffer.prototype.resize(self, length)
  local n = whole(length, "resize")
  if not self.resizable or n > self.maxByteLength then error("RangeError: resize beyond maxByteLength", 2) end
  local store = self.store
  for i = n, self.byteLength - 1 do store[i] = 0 end
  self.byteLength = n
end

-- ---------------------------------------------------------------- typed arrays

-- relative index as JavaScript's: negative counts from the end, clamped to 0 .. length
local function clamp(index, length, default)
  if index == nil then return default end
  index = floor(index)
  if index < 0 then index = index + length; if index < 0 then index = 0 end end
  if index > length then index = length end
  return index
end

-- the range [first, last) of a typed array as slice(), subarray() and fill() read it: its start and size
local function range(self, first, last)
  local length = self.length
  first = clamp(first, length, 0)
  last = clamp(last, length, length)
  return first, last > first and last - first or 0
end

-- the methods every typed array class shares, on each class's prototype
local shared = {}

function shared.fill(self, value, first, last)
  local n
  first, n = range(self, first, last)
  for i = first, first + n - 1 do self[i] = value end
  return self
end

function shared.indexOf(self, value, from)
  local length = self.length
  for i = clamp(from, length, 0), length - 1 do
    if self[i] == value then return i end
  end
  return -1
end

function shared.copyWithin(self, target, first, last)
  local length = self.length
  target = clamp(target, length, 0)
  local n
  first, n = range(self, first, last)
  if target + n > length then n = length - target end
  local copy = {}
  for i = 0, n - 1 do copy[i] = self[first + i] end
  for i = 0, n - 1 do self[target + i] = copy[i] end
  return self
end

-- One typed array class: plain-table instances when `plain`, views otherwise. A view's raw
-- fields: `store` (the byte table), `offset` (a byte offset into it), `fixed` (its length,
-- or false to track its ArrayBuffer's), `source` (the ArrayBuffer, or false for a subarray
-- of a plain Uint8Array).
local function typedArrayClass(name, size, plain)
  local class = { name = name, BYTES_PER_ELEMENT = size }
  local prototype = { constructor = class }
  for key, method in pairs(shared) do prototype[key] = method end
  class.prototype = prototype
  prototype.__index = prototype

  local mask = (1 << (8 * size)) - 1
  local view = {}
  class.view = view

  -- (a view's raw fields are read as self.x: present, they reach no metamethod; `fixed` and
  -- `source` are false, not nil, when absent)
  local function length(self)
    local fixed, source = self.fixed, self.source
    if not source then return fixed end
    local room = source.byteLength - self.offset
    if not fixed then return room >= 0 and room // size or 0 end
    return fixed * size <= room and fixed or 0 -- out of bounds once its buffer shrank
  end

  local get, set
  if size == 1 then
    get = function(store, at) return store[at] end
    set = function(store, at, value) store[at] = value & 0xff end
  elseif size == 2 then
    get = function(store, at) return store[at] | store[at + 1] << 8 end
    set = function(store, at, value)
      value = value & mask
      store[at], store[at + 1] = value & 0xff, value >> 8
    end
  else
    get = function(store, at) return store[at] | store[at + 1] << 8 | store[at + 2] << 16 | store[at + 3] << 24 end
    set = function(store, at, value)
      value = value & mask
      store[at], store[at + 1], store[at + 2], store[at + 3] = value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, value >> 24
    end
  end

  view.__index = function(self, key)
    if type(key) == "number" then
      -- length(self), inline: this is every byte the client reads from its buffers
      local fixed, source, offset = self.fixed, self.source, self.offset
      local n = fixed
      if source then
        local room = source.byteLength - offset
        if not fixed then n = room >= 0 and room // size or 0 elseif fixed * size > room then n = 0 end
      end
      if key >= 0 and key < n then
        if size == 1 then return self.store[offset + key] end
        return get(self.store, offset + key * size)
      end
      return nil
    elseif key == "length" then
      return length(self)
    elseif key == "buffer" then
      return self.source or nil
    elseif key == "byteOffset" then
      return self.offset
    elseif key == "byteLength" then
      return length(self) * size
    end
    return prototype[key]
  end
  view.__newindex = function(self, key, value)
    if type(key) == "number" then
      if key >= 0 and key < length(self) then set(self.store, self.offset + key * size, value) end
      return
    end
    rawset(self, key, value)
  end

  local function makeView(self, store, offset, fixed, source)
    setmetatable(self, view)
    rawset(self, "store", store)
    rawset(self, "offset", offset)
    rawset(self, "fixed", fixed or false)
    rawset(self, "source", source or false)
    return self
  end

  -- new X(length) (zeros), new X(buffer[, byteOffset[, length]]) (a view), new X(typed
  -- array) (a copy) or new X(sequence) (a copy of a Lua sequence, 1-based, as TSTL emits arrays)
  function prototype.____constructor(self, source, byteOffset, count)
    if plain and type(source) == "number" then -- the common case first: new Uint8Array(n)
      local n = whole(source, name)
      for i = 0, n - 1 do self[i] = 0 end
      self.length = n
      return
    end
    if getmetatable(source) == ArrayBuffer.prototype then
      local offset = whole(byteOffset or 0, name .. " offset")
      if offset % size ~= 0 then error("RangeError: " .. name .. " offset not a multiple of " .. size, 2) end
      local fixed = count ~= nil and whole(count, name .. " length") or nil
      if not source.resizable and fixed == nil then fixed = (source.byteLength - offset) // size end
      if fixed ~= nil and offset + fixed * size > source.byteLength then error("RangeError: " .. name .. " past its buffer", 2) end
      makeView(self, source.store, offset, fixed, source)
      return
    end
    local n
    if type(source) == "number" or source == nil then
      n = whole(source or 0, name)
    elseif type(source) == "table" and source.length ~= nil then
      n = source.length
    elseif type(source) == "table" then
      n = #source
    else
      error("TypeError: " .. name .. ": unsupported source " .. type(source), 2)
    end
    if not plain then
      local buffer = setmetatable({}, ArrayBuffer.prototype)
      buffer:____constructor(n * size)
      makeView(self, buffer.store, 0, n, buffer)
    else
      for i = 0, n - 1 do self[i] = 0 end
      self.length = n
    end
    if type(source) == "table" and source.length ~= nil then
      for i = 0, n - 1 do self[i] = source[i] end
    elseif type(source) == "table" then
      for i = 1, n do self[i - 1] = source[i] & mask end
    end
  end

  function prototype.set(self, source, offset)
    offset = offset or 0
    local n = source.length
    local sequence = n == nil
    if sequence then n = #source end
    if offset < 0 or offset + n > self.length then error("RangeError: offset is out of bounds", 2) end
    if n == 0 then return end
    if sequence then
      for i = 1, n do self[offset + i - 1] = source[i] end
    elseif getmetatable(self) == prototype and getmetatable(source) == prototype and not rawequal(source, self) then
      move(source, 0, n - 1, offset, self)
    else
      -- a view may share bytes with the source: copy through a temporary, as JavaScript does
      local copy = {}
      for i = 0, n - 1 do copy[i] = source[i] end
      for i = 0, n - 1 do self[offset + i] = copy[i] end
    end
  end

  function prototype.slice(self, first, last)
    local n
    first, n = range(self, first, last)
    local out = setmetatable({}, prototype)
    out:____constructor(n)
    for i = 0, n - 1 do out[i] = self[first + i] end
    return out
  end

  function prototype.subarray(self, first, last)
    local n
    first, n = range(self, first, last)
    local out = setmetatable({}, prototype)
    if getmetatable(self) == view then return makeView(out, self.store, self.offset + first * size, n, self.source) end
    return makeView(out, self, first, n, nil)
  end

  return class
end

local Uint8Array = typedArrayClass("Uint8Array", 1, true)
local Uint16Array = typedArrayClass("Uint16Array", 2, false)
local Uint32Array = typedArrayClass("Uint32Array", 4, false)

-- JSON.stringify of a string or a number (what the codec's error details and the vector
-- runner's labels need); anything else is shown as "<type>"
local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local JSON = {}
function JSON.stringify(_, value)
  if type(value) == "string" then
    return '"' .. value:gsub('[%c"\\]', function(c) return escapes[c] or string.format("\\u%04x", c:byte()) end) .. '"'
  elseif type(value) == "number" then
    return (tointeger(value) and string.format("%d", value)) or tostring(value)
  end
  return "<" .. type(value) .. ">"
end

-- JavaScript's truth of a value whose type mixes numbers or strings with others: the
-- translation of `if (x)` for such an `x` (lua/build.mjs); 0, NaN and "" are false there
local function truthy(value)
  if value == nil or value == false or value == 0 or value == "" then return false end
  return value == value
end

-- `typeof value`: TSTL's answer, but "function" for a class (a table whose prototype's
-- constructor is itself), which JavaScript's classes are
local function typeOf(value)
  local luaType = type(value)
  if luaType == "table" then
    local prototype = rawget(value, "prototype")
    return type(prototype) == "table" and rawget(prototype, "constructor") == value and "function" or "object"
  elseif luaType == "nil" then
    return "undefined"
  end
  return luaType
end

_G.ArrayBuffer = ArrayBuffer
_G.Uint8Array = Uint8Array
_G.Uint16Array = Uint16Array
_G.Uint32Array = Uint32Array
_G.JSON = JSON
_G.__JS_Truthy = truthy
_G.__JS_TypeOf = typeOf
return Uint8Array
