import { assertEquals, assertThrows } from "../_util/assert.ts";
import { JSONC_MAX_BYTES, JSONC_MAX_DEPTH, parseJsonc } from "../../src/config/jsonc.ts";

/** JSON texts that must parse exactly as JSON.parse parses them. */
const JSON_CASES: string[] = [
  "{}",
  "[]",
  " \t\r\n{ } ",
  '{"a": 1, "b": [true, false, null], "c": {"d": "e"}}',
  "0",
  "-0",
  "12.5e-3",
  "1E+2",
  "-1.25",
  "9007199254740993",
  '"plain"',
  '"esc: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"',
  '"unicode as is: é 😀"',
  '[[[[1]]], {"": ""}]',
  '{"a": {"b": {"c": [1, 2, 3]}}}',
];

for (const text of JSON_CASES) {
  Deno.test(`parseJsonc() reads ${JSON.stringify(text)} as JSON.parse does`, () => {
    assertEquals(parseJsonc(text), JSON.parse(text));
  });
}

Deno.test("parseJsonc() skips // and /* */ comments wherever whitespace may be", () => {
  const text = `// a heading
/* a block
   over lines */ {
  // before a key
  "rtmp": /* before a value */ { "port": 1935 /* after a value */ }, // after a member
  "list": [ 1, // after an element
    2 /**/ ] /* before the end */
} // the last line has no newline`;
  assertEquals(parseJsonc(text), { rtmp: { port: 1935 }, list: [1, 2] });
});

Deno.test("parseJsonc() keeps // and /* inside a string as text", () => {
  assertEquals(parseJsonc('{"url": "http://a/b", "glob": "/* x */"}'), {
    url: "http://a/b",
    glob: "/* x */",
  });
});

Deno.test("parseJsonc() takes a trailing comma after the last member and the last element", () => {
  assertEquals(parseJsonc('{ "a": [1, 2, ], "b": { "c": 3, }, }'), { a: [1, 2], b: { c: 3 } });
});

Deno.test("parseJsonc() skips a byte order mark at the start", () => {
  assertEquals(parseJsonc('\ufeff{"a": 1}'), { a: 1 });
});

Deno.test('parseJsonc() keeps a "__proto__" key as data, not as the prototype', () => {
  const value = parseJsonc('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
  assertEquals(Object.getPrototypeOf(value), Object.prototype);
  assertEquals(Object.keys(value), ["__proto__"]);
  assertEquals(({} as Record<string, unknown>).polluted, undefined);
});

/** Text that is not JSONC, and exactly what the parser says, its origin "f.jsonc". */
const BAD: [string, string][] = [
  ["", "line 1, column 1: expected a value, found the end of the text"],
  ["{", 'line 1, column 2: expected a key in double quotes or "}", found the end of the text'],
  ['{\n  "a": 1\n  "b": 2\n}', 'line 3, column 3: expected "," or "}" after a member, found the string "b"'],
  ["{\n  port: 1\n}", 'line 2, column 3: expected a key in double quotes or "}", found "port"'],
  ['{"a" 1}', 'line 1, column 6: expected ":" after the key "a", found "1"'],
  ["[1 2]", 'line 1, column 4: expected "," or "]" after an element, found "2"'],
  ["[1,,2]", 'line 1, column 4: expected a value, found ","'],
  ["{,}", 'line 1, column 2: expected a key in double quotes or "}", found ","'],
  ["{} {}", 'line 1, column 4: expected the end of the text after the value, found "{"'],
  ["{'a': 1}", 'line 1, column 2: expected a key in double quotes or "}", found "\'"'],
  ["['a']", "line 1, column 2: expected a value, found a single quote (strings take double quotes)"],
  ['"abc', "line 1, column 1: a string is not closed with a double quote"],
  [
    '{"a": "abc\n"}',
    "line 1, column 11: a string is not closed with a double quote before the end of its line",
  ],
  ['"a\tb"', "line 1, column 3: a control character U+0009 is in a string (write it as an escape)"],
  ['"\\q"', "line 1, column 2: the escape \\q is not JSON's (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"],
  ['"\\u12"', "line 1, column 2: a \\u escape needs four hex digits"],
  ["/* open\n{}", "line 1, column 1: a /* comment is not closed with */"],
  ["True", 'line 1, column 1: expected a value, found "True"'],
  ["nul", 'line 1, column 1: expected a value, found "nul"'],
  ["truex", 'line 1, column 1: expected a value, found "truex"'],
  ["+1", 'line 1, column 1: expected a value, found "+1"'],
  ["01", 'line 1, column 1: expected a number, found "01"'],
  ["1.", 'line 1, column 1: expected a number, found "1."'],
  ["-", 'line 1, column 1: expected a number, found "-"'],
  ["0x10", 'line 1, column 1: expected a number, found "0x10"'],
  ["NaN", 'line 1, column 1: expected a value, found "NaN"'],
  ["\u00a0{}", "line 1, column 1: expected a value, found U+00A0"],
  ['{"a": 1, "a": 2}', 'line 1, column 10: the key "a" is given twice in this object'],
  [`"${"x".repeat(30)}`, "line 1, column 1: a string is not closed with a double quote"],
  [`[${"y".repeat(30)}]`, `line 1, column 2: expected a value, found "${"y".repeat(20)}..."`],
];

for (const [text, where] of BAD) {
  Deno.test(`parseJsonc() refuses ${JSON.stringify(text.slice(0, 24))} naming line and column`, () => {
    const e = assertThrows(() => parseJsonc(text, "f.jsonc"), SyntaxError);
    assertEquals(e.message, `Cannot parse f.jsonc: ${where}`);
  });
}

Deno.test("parseJsonc() counts lines after comments and CRLF line endings", () => {
  const e = assertThrows(() => parseJsonc('{\r\n  // one\r\n  /* two\r\n */ "a": x\r\n}', "f"), SyntaxError);
  assertEquals(e.message, 'Cannot parse f: line 4, column 10: expected a value, found "x"');
});

Deno.test("parseJsonc() refuses a text over JSONC_MAX_BYTES of UTF-8, counting multi-byte characters", () => {
  const fits = `"${"a".repeat(JSONC_MAX_BYTES - 2)}"`;
  assertEquals((parseJsonc(fits) as string).length, JSONC_MAX_BYTES - 2);
  const over = `"${"é".repeat(JSONC_MAX_BYTES / 2)}"`; // two bytes each: two past the bound, half as long
  const e = assertThrows(() => parseJsonc(over, "big.jsonc"), RangeError);
  assertEquals(
    e.message,
    `Cannot parse big.jsonc: current size ${
      JSONC_MAX_BYTES + 2
    } bytes is above the maximum ${JSONC_MAX_BYTES}`,
  );
});

Deno.test("parseJsonc() nests JSONC_MAX_DEPTH deep and refuses one deeper", () => {
  const nest = (n: number) => "[".repeat(n) + "]".repeat(n);
  assertEquals(JSON.stringify(parseJsonc(nest(JSONC_MAX_DEPTH))), nest(JSONC_MAX_DEPTH));
  const e = assertThrows(() => parseJsonc(`{"a": ${nest(JSONC_MAX_DEPTH)}}`, "deep"), RangeError);
  assertEquals(
    e.message,
    `Cannot parse deep: line 1, column ${
      7 + JSONC_MAX_DEPTH - 1
    }: current nesting is deeper than the maximum ` +
      `${JSONC_MAX_DEPTH}`,
  );
  // A hostile depth is refused at the bound, not by a stack overflow.
  assertThrows(() => parseJsonc("[".repeat(100_000)), RangeError);
});

Deno.test("parseJsonc() names its text 'the text' when no origin is given", () => {
  assertEquals(
    assertThrows(() => parseJsonc("x"), SyntaxError).message,
    'Cannot parse the text: line 1, column 1: expected a value, found "x"',
  );
});
