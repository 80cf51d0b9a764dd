/**
 * Helpers for end-to-end tests with real clients: make test media with ffmpeg
 * at test time (into a temp dir), run ffmpeg / ffprobe / rtmpdump as child
 * processes that are always bounded by a timeout (killed when it passes), read
 * ffprobe's packet lists, and compare a played recording against its source.
 *
 * Timestamps here are in milliseconds: FLV and RTMP carry ms, and ffprobe
 * reports FLV and RTMP packets in a 1/1000 time base.
 *
 * @module
 */
import { assert, assertEquals, assertGreaterOrEqual } from "./assert.ts";
import { makeConfig } from "../../src/config/config.ts";
import type { ConfigOverrides } from "../../src/config/config.ts";
import type { Admission } from "../../src/hub/admission.ts";
import { setLogLevel, setLogSink } from "../../src/log.ts";
import { classify } from "../../src/media/frame.ts";
import { Sluice } from "../../src/sluice.ts";

// ---- tools

/** Whether each named program can be run (`name -h`). Sync, for `Deno.test({ ignore })`. */
export function haveTools(...names: string[]): boolean {
  for (const name of names) {
    try {
      new Deno.Command(name, { args: ["-h"], stdin: "null", stdout: "null", stderr: "null" }).outputSync();
    } catch {
      return false;
    }
  }
  return true;
}

/** What a finished child process left. */
export interface RunResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  /** The timeout passed and the process was killed. */
  timedOut: boolean;
}

/** A running child process whose output is collected; `done` settles when it exits. */
export interface Proc {
  readonly child: Deno.ChildProcess;
  readonly done: Promise<RunResult>;
  /** Sends `signal` (default SIGTERM) if still running, then waits for the exit. */
  stop(signal?: Deno.Signal): Promise<RunResult>;
}

/**
 * Spawns `cmd args`; stderr is collected, and stdout too unless `streamStdout`
 * (then the caller reads `child.stdout` to its end). The process is killed
 * (SIGKILL) if it runs longer than `timeoutMs`.
 */
export function start(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; cwd?: string; streamStdout?: boolean },
): Proc {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  let exited = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill(child, "SIGKILL");
  }, opts.timeoutMs);
  const stdout = opts.streamStdout ? Promise.resolve("") : new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  const done = Promise.all([child.status, stdout, stderr]).then(([status, out, err]) => {
    exited = true;
    clearTimeout(timer);
    return { code: status.code, signal: status.signal, stdout: out, stderr: err, timedOut };
  });
  return {
    child,
    done,
    stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) kill(child, signal);
      return done;
    },
  };
}

/** Runs `cmd args` to its end (killed after `timeoutMs`). */
export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; cwd?: string },
): Promise<RunResult> {
  return start(cmd, args, opts).done;
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // already exited
  }
}

/** Runs `cmd args` and throws (with its stderr) unless it exits 0 in time. */
export async function runOk(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  const r = await run(cmd, args, { timeoutMs });
  if (r.code !== 0 || r.timedOut) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (code ${r.code}${r.timedOut ? ", timed out" : ""}):\n${r.stderr}`,
    );
  }
  return r;
}

/** Splits a byte stream into text lines as they arrive. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) yield buf;
}

// ---- test media

/** How to make a synthetic source file with ffmpeg's lavfi test sources. */
export interface SourceOptions {
  seconds: number;
  /** "640x360" by default. */
  size?: string;
  /** Frames per second, 25 by default. */
  fps?: number;
  /** B-frames (x264 -bf), 2 by default; 0 makes PTS equal DTS. */
  bframes?: number;
  /** Keyframe interval in frames, 50 (2 s at 25 fps) by default. */
  gop?: number;
  /** Video bit rate ("900k") or, when a number, a constant quantizer (x264 -qp). */
  video?: string | number | false;
  /** Audio: AAC sine at 44.1 kHz, on by default. */
  audio?: boolean;
}

/** Encodes a synthetic H.264 + AAC FLV file at `path` and returns `path`. */
export async function makeSource(path: string, o: SourceOptions): Promise<string> {
  const args = ["-hide_banner", "-nostdin", "-v", "error", "-y"];
  const withVideo = o.video !== false;
  const withAudio = o.audio !== false;
  if (withVideo) {
    args.push("-f", "lavfi", "-i", `testsrc2=size=${o.size ?? "640x360"}:rate=${o.fps ?? 25}`);
  }
  if (withAudio) args.push("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100");
  args.push("-t", String(o.seconds));
  if (withVideo) {
    const gop = o.gop ?? 50;
    args.push("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-profile:v", "high");
    args.push("-bf", String(o.bframes ?? 2), "-g", String(gop), "-keyint_min", String(gop));
    args.push("-sc_threshold", "0");
    if (typeof o.video === "number") args.push("-qp", String(o.video));
    else args.push("-b:v", o.video || "900k");
  }
  if (withAudio) args.push("-c:a", "aac", "-b:a", "96k");
  args.push("-f", "flv", path);
  await runOk("ffmpeg", args, 60_000);
  return path;
}

// ---- ffprobe

/** One packet as ffprobe -show_packets reports it (times in ms). */
export interface Packet {
  type: "video" | "audio" | string;
  pts: number;
  dts: number;
  size: number;
  keyframe: boolean;
  /** MD5 of the packet data: the same frame has the same hash in the source and in a recording. */
  hash: string;
}

interface ProbePacket {
  codec_type: string;
  pts?: number;
  dts?: number;
  size: string | number;
  flags: string;
  data_hash?: string;
}

/** Parses `ffprobe -of json -show_packets` output. */
export function parsePackets(json: string): Packet[] {
  const parsed = JSON.parse(json) as { packets?: ProbePacket[] };
  return (parsed.packets ?? []).map((p) => ({
    type: p.codec_type,
    pts: p.pts ?? NaN,
    dts: p.dts ?? NaN,
    size: Number(p.size),
    keyframe: p.flags.includes("K"),
    hash: p.data_hash ?? "",
  }));
}

const PACKET_ARGS = [
  "-show_packets",
  "-show_data_hash",
  "MD5",
  "-show_entries",
  "packet=codec_type,pts,dts,size,flags,data_hash",
  "-of",
  "json",
];

/** The packets of a media file, in file order. */
export async function probePackets(path: string): Promise<Packet[]> {
  const r = await runOk("ffprobe", ["-hide_banner", "-v", "error", ...PACKET_ARGS, path], 60_000);
  return parsePackets(r.stdout);
}

/** One decoded frame as `ffprobe -show_frames` reports it. */
export interface DecodedFrame {
  type: string;
  keyframe: boolean;
  pictType: string;
}

/** The decoded frames of a media file (decodes everything). */
export async function probeFrames(path: string): Promise<DecodedFrame[]> {
  const r = await runOk("ffprobe", [
    "-hide_banner",
    "-v",
    "error",
    "-show_frames",
    "-show_entries",
    "frame=media_type,key_frame,pict_type",
    "-of",
    "json",
    path,
  ], 60_000);
  const parsed = JSON.parse(r.stdout) as {
    frames?: { media_type: string; key_frame: number; pict_type?: string }[];
  };
  return (parsed.frames ?? []).map((f) => ({
    type: f.media_type,
    keyframe: f.key_frame === 1,
    pictType: f.pict_type ?? "",
  }));
}

/** Decodes the whole file with ffmpeg; returns what it printed at `-v error` ("" for a clean decode). */
export async function decodeErrors(path: string): Promise<string> {
  const r = await run("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"], {
    timeoutMs: 60_000,
  });
  return (r.code === 0 && !r.timedOut ? "" : `exit code ${r.code}${r.timedOut ? " (timed out)" : ""}\n`) +
    r.stderr.trim();
}

// ---- comparing a recording with its source

/** The packets (or decoded frames) of one kind: "video" or "audio". */
export function ofType<T extends { type: string }>(items: T[], type: string): T[] {
  return items.filter((p) => p.type === type);
}

/** Places where DTS goes backwards (index and the two values); empty when monotonic. */
export function dtsBackwards(packets: Packet[]): { at: number; prev: number; dts: number }[] {
  const out: { at: number; prev: number; dts: number }[] = [];
  for (let i = 1; i < packets.length; i++) {
    if (packets[i].dts < packets[i - 1].dts) {
      out.push({ at: i, prev: packets[i - 1].dts, dts: packets[i].dts });
    }
  }
  return out;
}

/**
 * Where `played` sits in `source` (both the packets of one kind): the index of
 * the source packet with the same data as the first played packet, or -1.
 */
export function alignIndex(played: Packet[], source: Packet[]): number {
  if (played.length === 0) return -1;
  return source.findIndex((p) => p.hash === played[0].hash);
}

/** What a recording of one kind shows next to its source over the same DTS span. */
export interface WindowComparison {
  /** Packets in the recording. */
  played: number;
  /** Source packets whose DTS falls in the recording's DTS span (after aligning the first packets). */
  published: number;
  /** Index in the source of the first played packet. */
  sourceIndex: number;
  /** The recording's DTS span, in ms. */
  spanMs: number;
}

/**
 * Counts the source packets that cover the same window as the recording: the
 * recording's first packet is found in the source by its data, which gives the
 * offset between the two timelines (the server rebases timestamps to 0, the
 * player's muxer may shift them again); then every source packet whose shifted
 * DTS lies within the recording's first and last DTS is counted.
 */
export function compareWindow(played: Packet[], source: Packet[]): WindowComparison {
  const sourceIndex = alignIndex(played, source);
  if (sourceIndex < 0) return { played: played.length, published: 0, sourceIndex, spanMs: 0 };
  const offset = source[sourceIndex].dts - played[0].dts;
  const from = played[0].dts + offset;
  const to = played[played.length - 1].dts + offset;
  const published = source.filter((p) => p.dts >= from && p.dts <= to).length;
  return { played: played.length, published, sourceIndex, spanMs: to - from };
}

/** The composition-time offsets (PTS - DTS) of the packets, in order. */
export function compositionOffsets(packets: Packet[]): number[] {
  return packets.map((p) => p.pts - p.dts);
}

/** Relative difference |a - b| / b (0 when both are 0). */
export function relativeDiff(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(b), 1);
}

/** How far a recording's packet count may be from the source's over the same window. */
export const COUNT_TOLERANCE = 0.05;

/** A checked recording: its packets, the source's, and where in the source it starts (per kind). */
export interface Playback {
  played: Packet[];
  source: Packet[];
  /** Index in the source's packets of that kind of the first played packet, by kind. */
  sourceIndex: Record<string, number>;
}

export interface PlaybackOptions {
  /** The kinds the recording must hold (and no other). Default video and audio. */
  kinds?: string[];
  /** The least media a recording must hold for the count comparison to mean something. Default 3000. */
  minSpanMs?: number;
  /** Also demand the played video frames are the source's, frame for frame, with its composition times. */
  sameFrames?: boolean;
}

/**
 * What every recording of a stream passes, for each kind:
 * (a) it decodes without a single error line;
 * (b) its packet count is within 5 % of the source's packets over the same DTS window (at least
 *     `minSpanMs` of it, so the comparison is not vacuous);
 * (c) its first video packet is a keyframe and every video packet decodes to a picture, the first an I;
 * (d) DTS never goes backwards per stream;
 * (e) with `sameFrames`, the played video frames and their PTS-DTS offsets are the source's.
 */
export async function checkPlayback(
  src: string,
  out: string,
  label: string,
  opts: PlaybackOptions = {},
): Promise<Playback> {
  const kinds = opts.kinds ?? ["video", "audio"];
  const minSpanMs = opts.minSpanMs ?? 3000;
  assertEquals(await decodeErrors(out), "", `${label}: decoding the recording printed errors`);
  const [played, source] = await Promise.all([probePackets(out), probePackets(src)]);
  const sourceIndex: Record<string, number> = {};
  for (const kind of kinds) {
    const p = ofType(played, kind);
    const w = compareWindow(p, ofType(source, kind));
    console.log(
      `${label} ${kind}: ${w.played} packets played, ${w.published} published over the same ${w.spanMs} ms`,
    );
    assert(w.sourceIndex >= 0, `${label} ${kind}: the first played packet is not in the source`);
    assertGreaterOrEqual(w.spanMs, minSpanMs, `${label} ${kind}: the recording holds only ${w.spanMs} ms`);
    assert(
      relativeDiff(w.played, w.published) <= COUNT_TOLERANCE,
      `${label} ${kind}: ${w.played} packets played vs ${w.published} published over the same window`,
    );
    assertEquals(dtsBackwards(p), [], `${label} ${kind}: DTS goes backwards`);
    sourceIndex[kind] = w.sourceIndex;
  }
  if (kinds.includes("video")) {
    const pv = ofType(played, "video");
    assert(pv[0].keyframe, `${label}: the first video packet is not a keyframe`);
    // What a viewer gets: a picture for every packet, the first one an I-frame.
    const pictures = ofType(await probeFrames(out), "video");
    assertEquals(pictures.length, pv.length, `${label}: pictures decoded vs packets`);
    assertEquals(pictures[0].pictType, "I", `${label}: the first decoded picture`);
    if (opts.sameFrames) {
      const sv = ofType(source, "video").slice(sourceIndex.video, sourceIndex.video + pv.length);
      assertEquals(
        pv.map((x) => x.hash),
        sv.map((x) => x.hash),
        `${label}: the played frames are the source's`,
      );
      assertEquals(compositionOffsets(pv), compositionOffsets(sv), `${label}: composition times`);
    }
  }
  for (const kind of ["video", "audio"]) {
    if (!kinds.includes(kind)) {
      assertEquals(ofType(played, kind).length, 0, `${label}: the recording has ${kind}`);
    }
  }
  return { played, source, sourceIndex };
}

// ---- an in-process server with its log captured

/** A Sluice on 127.0.0.1 with free ports; its log lines are kept in `logs` rather than printed. */
export interface TestServer {
  sluice: Sluice;
  logs: string[];
  /** `rtmp://127.0.0.1:PORT/live/NAME` */
  url(name: string): string;
  stop(): Promise<void>;
}

/**
 * Starts a Sluice on free ports with debug logging captured (`withServer` prints it when a test fails);
 * `admission` is the policy it starts with (default: allow all).
 */
export async function startServer(
  overrides: ConfigOverrides = {},
  admission?: Admission,
): Promise<TestServer> {
  const logs: string[] = [];
  const prevSink = setLogSink((line) => logs.push(line));
  setLogLevel("debug");
  const sluice = new Sluice(
    makeConfig({
      ...overrides,
      rtmp: { host: "127.0.0.1", port: 0, ...overrides.rtmp },
      rtsp: { host: "127.0.0.1", port: 0, udpPortFirst: 0, udpPortLast: 0, ...overrides.rtsp },
      http: { host: "127.0.0.1", port: 0, ...overrides.http },
    }),
    undefined,
    { admission },
  );
  await sluice.start();
  return {
    sluice,
    logs,
    url: (name) => `rtmp://127.0.0.1:${sluice.rtmpPort}/live/${name}`,
    async stop() {
      await sluice.stop();
      setLogSink(prevSink);
      setLogLevel("info");
    },
  };
}

// ---- publishing and playing with ffmpeg

/**
 * ffmpeg publishing `file` in real time (`-re`, stream copy) to `url`: `extra` output arguments, in
 * the output `format` (FLV for RTMP and HTTP push; "rtsp" with `-rtsp_transport` in `extra`).
 */
export function publish(
  file: string,
  url: string,
  extra: string[] = [],
  timeoutMs = 60_000,
  format = "flv",
): Proc {
  return start("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    "-re",
    "-i",
    file,
    "-c",
    "copy",
    ...extra,
    "-f",
    format,
    url,
  ], { timeoutMs });
}

/** ffmpeg recording `seconds` of `url` (stream copy) into `out`; `extra` goes before `-i`. */
export function record(url: string, out: string, seconds: number, extra: string[] = []): Promise<RunResult> {
  return run("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    "-y",
    ...extra,
    "-i",
    url,
    "-c",
    "copy",
    "-t",
    String(seconds),
    "-f",
    "flv",
    out,
  ], { timeoutMs: (seconds + 20) * 1000 });
}

/** Reads a refused push's answer: its status and its JSON line (the connection is reset after the line). */
export async function refusal(res: Response): Promise<{ status: number; error: string }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // the reset after the line
  } finally {
    await reader.cancel().catch(() => {});
  }
  return { status: res.status, error: (JSON.parse(text) as { error: string }).error };
}
/** `deno run --no-prompt ARGS` (server.ts and its flags) from the repository root, its stdout and stderr lines collected in `log`. */
export function serverProcess(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...args],
    cwd: new URL("../../", import.meta.url),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const reading = Promise.all([
    (async () => {
      for await (const line of lines(child.stderr)) log.push(line);
    })(),
    (async () => {
      for await (const line of lines(child.stdout)) log.push(line);
    })(),
  ]);
  return { child, log, reading };
}
/** Resolves once the server has a live publisher on `live/NAME` (polls the hub; bounded). */
export async function waitForPublisher(server: TestServer, name: string, timeoutMs = 10_000): Promise<void> {
  const key = `live/${name}`;
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    const s = server.sluice.hub.get(key);
    if (s?.publisher && s.stats.videoFrames + s.stats.audioFrames > 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Cannot play ${key}: current state is no publisher after ${timeoutMs} ms`);
}

// ---- reading FLV as it arrives (time to first frame)

/** One tag of an FLV byte stream. */
export interface FlvTag {
  /** FLV TagType: 8 audio, 9 video, 18 script data. */
  type: number;
  timestamp: number;
  keyframe: boolean;
  sequenceHeader: boolean;
}

const FLV_HEADER_BYTES = 9 + 4; // FLV header (FLV spec v10.1 E.2) + PreviousTagSize0
const FLV_TAG_HEADER_BYTES = 11; // TagType, DataSize, Timestamp, TimestampExtended, StreamID (E.4.1)

/** Splits an FLV byte stream into tags as bytes arrive; keeps the complete tags' bytes. */
export class FlvTagReader {
  #buf = new Uint8Array(0);
  #off = 0;
  #complete = 0;

  /** Adds bytes; returns the tags completed by them. */
  push(bytes: Uint8Array): FlvTag[] {
    const next = new Uint8Array(this.#buf.length + bytes.length);
    next.set(this.#buf);
    next.set(bytes, this.#buf.length);
    this.#buf = next;
    const tags: FlvTag[] = [];
    if (this.#off === 0) {
      if (this.#buf.length < FLV_HEADER_BYTES) return tags;
      this.#off = this.#complete = FLV_HEADER_BYTES;
    }
    const b = this.#buf;
    while (this.#off + FLV_TAG_HEADER_BYTES <= b.length) {
      const o = this.#off;
      const size = (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
      const end = o + FLV_TAG_HEADER_BYTES + size + 4;
      if (end > b.length) break;
      const timestamp = ((b[o + 7] << 24) | (b[o + 4] << 16) | (b[o + 5] << 8) | b[o + 6]) >>> 0;
      const body = b.subarray(o + FLV_TAG_HEADER_BYTES, o + FLV_TAG_HEADER_BYTES + size);
      tags.push({ type: b[o] & 0x1f, timestamp, ...classify(b[o] & 0x1f, body) });
      this.#off = this.#complete = end;
    }
    return tags;
  }

  /** The bytes of the header and every complete tag so far (a valid FLV file). */
  get completeBytes(): Uint8Array {
    return this.#buf.subarray(0, this.#complete);
  }
}

/**
 * Runs `fn` with a fresh temp dir and a started test server; afterwards stops
 * the server and removes the dir, and when `fn` failed prints the server's last
 * log lines. `admission` is the policy it starts with (default: allow all).
 */
export async function withServer(
  fn: (server: TestServer, dir: string) => Promise<void>,
  overrides: ConfigOverrides = {},
  admission?: Admission,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_e2e_" });
  let server: TestServer | undefined;
  try {
    server = await startServer(overrides, admission);
    await fn(server, dir);
  } catch (e) {
    if (server) console.error(`server log (last 40 lines):\n${server.logs.slice(-40).join("\n")}`);
    throw e;
  } finally {
    await server?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

// ---- RTSP

/** The RTSP settings a test server needs: loopback, a free port (parallel-safe). */
export const RTSP_TEST_CONFIG: ConfigOverrides = { rtsp: { host: "127.0.0.1", port: 0 } };

/** `rtsp://127.0.0.1:PORT/live/NAME` on a test server started with RTSP_TEST_CONFIG. */
export function rtspUrl(server: TestServer, name: string): string {
  return `rtsp://127.0.0.1:${server.sluice.rtspPort}/live/${name}`;
}
