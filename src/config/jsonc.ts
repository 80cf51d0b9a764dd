/**
 * JSON with comments (JSONC), as the config file is written: JSON (RFC 8259)
 * plus `//` line comments, `/* *\/` block comments (not nested) and a trailing
 * comma after the last member of an object or the last element of an array.
 * Nothing else of JSON5: keys and strings take double quotes, numbers are
 * JSON's.
 *
 * Bounds: the text is at most `JSONC_MAX_BYTES` (UTF-8), objects and arrays
 * nest at most `JSONC_MAX_DEPTH` deep. A key given twice in one object is
 * refused (JSON.parse would keep the last one silently; in a config file it is
 * a mistake). A problem throws a `SyntaxError` (a `RangeError` past a bound)
 * naming the origin, the line and the column (both from 1; a column counts
 * UTF-16 code units, a tab is one):
 *
 * ```text
 * Cannot parse sluice.jsonc: line 3, column 5: expected "," or "}" after a member, found "port"
 * ```
 *
 * @module
 */

/** The largest text parsed, in UTF-8 bytes: a config file is a few KiB. */
export const JSONC_MAX_BYTES = 1024 * 1024;
/** The deepest nesting of objects and arrays: a config is three deep (sections, a list, its entries). */
export const JSONC_MAX_DEPTH = 32;
/** How much of an unexpected word a message quotes. */
const WORD_SHOWN_MAX = 20;

/** The characters the grammar names, by their code unit. */
const Char = {
  Tab: 0x09,
  LineFeed: 0x0a,
  Return: 0x0d,
  Space: 0x20,
  Quote: 0x22,
  Comma: 0x2c,
  Minus: 0x2d,
  Dot: 0x2e,
  Slash: 0x2f,
  Star: 0x2a,
  Zero: 0x30,
  Nine: 0x39,
  Colon: 0x3a,
  OpenBracket: 0x5b,
  Backslash: 0x5c,
  CloseBracket: 0x5d,
  OpenBrace: 0x7b,
  CloseBrace: 0x7d,
  /** U+FEFF, skipped at the very start (editors on Windows write it). */
  ByteOrderMark: 0xfeff,
} as const;

/** JSON's one-character escapes (RFC 8259 section 7), by the letter after the backslash. */
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** The UTF-8 length of `text`, counted without encoding it. */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4; // a surrogate pair: one code point of four bytes
      i++;
    } else n += 3;
  }
  return n;
}

/** One parse: the text, where it is, how deep. */
class Parser {
  readonly #text: string;
  readonly #origin: string;
  #at = 0;
  #depth = 0;

  constructor(text: string, origin: string) {
    this.#text = text;
    this.#origin = origin;
    if (text.charCodeAt(0) === Char.ByteOrderMark) this.#at = 1;
  }

  parse(): unknown {
    const value = this.#value();
    this.#skip();
    if (this.#at < this.#text.length) {
      this.#fail(`expected the end of the text after the value, found ${this.#found()}`);
    }
    return value;
  }

  /** Line and column (from 1) of `at`. */
  #where(at: number): string {
    const before = this.#text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - (before.lastIndexOf("\n") + 1) + 1;
    return `line ${line}, column ${column}`;
  }

  #fail(
    what: string,
    at = this.#at,
    kind: SyntaxErrorConstructor | RangeErrorConstructor = SyntaxError,
  ): never {
    throw new kind(`Cannot parse ${this.#origin}: ${this.#where(at)}: ${what}`);
  }

  /** What is at the current place, as a message shows it: a word, a character, or the end. */
  #found(): string {
    const rest = this.#text.slice(this.#at);
    if (rest === "") return "the end of the text";
    const word = rest.match(/^[A-Za-z0-9_$+\-.]+/)?.[0];
    if (word) {
      return JSON.stringify(word.length > WORD_SHOWN_MAX ? `${word.slice(0, WORD_SHOWN_MAX)}...` : word);
    }
    if (rest[0] === '"') {
      const body = rest.slice(1).match(/^(?:[^"\\\n]|\\.)*/)?.[0] ?? "";
      const cut = body.length > WORD_SHOWN_MAX ? `${body.slice(0, WORD_SHOWN_MAX)}...` : body;
      return `the string "${cut}"`;
    }
    const c = rest.codePointAt(0)!;
    if (c < 0x20 || c > 0x7e) return `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
    return JSON.stringify(rest[0]);
  }

  /** Skips whitespace and comments. */
  #skip(): void {
    const text = this.#text;
    while (this.#at < text.length) {
      const c = text.charCodeAt(this.#at);
      if (c === Char.Space || c === Char.Tab || c === Char.LineFeed || c === Char.Return) {
        this.#at++;
      } else if (c === Char.Slash && text.charCodeAt(this.#at + 1) === Char.Slash) {
        const end = text.indexOf("\n", this.#at);
        this.#at = end < 0 ? text.length : end + 1;
      } else if (c === Char.Slash && text.charCodeAt(this.#at + 1) === Char.Star) {
        const end = text.indexOf("*/", this.#at + 2);
        if (end < 0) this.#fail("a /* comment is not closed with */");
        this.#at = end + 2;
      } else {
        return;
      }
    }
  }

  #value(): unknown {
    this.#skip();
    const c = this.#text.charCodeAt(this.#at);
    if (c === Char.OpenBrace) return this.#nested(() => this.#object());
    if (c === Char.OpenBracket) return this.#nested(() => this.#array());
    if (c === Char.Quote) return this.#string();
    if (c === Char.Minus || (c >= Char.Zero && c <= Char.Nine)) return this.#number();
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (
        this.#text.startsWith(word, this.#at) &&
        !/[A-Za-z0-9_$]/.test(this.#text[this.#at + word.length] ?? "")
      ) {
        this.#at += word.length;
        return value;
      }
    }
    if (this.#text[this.#at] === "'") {
      this.#fail("expected a value, found a single quote (strings take double quotes)");
    }
    this.#fail(`expected a value, found ${this.#found()}`);
  }

  #nested<T>(read: () => T): T {
    if (++this.#depth > JSONC_MAX_DEPTH) {
      this.#fail(`current nesting is deeper than the maximum ${JSONC_MAX_DEPTH}`, this.#at, RangeError);
    }
    const value = read();
    this.#depth--;
    return value;
  }

  #object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.#at++; // {
    for (;;) {
      this.#skip();
      const c = this.#text.charCodeAt(this.#at);
      if (c === Char.CloseBrace) {
        this.#at++;
        return out;
      }
      if (c !== Char.Quote) {
        this.#fail(`expected a key in double quotes or "}", found ${this.#found()}`);
      }
      const keyAt = this.#at;
      const key = this.#string();
      if (Object.hasOwn(out, key)) {
        this.#fail(`the key ${JSON.stringify(key)} is given twice in this object`, keyAt);
      }
      this.#skip();
      if (this.#text.charCodeAt(this.#at) !== Char.Colon) {
        this.#fail(`expected ":" after the key ${JSON.stringify(key)}, found ${this.#found()}`);
      }
      this.#at++;
      // defineProperty: a key "__proto__" is data, not the object's prototype.
      Object.defineProperty(out, key, {
        value: this.#value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.#skip();
      const next = this.#text.charCodeAt(this.#at);
      if (next === Char.Comma) this.#at++;
      else if (next !== Char.CloseBrace) {
        this.#fail(`expected "," or "}" after a member, found ${this.#found()}`);
      }
    }
  }

  #array(): unknown[] {
    const out: unknown[] = [];
    this.#at++; // [
    for (;;) {
      this.#skip();
      if (this.#text.charCodeAt(this.#at) === Char.CloseBracket) {
        this.#at++;
        return out;
      }
      out.push(this.#value());
      this.#skip();
      const next = this.#text.charCodeAt(this.#at);
      if (next === Char.Comma) this.#at++;
      else if (next !== Char.CloseBracket) {
        this.#fail(`expected "," or "]" after an element, found ${this.#found()}`);
      }
    }
  }

  #string(): string {
    const text = this.#text;
    const start = this.#at;
    this.#at++; // "
    let out = "";
    let run = this.#at;
    for (;;) {
      if (this.#at >= text.length) this.#fail("a string is not closed with a double quote", start);
      const c = text.charCodeAt(this.#at);
      if (c === Char.Quote) {
        out += text.slice(run, this.#at);
        this.#at++;
        return out;
      }
      if (c < Char.Space) {
        this.#fail(
          c === Char.LineFeed || c === Char.Return
            ? "a string is not closed with a double quote before the end of its line"
            : `a control character U+${
              c.toString(16).toUpperCase().padStart(4, "0")
            } is in a string (write it as an escape)`,
        );
      }
      if (c !== Char.Backslash) {
        this.#at++;
        continue;
      }
      out += text.slice(run, this.#at);
      const letter = text[this.#at + 1] ?? "";
      if (letter in ESCAPES) {
        out += ESCAPES[letter];
        this.#at += 2;
      } else if (letter === "u") {
        const hex = text.slice(this.#at + 2, this.#at + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) this.#fail("a \\u escape needs four hex digits");
        out += String.fromCharCode(parseInt(hex, 16));
        this.#at += 6;
      } else {
        this.#fail(`the escape \\${letter} is not JSON's (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
      }
      run = this.#at;
    }
  }

  #number(): number {
    const m = this.#text.slice(this.#at).match(/^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/);
    if (!m) this.#fail(`expected a number, found ${this.#found()}`);
    const end = this.#at + m[0].length;
    if (/[A-Za-z0-9_$.]/.test(this.#text[end] ?? "")) this.#fail(`expected a number, found ${this.#found()}`);
    this.#at = end;
    return Number(m[0]);
  }
}

/**
 * Parses JSONC `text` into plain data (objects, arrays, strings, numbers, booleans, null). `origin` names the
 * text in messages (a file path). Throws SyntaxError for text that is not JSONC, RangeError past a bound.
 */
export function parseJsonc(text: string, origin = "the text"): unknown {
  const bytes = utf8Length(text);
  if (bytes > JSONC_MAX_BYTES) {
    throw new RangeError(
      `Cannot parse ${origin}: current size ${bytes} bytes is above the maximum ${JSONC_MAX_BYTES}`,
    );
  }
  return new Parser(text, origin).parse();
}
