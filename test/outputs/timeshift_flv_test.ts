/**
 * Time-shifted HTTP-FLV play through makeRouter, over a fake ring (FeedLookup): the query's point, the
 * tags from the ring in order with their own timestamps, tracks left out, the refusals, a player that
 * leaves, and the registry session. The real ring and ffprobe are in test/e2e/feeds_test.ts.
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import { RecordingLogger } from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import type { FeedLookup, HttpContext } from "../../src/http/context.ts";
import type { TimeShiftPoint, TimeShiftReader, TimeShiftTag } from "../../src/feed/time_shift.ts";
import { makeRouter } from "../../src/http/routes.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { FlvReader, type FlvTag } from "../../src/media/flv.ts";

const WAIT_MS = 5_000;

function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

/** A ring of fixed tags; a reader gives them, then waits at the head until closed. */
class FakeRing {
  readonly asked: TimeShiftPoint[] = [];
  readonly readers: FakeReader[] = [];
  constructor(readonly tags: TimeShiftTag[]) {}
  reader(at: TimeShiftPoint): TimeShiftReader | undefined {
    this.asked.push(at);
    if (this.tags.length === 0) return undefined;
    const r = new FakeReader([...this.tags]);
    this.readers.push(r);
    return r;
  }
}

class FakeReader implements TimeShiftReader {
  closed = false;
  #wake: ((t: TimeShiftTag | null) => void) | undefined;
  constructor(readonly left: TimeShiftTag[]) {}
  next(): Promise<TimeShiftTag | null> {
    if (this.closed) return Promise.resolve(null);
    const t = this.left.shift();
    if (t) return Promise.resolve(t);
    return new Promise((resolve) => this.#wake = resolve);
  }
  close(): void {
    this.closed = true;
    this.#wake?.(null);
  }
}

const tag = (kind: number, timestamp: number, sequenceHeader = false, fill = 0x11): TimeShiftTag => ({
  kind,
  timestamp,
  sequenceHeader,
  payload: new Uint8Array([kind === 9 ? (sequenceHeader ? 0x17 : 0x27) : 0xaf, sequenceHeader ? 0 : 1, fill]),
});

/** A group start (metadata, both headers, keyframe) at 60,000 ms then audio and video within 200 ms. */
function groupTags(): TimeShiftTag[] {
  return [
    tag(18, 60_000),
    tag(9, 60_000, true),
    tag(8, 60_000, true),
    { ...tag(9, 60_000), payload: new Uint8Array([0x17, 1, 0x65]) },
    tag(8, 60_023),
    tag(9, 60_040),
    tag(8, 60_046),
    tag(9, 60_080),
  ];
}

function setup(ring: FakeRing | undefined, catchUp = true) {
  const config = makeConfig({ hub: { playWaitMs: 0 } });
  const log = new RecordingLogger();
  const hub = new StreamHub(config.hub, log);
  const feeds: FeedLookup = {
    ring: (key) => key === "feed/a" ? ring : undefined,
    catchUp: () => catchUp,
    byPush: () => undefined,
  };
  const ctx: HttpContext = { hub, config, log, startedAt: Date.now(), feeds };
  const router = makeRouter(ctx);
  return { hub, log, config, handle: async (req: Request) => await router(req) };
}

async function readTags(res: Response, n: number): Promise<FlvTag[]> {
  const reader = res.body!.getReader();
  const flv = new FlvReader();
  const tags: FlvTag[] = [];
  const deadline = Date.now() + WAIT_MS;
  while (tags.length < n && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    tags.push(...flv.push(value));
  }
  await reader.cancel();
  return tags;
}

test("GET /{app}/{stream}.flv?preroll=S plays the ring from its group start, in order, with its timestamps", async () => {
  const ring = new FakeRing(groupTags());
  const { handle, hub } = setup(ring);
  const res = await handle(new Request("http://sluice.test/feed/a.flv?preroll=5"));
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "video/x-flv");
  assertEquals(ring.asked, [{ agoMs: 5000 }]);
  const sessions = hub.sessions.list();
  assertEquals(sessions.length, 1);
  assertEquals([sessions[0].protocol, sessions[0].role, sessions[0].key], ["http-flv", "player", "feed/a"]);
  const tags = await readTags(res, 8);
  assertEquals(tags.map((t) => [t.type, t.timestamp]), groupTags().map((t) => [t.kind, t.timestamp]));
  // The peer left: the reader is closed and the session ended.
  await new Promise((r) => setTimeout(r, 10));
  assert(ring.readers[0].closed, "the reader is closed");
  assertEquals(hub.sessions.list().length, 0);
});

test("a time-shifted play paced at normal speed still sends its first second at once", async () => {
  const ring = new FakeRing(groupTags());
  const { handle } = setup(ring, false);
  const res = await handle(new Request("http://sluice.test/feed/a.flv?date=2026-12-02T01:00:00Z"));
  assertEquals(res.status, 200);
  // Everything in the fake ring spans 80 ms, within LEAD_MS: all of it comes without waiting.
  assertEquals((await readTags(res, 8)).length, 8);
});

test("a time-shifted play of a key with no ring is a 404 saying so, and a bad preroll a 400", async () => {
  const { handle } = setup(new FakeRing(groupTags()));
  const none = await handle(new Request("http://sluice.test/live/cam.flv?preroll=5"));
  assertEquals(none.status, 404);
  assertMatch((await none.json()).error, /not a feed with a ring file/);
  const bad = await handle(new Request("http://sluice.test/feed/a.flv?preroll=-3"));
  assertEquals(bad.status, 400);
  assertMatch((await bad.json()).error, /preroll -3 is not 0\.\.86400 seconds/);
  const empty = setup(new FakeRing([]));
  const nothing = await empty.handle(new Request("http://sluice.test/feed/a.flv?preroll=5"));
  assertEquals(nothing.status, 404);
  assertMatch((await nothing.json()).error, /recorded nothing yet/);
});

test("a configured stream with prerollMs and noAudio plays the ring's past without its audio", async () => {
  const ring = new FakeRing(groupTags());
  const { handle, config } = setup(ring);
  config.streams = [{
    path: "/past.flv",
    key: "feed/a",
    format: "flv",
    prerollMs: 7000,
    noAudio: true,
    noVideo: false,
    maxTimeMs: 0,
    acl: [],
  }];
  const res = await handle(new Request("http://sluice.test/past.flv"));
  assertEquals(res.status, 200);
  assertEquals(ring.asked, [{ agoMs: 7000 }]);
  const tags = await readTags(res, 5);
  assertEquals(tags.map((t) => t.type), [18, 9, 9, 9, 9]);
});
