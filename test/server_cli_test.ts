/**
 * The command line, run as a user runs it: `deno run --allow-net server.ts`
 * in a child process, with no other permission. It prints the ports it bound
 * (port 0 picks free ones), answers /health, takes an ffmpeg publish at the
 * URL it printed, and stops cleanly on SIGTERM and SIGINT.
 */
import { assert, assertEquals, assertMatch } from "./_util/assert.ts";
import { haveTools, lines, makeSource, type Proc, publish, run } from "./_util/media.ts";
import { CONFIG_FLAG, FFSERVER_CONF_FLAG, HELP_FLAG, PRINT_CONFIG_FLAG } from "../src/config/cli.ts";
import { type Config, makeConfig } from "../src/config/config.ts";
import { loadConfigFile } from "../src/config/config_file.ts";
import { loadFfserverConf } from "../src/config/ffserver_conf.ts";
import { parseJsonc } from "../src/config/jsonc.ts";
import { allFlags, PASSWORD_HASH } from "../src/config/schema.ts";
import { verifyPassword } from "../src/admin/password.ts";
import { SignedUrlVerifier } from "../src/auth/signed_url.ts";
import { AdmissionAction, parseQuery } from "../src/hub/admission.ts";
import { denoTasks, startTaskFlags } from "../bench/start_task.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DENO = Deno.execPath();
/** Exactly what a user types, save the ports: no permission but the network. */
const SERVE = ["run", "--no-prompt", "--allow-net", "server.ts"];
const LOCAL = ["--rtmp-port", "0", "--http-port", "0", "--rtsp-port", "0", "--host", "127.0.0.1"];
const BOUND_MS = 30_000;

function cli(args: string[]) {
  return run(DENO, [...SERVE, ...args], { timeoutMs: BOUND_MS, cwd: ROOT });
}

/** server.ts with the read permission as well, which `--config` needs. */
const SERVE_READ = ["run", "--no-prompt", "--allow-net", "--allow-read", "server.ts"];

function cliRead(args: string[]) {
  return run(DENO, [...SERVE_READ, ...args], { timeoutMs: BOUND_MS, cwd: ROOT });
}

/** Writes `text` as a config file in a temp folder, runs `fn` with its path, removes the folder. */
async function withConfigFile<T>(text: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_cli_config_" });
  try {
    await Deno.writeTextFile(`${dir}/sluice.jsonc`, text);
    return await fn(`${dir}/sluice.jsonc`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A server.ts child process and what it printed. */
interface CliServer {
  child: Deno.ChildProcess;
  /** Every line printed so far (the log goes to stderr). */
  log: string[];
  /** The RTMP publish URL it printed, with the stream name `cam`. */
  rtmpUrl: string;
  httpUrl: string;
  /** Sends `signal` and waits for the exit; the log is complete afterwards. */
  stop(signal: Deno.Signal): Promise<Deno.CommandStatus>;
  /** Kills it if still running (test cleanup). */
  kill(): Promise<void>;
  /**
   * Waits (within BOUND_MS) for a line matching `re`: what the server logs about a peer's close travels
   * through its stderr pipe after the peer itself has exited, so a test may see the exit first.
   */
  logged(re: RegExp): Promise<boolean>;
}

/** Starts server.ts with `args` (by default the local ports) and only --allow-net, or `serve`'s permissions. */
async function startCli(args: string[] = LOCAL, serve: string[] = SERVE): Promise<CliServer> {
  const child = new Deno.Command(DENO, {
    args: [...serve, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), BOUND_MS);
  const log: string[] = [];
  const ready = Promise.withResolvers<void>();
  const readStderr = (async () => {
    for await (const line of lines(child.stderr)) {
      log.push(line);
      if (/ health: /.test(line)) ready.resolve();
    }
    ready.reject(new Error(`server.ts exited before it was ready:\n${log.join("\n")}`));
  })();
  const readStdout = (async () => {
    for await (const line of lines(child.stdout)) log.push(line);
  })();
  const exited = Promise.all([child.status, readStderr, readStdout]).then(([status]) => {
    clearTimeout(timer);
    return status;
  });
  const server = {
    child,
    log,
    rtmpUrl: "",
    httpUrl: "",
    async stop(signal: Deno.Signal) {
      child.kill(signal);
      return await exited;
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await exited;
    },
    async logged(re: RegExp) {
      const until = Date.now() + BOUND_MS;
      while (!log.some((l) => re.test(l))) {
        if (Date.now() > until) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
      return true;
    },
  };
  try {
    await ready.promise;
  } catch (e) {
    await server.kill();
    throw e;
  }
  const publishLine = log.find((l) => / publish: /.test(l)) ?? "";
  const healthLine = log.find((l) => / health: /.test(l)) ?? "";
  server.rtmpUrl = (publishLine.match(/ publish: +(rtmp:\/\/\S+)\/\{stream\}/)?.[1] ?? "") + "/cam";
  server.httpUrl = healthLine.match(/ health: +(http:\/\/\S+)\/health/)?.[1] ?? "";
  return server;
}

Deno.test("server.ts --help prints the usage and exits 0", async () => {
  const r = await cli(["--help"]);
  assertEquals(r.code, 0, r.stderr);
  assertMatch(r.stdout, /^Usage: deno run --allow-net server\.ts \[flags\]$/m);
  assertMatch(r.stdout, /--rtmp-port N/);
});

Deno.test("server.ts --help lists every flag of the schema with its value placeholder", async () => {
  const r = await cli(["--help"]);
  assertEquals(r.code, 0, r.stderr);
  // A flag's line: two spaces, the flag and its placeholder, then two spaces or more before its help.
  const listed = [...r.stdout.matchAll(/^ {2}(-.+?)(?: {2,}|$)/gm)].map((m) => m[1]);
  const schema = allFlags().map(({ flag }) =>
    flag.value === undefined ? flag.name : `${flag.name} ${flag.value}`
  );
  const cliOnly = [
    `${CONFIG_FLAG.name} ${CONFIG_FLAG.value}`,
    `${FFSERVER_CONF_FLAG.name} ${FFSERVER_CONF_FLAG.value}`,
    PRINT_CONFIG_FLAG.name,
    `${HELP_FLAG.short}, ${HELP_FLAG.name}`,
  ];
  assertEquals(listed.sort(), [...schema, ...cliOnly].sort(), r.stdout);
});

/** Runs `server.ts hash-password` with no permission at all, `input` piped to its stdin. */
async function hashPasswordCli(input: string, extra: string[] = []): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(DENO, {
    args: ["run", "--no-prompt", "server.ts", "hash-password", ...extra],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), BOUND_MS);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input)).catch(() => {}); // it may exit before reading
    await writer.close().catch(() => {});
    return await child.output();
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("server.ts hash-password reads the password from stdin and prints a hash that verifies, with no permission", async () => {
  const password = "correct horse battery staple";
  const r = await hashPasswordCli(`${password}\n`);
  const stdout = new TextDecoder().decode(r.stdout);
  const stderr = new TextDecoder().decode(r.stderr);
  assertEquals(r.code, 0, stderr);
  const lines = stdout.split("\n");
  assertEquals(lines.length, 2, stdout);
  assertEquals(lines[1], "");
  assertMatch(lines[0], PASSWORD_HASH);
  assertEquals(await verifyPassword(password, lines[0]), true);
  assertEquals(await verifyPassword(`${password}\n`, lines[0]), false);
  assert(!stdout.includes(password) && !stderr.includes(password), "the password was printed");
  // A line ending in CRLF, and a last line with no ending, are the same password.
  for (const input of [`${password}\r\n`, password]) {
    const again = await hashPasswordCli(input);
    assertEquals(again.code, 0);
    assertEquals(await verifyPassword(password, new TextDecoder().decode(again.stdout).trim()), true);
  }
});

Deno.test("server.ts hash-password exits 2 for a short password or an argument, printing neither hash nor password", async () => {
  const short = await hashPasswordCli("hunter2\n");
  assertEquals(short.code, 2);
  assertEquals(short.stdout.length, 0);
  const stderr = new TextDecoder().decode(short.stderr);
  assertEquals(stderr.trim(), "Cannot hash the password: current length 7 characters is below the minimum 8");
  const extra = await hashPasswordCli("correct horse battery staple\n", ["--iterations"]);
  assertEquals(extra.code, 2);
  assertEquals(extra.stdout.length, 0);
  assertMatch(
    new TextDecoder().decode(extra.stderr),
    /^Cannot run hash-password: current argument "--iterations"/,
  );
});

Deno.test("server.ts --chunk-size 0 exits 2 naming rtmp.chunkSize and its minimum", async () => {
  const r = await cli(["--chunk-size", "0", ...LOCAL]);
  assertEquals(r.code, 2, r.stderr);
  assertEquals(r.stderr.trim(), "Cannot use rtmp.chunkSize: 0 is below the minimum 128");
  assertEquals(r.stdout, "");
});

Deno.test("server.ts --rtmp-port 70000 exits 2 naming rtmp.port and its maximum", async () => {
  const r = await cli(["--rtmp-port", "70000"]);
  assertEquals(r.code, 2, r.stderr);
  assertEquals(r.stderr.trim(), "Cannot use rtmp.port: 70000 is above the maximum 65535");
  assertEquals(r.stdout, "");
});

Deno.test("server.ts exits 2 with a message naming an unknown flag", async () => {
  const r = await cli(["--bogus-flag"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /--bogus-flag/);
  assertEquals(r.stdout, "");
});

Deno.test({
  name:
    "server.ts with only --allow-net prints its bound ports, answers /health, takes an ffmpeg publish and exits 0 on SIGTERM",
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice_cli_" });
    const server = await startCli();
    let publisher: Proc | undefined;
    try {
      const listening = server.log.find((l) => /RTMP listening on/.test(l)) ?? "";
      const m = listening.match(/RTMP listening on 127\.0\.0\.1:(\d+), HTTP on 127\.0\.0\.1:(\d+)/);
      assert(m, `no "listening" line with the bound ports:\n${server.log.join("\n")}`);
      assert(Number(m[1]) > 0 && Number(m[2]) > 0, `ports printed as ${m[1]} and ${m[2]}`);
      assertEquals(server.rtmpUrl, `rtmp://127.0.0.1:${m[1]}/live/cam`);
      assertEquals(server.httpUrl, `http://127.0.0.1:${m[2]}`);

      const health = await fetch(`${server.httpUrl}/health`);
      assertEquals(health.status, 200);
      assertMatch(health.headers.get("content-type") ?? "", /application\/json/);
      assertEquals((await health.json()).status, "ok");

      if (haveTools("ffmpeg")) {
        const src = await makeSource(`${dir}/src.flv`, { seconds: 3 });
        publisher = publish(src, server.rtmpUrl, [], BOUND_MS);
        const pub = await publisher.done;
        assertEquals(pub.code, 0, `ffmpeg could not publish to ${server.rtmpUrl}:\n${pub.stderr}`);
        assert(server.log.some((l) => /publishing live\/cam/.test(l)), "the server did not log the publish");
        assert(
          await server.logged(/closed: publisher live\/cam, in \d+ B/),
          `the server did not log the publisher's close:\n${server.log.join("\n")}`,
        );
      }

      const status = await server.stop("SIGTERM");
      assertEquals(status.code, 0, server.log.join("\n"));
      assert(server.log.some((l) => /SIGTERM: stopping/.test(l)), server.log.join("\n"));
    } finally {
      await publisher?.stop("SIGKILL");
      await server.kill();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "deno task start's runtime flags (V8's young generation capped) start the server, which answers /health",
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const flags = startTaskFlags();
    assert(flags.includes("--allow-net"), `the start task has no --allow-net: ${flags.join(" ")}`);
    const semi = flags.find((f) => f.startsWith("--v8-flags="));
    assertMatch(semi ?? "", /^--v8-flags=--max-semi-space-size=\d+$/);
    // The compiled binary gets the same cap (deno compile bakes --v8-flags in).
    const compile = denoTasks().compile;
    assert(compile.includes(semi!), `the compile task lacks ${semi}: ${compile}`);
    const server = await startCli(LOCAL, ["run", "--no-prompt", ...flags, "server.ts"]);
    try {
      const health = await fetch(`${server.httpUrl}/health`);
      assertEquals((await health.json()).status, "ok");
      const status = await server.stop("SIGTERM");
      assertEquals(status.code, 0, server.log.join("\n"));
    } finally {
      await server.kill();
    }
  },
});

Deno.test({
  name: "server.ts exits 0 on SIGINT while a publisher is connected",
  ignore: !haveTools("ffmpeg"),
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice_cli_" });
    const server = await startCli();
    let publisher: Proc | undefined;
    try {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 20 });
      publisher = publish(src, server.rtmpUrl, [], BOUND_MS);
      // The publisher runs 20 s, far longer than the publish takes to show in the log.
      assert(await server.logged(/publishing live\/cam/), server.log.join("\n"));

      const status = await server.stop("SIGINT");
      assertEquals(status.code, 0, server.log.join("\n"));
      assert(server.log.some((l) => /SIGINT: stopping/.test(l)), server.log.join("\n"));
      assert(
        server.log.some((l) => /closed: publisher live\/cam, .*: server stopping/.test(l)),
        `the publisher's close was not logged as "server stopping":\n${server.log.join("\n")}`,
      );
      // The publisher sees its connection end: ffmpeg stops with an error instead of running on.
      const pub = await publisher.done;
      assert(pub.code !== 0, "ffmpeg kept publishing after the server stopped");
    } finally {
      await publisher?.stop("SIGKILL");
      await server.kill();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ---- the config file

Deno.test({
  name: "server.ts --config FILE with --allow-read starts on the file's host and ports and answers /health",
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const text = `{
  // loopback only, ports picked by the system
  "rtmp": { "host": "127.0.0.1", "port": 0, },
  "http": { "host": "127.0.0.1", "port": 0 },
  "limits": { "maxPlayers": 10 },
}`;
    await withConfigFile(text, async (path) => {
      const server = await startCli(["--config", path], SERVE_READ);
      try {
        const listening = server.log.find((l) => /RTMP listening on/.test(l)) ?? "";
        const m = listening.match(/RTMP listening on 127\.0\.0\.1:(\d+), HTTP on 127\.0\.0\.1:(\d+)/);
        assert(m, `the file's host and ports are not the ones bound:\n${server.log.join("\n")}`);
        assert(Number(m[1]) > 0 && Number(m[2]) > 0, listening);
        assert(server.log.some((l) => l.includes(`config file: ${path}`)), server.log.join("\n"));
        const health = await fetch(`${server.httpUrl}/health`);
        assertEquals(health.status, 200);
        await health.body?.cancel();
        assertEquals((await server.stop("SIGTERM")).code, 0, server.log.join("\n"));
      } finally {
        await server.kill();
      }
    });
  },
});

Deno.test("server.ts --config with a key that is no setting exits 2 naming it and the nearest name", async () => {
  await withConfigFile('{ "rtmp": { "chunksize": 8192 } }', async (path) => {
    const r = await cliRead(["--config", path, ...LOCAL]);
    assertEquals(r.code, 2, r.stderr);
    assertEquals(
      r.stderr.trim(),
      "Cannot use rtmp.chunksize: there is no such setting (did you mean rtmp.chunkSize?)",
    );
    assertEquals(r.stdout, "");
  });
});

Deno.test("server.ts --config with a syntax error exits 2 naming the file, line and column", async () => {
  await withConfigFile('{\n  "rtmp": { "port": 1935 }\n  "http": {}\n}', async (path) => {
    const r = await cliRead(["--config", path, ...LOCAL]);
    assertEquals(r.code, 2, r.stderr);
    assertEquals(
      r.stderr.trim(),
      `Cannot parse ${path}: line 3, column 3: expected "," or "}" after a member, found the string "http"`,
    );
  });
});

/** The configuration `--print-config` printed, loaded back as `--config` loads a file. */
async function printedConfig(stdout: string): Promise<Config> {
  return await withConfigFile(stdout, async (path) => makeConfig(await loadConfigFile(path)));
}

Deno.test("server.ts --config FILE with a flag: the flag overrides the file, the rest of the file stays", async () => {
  const text =
    '{ "rtmp": { "chunkSize": 8192 }, "log": { "level": "debug" }, "limits": { "maxPlayers": 5 } }';
  await withConfigFile(text, async (path) => {
    const r = await cliRead(["--config", path, "--chunk-size", "16384", "--print-config"]);
    assertEquals(r.code, 0, r.stderr);
    const config = await printedConfig(r.stdout);
    assertEquals(
      config,
      makeConfig({ rtmp: { chunkSize: 16384 }, log: { level: "debug" }, limits: { maxPlayers: 5 } }),
    );
  });
});

Deno.test("server.ts --print-config prints the effective config, which loads back with --config to the same", async () => {
  const flags = ["--chunk-size", "8192", "--max-players", "7", "--source", "live/cam=cam.flv", "--takeover"];
  const first = await cli([...flags, "--print-config"]);
  assertEquals(first.code, 0, first.stderr);
  assertEquals(first.stderr, "");
  assertEquals(
    await printedConfig(first.stdout),
    makeConfig({
      rtmp: { chunkSize: 8192 },
      limits: { maxPlayers: 7 },
      hub: { publishTakeover: true },
      sources: [{ key: "live/cam", path: "cam.flv", loop: true }],
    }),
  );
  // Run from the printed file alone, it prints the same file again.
  await withConfigFile(first.stdout, async (path) => {
    const again = await cliRead(["--config", path, "--print-config"]);
    assertEquals(again.code, 0, again.stderr);
    assertEquals(again.stdout, first.stdout);
  });
});

Deno.test("server.ts --print-config with a bad value exits 2 as a start does", async () => {
  const r = await cli(["--chunk-size", "0", "--print-config"]);
  assertEquals(r.code, 2, r.stderr);
  assertEquals(r.stderr.trim(), "Cannot use rtmp.chunkSize: 0 is below the minimum 128");
  assertEquals(r.stdout, "");
});

Deno.test("server.ts --config without --allow-read exits 2 saying to add --allow-read", async () => {
  await withConfigFile("{}", async (path) => {
    const r = await cli(["--config", path, ...LOCAL]);
    assertEquals(r.code, 2, r.stderr);
    assertEquals(
      r.stderr.trim(),
      `Cannot read ${path}: run with --allow-read (deno run --allow-net --allow-read server.ts --config ${path})`,
    );
    assertEquals(r.stdout, "");
  });
});

Deno.test("server.ts exits 2 for --config without a file, or given twice", async () => {
  const cases: [string[], string][] = [
    [["--config"], "Cannot parse --config: current value is missing (--config FILE)"],
    [["--config", "--print-config"], "Cannot parse --config: current value is missing (--config FILE)"],
    [
      ["--config", "a.jsonc", "--config=b.jsonc"],
      'Cannot parse --config: current value "b.jsonc" is a second file after "a.jsonc" (one config file at most)',
    ],
    [
      ["--print-config=yes"],
      'Cannot parse --print-config: current value "yes" is not allowed (it takes none)',
    ],
  ];
  for (const [args, message] of cases) {
    const r = await cliRead(args);
    assertEquals([r.code, r.stderr.trim(), r.stdout], [2, message, ""], args.join(" "));
  }
});

// ---- the ffserver.conf import

/** The ffserver.conf fixtures, by their path from the repository root (as the tests pass them). */
const DOC_CONF = "test/fixtures/ffserver/doc.conf";
const LIVE_CONF = "test/fixtures/ffserver/live.conf";

/** server.ts with every permission, as the brief of the import runs it. */
function cliAll(args: string[]) {
  return run(DENO, ["run", "--no-prompt", "-A", "server.ts", ...args], { timeoutMs: BOUND_MS, cwd: ROOT });
}

/** A log line without its timestamp and level: `2024-...Z WARN  text` is `text`. */
function logText(line: string): string {
  return line.replace(/^\S+ (ERROR|WARN|INFO|DEBUG) +/, "");
}

/** The non-empty lines of a child's stderr, their log prefixes cut. */
function stderrLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l !== "").map(logText);
}

Deno.test("server.ts --ffserver-conf doc.conf --print-config prints the migrated config on stdout, the warnings on stderr", async () => {
  const r = await cliAll(["--ffserver-conf", DOC_CONF, "--print-config"]);
  assertEquals(r.code, 0, r.stderr);
  const printed = parseJsonc(r.stdout, "stdout") as Config;
  assertEquals(printed.http.port, 10535);
  assertEquals(printed.http.host, "0.0.0.0");
  assertEquals([printed.rtsp.port, printed.rtsp.enabled], [5454, true], "RTSPPort 5454");
  assertEquals(printed.limits.maxPlayers, 1000);
  assertEquals(printed.limits.maxBandwidthKbps, 1000);
  assertEquals(printed.log.access, "-");
  assertEquals(printed.feeds, [{
    key: "feed/feed1",
    push: "/feed1.ffm",
    file: "/tmp/feed1.ffm",
    fileMaxSize: 1024 * 1024,
    catchUp: false,
    acl: ["allow 127.0.0.1"],
  }]);
  const defaults = { prerollMs: 0, noAudio: false, noVideo: false, maxTimeMs: 0 };
  assertEquals(printed.streams, [
    { path: "/test.flv", file: "/tmp/test.flv", format: "flv", ...defaults, acl: [] },
    { path: "/stat.html", format: "status", ...defaults, acl: ["allow 127.0.0.1", "allow ::1"] },
  ]);
  assertEquals(printed.transcodes, []);
  // Exactly the configuration the file gives, loaded back as a --config file.
  assertEquals(
    await printedConfig(r.stdout),
    makeConfig((await loadFfserverConf(`${ROOT}${DOC_CONF}`)).overrides),
  );
  assertEquals(stderrLines(r.stderr), [
    `${DOC_CONF}:32: Format avi is not served: <Stream test.avi> is skipped; use Format flv (HTTP-FLV, and ` +
    "WebSocket-FLV on upgrade), rtp (RTSP) or mpegts (MPEG-TS over HTTP)",
    `${DOC_CONF}:45: ignored: Bitexact (a transcode has no such setting; AVOptionVideo NAME VALUE passes an ` +
    "ffmpeg option)",
    `${DOC_CONF}:46: ignored: Dctfastint (a transcode has no such setting; AVOptionVideo NAME VALUE passes an ` +
    "ffmpeg option)",
    `${DOC_CONF}:47: ignored: Idctsimple (a transcode has no such setting; AVOptionVideo NAME VALUE passes an ` +
    "ffmpeg option)",
  ]);
  assert(r.stderr.split("\n").filter((l) => l !== "").every((l) => / WARN {2}/.test(l)), r.stderr);
});

Deno.test("server.ts --ffserver-conf live.conf --print-config holds the feed, both streams and small.flv's transcode; flags win", async () => {
  const r = await cliAll([
    "--ffserver-conf",
    LIVE_CONF,
    "--http-port",
    "0",
    "--max-players",
    "5",
    "--print-config",
  ]);
  assertEquals(r.code, 0, r.stderr);
  const printed = parseJsonc(r.stdout, "stdout") as Config;
  assertEquals([printed.http.port, printed.limits.maxPlayers, printed.limits.maxBandwidthKbps], [
    0,
    5,
    100_000,
  ]);
  assertEquals(printed.feeds.map((f) => [f.key, f.push, f.file]), [["feed/feed1", "/feed1.ffm", undefined]]);
  assertEquals(printed.streams.map((s) => [s.path, s.key, s.format]), [
    ["/live.flv", "feed/feed1", "flv"],
    ["/small.flv", "feed/small", "flv"],
  ]);
  assertEquals(printed.transcodes, [{
    key: "feed/small",
    from: "feed/feed1",
    input: "rtmp",
    videoCodec: "libx264",
    videoSize: "320x240",
    videoBitrateKbps: 300,
    audioCodec: "aac",
    args: [],
  }]);
  assertEquals(printed.rtsp.port, 5454, "RTSPPort 5454");
  assertEquals(stderrLines(r.stderr), [], "live.conf maps line for line");
});

Deno.test("server.ts --ffserver-conf exits 2 naming the line of a syntax error, and without --allow-read saying to add it", async () => {
  await withConfigFile("Port 8090\n<Feed feed1.ffm>\nFile /tmp/feed1.ffm\n", async (path) => {
    const r = await cliAll(["--ffserver-conf", path, "--print-config"]);
    assertEquals(
      [r.code, r.stderr.trim(), r.stdout],
      [2, `Cannot read ${path} line 2: <Feed feed1.ffm> is not closed: </Feed> is missing`, ""],
    );
    const denied = await cli(["--ffserver-conf", path, ...LOCAL]);
    assertEquals(
      [denied.code, denied.stderr.trim(), denied.stdout],
      [
        2,
        `Cannot read ${path}: run with --allow-read (deno run --allow-net --allow-read server.ts ` +
        `--ffserver-conf ${path})`,
        "",
      ],
    );
  });
  const both = await cliAll(["--config", "a.jsonc", "--ffserver-conf", DOC_CONF]);
  assertEquals(
    [both.code, both.stderr.trim(), both.stdout],
    [
      2,
      `Cannot parse --ffserver-conf: current value "${DOC_CONF}" comes with --config "a.jsonc" (use one of them)`,
      "",
    ],
  );
});

Deno.test({
  name:
    "server.ts --ffserver-conf FILE starts on it with the flags over it, logs its warnings, and SIGHUP reads it again",
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const text = (maxClients: number) =>
      `# a test ffserver.conf\nPort 10535\nRTSPPort 5454\nDaemon\nMaxClients ${maxClients}\n` +
      "<Feed feed1.ffm>\nACL allow localhost\n</Feed>\n<Stream live.flv>\nFeed feed1.ffm\n</Stream>\n";
    await withConfigFile(text(1000), async (path) => {
      const server = await startCli(["--ffserver-conf", path, ...LOCAL], SERVE_READ);
      try {
        const shown = () => server.log.map(logText);
        const daemon = `${path}:4: Sluice never forks: Daemon is ignored and it runs in the foreground (a ` +
          "service manager runs it in the background)";
        assert(shown().includes(daemon), server.log.join("\n"));
        assert(
          shown().includes(`ffserver config: ${path} (the flags given override it)`),
          server.log.join("\n"),
        );
        assertMatch(server.httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/); // --http-port 0 won over Port 10535
        const health = await fetch(`${server.httpUrl}/health`);
        assertEquals(health.status, 200);
        await health.body?.cancel();

        await Deno.writeTextFile(path, text(5));
        server.child.kill("SIGHUP");
        const reloaded = `SIGHUP: reloaded ${path}: limits.maxPlayers`;
        for (let i = 0; i < 200 && !shown().includes(reloaded); i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert(shown().includes(reloaded), server.log.join("\n"));
        assertEquals(
          shown().filter((l) => l === daemon).length,
          2,
          "the warnings are logged again on reload",
        );
        assertEquals((await server.stop("SIGTERM")).code, 0, server.log.join("\n"));
      } finally {
        await server.kill();
      }
    });
  },
});

/** Runs `server.ts sign ARGS` with no permission at all; `input`, when given, piped to its stdin. */
async function signCli(
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(DENO, {
    args: ["run", "--no-prompt", "server.ts", "sign", ...args],
    cwd: ROOT,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), BOUND_MS);
  try {
    if (input !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(input)).catch(() => {}); // it may exit before reading
      await writer.close().catch(() => {});
    }
    const out = await child.output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

const SIGN_SECRET = "cli-signing-secret";

/** Whether a printed URL's query signs `action` of `key` (bound to `addr`, when given) with SIGN_SECRET now. */
async function urlVerifies(
  url: string,
  action: AdmissionAction,
  key: string,
  addr?: string,
): Promise<boolean> {
  const query = parseQuery(new URL(url).search.slice(1));
  const check = await new SignedUrlVerifier([SIGN_SECRET]).verify(query, { action, key, addr }, Date.now());
  return check.ok;
}

Deno.test("server.ts sign --play prints RTMP, HTTP-FLV and WebSocket-FLV URLs that verify, with no permission", async () => {
  const r = await signCli([
    "--secret",
    SIGN_SECRET,
    "--play",
    "live/cam",
    "--ttl",
    "600",
    "--host",
    "media.example",
    "--rtmp-port",
    "1940",
    "--http-port",
    "8080",
  ]);
  assertEquals(r.code, 0, r.stderr);
  const urls = r.stdout.trimEnd().split("\n");
  assertEquals(urls.map((u) => u.replace(/\?.*/, "")), [
    "rtmp://media.example:1940/live/cam",
    "http://media.example:8080/live/cam.flv",
    "ws://media.example:8080/live/cam.flv",
  ]);
  for (const url of urls) {
    assertMatch(url, /\?expires=\d+&sign=[A-Za-z0-9_-]{43}$/);
    assert(await urlVerifies(url, AdmissionAction.Play, "live/cam"), `${url} does not verify`);
    assert(!await urlVerifies(url, AdmissionAction.Play, "live/other"), `${url} verifies for another stream`);
  }
  const expires = Number(new URL(urls[0]).searchParams.get("expires"));
  const left = expires - Date.now() / 1000;
  assert(left > 500 && left <= 600, `expires in ${left} s`);
  assertMatch(r.stderr, new RegExp(`^play of live/cam: expires \\S+Z \\(${expires}\\)\\n$`));
  assert(!r.stderr.includes(SIGN_SECRET), "the secret was printed");
});

Deno.test("server.ts sign --publish prints RTMP, HTTP push and WebSocket push URLs; --addr binds without showing it", async () => {
  const r = await signCli([
    "--publish",
    "live/cam",
    "--ttl",
    "60",
    "--addr",
    "192.0.2.7",
    "--https-port",
    "8443",
  ], `${SIGN_SECRET}\n`);
  assertEquals(r.code, 0, r.stderr);
  const urls = r.stdout.trimEnd().split("\n");
  assertEquals(urls.map((u) => u.replace(/\?.*/, "")), [
    "rtmp://localhost:1935/live/cam",
    "http://localhost:8000/live/cam",
    "https://localhost:8443/live/cam",
    "ws://localhost:8000/live/cam",
    "wss://localhost:8443/live/cam",
  ]);
  assert(!r.stdout.includes("192.0.2.7"), "the bound address is in the URL");
  assert(await urlVerifies(urls[0], AdmissionAction.Publish, "live/cam", "192.0.2.7"));
  assert(!await urlVerifies(urls[0], AdmissionAction.Publish, "live/cam", "192.0.2.8"));
  assert(!await urlVerifies(urls[0], AdmissionAction.Play, "live/cam", "192.0.2.7"));
});

Deno.test("server.ts sign exits 2 with the usage for arguments it refuses, printing no URL", async () => {
  const base = ["--secret", SIGN_SECRET, "--ttl", "60"];
  const cases: [string[], RegExp][] = [
    [[...base], /give one of --play and --publish/],
    [[...base, "--play", "live/a", "--publish", "live/a"], /give one of --play and --publish/],
    [[...base, "--play", "cam"], /"cam" is not an app\/stream key/],
    [["--secret", SIGN_SECRET, "--play", "live/cam"], /--ttl takes a number of seconds/],
    [[...base.slice(0, 2), "--ttl", "0", "--play", "live/cam"], /the time to live is 1 to \d+ s/],
    [[...base, "--play", "live/cam", "--rtmp-port", "70000"], /--rtmp-port "70000" is not a port number/],
    [[...base, "--play", "live/cam", "--addr", "example.com"], /--addr "example.com" is not an IPv4 or IPv6/],
    [["--secret", "short", "--ttl", "60", "--play", "live/cam"], /the secret is not 8 to 256 printable/],
    [[...base, "--play", "live/cam", "--nope"], /Unknown option '--nope'/],
  ];
  for (const [args, reason] of cases) {
    const r = await signCli(args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertEquals(r.stdout, "", args.join(" "));
    assertMatch(r.stderr, /^Cannot run sign: /, args.join(" "));
    assertMatch(r.stderr, reason, args.join(" "));
    assertMatch(r.stderr, /\nUsage: deno run server\.ts sign /);
  }
  const help = await signCli(["--help"]);
  assertEquals(help.code, 0);
  assertMatch(help.stdout, /^Usage: deno run server\.ts sign /);
});
