import { assert, assertEquals, assertLess, assertThrows } from "../_util/assert.ts";
import {
  describePoint,
  LEAD_MS,
  MAX_PREROLL_S,
  RingPacer,
  timeShiftPoint,
  type TimeShiftReader,
  type TimeShiftTag,
} from "../../src/feed/time_shift.ts";

Deno.test("timeShiftPoint() reads ?preroll=S and ?date=ISO, falls back to the default, refuses bad values", () => {
  const at = (q: string, d = 0) => timeShiftPoint(new URL(`http://x/a/b.flv${q}`).searchParams, d);
  assertEquals(at("?preroll=5"), { agoMs: 5000 });
  assertEquals(at("?preroll=0.25"), { agoMs: 250 });
  assertEquals(at("?preroll=0"), undefined);
  assertEquals(at(""), undefined);
  assertEquals(at("", 3000), { agoMs: 3000 });
  assertEquals(at("?preroll=2", 3000), { agoMs: 2000 });
  assertEquals(at("?date=2026-12-02T01:00:00Z"), { wallMs: Date.parse("2026-12-02T01:00:00Z") });
  for (
    const bad of ["?preroll=", "?preroll=-1", "?preroll=x", `?preroll=${MAX_PREROLL_S + 1}`, "?date=soon"]
  ) {
    assertThrows(() => at(bad), RangeError, undefined);
  }
});

Deno.test("describePoint() says where a play starts", () => {
  assertEquals(describePoint({ agoMs: 5000 }), "from 5000 ms back");
  assertEquals(describePoint({ wallMs: Date.UTC(2026, 11, 2, 1) }), "from 2026-12-02T01:00:00.000Z");
});

/** A reader over fixed tags that ends (null) after them. */
function readerOf(tags: TimeShiftTag[]): TimeShiftReader & { closed: boolean } {
  const left = [...tags];
  return {
    closed: false,
    next() {
      return Promise.resolve(this.closed ? null : left.shift() ?? null);
    },
    close() {
      this.closed = true;
    },
  };
}

const tag = (kind: number, timestamp: number, sequenceHeader = false): TimeShiftTag => ({
  kind,
  timestamp,
  sequenceHeader,
  payload: new Uint8Array([kind]),
});

Deno.test("RingPacer catching up writes every tag at once, in order, leaving out the tracks it is told to", async () => {
  const tags = [
    tag(18, 0),
    tag(9, 0, true),
    tag(8, 0, true),
    tag(9, 0),
    tag(8, 20),
    tag(9, 40),
    tag(9, 5000),
  ];
  const reader = readerOf(tags);
  const out: number[][] = [];
  const t0 = performance.now();
  const how = await new RingPacer(reader, { catchUp: true, noAudio: true }).run((t) => {
    out.push([t.kind, t.timestamp]);
    return Promise.resolve();
  });
  assertEquals(how, "ended");
  assertEquals(out, [[18, 0], [9, 0], [9, 0], [9, 40], [9, 5000]]);
  assertLess(performance.now() - t0, 1000, "no tag waited");
  assert(reader.closed, "the reader is closed at the end");
});

Deno.test("RingPacer paced holds a tag past LEAD_MS until its time, and close() ends the wait at once", async () => {
  const reader = readerOf([tag(9, 1000), tag(9, 1000 + LEAD_MS - 100), tag(9, 1000 + LEAD_MS + 60_000)]);
  const pacer = new RingPacer(reader, { catchUp: false });
  const out: number[] = [];
  const done = pacer.run((t) => {
    out.push(t.timestamp);
    return Promise.resolve();
  });
  await new Promise((r) => setTimeout(r, 50));
  assertEquals(out, [1000, 1000 + LEAD_MS - 100], "the first second went at once; the tag a minute on waits");
  pacer.close();
  assertEquals(await done, "closed");
  assertEquals(out.length, 2);
});
