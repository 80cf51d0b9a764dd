/**
 * RTMP play with rtmpdump (librtmp) of a stream ffmpeg publishes to an
 * in-process Sluice. rtmpdump writes the FLV tags as they came off the wire,
 * timestamps untouched, so its recording also shows the server's timeline.
 */
import { assert, assertEquals, assertGreaterOrEqual } from "../_util/assert.ts";
import {
  compareWindow,
  decodeErrors,
  dtsBackwards,
  haveTools,
  makeSource,
  ofType,
  probePackets,
  publish,
  relativeDiff,
  run,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe", "rtmpdump");
/** The source's length: the publisher sends it in real time and rtmpdump records it all. */
const SOURCE_S = 8;

Deno.test({
  name:
    "rtmpdump --live records a live stream to its end: it decodes, starts on a keyframe and keeps every frame",
  ignore: !TOOLS,
  sanitizeOps: true,
  sanitizeResources: true,
  fn: () =>
    withServer(async (server, dir) => {
      const src = await makeSource(`${dir}/src.flv`, { seconds: SOURCE_S, bframes: 2 });
      const out = `${dir}/out.flv`;
      const name = "dump";
      const publisher = publish(src, server.url(name));
      try {
        await waitForPublisher(server, name);
        // It plays until the publisher ends: the server then says NetStream.Play.UnpublishNotify, on which
        // librtmp closes. (-B, stop at N seconds, only asks the server to honour play's duration argument,
        // which live servers ignore.) The timeout is only a bound.
        const dump = await run("rtmpdump", ["--live", "-r", server.url(name), "-o", out], {
          timeoutMs: 30_000,
        });
        assert(!dump.timedOut, `rtmpdump did not stop when the publisher did:\n${dump.stderr}`);
        assertEquals(dump.code, 0, `rtmpdump failed:\n${dump.stderr}`);
        // librtmp prints "ERROR: ..." for an _error answer to any of its calls, even one it can do without.
        const errors = dump.stderr.split("\n").filter((l) => l.startsWith("ERROR"));
        assertEquals(errors, [], `rtmpdump reported errors:\n${dump.stderr}`);
      } finally {
        await publisher.stop();
      }

      assertEquals(await decodeErrors(out), "", "decoding the rtmpdump recording printed errors");
      const [played, source] = await Promise.all([probePackets(out), probePackets(src)]);
      for (const kind of ["video", "audio"]) {
        const p = ofType(played, kind);
        const w = compareWindow(p, ofType(source, kind));
        console.log(
          `rtmpdump ${kind}: ${w.played} packets played, ${w.published} published over ${w.spanMs} ms`,
        );
        assert(w.sourceIndex >= 0, `${kind}: the first recorded packet is not in the source`);
        assertGreaterOrEqual(
          w.spanMs,
          (SOURCE_S - 2) * 1000,
          `${kind}: the recording holds ${w.spanMs} ms`,
        );
        assert(
          relativeDiff(w.played, w.published) <= 0.05,
          `${kind}: ${w.played} packets recorded vs ${w.published} published over the same window`,
        );
        assertEquals(dtsBackwards(p), [], `${kind}: DTS goes backwards`);
      }
      const video = ofType(played, "video");
      assert(video[0].keyframe, "the first recorded video packet is not a keyframe");
      // The wire timeline starts at 0: the server rebases every stream.
      assert(video[0].dts < 1000, `the first video timestamp on the wire is ${video[0].dts} ms`);

      const handshake = server.logs.map((l) => l.match(/handshake done \((\w+)\)/)?.[1]).filter(Boolean);
      console.log(`handshakes (publisher, rtmpdump): ${handshake.join(", ")}`);
      assertEquals(handshake.length, 2, "the server did not log both handshakes");
    }),
});
