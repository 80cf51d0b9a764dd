/**
 * Hostile HTTP clients against an in-process Sluice (issue 10 item 3), each
 * case followed by the check of `test/_util/hostile.ts`: `/health` answers,
 * the standing publisher still publishes, a normal HTTP-FLV and RTMP player
 * still play live frames, and the settled RSS is back near its baseline.
 *
 * - slowloris: 200 connections trickle a request head one byte a second; a
 *   normal player plays meanwhile. Deno.serve has no header timeout, so none
 *   of them is closed by the server while they trickle; each holds a socket
 *   until its peer goes (what the log line of the case records);
 * - 1,000 idle connections that send nothing: a normal player plays while
 *   they are open, and the sockets go when the peers close;
 * - a 64 KiB URL: refused by the HTTP/1.1 server (414) before any route; a
 *   60 KB path reaches the router (404) and an 8,000-character query the
 *   admission gate's bound (4xx naming the limit);
 * - 2 MB of request headers, in 2,048 lines or in one: refused (400 or 431);
 * - HTTP pushes of random bytes, of a valid FLV header then random bytes,
 *   and of a tag past `ingest.maxTagBytes`: 400 with the reason, nothing
 *   published;
 * - an endless push at full speed: valid tags as fast as the socket takes
 *   them for 1.5 s (hundreds of times real time), with a player of that
 *   stream reading; the normal player plays during the flood;
 * - a push that stalls mid-tag: 408 at `ingest.idleTimeoutMs`.
 *
 * @module
 */
import { assert, assertEquals, assertGreater, assertMatch } from "../_util/assert.ts";
import {
  closeAll,
  flvHeader,
  flvTagOf,
  hostileTest,
  logged,
  MiB,
  openConnections,
  openFds,
  playHttpFlv,
  playRtmp,
  rawHttp,
  readToEnd,
  STEP_TIMEOUT_MS,
  within,
  writeAllQuietly,
} from "../_util/hostile.ts";
import { waitFor } from "../_util/live.ts";
import { refusal } from "../_util/media.ts";
import { seededRandom } from "../_util/mutate.ts";
import { SyntheticStream } from "../_util/live.ts";
import { concatBytes } from "../../src/bytes.ts";
import { Protocol } from "../../src/hub/session_kind.ts";

const encoder = new TextEncoder();

/** Seeded random bytes. */
function randomBytes(n: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
}

/** How many of `conns` the server has closed (a read that ends or fails), checked by a read each. */
function watchClosed(conns: readonly Deno.Conn[]): { closed: () => number; done: Promise<void> } {
  let closed = 0;
  const done = Promise.all(conns.map(async (c) => {
    await readToEnd(c).catch(() => {});
    closed++;
  })).then(() => {});
  return { closed: () => closed, done };
}

/** Waits until the process is back near `fds` open descriptors (the server let go of its sockets). */
async function fdsBackTo(fds: number | undefined, what: string): Promise<void> {
  if (fds === undefined) return;
  await waitFor(() => (openFds() ?? 0) <= fds + 16, `${what}: the server's sockets closed`, STEP_TIMEOUT_MS);
}

hostileTest(
  "HTTP slowloris: 200 connections trickling a request head do not stop a normal player",
  async (h) => {
    const SECONDS = 3;
    const fdsBefore = openFds();
    const conns = await openConnections(h.server.sluice.httpPort, 200);
    const watch = watchClosed(conns);
    try {
      const head = encoder.encode("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1");
      let playedDuring = false;
      const playing = (async () => {
        await playHttpFlv(h.server, h.normal);
        await playRtmp(h.server, h.normal);
        playedDuring = true;
      })();
      for (let i = 0; i < SECONDS; i++) {
        await Promise.all(conns.map((c) => writeAllQuietly(c, head.subarray(i, i + 1))));
        await new Promise((r) => setTimeout(r, 1000));
      }
      await playing;
      assert(playedDuring, "a normal player played while the slow connections trickled");
      const fdsDuring = openFds();
      console.log(
        `slowloris: after ${SECONDS} s of one byte a second, ${watch.closed()} of ${conns.length} ` +
          `connections closed by the server; open fds ${fdsBefore} before, ${fdsDuring} during ` +
          "(the attacker's and the server's end of each connection are both in this process)",
      );
    } finally {
      closeAll(conns);
      await watch.done;
    }
    await fdsBackTo(fdsBefore, "slowloris");
  },
);

hostileTest("HTTP: 1,000 idle connections do not stop a normal player", async (h) => {
  const fdsBefore = openFds();
  const conns = await openConnections(h.server.sluice.httpPort, 1000);
  const watch = watchClosed(conns);
  try {
    await playHttpFlv(h.server, h.normal);
    await playRtmp(h.server, h.normal);
    console.log(
      `idle connections: ${watch.closed()} of ${conns.length} closed by the server while a player played; ` +
        `open fds ${fdsBefore} before, ${openFds()} with them open`,
    );
  } finally {
    closeAll(conns);
    await watch.done;
  }
  await fdsBackTo(fdsBefore, "idle connections");
});

hostileTest(
  "HTTP: a 64 KiB URL is refused before any route; long paths and queries get a JSON answer",
  async (h) => {
    const port = h.server.sluice.httpPort;
    const huge = await rawHttp(
      port,
      encoder.encode(`GET /live/${"a".repeat(64 * 1024)}.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
    );
    assertEquals(huge.status, 414, `a 64 KiB URL: ${huge.text.slice(0, 80)}`);

    const longPath = await fetch(h.http(`/${"a".repeat(60_000)}`));
    assertEquals(longPath.status, 404);
    assertMatch((await longPath.json() as { error: string }).error, /^Cannot GET \/aaaa/);

    // The same 400 for a play and a push (and a file, src/vod/http_vod.ts): the request cannot be read.
    for (const method of ["GET", "POST"]) {
      const url = `/live/${h.normal.name}.flv`;
      const longQuery = await fetch(h.http(`${url}?${"k=v&".repeat(2000)}`), {
        method,
        body: method === "POST" ? new Uint8Array(0) : undefined,
      });
      // A refused push's JSON line comes before the connection reset (refusal() reads up to it).
      const { status, error } = await refusal(longQuery);
      assertEquals(status, 400, `a long query on ${method} ${url}`);
      assertMatch(error, /8000 characters, limit 4096/);
    }
  },
);

hostileTest("HTTP: 2 MB of request headers are refused and the connection closed", async (h) => {
  const port = h.server.sluice.httpPort;
  const line = `X-Pad: ${"b".repeat(1017)}\r\n`; // 1 KiB a line
  for (
    const [what, headers] of [
      ["2,048 header lines", line.repeat(2048)],
      ["one 2 MB header", `X-Pad: ${"b".repeat(2 * MiB)}\r\n`],
    ] as const
  ) {
    const answer = await rawHttp(
      port,
      encoder.encode(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`),
    );
    assert(answer.status === 400 || answer.status === 431, `${what}: ${answer.text.slice(0, 80)}`);
  }
});

/** Pushes `body` to `live/{name}` and reads the refusal's status and JSON line. */
async function push(h: { http(path: string): string }, name: string, body: Uint8Array) {
  return await refusal(await fetch(h.http(`/live/${name}`), { method: "POST", body: new Uint8Array(body) }));
}

hostileTest(
  "HTTP push of random bytes, of an FLV header and garbage, and of a huge tag: 400 and nothing published",
  async (h) => {
    const random = await push(h, "random", randomBytes(64 * 1024, 1));
    assertEquals(random.status, 400);
    assertMatch(random.error, /^Cannot read FLV header: signature is/);

    const garbage = await push(h, "garbage", concatBytes([flvHeader(), randomBytes(64 * 1024, 2)]));
    assertEquals(garbage.status, 400);
    assertMatch(garbage.error, /^Cannot read FLV (tag|stream) at byte 13:/);

    // A video tag declaring 16 MiB - 1 bytes (the field's largest), past ingest.maxTagBytes.
    const hugeTag = Uint8Array.of(9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x17, 1);
    const huge = await push(h, "huge", concatBytes([flvHeader(), hugeTag]));
    assertEquals(huge.status, 400);
    assertMatch(huge.error, /DataSize is 16777215, limit \d+/);

    for (const name of ["random", "garbage", "huge"]) {
      assertEquals(
        h.server.sluice.hub.get(`live/${name}`)?.publisher,
        undefined,
        `live/${name} has a publisher`,
      );
    }
  },
);

hostileTest(
  "HTTP push of an endless body at full speed: bounded, and a normal player plays during it",
  async (h) => {
    const FLOOD_MS = 1500;
    const syn = new SyntheticStream({ marker: 0x66 });
    let sent = 0;
    let started = 0;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        started = Date.now();
        c.enqueue(flvHeader());
        for (const f of syn.headers()) c.enqueue(flvTagOf(f));
      },
      pull(c) {
        if (Date.now() - started > FLOOD_MS) return c.close();
        for (const f of syn.next()) {
          const tag = flvTagOf(f);
          sent += tag.length;
          c.enqueue(tag);
        }
      },
    });
    const pushing = fetch(h.http("/live/flood"), { method: "POST", body });
    // A player of the flooded stream, reading as fast as it can until the push ends.
    await waitFor(
      () => h.server.sluice.hub.get("live/flood")?.publisher !== undefined,
      "the flood publishing",
    );
    const floodPlayer = await fetch(h.http("/live/flood.flv"));
    assertEquals(floodPlayer.status, 200);
    const floodReader = floodPlayer.body!.getReader();
    let played = 0;
    const reading = (async () => {
      try {
        while (true) {
          const { value, done } = await floodReader.read();
          if (done) return;
          played += value.length;
        }
      } catch {
        // cancelled below, or the server closed a player that fell behind: its bound at work
      }
    })();
    await playHttpFlv(h.server, h.normal);
    const res = await within(pushing, STEP_TIMEOUT_MS + FLOOD_MS, "the flood's answer");
    const summary = await res.json() as { bytes: number; videoFrames: number; durationMs: number };
    assertEquals(res.status, 200);
    await floodReader.cancel().catch(() => {});
    await reading;
    const mediaMs = syn.elapsedMs;
    console.log(
      `full-speed push: ${(summary.bytes / MiB).toFixed(0)} MiB, ${summary.videoFrames} video frames ` +
        `(${(mediaMs / 1000).toFixed(0)} s of media, ${
          Math.round(mediaMs / summary.durationMs)
        }x real time) ` +
        `in ${summary.durationMs} ms; its player read ${(played / MiB).toFixed(0)} MiB`,
    );
    assertGreater(summary.bytes, sent / 2, "the server read the flood");
    assertGreater(played, 0, "the flood's player got bytes");
  },
);

hostileTest("HTTP push that stalls mid-tag is closed with 408 at ingest.idleTimeoutMs", async (h) => {
  // A video tag header declaring 1000 bytes, then 5 of them, then nothing.
  const start = concatBytes([
    flvHeader(),
    Uint8Array.of(9, 0, 0x03, 0xe8, 0, 0, 0, 0, 0, 0, 0, 0x17, 1, 0, 0, 0),
  ]);
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      c.enqueue(start);
    },
  });
  try {
    const answer = await refusal(await fetch(h.http("/live/stall"), { method: "POST", body }));
    assertEquals(answer, { status: 408, error: "Cannot publish live/stall: no data for 500 ms" });
  } finally {
    try {
      controller.close();
    } catch {
      // the upload was already cancelled
    }
  }
  await waitFor(
    () => !h.server.sluice.hub.sessions.list().some((s) => s.protocol === Protocol.HttpPush),
    "the stalled push leave the session registry",
  );
  assert(
    logged(h.server, /closed: in \d+ B, 0 tags, .*idle publisher: no data for 500 ms/),
    "the close line",
  );
}, { ingest: { idleTimeoutMs: 500 } });
