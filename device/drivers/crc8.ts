/*
 * Sensirion's CRC-8 (polynomial 0x31, initial value 0xFF, no reflection, no final XOR), as
 * the SHT3x sends after every 16-bit word. Pure function over a caller's buffer: allocates
 * nothing.
 */

/** The CRC-8 of bytes[offset] and bytes[offset + 1]. */
export function crc8Word(bytes: Uint8Array, offset: number): number {
  let crc = 0xff;
  for (let i = offset; i < offset + 2; i++) {
    crc ^= bytes[i]!;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}
