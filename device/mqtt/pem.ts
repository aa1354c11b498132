/*
 * Certificates and keys for the TLS socket's `secure` options as DER bytes, the one form
 * Moddable's TLS takes (modules/crypt/ssl/ssl_cert.js decodes DER only): DER bytes pass
 * through as a view (no copy), PEM text is decoded once from its base64. Runs only while
 * the client's options are checked; holds no state and touches no IO.
 */

import { MqttError } from "./errors.js";

/**
 * The DER bytes of `value`: DER bytes as given, or the first PEM block labelled `label`
 * ("CERTIFICATE", "PRIVATE KEY") of a PEM text. Throws "argument-invalid", naming the
 * option, for anything else.
 */
export function derOf(value: unknown, label: string, name: string): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value !== "string") throw new MqttError("argument-invalid", name + ": not PEM or DER");
  const begin = "-----BEGIN " + label + "-----";
  const start = value.indexOf(begin);
  const end = value.indexOf("-----END " + label + "-----", start);
  if (start < 0 || end < 0) {
    throw new MqttError("argument-invalid", name + ": no " + begin);
  }
  const der = base64Bytes(value, start + begin.length, end);
  if (der === undefined || der.length === 0) throw new MqttError("argument-invalid", name + ": bad base64");
  return der;
}

/** Decodes the base64 between `from` and `to` (white space skipped); undefined for any other character. */
function base64Bytes(text: string, from: number, to: number): Uint8Array | undefined {
  let digits = 0;
  for (let i = from; i < to; i++) if (sextet(text.charCodeAt(i)) >= 0) digits++;
  const out = new Uint8Array((digits * 3) >> 2);
  let bits = 0;
  let held = 0;
  let written = 0;
  let padding = false;
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    const value = sextet(code);
    if (value < 0) {
      if (code === 0x3d) padding = true; // "="
      else if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return undefined;
      continue;
    }
    if (padding) return undefined; // data after "="
    bits = ((bits << 6) | value) & 0xffff;
    held += 6;
    if (held >= 8) {
      held -= 8;
      out[written++] = (bits >> held) & 0xff;
    }
  }
  return out;
}

/** The value of a base64 digit, or -1. */
function sextet(code: number): number {
  if (code >= 0x41 && code <= 0x5a) return code - 0x41;
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 26;
  if (code >= 0x30 && code <= 0x39) return code - 0x30 + 52;
  if (code === 0x2b) return 62;
  if (code === 0x2f) return 63;
  return -1;
}
