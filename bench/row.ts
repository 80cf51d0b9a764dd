/**
 * One row of the live benchmark's table (a server and a player count), and
 * the table as it is printed.
 *
 * @module
 */

/** One measurement of a server with N players. */
export interface Row {
  server: string;
  n: number;
  keptUp: number;
  mbps: number;
  cpuMsPerMbit: number;
  /** Share of the server's CPU time spent in the kernel (stime), in %. */
  sysPct: number;
  ttffP50: number;
  ttffP99: number;
  /** NaN where the players cannot tell (printed "-"). */
  lagP50: number;
  lagP99: number;
  rssMb: number;
  errors: number;
  /** The players' process's CPU over the window, % of one core; absent where not measured (printed "-"). */
  clientPct?: number;
  /** Set on a row that could not be measured: why (printed "n/a: ..." in place of the figures). */
  notMeasured?: string;
}

/** A row for a server that cannot serve these players: "n/a" and why. */
export function notMeasured(server: string, n: number, why: string): Row {
  return {
    server,
    n,
    keptUp: 0,
    mbps: NaN,
    cpuMsPerMbit: NaN,
    sysPct: NaN,
    ttffP50: NaN,
    ttffP99: NaN,
    lagP50: NaN,
    lagP99: NaN,
    rssMb: NaN,
    errors: 0,
    notMeasured: why,
  };
}

/** Prints `rows` as the table; a number that is not finite prints as "-". */
export function printRows(rows: Row[]): void {
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  // The server column fits the longest label ("node-media-server http"), 15 at least.
  const w = Math.max(15, ...rows.map((r) => r.server.length));
  console.log(
    `${
      "server".padEnd(w)
    }   N  kept-up  Mbit/s  CPU ms/Mbit (= s/Gbit)  sys %  TTFF p50/p99 ms  lag p50/p99 ms  RSS MB  errors  client %`,
  );
  for (const r of rows) {
    const head = `${r.server.padEnd(w)} ${String(r.n).padStart(3)}`;
    if (r.notMeasured !== undefined) {
      console.log(`${head}  n/a: ${r.notMeasured}`);
      continue;
    }
    console.log(
      `${head}  ${String(r.keptUp).padStart(7)}  ${f(r.mbps, 1).padStart(6)}  ${
        f(r.cpuMsPerMbit, 3).padStart(22)
      }  ${f(r.sysPct).padStart(5)}  ${(f(r.ttffP50) + "/" + f(r.ttffP99)).padStart(15)}  ${
        (f(r.lagP50) + "/" + f(r.lagP99)).padStart(14)
      }  ${f(r.rssMb, 0).padStart(6)}  ${String(r.errors).padStart(6)}  ${f(r.clientPct ?? NaN).padStart(8)}`,
    );
  }
}

/** "N=…: a/b CPU per Mbit …x, RSS …x, TTFF p50 …x" for rows `a` and `b`, with an optional note. */
export function ratioLine(n: number, what: string, a: Row, b: Row, note = ""): string {
  return `N=${n}: ${what} CPU per Mbit ${(a.cpuMsPerMbit / b.cpuMsPerMbit).toFixed(2)}x, RSS ${
    (a.rssMb / b.rssMb).toFixed(2)
  }x, TTFF p50 ${(a.ttffP50 / b.ttffP50).toFixed(2)}x${note}`;
}
