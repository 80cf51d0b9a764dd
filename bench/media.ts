/**
 * Test media for the benchmarks, made by ffmpeg on first use into bench/out/
 * (ignored by git) and kept there: the bench's fixed stream (issue 13), a
 * 1.1 Mbit/s H.264 + AAC FLV whose encode is BENCH_STREAM. Its name carries
 * the encode, so a file made with an older encode is not picked up.
 *
 * @module
 */

const OUT = new URL("./out/", import.meta.url);

/** The bench's stream: what ffmpeg is asked for, and what the file must measure. */
export const BENCH_STREAM = {
  width: 640,
  height: 360,
  fps: 25,
  /** Keyframe every 2 s exactly: keyint = min-keyint = 50 frames, no scene-cut keyframes. */
  gopFrames: 50,
  /** x264 ABR target and cap, kbit/s: testsrc2 at veryfast overshoots to about 1,000 kbit/s. */
  videoKbps: 960,
  /** AAC-LC, 44.1 kHz mono (lavfi sine), kbit/s. */
  audioKbps: 96,
  /** The file's bit rate as ffprobe reads it (format bit_rate: size over duration), bit/s. */
  fileBitRate: 1_100_000,
  /** How far the file may be from fileBitRate, as a share of it. */
  fileBitRateTolerance: 0.05,
} as const;

/** One line on the stream for the bench's header; `bitRate` is the file's measured one (bit/s), if known. */
export function describeStream(bitRate?: number): string {
  const s = BENCH_STREAM;
  const measured = bitRate === undefined ? "" : `, file ${(bitRate / 1e6).toFixed(3)} Mbit/s (ffprobe)`;
  return `${s.width}x${s.height} ${s.fps} fps H.264 High (2 B-frames, GOP ${s.gopFrames / s.fps} s, ` +
    `x264 veryfast ${s.videoKbps} kbit/s ABR) + AAC-LC 44.1 kHz mono ${s.audioKbps} kbit/s${measured}`;
}

async function ffmpeg(args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("ffmpeg", {
    args: ["-hide_banner", "-v", "error", "-y", ...args],
  })
    .output();
  if (code !== 0) {
    throw new Error(`Cannot make bench media: ffmpeg exited ${code}: ${new TextDecoder().decode(stderr)}`);
  }
}

/** The format bit rate ffprobe reads from `path` (bit/s), or undefined without ffprobe. */
export async function probeBitRate(path: string): Promise<number | undefined> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("ffprobe", {
      args: ["-v", "error", "-show_entries", "format=bit_rate", "-of", "default=nw=1:nk=1", path],
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const rate = Number(new TextDecoder().decode(out.stdout).trim());
  if (out.code !== 0 || !(rate > 0)) {
    throw new Error(`Cannot read the bit rate of ${path}: ffprobe exited ${out.code}`);
  }
  return rate;
}

/** Whether `bitRate` (bit/s) is the fixed stream's, within its tolerance. */
export function isBenchBitRate(bitRate: number): boolean {
  const { fileBitRate, fileBitRateTolerance } = BENCH_STREAM;
  return Math.abs(bitRate - fileBitRate) <= fileBitRateTolerance * fileBitRate;
}

/** Path of a `seconds`-long FLV of the fixed stream (BENCH_STREAM), made once and checked with ffprobe. */
export async function benchFlv(seconds = 20): Promise<string> {
  await Deno.mkdir(OUT, { recursive: true });
  const s = BENCH_STREAM;
  const path = new URL(`bench_${s.fileBitRate / 1000}k_${seconds}s.flv`, OUT).pathname;
  try {
    await Deno.stat(path);
    return path;
  } catch {
    // make it
  }
  const part = `${path}.part`;
  await ffmpeg([
    ...["-f", "lavfi", "-i", `testsrc2=size=${s.width}x${s.height}:rate=${s.fps}`],
    ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"],
    ...["-t", String(seconds), "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-bf", "2"],
    ...["-g", String(s.gopFrames), "-keyint_min", String(s.gopFrames), "-sc_threshold", "0"],
    ...["-b:v", `${s.videoKbps}k`, "-maxrate", `${s.videoKbps}k`, "-bufsize", `${2 * s.videoKbps}k`],
    ...["-c:a", "aac", "-b:a", `${s.audioKbps}k`],
    ...["-f", "flv", part],
  ]);
  const rate = await probeBitRate(part);
  if (rate !== undefined && !isBenchBitRate(rate)) {
    await Deno.remove(part);
    throw new Error(
      `Cannot make bench media: current bit rate ${rate} bit/s, expected ${s.fileBitRate} within ` +
        `${100 * s.fileBitRateTolerance} %`,
    );
  }
  await Deno.rename(part, path);
  return path;
}

/** Path of the same video as a raw Annex B H.264 elementary stream. */
export async function benchH264(seconds = 20): Promise<string> {
  const flv = await benchFlv(seconds);
  const path = flv.replace(/\.flv$/, ".h264");
  try {
    await Deno.stat(path);
    return path;
  } catch {
    // make it
  }
  await ffmpeg(["-i", flv, "-an", "-c:v", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", path]);
  return path;
}
