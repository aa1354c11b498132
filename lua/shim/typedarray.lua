-- The JavaScript globals the codec compiled by typescript-to-lua uses and TSTL's lualib
-- lacks: Uint8Array (the subset the codec and the vector runner call), JSON.stringify
-- (for strings and numbers: error details and test labels) and __JS_Truthy (JavaScript's
-- truth of a value, for lua/build.mjs's translation of `if (x)`). Loading this file sets
-- those three globals; it must not change any other.
--
-- A Uint8Array is a Lua table holding its bytes at integer keys 0 .. length-1, with a
-- `length` field and Uint8Array.prototype as metatable (TSTL's class layout, so `new`,
-- `instanceof` and method calls work): the codec's `buf[i]` is a plain table access.
-- Differences from JavaScript, none of which the codec relies on (test/lua.test.ts runs the
-- same vectors and a seeded fuzz under Lua):
--   * a write stores the value as given: no wrap to 0..255 (the codec writes bytes only);
--   * a write past the end is stored, not dropped (the codec checks room first);
--   * subarray() gives a view (a shared window) whose reads and writes go through
--     metamethods: correct, but slower than a plain array; the codec makes no views.

local floor = math.floor
local tointeger = math.tointeger
local move = table.move

local Uint8Array = { name = "Uint8Array" }
local prototype = {}
prototype.__index = prototype
prototype.constructor = Uint8Array
Uint8Array.prototype = prototype

-- a view: bytes base[offset .. offset+length-1]; `length`, `base`, `offset` are raw fields
local view = { __index = nil, __newindex = nil }

local function whole(value, what)
  local n = tointeger(value)
  if n == nil or n < 0 then error(what .. ": not a length: " .. tostring(value), 2) end
  return n
end

-- new Uint8Array(length) (zeros), new Uint8Array(uint8array) (a copy) or
-- new Uint8Array(sequence) (a copy of a Lua sequence, 1-based, as TSTL emits arrays)
function prototype.____constructor(self, source)
  if type(source) == "number" or source == nil then
    local n = whole(source or 0, "Uint8Array")
    for i = 0, n - 1 do self[i] = 0 end
    self.length = n
  elseif type(source) == "table" and source.length ~= nil then
    local n = source.length
    for i = 0, n - 1 do self[i] = source[i] end
    self.length = n
  elseif type(source) == "table" then
    local n = #source
    for i = 1, n do self[i - 1] = source[i] & 0xff end
    self.length = n
  else
    error("Uint8Array: unsupported source " .. type(source), 2)
  end
end

-- relative index as JavaScript's: negative counts from the end, clamped to 0 .. length
local function clamp(index, length, default)
  if index == nil then return default end
  index = floor(index)
  if index < 0 then index = index + length; if index < 0 then index = 0 end end
  if index > length then index = length end
  return index
end

-- the range [first, last) of a typed array as slice() and subarray() read it: its start and size
local function range(self, first, last)
  local length = self.length
  first = clamp(first, length, 0)
  last = clamp(last, length, length)
  return first, last > first and last - first or 0
end

local function newUint8Array(n)
  local out = setmetatable({}, prototype)
  for i = 0, n - 1 do out[i] = 0 end
  out.length = n
  return out
end

function prototype.set(self, source, offset)
  offset = offset or 0
  local n = source.length
  if n == nil then
    -- a Lua sequence
    n = #source
    if offset < 0 or offset + n > self.length then error("RangeError: offset is out of bounds", 2) end
    for i = 1, n do self[offset + i - 1] = source[i] end
    return
  end
  if offset < 0 or offset + n > self.length then error("RangeError: offset is out of bounds", 2) end
  if n > 0 then
    if rawequal(source, self) or getmetatable(source) == view or getmetatable(self) == view then
      -- a view may overlap its base: copy through a temporary, as JavaScript does
      local copy = {}
      for i = 0, n - 1 do copy[i] = source[i] end
      for i = 0, n - 1 do self[offset + i] = copy[i] end
    else
      move(source, 0, n - 1, offset, self)
    end
  end
end

function prototype.fill(self, value, first, last)
  local length = self.length
  for i = clamp(first, length, 0), clamp(last, length, length) - 1 do self[i] = value & 0xff end
  return self
end

function prototype.slice(self, first, last)
  local n
  first, n = range(self, first, last)
  local out = newUint8Array(n)
  for i = 0, n - 1 do out[i] = self[first + i] end
  return out
end

function prototype.subarray(self, first, last)
  local n
  first, n = range(self, first, last)
  local base, offset = self, first
  if getmetatable(self) == view then base, offset = rawget(self, "base"), rawget(self, "offset") + first end
  return setmetatable({ length = n, base = base, offset = offset }, view)
end

view.__index = function(self, key)
  if type(key) == "number" then
    if key >= 0 and key < rawget(self, "length") then return rawget(self, "base")[rawget(self, "offset") + key] end
    return nil
  end
  return prototype[key]
end
view.__newindex = function(self, key, value)
  if type(key) == "number" then
    if key >= 0 and key < rawget(self, "length") then rawget(self, "base")[rawget(self, "offset") + key] = value end
    return
  end
  rawset(self, key, value)
end

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

_G.Uint8Array = Uint8Array
_G.__JS_Truthy = truthy
_G.JSON = JSON
return Uint8Array
