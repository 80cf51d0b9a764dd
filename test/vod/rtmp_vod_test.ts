/**
 * VodPlay over a fake VodSession (it records every batch of messages and
 * every close) and small FLV files written to a temp folder: what a play
 * sends first, the tags, the end, refusals, Start, seek, pause,
 * receiveAudio/receiveVideo; and vodPlayPath()'s mapping of app and name to a
 * file. The pacing lead is a minute, so a short file goes out at once and
 * nothing depends on timing (waits are bounded only so a broken test ends).
 */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "../_util/assert.ts";
import {
  aacRaw,
  aacSequenceHeader,
  avcInterFrame,
  avcKeyframe,
  avcSequenceHeader,
  RecordingLogger,
} from "../_util/hub_fakes.ts";
import { EcmaArray } from "../../src/amf/value.ts";
import { concatBytes } from "../../src/bytes.ts";
import { TagType } from "../../src/media/flv.ts";
import {
  type Command,
  CommandName,
  DataName,
  decodeCommand,
  decodeData,
  encodeData,
  StatusCode,
} from "../../src/rtmp/command.ts";
import { parseControl } from "../../src/rtmp/control.ts";
import { MessageType, type RtmpMessage } from "../../src/rtmp/message.ts";
import { VodDataName, VodPlay, vodPlayPath, type VodSession, VodStatusCode } from "../../src/vod/rtmp_vod.ts";
import { flvFileHeader, type FlvTagInput, packTags } from "../../src/wasm/flv_pack.ts";

/** The message stream the player plays on. */
const STREAM_ID = 1;
/** A lead longer than any test file: every tag is due at once. */
const LEAD_MS = 60_000;
/** Every wait for the play ends by this deadline instead of hanging (nothing asserts on time). */
const WAIT_MS = 5_000;

/** Deno.test with the op and resource sanitizers: a play must leave no file or timer open. */
function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

// ---- the files

const META = encodeData(DataName.OnMetaData, new EcmaArray({ duration: 1.04, width: 320, height: 240 }));

/** clip.flv: metadata, both sequence headers, then two GOPs (keyframes at 0 and 1000) with audio. */
const CLIP_TAGS: readonly FlvTagInput[] = [
  { type: TagType.ScriptData, timestamp: 0, data: META },
  { type: TagType.Video, timestamp: 0, data: avcSequenceHeader() },
  { type: TagType.Audio, timestamp: 0, data: aacSequenceHeader() },
  { type: TagType.Video, timestamp: 0, data: avcKeyframe(8, 0x65) },
  { type: TagType.Audio, timestamp: 20, data: aacRaw(8, 0x21) },
  { type: TagType.Video, timestamp: 40, data: avcInterFrame(8, 0x41) },
  { type: TagType.Video, timestamp: 1000, data: avcKeyframe(8, 0x66) },
  { type: TagType.Audio, timestamp: 1020, data: aacRaw(8, 0x22) },
  { type: TagType.Video, timestamp: 1040, data: avcInterFrame(8, 0x42) },
];

/** long.flv: a keyframe at 0 and the next at 30 s, for tests with no lead (the second one waits). */
const LONG_TAGS: readonly FlvTagInput[] = [
  { type: TagType.Video, timestamp: 0, data: avcSequenceHeader() },
  { type: TagType.Video, timestamp: 0, data: avcKeyframe(8, 0x65) },
  { type: TagType.Video, timestamp: 30_000, data: avcKeyframe(8, 0x66) },
];

function flvFile(tags: readonly FlvTagInput[]): Uint8Array {
  return concatBytes([flvFileHeader({ audio: true, video: true }), packTags(tags)]);
}

/** A VOD root holding clip.flv, sub/clip.flv, long.flv and notes.flv (not FLV), and a file beside it. */
async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "sluice_rtmp_vod_" });
  try {
    const root = `${base}/root`;
    await Deno.mkdir(`${root}/sub`, { recursive: true });
    await Deno.writeFile(`${root}/clip.flv`, flvFile(CLIP_TAGS));
    await Deno.writeFile(`${root}/sub/clip.flv`, flvFile(CLIP_TAGS));
    await Deno.writeFile(`${root}/long.flv`, flvFile(LONG_TAGS));
    await Deno.writeFile(`${root}/notes.flv`, new TextEncoder().encode("not an FLV file at all"));
    await Deno.writeFile(`${base}/outside.flv`, flvFile(CLIP_TAGS));
    await fn(root);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

// ---- the fake session and what it saw

/** A VodSession that records each send() batch and each close(); until() waits for what a test expects. */
class FakeVodSession implements VodSession {
  readonly batches: RtmpMessage[][] = [];
  readonly closes: string[] = [];
  #wake: (() => void) | undefined;

  send(msgs: RtmpMessage[]): Promise<void> {
    this.batches.push(msgs);
    this.#notify();
    return Promise.resolve();
  }

  close(reason: string): void {
    this.closes.push(reason);
    this.#notify();
  }

  /** Every message sent, in order. */
  get messages(): RtmpMessage[] {
    return this.batches.flat();
  }

  /** What was sent, read (see describe()). */
  get seen(): string[] {
    return this.messages.map(describe);
  }

  /** Resolves once `pred` holds; rejects after WAIT_MS. */
  async until(pred: () => boolean, what: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Cannot see ${what}: not within ${WAIT_MS} ms`)), WAIT_MS);
    });
    try {
      while (!pred()) await Promise.race([new Promise<void>((r) => this.#wake = r), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * A message as one line: "streamBegin 1", "status NetStream.Play.Start", "data onMetaData",
 * "video 40", "audio 20" (media with its timestamp). Statuses at another level than "status" say it.
 */
function describe(msg: RtmpMessage): string {
  switch (msg.typeId) {
    case MessageType.UserControl: {
      const c = parseControl(msg);
      return `${c.kind} ${"streamId" in c ? c.streamId : ""}`.trim();
    }
    case MessageType.CommandAmf0: {
      const cmd = decodeCommand(msg);
      const info = cmd.args[0] as { code: string; level: string };
      assertEquals(cmd.name, CommandName.OnStatus);
      return `status ${info.code}${info.level === "status" ? "" : ` (${info.level})`}`;
    }
    case MessageType.DataAmf0:
      return `data ${decodeData(msg).name}`;
    case MessageType.Video:
      return `video ${msg.timestamp}`;
    case MessageType.Audio:
      return `audio ${msg.timestamp}`;
    default:
      return `type ${msg.typeId}`;
  }
}

/** The info object of the onStatus message with `code`. */
function statusInfo(session: FakeVodSession, code: string): Record<string, unknown> {
  for (const m of session.messages) {
    if (m.typeId !== MessageType.CommandAmf0) continue;
    const info = decodeCommand(m).args[0] as Record<string, unknown>;
    if (info.code === code) return info;
  }
  throw new Error(`Cannot find status ${code}: current messages ${session.seen.join(", ")}`);
}

/** The tags of `tags` a player gets, as describe() writes them: all but the script data. */
function mediaOf(tags: readonly FlvTagInput[]): string[] {
  return tags.filter((t) => t.type !== TagType.ScriptData).map((t) =>
    `${t.type === TagType.Video ? "video" : "audio"} ${t.timestamp}`
  );
}

/** What a play sends before the tags (the module doc's order). */
const PLAY_HEAD = [
  `streamBegin ${STREAM_ID}`,
  `streamIsRecorded ${STREAM_ID}`,
  `status ${StatusCode.PlayReset}`,
  `status ${StatusCode.PlayStart}`,
  `data ${DataName.RtmpSampleAccess}`,
  `data ${DataName.OnMetaData}`,
];

/** What a play sends after the last tag. */
const PLAY_END = [
  `streamEof ${STREAM_ID}`,
  `data ${VodDataName.OnPlayStatus}`,
  `status ${StatusCode.PlayStop}`,
];

interface Setup {
  session: FakeVodSession;
  play: VodPlay;
  log: RecordingLogger;
}

/** A VodPlay on a fresh fake session; stop()ped afterwards. */
async function withPlay(
  root: string,
  fn: (s: Setup) => Promise<void> | void,
  leadMs = LEAD_MS,
): Promise<void> {
  const session = new FakeVodSession();
  const log = new RecordingLogger();
  const play = new VodPlay(session, { root, app: "vod", streamId: STREAM_ID, log, leadMs });
  try {
    await fn({ session, play, log });
  } finally {
    play.stop();
  }
}

function cmd(name: string, ...args: Command["args"]): Command {
  return { name, transactionId: 0, commandObject: null, args };
}

const ended = (s: FakeVodSession) => () => s.seen.includes(`status ${StatusCode.PlayStop}`);

// ---- play

test("VodPlay.start() sends StreamBegin, StreamIsRecorded, Reset, Start, |RtmpSampleAccess, onMetaData, the tags, the end", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.start("clip.flv", 0);
      await session.until(ended(session), "the end of the play");
      assertEquals(session.seen, [...PLAY_HEAD, ...mediaOf(CLIP_TAGS), ...PLAY_END]);
      assertEquals(session.closes, [], "the connection stays open after the end");
    });
  });
});

test("VodPlay.start() sends every message on the play's stream id", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.start("clip.flv", 0);
      await session.until(ended(session), "the end of the play");
      const nonControl = session.messages.filter((m) => m.typeId !== MessageType.UserControl);
      assertEquals([...new Set(nonControl.map((m) => m.streamId))], [STREAM_ID]);
    });
  });
});

test("VodPlay.start() sends the tags' bodies byte for byte with their file timestamps", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.start("clip.flv", 0);
      await session.until(ended(session), "the end of the play");
      const media = session.messages.filter((m) =>
        m.typeId === MessageType.Audio || m.typeId === MessageType.Video
      );
      const expected = CLIP_TAGS.filter((t) => t.type !== TagType.ScriptData);
      assertEquals(
        media.map((m) => [m.typeId, m.timestamp, m.payload]),
        expected.map((t) => [
          t.type,
          t.timestamp,
          t.data,
        ]),
      );
      const meta = session.messages.find((m) => describe(m) === `data ${DataName.OnMetaData}`)!;
      assertEquals(meta.payload, META, "the file's onMetaData as it is");
    });
  });
});

test("VodPlay.start() names the file in the statuses' details and descriptions", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.start("sub/clip.flv", 0);
      await session.until(ended(session), "the end of the play");
      const start = statusInfo(session, StatusCode.PlayStart);
      assertEquals([start.level, start.details], ["status", "vod/sub/clip.flv"]);
      assertEquals(start.description, "Started playing vod/sub/clip.flv.");
    });
  });
});

test("VodPlay.start() ends with onPlayStatus NetStream.Play.Complete holding the duration and bytes", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.start("clip.flv", 0);
      await session.until(ended(session), "the end of the play");
      const msg = session.messages.find((m) => describe(m) === `data ${VodDataName.OnPlayStatus}`)!;
      const info = decodeData(msg).args[0] as Record<string, unknown>;
      assertEquals([info.level, info.code, info.duration], ["status", VodStatusCode.PlayComplete, 1.04]);
      // The bytes sent before the end's own messages (StreamEOF on).
      const endAt = session.seen.lastIndexOf(`streamEof ${STREAM_ID}`);
      assertEquals(info.bytes, session.messages.slice(0, endAt).reduce((n, m) => n + m.payload.length, 0));
      assertStrictEquals(play.bytesSent, session.messages.reduce((n, m) => n + m.payload.length, 0));
    });
  });
});

test("VodPlay.start() at a Start time begins at the keyframe before it, sequence headers re-timed", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.start("clip.flv", 1010);
      await session.until(ended(session), "the end of the play");
      assertEquals(session.seen, [
        ...PLAY_HEAD,
        "video 1000", // the AVC sequence header, stamped with the keyframe's time
        "audio 1000", // the AAC sequence header
        "video 1000",
        "audio 1020",
        "video 1040",
        ...PLAY_END,
      ]);
    });
  });
});

test("VodPlay.start() plays from the beginning for a Start of -2 or -1 (live or recorded, live)", async () => {
  await withRoot(async (root) => {
    for (const start of [-2, -1]) {
      await withPlay(root, async ({ session, play }) => {
        play.start("clip.flv", start);
        await session.until(ended(session), "the end of the play");
        assertEquals(session.seen, [...PLAY_HEAD, ...mediaOf(CLIP_TAGS), ...PLAY_END], `start ${start}`);
      });
    }
  });
});

// ---- refusals

for (
  const [what, path] of [
    ["a path outside the root", "../outside.flv"],
    ["an absolute path", "/etc/clip.flv"],
    ["a missing file", "missing.flv"],
    ["a hidden file", ".clip.flv"],
    ["a name without .flv", "clip"],
  ]
) {
  test(`VodPlay.start() answers ${what} with Play.StreamNotFound and closes`, async () => {
    await withRoot(async (root) => {
      await withPlay(root, async ({ session, play }) => {
        play.start(path, 0);
        await session.until(() => session.closes.length > 0, "the close");
        assertEquals(session.seen, [`status ${StatusCode.PlayStreamNotFound} (error)`]);
        const info = statusInfo(session, StatusCode.PlayStreamNotFound);
        assertEquals(info.description, `vod/${path} is not found`);
        assertEquals(session.closes, [`play refused: vod/${path} is not found`]);
      });
    });
  });
}

test("VodPlay.start() answers a file that is not FLV with Play.Failed and closes", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.start("notes.flv", 0);
      await session.until(() => session.closes.length > 0, "the close");
      assertEquals(session.seen, [`status ${StatusCode.PlayFailed} (error)`]);
      assertMatch(
        session.closes[0],
        /^play refused: Cannot play vod\/notes\.flv: it is not a readable FLV file$/,
      );
    });
  });
});

test("VodPlay.command() ignores seek and pause after a refusal", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.start("missing.flv", 0);
      await session.until(() => session.closes.length > 0, "the close");
      play.command(cmd(CommandName.Seek, 0));
      play.command(cmd(CommandName.Pause, true));
      await new Promise((r) => setTimeout(r, 0));
      assertEquals(session.seen, [`status ${StatusCode.PlayStreamNotFound} (error)`]);
      assertEquals(session.closes.length, 1);
    });
  });
});

// ---- commands

test("VodPlay.command() takes seek, pause, receiveAudio and receiveVideo, and nothing else", async () => {
  await withRoot(async (root) => {
    await withPlay(root, ({ play }) => {
      assertEquals(play.command(cmd(CommandName.ReceiveAudio, true)), true);
      assertEquals(play.command(cmd(CommandName.ReceiveVideo, true)), true);
      assertEquals(play.command(cmd(CommandName.Play, "clip.flv")), false);
      assertEquals(play.command(cmd(CommandName.DeleteStream, 1)), false);
      assertEquals(play.command(cmd("someCall")), false);
    });
  });
});

test("VodPlay.command() receiveVideo false drops the video frames but keeps the video sequence header", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.command(cmd(CommandName.ReceiveVideo, false));
      play.start("clip.flv", 0);
      await session.until(ended(session), "the end of the play");
      assertEquals(session.seen, [
        ...PLAY_HEAD,
        "video 0",
        "audio 0",
        "audio 20",
        "audio 1020",
        ...PLAY_END,
      ]);
    });
  });
});

test("VodPlay.command() receiveAudio false drops the audio frames but keeps the audio sequence header", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.command(cmd(CommandName.ReceiveAudio, false));
      play.start("clip.flv", 0);
      await session.until(ended(session), "the end of the play");
      assertEquals(session.seen, [
        ...PLAY_HEAD,
        "video 0",
        "audio 0",
        "video 0",
        "video 40",
        "video 1000",
        "video 1040",
        ...PLAY_END,
      ]);
    });
  });
});

test("VodPlay.command() seek after the end plays again from the keyframe before the target", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.start("clip.flv", 0);
      await session.until(ended(session), "the end of the play");
      const before = session.messages.length;
      assertEquals(play.command(cmd(CommandName.Seek, 1030)), true);
      await session.until(
        () => session.messages.slice(before).some((m) => describe(m) === `status ${StatusCode.PlayStop}`),
        "the second end",
      );
      assertEquals(session.seen.slice(before), [
        `streamEof ${STREAM_ID}`,
        `status ${StatusCode.SeekNotify}`,
        `status ${StatusCode.PlayStart}`,
        `streamBegin ${STREAM_ID}`,
        "video 1000",
        "audio 1000",
        "video 1000",
        "audio 1020",
        "video 1040",
        ...PLAY_END,
      ]);
    });
  });
});

test("VodPlay.command() seek to a negative time plays from the first keyframe", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.start("clip.flv", 0);
      await session.until(ended(session), "the end of the play");
      const before = session.messages.length;
      play.command(cmd(CommandName.Seek, -5));
      await session.until(() => session.messages.length >= before + 4 + 8 + 3, "the replay");
      assertEquals(session.seen.slice(before + 4), [
        "video 0",
        "audio 0",
        "video 0",
        "audio 20",
        "video 40",
        "video 1000",
        "audio 1020",
        "video 1040",
        ...PLAY_END,
      ]);
    });
  });
});

test("VodPlay.command() pause stops the tags and unpause goes on from where they stopped", async () => {
  await withRoot(async (root) => {
    // No lead: the keyframe at 30 s waits, so the pause comes while the play is running.
    await withPlay(root, async ({ session, play }) => {
      play.start("long.flv", 0);
      await session.until(() => session.seen.filter((s) => s === "video 0").length === 2, "the first GOP");
      play.command(cmd(CommandName.Pause, true, 0));
      await session.until(() => session.seen.includes(`status ${StatusCode.PauseNotify}`), "Pause.Notify");
      play.command(cmd(CommandName.Pause, false, 0));
      await session.until(
        () => session.seen.includes(`status ${StatusCode.UnpauseNotify}`),
        "Unpause.Notify",
      );
      const head = PLAY_HEAD.filter((s) => s !== `data ${DataName.OnMetaData}`); // long.flv has none
      assertEquals(session.seen, [
        ...head,
        "video 0",
        "video 0",
        `status ${StatusCode.PauseNotify}`,
        `status ${StatusCode.UnpauseNotify}`,
      ]);
      // A seek to the waiting keyframe starts a new run: it is due at once.
      play.command(cmd(CommandName.Seek, 30_000));
      await session.until(ended(session), "the end of the play");
      assertEquals(session.seen.slice(head.length + 4), [
        `streamEof ${STREAM_ID}`,
        `status ${StatusCode.SeekNotify}`,
        `status ${StatusCode.PlayStart}`,
        `streamBegin ${STREAM_ID}`,
        "video 30000",
        "video 30000",
        ...PLAY_END,
      ]);
    }, 0);
  });
});

test("VodPlay.stop() ends a play that waits for its next tag, closes the file, and is idempotent", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.start("long.flv", 0);
      await session.until(() => session.seen.filter((s) => s === "video 0").length === 2, "the first GOP");
      const sent = session.messages.length;
      play.stop();
      play.stop();
      await new Promise((r) => setTimeout(r, 0));
      assertEquals(session.messages.length, sent, "nothing after stop()");
      assertEquals(session.closes, [], "stop() leaves closing to the session");
      // The resource sanitizer checks the file is closed.
    }, 0);
  });
});

test("VodPlay.stop() before the file opens sends nothing and leaves no file open", async () => {
  await withRoot(async (root) => {
    await withPlay(root, async ({ session, play }) => {
      play.start("clip.flv", 0);
      play.stop();
      await new Promise((r) => setTimeout(r, 0));
      assertEquals(session.messages, []);
      assertEquals(session.closes, []);
    });
  });
});

test("VodPlay closes the connection naming the play when the session's send fails", async () => {
  await withRoot(async (root) => {
    const session = new FakeVodSession();
    session.send = () => Promise.reject(new Error("connection reset"));
    const log = new RecordingLogger();
    const play = new VodPlay(session, { root, app: "vod", streamId: STREAM_ID, log, leadMs: LEAD_MS });
    try {
      play.start("clip.flv", 0);
      await session.until(() => session.closes.length > 0, "the close");
      assertEquals(session.closes, ["VOD play of vod/clip.flv failed: connection reset"]);
    } finally {
      play.stop();
    }
  });
});

// ---- vodPlayPath

Deno.test("vodPlayPath() is undefined when VOD is off or the app is not the VOD app", () => {
  assertStrictEquals(vodPlayPath({ root: null, app: "vod" }, "vod", "clip.flv"), undefined);
  const vod = { root: "/srv/vod", app: "vod" };
  assertStrictEquals(vodPlayPath(vod, "live", "clip.flv"), undefined);
  assertStrictEquals(vodPlayPath(vod, "vodka", "clip"), undefined, "a prefix of the app is not the app");
  assertStrictEquals(vodPlayPath(vod, "live/vod", "clip"), undefined);
});

Deno.test("vodPlayPath() maps app and name to the file below the root", () => {
  const vod = { root: "/srv/vod", app: "vod" };
  const cases: [app: string, name: string, path: string][] = [
    ["vod", "clip.flv", "clip.flv"],
    ["vod", "a/b.flv", "a/b.flv"], // Sluice's client: folders in the name
    ["vod/a", "b", "a/b.flv"], // ffmpeg and librtmp: folders in the app, ".flv" dropped
    ["vod/a/b", "c.flv", "a/b/c.flv"],
    ["vod", "clip", "clip.flv"], // ".flv" added when missing
    ["vod", "CLIP.FLV", "CLIP.FLV"], // the extension in any case
    ["vod", "flv:clip", "clip.flv"], // nginx-rtmp's format prefix dropped
    ["vod", "flv:clip.flv", "clip.flv"],
    ["vod", "clip.flv?token=abc", "clip.flv"], // a query dropped
    ["vod", "flv:a/b?x=1&y=2", "a/b.flv"],
    ["vod", "clip.mp4", "clip.mp4.flv"],
  ];
  for (const [app, name, path] of cases) assertEquals(vodPlayPath(vod, app, name), path, `${app} ${name}`);
});

Deno.test("vodPlayPath() leaves checking the path to vod_path.ts: dot segments pass through", () => {
  const vod = { root: "/srv/vod", app: "vod" };
  assertEquals(vodPlayPath(vod, "vod", "../secret"), "../secret.flv");
  assertEquals(vodPlayPath(vod, "vod/..", "secret"), "../secret.flv");
});

Deno.test("vodPlayPath() follows the configured VOD app", () => {
  const vod = { root: "/srv/vod", app: "files" };
  assertEquals(vodPlayPath(vod, "files", "clip"), "clip.flv");
  assertEquals(vodPlayPath(vod, "files/x", "clip"), "x/clip.flv");
  assertStrictEquals(vodPlayPath(vod, "vod", "clip"), undefined);
});

Deno.test("VodStatusCode and VodDataName name what FMS and nginx-rtmp send at a VOD play's end", () => {
  assertEquals(VodStatusCode.PlayComplete, "NetStream.Play.Complete");
  assertEquals(VodDataName.OnPlayStatus, "onPlayStatus");
  assert(!(Object.values(StatusCode) as string[]).includes(VodStatusCode.PlayComplete), "not in StatusCode");
});
