/**
 * The admission gate, seen from real clients: a fake policy denies one name
 * (or one action), and ffmpeg, rtmpdump, Sluice's client, fetch and a browser
 * WebSocket each see their protocol's refusal, while everything else goes on.
 * A policy that takes 2 s to answer holds up only the one who asked.
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import { FakePolicy } from "../_util/hub_fakes.ts";
import {
  haveTools,
  makeSource,
  publish,
  record,
  run,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";
import { readMedia, SyntheticStream, waitFor } from "../_util/live.ts";
import {
  AdmissionAction,
  type AdmissionDecision,
  type AdmissionRequest,
  allow,
  deny,
  DenyKind,
} from "../../src/hub/admission.ts";
import { RtmpClient, RtmpStatusError } from "../../src/rtmp/client/client.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe", "rtmpdump");

/** Denies `action` of any stream (or VOD file) named "denied" with `reason`, allows the rest. */
function denyNamed(action: AdmissionAction | "any", reason: string, kind: DenyKind = DenyKind.Forbidden) {
  return new FakePolicy((req: AdmissionRequest): AdmissionDecision =>
    req.name.replace(/\.flv$/, "") === "denied" && (action === "any" || req.action === action)
      ? deny(reason, kind)
      : allow()
  );
}

function logged(server: TestServer, re: RegExp): boolean {
  return server.logs.some((l) => re.test(l));
}

function httpUrl(server: TestServer, path: string): string {
  return `http://127.0.0.1:${server.sluice.httpPort}/${path}`;
}

Deno.test({
  name:
    "admission: a denied RTMP publish makes ffmpeg exit non-zero with the reason, and nothing is published",
  ignore: !TOOLS,
  fn: () =>
    withServer(async (server, dir) => {
      const policy = denyNamed(AdmissionAction.Publish, "no stream key");
      server.sluice.hub.admission = policy;
      const src = await makeSource(`${dir}/src.flv`, { seconds: 2 });
      const r = await publish(src, `${server.url("denied")}?key=wrong`).done;
      assert(r.code !== 0, `ffmpeg exited ${r.code}`);
      assertMatch(r.stderr, /no stream key/);
      assertEquals(server.sluice.hub.get("live/denied"), undefined);
      await waitFor(
        () => logged(server, /publish of live\/denied refused: denied: no stream key/),
        "the refusal in the log",
      );
      const req = policy.requests[0];
      assertEquals([req.action, req.protocol, req.app, req.name, req.key], [
        "publish",
        "rtmp",
        "live",
        "denied",
        "live/denied",
      ]);
      assertEquals(req.query, { key: "wrong" });
      assertEquals(req.remote?.hostname, "127.0.0.1");
      assertMatch(req.tcUrl ?? "", /^rtmp:\/\/127\.0\.0\.1:\d+\/live/);
    }),
});

Deno.test({
  name: "admission: a denied RTMP play makes ffmpeg and rtmpdump exit non-zero; an allowed one plays",
  ignore: !TOOLS,
  fn: () =>
    withServer(async (server, dir) => {
      server.sluice.hub.admission = denyNamed(AdmissionAction.Play, "not a subscriber");
      const src = await makeSource(`${dir}/src.flv`, { seconds: 30 });
      const pub = publish(src, server.url("denied"));
      try {
        await waitForPublisher(server, "denied");
        const ff = await record(server.url("denied"), `${dir}/ff.flv`, 2);
        assert(ff.code !== 0, `ffmpeg exited ${ff.code}`);
        assertMatch(ff.stderr, /not a subscriber/);
        const dump = await run("rtmpdump", ["--live", "-r", server.url("denied"), "-o", `${dir}/dump.flv`], {
          timeoutMs: 20_000,
        });
        assert(dump.code !== 0 && !dump.timedOut, `rtmpdump exited ${dump.code}`);
        await waitFor(
          () => logged(server, /play of live\/denied refused: denied: not a subscriber/),
          "the refusal in the log",
        );
        const stream = server.sluice.hub.get("live/denied")!;
        assertEquals(stream.subscribers.size, 0, "a denied player was attached");
      } finally {
        await pub.stop();
      }
    }),
});

Deno.test({
  name: "admission: HTTP-FLV and HTTP VOD refusals are 401, 403 and 503 with a JSON reason",
  fn: () =>
    withServer(async (server) => {
      for (
        const [kind, status] of [[DenyKind.Unauthorized, 401], [DenyKind.Forbidden, 403], [
          DenyKind.Unavailable,
          503,
        ]] as const
      ) {
        server.sluice.hub.admission = denyNamed("any", `because ${kind}`, kind);
        const flv = await fetch(httpUrl(server, "live/denied.flv?token=t"));
        assertEquals(flv.status, status);
        assertMatch((await flv.json()).error, new RegExp(`Cannot play live/denied: because ${kind}`));
        const vod = await fetch(httpUrl(server, "vod/denied.flv"));
        assertEquals(vod.status, status);
        assertMatch((await vod.json()).error, new RegExp(`because ${kind}`));
      }
    }, { vod: { root: Deno.cwd() } }),
});

Deno.test({
  name: "admission: a denied WebSocket-FLV play closes with 1008 and the reason",
  fn: () =>
    withServer(async (server) => {
      server.sluice.hub.admission = denyNamed(AdmissionAction.Play, "members only");
      const ws = new WebSocket(`ws://127.0.0.1:${server.sluice.httpPort}/live/denied.flv`);
      const closed = await new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
      assertEquals(closed.code, 1008);
      assertEquals(closed.reason, "denied: members only");
    }),
});

Deno.test({
  name: "admission: a denied RTMP VOD play is refused with NetStream.Play.Failed",
  ignore: !TOOLS,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "sluice_vod_" });
    try {
      await makeSource(`${root}/denied.flv`, { seconds: 1 });
      await withServer(async (server) => {
        const policy = denyNamed(AdmissionAction.Play, "no VOD for you");
        server.sluice.hub.admission = policy;
        const client = await RtmpClient.connect(`rtmp://127.0.0.1:${server.sluice.rtmpPort}/vod`);
        try {
          const err = await client.play("denied.flv").then(() => undefined, (e) => e);
          assert(err instanceof RtmpStatusError, `play resolved or failed otherwise: ${err}`);
          assertEquals(err.code, "NetStream.Play.Failed");
          assertMatch(err.description, /no VOD for you/);
          assertEquals(policy.requests[0].app, "vod");
        } finally {
          await client.close();
        }
      }, { vod: { root } });
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "admission: a policy taking 2 s for one player holds up no one else's frames",
  fn: () =>
    withServer(async (server) => {
      let slowAnswered = false;
      server.sluice.hub.admission = new FakePolicy((req) => {
        if (req.name !== "slow" || req.action !== AdmissionAction.Play) return allow();
        return new Promise((resolve) =>
          setTimeout(() => {
            slowAnswered = true;
            resolve(allow());
          }, 2000)
        );
      });
      const pubConn = await RtmpClient.connect(`rtmp://127.0.0.1:${server.sluice.rtmpPort}/live/cam`);
      const slowConn = await RtmpClient.connect(`rtmp://127.0.0.1:${server.sluice.rtmpPort}/live/slow`);
      const viewConn = await RtmpClient.connect(`rtmp://127.0.0.1:${server.sluice.rtmpPort}/live/cam`);
      const slowPubConn = await RtmpClient.connect(`rtmp://127.0.0.1:${server.sluice.rtmpPort}/live/slow`);
      try {
        const pub = await pubConn.publish();
        const slowPub = await slowPubConn.publish();
        const syn = new SyntheticStream({ marker: 7, keyBytes: 2000, interBytes: 300 });
        await pub.sendFrames(syn.headers());
        await slowPub.sendFrames(syn.headers());
        const slowPlay = slowConn.play(); // waits for the slow policy
        const viewer = await viewConn.play();
        const frames = [...syn.next(), ...syn.next(), ...syn.next()];
        await pub.sendFrames(frames);
        const got = await readMedia(viewer, frames.length);
        assert(!slowAnswered, "the other player's frames waited for the slow policy");
        assert(got.length >= frames.length);
        const slowPlayer = await slowPlay;
        assert(slowAnswered, "the slow play started before its policy answered");
        await slowPub.sendFrames(syn.next());
        const slowGot = await readMedia(slowPlayer, 1);
        assertEquals(slowGot.length >= 1, true);
      } finally {
        for (const c of [viewConn, slowConn, pubConn, slowPubConn]) await c.close();
      }
    }),
});
