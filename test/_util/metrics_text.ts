/**
 * Reading Prometheus text as a scrape gives it: the value of one sample, by name and labels, for unit tests
 * of the collector and end-to-end tests that fetch `/metrics`.
 *
 * @module
 */

/** `{a="x",b="y"}` as the collector writes it (values here need no escaping). */
function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** The value of the sample `name{labels}` in `text`; undefined when there is no such line. */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const prefix = `${name}${labelText(labels)} `;
  const line = text.split("\n").find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length).replace("+Inf", "Infinity"));
}
