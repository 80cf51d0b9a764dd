import { assertEquals } from "../../_util/assert.ts";
import {
  formatAge,
  formatAudioCodec,
  formatBitrate,
  formatBitrateAxis,
  formatByProtocol,
  formatBytes,
  formatChannels,
  formatClock,
  formatCount,
  formatDuration,
  formatFrameRate,
  formatGop,
  formatMs,
  formatPercent,
  formatResolution,
  formatSampleRate,
  formatVideoCodec,
  NONE,
} from "../../../src/admin/page/format.ts";

Deno.test("formatBytes() steps by 1024 with IEC units and 3 significant digits", () => {
  const cases: [number, string][] = [
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.00 KiB"],
    [1536, "1.50 KiB"],
    [10 * 1024, "10.0 KiB"],
    [150 * 1024 * 1024, "150 MiB"],
    [3 * 1024 ** 3, "3.00 GiB"],
    [2 * 1024 ** 5, "2048 TiB"],
  ];
  for (const [n, want] of cases) assertEquals(formatBytes(n), want, String(n));
});

Deno.test("formatBytes() reads a negative or non-finite count as a dash", () => {
  for (const n of [-1, NaN, Infinity]) assertEquals(formatBytes(n), NONE);
});

Deno.test("formatBitrate() steps by 1000 with SI bit rate units", () => {
  const cases: [number, string][] = [
    [0, "0 bit/s"],
    [999, "999 bit/s"],
    [128_000, "128 kbit/s"],
    [2_500_000, "2.50 Mbit/s"],
    [12_345_678, "12.3 Mbit/s"],
    [4e9, "4.00 Gbit/s"],
  ];
  for (const [n, want] of cases) assertEquals(formatBitrate(n), want, String(n));
});

Deno.test("formatBitrateAxis() writes compact tick labels", () => {
  assertEquals([0, 500, 1000, 2_500_000, 15_000_000, 1.5e9].map(formatBitrateAxis), [
    "0",
    "500",
    "1k",
    "2.5M",
    "15M",
    "1.5G",
  ]);
});

Deno.test("formatDuration() writes the two largest units", () => {
  const cases: [number, string][] = [
    [0, "0 s"],
    [59_999, "59 s"],
    [125_000, "2 min 05 s"],
    [3_600_000 + 3 * 60_000, "1 h 03 min"],
    [(24 * 3 + 4) * 3_600_000, "3 d 4 h"],
  ];
  for (const [ms, want] of cases) assertEquals(formatDuration(ms), want, String(ms));
  assertEquals(formatDuration(-1), NONE);
});

Deno.test("formatAge() writes how long ago, and 0 for a time ahead of now", () => {
  assertEquals(formatAge(1_000, 66_000), "1 min 05 s ago");
  assertEquals(formatAge(70_000, 66_000), "0 s ago");
  assertEquals(formatAge(NaN, 66_000), NONE);
});

Deno.test("formatResolution() writes width×height, a dash when either is unknown", () => {
  assertEquals(formatResolution({ codec: "H.264", width: 1920, height: 1080 }), "1920×1080");
  assertEquals(formatResolution({ codec: "H.264" }), NONE);
  assertEquals(formatResolution(null), NONE);
});

Deno.test("formatFrameRate() keeps up to two decimals", () => {
  assertEquals(formatFrameRate(30), "30 fps");
  assertEquals(formatFrameRate(29.97002997), "29.97 fps");
  assertEquals(formatFrameRate(undefined), NONE);
  assertEquals(formatFrameRate(0), NONE);
});

Deno.test("formatVideoCodec() and formatAudioCodec() join codec, profile and level", () => {
  assertEquals(formatVideoCodec({ codec: "H.264", profile: "High", level: "4.1" }), "H.264 High 4.1");
  assertEquals(formatVideoCodec({ codec: "HEVC" }), "HEVC");
  assertEquals(formatVideoCodec(null), NONE);
  assertEquals(formatAudioCodec({ codec: "AAC", profile: "LC" }), "AAC LC");
  assertEquals(formatAudioCodec(null), NONE);
});

Deno.test("formatSampleRate() and formatChannels() name rates in kHz and common layouts", () => {
  assertEquals(formatSampleRate(44_100), "44.1 kHz");
  assertEquals(formatSampleRate(48_000), "48 kHz");
  assertEquals(formatSampleRate(undefined), NONE);
  assertEquals([1, 2, 3, 6, 8].map(formatChannels), ["mono", "stereo", "3 ch", "5.1", "7.1"]);
  assertEquals(formatChannels(undefined), NONE);
});

Deno.test("formatGop() writes frames and seconds, a dash before the first GOP", () => {
  assertEquals(formatGop({ frames: 60, durationMs: 2000 }), "60 frames, 2.00 s");
  assertEquals(formatGop({ frames: 0, durationMs: 0 }), NONE);
});

Deno.test("formatByProtocol() leaves zeros out and says none when all are zero", () => {
  assertEquals(formatByProtocol({ rtmp: 2, "http-flv": 1, "ws-flv": 0 }), "rtmp 2 · http-flv 1");
  assertEquals(formatByProtocol({ rtmp: 0 }), "none");
  assertEquals(formatByProtocol({}), "none");
});

Deno.test("formatPercent(), formatMs() and formatCount() round for reading", () => {
  assertEquals(formatPercent(12.345), "12.3 %");
  assertEquals(formatMs(120.4), "120 ms");
  assertEquals(formatMs(-5), NONE);
  assertEquals(formatCount(1_234_567), "1,234,567");
  assertEquals(formatCount(12), "12");
});

Deno.test("formatClock() writes the time of day at an offset from UTC", () => {
  assertEquals(formatClock("2024-05-01T12:34:56.789Z"), "12:34:56");
  assertEquals(formatClock("2024-05-01T12:34:56.789Z", 120), "14:34:56");
  assertEquals(formatClock(Date.UTC(2024, 4, 1, 23, 59, 59), -60), "22:59:59");
  assertEquals(formatClock("not a time"), NONE);
});
