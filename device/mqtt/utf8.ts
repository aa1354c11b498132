/*
 * Byte-level checks of MQTT's UTF-8 strings [MQTT-1.5.3-1][MQTT-1.5.3-2].
 * Works on bytes in place: it never decodes to a string, never allocates, and never
 * relies on a JavaScript string's length (on XS that counts code points, not bytes).
 */

export const UTF8_OK = 0;
export const UTF8_INVALID = 1;
export const UTF8_NULL = 2;

/**
 * Checks bytes[start, start + length) as well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates U+D800..U+DFFF, nothing above U+10FFFF) without U+0000.
 * Returns UTF8_OK, UTF8_INVALID or UTF8_NULL.
 */
export function checkUtf8(bytes: Uint8Array, start: number, length: number): number {
  const end = start + length;
  let i = start;
  while (i < end) {
    const lead = bytes[i];
    if (lead < 0x80) {
      if (lead === 0) return UTF8_NULL;
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let max = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      need = 2;
      // E0 needs A0..BF (no overlong); ED needs 80..9F (no surrogates)
      min = lead === 0xe0 ? 0xa0 : 0x80;
      if (lead === 0xed) max = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      need = 3;
      // F0 needs 90..BF (no overlong); F4 needs 80..8F (nothing above U+10FFFF)
      min = lead === 0xf0 ? 0x90 : 0x80;
      if (lead === 0xf4) max = 0x8f;
    } else {
      return UTF8_INVALID;
    }
    if (i + need >= end) return UTF8_INVALID; // truncated sequence
    const second = bytes[i + 1];
    if (second < min || second > max) return UTF8_INVALID;
    for (let k = 2; k <= need; k++) {
      const next = bytes[i + k];
      if (next < 0x80 || next > 0xbf) return UTF8_INVALID;
    }
    i += need + 1;
  }
  return UTF8_OK;
}
