/**
 * The admin routes of the HTTP port: the JSON API under `/api/v1`, its
 * Server-Sent Events, `/metrics`, the page at `/admin/` with its login, and the
 * landing page at `/`. Every route but the login's passes the guard first
 * (`src/admin/auth.ts`: loopback only until a credential is configured, then a
 * session cookie or a bearer token; a same-origin check on state-changing
 * calls).
 *
 * | method    | path                                   | what                                      |
 * | --------- | -------------------------------------- | ----------------------------------------- |
 * | GET       | `/`                                    | landing page (lists streams when allowed) |
 * | GET       | `/admin`, `/admin/`                    | the dashboard                             |
 * | GET, POST | `/admin/login`, POST `/admin/logout`   | the login page and its form               |
 * | GET       | `/api/v1/server`, `/streams`, `/clients`, `/history`, `/logs`, `/feeds`, `/transcodes`, `/health` | JSON |
 * | GET       | `/api/v1/streams/{app}/{name}`         | one stream                                |
 * | POST      | `/api/v1/streams/{app}/{name}/stop`    | disconnects the publisher                 |
 * | POST      | `/api/v1/clients/{id}/kick`            | disconnects a client                      |
 * | GET       | `/api/v1/events`                       | Server-Sent Events                        |
 * | GET       | `/metrics`                             | Prometheus text exposition                |
 * | GET       | `/status`                              | a plain HTML status page, no JavaScript   |
 *
 * @module
 */
import {
  kickClient,
  serveClients,
  serveFeeds,
  serveHistory,
  serveLogs,
  serveServer,
  serveStream,
  serveStreams,
  serveTranscodes,
  stopStream,
} from "../admin/api.ts";
import type { AdminContext } from "../admin/context.ts";
import { type MetricsCollector, serveMetrics } from "../admin/metrics.ts";
import { serveAdminPage, serveLanding } from "../admin/page.ts";
import { serveEvents } from "../admin/sse.ts";
import { serveStatus } from "../admin/status_page.ts";
import type { HttpContext } from "./context.ts";
import { serveHealth } from "./health.ts";
import type { Route, RouteMatch } from "./router.ts";

/** The part of the guard a route needs: undefined lets the request through, else the refusal. */
export interface AdminGate {
  check(req: Request, remote: Deno.Addr | undefined, area: AdminArea): Promise<Response | undefined>;
  loginPage(req: Request): Response | Promise<Response>;
  login(req: Request, remote: Deno.Addr | undefined): Promise<Response>;
  logout(req: Request): Response | Promise<Response>;
}

/** What a guarded route protects. */
export type AdminArea = "api" | "metrics" | "page";

/** What the admin routes need besides the HTTP context. */
export interface AdminRoutesContext {
  admin: AdminContext;
  metrics: MetricsCollector;
  gate: AdminGate;
}

const ALL = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"] as const;
const NAME = "[A-Za-z0-9_.\\-~]+";

/** The admin routes, tried before the stream routes. */
export function adminRoutes(http: HttpContext, a: AdminRoutesContext): Route[] {
  const guarded =
    (area: AdminArea, handle: (req: Request, m: RouteMatch) => Response | Promise<Response>) =>
    async (req: Request, m: RouteMatch): Promise<Response> =>
      (await a.gate.check(req, m.remote, area)) ?? await handle(req, m);
  const ctx = a.admin;
  return [
    {
      methods: ["GET", "HEAD"],
      path: /^\/$/,
      handle: async (req, m) =>
        serveLanding(ctx, req, (await a.gate.check(req, m.remote, "page")) === undefined),
    },
    {
      methods: ["GET", "HEAD"],
      path: /^\/admin$/,
      handle: () => new Response(null, { status: 301, headers: { location: "/admin/" } }),
    },
    { methods: ["GET", "HEAD"], path: /^\/admin\/login$/, handle: (req) => a.gate.loginPage(req) },
    { methods: ["POST"], path: /^\/admin\/login$/, handle: (req, m) => a.gate.login(req, m.remote) },
    { methods: ["POST"], path: /^\/admin\/logout$/, handle: (req) => a.gate.logout(req) },
    { methods: ["GET", "HEAD"], path: /^\/admin\/$/, handle: guarded("page", () => serveAdminPage()) },
    { methods: ALL, path: /^\/api\/v1\/health$/, handle: guarded("api", () => serveHealth(http)) },
    { methods: ALL, path: /^\/api\/v1\/server$/, handle: guarded("api", (req) => serveServer(ctx, req)) },
    { methods: ALL, path: /^\/api\/v1\/streams$/, handle: guarded("api", (req) => serveStreams(ctx, req)) },
    {
      methods: ALL,
      path: new RegExp(`^/api/v1/streams/(${NAME})/(${NAME})/stop$`),
      handle: guarded("api", (req, m) => stopStream(ctx, req, m.groups[0]!, m.groups[1]!)),
    },
    {
      methods: ALL,
      path: new RegExp(`^/api/v1/streams/(${NAME})/(${NAME})$`),
      handle: guarded("api", (req, m) => serveStream(ctx, req, m.groups[0]!, m.groups[1]!)),
    },
    { methods: ALL, path: /^\/api\/v1\/clients$/, handle: guarded("api", (req) => serveClients(ctx, req)) },
    {
      methods: ALL,
      path: /^\/api\/v1\/clients\/([^/]+)\/kick$/,
      handle: guarded("api", (req, m) => kickClient(ctx, req, decodeURIComponent(m.groups[0]!))),
    },
    { methods: ALL, path: /^\/api\/v1\/history$/, handle: guarded("api", (req) => serveHistory(ctx, req)) },
    { methods: ALL, path: /^\/api\/v1\/logs$/, handle: guarded("api", (req) => serveLogs(ctx, req)) },
    { methods: ALL, path: /^\/api\/v1\/feeds$/, handle: guarded("api", (req) => serveFeeds(ctx, req)) },
    {
      methods: ALL,
      path: /^\/api\/v1\/transcodes$/,
      handle: guarded("api", (req) => serveTranscodes(ctx, req)),
    },
    { methods: ["GET"], path: /^\/api\/v1\/events$/, handle: guarded("api", (req) => serveEvents(ctx, req)) },
    { methods: ALL, path: /^\/status$/, handle: guarded("page", (req) => serveStatus(ctx, req)) },
    {
      methods: ["GET", "HEAD"],
      path: /^\/metrics$/,
      handle: guarded("metrics", () => serveMetrics(a.metrics)),
    },
  ];
}
