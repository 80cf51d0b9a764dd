/**
 * CRC-32/MPEG-2, the CRC_32 field that ends every PSI section (ISO/IEC
 * 13818-1 2.4.4.11 and Annex A): polynomial 0x04C11DB7, register preset to
 * 0xFFFFFFFF, bits in most significant first, no final XOR. A section
 * followed by its CRC_32 gives a CRC of 0.
 *
 * @module
 */

/** Annex A: x^32 + x^26 + x^23 + x^22 + x^16 + x^12 + x^11 + x^10 + x^8 + x^7 + x^5 + x^4 + x^2 + x + 1. */
const POLYNOMIAL = 0x04c11db7;

/** The register after each byte value from 0, one byte at a time. */
const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ POLYNOMIAL : c << 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32/MPEG-2 of `data` (a u32). */
export function crc32Mpeg2(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = (crc << 8) ^ TABLE[((crc >>> 24) ^ data[i]) & 0xff];
  return crc >>> 0;
}
