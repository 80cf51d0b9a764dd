import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import {
  CONFIG_FLAG,
  FFSERVER_CONF_FLAG,
  HELP_FLAG,
  helpText,
  parseCliArgs,
  parseCommandLine,
} from "../../src/config/cli.ts";
import { makeConfig } from "../../src/config/config.ts";
import { allFlags, type Setting, SETTINGS, SettingType, valueAt } from "../../src/config/schema.ts";
import { validateConfig } from "../../src/config/validate.ts";

/** Valid values of the settings whose form the generic samples below do not have. */
const SAMPLES: Readonly<Record<string, string>> = {
  "hls.tsApps": "tv,radio",
  "admin.token": "0123456789abcdef-._~+/XYZ==",
  "admin.passwordHash": `pbkdf2-sha256$600000$${"A".repeat(22)}==$${"B".repeat(43)}=`,
  "auth.publishKey": "a-stream-key-1",
  "auth.signSecret": "a-signing-secret",
  "auth.signSecretPrevious": "an-older-secret",
  "auth.jwtSecret": "a-jwt-secret-of-hs256",
  "auth.onConnect": "http://127.0.0.1:9000/on_connect",
  "auth.onPublish": "http://127.0.0.1:9000/on_publish",
  "auth.onPlay": "https://auth.example/on_play",
  "auth.onPublishDone": "http://127.0.0.1:9000/on_publish_done",
  "auth.onPlayDone": "http://127.0.0.1:9000/on_play_done",
  "http.trustedProxies": "127.0.0.1, 10.0.0.0/8",
};

/** A valid value for a setting, other than its default, as typed on the command line. */
function sample(s: Setting): string {
  if (s.path in SAMPLES) return SAMPLES[s.path];
  switch (s.type) {
    case SettingType.Integer:
    case SettingType.Number:
      return String(s.max ?? (s.min ?? 0) + 7);
    case SettingType.Enum:
      return s.values!.find((v) => v !== s.default)!;
    case SettingType.String:
      return s.pattern ? "media" : "127.0.0.2";
    default:
      return "/srv/files";
  }
}

Deno.test("parseCliArgs() reads every flag of the schema into its setting", () => {
  for (const { flag, setting, list } of allFlags()) {
    if (list || setting.type === SettingType.List) continue; // the sources flags have their own tests
    const raw = flag.value === undefined ? undefined : sample(setting);
    const o = parseCliArgs(raw === undefined ? [flag.name] : [flag.name, raw]);
    assert(o !== "help");
    const want = raw === undefined
      ? flag.sets ?? true
      : setting.type === SettingType.Integer
      ? Number(raw)
      : setting.type === SettingType.StringList
      ? raw.split(",").map((v) => v.trim())
      : raw;
    for (const path of [setting.path, ...flag.alsoSets ?? []]) {
      assertEquals(valueAt(o, path), want, flag.name);
    }
    // One TLS file alone is refused by the cross-check (tested in validate_test.ts): give its pair.
    const pair = setting.path === "tls.cert"
      ? { key: "/k.pem" }
      : setting.path === "tls.key"
      ? { cert: "/c.pem" }
      : {};
    // The RTSP UDP range is cross-checked as a pair too (validate_test.ts): a range that holds one pair.
    const udp = setting.path.startsWith("rtsp.udpPort") ? { udpPortFirst: 40_000, udpPortLast: 40_001 } : {};
    validateConfig(makeConfig({ ...o, tls: { ...o.tls, ...pair }, rtsp: { ...o.rtsp, ...udp } }));
  }
});

Deno.test("parseCliArgs() reads --flag=value as --flag value", () => {
  assertEquals(parseCliArgs(["--rtmp-port=1936", "--log-level=debug"]), {
    rtmp: { port: 1936 },
    log: { level: "debug" },
  });
});

Deno.test("parseCliArgs() sets false from a flag that sets false (--no-loopback-open), true from the others", () => {
  assertEquals(parseCliArgs(["--no-loopback-open"]), { admin: { loopbackOpen: false } });
  assertEquals(parseCliArgs(["--metrics-open"]), { admin: { metricsOpen: true } });
  assertEquals(parseCliArgs(["--takeover"]), { hub: { publishTakeover: true } });
});

Deno.test("parseCliArgs() reads the admin credentials and their flags", () => {
  const hash = SAMPLES["admin.passwordHash"];
  assertEquals(
    parseCliArgs([
      "--admin-token",
      "t0ken-t0ken-t0ken",
      "--admin-user",
      "ops",
      "--admin-password-hash",
      hash,
    ]),
    { admin: { token: "t0ken-t0ken-t0ken", user: "ops", passwordHash: hash } },
  );
});

Deno.test("parseCliArgs() with no flags returns no overrides", () => {
  assertEquals(parseCliArgs([]), {});
});

Deno.test("parseCliArgs() sets rtmp.host and http.host from --host, and a later --rtmp-host wins for RTMP", () => {
  assertEquals(parseCliArgs(["--host", "127.0.0.1"]), {
    rtmp: { host: "127.0.0.1" },
    http: { host: "127.0.0.1" },
  });
  assertEquals(parseCliArgs(["--host", "127.0.0.1", "--rtmp-host", "::1"]), {
    rtmp: { host: "::1" },
    http: { host: "127.0.0.1" },
  });
});

Deno.test("parseCliArgs() keeps the last value of a flag given twice", () => {
  assertEquals(parseCliArgs(["--chunk-size", "256", "--chunk-size", "512"]), { rtmp: { chunkSize: 512 } });
});

Deno.test("parseCliArgs() adds one source per --source (looped) and --source-once, in order", () => {
  assertEquals(
    parseCliArgs([
      "--source",
      "live/a=./a.h264",
      "--source-once=live/b=/x/b=c.flv",
      "--source",
      "live/c=c.flv",
    ]),
    {
      sources: [
        { key: "live/a", path: "./a.h264", loop: true },
        { key: "live/b", path: "/x/b=c.flv", loop: false },
        { key: "live/c", path: "c.flv", loop: true },
      ],
    },
  );
});

Deno.test("parseCliArgs() applies --source-fps to every source, wherever it stands", () => {
  assertEquals(
    parseCliArgs(["--source-fps", "29.97", "--source", "live/a=a.h264", "--source-once", "live/b=b"]),
    {
      sources: [
        { key: "live/a", path: "a.h264", loop: true, fps: 29.97 },
        { key: "live/b", path: "b", loop: false, fps: 29.97 },
      ],
    },
  );
  assertEquals(parseCliArgs(["--source-fps", "30"]), {});
});

Deno.test("parseCliArgs() adds one feed per --feed KEY=FILE with its defaults, and --feed-max-size to each", () => {
  assertEquals(parseCliArgs(["--feed", "live/cam=/var/cam.ring", "--feed-max-size", "1048576"]), {
    feeds: [{ key: "live/cam", file: "/var/cam.ring", fileMaxSize: 1048576, catchUp: false, acl: [] }],
  });
  assertEquals(parseCliArgs(["--feed", "live/a=a.ring", "--feed", "live/b=b.ring"]), {
    feeds: [
      { key: "live/a", file: "a.ring", fileMaxSize: 64 * 1024 * 1024, catchUp: false, acl: [] },
      { key: "live/b", file: "b.ring", fileMaxSize: 64 * 1024 * 1024, catchUp: false, acl: [] },
    ],
  });
});

Deno.test("parseCliArgs() returns help for -h and --help", () => {
  assertEquals(parseCliArgs(["-h"]), "help");
  assertEquals(parseCliArgs(["--rtmp-port", "1", "--help"]), "help");
});

Deno.test("parseCliArgs() leaves ranges to validateConfig()", () => {
  const o = parseCliArgs(["--chunk-size", "0", "--rtmp-port", "-1"]);
  assertEquals(o, { rtmp: { chunkSize: 0, port: -1 } });
});

Deno.test("parseCliArgs() throws a TypeError naming the flag and the value it cannot read", () => {
  const cases: [string[], string][] = [
    [["--chunk-size", "abc"], 'Cannot parse --chunk-size: "abc" is not an integer'],
    [["--rtmp-port", "1.5"], "Cannot parse --rtmp-port: 1.5 is not an integer"],
    [["--http-port", ""], 'Cannot parse --http-port: "" is not an integer'],
    [["--chunk-size"], "Cannot parse --chunk-size: current value is missing (--chunk-size N)"],
    [["--log-level", "loud"], 'Cannot parse --log-level: "loud" is not one of error, warn, info, debug'],
    [["--source", "a.h264"], 'Cannot parse --source: "a.h264" is not app/name=PATH'],
    [["--source-once", "live/a="], 'Cannot parse --source-once: "live/a=" is not app/name=PATH'],
    [["--source-fps", "0"], "Cannot parse --source-fps: 0 is not greater than 0"],
    [["--source-fps", "301"], "Cannot parse --source-fps: 301 is above the maximum 300"],
    [["--source-fps", "fast"], 'Cannot parse --source-fps: "fast" is not a number'],
    [["--takeover=yes"], 'Cannot parse --takeover: current value "yes" is not allowed (it takes none)'],
    [["--bogus-flag"], "Cannot parse arguments: current flag --bogus-flag is unknown (see --help)"],
    [["-x"], "Cannot parse arguments: current flag -x is unknown (see --help)"],
    [["1935"], 'Cannot parse arguments: current argument "1935" is not a flag (see --help)'],
  ];
  for (const [args, message] of cases) {
    assertEquals(assertThrows(() => parseCliArgs(args), TypeError).message, message, args.join(" "));
  }
});

Deno.test("helpText() shows no value of a secret setting, only its default's words", () => {
  const text = helpText().replace(/\n {3,}/g, " ");
  for (const s of SETTINGS as readonly Setting[]) {
    if (!s.secret) continue;
    for (const flag of s.flags ?? []) {
      const line = text.split("\n").find((l) => l.startsWith(`  ${flag.name} `)) ?? "";
      assert(
        line.endsWith(`; default ${s.defaultText})`) || line.endsWith(`(default ${s.defaultText})`),
        line,
      );
      assert(!line.includes("default null"), line);
    }
  }
});

Deno.test("helpText() has the usage line and lists every flag of the schema with its placeholder", () => {
  const text = helpText();
  assert(text.split("\n").includes("Usage: deno run --allow-net server.ts [flags]"), text);
  for (const { flag } of allFlags()) {
    const left = flag.value === undefined ? flag.name : `${flag.name} ${flag.value}`;
    assert(
      new RegExp(`^  ${left.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `, "m").test(text),
      `${left}:\n${text}`,
    );
  }
  assert(text.includes(`${HELP_FLAG.short}, ${HELP_FLAG.name}`), text);
});

/** The list settings that only a config file sets: their entries have too many fields for a flag. */
const CONFIG_FILE_ONLY = ["streams", "transcodes", "rules"];

Deno.test("helpText() gives each flag's help, unit, range and default, in lines of at most 110 characters", () => {
  const text = helpText();
  for (const line of text.split("\n")) assert(line.length <= 110, line);
  const unwrapped = text.replace(/\n {2,}/g, " ");
  for (const { flag, setting } of allFlags()) {
    assert(unwrapped.includes(flag.help ?? setting.help), flag.name);
  }
  assert(
    unwrapped.includes(
      "outgoing RTMP chunk size, the same for every player (bytes; 128..65536; default 4096)",
    ),
  );
  assert(unwrapped.includes("the most verbose level printed (error | warn | info | debug; default info)"));
  assert(unwrapped.includes("instead of being refused (default off)"));
  assert(unwrapped.includes("(fps; > 0 and <= 300; default the SPS timing, else 25)"));
  assert(unwrapped.includes("(e.g. behind a proxy on this host) (default on)"), "--no-loopback-open");
  for (const s of SETTINGS) {
    if (CONFIG_FILE_ONLY.includes(s.path)) continue;
    assert(allFlags().some((e) => e.setting === s), s.path);
  }
});

// ---- --config and --ffserver-conf

Deno.test("parseCommandLine() reads --ffserver-conf FILE as --config FILE is read, the flags beside it", () => {
  assertEquals(parseCommandLine(["--ffserver-conf", "/etc/ffserver.conf", "--http-port", "0"]), {
    overrides: { http: { port: 0 } },
    ffserverConf: "/etc/ffserver.conf",
    printConfig: false,
  });
  assertEquals(parseCommandLine(["--ffserver-conf=ffserver.conf", "--print-config"]), {
    overrides: {},
    ffserverConf: "ffserver.conf",
    printConfig: true,
  });
  assertEquals(parseCommandLine(["--config", "sluice.jsonc"]), {
    overrides: {},
    configFile: "sluice.jsonc",
    printConfig: false,
  });
  assertEquals(parseCommandLine([]), { overrides: {}, printConfig: false });
});

Deno.test("parseCommandLine() refuses --ffserver-conf without a file, twice, or with --config, saying which", () => {
  const cases: [string[], string][] = [
    [["--ffserver-conf"], "Cannot parse --ffserver-conf: current value is missing (--ffserver-conf FILE)"],
    [["--ffserver-conf="], "Cannot parse --ffserver-conf: current value is missing (--ffserver-conf FILE)"],
    [
      ["--ffserver-conf", "--print-config"],
      "Cannot parse --ffserver-conf: current value is missing (--ffserver-conf FILE)",
    ],
    [
      ["--ffserver-conf", "a.conf", "--ffserver-conf=b.conf"],
      'Cannot parse --ffserver-conf: current value "b.conf" is a second file after "a.conf" (one ' +
      "ffserver.conf at most)",
    ],
    [
      ["--config", "a.jsonc", "--ffserver-conf", "b.conf"],
      'Cannot parse --ffserver-conf: current value "b.conf" comes with --config "a.jsonc" (use one of them)',
    ],
    [
      ["--ffserver-conf", "b.conf", "--config", "a.jsonc"],
      'Cannot parse --ffserver-conf: current value "b.conf" comes with --config "a.jsonc" (use one of them)',
    ],
  ];
  for (const [args, message] of cases) {
    assertEquals(assertThrows(() => parseCommandLine(args), TypeError).message, message, args.join(" "));
  }
});

Deno.test("helpText() lists --ffserver-conf FILE beside --config FILE, with its help", () => {
  const lines = helpText().split("\n");
  const at = (flag: { name: string; value: string }) =>
    lines.findIndex((l) => l.startsWith(`  ${flag.name} ${flag.value} `));
  assert(at(CONFIG_FLAG) >= 0 && at(FFSERVER_CONF_FLAG) > at(CONFIG_FLAG), helpText());
  const unwrapped = helpText().replace(/\n {3,}/g, " ");
  assert(unwrapped.includes(FFSERVER_CONF_FLAG.help), unwrapped);
});
