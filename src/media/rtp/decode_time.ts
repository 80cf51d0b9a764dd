/**
 * Decode times for H.264 received over RTP. RTP carries one time per access
 * unit, its presentation time (RFC 6184 5.1); FLV, RTMP and every muxer after
 * the hub want the decode time and a composition offset. A stream without
 * B-frames has presentation order = decode order and the two are equal; one
 * with B-frames sends, in decode order, presentation times that go back
 * (I P B B: 0, 3, 1, 2 frame periods; a B-pyramid I P B b b: 0, 4, 2, 1, 3).
 *
 * `DecodeTimer` takes the pictures in arrival (decode) order:
 *
 * - **At the start** it holds the first START_FRAMES pictures (a fraction of
 *   a second, once per publish), enough to see the reordering. They get the
 *   decode times an encoder gives: the k-th smallest presentation time of
 *   the group for the k-th picture, all moved back by the least amount that
 *   puts every decode time at or before its presentation time (the
 *   reordering depth, 0 without B-frames), and rising one period at most per
 *   picture (the group may end on a P whose B-frames are still to come).
 * - **Then** each picture goes out at once:
 *
 *       dts[i] = min(pts[i], dts[i-1] + period)
 *
 *   where `period` is the frame period: the least gap between the
 *   presentation times of the last PERIOD_WINDOW pictures, sorted (sorted,
 *   so a B-pyramid's steps of two periods do not hide the period). Without
 *   B-frames this is dts = pts; with them, decode times rise one period per
 *   picture and the offsets come back exactly.
 * - Decode times rise by at least 1 ms, and an offset never exceeds
 *   MAX_OFFSET_MS (a decode time that would lag further is pulled up). A
 *   picture whose presentation time is not after the decode time before it
 *   cannot be placed (`placed` false: the frame period shrank, or a loss
 *   confused the window): the caller drops it and what follows up to the next
 *   keyframe.
 *
 * What is not done: reading the slices' picture order counts (exact, at the
 * cost of parsing slice headers; MediaMTX's way). The rule above gives the
 * decode order of the reordering encoders ship.
 *
 * @module
 */

/** Pictures held at the start to see the reordering: about half a second at 25 fps. */
export const START_FRAMES = 12;

/** The pictures whose presentation times give the frame period. */
export const PERIOD_WINDOW = 64;

/** The largest composition offset given, ms: more than any reordering depth in practice (16 frames at 30 fps). */
export const MAX_OFFSET_MS = 600;

/** A picture with its decode time and the composition offset to its presentation time, ms. */
export interface Timed<T> {
  readonly item: T;
  readonly dts: number;
  /** pts - dts, 0..MAX_OFFSET_MS. */
  readonly offset: number;
  /** False when the presentation time could not be kept (see the module doc): drop up to the next keyframe. */
  readonly placed: boolean;
}

/** See the module doc. */
export class DecodeTimer<T> {
  /** The pictures held at the start, in decode order; undefined once released. */
  #start: { pts: number; item: T }[] | undefined = [];
  #lastDts = 0;
  /** The last PERIOD_WINDOW presentation times, oldest first. */
  readonly #window: number[] = [];

  /** The frame period now judged, ms; undefined before two distinct presentation times. */
  get period(): number | undefined {
    const sorted = [...this.#window].sort((a, b) => a - b);
    let least: number | undefined;
    for (let i = 1; i < sorted.length; i++) {
      const gap = sorted[i] - sorted[i - 1];
      if (gap > 0 && (least === undefined || gap < least)) least = gap;
    }
    return least;
  }

  /** The pictures held at the start (0 once they went out). */
  get held(): number {
    return this.#start?.length ?? 0;
  }

  /** Takes the next picture in decode order, presentation time `pts` (ms); gives the pictures now timed. */
  push(pts: number, item: T): Timed<T>[] {
    this.#window.push(pts);
    if (this.#window.length > PERIOD_WINDOW) this.#window.shift();
    const start = this.#start;
    if (start) {
      start.push({ pts, item });
      return start.length < START_FRAMES ? [] : this.#release();
    }
    const period = this.period ?? 0;
    let dts = Math.min(pts, this.#lastDts + period);
    let placed = true;
    if (dts <= this.#lastDts) {
      dts = this.#lastDts + 1;
      placed = dts <= pts;
    }
    if (dts < pts - MAX_OFFSET_MS) dts = pts - MAX_OFFSET_MS;
    this.#lastDts = dts;
    return [{ item, dts, offset: Math.max(0, pts - dts), placed }];
  }

  /** The pictures held at the start, timed now (the stream ended early, or a caller cannot wait). */
  flush(): Timed<T>[] {
    return this.#start && this.#start.length > 0 ? this.#release() : [];
  }

  #release(): Timed<T>[] {
    const start = this.#start!;
    this.#start = undefined;
    const sorted = start.map((p) => p.pts).sort((a, b) => a - b);
    let depth = 0;
    for (let i = 0; i < start.length; i++) depth = Math.max(depth, sorted[i] - start[i].pts);
    depth = Math.min(depth, MAX_OFFSET_MS);
    const period = this.period ?? 0;
    const out: Timed<T>[] = [];
    let last = -Infinity;
    for (let i = 0; i < start.length; i++) {
      const pts = start[i].pts;
      // The group's last pictures may be a P whose B-frames are still to come: rise one period at most.
      let dts = i === 0 ? sorted[0] - depth : Math.min(sorted[i] - depth, last + period);
      if (dts <= last) dts = last + 1;
      last = dts;
      out.push({ item: start[i].item, dts, offset: Math.max(0, pts - dts), placed: dts <= pts });
    }
    this.#lastDts = last;
    return out;
  }
}
