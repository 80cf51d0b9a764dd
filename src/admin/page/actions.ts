/**
 * What the page's buttons do. A button says it in attributes
 * (`data-action="stop" data-stream="live/cam"`, `data-action="kick"
 * data-client-id="7"`, `data-action="copy" data-copy="rtmp://..."`); one
 * delegated click listener reads them with `readAction()` and `runAction()`
 * does it through the small ActionEnv the page gives (confirm dialog, POST,
 * clipboard, preview, a notice), so each action is tested with fakes.
 *
 * Stop and Kick ask first (a confirm dialog) and POST same-origin with the
 * session cookie (`/api/v1/streams/{app}/{name}/stop`,
 * `/api/v1/clients/{id}/kick`); the answer's `{ "error": "Cannot ..." }` is shown as is.
 *
 * @module
 */
import { errorMessage, kickPath, stopPath } from "./api.ts";

/** The `data-action` values. */
export const Action = {
  /** Copies `data-copy` to the clipboard. */
  Copy: "copy",
  /** Stops the publisher of `data-stream` (after a confirm). */
  Stop: "stop",
  /** Kicks the session `data-client-id` (after a confirm). */
  Kick: "kick",
  /** Starts the preview player on `data-stream`. */
  Preview: "preview",
  /** Closes the preview player. */
  PreviewStop: "preview-stop",
} as const;
export type Action = typeof Action[keyof typeof Action];

/** A button's action, read from its attributes. */
export type PageCommand =
  | { action: typeof Action.Copy; text: string }
  | { action: typeof Action.Stop; key: string }
  | { action: typeof Action.Kick; id: string; label: string }
  | { action: typeof Action.Preview; key: string }
  | { action: typeof Action.PreviewStop };

/** What readAction() reads of an element. */
export interface ActionSource {
  getAttribute(name: string): string | null;
}

/** The answer of a POST, as runAction() reads it. */
export interface PostAnswer {
  status: number;
  body: unknown;
}

/** The kinds of notice. */
export const NoticeLevel = {
  Info: "info",
  Error: "error",
} as const;
export type NoticeLevel = typeof NoticeLevel[keyof typeof NoticeLevel];

/** What runAction() does its work through. */
export interface ActionEnv {
  /** A yes/no dialog. */
  confirm(message: string): boolean;
  /** A same-origin POST with credentials; resolves with the status and the parsed JSON body (or null). */
  post(path: string): Promise<PostAnswer>;
  /** Writes text to the clipboard. */
  copy(text: string): Promise<void>;
  /** Starts the preview on a stream. */
  preview(key: string): void;
  /** Closes the preview. */
  stopPreview(): void;
  /** Shows a short notice. */
  notify(message: string, level: NoticeLevel): void;
}

/** The command of an element with a `data-action`, or null when it has none or lacks what it needs. */
export function readAction(el: ActionSource): PageCommand | null {
  const action = el.getAttribute("data-action");
  const key = el.getAttribute("data-stream");
  switch (action) {
    case Action.Copy: {
      const text = el.getAttribute("data-copy");
      return text ? { action, text } : null;
    }
    case Action.Stop:
    case Action.Preview:
      return key ? { action, key } : null;
    case Action.Kick: {
      const id = el.getAttribute("data-client-id");
      return id ? { action, id, label: el.getAttribute("data-label") ?? "" } : null;
    }
    case Action.PreviewStop:
      return { action };
    default:
      return null;
  }
}

/** An error notice: the message as is when it says "Cannot ..." already (the API's errors do), else prefixed. */
export function cannot(what: string, message: string): string {
  return message.startsWith("Cannot ") ? message : `Cannot ${what}: ${message}`;
}

/** Does a command; never throws (a failure becomes an error notice). */
export async function runAction(cmd: PageCommand, env: ActionEnv): Promise<void> {
  try {
    switch (cmd.action) {
      case Action.Copy:
        await env.copy(cmd.text);
        env.notify(`Copied ${cmd.text}`, NoticeLevel.Info);
        return;
      case Action.Preview:
        env.preview(cmd.key);
        return;
      case Action.PreviewStop:
        env.stopPreview();
        return;
      case Action.Stop: {
        if (!env.confirm(`Stop the publisher of ${cmd.key}? Its players see the stream end.`)) return;
        const res = await env.post(stopPath(cmd.key));
        if (res.status === 200) env.notify(`Stopped ${cmd.key}`, NoticeLevel.Info);
        else env.notify(cannot(`stop ${cmd.key}`, errorMessage(res.status, res.body)), NoticeLevel.Error);
        return;
      }
      case Action.Kick: {
        const who = cmd.label ? `client ${cmd.id} (${cmd.label})` : `client ${cmd.id}`;
        if (!env.confirm(`Kick ${who}? Its connection is closed.`)) return;
        const res = await env.post(kickPath(cmd.id));
        if (res.status === 200) env.notify(`Kicked ${who}`, NoticeLevel.Info);
        else env.notify(cannot(`kick ${who}`, errorMessage(res.status, res.body)), NoticeLevel.Error);
        return;
      }
    }
  } catch (e) {
    env.notify(cannot(cmd.action, e instanceof Error ? e.message : String(e)), NoticeLevel.Error);
  }
}
