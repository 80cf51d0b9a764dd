/**
 * HTTP callbacks, seen from real clients: a callback server (`Deno.serve` on
 * port 0) that allows, refuses with a reason, hangs for 10 s, or is not
 * there at all, in front of ffmpeg publishing over RTMP, HTTP-FLV players and
 * Sluice's own RTMP client; and the done-callback a finished publish sends.
 */
import { assert, assertEquals, assertGreaterOrEqual, assertMatch } from "../_util/assert.ts";
import { isAv, waitFor } from "../_util/live.ts";
import {
  type FlvTag,
  FlvTagReader,
  haveTools,
  makeSource,
  publish,
  startServer,
  type TestServer,
  waitForPublisher,
} from "../_util/media.ts";
import { CallbackPolicy, type CallbackSettings } from "../../src/auth/callbacks.ts";
import { DoneNotifier } from "../../src/auth/done_notifier.ts";
import { makeConfig } from "../../src/config/config.ts";
import { RtmpClient } from "../../src/rtmp/client/client.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");

/** How long the hanging callback takes to answer. */
const HANG_MS = 10_000;
/** The callback timeout of these tests. */
const TIMEOUT_MS = 1_000;
/** Bounds a wait on a client, so a broken test ends instead of hanging. */
const BOUND_MS = 20_000;

/** One POST the callback server got. */
interface Hit {
  path: string;
  body: Record<string, unknown>;
}

/**
 * A callback server: each POST is recorded and answered by `answer` (default 200). `hang()` answers
 * after HANG_MS, or at close().
 */
class CallbackServer {
  readonly hits: Hit[] = [];
  answer: (hit: Hit) => Response | Promise<Response> = () => new Response(null, { status: 200 });
  #server: Deno.HttpServer;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #released = Promise.withResolvers<void>();

  constructor() {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
      const hit = { path: new URL(req.url).pathname, body: await req.json() };
      this.hits.push(hit);
      return this.answer(hit);
    });
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.#server.addr as Deno.NetAddr).port}${path}`;
  }

  async hang(): Promise<Response> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, HANG_MS);
      this.#timers.add(timer);
    });
    await Promise.race([late, this.#released.promise]);
    clearTimeout(timer);
    this.#timers.delete(timer!);
    return new Response(null, { status: 200 });
  }

  /** The bodies of the hits of one callback (`on_publish`, ...). */
  of(action: string): Record<string, unknown>[] {
    return this.hits.filter((h) => h.body.action === action).map((h) => h.body);
  }

  async close(): Promise<void> {
    this.#released.resolve();
    await this.#server.shutdown();
  }
}

/** The callback settings of a test: the defaults, the callback timeout of these tests, and `over`. */
function settings(over: Partial<CallbackSettings>): CallbackSettings {
  return { ...makeConfig().auth, callbackTimeoutMs: TIMEOUT_MS, ...over };
}

/**
 * Runs `fn` with a callback server, a Sluice whose admission asks `policyOf(hooks)`, and a temp dir;
 * prints the server's log when `fn` fails.
 */
async function withCallbacks(
  policyOf: (hooks: CallbackServer) => CallbackSettings,
  fn: (server: TestServer, hooks: CallbackServer, dir: string) => Promise<void>,
): Promise<void> {
  const hooks = new CallbackServer();
  const dir = await Deno.makeTempDir({ prefix: "sluice_callbacks_" });
  let server: TestServer | undefined;
  try {
    server = await startServer({}, new CallbackPolicy(policyOf(hooks)));
    await fn(server, hooks, dir);
  } catch (e) {
    if (server) console.error(`server log (last 40 lines):\n${server.logs.slice(-40).join("\n")}`);
    throw e;
  } finally {
    await server?.stop();
    await hooks.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function flvUrl(server: TestServer, path: string): string {
  return `http://127.0.0.1:${server.sluice.httpPort}/live/${path}`;
}

/** Reads an HTTP-FLV play until it holds `videoTags` video tags; the tags read. */
async function playFlv(url: string, videoTags: number): Promise<FlvTag[]> {
  const res = await fetch(url);
  assertEquals(res.status, 200, `GET ${url}`);
  const reader = res.body!.getReader();
  const flv = new FlvTagReader();
  const tags: FlvTag[] = [];
  const deadline = Date.now() + BOUND_MS;
  while (tags.filter((t) => t.type === 9).length < videoTags && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    tags.push(...flv.push(value));
  }
  await reader.cancel();
  return tags;
}

/** A port nothing listens on. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name: "callbacks: an allowing callback is told who, what and where before ffmpeg publishes and an " +
    "HTTP-FLV player plays; on_publish_done then carries the key and the bytes received",
  ignore: !TOOLS,
  fn: () =>
    withCallbacks((hooks) =>
      settings({
        onConnect: hooks.url("/connect"),
        onPublish: hooks.url("/publish"),
        onPlay: hooks.url("/play"),
      }), async (server, hooks, dir) => {
      const done = new DoneNotifier(
        { ...makeConfig().auth, onPublishDone: hooks.url("/done"), onPlayDone: hooks.url("/done") },
        server.sluice.hub.sessions,
      );
      done.start();
      try {
        const src = await makeSource(`${dir}/src.flv`, { seconds: 4 });
        const pub = publish(src, `${server.url("cam")}?token=abc`);
        await waitForPublisher(server, "cam");
        const tags = await playFlv(flvUrl(server, "cam.flv?viewer=v1"), 10);
        assertGreaterOrEqual(tags.filter((t) => t.type === 9).length, 10, "video tags played");
        const r = await pub.done;
        assertEquals(r.code, 0, `ffmpeg: ${r.stderr}`);

        const [connect] = hooks.of("on_connect");
        assertEquals([connect.protocol, connect.app, connect.address], ["rtmp", "live", "127.0.0.1"]);
        const [published] = hooks.of("on_publish");
        assertEquals(
          [published.protocol, published.key, published.stream, published.query, published.address],
          ["rtmp", "live/cam", "cam", { token: "abc" }, "127.0.0.1"],
        );
        assertMatch(String(published.tcUrl), /^rtmp:\/\/127\.0\.0\.1:\d+\/live/);
        assertEquals(published.sessionId, connect.sessionId);
        const [played] = hooks.of("on_play");
        assertEquals([played.protocol, played.key, played.query], ["http-flv", "live/cam", { viewer: "v1" }]);
        assertEquals(
          hooks.hits.slice(0, 2).map((h) => h.path),
          ["/connect", "/publish"],
          "on_connect came before on_publish",
        );

        await waitFor(() => hooks.of("on_publish_done").length === 1, "on_publish_done", BOUND_MS);
        const [ended] = hooks.of("on_publish_done");
        const size = (await Deno.stat(src)).size;
        assertEquals([ended.key, ended.protocol, ended.sessionId], ["live/cam", "rtmp", published.sessionId]);
        assertGreaterOrEqual(Number(ended.bytesIn), size * 0.9, `bytes received of a ${size}-byte file`);
        assert(Number(ended.durationMs) > 0, `durationMs ${ended.durationMs}`);
        await waitFor(() => hooks.of("on_play_done").length === 1, "on_play_done", BOUND_MS);
        const [playEnded] = hooks.of("on_play_done");
        assertEquals([playEnded.key, playEnded.protocol], ["live/cam", "http-flv"]);
        assert(Number(playEnded.bytesOut) > 0, `bytesOut ${playEnded.bytesOut}`);
      } finally {
        await done.stop();
      }
    }),
});

Deno.test({
  name: "callbacks: a 403 with a reason refuses ffmpeg's RTMP publish and an HTTP-FLV play with that " +
    "reason, logged once",
  ignore: !TOOLS,
  fn: () =>
    withCallbacks(
      (hooks) => settings({ onPublish: hooks.url("/publish"), onPlay: hooks.url("/play") }),
      async (
        server,
        hooks,
        dir,
      ) => {
        hooks.answer = (hit) =>
          hit.body.stream === "banned"
            ? Response.json({ reason: "banned by the callback" }, { status: 403 })
            : new Response(null, { status: 200 });
        const src = await makeSource(`${dir}/src.flv`, { seconds: 2 });
        const r = await publish(src, server.url("banned")).done;
        assert(r.code !== 0, `ffmpeg exited ${r.code}`);
        assertMatch(r.stderr, /banned by the callback/);
        assertEquals(server.sluice.hub.get("live/banned"), undefined, "the refused publish went live");
        await waitFor(
          () =>
            server.logs.some((l) =>
              /publish of live\/banned refused: denied: banned by the callback/.test(l)
            ),
          "the refusal in the log",
        );
        assertEquals(server.logs.filter((l) => l.includes("banned by the callback")).length, 1, "log lines");

        const res = await fetch(flvUrl(server, "banned.flv"));
        assertEquals(res.status, 403);
        assertMatch((await res.json()).error, /Cannot play live\/banned: banned by the callback/);
        assertEquals(hooks.of("on_play").map((b) => b.key), ["live/banned"]);
      },
    ),
});

Deno.test({
  name: "callbacks: a callback that answers after 10 s denies its publisher after callbackTimeoutMs, " +
    "while another stream's RTMP player keeps receiving frames",
  ignore: !TOOLS,
  fn: () =>
    withCallbacks(
      (hooks) => settings({ onPublish: hooks.url("/publish"), onPlay: hooks.url("/play") }),
      async (
        server,
        hooks,
        dir,
      ) => {
        hooks.answer = (hit) =>
          hit.body.stream === "slow" ? hooks.hang() : new Response(null, { status: 200 });
        const src = await makeSource(`${dir}/src.flv`, { seconds: 30 });
        const pub = publish(src, server.url("cam"));
        const client = await RtmpClient.connect(server.url("cam"));
        let frames = 0;
        let reading: Promise<void> | undefined;
        try {
          await waitForPublisher(server, "cam");
          const player = await client.play();
          let stop = false;
          reading = (async () => {
            while (!stop) {
              const ev = await player.read(BOUND_MS);
              if (ev === undefined) return;
              if (isAv(ev)) frames++;
            }
          })();
          await waitFor(() => frames > 0, "the player's first frame", BOUND_MS);

          const slow = publish(src, server.url("slow"));
          await waitFor(() => hooks.of("on_publish").some((b) => b.stream === "slow"), "the slow callback");
          const atHang = frames;
          const refused = await slow.done;
          const duringHang = frames - atHang;
          stop = true;
          console.log(`${duringHang} audio and video frames played while the callback hung`);
          assert(refused.code !== 0, `ffmpeg exited ${refused.code}`);
          assertMatch(refused.stderr, /callback on_publish failed: no answer within 1000 ms/);
          assertEquals(server.sluice.hub.get("live/slow"), undefined, "the timed-out publish went live");
          // 1 s of 25 fps video and 44.1 kHz AAC is about 68 frames; a stalled player would get none.
          assertGreaterOrEqual(duringHang, 10, "frames played while the callback hung");
        } finally {
          await client.close();
          await reading?.catch(() => {});
          await pub.stop();
        }
      },
    ),
});

Deno.test({
  name: "callbacks: a callback server that is down refuses an RTMP publish and an HTTP-FLV play: " +
    "connection refused",
  ignore: !TOOLS,
  fn: () => {
    const down = `http://127.0.0.1:${closedPort()}/hook`;
    return withCallbacks(() => settings({ onPublish: down, onPlay: down }), async (server, _hooks, dir) => {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 2 });
      const r = await publish(src, server.url("cam")).done;
      assert(r.code !== 0, `ffmpeg exited ${r.code}`);
      assertMatch(r.stderr, /callback on_publish failed: connection refused/);
      assert(!r.stderr.includes(down), "the callback's URL reached the client");
      const res = await fetch(flvUrl(server, "cam.flv"));
      assertEquals(res.status, 503);
      assertMatch((await res.json()).error, /callback on_play failed: connection refused/);
    });
  },
});
