import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import {
  FakeContainer,
  type SyntheticOptions,
  syntheticStream,
  type Timed,
  WALL_START,
} from "../_util/fake_container.ts";
import { checkMediaPlaylist, checkMultivariant, HlsRule, PlaylistChecker } from "../_util/hls_checker.ts";
import { avcSequenceHeader, mediaFrame } from "../_util/hub_fakes.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { Segmenter, type SegmenterOptions, type SegmenterSnapshot } from "../../src/hls/segmenter.ts";
import {
  mediaPlaylist,
  type MediaPlaylistOptions,
  multivariantPlaylist,
  type PlaylistUris,
  renditionReport,
} from "../../src/hls/playlist.ts";

const URIS: PlaylistUris = {
  segment: (msn) => `s${msn}.ts`,
  part: (msn, i) => `p${msn}.${i}.ts`,
  init: (v) => `init${v}.mp4`,
};

/** A hand-made snapshot: two complete 2 s segments and an open one with two parts. */
function snapshot(over: Partial<SegmenterSnapshot> = {}): SegmenterSnapshot {
  const parts = (n: number, last: number) =>
    Array.from(
      { length: n },
      (_, i) => ({ index: i, durationMs: i === n - 1 ? last : 320, independent: i === 0 }),
    );
  return {
    container: "ts",
    targetDurationS: 2,
    partTargetMs: 333,
    mediaSequence: 7,
    discontinuitySequence: 0,
    segments: [
      {
        msn: 7,
        durationMs: 2000,
        programDateTimeMs: WALL_START,
        discontinuity: false,
        independent: true,
        initVersion: 0,
        parts: parts(7, 80),
      },
      {
        msn: 8,
        durationMs: 2000,
        programDateTimeMs: WALL_START + 2000,
        discontinuity: false,
        independent: true,
        initVersion: 0,
        parts: parts(7, 80),
      },
    ],
    open: {
      msn: 9,
      durationMs: 640,
      programDateTimeMs: WALL_START + 4000,
      discontinuity: false,
      independent: true,
      initVersion: 0,
      parts: parts(2, 320),
    },
    nextPart: { msn: 9, index: 2 },
    ended: false,
    ...over,
  };
}

Deno.test("mediaPlaylist() writes an RFC 8216 playlist of the complete segments", () => {
  assertEquals(
    mediaPlaylist(snapshot(), { uris: URIS }),
    [
      "#EXTM3U",
      "#EXT-X-VERSION:3",
      "#EXT-X-TARGETDURATION:2",
      "#EXT-X-MEDIA-SEQUENCE:7",
      "#EXT-X-INDEPENDENT-SEGMENTS",
      "#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z",
      "#EXTINF:2.000,",
      "s7.ts",
      "#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:02.000Z",
      "#EXTINF:2.000,",
      "s8.ts",
      "",
    ].join("\n"),
  );
});

Deno.test("mediaPlaylist() writes server control, part info, parts, the preload hint and rendition reports for LL-HLS", () => {
  const text = mediaPlaylist(snapshot(), {
    uris: URIS,
    lowLatency: true,
    renditionReports: [{ uri: "../audio/index.m3u8", lastMsn: 9, lastPart: 1 }],
  });
  const partsOf = (msn: number) => [
    `#EXT-X-PART:DURATION=0.320,URI="p${msn}.0.ts",INDEPENDENT=YES`,
    ...[1, 2, 3, 4, 5].map((i) => `#EXT-X-PART:DURATION=0.320,URI="p${msn}.${i}.ts"`),
    `#EXT-X-PART:DURATION=0.080,URI="p${msn}.6.ts"`,
  ];
  assertEquals(
    text,
    [
      "#EXTM3U",
      "#EXT-X-VERSION:6",
      "#EXT-X-TARGETDURATION:2",
      "#EXT-X-MEDIA-SEQUENCE:7",
      "#EXT-X-INDEPENDENT-SEGMENTS",
      "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.999,CAN-SKIP-UNTIL=12.000",
      "#EXT-X-PART-INF:PART-TARGET=0.333",
      "#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z",
      ...partsOf(7),
      "#EXTINF:2.000,",
      "s7.ts",
      "#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:02.000Z",
      ...partsOf(8),
      "#EXTINF:2.000,",
      "s8.ts",
      "#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:04.000Z",
      '#EXT-X-PART:DURATION=0.320,URI="p9.0.ts",INDEPENDENT=YES',
      '#EXT-X-PART:DURATION=0.320,URI="p9.1.ts"',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p9.2.ts"',
      '#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8",LAST-MSN=9,LAST-PART=1',
      "",
    ].join("\n"),
  );
  assertEquals(checkMediaPlaylist(text), []);
});

Deno.test("mediaPlaylist() lists parts only of segments that start within three target durations of the end", () => {
  const base = snapshot();
  const segments = [5, 6, 7, 8].map((msn, i) => ({
    ...base.segments[0],
    msn,
    programDateTimeMs: WALL_START + 2000 * i,
  }));
  // 8.64 s listed: msn 7 starts 4.64 s from the end, msn 6 6.64 s.
  const open = { ...base.open!, programDateTimeMs: WALL_START + 8000 };
  const text = mediaPlaylist(snapshot({ mediaSequence: 5, segments, open }), {
    uris: URIS,
    lowLatency: true,
  });
  const withParts = [...text.matchAll(/URI="p(\d+)\.0\.ts"/g)].map((m) => Number(m[1]));
  assertEquals(withParts, [7, 8, 9]);
  assertEquals(checkMediaPlaylist(text), []);
});

Deno.test("mediaPlaylist() writes EXT-X-MAP, EXT-X-DISCONTINUITY and EXT-X-DISCONTINUITY-SEQUENCE for fMP4", () => {
  const base = snapshot();
  const text = mediaPlaylist(
    snapshot({
      container: "fmp4",
      discontinuitySequence: 3,
      segments: [
        { ...base.segments[0], initVersion: 1 },
        { ...base.segments[1], initVersion: 2, discontinuity: true },
      ],
      open: undefined,
      nextPart: { msn: 9, index: 0 },
    }),
    { uris: URIS },
  );
  assertEquals(
    text,
    [
      "#EXTM3U",
      "#EXT-X-VERSION:6",
      "#EXT-X-TARGETDURATION:2",
      "#EXT-X-MEDIA-SEQUENCE:7",
      "#EXT-X-DISCONTINUITY-SEQUENCE:3",
      "#EXT-X-INDEPENDENT-SEGMENTS",
      '#EXT-X-MAP:URI="init1.mp4"',
      "#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z",
      "#EXTINF:2.000,",
      "s7.ts",
      "#EXT-X-DISCONTINUITY",
      '#EXT-X-MAP:URI="init2.mp4"',
      "#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:02.000Z",
      "#EXTINF:2.000,",
      "s8.ts",
      "",
    ].join("\n"),
  );
  assertEquals(checkMediaPlaylist(text), []);
});

Deno.test("mediaPlaylist() leaves out EXT-X-INDEPENDENT-SEGMENTS while a segment without a keyframe start is listed", () => {
  const base = snapshot();
  const text = mediaPlaylist(
    snapshot({ segments: [base.segments[0], { ...base.segments[1], independent: false }] }),
    {
      uris: URIS,
    },
  );
  assert(!text.includes("#EXT-X-INDEPENDENT-SEGMENTS"));
});

Deno.test("mediaPlaylist() ends with EXT-X-ENDLIST and no parts, server control or hint once the stream ended", () => {
  const text = mediaPlaylist(snapshot({ open: undefined, nextPart: undefined, ended: true }), {
    uris: URIS,
    lowLatency: true,
    skip: true,
  });
  assert(text.endsWith("s8.ts\n#EXT-X-ENDLIST\n"));
  for (const tag of ["#EXT-X-PART", "#EXT-X-SERVER-CONTROL", "#EXT-X-PRELOAD-HINT", "#EXT-X-SKIP"]) {
    assert(!text.includes(tag), tag);
  }
  assertEquals(checkMediaPlaylist(text), []);
});

Deno.test("mediaPlaylist() takes the caller's URIs with their query strings and refuses a quote or a line break", () => {
  const uris: PlaylistUris = {
    segment: (msn) => `seg/${msn}.ts?session=abc&token=x%2Fy`,
    part: (msn, i) => `part/${msn}/${i}.ts?session=abc`,
    hint: (msn, i) => `part/${msn}/${i}.ts?session=abc`,
  };
  const text = mediaPlaylist(snapshot(), { uris, lowLatency: true });
  assert(text.includes("\nseg/8.ts?session=abc&token=x%2Fy\n"));
  assert(text.includes('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part/9/2.ts?session=abc"'));
  assertThrows(
    () => mediaPlaylist(snapshot(), { uris: { ...uris, part: () => 'a"b' }, lowLatency: true }),
    TypeError,
    "Cannot write EXT-X-PART URI",
  );
  assertThrows(() => mediaPlaylist(snapshot(), { uris: { ...uris, segment: () => "a\nb" } }), TypeError);
  assertThrows(() => mediaPlaylist(snapshot({ container: "fmp4" }), { uris }), TypeError, "no init()");
});

Deno.test("renditionReport() names another rendition's newest part", () => {
  assertEquals(renditionReport(snapshot(), "a.m3u8"), { uri: "a.m3u8", lastMsn: 9, lastPart: 1 });
  assertEquals(renditionReport(snapshot({ open: undefined }), "a.m3u8"), {
    uri: "a.m3u8",
    lastMsn: 8,
    lastPart: 6,
  });
  assertEquals(renditionReport(snapshot({ open: undefined, segments: [] }), "a.m3u8"), undefined);
});

// ---- whole streams through the segmenter, every reload checked

interface Series {
  normal: PlaylistChecker;
  ll: PlaylistChecker;
  delta: PlaylistChecker;
  skipped: number;
  reloads: number;
}

/** Renders every kind of playlist after each change of a segmenter fed `items`, each series into a checker. */
function renderAll(
  items: Timed[],
  options: SegmenterOptions,
  container: FakeContainer,
  between?: (s: Segmenter, i: number) => void,
): Series {
  const s = new Segmenter(container, options);
  const series: Series = {
    normal: new PlaylistChecker(),
    ll: new PlaylistChecker(),
    delta: new PlaylistChecker(),
    skipped: 0,
    reloads: 0,
  };
  const opts: MediaPlaylistOptions = { uris: URIS, lowLatency: true };
  let first = true;
  let changed = false;
  s.onChange(() => changed = true);
  const render = () => {
    const snap = s.snapshot();
    series.reloads++;
    series.normal.feed(mediaPlaylist(snap, { uris: URIS }));
    const ll = mediaPlaylist(snap, opts);
    series.ll.feed(ll);
    // A client asks for delta updates once it has a full playlist.
    const delta = first ? ll : mediaPlaylist(snap, { ...opts, skip: true });
    first = false;
    const m = /#EXT-X-SKIP:SKIPPED-SEGMENTS=(\d+)/.exec(delta);
    if (m) series.skipped = Math.max(series.skipped, Number(m[1]));
    series.delta.feed(delta);
  };
  items.forEach(({ frame, wall }, i) => {
    between?.(s, i);
    s.push(frame, wall);
    if (changed) render();
    changed = false;
  });
  s.end();
  render();
  return series;
}

function assertClean(series: Series, what: string) {
  for (const name of ["normal", "ll", "delta"] as const) {
    const v = series[name].violations;
    assertEquals(v.slice(0, 5), [], `${what}, ${name}: ${v.length} violations`);
  }
  assert(series.reloads > 20, `${what}: ${series.reloads} reloads`);
}

const STREAMS: [string, SyntheticOptions, SegmenterOptions][] = [
  ["25 fps + AAC, 2 s GOP", { seconds: 40 }, { windowSegments: 12 }],
  ["50 fps + AAC", { seconds: 40, fps: 50 }, { windowSegments: 12 }],
  ["AAC only", { seconds: 40, fps: 0 }, { windowSegments: 12 }],
  ["25 fps video only", { seconds: 40, audio: false }, { windowSegments: 12 }],
  ["a 5 s GOP", { seconds: 60, gopMs: 5000 }, { windowSegments: 12 }],
  ["1 s GOP, 200 ms parts", { seconds: 40, gopMs: 1000 }, { windowSegments: 12, partTargetMs: 200 }],
  ["a 20 s GOP cut at 4 s", { seconds: 60, gopMs: 20000 }, { windowSegments: 12, maxSegmentMs: 4000 }],
];

for (const kind of ["ts", "fmp4"] as const) {
  for (const [what, o, opts] of STREAMS) {
    Deno.test(`mediaPlaylist() of ${what} (${kind}) passes the checker at every reload: normal, LL and delta`, () => {
      const series = renderAll(syntheticStream(o), opts, new FakeContainer(kind));
      assertClean(series, what);
      assert(series.skipped > 0, `${what}: delta updates skipped segments`);
    });
  }
}

Deno.test("mediaPlaylist() of a stream with a codec change and a publisher reconnect passes the checker", () => {
  for (const kind of ["ts", "fmp4"] as const) {
    const items = [
      ...syntheticStream({ seconds: 10 }),
      { frame: mediaFrame(FrameKind.Video, 10000, avcSequenceHeader(8, 5)), wall: WALL_START + 10000 },
      ...syntheticStream({ seconds: 10, startMs: 10000, headers: false, videoConfig: 5 }),
      ...syntheticStream({ seconds: 30, startMs: 20001, wallStartMs: WALL_START + 25000, headers: false }),
    ];
    const reconnectAt = items.findIndex((x) => x.frame.timestamp === 20001);
    const texts: string[] = [];
    const series = renderAll(items, { windowSegments: 8 }, new FakeContainer(kind), (s, i) => {
      if (i === reconnectAt) s.discontinuity();
      if (i % 50 === 0) texts.push(mediaPlaylist(s.snapshot(), { uris: URIS, lowLatency: true }));
    });
    assertClean(series, kind);
    assert(texts.some((t) => t.includes("#EXT-X-DISCONTINUITY\n")), "a discontinuity was listed");
    assert(texts.some((t) => t.includes("#EXT-X-DISCONTINUITY-SEQUENCE:2")), "both were evicted in the end");
    if (kind === "fmp4") {
      assert(
        texts.some((t) => /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init3.mp4"/.test(t)),
        "MAP again after the change",
      );
    }
  }
});

Deno.test("mediaPlaylist() advertises only parts the segmenter can serve", () => {
  const s = new Segmenter(new FakeContainer(), {});
  const checker = new PlaylistChecker();
  const missing: string[] = [];
  const byUri = new Map<string, () => Uint8Array | undefined>();
  const uris: PlaylistUris = {
    segment: (msn) => {
      const uri = `s${msn}.ts`;
      byUri.set(uri, () => s.segment(msn));
      return uri;
    },
    part: (msn, i) => {
      const uri = `p${msn}.${i}.ts`;
      byUri.set(uri, () => s.part(msn, i));
      return uri;
    },
  };
  for (const { frame, wall } of syntheticStream({ seconds: 20 })) {
    s.push(frame, wall);
    const before = checker.uris().length;
    checker.feed(mediaPlaylist(s.snapshot(), { uris, lowLatency: true }));
    for (const uri of checker.uris().slice(before)) if (!byUri.get(uri)?.()) missing.push(uri);
  }
  assertEquals(missing, []);
  assertEquals(checker.violations, []);
  assert(checker.hints().length > 50);
});

// ---- multivariant

Deno.test("multivariantPlaylist() writes one EXT-X-STREAM-INF per variant", () => {
  const text = multivariantPlaylist([
    {
      uri: "hi/index.m3u8?s=1",
      bandwidth: 1_200_000,
      averageBandwidth: 1_000_000,
      resolution: { width: 640, height: 360 },
      frameRate: 25,
      codecs: ["avc1.64001e", "mp4a.40.2"],
    },
    { uri: "audio/index.m3u8", bandwidth: 100_000, codecs: ["mp4a.40.2"] },
  ]);
  assertEquals(
    text,
    [
      "#EXTM3U",
      '#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=1000000,RESOLUTION=640x360,FRAME-RATE=25.000,CODECS="avc1.64001e,mp4a.40.2"',
      "hi/index.m3u8?s=1",
      '#EXT-X-STREAM-INF:BANDWIDTH=100000,CODECS="mp4a.40.2"',
      "audio/index.m3u8",
      "",
    ].join("\n"),
  );
  assertEquals(checkMultivariant(text), []);
});

Deno.test("multivariantPlaylist() refuses a bad variant", () => {
  const ok = { uri: "a.m3u8", bandwidth: 1000, codecs: ["avc1.64001e"] };
  assertThrows(() => multivariantPlaylist([]), TypeError);
  assertThrows(() => multivariantPlaylist([{ ...ok, bandwidth: 0 }]), RangeError, "bandwidth is 0");
  assertThrows(
    () => multivariantPlaylist([{ ...ok, averageBandwidth: 2000 }]),
    RangeError,
    "averageBandwidth",
  );
  assertThrows(() => multivariantPlaylist([{ ...ok, codecs: ['avc1"'] }]), TypeError, "codec");
  assertThrows(() => multivariantPlaylist([{ ...ok, uri: "#x" }]), TypeError);
});

// ---- the checker catches each rule broken

const GOOD = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:10
#EXT-X-DISCONTINUITY-SEQUENCE:1
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.999,CAN-SKIP-UNTIL=12.000
#EXT-X-PART-INF:PART-TARGET=0.333
#EXT-X-MAP:URI="init1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z
#EXTINF:2.000,
s10.m4s
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:02.000Z
#EXT-X-PART:DURATION=0.320,URI="p11.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.320,URI="p11.1.m4s"
#EXT-X-PART:DURATION=0.320,URI="p11.2.m4s"
#EXT-X-PART:DURATION=0.320,URI="p11.3.m4s"
#EXT-X-PART:DURATION=0.320,URI="p11.4.m4s"
#EXT-X-PART:DURATION=0.320,URI="p11.5.m4s"
#EXT-X-PART:DURATION=0.080,URI="p11.6.m4s"
#EXTINF:2.000,
s11.m4s
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:04.000Z
#EXT-X-PART:DURATION=0.320,URI="p12.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.320,URI="p12.1.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p12.2.m4s"
#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8",LAST-MSN=12,LAST-PART=1
`;

/** GOOD with `from` replaced by `to` (which must be there). */
function bad(from: string, to: string, text = GOOD): string {
  assert(text.includes(from), `GOOD has ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

Deno.test("checkMediaPlaylist() finds nothing wrong in a good LL-HLS playlist, alone or after itself", () => {
  assertEquals(checkMediaPlaylist(GOOD), []);
  assertEquals(checkMediaPlaylist(GOOD, GOOD), []);
  const checker = new PlaylistChecker();
  checker.feed(GOOD);
  assertEquals(checker.uris().length, 12, "2 segments, 9 parts, 1 init");
  assertEquals(checker.hints(), ["p12.2.m4s"]);
});

/** [rule, what is wrong, the bad playlist, an earlier reload of it] */
const BROKEN: [HlsRule, string, string, string?][] = [
  [HlsRule.Extm3uFirst, "a playlist without #EXTM3U first", bad("#EXTM3U\n", "")],
  [
    HlsRule.TagOnce,
    "EXT-X-MEDIA-SEQUENCE twice",
    bad("#EXT-X-MEDIA-SEQUENCE:10\n", "#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-MEDIA-SEQUENCE:10\n"),
  ],
  [HlsRule.TargetDurationRequired, "no EXT-X-TARGETDURATION", bad("#EXT-X-TARGETDURATION:2\n", "")],
  [
    HlsRule.HeaderBeforeSegments,
    "EXT-X-INDEPENDENT-SEGMENTS after a segment",
    bad("s10.m4s\n", "s10.m4s\n#EXT-X-INDEPENDENT-SEGMENTS\n", bad("#EXT-X-INDEPENDENT-SEGMENTS\n", "")),
  ],
  [
    HlsRule.MapBeforeSegments,
    "EXT-X-MAP after the first segment",
    bad("s10.m4s\n", 's10.m4s\n#EXT-X-MAP:URI="init1.mp4"\n', bad('#EXT-X-MAP:URI="init1.mp4"\n', "")),
  ],
  [
    HlsRule.SegmentTagsBeforeParts,
    "a date after the segment's first part",
    bad(
      '#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:02.000Z\n#EXT-X-PART:DURATION=0.320,URI="p11.0.m4s",INDEPENDENT=YES\n',
      '#EXT-X-PART:DURATION=0.320,URI="p11.0.m4s",INDEPENDENT=YES\n#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:02.000Z\n',
    ),
  ],
  [
    HlsRule.SkipAfterHeader,
    "EXT-X-SKIP after a segment",
    bad("s10.m4s\n", "s10.m4s\n#EXT-X-SKIP:SKIPPED-SEGMENTS=0\n"),
  ],
  [
    HlsRule.TrailingTags,
    "a part after the preload hint",
    bad(
      '#EXT-X-PART:DURATION=0.320,URI="p12.1.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p12.2.m4s"\n',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p12.2.m4s"\n#EXT-X-PART:DURATION=0.320,URI="p12.1.m4s"\n',
    ),
  ],
  [HlsRule.Syntax, "a URI without EXTINF", bad("#EXTINF:2.000,\ns10.m4s\n", "s10.m4s\n")],
  [
    HlsRule.ExtinfWithinTarget,
    "a 2.6 s EXTINF with TARGETDURATION 2",
    bad("#EXTINF:2.000,\ns10", "#EXTINF:2.600,\ns10"),
  ],
  [
    HlsRule.TargetDurationSteady,
    "TARGETDURATION down from 3 to 2",
    GOOD,
    bad("#EXT-X-TARGETDURATION:2", "#EXT-X-TARGETDURATION:3"),
  ],
  [
    HlsRule.PartWithinTarget,
    "a 0.340 s part with PART-TARGET 0.333",
    bad('DURATION=0.320,URI="p12.1.m4s"', 'DURATION=0.340,URI="p12.1.m4s"'),
  ],
  [
    HlsRule.PartFloor,
    "a 0.200 s part in the middle of a segment",
    bad('DURATION=0.320,URI="p11.2.m4s"', 'DURATION=0.200,URI="p11.2.m4s"'),
  ],
  [
    HlsRule.PartsMakeSegment,
    "parts adding up to 2 s under a 1.9 s EXTINF",
    bad("#EXTINF:2.000,\ns11", "#EXTINF:1.900,\ns11"),
  ],
  [HlsRule.PartInfRequired, "parts without EXT-X-PART-INF", bad("#EXT-X-PART-INF:PART-TARGET=0.333\n", "")],
  [
    HlsRule.PartHoldBack,
    "PART-HOLD-BACK under two part targets",
    bad("PART-HOLD-BACK=0.999", "PART-HOLD-BACK=0.600"),
  ],
  [
    HlsRule.PartHoldBack,
    "no PART-HOLD-BACK",
    bad("CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.999,", "CAN-BLOCK-RELOAD=YES,"),
  ],
  [
    HlsRule.SkipBoundary,
    "CAN-SKIP-UNTIL of three target durations",
    bad("CAN-SKIP-UNTIL=12.000", "CAN-SKIP-UNTIL=6.000"),
  ],
  [
    HlsRule.SkipRules,
    "a skip of segments within the Skip Boundary",
    bad(
      "#EXT-X-VERSION:6\n",
      "#EXT-X-VERSION:9\n",
      bad("#EXT-X-MAP", "#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n#EXT-X-MAP"),
    ),
  ],
  [
    HlsRule.SkipRules,
    "EXT-X-SKIP without CAN-SKIP-UNTIL",
    bad(
      "#EXT-X-VERSION:6\n",
      "#EXT-X-VERSION:9\n",
      bad(",CAN-SKIP-UNTIL=12.000", "", bad("#EXT-X-MAP", "#EXT-X-SKIP:SKIPPED-SEGMENTS=0\n#EXT-X-MAP")),
    ),
  ],
  [HlsRule.Version, "EXT-X-MAP with EXT-X-VERSION 3", bad("#EXT-X-VERSION:6", "#EXT-X-VERSION:3")],
  [
    HlsRule.MediaSequenceMonotonic,
    "MEDIA-SEQUENCE down from 11 to 10",
    GOOD,
    bad("#EXT-X-MEDIA-SEQUENCE:10", "#EXT-X-MEDIA-SEQUENCE:11"),
  ],
  [HlsRule.SegmentSteady, "a segment URI that changed", GOOD, bad("\ns11.m4s\n", "\nother.m4s\n")],
  [
    HlsRule.SegmentSteady,
    "a segment duration that changed",
    GOOD,
    bad("#EXTINF:2.000,\ns10", "#EXTINF:1.960,\ns10"),
  ],
  [
    HlsRule.DiscontinuitySequence,
    "a discontinuity gone from a kept segment",
    GOOD,
    bad("s10.m4s\n", "s10.m4s\n#EXT-X-DISCONTINUITY\n"),
  ],
  [
    HlsRule.DiscontinuitySequence,
    "DISCONTINUITY-SEQUENCE down from 2 to 1",
    GOOD,
    bad("DISCONTINUITY-SEQUENCE:1", "DISCONTINUITY-SEQUENCE:2"),
  ],
  [
    HlsRule.ProgramDateTime,
    "a date without milliseconds",
    bad("2025-01-01T00:00:02.000Z", "2025-01-01T00:00:02Z"),
  ],
  [HlsRule.ProgramDateTime, "a date going back", bad("2025-01-01T00:00:04.000Z", "2025-01-01T00:00:01.000Z")],
  [
    HlsRule.PartSteady,
    "a part duration that changed",
    GOOD,
    bad('DURATION=0.320,URI="p12.1.m4s"', 'DURATION=0.300,URI="p12.1.m4s"'),
  ],
  [
    HlsRule.PartsRemovedInOrder,
    "a part dropped from the middle of a segment",
    bad('#EXT-X-PART:DURATION=0.320,URI="p11.3.m4s"\n', ""),
    GOOD,
  ],
  [
    HlsRule.PreloadHint,
    "two part hints",
    bad("#EXT-X-RENDITION", '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p12.3.m4s"\n#EXT-X-RENDITION'),
  ],
  [HlsRule.PreloadHint, "a hint with EXT-X-ENDLIST", GOOD + "#EXT-X-ENDLIST\n"],
  [HlsRule.RenditionReport, "a report without LAST-MSN", bad(",LAST-MSN=12,LAST-PART=1", "")],
  [
    HlsRule.MixedTags,
    "EXT-X-STREAM-INF in a media playlist",
    bad("s10.m4s\n", "s10.m4s\n#EXT-X-STREAM-INF:BANDWIDTH=1\nx.m3u8\n"),
  ],
];

for (const [rule, what, text, previous] of BROKEN) {
  Deno.test(`checkMediaPlaylist() catches ${what}${previous ? " across reloads" : ""} as "${rule}"`, () => {
    const v = checkMediaPlaylist(text, previous);
    assert(v.some((x) => x.startsWith(rule)), `expected ${rule} in ${JSON.stringify(v, null, 1)}`);
  });
}

Deno.test("checkMediaPlaylist() names the rule and the line", () => {
  const [v] = checkMediaPlaylist(bad("#EXTINF:2.000,\ns10", "#EXTINF:2.600,\ns10"));
  assertEquals(v, `${HlsRule.ExtinfWithinTarget}: line 11: EXTINF 2.6 rounds to 3 > 2`);
});

const GOOD_MULTIVARIANT = `#EXTM3U
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=1000000,RESOLUTION=640x360,FRAME-RATE=25.000,CODECS="avc1.64001e,mp4a.40.2"
video/index.m3u8
`;

const BROKEN_MULTIVARIANT: [HlsRule, string, string][] = [
  [HlsRule.Extm3uFirst, "a playlist without #EXTM3U first", GOOD_MULTIVARIANT.replace("#EXTM3U\n", "")],
  [
    HlsRule.StreamInf,
    "no BANDWIDTH",
    GOOD_MULTIVARIANT.replace("BANDWIDTH=1200000,AVERAGE-BANDWIDTH", "AVERAGE-BANDWIDTH"),
  ],
  [
    HlsRule.StreamInf,
    "AVERAGE-BANDWIDTH above BANDWIDTH",
    GOOD_MULTIVARIANT.replace("AVERAGE-BANDWIDTH=1000000", "AVERAGE-BANDWIDTH=2000000"),
  ],
  [HlsRule.StreamInf, "a variant without its URI line", GOOD_MULTIVARIANT.replace("video/index.m3u8\n", "")],
  [
    HlsRule.StreamInf,
    "CODECS not quoted",
    GOOD_MULTIVARIANT.replace('CODECS="avc1.64001e,mp4a.40.2"', "CODECS=avc1"),
  ],
  [HlsRule.StreamInf, "RESOLUTION without a height", GOOD_MULTIVARIANT.replace("640x360", "640")],
  [HlsRule.MixedTags, "EXTINF in a multivariant playlist", GOOD_MULTIVARIANT + "#EXTINF:2.000,\ns1.ts\n"],
  [
    HlsRule.TagOnce,
    "EXT-X-INDEPENDENT-SEGMENTS twice",
    GOOD_MULTIVARIANT.replace("#EXT-X-INDEPENDENT-SEGMENTS\n", "#EXT-X-INDEPENDENT-SEGMENTS\n".repeat(2)),
  ],
];

Deno.test("checkMultivariant() finds nothing wrong in a good multivariant playlist", () => {
  assertEquals(checkMultivariant(GOOD_MULTIVARIANT), []);
});

for (const [rule, what, text] of BROKEN_MULTIVARIANT) {
  Deno.test(`checkMultivariant() catches ${what} as "${rule}"`, () => {
    const v = checkMultivariant(text);
    assert(v.some((x) => x.startsWith(rule)), `expected ${rule} in ${JSON.stringify(v, null, 1)}`);
  });
}
