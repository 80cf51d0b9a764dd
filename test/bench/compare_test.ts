/** The `--compare` summary line, from rows of one run. */
import { compareLine, Label } from "../../bench/compare.ts";
import { notMeasured, type Row } from "../../bench/row.ts";
import { assertEquals } from "../_util/assert.ts";

/** A measured row: `cpu` ms per Mbit, `lag` and `ttff` p99, every player kept up unless `keptUp`. */
function row(server: string, n: number, cpu: number, lag: number, ttff: number, keptUp = n): Row {
  return {
    server,
    n,
    keptUp,
    mbps: 100,
    cpuMsPerMbit: cpu,
    sysPct: 50,
    ttffP50: ttff / 2,
    ttffP99: ttff,
    lagP50: lag / 2,
    lagP99: lag,
    rssMb: 100,
    errors: 0,
  };
}

Deno.test("compareLine() gives each ratio of CPU per Mbit with both rows' lag and TTFF p99", () => {
  const rows = [
    row(Label.SluiceRtmp, 200, 0.2, 150, 90),
    row(Label.SluiceHttp, 200, 0.22, 160, 60),
    row(Label.NginxRtmp, 200, 0.25, 170, 2100),
    row(Label.NmsHttp, 200, 0.88, 180, 500),
  ];
  assertEquals(
    compareLine(rows, 200),
    "compare: Sluice RTMP/nginx-rtmp CPU per Mbit 0.80x (lag p99 150 vs 170 ms, TTFF p99 90 vs 2100 ms); " +
      "Sluice HTTP-FLV/node-media-server 0.25x (lag p99 160 vs 180 ms, TTFF p99 60 vs 500 ms); " +
      "HTTP-FLV/RTMP (Sluice) 1.10x (lag p99 160 vs 150 ms, TTFF p99 60 vs 90 ms); N=200, every player kept up",
  );
});

Deno.test("compareLine() takes only rows of the same N", () => {
  const rows = [
    row(Label.SluiceRtmp, 100, 0.1, 1, 1),
    row(Label.NginxRtmp, 200, 0.4, 1, 1),
    row(Label.SluiceRtmp, 200, 0.2, 1, 1),
    row(Label.NginxRtmp, 100, 0.4, 1, 1),
  ];
  const line = compareLine(rows, 200);
  assertEquals(line.startsWith("compare: Sluice RTMP/nginx-rtmp CPU per Mbit 0.50x"), true, line);
});

Deno.test("compareLine() says n/a and why for a peer with no row or a row not measured", () => {
  const rows = [
    row(Label.SluiceRtmp, 50, 0.2, 1, 1),
    row(Label.SluiceHttp, 50, 0.2, 1, 1),
    notMeasured(Label.NmsHttp, 50, "npm is not installed"),
  ];
  assertEquals(
    compareLine(rows, 50, { [Label.NginxRtmp]: "nginx-rtmp not installed" }),
    "compare: Sluice RTMP/nginx-rtmp CPU per Mbit n/a (nginx-rtmp not installed); " +
      "Sluice HTTP-FLV/node-media-server n/a (node-media-server http: npm is not installed); " +
      "HTTP-FLV/RTMP (Sluice) 1.00x (lag p99 1 vs 1 ms, TTFF p99 1 vs 1 ms); N=50, every player kept up",
  );
});

Deno.test("compareLine() names the rows whose players did not all keep up", () => {
  const rows = [row(Label.SluiceRtmp, 10, 0.2, 1, 1, 9), row(Label.NginxRtmp, 10, 0.2, 1, 1, 7)];
  const line = compareLine(rows, 10);
  assertEquals(line.endsWith("N=10, kept up: sluice 9/10, nginx-rtmp 7/10"), true, line);
});
