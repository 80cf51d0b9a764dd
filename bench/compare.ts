/**
 * The `--compare` summary of the live benchmark (issue 13): one line per N,
 * from rows measured in the same run at that N, of the cost ratios that
 * matter: Sluice RTMP against nginx-rtmp, Sluice HTTP-FLV against
 * node-media-server, and Sluice's HTTP-FLV against its own RTMP. Each ratio
 * is CPU ms per delivered Mbit over the same window, and comes with the two
 * rows' lag p99 and time to first frame p99, so that a cheaper figure bought
 * with latency shows beside it.
 *
 * @module
 */
import type { Row } from "./row.ts";

/** The rows' server labels the summary reads. */
export const Label = {
  SluiceRtmp: "sluice",
  SluiceHttp: "sluice http",
  NginxRtmp: "nginx-rtmp",
  NmsHttp: "node-media-server http",
} as const;

/** Why a peer has no row in this run (not installed, not asked for), by label. */
export type Missing = Partial<Record<string, string>>;

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : "-");

/** "0.NNx (lag p99 A vs B ms, TTFF p99 A vs B ms)" of rows `a` over `b`, or "n/a (why)". */
function ratio(a: Row | undefined, b: Row | undefined, aLabel: string, bLabel: string, missing: Missing) {
  for (const [row, label] of [[a, aLabel], [b, bLabel]] as const) {
    if (row === undefined) return `n/a (${missing[label] ?? `no ${label} row`})`;
    if (row.notMeasured !== undefined) return `n/a (${label}: ${row.notMeasured})`;
  }
  return `${(a!.cpuMsPerMbit / b!.cpuMsPerMbit).toFixed(2)}x (lag p99 ${ms(a!.lagP99)} vs ${
    ms(b!.lagP99)
  } ms, ` +
    `TTFF p99 ${ms(a!.ttffP99)} vs ${ms(b!.ttffP99)} ms)`;
}

/**
 * The summary line at `n`: `compare: Sluice RTMP/nginx-rtmp CPU per Mbit 0.NNx (...); Sluice
 * HTTP-FLV/node-media-server 0.NNx (...); HTTP-FLV/RTMP (Sluice) 0.NNx (...); N=…, every player kept up`
 * (or which rows had players that did not). `missing` says why a peer has no row.
 */
export function compareLine(rows: readonly Row[], n: number, missing: Missing = {}): string {
  const at = (label: string) => rows.find((r) => r.server === label && r.n === n);
  const [rtmp, http, nginx, nms] = [Label.SluiceRtmp, Label.SluiceHttp, Label.NginxRtmp, Label.NmsHttp].map(
    at,
  );
  const parts = [
    `Sluice RTMP/nginx-rtmp CPU per Mbit ${ratio(rtmp, nginx, Label.SluiceRtmp, Label.NginxRtmp, missing)}`,
    `Sluice HTTP-FLV/node-media-server ${ratio(http, nms, Label.SluiceHttp, Label.NmsHttp, missing)}`,
    `HTTP-FLV/RTMP (Sluice) ${ratio(http, rtmp, Label.SluiceHttp, Label.SluiceRtmp, missing)}`,
  ];
  const behind = [rtmp, http, nginx, nms]
    .filter((r): r is Row => r !== undefined && r.notMeasured === undefined && r.keptUp < r.n)
    .map((r) => `${r.server} ${r.keptUp}/${r.n}`);
  const kept = behind.length === 0 ? "every player kept up" : `kept up: ${behind.join(", ")}`;
  return `compare: ${parts.join("; ")}; N=${n}, ${kept}`;
}
