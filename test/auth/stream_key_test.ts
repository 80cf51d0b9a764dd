import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { keyOf, keysEqual, MAX_KEY_BYTES, StreamKeys } from "../../src/auth/stream_key.ts";
import { splitStreamName } from "../../src/hub/admission.ts";

Deno.test("keyOf() reads the key OBS sends after the app, from the stream name's query", () => {
  // OBS: server rtmp://host/live, Stream Key "cam?key=SECRET"; the hub splits the name.
  const { name, query } = splitStreamName("cam?key=SECRET");
  assertEquals(name, "cam");
  assertEquals(keyOf(query), "SECRET");
  assertEquals(keyOf({}), undefined);
  assertEquals(keyOf({ sign: "x" }), undefined);
  assertEquals(keyOf(splitStreamName("cam?key=").query), "");
});

Deno.test("keyOf() does not read a key from the query object's prototype", () => {
  const query = Object.create({ key: "inherited" }) as Record<string, string>;
  assertEquals(keyOf(query), undefined);
});

Deno.test("keysEqual() is true for the same key only: a prefix, a longer key or another case differ", () => {
  assert(keysEqual("a-long-secret", "a-long-secret"));
  assert(keysEqual("", ""));
  assert(!keysEqual("a-long-secret", "a-long-secre"));
  assert(!keysEqual("a-long-secre", "a-long-secret"));
  assert(!keysEqual("a-long-secret", "A-long-secret"));
  assert(!keysEqual("a-long-secret", "a-long-secret\0"), "a zero byte is not the padding");
  assert(keysEqual("clé-secrète", "clé-secrète"), "UTF-8 keys compare by their bytes");
  assert(!keysEqual("clé-secrète", "cle-secrete"));
});

Deno.test("keysEqual() is false for a key past MAX_KEY_BYTES, even against itself", () => {
  const long = "k".repeat(MAX_KEY_BYTES + 1);
  assert(!keysEqual(long, long));
  const longest = "k".repeat(MAX_KEY_BYTES);
  assert(keysEqual(longest, longest));
  // Two-byte characters count as two: 129 of them are 258 bytes.
  assert(!keysEqual("é".repeat(129), "é".repeat(129)));
});

Deno.test("StreamKeys.matches() accepts any one of the keys and nothing else", () => {
  const keys = new StreamKeys(["first-key-1", "second-key-2"]);
  assertEquals(keys.size, 2);
  assert(keys.matches("first-key-1"));
  assert(keys.matches("second-key-2"));
  assert(!keys.matches("third-key-3"));
  assert(!keys.matches(""));
  assert(!keys.matches(undefined));
  assert(!keys.matches("x".repeat(MAX_KEY_BYTES * 4)));
});

Deno.test("StreamKeys refuses an empty set and a key longer than MAX_KEY_BYTES", () => {
  assertEquals(
    assertThrows(() => new StreamKeys([]), RangeError).message,
    "Cannot make a set of stream keys: current set is empty",
  );
  assertEquals(
    assertThrows(() => new StreamKeys(["ok-key-1", "x".repeat(MAX_KEY_BYTES + 1)]), RangeError).message,
    `Cannot use stream key 2: it is longer than ${MAX_KEY_BYTES} bytes`,
  );
});
