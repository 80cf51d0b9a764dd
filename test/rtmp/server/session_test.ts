/**
 * The server session's state machine, spoken to by hand over a raw socket:
 * what a client may send in which order (nginx-rtmp closes a connection that
 * publishes or plays before `connect`; so does Sluice), and what it answers.
 */
import { assert, assertEquals } from "../../_util/assert.ts";
import { type LiveServer, startServer, test, waitFor } from "../../_util/live.ts";
import { rawHandshake, readMessagesToClose, writeAll } from "../../_util/raw_rtmp.ts";
import { ManualAdmission } from "../../_util/hub_fakes.ts";
import { allow } from "../../../src/hub/admission.ts";
import {
  commandMessage,
  CommandName,
  decodeCommand,
  encodeCommand,
  StatusCode,
} from "../../../src/rtmp/command.ts";
import { MessageType, type RtmpMessage } from "../../../src/rtmp/message.ts";
import { encodeMessage } from "../../../src/wasm/chunk_writer.ts";

/** A command as a client sends it: chunked in the initial chunk size, 128. */
function command(
  streamId: number,
  name: string,
  tid: number,
  ...args: (string | number | null)[]
): Uint8Array {
  return encodeMessage(commandMessage(streamId, encodeCommand(name, tid, null, ...args)), 128);
}

function connect(tid = 1): Uint8Array {
  return encodeMessage(
    commandMessage(
      0,
      encodeCommand(CommandName.Connect, tid, { app: "live", tcUrl: "rtmp://127.0.0.1/live" }),
    ),
    128,
  );
}

/** The onStatus codes among `msgs`. */
function statusCodes(msgs: RtmpMessage[]): string[] {
  return msgs
    .filter((m) => m.typeId === MessageType.CommandAmf0)
    .map((m) => decodeCommand(m))
    .filter((c) => c.name === CommandName.OnStatus)
    .map((c) => String((c.args[0] as Record<string, unknown>)?.code));
}

function logged(server: LiveServer, re: RegExp): boolean {
  return server.logs.some((l) => re.test(l));
}

for (const name of [CommandName.Publish, CommandName.Play]) {
  test(`RtmpSession refuses ${name} before connect: no status comes back and the connection closes`, async () => {
    const server = await startServer({ hub: { playWaitMs: 0 } });
    try {
      const raw = await rawHandshake(server.sluice.rtmpPort);
      await writeAll(raw, command(1, name, 0, "cam"));
      const got = await readMessagesToClose(raw);
      assertEquals(statusCodes(got), [], "the server answered a command sent before connect");
      await waitFor(
        () => logged(server, new RegExp(`closed: no stream, .*protocol violation: ${name} before connect`)),
        "the close reason in the log",
      );
    } finally {
      await server.stop();
    }
  });

  test(`RtmpSession refuses ${name} on a message stream createStream did not create`, async () => {
    const server = await startServer({ hub: { playWaitMs: 0 } });
    try {
      const raw = await rawHandshake(server.sluice.rtmpPort);
      await writeAll(raw, connect());
      await writeAll(raw, command(1, name, 0, "cam"));
      const got = await readMessagesToClose(raw);
      assertEquals(statusCodes(got), [], `the server answered ${name} on an uncreated stream`);
      await waitFor(
        () => logged(server, /protocol violation: .* on message stream 1, which createStream did not create/),
        "the close reason in the log",
      );
    } finally {
      await server.stop();
    }
  });
}

test("RtmpSession refuses releaseStream before connect", async () => {
  const server = await startServer();
  try {
    const raw = await rawHandshake(server.sluice.rtmpPort);
    await writeAll(raw, command(0, CommandName.ReleaseStream, 2, "cam"));
    const got = await readMessagesToClose(raw);
    assertEquals(got.filter((m) => m.typeId === MessageType.CommandAmf0), []);
    await waitFor(() => logged(server, /protocol violation: releaseStream before connect/), "the log");
  } finally {
    await server.stop();
  }
});

test("RtmpSession answers connect, createStream and publish in order and publishes the stream", async () => {
  const server = await startServer();
  try {
    const raw = await rawHandshake(server.sluice.rtmpPort);
    await writeAll(raw, connect(1));
    await writeAll(raw, command(0, CommandName.CreateStream, 2));
    await writeAll(raw, command(1, CommandName.Publish, 0, "cam", "live"));
    await waitFor(() => server.sluice.hub.get("live/cam") !== undefined, "the stream in the hub");
    raw.closeWrite();
    const got = await readMessagesToClose(raw);
    const commands = got.filter((m) => m.typeId === MessageType.CommandAmf0).map((m) => decodeCommand(m));
    assertEquals(commands.map((c) => c.name).slice(0, 2), [CommandName.Result, CommandName.Result]);
    assertEquals(commands[1].args[0], 1, "createStream's _result carries stream id 1");
    assert(statusCodes(got).includes(StatusCode.PublishStart), "Publish.Start came back");
  } finally {
    await server.stop();
  }
});

test("RtmpSession closes a second connect as a protocol violation", async () => {
  const server = await startServer();
  try {
    const raw = await rawHandshake(server.sluice.rtmpPort);
    await writeAll(raw, connect(1));
    await writeAll(raw, connect(2));
    await readMessagesToClose(raw);
    await waitFor(() => logged(server, /protocol violation: a second connect/), "the log");
  } finally {
    await server.stop();
  }
});

test("RtmpSession holds what comes while the gate decides, and closes past rtmp.maxMessageLength of it", async () => {
  const server = await startServer({ rtmp: { maxMessageLength: 65_536 } });
  const policy = new ManualAdmission();
  server.sluice.hub.admission = policy;
  try {
    const raw = await rawHandshake(server.sluice.rtmpPort);
    await writeAll(raw, connect(1));
    await writeAll(raw, command(0, CommandName.CreateStream, 2));
    await writeAll(raw, command(1, CommandName.Publish, 0, "held", "live"));
    await waitFor(() => policy.waiting === 1, "the publish at the gate");
    const audio = (ts: number) =>
      encodeMessage({
        csid: 4,
        typeId: MessageType.Audio,
        streamId: 1,
        timestamp: ts,
        payload: new Uint8Array(1000),
      }, 128);
    for (let i = 0; i < 70; i++) await writeAll(raw, audio(i * 20));
    await readMessagesToClose(raw);
    await waitFor(
      () => logged(server, /protocol violation: \d+ B sent while the admission gate decided \(limit 65536\)/),
      "the close reason in the log",
    );
    assertEquals(server.sluice.hub.get("live/held"), undefined);
    policy.answer(allow());
  } finally {
    await server.stop();
  }
});
