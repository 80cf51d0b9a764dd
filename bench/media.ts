/**
 * Test media for the benchmarks, made by ffmpeg on first use into bench/out/
 * (ignored by git): about 1 Mbit/s H.264 + AAC with a 2 s GOP.
 *
 * @module
 */

const OUT = new URL("./out/", import.meta.url);

async function ffmpeg(args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("ffmpeg", {
    args: ["-hide_banner", "-v", "error", "-y", ...args],
  })
    .output();
  if (code !== 0) {
    throw new Error(`Cannot make bench media: ffmpeg exited ${code}: ${new TextDecoder().decode(stderr)}`);
  }
}

/** Path of a `seconds`-long 1 Mbit/s FLV (640x360 25 fps H.264 High with B-frames, 2 s GOP, AAC 96k). */
export async function benchFlv(seconds = 20): Promise<string> {
  await Deno.mkdir(OUT, { recursive: true });
  const path = new URL(`bench_${seconds}s.flv`, OUT).pathname;
  try {
    await Deno.stat(path);
    return path;
  } catch {
    // make it
  }
  await ffmpeg([
    ...["-f", "lavfi", "-i", `testsrc2=size=640x360:rate=25`],
    ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"],
    ...["-t", String(seconds), "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-bf", "2"],
    ...["-g", "50", "-b:v", "900k", "-maxrate", "1000k", "-bufsize", "2000k", "-c:a", "aac", "-b:a", "96k"],
    ...["-f", "flv", path],
  ]);
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
