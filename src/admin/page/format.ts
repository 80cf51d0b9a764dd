/**
 * How the page writes numbers: bytes, bitrates, durations, codecs, counts by
 * protocol. Pure functions of their arguments (no clock, no locale), so the
 * page reads the same everywhere and each rule has a test.
 *
 * @module
 */
import type { AudioCodecInfo, VideoCodecInfo } from "./api.ts";

/** What a missing value reads as. */
export const NONE = "—";

/** Binary byte units (IEC 80000-13), 1024 apart. */
const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;
/** Bit rate units (SI), 1000 apart. */
const BIT_UNITS = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s"] as const;

/** Channel counts with a name; others read "N ch". */
const CHANNEL_NAMES: Readonly<Record<number, string>> = { 1: "mono", 2: "stereo", 6: "5.1", 8: "7.1" };

/** A value with its unit: up to 3 significant digits above 10, two decimals below. */
function scaled(value: number, step: number, units: readonly string[]): string {
  if (!Number.isFinite(value) || value < 0) return NONE;
  let i = 0;
  while (value >= step && i < units.length - 1) {
    value /= step;
    i++;
  }
  if (i === 0) return `${Math.round(value)} ${units[0]}`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${units[i]}`;
}

/** `1536` -> "1.50 KiB". */
export function formatBytes(bytes: number): string {
  return scaled(bytes, 1024, BYTE_UNITS);
}

/** `2_500_000` -> "2.50 Mbit/s". */
export function formatBitrate(bps: number): string {
  return scaled(bps, 1000, BIT_UNITS);
}

/** A compact bitrate for chart axes: `2_500_000` -> "2.5M". */
export function formatBitrateAxis(bps: number): string {
  if (!Number.isFinite(bps)) return "";
  const prefixes = ["", "k", "M", "G"];
  let i = 0;
  let v = Math.abs(bps);
  while (v >= 1000 && i < prefixes.length - 1) {
    v /= 1000;
    i++;
  }
  const s = Number.isInteger(v) ? String(v) : v.toFixed(v >= 10 ? 0 : 1);
  return `${bps < 0 ? "-" : ""}${s}${prefixes[i]}`;
}

/** Two digits. */
function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** `125_000` -> "2 min 05 s"; the two largest units (s, min, h, d). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return NONE;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${pad2(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${pad2(m % 60)} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** How long ago `thenMs` was at `nowMs`: "3 min 05 s ago" (a clock ahead of `now` reads "0 s ago"). */
export function formatAge(thenMs: number, nowMs: number): string {
  if (!Number.isFinite(thenMs) || !Number.isFinite(nowMs)) return NONE;
  return `${formatDuration(Math.max(0, nowMs - thenMs))} ago`;
}

/** `{ width: 1920, height: 1080 }` -> "1920×1080". */
export function formatResolution(video: VideoCodecInfo | null): string {
  if (!video || !video.width || !video.height) return NONE;
  return `${video.width}×${video.height}`;
}

/** `29.97` -> "29.97 fps", `30` -> "30 fps". */
export function formatFrameRate(fps: number | undefined): string {
  if (fps === undefined || !Number.isFinite(fps) || fps <= 0) return NONE;
  return `${Number.isInteger(fps) ? fps : Number(fps.toFixed(2))} fps`;
}

/** "H.264 High 4.1": codec, profile, level. */
export function formatVideoCodec(video: VideoCodecInfo | null): string {
  if (!video) return NONE;
  return [video.codec, video.profile, video.level].filter((p) => p).join(" ");
}

/** "AAC LC": codec and profile. */
export function formatAudioCodec(audio: AudioCodecInfo | null): string {
  if (!audio) return NONE;
  return [audio.codec, audio.profile].filter((p) => p).join(" ");
}

/** `44_100` -> "44.1 kHz". */
export function formatSampleRate(hz: number | undefined): string {
  if (!hz || !Number.isFinite(hz)) return NONE;
  return `${Number((hz / 1000).toFixed(3))} kHz`;
}

/** `2` -> "stereo", `3` -> "3 ch". */
export function formatChannels(channels: number | undefined): string {
  if (!channels || !Number.isFinite(channels)) return NONE;
  return CHANNEL_NAMES[channels] ?? `${channels} ch`;
}

/** "60 frames, 2.00 s": a GOP's video frames and media time. */
export function formatGop(gop: { frames: number; durationMs: number }): string {
  if (!gop.frames) return NONE;
  return `${gop.frames} frames, ${(gop.durationMs / 1000).toFixed(2)} s`;
}

/** `{ rtmp: 2, "http-flv": 1, "ws-flv": 0 }` -> "rtmp 2 · http-flv 1" (zeros left out; all zero: "none"). */
export function formatByProtocol(byProtocol: Readonly<Record<string, number>>): string {
  const parts = Object.entries(byProtocol).filter(([, n]) => n > 0).map(([p, n]) => `${p} ${n}`);
  return parts.length ? parts.join(" · ") : "none";
}

/** `12.345` -> "12.3 %". */
export function formatPercent(percent: number): string {
  if (!Number.isFinite(percent)) return NONE;
  return `${percent.toFixed(1)} %`;
}

/** `120.4` -> "120 ms". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return NONE;
  return `${Math.round(ms)} ms`;
}

/** `1234567` -> "1,234,567" (a plain count with thousands separators, locale-free). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return NONE;
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * A time's clock part, "12:34:56", at `offsetMin` minutes from UTC (the page passes the browser's
 * `-getTimezoneOffset()`; 0 is UTC).
 */
export function formatClock(t: number | string, offsetMin = 0): string {
  const ms = typeof t === "number" ? t : Date.parse(t);
  if (!Number.isFinite(ms)) return NONE;
  return new Date(ms + offsetMin * 60_000).toISOString().slice(11, 19);
}
