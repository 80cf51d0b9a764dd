/**
 * SIGHUP with real clients: server.ts runs from a `--config` file with ffmpeg publishing; an RTMP player
 * and an HTTP-FLV player (ffmpeg, recording) keep playing while the file's `limits.maxPlayers` changes and
 * the server is sent SIGHUP: the new limit refuses the next player at once (503), and both recordings show
 * no gap in their frames across the reload.
 */
import { assert, assertEquals, assertLess, assertMatch } from "../_util/assert.ts";
import { waitFor } from "../_util/live.ts";
import {
  decodeErrors,
  haveTools,
  makeSource,
  ofType,
  probePackets,
  publish,
  record,
  serverProcess,
} from "../_util/media.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
const BOUND_MS = 60_000;
/** The recordings' length, s; the reload comes a few seconds into them. */
const RECORD_S = 8;

function configText(maxPlayers: number): string {
  return `// written by test/e2e/reload_test.ts
{
  "rtmp": { "host": "127.0.0.1", "port": 0 },
  "http": { "host": "127.0.0.1", "port": 0 },
  "rtsp": { "host": "127.0.0.1", "port": 0 },
  "limits": { "maxPlayers": ${maxPlayers} }
}
`;
}

Deno.test({
  name: "SIGHUP with a changed limit takes effect while an RTMP and an HTTP-FLV player play on with no gap",
  ignore: !TOOLS,
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice_reload_" });
    const conf = `${dir}/sluice.jsonc`;
    await Deno.writeTextFile(conf, configText(0));
    const { child, log, reading } = serverProcess([
      "--allow-net",
      `--allow-read=${conf}`,
      "server.ts",
      "--config",
      conf,
    ]);
    try {
      await waitFor(() => log.some((l) => / health: /.test(l)), "the server's ports", BOUND_MS);
      const ports = log.join("\n").match(/RTMP listening on 127\.0\.0\.1:(\d+), HTTP on 127\.0\.0\.1:(\d+)/);
      assert(ports, `no ports in:\n${log.join("\n")}`);
      const rtmp = `rtmp://127.0.0.1:${ports[1]}/live/cam`;
      const http = `http://127.0.0.1:${ports[2]}/live/cam.flv`;
      const src = await makeSource(`${dir}/src.flv`, { seconds: 20, gop: 25, bframes: 0 });
      const pusher = publish(src, rtmp);
      await new Promise((r) => setTimeout(r, 1500));
      const recordings = [
        record(rtmp, `${dir}/rtmp.flv`, RECORD_S),
        record(http, `${dir}/http.flv`, RECORD_S),
      ];
      await new Promise((r) => setTimeout(r, 3000));
      await Deno.writeTextFile(conf, configText(2));
      child.kill("SIGHUP");
      await waitFor(
        () => log.some((l) => /SIGHUP: reloaded .*limits\.maxPlayers/.test(l)),
        "the reload",
        BOUND_MS,
      );
      const third = await fetch(http);
      assertEquals(third.status, 503, "the third player is refused by the new limit");
      assertMatch((await third.json()).error, /players/);
      const results = await Promise.all(recordings);
      await pusher.stop();
      for (const [name, r] of [["rtmp", results[0]], ["http", results[1]]] as const) {
        assertEquals(r.code, 0, `${name} recording: ${r.stderr}`);
        const file = `${dir}/${name}.flv`;
        assertEquals(await decodeErrors(file), "", `${name}: decodes clean`);
        const video = ofType(await probePackets(file), "video");
        // 25 fps for RECORD_S seconds, and no frame missing: every step 40 ms.
        assert(video.length >= RECORD_S * 25 * 0.95, `${name}: ${video.length} video frames`);
        const steps = video.slice(1).map((p, i) => p.dts - video[i].dts); // FLV ticks: ms
        assertLess(Math.max(...steps), 41 + 1, `${name}: a gap in the frames across the reload: ${steps}`);
      }
    } catch (e) {
      console.error(`server log:\n${log.slice(-40).join("\n")}`);
      throw e;
    } finally {
      try {
        child.kill("SIGTERM");
      } catch {
        // gone
      }
      await child.status;
      await reading;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
