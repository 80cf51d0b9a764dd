import { assert, assertEquals, assertRejects, assertThrows } from "../_util/assert.ts";
import {
  type ConfigOverrides,
  type FeedConfig,
  makeConfig,
  type StreamConfig,
  type TranscodeConfig,
} from "../../src/config/config.ts";
import { configFromObject } from "../../src/config/config_file.ts";
import {
  feedKey,
  FFSERVER_DEFAULT_FILE_MAX_SIZE,
  FFSERVER_MAX_BYTES,
  FFSERVER_MAX_LINE_CHARS,
  FFSERVER_MAX_LINES,
  FfserverConfError,
  ffserverSize,
  type FfserverWarning,
  ffserverWarningLine,
  loadFfserverConf,
  missingFfserverReadMessage,
  parseFfserverConf,
} from "../../src/config/ffserver_conf.ts";
import { MIN_RING_BYTES } from "../../src/config/schema.ts";
import { validateConfig } from "../../src/config/validate.ts";

const FIXTURES = new URL("../fixtures/ffserver/", import.meta.url).pathname;
const PATH = "ffserver.conf";

/** The lines joined as a file. */
function conf(...lines: string[]): string {
  return lines.join("\n") + "\n";
}

function parse(...lines: string[]) {
  return parseFfserverConf(conf(...lines), PATH);
}

/** The error parsing `lines` throws: its message, line and path. */
function failure(...lines: string[]): { message: string; line: number; path: string } {
  const e = assertThrows(() => parse(...lines), FfserverConfError);
  return { message: e.message, line: e.line, path: e.path };
}

/** The warnings as `line: text`. */
function shown(warnings: readonly FfserverWarning[]): string[] {
  return warnings.map((w) => `${w.line}: ${w.text}`);
}

/** A stream entry with the defaults `configFromObject()` fills in. */
function stream(entry: Partial<StreamConfig> & Pick<StreamConfig, "path">): StreamConfig {
  return { format: "flv", prerollMs: 0, noAudio: false, noVideo: false, maxTimeMs: 0, acl: [], ...entry };
}

/** A feed entry with the defaults. */
function feed(entry: Partial<FeedConfig> & Pick<FeedConfig, "key">): FeedConfig {
  return { fileMaxSize: FFSERVER_DEFAULT_FILE_MAX_SIZE, catchUp: false, acl: [], ...entry };
}

/** A transcode entry with the defaults. */
function transcode(entry: Partial<TranscodeConfig> & Pick<TranscodeConfig, "key" | "from">): TranscodeConfig {
  return { input: "rtmp", videoCodec: "libx264", audioCodec: "aac", args: [], ...entry };
}

/** The globals both fixtures share (doc.conf's MaxBandwidth; live.conf raises it). */
function globals(maxBandwidthKbps: number): ConfigOverrides {
  return {
    http: { port: 10535, host: "0.0.0.0" },
    rtsp: { port: 5454, enabled: true },
    limits: { maxPlayers: 1000, maxBandwidthKbps },
    log: { access: "-" },
  };
}

const NO_SETTING = "(a transcode has no such setting; AVOptionVideo NAME VALUE passes an ffmpeg option)";

// ---- the fixtures

Deno.test("loadFfserverConf() reads the source document's ffserver.conf into the overrides it maps to", async () => {
  const { overrides } = await loadFfserverConf(`${FIXTURES}doc.conf`);
  assertEquals(overrides, {
    ...globals(1000),
    feeds: [feed({
      key: "feed/feed1",
      push: "/feed1.ffm",
      file: "/tmp/feed1.ffm",
      fileMaxSize: 1024 * 1024,
      acl: ["allow 127.0.0.1"],
    })],
    streams: [
      stream({ path: "/test.flv", file: "/tmp/test.flv" }),
      stream({ path: "/stat.html", format: "status", acl: ["allow 127.0.0.1", "allow ::1"] }),
    ],
  });
  validateConfig(makeConfig(overrides));
});

Deno.test("loadFfserverConf() warns doc.conf's AVI stream and its unmapped encoding lines, line by line", async () => {
  const path = `${FIXTURES}doc.conf`;
  const { warnings } = await loadFfserverConf(path);
  assertEquals(warnings, [
    {
      line: 32,
      directive: "Format",
      text: "Format avi is not served: <Stream test.avi> is skipped; use Format flv (HTTP-FLV, and " +
        "WebSocket-FLV on upgrade), rtp (RTSP) or mpegts (MPEG-TS over HTTP)",
    },
    { line: 45, directive: "Bitexact", text: `ignored: Bitexact ${NO_SETTING}` },
    { line: 46, directive: "Dctfastint", text: `ignored: Dctfastint ${NO_SETTING}` },
    { line: 47, directive: "Idctsimple", text: `ignored: Idctsimple ${NO_SETTING}` },
  ]);
  // The line numbers are the directives' own.
  const lines = (await Deno.readTextFile(path)).split("\n");
  for (const w of warnings) {
    assert(lines[w.line - 1].startsWith(w.directive), `${w.line}: ${lines[w.line - 1]}`);
  }
});

Deno.test("loadFfserverConf() maps live.conf to a feed, two streams and one transcode that small.flv serves", async () => {
  const { overrides, warnings } = await loadFfserverConf(`${FIXTURES}live.conf`);
  assertEquals(overrides, {
    ...globals(100_000),
    feeds: [feed({ key: "feed/feed1", push: "/feed1.ffm", acl: ["allow 127.0.0.1", "allow ::1"] })],
    streams: [
      stream({ path: "/live.flv", key: "feed/feed1" }),
      stream({ path: "/small.flv", key: "feed/small" }),
    ],
    transcodes: [
      transcode({ key: "feed/small", from: "feed/feed1", videoSize: "320x240", videoBitrateKbps: 300 }),
    ],
  });
  assertEquals(warnings, [], "live.conf maps line for line");
  validateConfig(makeConfig(overrides));
});

Deno.test("parseFfserverConf() gives exactly what configFromObject() gives for the same settings as JSONC", async () => {
  const { overrides } = parseFfserverConf(await Deno.readTextFile(`${FIXTURES}live.conf`), PATH);
  const jsonc = {
    http: { port: 10535, host: "0.0.0.0" },
    rtsp: { port: 5454, enabled: true },
    limits: { maxPlayers: 1000, maxBandwidthKbps: 100_000 },
    log: { access: "-" },
    feeds: [{
      key: "feed/feed1",
      push: "/feed1.ffm",
      fileMaxSize: 5 * 1024 * 1024,
      acl: ["allow 127.0.0.1", "allow ::1"],
    }],
    streams: [{ path: "/live.flv", key: "feed/feed1" }, { path: "/small.flv", key: "feed/small" }],
    transcodes: [{ key: "feed/small", from: "feed/feed1", videoSize: "320x240", videoBitrateKbps: 300 }],
  };
  assertEquals(overrides, configFromObject(jsonc, "sluice.jsonc"));
});

Deno.test("ffserverWarningLine() prints a warning as ffserver printed its own, FILE:LINE: TEXT", () => {
  assertEquals(
    ffserverWarningLine("/etc/ffserver.conf", {
      line: 7,
      directive: "Daemon",
      text: "Sluice never forks",
    }),
    "/etc/ffserver.conf:7: Sluice never forks",
  );
});

// ---- reading lines

Deno.test("parseFfserverConf() reads directive names and tags in any case", () => {
  for (const port of ["Port", "port", "PORT", "HTTPPort", "httpport"]) {
    assertEquals(parse(`${port} 8090`).overrides, { http: { port: 8090 } }, port);
  }
  const { overrides, warnings } = parse(
    "httpbindaddress 127.0.0.1",
    "MAXHTTPCONNECTIONS 20",
    "maxclients 10",
    "<FEED cam.ffm>",
    "acl ALLOW 127.0.0.1",
    "</feed>",
    "<stream cam.flv>",
    "FEED cam.ffm",
    "format FLV",
    "</STREAM>",
  );
  assertEquals(warnings, []);
  assertEquals(overrides, {
    http: { host: "127.0.0.1" },
    limits: { maxHttpConnections: 20, maxPlayers: 10 },
    feeds: [feed({ key: "feed/cam", push: "/cam.ffm", acl: ["allow 127.0.0.1"] })],
    streams: [stream({ path: "/cam.flv", key: "feed/cam" })],
  });
});

Deno.test("parseFfserverConf() takes quoted values, comments, blank lines, CRLF and tabs", () => {
  const { overrides, warnings } = parseFfserverConf(
    [
      "# a comment line",
      "   # an indented one",
      "",
      "\tPort\t8090   # the port",
      "CustomLog '/var/log/sluice access.log'\r",
      "<Stream a.flv>",
      'File "/srv/my files/a#1.flv"  # a quoted path, with a # inside',
      "</Stream>",
      "<Stream b.flv>",
      "File /srv/b#2.flv",
      "</Stream>",
    ].join("\r\n"),
    PATH,
  );
  assertEquals(warnings, []);
  assertEquals(overrides, {
    http: { port: 8090 },
    log: { access: "/var/log/sluice access.log" },
    streams: [
      stream({ path: "/a.flv", file: "/srv/my files/a#1.flv" }),
      stream({ path: "/b.flv", file: "/srv/b#2.flv" }),
    ],
  });
});

Deno.test("parseFfserverConf() of an empty file, or only comments, gives no overrides and no warning", () => {
  assertEquals(parseFfserverConf("", PATH), { overrides: {}, warnings: [] });
  assertEquals(parse("# nothing", "", "   "), { overrides: {}, warnings: [] });
  assertEquals(parseFfserverConf("\uFEFFPort 8090\n", PATH).overrides, { http: { port: 8090 } });
});

// ---- sizes

Deno.test("ffserverSize() reads bytes, and K, M, G as 1024-based in any case", () => {
  const cases: [string, number | undefined][] = [
    ["69632", 69632],
    ["200K", 200 * 1024],
    ["200k", 200 * 1024],
    ["1M", 1024 ** 2],
    ["1.5M", 1.5 * 1024 ** 2],
    ["5m", 5 * 1024 ** 2],
    ["2G", 2 * 1024 ** 3],
    ["0.5K", 512],
    ["1T", undefined],
    ["M", undefined],
    ["-1M", undefined],
    ["1 M", undefined],
    ["1MB", undefined],
    ["", undefined],
  ];
  for (const [text, bytes] of cases) assertEquals(ffserverSize(text), bytes, text);
});

Deno.test("parseFfserverConf() takes FileMaxSize in K/M/G, 5 MiB without one, and raises one below the smallest ring", () => {
  const sizes = (...lines: string[]) => parse(...lines).overrides.feeds!.map((f) => f.fileMaxSize);
  assertEquals(
    sizes(
      "<Feed a.ffm>",
      "FileMaxSize 2G",
      "</Feed>",
      "<Feed b.ffm>",
      "FileMaxSize 300k",
      "</Feed>",
      "<Feed c.ffm>",
      "</Feed>",
    ),
    [2 * 1024 ** 3, 300 * 1024, FFSERVER_DEFAULT_FILE_MAX_SIZE],
  );
  const { overrides, warnings } = parse("<Feed a.ffm>", "File /tmp/a.ffm", "FileMaxSize 64K", "</Feed>");
  assertEquals(overrides.feeds![0].fileMaxSize, MIN_RING_BYTES);
  assertEquals(shown(warnings), [
    `3: FileMaxSize 64K (65536 bytes) is below Sluice's smallest ring file, ${MIN_RING_BYTES} bytes: raised to it`,
  ]);
});

// ---- syntax errors, each naming its line

Deno.test("parseFfserverConf() throws FfserverConfError naming the line of each kind of syntax error", () => {
  const cases: [string[], number, string][] = [
    [
      ["Port 80", "<Feed feed1.ffm>", "File /tmp/f.ffm"],
      2,
      "<Feed feed1.ffm> is not closed: </Feed> is missing",
    ],
    [["Port 80", "</Stream>"], 2, "</Stream> closes nothing: no <Stream> is open"],
    [
      ["<Feed a.ffm>", "</Stream>"],
      2,
      "</Stream> does not close <Feed a.ffm> (line 1): close it with </Feed>",
    ],
    [
      ["<Feed a.ffm>", "<Stream a.flv>"],
      2,
      "<Stream a.flv> is inside <Feed a.ffm> (line 1): close that with </Feed> first",
    ],
    [["</Feed extra>"], 1, '"</Feed extra>" is not a closing tag (</Stream>)'],
    [["<Stream>", "</Stream>"], 1, "<Stream> is missing its name (<Stream NAME>)"],
    [["<Stream a.flv"], 1, '<Stream a.flv has no closing ">" (<Stream NAME>)'],
    [["< Stream a.flv>"], 1, '"<" is not a tag (<Stream NAME>)'],
    [["", "Port"], 2, "Port is missing its value (Port N)"],
    [["CustomLog"], 1, "CustomLog is missing its value (CustomLog FILE|-)"],
    [["Port abc"], 1, 'Port "abc" is not a whole number (Port N)'],
    [["MaxClients 1.5"], 1, 'MaxClients "1.5" is not a whole number (MaxClients N)'],
    [["MaxBandwidth -10"], 1, 'MaxBandwidth "-10" is not a whole number (MaxBandwidth KBPS)'],
    [["Port 80 81"], 1, "Port takes one value, current 2 (Port N; quote a value that has spaces)"],
    [["NoDaemon yes"], 1, "NoDaemon takes no value, current 1 (NoDaemon; quote a value that has spaces)"],
    [
      ["<Feed a.ffm>", "FileMaxSize 5T", "</Feed>"],
      2,
      'FileMaxSize "5T" is not a size (bytes, or a number and K, M or G)',
    ],
    [
      ["<Stream a.flv>", "Feed a.ffm", "Preroll soon", "</Stream>"],
      3,
      'Preroll "soon" is not a number (Preroll SECONDS)',
    ],
    [
      ["<Stream a.flv>", "Feed a.ffm", "VideoSize big", "</Stream>"],
      3,
      'VideoSize "big" is not WIDTHxHEIGHT nor a size name (vga, hd720...)',
    ],
    [['CustomLog "/var/log/a'], 1, 'a quote is not closed (")'],
    [
      ["<Stream a.flv>", "Feed nothere.ffm", "</Stream>"],
      2,
      'Feed "nothere.ffm" names no <Feed> of this file',
    ],
    [
      ["<Stream a.flv>", "Feed a.ffm", "AVOptionVideo flags", "</Stream>"],
      3,
      "AVOptionVideo is missing its value (AVOptionVideo NAME VALUE)",
    ],
  ];
  for (const [lines, line, message] of cases) {
    assertEquals(
      failure(...lines),
      { message: `Cannot read ${PATH} line ${line}: ${message}`, line, path: PATH },
      lines.join(" | "),
    );
  }
});

Deno.test("parseFfserverConf() names the line of a value the schema refuses, with the setting and the rule", () => {
  const cases: [string[], number, string][] = [
    [["", "Port 70000"], 2, "http.port: 70000 is above the maximum 65535"],
    [["MaxBandwidth 1000000000"], 1, "limits.maxBandwidthKbps: 1000000000 is above the maximum 100000000"],
    [
      ["<Stream bad name.flv>", "File /a.flv", "</Stream>"],
      1,
      'streams[0].path: "/bad name.flv" is not a path of one segment (/name)',
    ],
    [
      ["<Feed a.ffm>", "FileMaxSize 2000G", "</Feed>"],
      2,
      "feeds[0].fileMaxSize: 2147483648000 is above the maximum 1099511627776",
    ],
    [
      [
        "<Feed a.ffm>",
        "</Feed>",
        "<Stream a.flv>",
        "Feed a.ffm",
        "VideoSize 320x240",
        "VideoBitRate 0.2",
        "</Stream>",
      ],
      6,
      "transcodes[0].videoBitrateKbps: 0 is below the minimum 1",
    ],
  ];
  for (const [lines, line, message] of cases) {
    const got = failure(...lines);
    assertEquals(
      got,
      { message: `Cannot read ${PATH} line ${line}: ${message}`, line, path: PATH },
      lines.join(" | "),
    );
  }
  const e = assertThrows(() => parse("Port 70000"), FfserverConfError);
  assertEquals((e.cause as Error).name, "ConfigError");
});

// ---- bounds

Deno.test(`parseFfserverConf() refuses more than ${FFSERVER_MAX_LINES} lines, a line past ${FFSERVER_MAX_LINE_CHARS} characters, a text past ${FFSERVER_MAX_BYTES} bytes`, () => {
  const most = Array<string>(FFSERVER_MAX_LINES).fill("# comment");
  assertEquals(parse(...most).overrides, {});
  assertEquals(failure(...most, "Port 80"), {
    message: `Cannot read ${PATH} line ${FFSERVER_MAX_LINES + 1}: current ${FFSERVER_MAX_LINES + 1} lines ` +
      `is above the maximum ${FFSERVER_MAX_LINES}`,
    line: FFSERVER_MAX_LINES + 1,
    path: PATH,
  });
  const longest = `# ${"x".repeat(FFSERVER_MAX_LINE_CHARS - 2)}`;
  assertEquals(parse(longest).overrides, {});
  assertEquals(failure("Port 80", `${longest}x`), {
    message:
      `Cannot read ${PATH} line 2: current length ${FFSERVER_MAX_LINE_CHARS + 1} characters is above ` +
      `the maximum ${FFSERVER_MAX_LINE_CHARS}`,
    line: 2,
    path: PATH,
  });
  // 400 lines of 2,700 bytes (900 three-byte characters in a comment): within the line bound, past the size one.
  const wide = Array<string>(400).fill(`#${"€".repeat(900)}`).join("\n");
  const e = assertThrows(() => parseFfserverConf(wide, PATH), FfserverConfError);
  assertEquals(e.line, 0);
  assertEquals(
    e.message,
    `Cannot read ${PATH}: current size ${new TextEncoder().encode(wide).length} bytes is above the maximum ` +
      `${FFSERVER_MAX_BYTES}`,
  );
  const huge = "#".repeat(FFSERVER_MAX_BYTES + 1);
  assertEquals(
    assertThrows(() => parseFfserverConf(huge, PATH), FfserverConfError).message,
    `Cannot read ${PATH}: current size is above the maximum ${FFSERVER_MAX_BYTES} bytes`,
  );
});

// ---- warned, the rest of the file still read

Deno.test("parseFfserverConf() warns a <Redirect> block once, with its URL, and reads on", () => {
  const { overrides, warnings } = parse(
    "<Redirect index.html>",
    "URL http://www.ffmpeg.org/",
    "</Redirect>",
    "Port 8090",
  );
  assertEquals(overrides, { http: { port: 8090 } });
  assertEquals(warnings, [{
    line: 1,
    directive: "<Redirect>",
    text: "<Redirect index.html> to http://www.ffmpeg.org/ is not served: Sluice has no redirects yet (put " +
      "the redirect in a reverse proxy in front of it)",
  }]);
  assertEquals(
    shown(parse("<Location /x>", "Anything at all", "</Location>").warnings),
    ["1: ignored: <Location /x> is no ffserver block Sluice reads"],
  );
});

Deno.test("parseFfserverConf() warns an unknown directive with the nearest name, and one in the wrong place with its place", () => {
  const { overrides, warnings } = parse(
    "Prot 8090",
    "LoadModule mod.so",
    "File /tmp/x.ffm",
    "<Feed a.ffm>",
    "Port 8091",
    "VideoSize 320x240",
    "</Feed>",
    "<Stream a.flv>",
    "Feed a.ffm",
    "FileMaxSize 1M",
    "Colour blue",
    "</Stream>",
    "MaxClients 5",
  );
  assertEquals(overrides, {
    limits: { maxPlayers: 5 },
    feeds: [feed({ key: "feed/a", push: "/a.ffm" })],
    streams: [stream({ path: "/a.flv", key: "feed/a" })],
  });
  assertEquals(shown(warnings), [
    "1: ignored: Prot is not an ffserver directive Sluice reads (did you mean Port?)",
    "2: ignored: LoadModule is not an ffserver directive Sluice reads",
    "3: ignored: File is not read outside a block (it belongs in <Feed> or in <Stream>)",
    "5: ignored: Port is not read in <Feed> (it belongs outside a block)",
    "6: ignored: VideoSize is not read in <Feed> (it belongs in <Stream>)",
    "10: ignored: FileMaxSize is not read in <Stream> (it belongs in <Feed>)",
    "11: ignored: Colour is not an ffserver directive Sluice reads",
  ]);
});

Deno.test("parseFfserverConf() maps RTSPPort and RTSPBindAddress, warns Daemon, Launch, ReadOnlyFile and Truncate, and takes NoDaemon silently", () => {
  const { overrides, warnings } = parse(
    "RTSPPort 5454",
    "RTSPBindAddress 192.0.2.7",
    "Daemon",
    "NoDaemon",
    "<Feed feed1.ffm>",
    "Launch ffmpeg -i /dev/video0",
    "ReadOnlyFile /saved/special.ffm",
    "Truncate",
    "</Feed>",
  );
  assertEquals(overrides, {
    rtsp: { port: 5454, enabled: true, host: "192.0.2.7" },
    feeds: [feed({ key: "feed/feed1", push: "/feed1.ffm" })],
  });
  assertEquals(shown(warnings), [
    "3: Sluice never forks: Daemon is ignored and it runs in the foreground (a service manager runs it in " +
    "the background)",
    "6: Launch is not run: use a transcode, or run ffmpeg yourself (ffmpeg -re -i INPUT -c:v libx264 -c:a aac " +
    "-f flv http://HOST:PORT/feed1.ffm)",
    "7: ReadOnlyFile is not read: Sluice does not play a saved .ffm file, and the feed gets no ring file " +
    "(serve a recording as FLV with File in a <Stream>)",
    "8: ignored: Truncate (Sluice has no setting for it)",
  ]);
});

// ---- ACL

Deno.test("parseFfserverConf() keeps ACL rules and ranges in the file's order, localhost as both loopbacks", () => {
  const { overrides } = parse(
    "<Feed a.ffm>",
    "ACL allow 127.0.0.1",
    "ACL ALLOW 192.168.0.0 192.168.255.255",
    "</Feed>",
    "<Stream a.flv>",
    "Feed a.ffm",
    "ACL deny 10.0.0.1 10.0.0.9",
    "ACL allow localhost",
    "ACL Deny 10.0.0.0/8",
    "ACL allow all",
    "</Stream>",
  );
  assertEquals(overrides.feeds![0].acl, ["allow 127.0.0.1", "allow 192.168.0.0 192.168.255.255"]);
  assertEquals(overrides.streams![0].acl, [
    "deny 10.0.0.1 10.0.0.9",
    "allow 127.0.0.1",
    "allow ::1",
    "deny 10.0.0.0/8",
    "allow all",
  ]);
});

Deno.test("parseFfserverConf() refuses an ACL that is no address rule, naming its line", () => {
  const cases: [string, string][] = [
    ["ACL allow", "ACL is missing its address (ACL allow|deny ADDR [LAST])"],
    ["ACL", "ACL is missing its action (ACL allow|deny ADDR [LAST])"],
    ["ACL permit 1.2.3.4", 'ACL action "permit" is neither allow nor deny (ACL allow|deny ADDR [LAST])'],
    [
      "ACL allow example.com",
      'ACL "example.com" is no IP address: Sluice does not look host names up (write the address; ' +
      "localhost stands for 127.0.0.1 and ::1)",
    ],
    [
      "ACL deny 10.0.0.9 10.0.0.1",
      'ACL "deny 10.0.0.9 10.0.0.1": a range is two addresses of one family, the lower first',
    ],
    [
      "ACL allow 1.2.3.4 1.2.3.5 1.2.3.6",
      "ACL takes 3 values, current 4 (ACL allow|deny ADDR [LAST]; quote a value that has spaces)",
    ],
  ];
  for (const [acl, message] of cases) {
    assertEquals(failure("<Feed a.ffm>", acl, "</Feed>"), {
      message: `Cannot read ${PATH} line 2: ${message}`,
      line: 2,
      path: PATH,
    }, acl);
  }
  assertEquals(
    shown(parse("ACL allow 127.0.0.1").warnings),
    ["1: ignored: ACL is not read outside a block (it belongs in <Feed> or in <Stream>)"],
  );
});

// ---- streams

Deno.test("parseFfserverConf() maps a stream's Preroll, MaxTime, NoAudio, NoVideo and skips StartSendOnKey silently", () => {
  const { overrides, warnings } = parse(
    "<Feed cam.ffm>",
    "File /var/lib/cam.ring",
    "</Feed>",
    "<Stream cam.flv>",
    "Feed cam.ffm",
    "Format flv",
    "Preroll 15",
    "MaxTime 3600.5",
    "NoAudio",
    "NoVideo",
    "StartSendOnKey",
    "</Stream>",
  );
  assertEquals(warnings, []);
  assertEquals(overrides.streams, [stream({
    path: "/cam.flv",
    key: "feed/cam",
    prerollMs: 15_000,
    maxTimeMs: 3_600_500,
    noAudio: true,
    noVideo: true,
  })]);
});

Deno.test("parseFfserverConf() warns a Preroll that cannot start in the past: a File, a transcode, a feed without a File", () => {
  const { overrides, warnings } = parse(
    "<Feed a.ffm>",
    "</Feed>",
    "<Stream file.flv>",
    "File /srv/a.flv",
    "Preroll 5",
    "</Stream>",
    "<Stream small.flv>",
    "Feed a.ffm",
    "VideoSize qvga",
    "Preroll 5",
    "</Stream>",
    "<Stream live.flv>",
    "Feed a.ffm",
    "Preroll 5",
    "</Stream>",
  );
  assertEquals(overrides.streams!.map((s) => s.prerollMs), [0, 0, 0]);
  assertEquals(shown(warnings), [
    "5: ignored: Preroll (a File plays from its start)",
    "10: ignored: Preroll (a transcoded stream has no ring file to start in the past; only a feed's File does)",
    "14: ignored: Preroll (it needs a File in <Feed a.ffm>, the ring buffer a player starts in the past from)",
  ]);
});

Deno.test("parseFfserverConf() skips a stream in a format Sluice does not serve, saying what to use, and reads on", () => {
  const { overrides, warnings } = parse(
    "<Feed f.ffm>",
    "</Feed>",
    "<Stream a.webm>",
    "Feed f.ffm",
    "Format webm",
    "VideoSize 320x240",
    "</Stream>",
    "<Stream test1.mpg>",
    "Feed f.ffm",
    "</Stream>",
    "<Stream nothing.flv>",
    "NoAudio",
    "</Stream>",
    "<Stream nothing.sdp>",
    "Format rtp",
    "</Stream>",
    "<Stream ok.flv>",
    "Feed f.ffm",
    "</Stream>",
  );
  assertEquals(overrides.streams, [stream({ path: "/ok.flv", key: "feed/f" })]);
  assertEquals(overrides.transcodes, undefined);
  assertEquals(shown(warnings), [
    "5: Format webm is not served: <Stream a.webm> is skipped; use Format flv (HTTP-FLV, and WebSocket-FLV " +
    "on upgrade), rtp (RTSP) or mpegts (MPEG-TS over HTTP)",
    "8: <Stream test1.mpg> has no Format, and ffserver would serve the format its name says: skipped (add " +
    "Format flv to serve it as FLV)",
    "11: <Stream nothing.flv> has no Feed and no File: skipped (Feed NAME.ffm serves a feed, File PATH.flv a " +
    "file)",
    "14: <Stream nothing.sdp> has no Feed and no File: skipped (Feed NAME.ffm serves a feed, File PATH.flv a " +
    "file)",
  ]);
});

Deno.test("parseFfserverConf() plays a Format rtp stream at ffserver's rtsp://HOST:RTSPPort/NAME and at its feed's key, and says so", () => {
  const { overrides, warnings } = parse(
    "RTSPPort 5454",
    "<Feed feed1.ffm>",
    "</Feed>",
    "<Stream test1.sdp>",
    "Feed feed1.ffm",
    "Format rtp",
    "</Stream>",
  );
  assertEquals(overrides, {
    rtsp: { port: 5454, enabled: true },
    feeds: [feed({ key: "feed/feed1", push: "/feed1.ffm" })],
    streams: [stream({ path: "/test1.sdp", key: "feed/feed1", format: "rtp" })],
  }, "a streams entry of format rtp: ffserver's URL plays the feed's key");
  assertEquals(warnings, [{
    line: 6,
    directive: "Format",
    text: "Format rtp: <Stream test1.sdp> plays over RTSP at ffserver's rtsp://HOST:5454/test1.sdp and at " +
      "rtsp://HOST:5454/feed/feed1 (the stream of <Feed feed1.ffm>)",
  }]);
  validateConfig(makeConfig(overrides));
});

Deno.test("parseFfserverConf() names the RTSP URL with RTSPBindAddress, RTSPPort from anywhere in the file, or the default port", () => {
  const rtp = ["<Feed f.ffm>", "</Feed>", "<Stream s>", "Feed f.ffm", "Format rtp", "</Stream>"];
  const url = (...globals: string[]) => {
    const text = parse(...rtp, ...globals).warnings[0].text;
    return text.match(/at (rtsp:\/\/\S+) /)?.[1];
  };
  assertEquals(url(), "rtsp://HOST:8554/feed/f", "no RTSPPort: Sluice's default port");
  assertEquals(url("RTSPPort 554"), "rtsp://HOST:554/feed/f", "a global after the blocks counts");
  assertEquals(url("RTSPPort 554", "RTSPBindAddress 192.0.2.7"), "rtsp://192.0.2.7:554/feed/f");
  assertEquals(url("RTSPBindAddress ::1"), "rtsp://[::1]:8554/feed/f");
  assertEquals(url("RTSPBindAddress 0.0.0.0"), "rtsp://HOST:8554/feed/f");
});

Deno.test("parseFfserverConf() makes the transcode of a Format rtp stream with encoding lines and plays that key over RTSP", () => {
  const { overrides, warnings } = parse(
    "RTSPPort 5454",
    "<Feed feed1.ffm>",
    "</Feed>",
    "<Stream small.sdp>",
    "Feed feed1.ffm",
    "Format rtp",
    "VideoSize 320x240",
    "VideoCodec mpeg4",
    "</Stream>",
  );
  assertEquals(overrides.streams, [stream({ path: "/small.sdp", key: "feed/small", format: "rtp" })]);
  assertEquals(overrides.transcodes, [
    transcode({ key: "feed/small", from: "feed/feed1", videoSize: "320x240" }),
  ]);
  assertEquals(shown(warnings), [
    "6: Format rtp: <Stream small.sdp> plays over RTSP at ffserver's rtsp://HOST:5454/small.sdp and at " +
    "rtsp://HOST:5454/feed/small (the transcode's stream)",
    "8: VideoCodec mpeg4: FLV here carries H.264, so the transcode uses libx264",
  ]);
});

Deno.test("parseFfserverConf() warns the lines an RTSP play does not apply (NoAudio, NoVideo, MaxTime, Preroll); the ACL guards ffserver's URL", () => {
  const { overrides, warnings } = parse(
    "<Feed f.ffm>",
    "File /tmp/f.ffm",
    "</Feed>",
    "<Stream cam.sdp>",
    "Feed f.ffm",
    "Format rtp",
    "NoAudio",
    "NoVideo",
    "MaxTime 10",
    "Preroll 5",
    "ACL allow 127.0.0.1",
    "ACL allow 192.168.0.0 192.168.255.255",
    "</Stream>",
    "<Stream zero.sdp>",
    "Feed f.ffm",
    "Format rtp",
    "MaxTime 0",
    "Preroll 0",
    "</Stream>",
  );
  const acl = ["allow 127.0.0.1", "allow 192.168.0.0 192.168.255.255"];
  assertEquals(overrides.streams, [
    stream({ path: "/cam.sdp", key: "feed/f", format: "rtp", acl }),
    stream({ path: "/zero.sdp", key: "feed/f", format: "rtp" }),
  ]);
  assertEquals(overrides.rules, undefined, "no rule is made for the ACL: it would apply on every protocol");
  assertEquals(shown(warnings), [
    "6: Format rtp: <Stream cam.sdp> plays over RTSP at ffserver's rtsp://HOST:8554/cam.sdp and at " +
    "rtsp://HOST:8554/feed/f (the stream of <Feed f.ffm>)",
    "7: ignored: NoAudio (RTSP plays every track of feed/f)",
    "8: ignored: NoVideo (RTSP plays every track of feed/f)",
    "9: ignored: MaxTime (RTSP plays have no time limit)",
    "10: ignored: Preroll (RTSP plays start live)",
    "11: ACL guards rtsp://HOST:8554/cam.sdp; RTSP plays rtsp://HOST:8554/feed/f by its key with no ACL: " +
    'restrict that with a rules[] entry, match "feed/f", action "play", acl ["allow 127.0.0.1","allow ' +
    '192.168.0.0 192.168.255.255"]',
    "16: Format rtp: <Stream zero.sdp> plays over RTSP at ffserver's rtsp://HOST:8554/zero.sdp and at " +
    "rtsp://HOST:8554/feed/f (the stream of <Feed f.ffm>)",
  ]);
});

Deno.test("parseFfserverConf() plays a Format mpegts stream at /feed/NAME.ts over HTTP, its feed's key, and says so", () => {
  const { overrides, warnings } = parse(
    "Port 8090",
    "<Feed f.ffm>",
    "</Feed>",
    "<Stream a.ts>",
    "Feed f.ffm",
    "Format mpegts",
    "NoAudio",
    "</Stream>",
  );
  assertEquals(overrides.streams, undefined);
  assertEquals(shown(warnings), [
    "6: Format mpegts: <Stream a.ts> plays as MPEG-TS over HTTP at http://HOST:8090/feed/f.ts (the stream of " +
    "<Feed f.ffm>), not at ffserver's http://HOST:8090/a.ts",
    "7: ignored: NoAudio (HTTP-TS plays every track of feed/f)",
  ]);
});

Deno.test("parseFfserverConf() skips a File-only Format rtp or mpegts stream: files are served as FLV", () => {
  const { overrides, warnings } = parse(
    "<Stream clip.sdp>",
    "File /srv/clip.flv",
    "Format rtp",
    "VideoSize 320x240",
    "</Stream>",
    "<Stream clip.ts>",
    "File /srv/clip.flv",
    "Format mpegts",
    "</Stream>",
  );
  assertEquals([overrides.streams, overrides.transcodes], [undefined, undefined]);
  assertEquals(shown(warnings), [
    "3: Format rtp: <Stream clip.sdp> serves a File, and Sluice serves files as FLV only: skipped (Format " +
    "flv serves it at /clip.sdp)",
    "8: Format mpegts: <Stream clip.ts> serves a File, and Sluice serves files as FLV only: skipped (Format " +
    "flv serves it at /clip.ts)",
  ]);
});

Deno.test("parseFfserverConf() refuses a Format rtp stream whose Feed names no <Feed>, with its line", () => {
  assertEquals(
    failure("<Stream s.sdp>", "Feed nope.ffm", "Format rtp", "</Stream>"),
    {
      message: `Cannot read ${PATH} line 2: Feed "nope.ffm" names no <Feed> of this file`,
      line: 2,
      path: PATH,
    },
  );
});

Deno.test("parseFfserverConf() warns multicast and RTSPOption in a stream: Sluice's RTSP is unicast with no options", () => {
  const { warnings } = parse(
    "<Feed f.ffm>",
    "</Feed>",
    "<Stream s.sdp>",
    "Feed f.ffm",
    "Format rtp",
    "MulticastAddress 224.124.0.1",
    "MulticastPort 5000",
    "MulticastTTL 16",
    "NoLoop",
    "RTSPOption tcp",
    "</Stream>",
  );
  const multicast = "(Sluice's RTSP sends no multicast: a player gets RTP over TCP or UDP unicast)";
  assertEquals(shown(warnings).slice(1), [
    `6: ignored: MulticastAddress ${multicast}`,
    `7: ignored: MulticastPort ${multicast}`,
    `8: ignored: MulticastTTL ${multicast}`,
    `9: ignored: NoLoop ${multicast}`,
    "10: ignored: RTSPOption (Sluice's RTSP has no options per stream)",
  ]);
});

Deno.test("parseFfserverConf() serves a status stream with its ACL and warns the media lines it cannot have", () => {
  const { overrides, warnings } = parse(
    "<Feed f.ffm>",
    "</Feed>",
    "<Stream stat.html>",
    "Format status",
    "Feed f.ffm",
    "VideoSize 320x240",
    "ACL allow 192.168.0.0 192.168.255.255",
    "FaviconURL http://example.com/favicon.ico",
    "</Stream>",
  );
  assertEquals(overrides.streams, [
    stream({ path: "/stat.html", format: "status", acl: ["allow 192.168.0.0 192.168.255.255"] }),
  ]);
  assertEquals(shown(warnings), [
    "5: ignored: Feed (a status stream serves no media)",
    "6: ignored: VideoSize (a status stream serves no media)",
    "8: ignored: FaviconURL (the status page has no favicon setting)",
  ]);
});

Deno.test("parseFfserverConf() serves a File stream as FLV on demand, warning what it cannot do with one", () => {
  const { overrides, warnings } = parse(
    "<Feed f.ffm>",
    "</Feed>",
    "<Stream rec.flv>",
    "File '/srv/rec.asf'",
    "VideoBitRate 300",
    "</Stream>",
    "<Stream both.flv>",
    "Feed f.ffm",
    "File /srv/x.flv",
    "</Stream>",
  );
  assertEquals(overrides.streams, [
    stream({ path: "/rec.flv", file: "/srv/rec.asf" }),
    stream({ path: "/both.flv", key: "feed/f" }),
  ]);
  assertEquals(shown(warnings), [
    '4: Sluice serves FLV files only: "/srv/rec.asf" plays only if it is FLV',
    "5: ignored: VideoBitRate (a File is served as it is, not transcoded)",
    "9: ignored: File (the stream has a Feed, which it serves)",
  ]);
});

// ---- transcodes

Deno.test("parseFfserverConf() makes a transcode of a stream's encoding lines, mapping sizes, codecs and options", () => {
  const { overrides, warnings } = parse(
    "<Feed feed1.ffm>",
    "</Feed>",
    "<Stream hd.flv>",
    "Feed feed1.ffm",
    "Format flv",
    "VideoSize hd720",
    "VideoFrameRate 29.97",
    "VideoBitRate 2500",
    "VideoGopSize 60",
    "VideoCodec h264",
    "VideoBufferSize 40",
    "PixelFormat yuv420p",
    "AVOptionVideo flags +global_header",
    "AVOptionVideo libx264:preset veryfast",
    "AudioCodec aac",
    "AudioBitRate 128",
    "AudioSampleRate 44100",
    "AudioChannels 2",
    "AVOptionAudio flags +global_header",
    "</Stream>",
    "<Stream old.flv>",
    "Feed feed1.ffm",
    "VideoCodec flv",
    "VideoIntraOnly",
    "AudioCodec libmp3lame",
    "AVOptionVideo mpeg4:mbd 2",
    "VideoQMin 3",
    "</Stream>",
  );
  assertEquals(overrides.transcodes, [
    transcode({
      key: "feed/hd",
      from: "feed/feed1",
      videoSize: "1280x720",
      videoFps: 29.97,
      videoBitrateKbps: 2500,
      videoGop: 60,
      audioBitrateKbps: 128,
      audioSampleRate: 44100,
      audioChannels: 2,
      args: [
        "-bufsize",
        "327680",
        "-pix_fmt",
        "yuv420p",
        "-flags:v",
        "+global_header",
        "-preset:v",
        "veryfast",
        "-flags:a",
        "+global_header",
      ],
    }),
    transcode({ key: "feed/old", from: "feed/feed1", videoGop: 1 }),
  ]);
  assertEquals(overrides.streams!.map((s) => s.key), ["feed/hd", "feed/old"]);
  assertEquals(shown(warnings), [
    "23: VideoCodec flv: FLV here carries H.264, so the transcode uses libx264",
    "25: AudioCodec libmp3lame: the transcode uses aac, the audio FLV here carries",
    "26: ignored: AVOptionVideo mpeg4:mbd (an option of mpeg4; the transcode uses libx264)",
    `27: ignored: VideoQMin ${NO_SETTING}`,
  ]);
});

Deno.test("parseFfserverConf() keys a transcode feed/<stream name>, then _2, _3 when the key is taken", () => {
  const { overrides } = parse(
    "<Feed small.ffm>",
    "</Feed>",
    "<Stream small.flv>",
    "Feed small.ffm",
    "VideoSize 320x240",
    "</Stream>",
    "<Stream small.swf.flv>",
    "Feed small.ffm",
    "VideoSize 320x240",
    "</Stream>",
    "<Stream small>",
    "Feed small.ffm",
    "Format flv",
    "VideoSize 160x120",
    "</Stream>",
  );
  assertEquals(overrides.transcodes!.map((t) => [t.key, t.from]), [
    ["feed/small_2", "feed/small"],
    ["feed/small.swf", "feed/small"],
    ["feed/small_3", "feed/small"],
  ]);
  assertEquals(overrides.streams!.map((s) => [s.path, s.key]), [
    ["/small.flv", "feed/small_2"],
    ["/small.swf.flv", "feed/small.swf"],
    ["/small", "feed/small_3"],
  ]);
});

Deno.test("feedKey() is app feed and the name without .ffm", () => {
  assertEquals(feedKey("feed1.ffm"), "feed/feed1");
  assertEquals(feedKey("CAM.FFM"), "feed/CAM");
  assertEquals(feedKey("live"), "feed/live");
});

Deno.test("parseFfserverConf() warns the encoding lines of a skipped stream only when they have no setting at all", () => {
  const { warnings } = parse(
    "<Stream lost.flv>",
    "VideoSize 320x240",
    "VideoCodec mpeg4",
    "BitExact",
    "AVPresetVideo default",
    'Title "My stream"',
    "MulticastAddress 224.124.0.1",
    "</Stream>",
  );
  assertEquals(shown(warnings), [
    "1: <Stream lost.flv> has no Feed and no File: skipped (Feed NAME.ffm serves a feed, File PATH.flv a file)",
    `4: ignored: BitExact ${NO_SETTING}`,
    "5: ignored: AVPresetVideo (preset files are not read; AVOptionVideo NAME VALUE passes an ffmpeg option)",
    "6: ignored: Title (Sluice passes the publisher's metadata through)",
    "7: ignored: MulticastAddress (Sluice's RTSP sends no multicast: a player gets RTP over TCP or UDP unicast)",
  ]);
});

// ---- loading a file

/** Writes `text` to a temp file, runs `fn` with its path, removes it. */
async function withFile<T>(text: string | Uint8Array, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_ffserver_" });
  const path = `${dir}/ffserver.conf`;
  try {
    if (typeof text === "string") await Deno.writeTextFile(path, text);
    else await Deno.writeFile(path, text);
    return await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadFfserverConf() without the read permission says which flag to add, never prompting", async () => {
  const e = await assertRejects(
    () => loadFfserverConf("/etc/ffserver.conf", { queryRead: () => Promise.resolve("prompt") }),
    FfserverConfError,
  );
  assertEquals(e.message, missingFfserverReadMessage("/etc/ffserver.conf"));
  assertEquals(
    e.message,
    "Cannot read /etc/ffserver.conf: run with --allow-read (deno run --allow-net --allow-read server.ts " +
      "--ffserver-conf /etc/ffserver.conf)",
  );
  assertEquals([e.path, e.line], ["/etc/ffserver.conf", 0]);
});

Deno.test("loadFfserverConf() names a missing file, a folder, a file past the bound and one that is not UTF-8", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_ffserver_" });
  try {
    const cases: [string, string][] = [
      [`${dir}/none.conf`, `Cannot read ${dir}/none.conf: there is no such file`],
      [dir, `Cannot read ${dir}: it is a folder, not a file`],
    ];
    for (const [path, message] of cases) {
      assertEquals((await assertRejects(() => loadFfserverConf(path), FfserverConfError)).message, message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await withFile(new Uint8Array(FFSERVER_MAX_BYTES + 1).fill(0x23), async (path) => {
    assertEquals(
      (await assertRejects(() => loadFfserverConf(path), FfserverConfError)).message,
      `Cannot read ${path}: current size is above the maximum ${FFSERVER_MAX_BYTES} bytes`,
    );
  });
  await withFile(new Uint8Array([0x50, 0x6f, 0x72, 0x74, 0x20, 0xff]), async (path) => {
    assertEquals(
      (await assertRejects(() => loadFfserverConf(path), FfserverConfError)).message,
      `Cannot read ${path}: it is not UTF-8 text`,
    );
  });
  await withFile("Port 8090\nRTSPPort 554\nDaemon\n", async (path) => {
    const { overrides, warnings } = await loadFfserverConf(path);
    assertEquals(overrides, { http: { port: 8090 }, rtsp: { port: 554, enabled: true } });
    assertEquals(warnings.map((w) => ffserverWarningLine(path, w)), [
      `${path}:3: Sluice never forks: Daemon is ignored and it runs in the foreground (a service manager ` +
      "runs it in the background)",
    ]);
  });
});
