/**
 * What a viewer of a re-muxed stream sees, checked without matching packets by their bytes (MPEG-TS and RTP
 * carry H.264 as Annex B with an AUD and in-band SPS/PPS, so the packets differ from the source's): the
 * recording decodes clean, its first video packet is a keyframe and its first picture an I, DTS never goes
 * back, every packet decodes to a picture, and each kind's packet count is the source's rate over the
 * recording's span, within COUNT_TOLERANCE.
 *
 * @module
 */
import { assert, assertEquals, assertGreaterOrEqual } from "./assert.ts";
import {
  COUNT_TOLERANCE,
  decodeErrors,
  dtsBackwards,
  ofType,
  type Packet,
  probeFrames,
  probePackets,
  relativeDiff,
} from "./media.ts";

/** Checks `out` against `src` for `kinds` (others must be absent); returns the recording's packets. */
export async function checkByRate(
  src: string,
  out: string,
  label: string,
  kinds: readonly string[] = ["video", "audio"],
  minSpanMs = 3500,
): Promise<Packet[]> {
  assertEquals(await decodeErrors(out), "", `${label}: decoding printed errors`);
  const [played, source] = await Promise.all([probePackets(out), probePackets(src)]);
  for (const kind of ["video", "audio"]) {
    const p = ofType(played, kind);
    if (!kinds.includes(kind)) {
      assertEquals(p.length, 0, `${label}: the recording has ${kind}`);
      continue;
    }
    const s = ofType(source, kind);
    const span = p[p.length - 1].dts - p[0].dts;
    const expected = (s.length - 1) * span / (s[s.length - 1].dts - s[0].dts) + 1;
    console.log(
      `${label} ${kind}: ${p.length} packets over ${span} ms, ${expected.toFixed(1)} at the source's rate`,
    );
    assertGreaterOrEqual(span, minSpanMs, `${label} ${kind}: the recording holds only ${span} ms`);
    assert(
      relativeDiff(p.length, expected) <= COUNT_TOLERANCE,
      `${label} ${kind}: ${p.length} vs ${expected}`,
    );
    assertEquals(dtsBackwards(p), [], `${label} ${kind}: DTS goes backwards`);
  }
  if (kinds.includes("video")) {
    const pv = ofType(played, "video");
    assert(pv[0].keyframe, `${label}: the first video packet is not a keyframe`);
    const pictures = ofType(await probeFrames(out), "video");
    assertEquals(pictures.length, pv.length, `${label}: pictures decoded vs packets`);
    assertEquals(pictures[0].pictType, "I", `${label}: the first decoded picture`);
  }
  return played;
}
