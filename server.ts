/**
 * The Sluice command line: `deno run --allow-net server.ts [flags]`.
 *
 * @module
 */
import { type ConfigOverrides, makeConfig, type SourceConfig } from "./src/config/config.ts";
import { log, setLogLevel } from "./src/log.ts";
import { Sluice } from "./src/sluice.ts";

const HELP = `Sluice: a live streaming server (RTMP in, RTMP out).

Usage: deno run --allow-net server.ts [flags]

  --host ADDR          address to listen on (default 0.0.0.0)
  --rtmp-port N        RTMP port (default 1935)
  --http-port N        HTTP port (default 8000)
  --chunk-size N       outgoing RTMP chunk size (default 4096)
  --play-wait-ms N     how long a play waits for its publisher; 0 = StreamNotFound at once (default 30000)
  --grace-ms N         how long players wait for a publisher to come back (default 10000)
  --merge-ms N         frames within N ms share one write per player (default 50)
  --vod-root DIR       serve FLV files from DIR at http://host:8000/vod/{path}.flv and rtmp://host/vod/{path}.flv
                       (needs --allow-read)
  --takeover           a second publisher takes the stream over instead of being refused
  --source KEY=PATH    play a file as the live stream KEY (app/name), looped: an H.264 Annex B
                       stream (.h264) or an FLV file; repeatable; needs --allow-read
  --source-once KEY=PATH   the same, played once
  --source-fps N       frame rate of Annex B sources (default: the SPS timing, else 25)
  --log-level L        error | warn | info | debug (default info)
  -h, --help           this text
`;

/** Parses the flags into config overrides; throws TypeError with the offending flag. */
export function parseArgs(args: string[]): ConfigOverrides | "help" {
  const o: ConfigOverrides = {};
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < 0) {
      throw new TypeError(`Cannot parse ${flag}: current value ${JSON.stringify(v)} is not a whole number`);
    }
    return n;
  };
  const sources: SourceConfig[] = [];
  let sourceFps: number | undefined;
  const source = (flag: string, v: string | undefined, loop: boolean): SourceConfig => {
    const m = v?.match(/^([A-Za-z0-9_.\-~]+\/[A-Za-z0-9_.\-~]+)=(.+)$/);
    if (!m) {
      throw new TypeError(`Cannot parse ${flag}: current value ${JSON.stringify(v)} is not app/name=PATH`);
    }
    return { key: m[1], path: m[2], loop };
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag, inline] = a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "-h":
      case "--help":
        return "help";
      case "--host":
        {
          const h = value();
          o.rtmp = { ...o.rtmp, host: h };
          o.http = { ...o.http, host: h };
        }
        break;
      case "--rtmp-port":
        o.rtmp = { ...o.rtmp, port: num(flag, value()) };
        break;
      case "--http-port":
        o.http = { ...o.http, port: num(flag, value()) };
        break;
      case "--chunk-size":
        o.rtmp = { ...o.rtmp, chunkSize: num(flag, value()) };
        break;
      case "--play-wait-ms":
        o.hub = { ...o.hub, playWaitMs: num(flag, value()) };
        break;
      case "--grace-ms":
        o.hub = { ...o.hub, reconnectGraceMs: num(flag, value()) };
        break;
      case "--merge-ms":
        o.hub = { ...o.hub, mergeWindowMs: num(flag, value()) };
        break;
      case "--vod-root":
        o.vod = { ...o.vod, root: value() };
        break;
      case "--takeover":
        o.hub = { ...o.hub, publishTakeover: true };
        break;
      case "--source":
      case "--source-once":
        sources.push(source(flag, value(), flag === "--source"));
        break;
      case "--source-fps": {
        const v = value();
        const n = Number(v);
        if (v === undefined || !(n > 0 && n <= 300)) {
          throw new TypeError(
            `Cannot parse --source-fps: current value ${JSON.stringify(v)} is not a number in (0, 300]`,
          );
        }
        sourceFps = n;
        break;
      }
      case "--log-level": {
        const l = value();
        if (l !== "error" && l !== "warn" && l !== "info" && l !== "debug") {
          throw new TypeError(
            `Cannot parse --log-level: current value ${JSON.stringify(l)} is not error|warn|info|debug`,
          );
        }
        o.log = { level: l };
        break;
      }
      default:
        throw new TypeError(`Cannot parse arguments: current flag ${flag} is unknown (see --help)`);
    }
  }
  if (sources.length > 0) {
    o.sources = sources.map((c) => sourceFps === undefined ? c : { ...c, fps: sourceFps });
  }
  return o;
}

if (import.meta.main) {
  let overrides: ConfigOverrides | "help";
  try {
    overrides = parseArgs(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
  if (overrides === "help") {
    console.log(HELP);
    Deno.exit(0);
  }
  const config = makeConfig(overrides);
  setLogLevel(config.log.level);
  const sluice = new Sluice(config);
  await sluice.start();
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
  log.info(`health:  http://${shown}:${sluice.httpPort}/health`);
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping`);
    await sluice.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
}
