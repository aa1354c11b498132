/*
 * The Node engine's TextEncoder and TextDecoder (host-sim/io/text.ts) against Moddable's
 * (modules/data/text/encoder/textencoder.c, decoder/textdecoder.c), row by row of
 * docs/moddable-io.md "## Text encoding": each case runs on the Node classes and inside a
 * real xsnap worker, whose TextEncoder and TextDecoder are built from those same C files,
 * and the answers must be equal. Every host started is closed; no sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TextDecoder, TextEncoder } from "../host-sim/io/text.js";
import { XsHost } from "../host-sim/engines/xs/host.js";

let host: XsHost;
beforeAll(async () => {
  host = await XsHost.start({ name: "text test" });
});
afterAll(async () => {
  await host.close();
});

/** Runs `body` (a function of TextEncoder, TextDecoder) on Node and in XS; both answer JSON of what it returns or throws. */
const RUN = `(run) => { try { return JSON.stringify(run()); } catch (e) { return "throws " + e.name + ": " + e.message; } }`;

async function both(body: string): Promise<[string, string]> {
  const node = (0, eval)(`(${RUN})`)((0, eval)(`((TextEncoder, TextDecoder) => () => (${body}))`)(TextEncoder, TextDecoder)) as string;
  const xs = (await host.evaluate<string>(`(${RUN})((() => () => (${body}))())`)).value;
  // xsnap's messages name the host function ("@xs_textencoder_encode: "): the message is the rest
  return [node, xs.replace(/^(throws \w+: )@\w+: /, "$1")];
}

const CASES: [string, string][] = [
  ["encode: a string", `Array.from(new TextEncoder().encode("aé€😀"))`],
  ["encode: NUL", `Array.from(new TextEncoder().encode("a\\u0000b"))`],
  ["encode: a lone surrogate is written as its own 3 bytes", `Array.from(new TextEncoder().encode("a\\uD800b"))`],
  ["encode: undefined is \"undefined\"", `Array.from(new TextEncoder().encode(undefined))`],
  ["encode: no argument", `Array.from(new TextEncoder().encode())`],
  ["encode: a number", `Array.from(new TextEncoder().encode(12))`],
  ["encodeInto: room for all", `(() => { const b = new Uint8Array(16); const r = new TextEncoder().encodeInto("aé€", b); return [r.read, r.written, Array.from(b.subarray(0, r.written))]; })()`],
  ["encodeInto: stops before a character that does not fit", `(() => { const b = new Uint8Array(4); const r = new TextEncoder().encodeInto("aé€", b); return [r.read, r.written]; })()`],
  ["encodeInto: a character outside the BMP", `(() => { const b = new Uint8Array(8); const r = new TextEncoder().encodeInto("😀x", b); return [r.read, r.written]; })()`],
  ["encodeInto: an ArrayBuffer is refused", `new TextEncoder().encodeInto("a", new ArrayBuffer(4))`],
  ["encodeInto: a DataView is refused", `new TextEncoder().encodeInto("a", new DataView(new ArrayBuffer(4)))`],
  ["encodeInto: result keys", `Object.keys(new TextEncoder().encodeInto("ab", new Uint8Array(1)))`],
  ["decoder: no label", `new TextDecoder().encoding`],
  ["decoder: \"utf-8\"", `new TextDecoder("utf-8").encoding`],
  ["decoder: \"utf8\"", `new TextDecoder("utf8").encoding`],
  ["decoder: \"UTF-8\"", `new TextDecoder("UTF-8").encoding`],
  ["decoder: undefined label", `new TextDecoder(undefined).encoding`],
  ["decoder: options", `(() => { const d = new TextDecoder("utf-8", { fatal: 1, ignoreBOM: "yes" }); return [d.fatal, d.ignoreBOM]; })()`],
  ["decoder: defaults", `(() => { const d = new TextDecoder(); return [d.fatal, d.ignoreBOM]; })()`],
  ["decode: text", `new TextDecoder().decode(Uint8Array.of(0x61, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80))`],
  ["decode: an ArrayBuffer", `new TextDecoder().decode(Uint8Array.of(0x68, 0x69).buffer)`],
  ["decode: a BOM is dropped", `new TextDecoder().decode(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41)).length`],
  ["decode: a BOM is kept with ignoreBOM", `new TextDecoder("utf-8", { ignoreBOM: true }).decode(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41)).length`],
  ["decode: malformed input is replaced", `Array.from(new TextDecoder().decode(Uint8Array.of(0x61, 0xff, 0xc3, 0x41, 0xe2, 0x82, 0x42))).map((c) => c.codePointAt(0))`],
  ["decode: fatal", `new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.of(0x61, 0xff))`],
  ["decode: stream", `(() => { const d = new TextDecoder(); return [d.decode(Uint8Array.of(0xe2, 0x82), { stream: true }), d.decode(Uint8Array.of(0xac))]; })()`],
  ["decode: NUL", `new TextDecoder().decode(Uint8Array.of(0x61, 0, 0x62)).length`],
];

describe("text encoding, as Moddable's (modules/data/text)", () => {
  for (const [name, body] of CASES) {
    it(name, async () => {
      const [node, xs] = await both(body);
      expect(node).toBe(xs);
    });
  }
});
