/**
 * node-media-server for the live benchmark, the HTTP-FLV peer (issue 13): the
 * bench installs it from npm into bench/out/nms (NMS_VERSION, pinned; not an
 * import of Sluice: it runs under node as a separate process) and runs its own
 * CLI, `bin/app.js -c config.json`, with a config in a temporary directory:
 * RTMP and HTTP on loopback ports, no web admin, no API (no `auth.jwt`), no
 * recording. Its HTTP-FLV URL is `http://host:port/{app}/{name}.flv` (the
 * route `/:app/:name.flv` of its HTTP server); publishers come in over RTMP
 * (`rtmp://host:port/{app}/{name}`). Its log (it sets debug level itself) goes
 * to a file in that directory, not to a pipe the bench would have to read.
 *
 * @module
 */
import { has, spawn, waitPort } from "./proc.ts";

/** The node-media-server release the bench installs: the latest 4.x on npm when it was pinned. */
export const NMS_VERSION = "4.4.3";

const NMS_PREFIX = new URL("./out/nms/", import.meta.url).pathname;
/** The installed package's directory. */
const NMS_PACKAGE = `${NMS_PREFIX}node_modules/node-media-server/`;
/** How long `npm install` may take, ms. */
const INSTALL_MS = 180_000;
/** How long node-media-server may take to stop after SIGTERM before it is killed, ms. */
const STOP_MS = 5_000;

/** node-media-server is installed and node runs it: its version; or why it cannot run. */
export type NmsReady = { ok: true; version: string; node: string } | { ok: false; why: string };

/** The version in the installed package.json, or undefined when it is not installed. */
async function installedVersion(): Promise<string | undefined> {
  try {
    const pkg = JSON.parse(await Deno.readTextFile(`${NMS_PACKAGE}package.json`)) as { version?: string };
    return pkg.version;
  } catch {
    return undefined;
  }
}

/** `cmd args` with a deadline: its exit code and output (stderr after stdout), or a failure to spawn. */
async function run(cmd: string, args: string[], ms: number): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  try {
    const { code, stdout, stderr } = await child.output();
    const dec = new TextDecoder();
    return { code, out: dec.decode(stdout) + dec.decode(stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** Installs NMS_VERSION into bench/out/nms unless it is there; says why not when npm or node is missing. */
export async function ensureNms(): Promise<NmsReady> {
  if (!await has("node")) return { ok: false, why: "node is not installed" };
  const node = (await run("node", ["--version"], 10_000)).out.trim();
  if (await installedVersion() !== NMS_VERSION) {
    if (!await has("npm")) return { ok: false, why: "npm is not installed" };
    console.error(`installing node-media-server@${NMS_VERSION} into ${NMS_PREFIX} (npm)`);
    await Deno.mkdir(NMS_PREFIX, { recursive: true });
    const { code, out } = await run(
      "npm",
      ["install", "--prefix", NMS_PREFIX, `node-media-server@${NMS_VERSION}`, "--no-audit", "--no-fund"],
      INSTALL_MS,
    );
    if (code !== 0) return { ok: false, why: `npm install exited ${code}: ${out.trim().slice(-300)}` };
  }
  const version = await installedVersion();
  if (version !== NMS_VERSION) {
    return { ok: false, why: `current installed version ${version}, expected ${NMS_VERSION}` };
  }
  return { ok: true, version, node };
}

/** node-media-server's config for one bench run in `dir`: loopback RTMP and HTTP only (see the module doc). */
export function nmsConfig(dir: string, rtmpPort: number, httpPort: number): Record<string, unknown> {
  return {
    bind: "127.0.0.1",
    notify: { url: "" },
    store: { path: `${dir}/data` },
    rtmp: { port: rtmpPort },
    http: { port: httpPort },
    webadmin: { enable: false },
    record: { auto: false, path: `${dir}/record` },
  };
}

/** Starts node-media-server pinned to `pin`, once both ports listen; `stop()` ends it and removes its directory. */
export async function startNms(
  rtmpPort: number,
  httpPort: number,
  pin?: string,
): Promise<{ pid: number; stop: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-nms-" });
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(nmsConfig(dir, rtmpPort, httpPort)));
  const child = spawn(`node ${NMS_PACKAGE}bin/app.js -c ${dir}/config.json >${dir}/nms.log 2>&1`, pin);
  child.stdout.cancel();
  child.stderr.cancel();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // exited
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited
      }
    }, STOP_MS);
    await child.status;
    clearTimeout(timer);
    await Deno.remove(dir, { recursive: true });
  };
  try {
    await waitPort(rtmpPort);
    await waitPort(httpPort);
  } catch (e) {
    const log = await Deno.readTextFile(`${dir}/nms.log`).catch(() => "");
    await stop();
    throw new Error(
      `Cannot start node-media-server: ${e instanceof Error ? e.message : e}: ${log.slice(-500)}`,
    );
  }
  return { pid: child.pid, stop };
}
