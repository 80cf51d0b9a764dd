/**
 * Hostile RTSP input while a real player plays: ffmpeg records a live stream over TCP interleaved, and
 * meanwhile other raw connections send what no client should (garbage, a 1 MB header line, a head that
 * never ends, an interleaved frame on a channel no SETUP chose, a huge Content-Length). Each is answered
 * with the status the reader gives it (RFC 2326 7.1.1; 431 from RFC 6585 5) or closed, the server logs one
 * line for it, and the player's recording still decodes clean at the source's rate.
 */
import { assert, assertEquals, assertGreaterOrEqual, assertMatch, assertNotEquals } from "../_util/assert.ts";
import {
  haveTools,
  makeSource,
  publish,
  RTSP_TEST_CONFIG,
  rtspUrl,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";
import { checkRecording, recordRtsp, timedPackets } from "../_util/rtsp_media.ts";
import { RtspTestClient } from "../rtsp/_client.ts";
import { RtspReader } from "../../src/rtsp/reader.ts";
import { interleave } from "../../src/media/rtp/interleaved.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");

const enc = new TextEncoder();

/** How long a hostile connection may stay open before the test gives up on the server closing it, ms. */
const CLOSE_WAIT_MS = 10_000;

/** How a hostile connection ended: the status the server answered (if one arrived), and how it closed. */
interface Outcome {
  status: number | undefined;
  /**
   * "eof": the server closed; "reset": it reset the connection (unread bytes were still arriving); "open":
   * still open after CLOSE_WAIT_MS.
   */
  closed: "eof" | "reset" | "open";
}

/**
 * Writes `chunks` (each after the one before is written, `pauseMs` apart) while reading what the server
 * answers, until the server closes. Write errors after a close are expected: the server stops reading once
 * it has refused.
 */
async function hostile(
  port: number,
  chunks: Iterable<Uint8Array>,
  pauseMs = 0,
): Promise<Outcome & { local: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const local = (conn.localAddr as Deno.NetAddr).port;
  let stop = false;
  const reading = untilClosed(conn, new RtspReader()).finally(() => stop = true);
  try {
    for (const chunk of chunks) {
      if (stop) break;
      await conn.write(chunk);
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  } catch {
    // the server closed while we wrote
  }
  const outcome = await reading;
  return { ...outcome, local };
}

/**
 * Reads until the server closes (or CLOSE_WAIT_MS passes: then closes `conn` itself), then closes `conn`;
 * with `reader`, the first response's status.
 */
async function untilClosed(conn: Deno.Conn, reader?: RtspReader): Promise<Outcome> {
  let gaveUp = false;
  const timer = setTimeout(() => {
    gaveUp = true;
    conn.close();
  }, CLOSE_WAIT_MS);
  const buf = new Uint8Array(65536);
  let status: number | undefined;
  let closed: Outcome["closed"];
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) {
        closed = "eof";
        break;
      }
      for (const item of reader?.push(buf.subarray(0, n)) ?? []) {
        if (item.type === "response") status ??= item.status;
      }
    }
  } catch {
    closed = "reset";
  } finally {
    clearTimeout(timer);
  }
  if (gaveUp) return { status, closed: "open" };
  try {
    conn.close();
  } catch {
    // closed already
  }
  return { status, closed };
}

/** The server's log lines about the connection from local port `port` (its tag names the address). */
function linesOf(server: TestServer, port: number): string[] {
  return server.logs.filter((l) => l.includes(`127.0.0.1:${port}]`));
}

/** Waits (bounded) for the connection's close line; returns its lines. */
async function closeLines(server: TestServer, port: number): Promise<string[]> {
  for (let waited = 0; waited < 5_000; waited += 20) {
    if (linesOf(server, port).some((l) => l.includes("closed:"))) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return linesOf(server, port);
}

function* repeat(bytes: Uint8Array, times: number): Generator<Uint8Array> {
  for (let i = 0; i < times; i++) yield bytes;
}

Deno.test({
  name:
    "RTSP refuses garbage, a 1 MB header, an endless head, a stray interleaved channel and a huge body, each logged once, while ffmpeg plays on",
  ignore: !TOOLS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withServer(async (server, dir) => {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 16, bframes: 2 });
      const publisher = publish(src, server.url("x"));
      const out = `${dir}/out.mp4`;
      const port = server.sluice.rtspPort;
      const url = rtspUrl(server, "x");
      try {
        await waitForPublisher(server, "x");
        // The normal player, first: 8 s recorded over TCP interleaved while the rest happens.
        const player = recordRtsp(url, out, 8);
        const until = Date.now() + 10_000;
        while (!server.logs.some((l) => l.includes("playing live/x")) && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 20));
        }

        const cases: { what: string; run: () => Promise<Outcome & { local: number }>; status?: number }[] = [
          {
            what: "binary garbage with line ends",
            status: 400,
            run: () =>
              hostile(port, [
                Uint8Array.from([
                  0x00,
                  0xff,
                  0x13,
                  0x37,
                  0x20,
                  0x7f,
                  0x0d,
                  0x0a,
                  0x01,
                  0x02,
                  0x0d,
                  0x0a,
                  0x0d,
                  0x0a,
                ]),
              ]),
          },
          {
            what: "an HTTP request",
            status: 505,
            run: () => hostile(port, [enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")]),
          },
          {
            what: "a 1 MB request line",
            status: 414,
            run: () =>
              hostile(port, [
                enc.encode(`DESCRIBE ${url}?`),
                ...repeat(enc.encode("a".repeat(64 * 1024)), 16),
                enc.encode(" RTSP/1.0\r\nCSeq: 1\r\n\r\n"),
              ]),
          },
          {
            what: "a 1 MB header line",
            status: 431,
            run: () =>
              hostile(port, [
                enc.encode(`OPTIONS ${url} RTSP/1.0\r\nCSeq: 1\r\nX-Big: `),
                ...repeat(enc.encode("b".repeat(64 * 1024)), 16),
                enc.encode("\r\n\r\n"),
              ]),
          },
          {
            what: "a head that never ends, sent slowly",
            status: 431,
            run: () =>
              hostile(port, [
                enc.encode(`OPTIONS ${url} RTSP/1.0\r\nCSeq: 1\r\n`),
                // 1 KiB of fields every 5 ms: past the head cap (16 KiB) in under a second; bounded at 1 MiB.
                ...repeat(enc.encode("X-More: yes\r\n".repeat(79)), 1024),
              ], 5),
          },
          {
            what: "a huge Content-Length",
            status: 413,
            run: () =>
              hostile(port, [
                enc.encode(
                  `ANNOUNCE ${url} RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: 1000000000\r\n\r\nv=0\r\n`,
                ),
              ]),
          },
        ];
        for (const c of cases) {
          const got = await c.run();
          const lines = await closeLines(server, got.local);
          console.log(
            `${c.what}: status ${got.status ?? "none"}, ${got.closed}; logged: ${lines.join(" / ")}`,
          );
          assertNotEquals(got.closed, "open", `${c.what}: the server kept the connection open`);
          assert(
            got.status === c.status || (got.status === undefined && got.closed === "reset"),
            `${c.what}: answered ${got.status}, expected ${c.status} (or a reset before it)`,
          );
          assertEquals(
            lines.length,
            1,
            `${c.what}: the server logged ${lines.length} lines:\n${lines.join("\n")}`,
          );
          assertMatch(lines[0], /closed: no stream, .*: protocol error: Cannot read/);
        }

        // A player that sets up video on channels 0-1, plays, then sends a frame on channel 9.
        const stray = await RtspTestClient.connect(port);
        const local = (stray.conn.localAddr as Deno.NetAddr).port;
        try {
          const setup = await stray.request({
            method: "SETUP",
            uri: `${url}/trackID=0`,
            transport: "RTP/AVP/TCP;unicast;interleaved=0-1",
          });
          assertEquals(setup.status, 200);
          const id = setup.headers.get("Session")!.split(";")[0];
          const play = await stray.request({ method: "PLAY", uri: url, session: { id } });
          assertEquals(play.status, 200);
          const before = linesOf(server, local).length;
          await stray.conn.write(interleave(new Uint8Array([0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 0]), 9));
          // What follows PLAY on the connection is RTP until the server closes it.
          const { closed } = await untilClosed(stray.conn);
          assertNotEquals(
            closed,
            "open",
            "the server closes a connection that sends on a channel no SETUP chose",
          );
          const lines = (await closeLines(server, local)).slice(before);
          console.log(`stray interleaved channel: closed; logged after PLAY: ${lines.join(" / ")}`);
          assertEquals(lines.length, 1, `stray channel: the server logged:\n${lines.join("\n")}`);
          assertMatch(
            lines[0],
            /closed: player live\/x, .*interleaved data on channel 9, which no SETUP chose/,
          );
        } finally {
          stray.close();
        }

        const rec = await player;
        assertEquals(rec.code, 0, `the RTSP ffmpeg failed:\n${rec.stderr}`);
      } finally {
        await publisher.stop();
      }
      await checkRecording(out, src, "tcp beside hostile connections");
      // And all of it: the player's 8 s, not cut short by the connections beside it.
      const video = (await timedPackets(out)).filter((p) => p.type === "video");
      assertGreaterOrEqual(video[video.length - 1].dts - video[0].dts, 7_500, "the player's recording, ms");
    }, RTSP_TEST_CONFIG),
});
