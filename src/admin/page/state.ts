/**
 * What the page shows, as one value, and the reducer that moves it on:
 * `reduce(state, action)` for every snapshot, stream event, session event,
 * log line and feed status change. Pure: the views draw a state, the app
 * feeds actions in; both have tests without a browser.
 *
 * Policy:
 * - a `snapshot` replaces the server, streams and clients wholesale (the
 *   server's view wins); events between snapshots patch them so a kick or an
 *   unpublish shows at once;
 * - the log ring keeps the newest MAX_LOG_LINES lines; the clients list the
 *   newest MAX_CLIENTS (the server bounds both too, the page does not trust
 *   it to);
 * - `now` is the server's clock (startedAt + uptimeMs of the last snapshot),
 *   so ages read right on a browser whose clock is off.
 *
 * @module
 */
import {
  type ClosedSessionData,
  epochMs,
  type LogEntry,
  type ServerView,
  type SessionSnapshot,
  type SnapshotData,
  SseEvent,
  type StreamEventData,
  StreamState,
  type StreamView,
} from "./api.ts";

/** Log lines kept (the API's ring holds 200 by default). */
export const MAX_LOG_LINES = 200;
/** Clients kept between snapshots (a connect burst past it drops the oldest). */
export const MAX_CLIENTS = 5_000;
/** Streams kept. */
export const MAX_STREAMS = 1_000;

/** Where the SSE feed is. */
export const FeedStatus = {
  /** Not opened yet, or reopening after a failure. */
  Connecting: "connecting",
  /** Open: events arrive. */
  Live: "live",
  /** Lost: EventSource retries by itself, or the app reopens it later. */
  Lost: "lost",
  /** The server answered 401: the user must log in again. */
  SignedOut: "signed-out",
} as const;
export type FeedStatus = typeof FeedStatus[keyof typeof FeedStatus];

/** The page's state. */
export interface PageState {
  feed: FeedStatus;
  server: ServerView | null;
  streams: readonly StreamView[];
  clients: readonly SessionSnapshot[];
  /** Oldest first. */
  logs: readonly LogEntry[];
  /** The server's clock at the last snapshot (ms since the epoch); the browser's until one arrives. */
  now: number;
  /** The stream being previewed, if any. */
  previewKey: string | null;
  /** The clients list's filter text. */
  clientFilter: string;
}

/** The kinds of action. */
export const ActionType = {
  Snapshot: "snapshot",
  StreamEvent: "stream-event",
  Connect: "connect",
  Close: "close",
  Log: "log",
  Logs: "logs",
  Feed: "feed",
  Preview: "preview",
  Filter: "filter",
} as const;
export type ActionType = typeof ActionType[keyof typeof ActionType];

/** What can happen to the state. */
export type PageAction =
  | { type: typeof ActionType.Snapshot; data: SnapshotData }
  | { type: typeof ActionType.StreamEvent; event: string; data: StreamEventData }
  | { type: typeof ActionType.Connect; data: SessionSnapshot }
  | { type: typeof ActionType.Close; data: ClosedSessionData }
  | { type: typeof ActionType.Log; data: LogEntry }
  | { type: typeof ActionType.Logs; data: readonly LogEntry[] }
  | { type: typeof ActionType.Feed; status: FeedStatus }
  | { type: typeof ActionType.Preview; key: string | null }
  | { type: typeof ActionType.Filter; text: string };

/** The state before anything arrived. */
export function initialState(now: number): PageState {
  return {
    feed: FeedStatus.Connecting,
    server: null,
    streams: [],
    clients: [],
    logs: [],
    now,
    previewKey: null,
    clientFilter: "",
  };
}

/** The newest `max` of `items`. */
function newest<T>(items: readonly T[], max: number): readonly T[] {
  return items.length > max ? items.slice(items.length - max) : items;
}

function byKey(a: StreamView, b: StreamView): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Session ids are "1", "2", ...: numeric order when both are numbers, else text order. */
function byId(a: SessionSnapshot, b: SessionSnapshot): number {
  const x = Number(a.id), y = Number(b.id);
  if (Number.isFinite(x) && Number.isFinite(y) && x !== y) return x - y;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The server's clock at a snapshot: its start plus its uptime. */
function serverNow(server: ServerView, fallback: number): number {
  const started = epochMs(server.startedAt);
  return Number.isFinite(started) ? started + server.uptimeMs : fallback;
}

function streamEvent(state: PageState, event: string, data: StreamEventData): PageState {
  if (event === SseEvent.End) {
    return { ...state, streams: state.streams.filter((s) => s.key !== data.key) };
  }
  if (event === SseEvent.Unpublish) {
    return {
      ...state,
      streams: state.streams.map((s) =>
        s.key === data.key ? { ...s, state: StreamState.Grace, publisher: null } : s
      ),
    };
  }
  if (event === SseEvent.Resume) {
    return {
      ...state,
      streams: state.streams.map((s) => s.key === data.key ? { ...s, state: StreamState.Live } : s),
    };
  }
  return state; // publish: the next snapshot brings the stream with its URLs
}

/** The state after `action`. */
export function reduce(state: PageState, action: PageAction): PageState {
  switch (action.type) {
    case ActionType.Snapshot: {
      const { server, streams, clients } = action.data;
      return {
        ...state,
        feed: FeedStatus.Live,
        server,
        streams: newest([...streams].sort(byKey), MAX_STREAMS),
        clients: newest([...clients].sort(byId), MAX_CLIENTS),
        now: serverNow(server, state.now),
      };
    }
    case ActionType.StreamEvent:
      return streamEvent(state, action.event, action.data);
    case ActionType.Connect: {
      if (state.clients.some((c) => c.id === action.data.id)) return state;
      return { ...state, clients: newest([...state.clients, action.data].sort(byId), MAX_CLIENTS) };
    }
    case ActionType.Close:
      return { ...state, clients: state.clients.filter((c) => c.id !== action.data.id) };
    case ActionType.Log:
      return { ...state, logs: newest([...state.logs, action.data], MAX_LOG_LINES) };
    case ActionType.Logs: {
      // The initial fetch: lines the feed already brought stay, after the fetched ones.
      const seen = new Set(action.data.map((l) => `${l.at}\n${l.line}`));
      const extra = state.logs.filter((l) => !seen.has(`${l.at}\n${l.line}`));
      return { ...state, logs: newest([...action.data, ...extra], MAX_LOG_LINES) };
    }
    case ActionType.Feed:
      return state.feed === action.status ? state : { ...state, feed: action.status };
    case ActionType.Preview:
      return state.previewKey === action.key ? state : { ...state, previewKey: action.key };
    case ActionType.Filter:
      return state.clientFilter === action.text ? state : { ...state, clientFilter: action.text };
  }
}
