/**
 * `--print-config`: a configuration printed as a config file (JSONC), every
 * setting in table order under its section's heading, each after a `//`
 * comment made from the schema (help; unit, range or values, default; whether
 * a reload changes it live). What it prints loads back with `--config` to the
 * same configuration, secrets aside: a set secret prints as `REDACTED`
 * (`redactConfig()`), which the loader refuses with a message saying to write
 * the secret itself. `docs/sluice.example.jsonc` is this output for the
 * defaults, under a header.
 *
 * ```jsonc
 * {
 *   // RTMP listener and sessions
 *   "rtmp": {
 *     // address the RTMP listener binds (default 0.0.0.0)
 *     "host": "0.0.0.0",
 * ```
 *
 * @module
 */
import { detailText } from "./cli.ts";
import { type Config, redactConfig, REDACTED } from "./config.ts";
import { sectionOf, SECTIONS, type Setting, SETTINGS, SettingType, valueAt } from "./schema.ts";

/** The longest line a comment is wrapped at (the repository's line width). */
const WIDTH = 110;
const INDENT = "  ";
/** What a live setting's comment ends with. */
const LIVE_NOTE = "live on SIGHUP";

/**
 * `text` as `//` comment lines at `indent`, wrapped at `WIDTH` (a word longer than a line stays whole);
 * the lines after the first start with `hang` more.
 */
function comment(indent: string, text: string, hang = ""): string[] {
  const lines: string[] = [];
  let line = `${indent}//`;
  for (const word of text.split(" ")) {
    if (line.length > indent.length + 2 + hang.length && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = `${indent}//${hang}`;
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

/** A setting's comment text: its help, then its unit, range or values and default, and "live" if it is. */
function about(setting: Setting): string {
  const detail = detailText(setting);
  if (!setting.live) return setting.help + detail;
  return setting.help + (detail === "" ? ` (${LIVE_NOTE})` : `${detail.slice(0, -1)}; ${LIVE_NOTE})`);
}

/** A list entry as one line: `{ "key": "live/cam", "path": "cam.flv", "loop": true }`. */
function entryLine(entry: Record<string, unknown>): string {
  const members = Object.entries(entry).filter(([, v]) => v !== undefined);
  return `{ ${members.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(", ")} }`;
}

/** The lines of a list setting (`sources`): what an entry holds, then the entries, one a line. */
function listLines(list: Setting, entries: readonly Record<string, unknown>[]): string[] {
  const out: string[] = [];
  const fields = list.fields ?? [];
  out.push(...comment(INDENT, `each entry: ${entryLine(exampleEntry(fields))}`));
  for (const field of fields) {
    const required = field.default === undefined && !field.optional ? " (required)" : "";
    out.push(...comment(INDENT, `  ${field.path}: ${about(field)}${required}`, "    "));
  }
  const name = JSON.stringify(list.path);
  if (entries.length === 0) return [...out, `${INDENT}${name}: []`];
  out.push(`${INDENT}${name}: [`);
  entries.forEach((e, i) =>
    out.push(`${INDENT}${INDENT}${entryLine(e)}${i < entries.length - 1 ? "," : ""}`)
  );
  out.push(`${INDENT}]`);
  return out;
}

/** Example values of a list entry's fields (their `example`, else their default), for its comment. */
function exampleEntry(fields: readonly Setting[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f.path, f.example ?? f.default]));
}

/**
 * `config` as a config file: JSONC, every setting after its comment, sections in `SECTIONS` order with
 * their heading, secrets redacted. No line is longer than 110 characters but a long value's. Ends with "}"
 * (no newline).
 */
export function printConfig(config: Config): string {
  const shown = redactConfig(config);
  const sections = Object.entries(SECTIONS);
  const out = ["{"];
  sections.forEach(([section, heading], s) => {
    const settings = (SETTINGS as readonly Setting[]).filter((x) => sectionOf(x.path) === section);
    const last = s === sections.length - 1 ? "" : ",";
    if (s > 0) out.push("");
    out.push(...comment(INDENT, heading));
    const list = settings.find((x) => x.path === section && x.type === SettingType.List);
    if (list) {
      const lines = listLines(list, valueAt(shown, list.path) as Record<string, unknown>[]);
      lines[lines.length - 1] += last;
      out.push(...lines);
      return;
    }
    out.push(`${INDENT}${JSON.stringify(section)}: {`);
    settings.forEach((setting, i) => {
      const value = valueAt(shown, setting.path);
      const inner = INDENT + INDENT;
      out.push(...comment(inner, about(setting)));
      if (value === REDACTED && setting.secret) {
        out.push(...comment(inner, `${REDACTED}: set, and not printed; write it here to load this file`));
      }
      const key = setting.path.slice(section.length + 1);
      out.push(
        `${inner}${JSON.stringify(key)}: ${JSON.stringify(value)}${i < settings.length - 1 ? "," : ""}`,
      );
    });
    out.push(`${INDENT}}${last}`);
  });
  out.push("}");
  return out.join("\n");
}
