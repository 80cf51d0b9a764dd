/**
 * HTTP push ingest with real clients against an in-process Sluice: ffmpeg
 * pushes FLV with `-f flv http://…/live/NAME` (a chunked POST), and a Deno
 * WebSocket client sends an ffmpeg-made FLV file in random pieces; ffmpeg plays
 * the result over RTMP (and over HTTP-FLV when that output is built). The
 * recordings are compared with their source packet by packet (matched by the
 * MD5 of their data). And pushes through the admission gate: refused ones
 * publish nothing, allowed ones are listed in the session registry.
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import { FakePolicy } from "../_util/hub_fakes.ts";
import { waitFor } from "../_util/live.ts";
import {
  checkPlayback,
  COUNT_TOLERANCE,
  haveTools,
  makeSource,
  ofType,
  probePackets,
  publish,
  record,
  refusal,
  relativeDiff,
  startServer,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";
import { seededRandom } from "../_util/mutate.ts";
import { randomPieces } from "../_util/split.ts";
import type { ConfigOverrides } from "../../src/config/config.ts";
import { allow, deny, DenyKind } from "../../src/hub/admission.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
/** The recording length, in seconds of media; the pushed source runs longer so the pusher outlasts the player. */
const RECORD_S = 5;
const SOURCE_S = 8;
/** Played packet counts may differ from the published ones over the same window by this much. */
/** How long a test waits for something that should happen at once (bounds a broken test; asserts nothing). */
const BOUND_MS = 20_000;

function e2e(
  name: string,
  fn: (server: TestServer, dir: string) => Promise<void>,
  overrides: ConfigOverrides = {},
): void {
  Deno.test({
    name,
    ignore: !TOOLS,
    sanitizeOps: true,
    sanitizeResources: true,
    fn: () => withServer(fn, overrides),
  });
}

function httpUrl(server: TestServer, path: string): string {
  return `http://127.0.0.1:${server.sluice.httpPort}/${path}`;
}

e2e(
  "ffmpeg pushes FLV over HTTP POST; ffmpeg plays it over RTMP (and HTTP-FLV); a second pusher and bad FLV are refused",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: SOURCE_S });
    const pusher = publish(src, httpUrl(server, "live/post"));
    try {
      await waitForPublisher(server, "post");
      assertMatch(server.sluice.hub.get("live/post")!.publisher!.id, /^http push /);

      // A second ffmpeg pushing the same name is refused, and sees it: the connection is reset.
      const second = await publish(src, httpUrl(server, "live/post"), [], BOUND_MS).done;
      assert(second.code !== 0, `the second pusher exited ${second.code}:\n${second.stderr}`);
      assertMatch(second.stderr, /Connection reset by peer|Broken pipe/);
      // A client that reads the answer gets 409 and a one-line reason.
      const busy = await refusal(
        await fetch(httpUrl(server, "live/post"), { method: "POST", body: new Uint8Array(100) }),
      );
      assertEquals(busy, { status: 409, error: "Cannot publish live/post: it is already published" });
      // Bad FLV on another name gets 400; the first stream's players never notice.
      const bad = await refusal(
        await fetch(httpUrl(server, "live/bad"), {
          method: "POST",
          body: new TextEncoder().encode("GIF89a...."),
        }),
      );
      assertEquals(bad.status, 400);
      assertMatch(bad.error, /^Cannot read FLV header: signature is 47 49 46/);

      const httpFlv = await fetch(httpUrl(server, "live/post.flv"));
      await httpFlv.body?.cancel();
      const rtmpOut = `${dir}/rtmp.flv`;
      const httpOut = `${dir}/http.flv`;
      const [rtmp, http] = await Promise.all([
        record(server.url("post"), rtmpOut, RECORD_S),
        httpFlv.status === 501 ? undefined : record(httpUrl(server, "live/post.flv"), httpOut, RECORD_S),
      ]);
      assertEquals(rtmp.code, 0, `the RTMP player failed:\n${rtmp.stderr}`);
      await checkPlayback(src, rtmpOut, "HTTP push, RTMP play");
      if (http) {
        assertEquals(http.code, 0, `the HTTP-FLV player failed:\n${http.stderr}`);
        await checkPlayback(src, httpOut, "HTTP push, HTTP-FLV play");
      } else {
        console.log("HTTP-FLV play is not built yet (501): skipped");
      }
    } finally {
      await pusher.stop();
    }
    // The push ended (the pusher's connection dropped): the stream waits out the reconnect grace.
    await waitFor(() => server.sluice.hub.get("live/post")?.state !== "live", "the push to end", BOUND_MS);
  },
);

e2e(
  "a WebSocket client's FLV file, sent in random-size pieces, plays over RTMP; a second WebSocket pusher is refused",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: 4 });
    const bytes = await Deno.readFile(src);
    // The player waits for the publisher, so it sees the stream from its first frame.
    const out = `${dir}/ws.flv`;
    const player = record(server.url("ws"), out, 30);
    await waitFor(
      () => [...server.sluice.rtmp!.sessions].some((s) => s.role === "player"),
      "the RTMP player to wait for live/ws",
      BOUND_MS,
    );

    const url = `ws://127.0.0.1:${server.sluice.httpPort}/live/ws`;
    const ws = await openWebSocket(url);
    const pieces = randomPieces(bytes, seededRandom(0x5eed), 40_000);
    ws.send(pieces[0]);
    await waitFor(() => server.sluice.hub.get("live/ws")?.publisher !== undefined, "the WebSocket publisher");
    assertMatch(server.sluice.hub.get("live/ws")!.publisher!.id, /^ws push /);

    // A second WebSocket pusher of the same name is closed with 1008 and the reason.
    const second = await openWebSocket(url);
    const refused = await closed(second);
    assertEquals([refused.code, refused.reason], [1008, "Cannot publish live/ws: it is already published"]);

    for (const piece of pieces.slice(1)) ws.send(piece);
    const done = closed(ws);
    ws.close(1000, "end of file");
    await done;

    const rec = await player;
    assertEquals(rec.code, 0, `the RTMP player failed:\n${rec.stderr}`);
    await checkPlayback(src, out, "WebSocket push, RTMP play");
    const played = ofType(await probePackets(out), "video").length;
    const source = ofType(await probePackets(src), "video").length;
    assert(relativeDiff(played, source) <= COUNT_TOLERANCE, `${played} video packets played of ${source}`);
  },
  // The whole file arrives at once: players may queue all of it, and the stream ends soon after the push.
  { hub: { reconnectGraceMs: 300 }, player: { queueMaxMs: 60_000, queueMaxBytes: 64 * 1024 * 1024 } },
);

Deno.test({
  name:
    "ffmpeg pushing over HTTP to a server whose policy denies exits non-zero and publishes nothing; a reading client gets 401 or 403 and the reason; an allowed key publishes",
  ignore: !TOOLS,
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_e2e_" });
    const policy = new FakePolicy((req) => {
      if (req.action !== "publish" || req.query.key === "good") return allow();
      return req.query.key === undefined
        ? deny("no key", DenyKind.Unauthorized)
        : deny(`key ${req.query.key} may not publish`, DenyKind.Forbidden);
    });
    const server = await startServer({}, policy);
    try {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 3 });

      // ffmpeg never reads the answer to its POST (and Deno answers "100 Continue" before the handler runs, so
      // not even -send_expect_100 makes it wait for one): all it can show is the reset after the refusal.
      const denied = await publish(src, httpUrl(server, "live/gated"), [], BOUND_MS).done;
      assert(denied.code !== 0, `the denied pusher exited ${denied.code}:\n${denied.stderr}`);
      assertMatch(denied.stderr, /Connection reset by peer|Broken pipe/);
      assertEquals(server.sluice.hub.get("live/gated"), undefined, "nothing is published");
      assertEquals(
        server.logs.filter((l) => l.includes("publish refused: denied: no key")).length,
        1,
        "one close line with the reason",
      );
      const asked = policy.requests[0];
      assertEquals([asked.protocol, asked.key, asked.remote?.hostname], [
        "http-push",
        "live/gated",
        "127.0.0.1",
      ]);

      // A client that reads the answer gets the status and the reason.
      const post = (search: string) =>
        fetch(httpUrl(server, `live/gated${search}`), { method: "POST", body: new Uint8Array(100) });
      assertEquals(await refusal(await post("")), {
        status: 401,
        error: "Cannot publish live/gated: no key",
      });
      assertEquals(await refusal(await post("?key=abc")), {
        status: 403,
        error: "Cannot publish live/gated: key abc may not publish",
      });
      assertEquals(server.sluice.hub.get("live/gated"), undefined, "still nothing is published");

      // The key the policy allows publishes, and the push is in the registry as an http-push publisher.
      const pusher = publish(src, httpUrl(server, "live/gated?key=good"));
      try {
        await waitForPublisher(server, "gated");
        assertEquals(server.sluice.hub.get("live/gated")!.snapshot().publisher!.protocol, "http-push");
        const sessions = server.sluice.hub.sessions.list({ protocol: "http-push" });
        assertEquals(sessions.map((s) => [s.role, s.key]), [["publisher", "live/gated"]]);
      } finally {
        await pusher.stop();
      }
      await waitFor(
        () => server.sluice.hub.sessions.list({ protocol: "http-push" }).length === 0,
        "the push to leave the registry",
        BOUND_MS,
      );
    } catch (e) {
      console.error(`server log (last 40 lines):\n${server.logs.slice(-40).join("\n")}`);
      throw e;
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function openWebSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = (e) => reject(new Error(`Cannot open ${url}: ${(e as ErrorEvent).message}`));
  });
}

function closed(ws: WebSocket): Promise<CloseEvent> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.reject(new Error("already closed"));
  return new Promise((resolve) => ws.addEventListener("close", resolve, { once: true }));
}
