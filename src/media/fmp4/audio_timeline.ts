/**
 * Decode times of AAC frames in samples (the audio track's timescale is its
 * sample rate, ISO/IEC 14496-12 8.4.2.3). Hub timestamps are whole
 * milliseconds, and an AAC frame of 1024 samples at 44.1 kHz lasts
 * 23.2199... ms, so times taken from them would wobble by up to half a
 * millisecond a frame and sample durations alternate 1014/1058. Instead each
 * frame starts where the previous one ended, counted in samples; the hub
 * timestamp is only looked at to find the first frame's time and gaps.
 *
 * A gap: the hub timestamp is more than AUDIO_GAP_MS ahead of the count
 * (frames lost upstream, a publisher that came back). The count then jumps to
 * the hub timestamp. A hub timestamp behind the count never moves it back:
 * that would overlap samples already sent, and the count, not the
 * millisecond stamps, is the audio's clock.
 *
 * @module
 */

/**
 * How far (ms) the hub timestamp may run ahead of the sample count before it
 * counts as a gap: above the jitter of encoders that stamp audio from a wall
 * clock (tens of ms), below what viewers notice as lip-sync error (ITU-R
 * BT.1359: sound 125 ms late).
 */
export const AUDIO_GAP_MS = 100;

/** ISO/IEC 14496-3 4.5.1.1: an AAC frame (raw_data_block) decodes to 1024 samples a channel (960 with frameLengthFlag). */
export const AAC_FRAME_SAMPLES = 1024;

const MS_PER_SECOND = 1000;

/** The decode-time counter of one audio track. */
export class AudioTimeline {
  /** Samples per second: the track's timescale. */
  readonly sampleRate: number;
  /** Samples each frame lasts. */
  readonly frameSamples: number;
  /** Where the next frame starts, in samples; undefined before the first frame. */
  expected: number | undefined;

  constructor(sampleRate: number, frameSamples = AAC_FRAME_SAMPLES) {
    if (!Number.isInteger(sampleRate) || sampleRate < 1) {
      throw new RangeError(`Cannot count audio samples: current sample rate ${sampleRate}`);
    }
    if (!Number.isInteger(frameSamples) || frameSamples < 1) {
      throw new RangeError(`Cannot count audio samples: current frame length ${frameSamples}`);
    }
    this.sampleRate = sampleRate;
    this.frameSamples = frameSamples;
  }

  /** A hub timestamp (ms) in samples, rounded to the nearest. */
  samplesAt(timestampMs: number): number {
    return Math.round((timestampMs * this.sampleRate) / MS_PER_SECOND);
  }

  /** The decode time (samples) of the frame stamped `timestampMs`; the count moves one frame past it. */
  next(timestampMs: number): number {
    const hub = this.samplesAt(timestampMs);
    const expected = this.expected;
    const gap = (AUDIO_GAP_MS * this.sampleRate) / MS_PER_SECOND;
    const at = expected === undefined || hub - expected > gap ? hub : expected;
    this.expected = at + this.frameSamples;
    return at;
  }
}
