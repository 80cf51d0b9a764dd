import { assert, assertEquals } from "../_util/assert.ts";
import { FakeClock, RecordingHub } from "../_util/ingest_fakes.ts";
import { avcKeyframe, avcSequenceHeader, RecordingLogger } from "../_util/hub_fakes.ts";
import { waitFor } from "../_util/live.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { concat, PPS_BASELINE, SPS_BASELINE_320X180_HEX } from "../fixtures/nal_fixtures.ts";
import type { SourceConfig } from "../../src/config/config.ts";
import { FlvPublisher } from "../../src/ingest/flv_publisher.ts";
import {
  FileKind,
  FileSource,
  missingReadPermissionMessage,
  readPermissionProblem,
  sniffFileKind,
  type SourceContext,
  Sources,
} from "../../src/ingest/sources.ts";
import { allow, deny, DenyKind } from "../../src/hub/admission.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { TagType } from "../../src/media/flv.ts";
import { decodeAmf0 } from "../../src/amf/amf0.ts";
import { encodeData } from "../../src/rtmp/command.ts";
import { flvFileHeader, packTags } from "../../src/wasm/flv_pack.ts";

/** Constrained Baseline 320x180 at 25 fps (VUI timing): SPS, PPS, then an IDR and two non-IDR pictures. */
const ANNEXB = concat([
  hex("00 00 00 01"),
  SPS_BASELINE_320X180_HEX,
  hex("00 00 00 01"),
  PPS_BASELINE,
  hex("00 00 00 01 65 88 84 00 33 ff"), // IDR slice, first_mb 0
  hex("00 00 00 01 41 9a 00 11"), // non-IDR slice, first_mb 0
  hex("00 00 00 01 41 9a 00 22"),
]);

function context(
  overrides: Partial<SourceContext> = {},
): SourceContext & { hub: RecordingHub; log: RecordingLogger } {
  return {
    hub: new RecordingHub(),
    log: new RecordingLogger(),
    clock: new FakeClock(),
    queryRead: () => Promise.resolve("granted"),
    ...overrides,
  } as SourceContext & { hub: RecordingHub; log: RecordingLogger };
}

async function withFile(
  bytes: Uint8Array,
  fn: (path: string) => Promise<void>,
  suffix = ".h264",
): Promise<void> {
  const path = await Deno.makeTempFile({ suffix });
  try {
    await Deno.writeFile(path, bytes);
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

function errors(log: RecordingLogger): string[] {
  return log.lines.filter((l) => l.level === "error").map((l) => l.msg);
}

Deno.test("sniffFileKind() tells FLV from Annex B by the first bytes", () => {
  assertEquals(sniffFileKind(hex("46 4c 56 01")), FileKind.Flv);
  assertEquals(sniffFileKind(hex("00 00 00 01")), FileKind.AnnexB);
  assertEquals(sniffFileKind(hex("00 00 01 67")), FileKind.AnnexB);
  assertEquals(sniffFileKind(hex("1a 45 df a3")), undefined);
  assertEquals(sniffFileKind(hex("00 00")), undefined);
});

Deno.test("missingReadPermissionMessage() says exactly which flag to add", () => {
  assertEquals(
    missingReadPermissionMessage("./clip.h264"),
    "Cannot read ./clip.h264: run with --allow-read (deno run --allow-net --allow-read server.ts ...)",
  );
});

Deno.test("readPermissionProblem() gives the message unless the read permission is granted", async () => {
  const asked: string[] = [];
  const answer = (state: Deno.PermissionState) => (path: string) => {
    asked.push(path);
    return Promise.resolve(state);
  };
  assertEquals(await readPermissionProblem("a.h264", answer("granted")), undefined);
  assertEquals(
    await readPermissionProblem("a.h264", answer("prompt")),
    missingReadPermissionMessage("a.h264"),
  );
  assertEquals(
    await readPermissionProblem("a.h264", answer("denied")),
    missingReadPermissionMessage("a.h264"),
  );
  assertEquals(asked, ["a.h264", "a.h264", "a.h264"]);
});

Deno.test("FileSource without the read permission logs the flag to add once and publishes nothing", async () => {
  const ctx = context({ queryRead: () => Promise.resolve("prompt") });
  const source = new FileSource({ key: "live/a", path: "./clip.h264", loop: true }, ctx);
  source.start();
  await source.done;
  assertEquals(errors(ctx.log), [missingReadPermissionMessage("./clip.h264")]);
  assertEquals(ctx.hub.publishers.size, 0);
});

Deno.test("FileSource of a missing file logs an error naming the path", async () => {
  const ctx = context();
  const path = `${await Deno.makeTempDir()}/missing.h264`;
  const source = new FileSource({ key: "live/a", path, loop: true }, ctx);
  source.start();
  await source.done;
  assertEquals(errors(ctx.log), [`Cannot read ${path}: no such file`]);
  await Deno.remove(path.slice(0, path.lastIndexOf("/")));
});

Deno.test("FileSource of a file that is neither FLV nor Annex B says so", async () => {
  await withFile(new TextEncoder().encode("hello world"), async (path) => {
    const ctx = context();
    const source = new FileSource({ key: "live/a", path, loop: true }, ctx);
    source.start();
    await source.done;
    assertEquals(errors(ctx.log), [`Cannot play ${path}: it is not an FLV file or an H.264 Annex B stream`]);
    assertEquals(ctx.hub.publishers.size, 0);
  });
});

Deno.test("FileSource plays an Annex B file once: the sequence header, every picture, then it unpublishes", async () => {
  await withFile(ANNEXB, async (path) => {
    const ctx = context();
    const source = new FileSource({ key: "live/a", path, loop: false }, ctx);
    source.start();
    await source.done;
    assertEquals(ctx.hub.pushed.map((p) => [p.kind, p.timestamp, p.payload[0], p.payload[1]]), [
      [FrameKind.Video, 0, 0x17, 0], // sequence header
      [FrameKind.Video, 0, 0x17, 1], // IDR
      [FrameKind.Video, 40, 0x27, 1],
      [FrameKind.Video, 80, 0x27, 1],
    ]);
    assertEquals(ctx.hub.unpublished, ["live/a"]);
    assert(ctx.log.lines.some((l) => l.msg === "H.264 320x180, 25 fps (from the SPS timing)"));
    assert(
      ctx.log.lines.some((l) => /^closed: .*: end of file$/.test(l.msg)),
      "one close line with the reason",
    );
  });
});

Deno.test("FileSource plays an FLV file with the file-only metadata keys dropped", async () => {
  const flv = concat([
    flvFileHeader({ audio: false, video: true }),
    packTags([
      { type: TagType.ScriptData, timestamp: 0, data: encodeData("onMetaData", { duration: 3, width: 320 }) },
      { type: TagType.Video, timestamp: 0, data: avcSequenceHeader() },
      { type: TagType.Video, timestamp: 0, data: avcKeyframe() },
    ]),
  ]);
  await withFile(flv, async (path) => {
    const ctx = context();
    const source = new FileSource({ key: "live/a", path, loop: false }, ctx);
    source.start();
    await source.done;
    assertEquals(ctx.hub.pushed.map((p) => p.kind), ["metadata", FrameKind.Video, FrameKind.Video]);
    assertEquals(decodeAmf0(ctx.hub.pushed[0].payload), ["onMetaData", { width: 320 }]);
  }, ".flv");
});

Deno.test("FileSource of a name that is already published logs it and leaves the publisher alone", async () => {
  await withFile(ANNEXB, async (path) => {
    const ctx = context();
    new FlvPublisher("live/a", "rtmp 127.0.0.1:1", ctx.hub).start();
    const source = new FileSource({ key: "live/a", path, loop: true }, ctx);
    source.start();
    await source.done;
    assertEquals(errors(ctx.log), [`Cannot publish live/a from ${path}: it is already published`]);
    assertEquals(ctx.hub.pushed, []);
  });
});

Deno.test("Sources.stop() ends looping sources in real time and unpublishes them", async () => {
  await withFile(ANNEXB, async (path) => {
    const ctx = context({ clock: undefined });
    const configs: SourceConfig[] = [{ key: "live/a", path, loop: true }, {
      key: "live/b",
      path,
      loop: true,
    }];
    const sources = new Sources(configs, ctx);
    sources.start();
    await waitFor(() => ctx.hub.pushed.length >= 8, "a few pictures of both sources");
    await sources.stop();
    assertEquals(ctx.hub.unpublished.sort(), ["live/a", "live/b"]);
    assert(ctx.log.lines.filter((l) => /^closed: .*: server stopping$/.test(l.msg)).length === 2);
  });
});

Deno.test("FileSource stops when the hub closes its publisher (takeover)", async () => {
  await withFile(ANNEXB, async (path) => {
    const ctx = context({ clock: undefined });
    const source = new FileSource({ key: "live/a", path, loop: true }, ctx);
    source.start();
    await waitFor(() => ctx.hub.pushed.length >= 2, "the first picture");
    source.publisher!.close("taken over by rtmp 127.0.0.1:2");
    await source.done;
    assert(ctx.log.lines.some((l) => /^closed: .*: taken over by rtmp 127\.0\.0\.1:2$/.test(l.msg)));
  });
});

Deno.test("FileSource asks the gate before publishing: protocol file, app, name, key, an empty query, no remote", async () => {
  await withFile(ANNEXB, async (path) => {
    const ctx = context();
    const source = new FileSource({ key: "live/a", path, loop: false }, ctx);
    source.start();
    await source.done;
    assertEquals(ctx.hub.admissions, [
      { action: "publish", protocol: "file", app: "live", name: "a", key: "live/a", query: {} },
    ]);
    assertEquals(ctx.hub.pushed.length, 4, "allowed: it played");
  });
});

Deno.test("FileSource the gate denies logs one error naming the key and the reason and publishes nothing; another source still plays", async () => {
  await withFile(ANNEXB, async (path) => {
    const ctx = context();
    ctx.hub.decide = (req) =>
      req.key === "live/denied" ? deny("not on the list", DenyKind.Forbidden) : allow();
    const sources = new Sources([
      { key: "live/denied", path, loop: false },
      { key: "live/ok", path, loop: false },
    ], ctx);
    sources.start();
    await Promise.all(sources.sources.map((s) => s.done));
    assertEquals(errors(ctx.log), [`Cannot publish live/denied from ${path}: denied: not on the list`]);
    assertEquals(sources.sources[0].publisher, undefined);
    assertEquals(ctx.hub.unpublished, ["live/ok"], "only the allowed source was ever published");
    assertEquals(ctx.hub.pushed.length, 4, "the allowed source played every picture");
    assertEquals(ctx.hub.sessions.totals().opened, 1, "the denied source never registered");
  });
});

Deno.test("FileSource is in the session registry while it plays (file, publisher, no remote, tag bytes in) and leaves it when it stops", async () => {
  await withFile(ANNEXB, async (path) => {
    const ctx = context({ clock: undefined });
    const closes: string[] = [];
    ctx.hub.sessions.on((ev) => ev.type === "close" && closes.push(ev.reason ?? ""));
    const source = new FileSource({ key: "live/a", path, loop: true }, ctx);
    source.start();
    await waitFor(() => ctx.hub.pushed.length >= 2, "the first picture");
    const [session] = ctx.hub.sessions.list();
    assertEquals([session.protocol, session.role, session.key, session.remote], [
      "file",
      "publisher",
      "live/a",
      undefined,
    ]);
    assertEquals(session.bytesIn, source.publisher!.counts.bytes);
    assert(session.bytesIn > 0);
    assertEquals(ctx.hub.publishers.get("live/a")?.protocol, "file");
    assert(ctx.hub.sessions.get(session.id)!.kick("kicked by admin"));
    await source.done;
    assertEquals(ctx.hub.sessions.list(), []);
    assertEquals(closes, ["kicked by admin"]);
    assert(ctx.log.lines.some((l) => /^closed: .*: kicked by admin$/.test(l.msg)));
  });
});

Deno.test("FileSource.stop() while the gate decides gives up on the answer and publishes nothing", async () => {
  await withFile(ANNEXB, async (path) => {
    const ctx = context();
    ctx.hub.decide = () => new Promise(() => {}); // never answers
    const source = new FileSource({ key: "live/a", path, loop: true }, ctx);
    source.start();
    await waitFor(() => ctx.hub.admissions.length === 1, "the source to ask the gate");
    await source.stop(); // returns although the gate never answers
    assertEquals(ctx.hub.publishers.size, 0);
    assertEquals(errors(ctx.log), []);
  });
});
