/**
 * The Sluice command line: `deno run --allow-net server.ts [flags]`; and
 * `deno run server.ts hash-password`, which reads a password (one line) from
 * stdin and prints the hash `--admin-password-hash` takes; and
 * `deno run server.ts sign --secret SECRET --play app/stream --ttl SECONDS`,
 * which prints signed URLs of a stream (`server.ts sign --help` for the rest).
 *
 * `--config FILE` reads the settings from a config file (needs `--allow-read`),
 * with the flags laid over it; `--ffserver-conf FILE` reads an ffserver.conf
 * in its place (its warnings on stderr, `FILE:LINE: TEXT`); `--print-config`
 * prints the effective configuration as a config file and exits. A bad flag,
 * file or value exits 2 with one line that names it.
 *
 * @module
 */
import { type CommandLine, helpText, parseCliArgs, parseCommandLine } from "./src/config/cli.ts";
import { type Config, type ConfigOverrides, makeConfig } from "./src/config/config.ts";
import { ConfigFileError, loadConfigFile, mergeOverrides } from "./src/config/config_file.ts";
import { FfserverConfError, ffserverWarningLine, loadFfserverConf } from "./src/config/ffserver_conf.ts";
import { printConfig } from "./src/config/print_config.ts";
import { type ConfigDiff, diffConfig, reloadConfig, restartWarning } from "./src/config/reload.ts";
import { ConfigError, validateConfig } from "./src/config/validate.ts";
import { log, setLogLevel } from "./src/log.ts";
import { hashPassword, MAX_PASSWORD_BYTES } from "./src/admin/password.ts";
import { parseArgs as parseFlags } from "node:util";
import { signedUrls } from "./src/auth/signed_url.ts";
import { parseAddress } from "./src/config/acl.ts";
import { SHARED_SECRET, STREAM_KEY } from "./src/config/schema.ts";
import { AdmissionAction } from "./src/hub/admission.ts";
import { Sluice, TlsError } from "./src/sluice.ts";

/** The flags as config overrides, or "help": `parseCliArgs()` of src/config/cli.ts, made from the schema. */
export function parseArgs(args: string[]): ConfigOverrides | "help" {
  return parseCliArgs(args);
}

/** The subcommand that prints a password hash for `--admin-password-hash`. */
export const HASH_PASSWORD = "hash-password";

/** The first line of `stream` (without its line ending), reading at most `max` bytes; undefined when longer. */
async function readLine(stream: ReadableStream<Uint8Array>, max: number): Promise<string | undefined> {
  const bytes: number[] = [];
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const nl = value.indexOf(0x0a);
      bytes.push(...(nl < 0 ? value : value.subarray(0, nl)));
      if (bytes.length > max) return undefined;
      if (nl >= 0) break;
    }
  } finally {
    await reader.cancel();
  }
  if (bytes[bytes.length - 1] === 0x0d) bytes.pop();
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/**
 * `server.ts hash-password`: reads the password from stdin (one line; a prompt on stderr when stdin is a
 * terminal), prints its `pbkdf2-sha256$...` hash on stdout. The exit code: 0, or 2 for arguments or a
 * password it refuses. Needs no permission.
 */
async function hashPasswordCommand(args: string[]): Promise<number> {
  if (args.length > 0) {
    console.error(
      `Cannot run ${HASH_PASSWORD}: current argument ${JSON.stringify(args[0])} is not allowed ` +
        "(it takes none; the password comes on stdin)",
    );
    return 2;
  }
  if (Deno.stdin.isTerminal()) await Deno.stderr.write(new TextEncoder().encode("Password: "));
  // Two bytes over the bound, so a line ending after the longest password still fits.
  const password = await readLine(Deno.stdin.readable, MAX_PASSWORD_BYTES + 2);
  if (password === undefined) {
    console.error(`Cannot hash the password: the line is longer than ${MAX_PASSWORD_BYTES} bytes`);
    return 2;
  }
  try {
    console.log(await hashPassword(password));
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    console.error(e.message);
    return 2;
  }
  return 0;
}

if (import.meta.main && Deno.args[0] === HASH_PASSWORD) {
  Deno.exit(await hashPasswordCommand(Deno.args.slice(1)));
}

/** The subcommand that prints signed URLs of a stream (`auth.signSecret`, `src/auth/signed_url.ts`). */
export const SIGN = "sign";

/** `server.ts sign`'s usage line. */
export const SIGN_USAGE =
  `Usage: deno run server.ts ${SIGN} [--secret SECRET] (--play|--publish) APP/STREAM ` +
  "--ttl SECONDS [--addr IP] [--host HOST] [--rtmp-port N] [--http-port N] [--rtmps-port N] [--https-port N]";

const SIGN_OPTIONS = {
  secret: { type: "string" },
  play: { type: "string" },
  publish: { type: "string" },
  ttl: { type: "string" },
  addr: { type: "string" },
  host: { type: "string", default: "localhost" },
  "rtmp-port": { type: "string", default: "1935" },
  "http-port": { type: "string", default: "8000" },
  "rtmps-port": { type: "string" },
  "https-port": { type: "string" },
  help: { type: "boolean" },
} as const;

/**
 * `server.ts sign`: prints the signed URLs of one stream, one per protocol and line, on stdout (the expiry on
 * stderr). The secret is `--secret`, or else one line on stdin (kept out of the process list). The exit
 * code: 0, or 2 (with the usage) for arguments it refuses. Needs no permission.
 */
async function signCommand(args: string[]): Promise<number> {
  const fail = (why: string) => (console.error(`Cannot run ${SIGN}: ${why}\n${SIGN_USAGE}`), 2);
  let v: { [K in Exclude<keyof typeof SIGN_OPTIONS, "help">]?: string } & { help?: boolean };
  try {
    v = parseFlags({ args, options: SIGN_OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    return fail((e as Error).message);
  }
  if (v.help) return (console.log(SIGN_USAGE), 0);
  if ((v.play === undefined) === (v.publish === undefined)) return fail("give one of --play and --publish");
  const key = (v.play ?? v.publish)!;
  if (!STREAM_KEY.test(key)) return fail(`${JSON.stringify(key)} is not an app/stream key`);
  const ports: Record<string, number | undefined> = {};
  for (const flag of ["rtmp-port", "http-port", "rtmps-port", "https-port"] as const) {
    const n = v[flag] === undefined ? undefined : Number(v[flag]);
    if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= 0xffff)) {
      return fail(`--${flag} ${JSON.stringify(v[flag])} is not a port number (1 to 65535)`);
    }
    ports[flag] = n;
  }
  if (v.ttl === undefined || !/^\d{1,10}$/.test(v.ttl)) return fail("--ttl takes a number of seconds");
  if (v.addr !== undefined && parseAddress(v.addr) === undefined) {
    return fail(`--addr ${JSON.stringify(v.addr)} is not an IPv4 or IPv6 address`);
  }
  let secret = v.secret;
  if (secret === undefined) {
    if (Deno.stdin.isTerminal()) await Deno.stderr.write(new TextEncoder().encode("Secret: "));
    secret = await readLine(Deno.stdin.readable, 1024);
  }
  if (secret === undefined || !SHARED_SECRET.test(secret)) {
    return fail("the secret is not 8 to 256 printable characters, as auth.signSecret is");
  }
  try {
    const action = v.play !== undefined ? AdmissionAction.Play : AdmissionAction.Publish;
    const { expires, urls } = await signedUrls({
      secret,
      action,
      key,
      ttlS: Number(v.ttl),
      nowMs: Date.now(),
      addr: v.addr,
      host: v.host!,
      rtmpPort: ports["rtmp-port"]!,
      httpPort: ports["http-port"]!,
      rtmpsPort: ports["rtmps-port"],
      httpsPort: ports["https-port"],
    });
    console.log(urls.join("\n"));
    console.error(`${action} of ${key}: expires ${new Date(expires * 1000).toISOString()} (${expires})`);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return fail(e.message);
  }
  return 0;
}

if (import.meta.main && Deno.args[0] === SIGN) {
  Deno.exit(await signCommand(Deno.args.slice(1)));
}

/** The overrides of the file a command line names: `--config`, or `--ffserver-conf` (its warnings logged). */
async function fileOverrides(line: CommandLine): Promise<ConfigOverrides> {
  if (line.ffserverConf !== undefined) {
    const { overrides, warnings } = await loadFfserverConf(line.ffserverConf);
    for (const w of warnings) log.warn(ffserverWarningLine(line.ffserverConf, w));
    return overrides;
  }
  return line.configFile === undefined ? {} : await loadConfigFile(line.configFile);
}

/**
 * The configuration a command line gives: the defaults, the `--config` file (or the `--ffserver-conf`
 * file, its warnings logged on stderr) over them, the flags over that; checked. Throws ConfigFileError,
 * FfserverConfError or ConfigError, as the loaders and `validateConfig()` do.
 */
export async function configFromCommandLine(line: CommandLine): Promise<Config> {
  const file = await fileOverrides(line);
  const config = makeConfig(mergeOverrides(file, line.overrides));
  validateConfig(config);
  return config;
}

if (import.meta.main) {
  let commandLine: CommandLine | "help";
  try {
    commandLine = parseCommandLine(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
  if (commandLine === "help") {
    console.log(helpText());
    Deno.exit(0);
  }
  let config: Config;
  try {
    config = await configFromCommandLine(commandLine);
  } catch (e) {
    if (!(e instanceof ConfigError || e instanceof ConfigFileError || e instanceof FfserverConfError)) {
      throw e;
    }
    console.error(e.message);
    Deno.exit(2);
  }
  if (commandLine.printConfig) {
    console.log(printConfig(config));
    Deno.exit(0);
  }
  setLogLevel(config.log.level);
  if (commandLine.configFile !== undefined) {
    log.info(`config file: ${commandLine.configFile} (the flags given override it)`);
  }
  if (commandLine.ffserverConf !== undefined) {
    log.info(`ffserver config: ${commandLine.ffserverConf} (the flags given override it)`);
  }
  let sluice: Sluice;
  try {
    sluice = new Sluice(config);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    Deno.exit(2);
  }
  try {
    await sluice.start();
  } catch (e) {
    if (!(e instanceof TlsError || e instanceof ConfigError)) throw e;
    console.error(e.message);
    Deno.exit(2);
  }
  const host = config.http.host;
  const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  log.info(
    `RTMP listening on ${config.rtmp.host}:${sluice.rtmpPort}, HTTP on ${config.http.host}:${sluice.httpPort}`,
  );
  log.info(
    `publish: rtmp://${shown}:${sluice.rtmpPort}/live/{stream}   (e.g. ffmpeg -re -i in.mp4 -c copy -f flv rtmp://${shown}:${sluice.rtmpPort}/live/cam)`,
  );
  log.info(
    `play:    rtmp://${shown}:${sluice.rtmpPort}/live/{stream}   (e.g. ffplay rtmp://${shown}:${sluice.rtmpPort}/live/cam)`,
  );
  log.info(
    `push:    http://${shown}:${sluice.httpPort}/live/{stream}   (e.g. ffmpeg -re -i in.mp4 -c copy -f flv http://${shown}:${sluice.httpPort}/live/cam)`,
  );
  if (sluice.rtmpsPort !== 0) {
    log.info(
      `RTMPS listening on ${config.rtmp.host}:${sluice.rtmpsPort}, HTTPS on ${host}:${sluice.httpsPort}`,
    );
    log.info(
      `rtmps:   rtmps://${shown}:${sluice.rtmpsPort}/live/{stream}   (publish and play, as over rtmp://)`,
    );
    log.info(
      `https:   https://${shown}:${sluice.httpsPort}/live/{stream}.flv   (and every HTTP path; HTTP/2 too)`,
    );
  }
  if (sluice.rtspPort !== 0) {
    const r = config.rtsp.host === "0.0.0.0" || config.rtsp.host === "::" ? "localhost" : config.rtsp.host;
    log.info(`RTSP listening on ${config.rtsp.host}:${sluice.rtspPort}`);
    log.info(
      `rtsp:    rtsp://${r}:${sluice.rtspPort}/live/{stream}   (play, e.g. ffplay rtsp://${r}:${sluice.rtspPort}/live/cam; publish, ffmpeg -re -i in.mp4 -c copy -f rtsp rtsp://${r}:${sluice.rtspPort}/live/cam)`,
    );
  }
  log.info(`health:  http://${shown}:${sluice.httpPort}/health`);
  log.info(`admin:   http://${shown}:${sluice.httpPort}/admin/   (API under /api/v1, metrics at /metrics)`);
  if (!sluice.guard.hasCredential) {
    log.info(
      "admin: no credential configured (--admin-token, --admin-password-hash): the admin page, API and metrics answer loopback clients only",
    );
  }
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping`);
    await sluice.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGUSR1", () => void sluice.accessLog?.reopen());
  const line = commandLine;
  const reloadFile = line.ffserverConf ?? line.configFile;
  /** The reload of SIGHUP: the --config file, or the --ffserver-conf file read again as a start reads it. */
  const reload = async (running: Config): Promise<ConfigDiff & { config: Config }> => {
    if (line.ffserverConf === undefined) return await reloadConfig(reloadFile!, line.overrides, running);
    const config = await configFromCommandLine(line);
    return { config, ...diffConfig(running, config) };
  };
  Deno.addSignalListener("SIGHUP", async () => {
    await sluice.reloadTls(); // the certificate and key files, read again (never throws; logs what failed)
    if (reloadFile === undefined) return log.warn("SIGHUP: no --config or --ffserver-conf file to reload");
    try {
      const r = await reload(sluice.config);
      await sluice.applyLive(r.config);
      setLogLevel(r.config.log.level);
      log.info(
        `SIGHUP: reloaded ${reloadFile}: ${r.live.length ? r.live.join(", ") : "nothing changed live"}`,
      );
      const warning = restartWarning(reloadFile, r.restart);
      if (warning !== undefined) log.warn(warning);
    } catch (e) {
      log.error(`SIGHUP: ${e instanceof Error ? e.message : String(e)}; the running config is unchanged`);
    }
  });
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
}
