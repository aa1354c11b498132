-- `npm run test:lua` under Lua 5.4: the codec compiled by typescript-to-lua (dist/lua/,
-- built by lua/build.mjs) runs the same vectors as test/codec.vectors.test.ts (the runner
-- of test/vectors/, compiled with them) and the seeded round-trip fuzz of test/lua/fuzz.ts.
-- Usage: lua5.4 test/lua/run.lua [dist/lua] [seed] [cases]. Prints one line per part, the
-- first failures, and last `N passed, M failed`; exits 1 when M > 0. Reads no network.
local dir = arg[1] or "dist/lua"
local seed = tonumber(arg[2] or "20251204")
local cases = tonumber(arg[3] or "2000")
package.path = dir .. "/?.lua;" .. package.path

local mqtt = require("xsmqtt")
local vectors = require("test.vectors.run-vectors")
local fuzz = require("test.lua.fuzz")

local passed, failures = 0, {}
local function add(part, result, extra)
  passed = passed + result.passed
  for _, line in ipairs(result.failures) do failures[#failures + 1] = line end
  print(string.format("%s: %d passed, %d failed%s", part, result.passed, #result.failures, extra or ""))
end

local started = os.clock()
add("vectors", vectors.runVectors(mqtt, mqtt.encoder))
local fuzzed = fuzz.runFuzz(mqtt, mqtt.encoder, seed, cases)
add("fuzz", fuzzed, string.format(" (seed %d, %d cases, digest %d)", seed, cases, fuzzed.digest))
for i = 1, math.min(#failures, 20) do print("  " .. failures[i]) end
if #failures > 20 then print(string.format("  ... and %d more", #failures - 20)) end
print(string.format("%s in %.1f s of CPU", _VERSION, os.clock() - started))
print(string.format("%d passed, %d failed", passed, #failures))
os.exit(#failures == 0 and 0 or 1)
