/**
 * The access rules and auth shortcuts (`RulesPolicy`), seen from real clients: ffmpeg publishing with and
 * without the stream key over RTMP and HTTP push; ffmpeg and rtmpdump playing signed URLs, good, expired
 * and signed for another stream; a JWT whose stream claim does not fit, over HTTP-FLV and RTMP; address
 * rules over IPv4 and IPv6 loopback; mpegts.js in headless Chromium playing a signed HTTP-FLV URL.
 *
 * Each server is started with the config's `rules` and `auth` and a `RulesPolicy` built from them as its
 * admission policy. Every wait is bounded only to keep a broken run from hanging; nothing asserts on time.
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import { haveChromium, launchChromium, startPageServer, videoState } from "../_util/browser.ts";
import {
  haveTools,
  makeSource,
  probePackets,
  publish,
  record,
  refusal,
  run,
  start,
  startServer,
  type TestServer,
  waitForPublisher,
} from "../_util/media.ts";
import { waitFor } from "../_util/live.ts";
import { RulesPolicy } from "../../src/auth/rules.ts";
import { signQuery } from "../../src/auth/signed_url.ts";
import {
  type AuthConfig,
  type ConfigOverrides,
  makeConfig,
  type RuleConfig,
} from "../../src/config/config.ts";
import { AdmissionAction } from "../../src/hub/admission.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe", "rtmpdump");
const CHROMIUM = haveChromium();
const BOUND_MS = 60_000;
const ARTIFACTS = Deno.env.get("SLUICE_ARTIFACTS") ?? new URL("../artifacts/", import.meta.url).pathname;

const GOOD_KEY = "GOOD-stream-key";
const SIGN_SECRET = "e2e-url-signing-secret";
const JWT_SECRET = "e2e-jwt-hs256-secret";
/** The auth defaults: every credential off. */
const NO_AUTH: AuthConfig = makeConfig().auth;

/** Whether this machine has IPv6 loopback (a listener on ::1 can be opened). */
function haveIpv6(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}
const IPV6 = haveIpv6();
if (!IPV6) {
  console.warn("auth_test: the IPv6 address rule test is skipped: this machine has no IPv6 loopback");
}

function rule(r: Partial<RuleConfig> & { match: string }): RuleConfig {
  return { action: "any", keys: [], sign: false, signAddress: false, jwt: false, acl: [], ...r };
}

/**
 * Runs `fn` with a fresh temp dir and a server started with `rules` and `auth` in its config and a
 * RulesPolicy of them as its admission; afterwards stops it, and prints its log when `fn` failed.
 */
async function withRules(
  rules: RuleConfig[],
  auth: Partial<AuthConfig>,
  fn: (server: TestServer, dir: string) => Promise<void>,
  overrides: ConfigOverrides = {},
): Promise<void> {
  const fullAuth = { ...NO_AUTH, ...auth };
  const policy = new RulesPolicy(rules, fullAuth);
  await policy.ready();
  const dir = await Deno.makeTempDir({ prefix: "sluice_auth_" });
  let server: TestServer | undefined;
  try {
    server = await startServer({ ...overrides, rules, auth: fullAuth }, policy);
    await fn(server, dir);
  } catch (e) {
    if (server) console.error(`server log (last 40 lines):\n${server.logs.slice(-40).join("\n")}`);
    throw e;
  } finally {
    await server?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

function e2e(name: string, fn: () => Promise<void>, ignore = !TOOLS): void {
  Deno.test({ name, ignore, sanitizeOps: true, sanitizeResources: true, fn });
}

function httpUrl(server: TestServer, path: string): string {
  return `http://127.0.0.1:${server.sluice.httpPort}/${path}`;
}

/** A URL's query signing a play of live/NAME until `expires` (UNIX seconds). */
function signedPlay(name: string, expires: number, secret = SIGN_SECRET): Promise<string> {
  return signQuery(secret, { action: AdmissionAction.Play, key: `live/${name}` }, expires);
}

const nowS = () => Math.floor(Date.now() / 1000);

/** An HS256 JWT of `payload`. */
async function jwt(payload: object): Promise<string> {
  const encoder = new TextEncoder();
  const b64 = (b: Uint8Array) => b.toBase64({ alphabet: "base64url", omitPadding: true });
  const head = `${b64(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })))}.${
    b64(encoder.encode(JSON.stringify(payload)))
  }`;
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(JWT_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return `${head}.${b64(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(head))))}`;
}

/** The video packets of a recording (it must have some for a player to have played). */
async function videoPackets(file: string): Promise<number> {
  return (await probePackets(file)).filter((p) => p.type === "video").length;
}

e2e(
  "stream keys: ffmpeg publishes over RTMP and HTTP push with ?key=GOOD; a wrong or missing key is refused with the reason",
  () =>
    withRules([rule({ match: "live/*", action: "publish", keys: [GOOD_KEY] })], {}, async (server, dir) => {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 3 });
      const wrong = await publish(src, `${server.url("cam")}?key=WRONG-stream-key`, [], BOUND_MS).done;
      assert(wrong.code !== 0, `ffmpeg with a wrong key exited ${wrong.code}`);
      assertMatch(wrong.stderr, /wrong stream key for live\/cam/);
      const missing = await publish(src, server.url("cam"), [], BOUND_MS).done;
      assert(missing.code !== 0, `ffmpeg with no key exited ${missing.code}`);
      assertMatch(missing.stderr, /publish of live\/cam needs a stream key \(\?key=\)/);
      assertEquals(server.sluice.hub.get("live/cam"), undefined, "nothing was published");

      // OBS's form: server rtmp://host/live, Stream Key "cam?key=GOOD".
      const rtmp = publish(src, `${server.url("cam")}?key=${GOOD_KEY}`, [], BOUND_MS);
      try {
        await waitForPublisher(server, "cam");
      } finally {
        await rtmp.stop();
      }

      // HTTP push: ffmpeg never reads the answer to its POST, so a refusal shows only as the reset; a client
      // that reads it gets 401 and the reason.
      const pushUrl = (query: string) => httpUrl(server, `live/push${query}`);
      const refused = await publish(src, pushUrl("?key=WRONG-stream-key"), [], BOUND_MS).done;
      assert(refused.code !== 0, `ffmpeg pushing with a wrong key exited ${refused.code}`);
      const post = (query: string) => fetch(pushUrl(query), { method: "POST", body: new Uint8Array(100) });
      assertEquals(await refusal(await post("?key=WRONG-stream-key")), {
        status: 401,
        error: "Cannot publish live/push: wrong stream key for live/push",
      });
      assertEquals(await refusal(await post("")), {
        status: 401,
        error: "Cannot publish live/push: publish of live/push needs a stream key (?key=)",
      });
      assertEquals(server.sluice.hub.get("live/push"), undefined, "nothing was pushed");
      const pusher = publish(src, pushUrl(`?key=${GOOD_KEY}`), [], BOUND_MS);
      try {
        await waitForPublisher(server, "push");
        assertEquals(server.sluice.hub.get("live/push")!.snapshot().publisher!.protocol, "http-push");
      } finally {
        await pusher.stop();
      }
    }),
);

e2e(
  "signed URLs: ffmpeg and rtmpdump play with a valid one, and are refused with an expired one or one for another stream",
  () =>
    withRules([], { signSecret: SIGN_SECRET }, async (server, dir) => {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 30 });
      const publisher = publish(src, server.url("cam"), [], BOUND_MS);
      try {
        await waitForPublisher(server, "cam");
        const good = `${server.url("cam")}?${await signedPlay("cam", nowS() + 300)}`;
        const expired = `${server.url("cam")}?${await signedPlay("cam", nowS() - 12)}`;
        const other = `${server.url("cam")}?${await signedPlay("other", nowS() + 300)}`;

        const ff = await record(good, `${dir}/ff.flv`, 2);
        assertEquals(ff.code, 0, `ffmpeg with a signed URL failed:\n${ff.stderr}`);
        assert(await videoPackets(`${dir}/ff.flv`) > 0, "ffmpeg recorded no video");
        // rtmpdump records a live stream until it ends: stopped once it has written some of it.
        const dumpFile = `${dir}/dump.flv`;
        const dump = start("rtmpdump", ["--live", "-r", good, "-o", dumpFile], { timeoutMs: BOUND_MS });
        const written = () => {
          try {
            return Deno.statSync(dumpFile).size;
          } catch {
            return 0;
          }
        };
        try {
          await waitFor(() => written() > 200_000, "rtmpdump to record 200 kB", BOUND_MS);
        } finally {
          await dump.stop("SIGINT");
        }
        assert(await videoPackets(dumpFile) > 0, `rtmpdump recorded no video:\n${(await dump.done).stderr}`);
        const ffExpired = await record(expired, `${dir}/expired.flv`, 2);
        assert(ffExpired.code !== 0, `ffmpeg with an expired URL exited ${ffExpired.code}`);
        assertMatch(ffExpired.stderr, /signed URL: expired \d+ s ago/);
        const ffOther = await record(other, `${dir}/other.flv`, 2);
        assert(ffOther.code !== 0, `ffmpeg with another stream's URL exited ${ffOther.code}`);
        assertMatch(ffOther.stderr, /signed URL: signature does not match/);
        for (const [what, url] of [["expired", expired], ["another stream's", other]]) {
          const r = await run("rtmpdump", ["--live", "-r", url, "-o", `${dir}/refused.flv`, "--stop", "2"], {
            timeoutMs: BOUND_MS,
          });
          assert(r.code !== 0 && !r.timedOut, `rtmpdump with ${what} URL exited ${r.code}:\n${r.stderr}`);
          assertMatch(r.stderr, /NetStream\.Play\.Failed/); // rtmpdump shows the code, not the description
        }
        const unsigned = await fetch(httpUrl(server, "live/cam.flv"));
        assertEquals([unsigned.status, (await unsigned.json()).error], [
          401,
          "Cannot play live/cam: signed URL: missing sign",
        ]);
      } finally {
        await publisher.stop();
      }
    }),
);

e2e(
  "JWT: a token whose stream claim does not fit is refused over HTTP-FLV (403) and RTMP; one that fits plays",
  () =>
    withRules(
      [rule({ match: "live/*", action: "play", jwt: true })],
      { jwtSecret: JWT_SECRET },
      async (server, dir) => {
        const src = await makeSource(`${dir}/src.flv`, { seconds: 30 });
        const publisher = publish(src, server.url("cam"), [], BOUND_MS);
        try {
          await waitForPublisher(server, "cam");
          const exp = nowS() + 300;
          const fits = await jwt({ sub: "viewer", exp, sluice: [{ action: "play", path: "live/cam" }] });
          const elsewhere = await jwt({
            sub: "viewer",
            exp,
            sluice: [{ action: "play", path: "live/other*" }],
          });
          const reason = 'the token of "viewer" does not allow play of live/cam';

          const byQuery = await fetch(httpUrl(server, `live/cam.flv?token=${elsewhere}`));
          assertEquals([byQuery.status, (await byQuery.json()).error], [
            403,
            `Cannot play live/cam: ${reason}`,
          ]);
          const byHeader = await fetch(httpUrl(server, "live/cam.flv"), {
            headers: { authorization: `Bearer ${elsewhere}` },
          });
          assertEquals([byHeader.status, (await byHeader.json()).error], [
            403,
            `Cannot play live/cam: ${reason}`,
          ]);
          const none = await fetch(httpUrl(server, "live/cam.flv"));
          assertEquals(none.status, 401);
          await none.body?.cancel();
          const allowed = await fetch(httpUrl(server, "live/cam.flv"), {
            headers: { authorization: `Bearer ${fits}` },
          });
          assertEquals(allowed.status, 200);
          await allowed.body?.cancel();

          const refused = await record(`${server.url("cam")}?token=${elsewhere}`, `${dir}/refused.flv`, 2);
          assert(refused.code !== 0, `ffmpeg with the wrong claim exited ${refused.code}`);
          assertMatch(refused.stderr, /does not allow play of live\/cam/);
          const played = await record(`${server.url("cam")}?token=${fits}`, `${dir}/played.flv`, 2);
          assertEquals(played.code, 0, `ffmpeg with a fitting token failed:\n${played.stderr}`);
          assert(await videoPackets(`${dir}/played.flv`) > 0, "ffmpeg recorded no video");
        } finally {
          await publisher.stop();
        }
      },
    ),
);

e2e(
  "address rules: a deny 127.0.0.1/32 rule refuses ffmpeg's publish from loopback with the reason",
  () =>
    withRules(
      [rule({ match: "live/*", action: "publish", acl: ["deny 127.0.0.1/32"] })],
      {},
      async (server, dir) => {
        const src = await makeSource(`${dir}/src.flv`, { seconds: 2 });
        const r = await publish(src, server.url("cam"), [], BOUND_MS).done;
        assert(r.code !== 0, `ffmpeg exited ${r.code}`);
        assertMatch(
          r.stderr,
          /address 127\.0\.0\.1 may not publish live\/cam \(rule "deny 127\.0\.0\.1\/32"\)/,
        );
        assertEquals(server.sluice.hub.get("live/cam"), undefined);
      },
    ),
);

e2e(
  IPV6
    ? "address rules: allow ::1/128 then deny all admits players over IPv6 loopback and refuses them over IPv4 (dual-stack ::)"
    : "address rules over IPv6 loopback (skipped: this machine has no IPv6 loopback)",
  () =>
    withRules(
      [rule({ match: "live/*", action: "play", acl: ["allow ::1/128", "deny all"] })],
      {},
      async (server, dir) => {
        const src = await makeSource(`${dir}/src.flv`, { seconds: 30 });
        const publisher = publish(src, server.url("cam"), [], BOUND_MS); // over IPv4: publishing is open
        try {
          await waitForPublisher(server, "cam");
          const { rtmpPort, httpPort } = server.sluice;
          const v6 = await fetch(`http://[::1]:${httpPort}/live/cam.flv`);
          assertEquals(v6.status, 200);
          await v6.body?.cancel();
          const v4 = await fetch(`http://127.0.0.1:${httpPort}/live/cam.flv`);
          assertEquals([v4.status, (await v4.json()).error], [
            403,
            'Cannot play live/cam: address ::ffff:127.0.0.1 may not play live/cam (rule "deny all")',
          ]);
          const ff6 = await record(`rtmp://[::1]:${rtmpPort}/live/cam`, `${dir}/v6.flv`, 2);
          assertEquals(ff6.code, 0, `ffmpeg over IPv6 failed:\n${ff6.stderr}`);
          assert(await videoPackets(`${dir}/v6.flv`) > 0, "ffmpeg over IPv6 recorded no video");
          const ff4 = await record(`rtmp://127.0.0.1:${rtmpPort}/live/cam`, `${dir}/v4.flv`, 2);
          assert(ff4.code !== 0, `ffmpeg over IPv4 exited ${ff4.code}`);
          assertMatch(ff4.stderr, /may not play live\/cam \(rule "deny all"\)/);
        } finally {
          await publisher.stop();
        }
      },
      { rtmp: { host: "::" }, http: { host: "::" } },
    ),
  !TOOLS || !IPV6,
);

/** The video must play past this much media time in the browser. */
const PLAY_PAST_S = 3;

e2e(
  CHROMIUM
    ? "signed URLs: mpegts.js in headless Chromium plays a signed HTTP-FLV URL (screenshot in test/artifacts/)"
    : "signed URLs in Chromium (skipped: /usr/bin/chromium is not installed)",
  () =>
    withRules([], { signSecret: SIGN_SECRET }, async (server, dir) => {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 20 });
      const publisher = publish(src, server.url("browser"), [], BOUND_MS);
      const pages = await startPageServer();
      const browser = await launchChromium();
      try {
        await waitForPublisher(server, "browser");
        const url = httpUrl(server, `live/browser.flv?${await signedPlay("browser", nowS() + 300)}`);
        const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
        await page.goto(`${pages.origin}/play?src=${encodeURIComponent(url)}`, { timeout: BOUND_MS });
        let state = await videoState(page);
        for (let waited = 0; !(state.currentTime > PLAY_PAST_S && state.videoWidth > 0); waited += 200) {
          if (waited > BOUND_MS || state.errors.length > 0 || state.mediaError) {
            throw new Error(`Cannot play the signed URL in Chromium: ${JSON.stringify(state)}`);
          }
          await new Promise((r) => setTimeout(r, 200));
          state = await videoState(page);
        }
        await Deno.mkdir(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: `${ARTIFACTS}/auth_signed_flv.png` });
        await page.evaluate("window.stopPlayback()");
        await page.close();
        assertEquals(state.errors, []);
        assertEquals([state.videoWidth, state.videoHeight], [640, 360]);
        // The page with another stream's signature gets no picture: mpegts.js reports the server's 401.
        const other = httpUrl(server, `live/browser.flv?${await signedPlay("other", nowS() + 300)}`);
        const refusedPage = await browser.newPage();
        await refusedPage.goto(`${pages.origin}/play?src=${encodeURIComponent(other)}`, {
          timeout: BOUND_MS,
        });
        let refused = await videoState(refusedPage);
        for (let waited = 0; refused.errors.length === 0 && waited <= BOUND_MS; waited += 200) {
          await new Promise((r) => setTimeout(r, 200));
          refused = await videoState(refusedPage);
        }
        assertMatch(refused.errors.join("\n"), /401/);
        assertEquals(refused.videoWidth, 0);
        await refusedPage.evaluate("window.stopPlayback()");
        await refusedPage.close();
      } finally {
        await browser.close();
        await pages.stop();
        await publisher.stop();
      }
    }),
  !CHROMIUM || !haveTools("ffmpeg"),
);
