// The codec on Lua against the same codec on Node: encode and decode of one 64-byte QoS 0
// PUBLISH ("sensors/node-1/temp", 41 bytes of payload) per second, under lua5.4 (the codec
// compiled by typescript-to-lua, lua/build.mjs, into a temporary folder) and on Node
// (dist/xs-mqtt.js), each the median of ROUNDS rounds of about SAMPLE_MS; then what the
// Lua typed-array shim costs alone (bench/lua-codec.lua). In memory only: no sockets; it
// writes only its temporary folder. The whole run takes about half a minute (with the builds).
// Prints one JSON object per case:
//   {"bench":"lua","case":"encode-publish-64","lua_per_s":X,"node_per_s":Y,"ratio":X/Y,"lua_bytes_allocated":B}
//   {"bench":"lua","case":"shim-...","lua_per_s":X,"lua_ns":N,"lua_bytes_allocated":B}
// with B the Lua heap allocated per operation.
// Usage: npm run bench:lua ($LUA names another Lua 5.4 than lua5.4).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodePublish, NEED_MORE, PacketDecoder, prepareTopic, PUBLISH } from "../dist/xs-mqtt.js";
import { buildLua } from "../lua/build.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const SAMPLE_MS = 400;
const ROUNDS = 5;
const LUA = process.env.LUA ?? "lua5.4";

// ---- Node: the same packet, the same loops
const topic = prepareTopic("sensors/node-1/temp", new TextEncoder());
const payload = new Uint8Array(41).fill(0x2a);
const buf = new Uint8Array(256);
if (encodePublish(buf, 0, topic, payload, 0, false, false, 0) !== 64) throw new Error("the PUBLISH is not 64 bytes");
const packet = buf.slice(0, 64);
const decoder = new PacketDecoder(256);
let sink = 0;

const nodeCases = {
  "encode-publish-64": (n) => {
    for (let i = 0; i < n; i++) sink += encodePublish(buf, 0, topic, payload, 0, false, false, 0);
  },
  "decode-publish-64": (n) => {
    for (let i = 0; i < n; i++) {
      decoder.feed(packet, 0, 64);
      if (decoder.next() !== PUBLISH) throw new Error("not a PUBLISH");
      sink += decoder.payloadLength;
      if (decoder.next() !== NEED_MORE) throw new Error("more than one packet");
    }
  },
};

/** Operations per second: the median of ROUNDS rounds of about SAMPLE_MS. */
function rate(run) {
  let n = 1;
  for (;;) {
    const start = performance.now();
    run(n);
    const elapsed = performance.now() - start;
    if (elapsed >= SAMPLE_MS / 4) {
      n = Math.max(1, Math.floor((n * SAMPLE_MS) / elapsed));
      break;
    }
    n *= 2;
  }
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    run(n);
    rates.push((n * 1000) / (performance.now() - start));
  }
  rates.sort((a, b) => a - b);
  return rates[(ROUNDS - 1) >> 1];
}

const dir = mkdtempSync(join(tmpdir(), "xs-mqtt-bench-lua-"));
try {
  buildLua({ outDir: join(dir, "lua") });
  const run = spawnSync(LUA, [join(here, "lua-codec.lua"), join(dir, "lua"), String(SAMPLE_MS), String(ROUNDS)], { encoding: "utf8" });
  if (run.error !== undefined || run.status !== 0) {
    throw new Error(`${LUA} failed: ${run.error?.message ?? run.stderr}: install Lua 5.4 (Debian: apt-get install lua5.4) or set $LUA`);
  }
  for (const line of run.stdout.trim().split("\n")) {
    const lua = JSON.parse(line);
    const node = nodeCases[lua.case];
    if (node === undefined) {
      console.log(JSON.stringify({ bench: "lua", case: lua.case, lua_per_s: lua.per_s, lua_ns: lua.ns, lua_bytes_allocated: lua.bytes_allocated }));
      continue;
    }
    const nodeRate = Math.round(rate(node));
    console.log(JSON.stringify({
      bench: "lua", case: lua.case, lua_per_s: lua.per_s, node_per_s: nodeRate,
      ratio: Number((lua.per_s / nodeRate).toFixed(4)), lua_bytes_allocated: lua.bytes_allocated,
    }));
  }
  if (sink === 0.5) console.log(sink);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
