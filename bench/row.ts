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
}

/** Prints `rows` as the table; a number that is not finite prints as "-". */
export function printRows(rows: Row[]): void {
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  console.log(
    "server          N  kept-up  Mbit/s  CPU ms/Mbit (= s/Gbit)  sys %  TTFF p50/p99 ms  lag p50/p99 ms  RSS MB  errors",
  );
  for (const r of rows) {
    console.log(
      `${r.server.padEnd(14)} ${String(r.n).padStart(3)}  ${String(r.keptUp).padStart(7)}  ${
        f(r.mbps, 1).padStart(6)
      }  ${f(r.cpuMsPerMbit, 3).padStart(22)}  ${f(r.sysPct).padStart(5)}  ${
        (f(r.ttffP50) + "/" + f(r.ttffP99)).padStart(15)
      }  ${(f(r.lagP50) + "/" + f(r.lagP99)).padStart(14)}  ${f(r.rssMb, 0).padStart(6)}  ${r.errors}`,
    );
  }
}

/** "N=…: a/b CPU per Mbit …x, RSS …x, TTFF p50 …x" for rows `a` and `b`, with an optional note. */
export function ratioLine(n: number, what: string, a: Row, b: Row, note = ""): string {
  return `N=${n}: ${what} CPU per Mbit ${(a.cpuMsPerMbit / b.cpuMsPerMbit).toFixed(2)}x, RSS ${
    (a.rssMb / b.rssMb).toFixed(2)
  }x, TTFF p50 ${(a.ttffP50 / b.ttffP50).toFixed(2)}x${note}`;
}
