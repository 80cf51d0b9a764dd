/**
 * The Sluice command line: `deno run --allow-net server.ts [flags]`.
 *
 * @module
 */
import { helpText, parseCliArgs } from "./src/config/cli.ts";
import { type ConfigOverrides, makeConfig } from "./src/config/config.ts";
import { ConfigError, validateConfig } from "./src/config/validate.ts";
import { log, setLogLevel } from "./src/log.ts";
import { Sluice } from "./src/sluice.ts";

/** The flags as config overrides, or "help": `parseCliArgs()` of src/config/cli.ts, made from the schema. */
export function parseArgs(args: string[]): ConfigOverrides | "help" {
  return parseCliArgs(args);
}

if (import.meta.main) {
  let overrides: ConfigOverrides | "help";
  try {
    overrides = parseCliArgs(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
  if (overrides === "help") {
    console.log(helpText());
    Deno.exit(0);
  }
  const config = makeConfig(overrides);
  try {
    validateConfig(config);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    Deno.exit(2);
  }
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
