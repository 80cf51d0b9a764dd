import { assertEquals } from "../../_util/assert.ts";
import {
  type ActionEnv,
  cannot,
  NoticeLevel,
  type PageCommand,
  type PostAnswer,
  readAction,
  runAction,
} from "../../../src/admin/page/actions.ts";

/** An element with attributes. */
function el(attrs: Record<string, string>): { getAttribute(name: string): string | null } {
  return { getAttribute: (name) => attrs[name] ?? null };
}

/** An ActionEnv that records what it is asked and answers as told. */
class FakeEnv implements ActionEnv {
  calls: string[] = [];
  notices: [string, NoticeLevel][] = [];
  answer: PostAnswer | Error = { status: 200, body: {} };
  yes = true;
  confirm(message: string): boolean {
    this.calls.push(`confirm ${message}`);
    return this.yes;
  }
  post(path: string): Promise<PostAnswer> {
    this.calls.push(`post ${path}`);
    return this.answer instanceof Error ? Promise.reject(this.answer) : Promise.resolve(this.answer);
  }
  copy(text: string): Promise<void> {
    this.calls.push(`copy ${text}`);
    return Promise.resolve();
  }
  preview(key: string): void {
    this.calls.push(`preview ${key}`);
  }
  stopPreview(): void {
    this.calls.push("stopPreview");
  }
  notify(message: string, level: NoticeLevel): void {
    this.notices.push([message, level]);
  }
}

Deno.test("readAction() reads each button's command from its data attributes", () => {
  assertEquals(readAction(el({ "data-action": "stop", "data-stream": "live/cam" })), {
    action: "stop",
    key: "live/cam",
  });
  assertEquals(
    readAction(el({ "data-action": "kick", "data-client-id": "7", "data-label": "rtmp player" })),
    {
      action: "kick",
      id: "7",
      label: "rtmp player",
    },
  );
  assertEquals(readAction(el({ "data-action": "copy", "data-copy": "rtmp://h/live/cam" })), {
    action: "copy",
    text: "rtmp://h/live/cam",
  });
  assertEquals(readAction(el({ "data-action": "preview", "data-stream": "live/cam" })), {
    action: "preview",
    key: "live/cam",
  });
  assertEquals(readAction(el({ "data-action": "preview-stop" })), { action: "preview-stop" });
});

Deno.test("readAction() gives null for an unknown action or one missing what it needs", () => {
  assertEquals(readAction(el({})), null);
  assertEquals(readAction(el({ "data-action": "explode" })), null);
  assertEquals(readAction(el({ "data-action": "stop" })), null);
  assertEquals(readAction(el({ "data-action": "kick" })), null);
  assertEquals(readAction(el({ "data-action": "copy" })), null);
});

Deno.test("runAction() stops a stream after a confirm, with a POST to its stop path", async () => {
  const env = new FakeEnv();
  await runAction({ action: "stop", key: "live/cam" }, env);
  assertEquals(env.calls, [
    "confirm Stop the publisher of live/cam? Its players see the stream end.",
    "post /api/v1/streams/live/cam/stop",
  ]);
  assertEquals(env.notices, [["Stopped live/cam", NoticeLevel.Info]]);
});

Deno.test("runAction() does nothing when the confirm is declined", async () => {
  const env = new FakeEnv();
  env.yes = false;
  await runAction({ action: "kick", id: "7", label: "" }, env);
  assertEquals(env.calls, ["confirm Kick client 7? Its connection is closed."]);
  assertEquals(env.notices, []);
});

Deno.test("runAction() kicks a client with a POST to its kick path and names it", async () => {
  const env = new FakeEnv();
  await runAction({ action: "kick", id: "7", label: "rtmp player 10.0.0.2:6000" }, env);
  assertEquals(env.calls[1], "post /api/v1/clients/7/kick");
  assertEquals(env.notices, [["Kicked client 7 (rtmp player 10.0.0.2:6000)", NoticeLevel.Info]]);
});

Deno.test("runAction() shows the API's error message when the POST is refused", async () => {
  const env = new FakeEnv();
  env.answer = { status: 404, body: { error: "Cannot stop live/cam: it has no publisher" } };
  await runAction({ action: "stop", key: "live/cam" }, env);
  assertEquals(env.notices, [["Cannot stop live/cam: it has no publisher", NoticeLevel.Error]]);
  env.notices = [];
  env.answer = { status: 502, body: "<html>bad gateway</html>" };
  await runAction({ action: "stop", key: "live/cam" }, env);
  assertEquals(env.notices, [["Cannot stop live/cam: HTTP 502", NoticeLevel.Error]]);
});

Deno.test("runAction() turns a failed request into an error notice instead of throwing", async () => {
  const env = new FakeEnv();
  env.answer = new TypeError("Failed to fetch");
  await runAction({ action: "kick", id: "3", label: "" }, env);
  assertEquals(env.notices, [["Cannot kick: Failed to fetch", NoticeLevel.Error]]);
});

Deno.test("cannot() keeps a message that says Cannot already and prefixes any other", () => {
  assertEquals(cannot("preview", "Cannot preview: no MSE"), "Cannot preview: no MSE");
  assertEquals(cannot("copy", "denied"), "Cannot copy: denied");
});

Deno.test("runAction() copies, previews and closes the preview through the env", async () => {
  const env = new FakeEnv();
  const cmds: PageCommand[] = [
    { action: "copy", text: "ws://h/live/cam.flv" },
    { action: "preview", key: "live/cam" },
    { action: "preview-stop" },
  ];
  for (const c of cmds) await runAction(c, env);
  assertEquals(env.calls, ["copy ws://h/live/cam.flv", "preview live/cam", "stopPreview"]);
  assertEquals(env.notices, [["Copied ws://h/live/cam.flv", NoticeLevel.Info]]);
});
