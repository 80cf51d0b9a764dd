/**
 * The page's controller: one SSE connection to `/api/v1/events` plus one
 * `GET /api/v1/history` and one `GET /api/v1/logs` at start, every event
 * through the reducer (state.ts) and the sample ring (series.ts), and at most
 * one redraw per frame. The browser (EventSource, fetch, requestAnimationFrame,
 * timers) is behind the small AppEnv it declares, so the whole flow is tested
 * with fakes.
 *
 * Policy:
 * - no polling: after the two start fetches everything comes from the feed;
 * - EventSource reconnects by itself after a dropped connection; when it
 *   gives up (an HTTP error such as 503, too many feeds; or 401) the app asks
 *   `/api/v1/server` once: 401 means signed out (no more retries), anything
 *   else reopens the feed after RECONNECT_MS, with one timer at a time;
 * - an event whose data is not a JSON object is dropped and counted.
 *
 * @module
 */
import {
  ApiPath,
  type ClosedSessionData,
  type HistoryJson,
  type LogEntry,
  type SessionSnapshot,
  type SnapshotData,
  SseEvent,
  STREAM_EVENTS,
  type StreamEventData,
} from "./api.ts";
import { SampleSeries } from "./series.ts";
import { ActionType, FeedStatus, initialState, type PageAction, type PageState, reduce } from "./state.ts";

/** How long after the feed gives up the app opens it again, ms. */
export const RECONNECT_MS = 5_000;

/** EventSource.readyState when it has given up (EventSource.CLOSED). */
export const FEED_CLOSED = 2;

/** HTTP 401, the answer that means the session is gone. */
const UNAUTHORIZED = 401;

/** One SSE message. */
export interface FeedMessage {
  readonly data: string;
}

/** The EventSource as the app uses it. */
export interface FeedSource {
  readonly readyState: number;
  onopen: (() => void) | null;
  onerror: (() => void) | null;
  addEventListener(type: string, listener: (ev: FeedMessage) => void): void;
  close(): void;
}

/** A JSON answer: its status and parsed body (null when the body is not JSON). */
export interface JsonAnswer {
  status: number;
  body: unknown;
}

/** What the app needs of the browser. */
export interface AppEnv {
  /** `new EventSource(url)` */
  openFeed(url: string): FeedSource;
  /** A same-origin GET with credentials. */
  getJson(path: string): Promise<JsonAnswer>;
  /** Draws a state (called at most once per scheduled frame). */
  render(state: PageState, series: SampleSeries): void;
  /** Runs `fn` before the next paint (requestAnimationFrame). */
  schedule(fn: () => void): void;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
  /** The browser's clock, ms since the epoch. */
  now(): number;
}

export class App {
  #env: AppEnv;
  #state: PageState;
  readonly series: SampleSeries;
  #feed: FeedSource | undefined;
  #retry: number | undefined;
  #renderPending = false;
  #stopped = false;
  #badEvents = 0;

  constructor(env: AppEnv, series: SampleSeries = new SampleSeries()) {
    this.#env = env;
    this.series = series;
    this.#state = initialState(env.now());
  }

  get state(): PageState {
    return this.#state;
  }

  /** Events dropped because their data was not a JSON object. */
  get badEvents(): number {
    return this.#badEvents;
  }

  /** Opens the feed and fetches the history and the last log lines. */
  start(): Promise<void> {
    this.#open();
    this.#scheduleRender();
    return Promise.all([this.#loadHistory(), this.#loadLogs()]).then(() => {});
  }

  /** Closes the feed and drops the retry timer. */
  stop(): void {
    this.#stopped = true;
    this.#feed?.close();
    this.#feed = undefined;
    if (this.#retry !== undefined) this.#env.clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  /** Applies an action and schedules a redraw. */
  dispatch(action: PageAction): void {
    const next = reduce(this.#state, action);
    if (next === this.#state) return;
    this.#state = next;
    this.#scheduleRender();
  }

  /** Schedules a redraw of the same state (the colour scheme or the width changed). */
  redraw(): void {
    this.#scheduleRender();
  }

  #scheduleRender(): void {
    if (this.#renderPending) return;
    this.#renderPending = true;
    this.#env.schedule(() => {
      this.#renderPending = false;
      if (!this.#stopped) this.#env.render(this.#state, this.series);
    });
  }

  /** An event's data as a JSON object; undefined (and counted) when it is not one. */
  #object(ev: FeedMessage): Record<string, unknown> | undefined {
    try {
      const data: unknown = JSON.parse(ev.data);
      if (typeof data === "object" && data !== null && !Array.isArray(data)) {
        return data as Record<string, unknown>;
      }
    } catch {
      // counted below
    }
    this.#badEvents++;
    return undefined;
  }

  #open(): void {
    if (this.#stopped) return;
    const feed = this.#env.openFeed(ApiPath.Events);
    this.#feed = feed;
    feed.onopen = () => this.dispatch({ type: ActionType.Feed, status: FeedStatus.Live });
    feed.onerror = () => this.#lost(feed);
    feed.addEventListener(SseEvent.Snapshot, (ev) => {
      const data = this.#object(ev) as Partial<SnapshotData> | undefined;
      if (!data?.server || !Array.isArray(data.streams) || !Array.isArray(data.clients)) return;
      if (data.sample) this.series.push(data.sample);
      this.dispatch({ type: ActionType.Snapshot, data: data as SnapshotData });
    });
    for (const event of STREAM_EVENTS) {
      feed.addEventListener(event, (ev) => {
        const data = this.#object(ev);
        if (typeof data?.key !== "string") return;
        this.dispatch({ type: ActionType.StreamEvent, event, data: data as unknown as StreamEventData });
      });
    }
    feed.addEventListener(SseEvent.Connect, (ev) => {
      const data = this.#object(ev);
      if (typeof data?.id === "string") {
        this.dispatch({ type: ActionType.Connect, data: data as unknown as SessionSnapshot });
      }
    });
    feed.addEventListener(SseEvent.Close, (ev) => {
      const data = this.#object(ev);
      if (typeof data?.id === "string") {
        this.dispatch({ type: ActionType.Close, data: data as unknown as ClosedSessionData });
      }
    });
    feed.addEventListener(SseEvent.Log, (ev) => {
      const data = this.#object(ev);
      if (typeof data?.line === "string") {
        this.dispatch({ type: ActionType.Log, data: data as unknown as LogEntry });
      }
    });
  }

  #lost(feed: FeedSource): void {
    if (feed !== this.#feed || this.#stopped) return;
    this.dispatch({ type: ActionType.Feed, status: FeedStatus.Lost });
    if (feed.readyState !== FEED_CLOSED) return; // EventSource retries by itself
    feed.close();
    this.#feed = undefined;
    this.#env.getJson(ApiPath.Server).then(
      (res) => this.#afterProbe(res.status),
      () => this.#afterProbe(0),
    );
  }

  #afterProbe(status: number): void {
    if (this.#stopped) return;
    if (status === UNAUTHORIZED) {
      this.dispatch({ type: ActionType.Feed, status: FeedStatus.SignedOut });
      return;
    }
    if (this.#retry !== undefined) return;
    this.#retry = this.#env.setTimeout(() => {
      this.#retry = undefined;
      this.dispatch({ type: ActionType.Feed, status: FeedStatus.Connecting });
      this.#open();
    }, RECONNECT_MS);
  }

  async #loadHistory(): Promise<void> {
    const res = await this.#env.getJson(ApiPath.History).catch(() => undefined);
    if (!res) return;
    if (res.status === UNAUTHORIZED) return this.#signedOut();
    const body = res.body as HistoryJson | null;
    if (res.status !== 200 || !body?.server?.t) return;
    this.series.load(body);
    this.#scheduleRender();
  }

  async #loadLogs(): Promise<void> {
    const res = await this.#env.getJson(ApiPath.Logs).catch(() => undefined);
    if (!res) return;
    if (res.status === UNAUTHORIZED) return this.#signedOut();
    const logs = (res.body as { logs?: LogEntry[] } | null)?.logs;
    if (res.status !== 200 || !Array.isArray(logs)) return;
    this.dispatch({ type: ActionType.Logs, data: logs });
  }

  #signedOut(): void {
    this.dispatch({ type: ActionType.Feed, status: FeedStatus.SignedOut });
    this.#feed?.close();
    this.#feed = undefined;
  }
}
