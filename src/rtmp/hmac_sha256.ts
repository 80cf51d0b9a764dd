/**
 * Synchronous SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the RTMP
 * digest handshake.
 *
 * WebCrypto has both, but only behind a Promise: measured on Deno 2.9, one
 * `crypto.subtle.sign("HMAC", ...)` over 1504 bytes costs about 100 µs, most
 * of it the async round trip, where this runs in about 10 µs. A synchronous
 * hash keeps the handshake a plain `feed(bytes) -> output` state machine.
 * The tests check this against WebCrypto.
 *
 * @module
 */

/** FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = new Uint32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

/** FIPS 180-4 5.3.3: the initial hash value. */
const H0 = new Uint32Array([
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
]);

const BLOCK = 64;

/** An incremental SHA-256: `update` any number of times, then `digest` once. */
class Sha256 {
  #h = H0.slice();
  #w = new Uint32Array(64);
  #block = new Uint8Array(BLOCK);
  #blockView = new DataView(this.#block.buffer);
  #fill = 0;
  #length = 0;

  update(data: Uint8Array): this {
    this.#length += data.length;
    let i = 0;
    if (this.#fill > 0) {
      const n = Math.min(BLOCK - this.#fill, data.length);
      this.#block.set(data.subarray(0, n), this.#fill);
      this.#fill += n;
      i = n;
      if (this.#fill < BLOCK) return this;
      this.#compress(this.#blockView, 0);
      this.#fill = 0;
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (; i + BLOCK <= data.length; i += BLOCK) this.#compress(view, i);
    if (i < data.length) {
      this.#block.set(data.subarray(i), 0);
      this.#fill = data.length - i;
    }
    return this;
  }

  digest(): Uint8Array {
    const bits = this.#length * 8;
    const padLength = (this.#fill < 56 ? 56 : 120) - this.#fill;
    const pad = new Uint8Array(padLength + 8);
    pad[0] = 0x80;
    const padView = new DataView(pad.buffer);
    padView.setUint32(padLength, Math.floor(bits / 0x100000000));
    padView.setUint32(padLength + 4, bits >>> 0);
    this.update(pad);
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let j = 0; j < 8; j++) outView.setUint32(j * 4, this.#h[j]);
    return out;
  }

  /** FIPS 180-4 6.2.2 over the 64 bytes at `offset`. */
  #compress(view: DataView, offset: number): void {
    const w = this.#w;
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(offset + t * 4);
    for (let t = 16; t < 64; t++) {
      const w15 = w[t - 15];
      const w2 = w[t - 2];
      const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
      const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    const h = this.#h;
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[t] + w[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + b) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0;
    h[5] = (h[5] + f) | 0;
    h[6] = (h[6] + g) | 0;
    h[7] = (h[7] + hh) | 0;
  }
}

/** SHA-256 of the concatenation of `parts`; returns 32 owned bytes. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = new Sha256();
  for (const p of parts) hash.update(p);
  return hash.digest();
}

/**
 * HMAC-SHA256 (RFC 2104) of the concatenation of `parts` under `key`;
 * returns 32 owned bytes. Taking parts lets the handshake hash "everything
 * but the digest" without copying.
 */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const k = new Uint8Array(BLOCK);
  k.set(key.length > BLOCK ? sha256(key) : key);
  const ipad = new Uint8Array(BLOCK);
  const opad = new Uint8Array(BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    ipad[i] = k[i] ^ 0x36;
    opad[i] = k[i] ^ 0x5c;
  }
  const inner = new Sha256().update(ipad);
  for (const p of parts) inner.update(p);
  return new Sha256().update(opad).update(inner.digest()).digest();
}
