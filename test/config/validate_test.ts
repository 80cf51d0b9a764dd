import { assertEquals, assertThrows } from "../_util/assert.ts";
import { type Config, type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import {
  ConfigError,
  ConfigRule,
  SECRET_SHOWN,
  showValue,
  validateConfig,
} from "../../src/config/validate.ts";

/** A bad configuration and exactly what validateConfig() says about it. */
interface Case {
  overrides: ConfigOverrides | Record<string, unknown>;
  path: string;
  value: unknown;
  rule: ConfigRule;
  message: string;
}

const CASES: Case[] = [
  {
    overrides: { rtmp: { chunkSize: 0 } },
    path: "rtmp.chunkSize",
    value: 0,
    rule: ConfigRule.Minimum,
    message: "Cannot use rtmp.chunkSize: 0 is below the minimum 128",
  },
  {
    overrides: { rtmp: { chunkSize: 65_537 } },
    path: "rtmp.chunkSize",
    value: 65_537,
    rule: ConfigRule.Maximum,
    message: "Cannot use rtmp.chunkSize: 65537 is above the maximum 65536",
  },
  {
    overrides: { http: { port: 70_000 } },
    path: "http.port",
    value: 70_000,
    rule: ConfigRule.Maximum,
    message: "Cannot use http.port: 70000 is above the maximum 65535",
  },
  {
    overrides: { rtmp: { port: -1 } },
    path: "rtmp.port",
    value: -1,
    rule: ConfigRule.Minimum,
    message: "Cannot use rtmp.port: -1 is below the minimum 0",
  },
  {
    overrides: { rtmp: { port: "abc" } },
    path: "rtmp.port",
    value: "abc",
    rule: ConfigRule.Type,
    message: 'Cannot use rtmp.port: "abc" is not an integer',
  },
  {
    overrides: { rtmp: { chunkSize: 4096.5 } },
    path: "rtmp.chunkSize",
    value: 4096.5,
    rule: ConfigRule.Type,
    message: "Cannot use rtmp.chunkSize: 4096.5 is not an integer",
  },
  {
    overrides: { rtmp: { maxMessageLength: 16 * 1024 * 1024 } },
    path: "rtmp.maxMessageLength",
    value: 16 * 1024 * 1024,
    rule: ConfigRule.Maximum,
    message: "Cannot use rtmp.maxMessageLength: 16777216 is above the maximum 9437184",
  },
  {
    overrides: { rtmp: { handshakeTimeoutMs: 0 } },
    path: "rtmp.handshakeTimeoutMs",
    value: 0,
    rule: ConfigRule.Minimum,
    message: "Cannot use rtmp.handshakeTimeoutMs: 0 is below the minimum 1",
  },
  {
    overrides: { rtmp: { idleTimeoutMs: 2 ** 31 } },
    path: "rtmp.idleTimeoutMs",
    value: 2 ** 31,
    rule: ConfigRule.Maximum,
    message: "Cannot use rtmp.idleTimeoutMs: 2147483648 is above the maximum 2147483647",
  },
  {
    overrides: { rtmp: { host: "" } },
    path: "rtmp.host",
    value: "",
    rule: ConfigRule.NonEmpty,
    message: 'Cannot use rtmp.host: "" is empty',
  },
  {
    overrides: { hub: { publishTakeover: "yes" } },
    path: "hub.publishTakeover",
    value: "yes",
    rule: ConfigRule.Type,
    message: 'Cannot use hub.publishTakeover: "yes" is not a boolean',
  },
  {
    overrides: { hub: { playWaitMs: -5 } },
    path: "hub.playWaitMs",
    value: -5,
    rule: ConfigRule.Minimum,
    message: "Cannot use hub.playWaitMs: -5 is below the minimum 0",
  },
  {
    overrides: { player: { queueMaxBytes: 0 } },
    path: "player.queueMaxBytes",
    value: 0,
    rule: ConfigRule.Minimum,
    message: "Cannot use player.queueMaxBytes: 0 is below the minimum 1",
  },
  {
    overrides: { player: { queueMaxMs: Number.NaN } },
    path: "player.queueMaxMs",
    value: Number.NaN,
    rule: ConfigRule.Type,
    message: "Cannot use player.queueMaxMs: NaN is not an integer",
  },
  {
    overrides: { ingest: { maxTagBytes: 0x1000000 } },
    path: "ingest.maxTagBytes",
    value: 0x1000000,
    rule: ConfigRule.Maximum,
    message: "Cannot use ingest.maxTagBytes: 16777216 is above the maximum 16777215",
  },
  {
    overrides: { vod: { root: "" } },
    path: "vod.root",
    value: "",
    rule: ConfigRule.NonEmpty,
    message: 'Cannot use vod.root: "" is empty',
  },
  {
    overrides: { vod: { root: 7 } },
    path: "vod.root",
    value: 7,
    rule: ConfigRule.Type,
    message: "Cannot use vod.root: 7 is not a string or null",
  },
  {
    overrides: { vod: { app: "a/b" } },
    path: "vod.app",
    value: "a/b",
    rule: ConfigRule.Form,
    message: 'Cannot use vod.app: "a/b" is not an app name (letters, digits, _ . - ~)',
  },
  {
    overrides: { vod: { app: ".." } },
    path: "vod.app",
    value: "..",
    rule: ConfigRule.Form,
    message: 'Cannot use vod.app: ".." is not an app name (letters, digits, _ . - ~)',
  },
  {
    overrides: { log: { level: "loud" } },
    path: "log.level",
    value: "loud",
    rule: ConfigRule.OneOf,
    message: 'Cannot use log.level: "loud" is not one of error, warn, info, debug',
  },
  {
    overrides: { sources: "live/a=a.h264" },
    path: "sources",
    value: "live/a=a.h264",
    rule: ConfigRule.Type,
    message: 'Cannot use sources: "live/a=a.h264" is not a list',
  },
  {
    overrides: { sources: [{ key: "cam", path: "a.h264", loop: true }] },
    path: "sources[0].key",
    value: "cam",
    rule: ConfigRule.Form,
    message: 'Cannot use sources[0].key: "cam" is not an app/name key',
  },
  {
    overrides: { sources: [{ key: "live/a", path: "", loop: true }] },
    path: "sources[0].path",
    value: "",
    rule: ConfigRule.NonEmpty,
    message: 'Cannot use sources[0].path: "" is empty',
  },
  {
    overrides: { sources: [{ key: "live/a", path: "a.h264" }] },
    path: "sources[0].loop",
    value: undefined,
    rule: ConfigRule.Type,
    message: "Cannot use sources[0].loop: undefined is not a boolean",
  },
  {
    overrides: {
      sources: [{ key: "live/a", path: "a.h264", loop: true }, {
        key: "live/b",
        path: "b",
        loop: true,
        fps: 0,
      }],
    },
    path: "sources[1].fps",
    value: 0,
    rule: ConfigRule.Minimum,
    message: "Cannot use sources[1].fps: 0 is not greater than 0",
  },
  {
    overrides: { sources: [{ key: "live/a", path: "a.h264", loop: true, fps: 301 }] },
    path: "sources[0].fps",
    value: 301,
    rule: ConfigRule.Maximum,
    message: "Cannot use sources[0].fps: 301 is above the maximum 300",
  },
  {
    overrides: {
      sources: [{ key: "live/a", path: "a", loop: true }, { key: "live/a", path: "b", loop: false }],
    },
    path: "sources[1].key",
    value: "live/a",
    rule: ConfigRule.Unique,
    message: 'Cannot use sources[1].key: "live/a" is already the key of sources[0]',
  },
  {
    overrides: { sources: [7] },
    path: "sources[0]",
    value: 7,
    rule: ConfigRule.Type,
    message: "Cannot use sources[0]: 7 is not an object",
  },
  {
    overrides: { admin: { token: "short-token" } },
    path: "admin.token",
    value: SECRET_SHOWN,
    rule: ConfigRule.Form,
    message:
      "Cannot use admin.token: the secret given is not a token of 16 to 1024 characters: letters, digits, - . _ ~ + /",
  },
  {
    overrides: { admin: { token: "" } },
    path: "admin.token",
    value: SECRET_SHOWN,
    rule: ConfigRule.NonEmpty,
    message: "Cannot use admin.token: the secret given is empty",
  },
  {
    overrides: { admin: { token: 1234567890123456 } },
    path: "admin.token",
    value: SECRET_SHOWN,
    rule: ConfigRule.Type,
    message: "Cannot use admin.token: the secret given is not a string or null",
  },
  {
    overrides: { admin: { passwordHash: "hunter2hunter2" } },
    path: "admin.passwordHash",
    value: SECRET_SHOWN,
    rule: ConfigRule.Form,
    message:
      "Cannot use admin.passwordHash: the secret given is not a hash printed by `server.ts hash-password` " +
      "(pbkdf2-sha256$ITERATIONS$SALT$HASH)",
  },
  {
    overrides: { admin: { user: "the admin" } },
    path: "admin.user",
    value: "the admin",
    rule: ConfigRule.Form,
    message:
      'Cannot use admin.user: "the admin" is not a user name of 1 to 64 printable characters without spaces',
  },
  {
    overrides: { admin: { loopbackOpen: "no" } },
    path: "admin.loopbackOpen",
    value: "no",
    rule: ConfigRule.Type,
    message: 'Cannot use admin.loopbackOpen: "no" is not a boolean',
  },
  {
    overrides: { admin: { sessionTtlMs: 1_000 } },
    path: "admin.sessionTtlMs",
    value: 1_000,
    rule: ConfigRule.Minimum,
    message: "Cannot use admin.sessionTtlMs: 1000 is below the minimum 60000",
  },
  {
    overrides: { admin: { loginAttemptsPerMinute: 0 } },
    path: "admin.loginAttemptsPerMinute",
    value: 0,
    rule: ConfigRule.Minimum,
    message: "Cannot use admin.loginAttemptsPerMinute: 0 is below the minimum 1",
  },
  {
    overrides: { admin: { maxSseClients: 0 } },
    path: "admin.maxSseClients",
    value: 0,
    rule: ConfigRule.Minimum,
    message: "Cannot use admin.maxSseClients: 0 is below the minimum 1",
  },
  {
    overrides: { admin: { historySamples: 86_401 } },
    path: "admin.historySamples",
    value: 86_401,
    rule: ConfigRule.Maximum,
    message: "Cannot use admin.historySamples: 86401 is above the maximum 86400",
  },
  {
    overrides: { rtsp: { udpPortFirst: 9001, udpPortLast: 9000 } },
    path: "rtsp.udpPortFirst",
    value: 9001,
    rule: ConfigRule.Maximum,
    message: "Cannot use rtsp.udpPortFirst: 9001 is above rtsp.udpPortLast 9000",
  },
  {
    overrides: { rtsp: { udpPortFirst: 9000, udpPortLast: 9000 } },
    path: "rtsp.udpPortFirst",
    value: 9000,
    rule: ConfigRule.Form,
    message:
      "Cannot use rtsp.udpPortFirst: 9000..9000 holds no RTP/RTCP pair (RTP on an even port, RTCP on the next)",
  },
  {
    overrides: { rtsp: { udpPortFirst: 9001, udpPortLast: 9002 } },
    path: "rtsp.udpPortFirst",
    value: 9001,
    rule: ConfigRule.Form,
    message: "Cannot use rtsp.udpPortFirst: 9001..9002 holds no RTP/RTCP pair (RTP on an even port, RTCP " +
      "on the next; an odd first port is rounded up to 9002)",
  },
  {
    overrides: { rtsp: { udpPortFirst: 0, udpPortLast: 8999 } },
    path: "rtsp.udpPortFirst",
    value: 0,
    rule: ConfigRule.Form,
    message: "Cannot use rtsp.udpPortFirst: 0 (any free ports) needs rtsp.udpPortLast 0 too, current " +
      "rtsp.udpPortLast 8999; set both to 0 or both to ports",
  },
  {
    overrides: { rtsp: { udpPortFirst: 8000, udpPortLast: 0 } },
    path: "rtsp.udpPortLast",
    value: 0,
    rule: ConfigRule.Form,
    message: "Cannot use rtsp.udpPortLast: 0 (any free ports) needs rtsp.udpPortFirst 0 too, current " +
      "rtsp.udpPortFirst 8000; set both to 0 or both to ports",
  },
  {
    overrides: { rtsp: { udpPortFirst: 65_535, udpPortLast: 65_535 } },
    path: "rtsp.udpPortFirst",
    value: 65_535,
    rule: ConfigRule.Form,
    message: "Cannot use rtsp.udpPortFirst: 65535..65535 holds no RTP/RTCP pair (RTP on an even port, RTCP " +
      "on the next; an odd first port is rounded up to 65536)",
  },
  {
    overrides: { rtmp: 1935 },
    path: "rtmp",
    value: 1935,
    rule: ConfigRule.Type,
    message: "Cannot use rtmp: 1935 is not an object",
  },
  {
    overrides: { rtmp: { chunksize: 4096 } },
    path: "rtmp.chunksize",
    value: 4096,
    rule: ConfigRule.Known,
    message: "Cannot use rtmp.chunksize: there is no such setting",
  },
  {
    overrides: { rmtp: { port: 1 } },
    path: "rmtp",
    value: { port: 1 },
    rule: ConfigRule.Known,
    message: "Cannot use rmtp: there is no such setting",
  },
  {
    overrides: { sources: [{ key: "live/a", path: "a", loop: true, speed: 2 }] },
    path: "sources[0].speed",
    value: 2,
    rule: ConfigRule.Known,
    message: "Cannot use sources[0].speed: there is no such setting",
  },
];

for (const c of CASES) {
  Deno.test(`validateConfig() refuses ${c.path} = ${showValue(c.value)} (rule: ${c.rule})`, () => {
    const config = makeConfig(c.overrides as ConfigOverrides);
    const e = assertThrows(() => validateConfig(config), ConfigError);
    assertEquals(e.message, c.message);
    assertEquals([e.path, e.value, e.rule], [c.path, c.value, c.rule]);
  });
}

Deno.test("validateConfig() accepts the edges of every range and a full source", () => {
  validateConfig(makeConfig({
    rtmp: { port: 0, chunkSize: 128, maxMessageLength: 9_437_184, handshakeTimeoutMs: 1 },
    http: { port: 65_535 },
    hub: { playWaitMs: 0, reconnectGraceMs: 0, mergeWindowMs: 0, gopCacheMaxBytes: 0 },
    player: { maxSkipsPerMinute: 0, queueMaxBytes: 1 },
    ingest: { maxTagBytes: 0xffffff },
    vod: { root: "/srv/vod", app: "files" },
    log: { level: "debug" },
    sources: [
      { key: "live/a", path: "a.h264", loop: true, fps: 300 },
      { key: "live/b", path: "b.flv", loop: false, fps: 0.5 },
    ],
  }));
  validateConfig(makeConfig({ rtmp: { chunkSize: 65_536 } }));
});

Deno.test("validateConfig() takes an RTSP UDP range of 0..0, of one pair, and an odd first port rounded up to a pair", () => {
  for (const [udpPortFirst, udpPortLast] of [[0, 0], [8000, 8001], [8001, 8003], [8000, 8999], [1, 65_535]]) {
    validateConfig(makeConfig({ rtsp: { udpPortFirst, udpPortLast } }));
  }
  validateConfig(makeConfig({ rtsp: { enabled: false, udpPortFirst: 0, udpPortLast: 0 } }));
});

Deno.test("validateConfig() never puts a secret's value in its message or its error", () => {
  const secrets = ["tiny", "with space in it!", "x".repeat(2_000), "pbkdf2-sha256$5$abc$def"];
  for (const secret of secrets) {
    for (const path of ["token", "passwordHash"] as const) {
      const e = assertThrows(() => validateConfig(makeConfig({ admin: { [path]: secret } })), ConfigError);
      assertEquals(e.message.includes(secret), false, e.message);
      assertEquals(e.value, SECRET_SHOWN);
      assertEquals(JSON.stringify(e).includes(secret), false);
    }
  }
});

Deno.test("validateConfig() takes a token and a password hash of the right form", () => {
  validateConfig(makeConfig({
    admin: {
      token: "0123456789abcdef",
      passwordHash: `pbkdf2-sha256$600000$${"A".repeat(22)}==$${"B".repeat(43)}=`,
      user: "ops@example",
      loopbackOpen: false,
      metricsOpen: true,
      sessionTtlMs: 60_000,
    },
  }));
});

Deno.test("validateConfig() names the first bad setting in table order", () => {
  const config = makeConfig({ log: { level: "loud" as Config["log"]["level"] }, rtmp: { port: 1e6 } });
  assertEquals(assertThrows(() => validateConfig(config), ConfigError).path, "rtmp.port");
});

Deno.test("validateConfig() refuses a value that is not an object at all", () => {
  const e = assertThrows(() => validateConfig(null as unknown as Config), ConfigError);
  assertEquals(e.message, "Cannot use config: null is not an object");
});

Deno.test("validateConfig() checks address rules item by item and the rules between streams and feeds", () => {
  const feed = { key: "feed/a", push: "/a.ffm", fileMaxSize: 1 << 20, catchUp: false, acl: [] };
  const stream = {
    path: "/live.flv",
    key: "feed/a",
    format: "flv" as const,
    prerollMs: 0,
    noAudio: false,
    noVideo: false,
    maxTimeMs: 0,
    acl: [],
  };
  validateConfig(makeConfig({ feeds: [feed], streams: [stream] }));
  validateConfig(makeConfig({ streams: [{ ...stream, path: "/live.sdp", format: "rtp" }] }));
  const cases: [ReturnType<typeof makeConfig>, string][] = [
    [makeConfig({ feeds: [{ ...feed, acl: ["allow 300.1.1.1"] }] }), "feeds[0].acl"],
    [makeConfig({ feeds: [feed, { ...feed, key: "feed/b" }] }), "feeds[1].push"],
    [makeConfig({ feeds: [feed], streams: [{ ...stream, path: "/a.ffm" }] }), "streams[0].path"],
    [makeConfig({ streams: [{ ...stream, key: undefined }] }), "streams[0]"],
    [makeConfig({ streams: [{ ...stream, file: "/x.flv" }] }), "streams[0]"],
    [makeConfig({ streams: [{ ...stream, format: "status" }] }), "streams[0]"],
    [
      makeConfig({ streams: [{ ...stream, key: undefined, file: "/x.flv", prerollMs: 5000 }] }),
      "streams[0].prerollMs",
    ],
    [makeConfig({ streams: [stream, { ...stream }] }), "streams[1].path"],
    [makeConfig({ streams: [{ ...stream, format: "rtp", key: undefined, file: "/x.flv" }] }), "streams[0]"],
    [makeConfig({ streams: [{ ...stream, format: "rtp", noAudio: true }] }), "streams[0].noAudio"],
    [makeConfig({ streams: [{ ...stream, format: "rtp", maxTimeMs: 1000 }] }), "streams[0].maxTimeMs"],
    [
      makeConfig({ feeds: [feed], streams: [{ ...stream, format: "rtp", prerollMs: 5000 }] }),
      "streams[0].prerollMs",
    ],
  ];
  for (const [config, path] of cases) {
    const e = assertThrows(() => validateConfig(config), ConfigError);
    assertEquals(e.path, path, e.message);
  }
});

Deno.test("validateConfig() refuses a rule that lacks its secret or key, and TLS with one file of two", () => {
  const rule = {
    match: "live/*",
    action: "play" as const,
    keys: [],
    sign: false,
    signAddress: false,
    jwt: false,
    acl: [],
  };
  const cases: [ReturnType<typeof makeConfig>, string][] = [
    [makeConfig({ rules: [{ ...rule, sign: true }] }), "rules[0].sign"],
    [makeConfig({ rules: [{ ...rule, signAddress: true }] }), "rules[0].signAddress"],
    [makeConfig({ rules: [rule, { ...rule, match: "vod/*", jwt: true }] }), "rules[1].jwt"],
    [makeConfig({ tls: { cert: "/c.pem" } }), "tls.key"],
    [makeConfig({ tls: { key: "/k.pem" } }), "tls.cert"],
  ];
  for (const [config, path] of cases) {
    const e = assertThrows(() => validateConfig(config), ConfigError);
    assertEquals(e.path, path, e.message);
  }
  validateConfig(
    makeConfig({
      rules: [{ ...rule, sign: true, signAddress: true }],
      auth: { signSecret: "s3cret-for-tests" },
    }),
  );
  validateConfig(makeConfig({ rules: [{ ...rule, jwt: true }], auth: { jwtKeyFile: "/k.pem" } }));
  validateConfig(makeConfig({ tls: { cert: "/c.pem", key: "/k.pem" } }));
});
