import { assertEquals, assertThrows } from "./_util/assert.ts";
import { after } from "../src/deadlines.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("after() calls each function once its time has passed, in the order they were set", async () => {
  const fired: number[] = [];
  for (let i = 0; i < 5; i++) after(30, () => fired.push(i));
  after(10, () => fired.push(99)); // another duration, its own queue
  await sleep(5);
  assertEquals(fired, []);
  await sleep(60);
  assertEquals(fired, [99, 0, 1, 2, 3, 4]);
});

Deno.test("after(): a cancelled deadline never fires, and with none left no timer stays armed", async () => {
  const fired: string[] = [];
  const a = after(20, () => fired.push("a"));
  const b = after(20, () => fired.push("b"));
  a.cancel();
  a.cancel(); // idempotent
  await sleep(40);
  assertEquals(fired, ["b"]);
  b.cancel(); // after it fired: nothing
  const c = after(1_000, () => fired.push("c"));
  c.cancel(); // the test ends at once: Deno's sanitizer fails it if a timer were still pending
  assertThrows(() => after(-1, () => {}), RangeError);
});
