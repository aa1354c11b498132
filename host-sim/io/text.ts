/*
 * TextEncoder and TextDecoder for the Node engine, behaving as Moddable's `text/encoder` and
 * `text/decoder` (modules/data/text/encoder/textencoder.c, decoder/textdecoder.c; the rows of
 * docs/moddable-io.md "## Text encoding") rather than as the WHATWG classes Node has: the
 * decoder takes only the label "utf-8" (anything else, "utf8" and "UTF-8" included, is
 * RangeError "unsupported encoding"), reads its options only when given, and a fatal decoder
 * throws TypeError("invalid utf-8"); the encoder converts its argument with String() (so
 * undefined is "undefined", and no argument at all throws SyntaxError), writes a lone
 * surrogate as its own 3 bytes (no U+FFFD), and encodeInto() takes any typed array (else
 * Error "Uint8Array only") and answers { read, written }. The decoding itself is Node's:
 * a sequence cut short at the very end of a non-streamed input becomes one U+FFFD here, one
 * per byte on Moddable, and an encoded surrogate (ED A0 80) gives one U+FFFD fewer there
 * (docs/moddable-io.md says so). Node side only.
 */

const NodeEncoder = globalThis.TextEncoder;
const NodeDecoder = globalThis.TextDecoder;
const TypedArray = Object.getPrototypeOf(Uint8Array) as abstract new () => ArrayBufferView;

/** The UTF-8 bytes XS holds for a string: a lone surrogate as its 3-byte form. */
function bytesOfString(text: string, node: InstanceType<typeof NodeEncoder>): Uint8Array {
  if (text.isWellFormed()) return node.encode(text);
  const out: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    else for (const byte of node.encode(char)) out.push(byte);
  }
  return Uint8Array.from(out);
}

export class TextEncoder {
  readonly #node = new NodeEncoder();

  /** The UTF-8 bytes of String(value); encode() with no argument throws SyntaxError, as XS does for a missing host argument. */
  encode(...args: [value?: unknown]): Uint8Array {
    if (args.length === 0) throw new SyntaxError("C: xsArg(0): invalid index");
    return bytesOfString(String(args[0]), this.#node);
  }

  /** Fills `into` with whole characters of String(value); `read` counts UTF-16 code units. */
  encodeInto(value: unknown, into: Uint8Array): { read: number; written: number } {
    if (!(into instanceof TypedArray)) throw new Error("Uint8Array only");
    const text = String(value);
    const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
    let read = 0;
    let written = 0;
    for (const char of text) {
      const encoded = bytesOfString(char, this.#node);
      if (written + encoded.length > bytes.length) break;
      bytes.set(encoded, written);
      written += encoded.length;
      read += char.length;
    }
    return { read, written };
  }
}

export class TextDecoder {
  readonly #node: InstanceType<typeof NodeDecoder>;
  readonly #fatal: boolean;
  readonly #ignoreBOM: boolean;

  /** `new TextDecoder()` or `new TextDecoder("utf-8", options)`; options read only when given. */
  constructor(...args: [label?: unknown, options?: { ignoreBOM?: unknown; fatal?: unknown }]) {
    if (args.length > 0 && String(args[0]) !== "utf-8") throw new RangeError("unsupported encoding");
    let ignoreBOM = false;
    let fatal = false;
    if (args.length >= 2) {
      const options = args[1] as { ignoreBOM?: unknown; fatal?: unknown };
      ignoreBOM = Boolean(options.ignoreBOM);
      fatal = Boolean(options.fatal);
    }
    this.#fatal = fatal;
    this.#ignoreBOM = ignoreBOM;
    this.#node = new NodeDecoder("utf-8", { fatal, ignoreBOM });
  }

  get encoding(): string {
    return "utf-8";
  }

  get ignoreBOM(): boolean {
    return this.#ignoreBOM;
  }

  get fatal(): boolean {
    return this.#fatal;
  }

  /** Decodes a buffer or view (no argument: flushes a stream); a fatal decoder throws TypeError("invalid utf-8"). */
  decode(...args: [buffer?: ArrayBuffer | ArrayBufferView, options?: { stream?: unknown }]): string {
    let stream = false;
    if (args.length > 1) stream = Boolean((args[1] as { stream?: unknown }).stream);
    const input = args[0];
    if (args.length > 0 && !(input instanceof ArrayBuffer || ArrayBuffer.isView(input))) throw new TypeError("not a buffer");
    try {
      return args.length === 0 ? this.#node.decode() : this.#node.decode(input, { stream });
    } catch (error) {
      if (error instanceof TypeError && this.#fatal) throw new TypeError("invalid utf-8");
      throw error;
    }
  }
}
