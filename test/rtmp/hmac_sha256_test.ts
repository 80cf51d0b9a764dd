import { assertEquals } from "../_util/assert.ts";
import { hmacSha256, sha256 } from "../../src/rtmp/hmac_sha256.ts";
import { toHex } from "../fixtures/annotated_hex.ts";
import { seededRandom } from "../_util/mutate.ts";

const text = (s: string) => new TextEncoder().encode(s);
const plain = (b: Uint8Array) => toHex(b).replaceAll(" ", "");

Deno.test("sha256() matches the FIPS 180-2 examples", () => {
  assertEquals(
    plain(sha256(text("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assertEquals(
    plain(sha256(new Uint8Array(0))),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assertEquals(
    plain(sha256(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

Deno.test("hmacSha256() matches RFC 4231 test cases 2 and 6", () => {
  assertEquals(
    plain(hmacSha256(text("Jefe"), text("what do ya want for nothing?"))),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
  assertEquals(
    plain(
      hmacSha256(
        new Uint8Array(131).fill(0xaa),
        text("Test Using Larger Than Block-Size Key - Hash Key First"),
      ),
    ),
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  );
});

Deno.test("hmacSha256() agrees with WebCrypto across block boundaries and split inputs", async () => {
  const random = seededRandom(256);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
  for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1504, 1536]) {
    for (const keyLength of [1, 30, 36, 62, 64, 68, 100]) {
      const key = bytes(keyLength);
      const data = bytes(length);
      const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const expected = new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
      const cut = Math.floor(length / 3);
      assertEquals(toHex(hmacSha256(key, data.subarray(0, cut), data.subarray(cut))), toHex(expected));
    }
    const data = bytes(length);
    assertEquals(toHex(sha256(data)), toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data))));
  }
});
