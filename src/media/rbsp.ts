/**
 * A small reader of H.264 RBSP bits for the few header fields TypeScript needs
 * (the full SPS parser is WASM: src/wasm/nal.ts). Emulation prevention bytes
 * (00 00 03, H.264 7.4.1) are removed as the bytes are taken; fields are
 * u(1) and ue(v) Exp-Golomb codes (9.1).
 *
 * @module
 */

/** Reads bits from `bytes[from..]`, unescaping up to `maxBytes` RBSP bytes. */
export class RbspReader {
  readonly #rbsp: number[] = [];
  readonly #fail: (what: string) => Error;
  #bit = 0;

  /** `fail` makes the error to throw when the data ends or a code is too long. */
  constructor(bytes: Uint8Array, from: number, maxBytes: number, fail: (what: string) => Error) {
    this.#fail = fail;
    let zeros = 0;
    for (let i = from; i < bytes.length && this.#rbsp.length < maxBytes; i++) {
      const b = bytes[i];
      if (zeros >= 2 && b === 3) {
        zeros = 0;
        continue;
      }
      this.#rbsp.push(b);
      zeros = b === 0 ? zeros + 1 : 0;
    }
  }

  /** u(1). */
  bit(): number {
    const bit = this.#bit;
    if (bit >= this.#rbsp.length * 8) throw this.#fail(`the data ends at bit ${bit}`);
    this.#bit++;
    return (this.#rbsp[bit >> 3] >> (7 - (bit & 7))) & 1;
  }

  /** ue(v): an unsigned Exp-Golomb code of up to 32 bits. */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw this.#fail("an Exp-Golomb code is over 32 bits");
    }
    let suffix = 0;
    for (let k = 0; k < zeros; k++) suffix = suffix * 2 + this.bit();
    return 2 ** zeros - 1 + suffix;
  }
}
