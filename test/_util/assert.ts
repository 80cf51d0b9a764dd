/**
 * Small assertions for tests (the Deno standard library lives on JSR, which
 * this workplace cannot reach). Each throws AssertionError with a readable diff.
 *
 * @module
 */

export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function show(v: unknown): string {
  return Deno.inspect(v, { depth: 8, iterableLimit: 64, strAbbreviateSize: 200, sorted: true });
}

/** Structural equality: primitives, arrays, typed arrays, plain objects, Date, Map, Set, class instances by fields. */
export function equal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    if (a.constructor !== b.constructor) return false;
    const x = a as unknown as ArrayLike<unknown>, y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !equal(v, b.get(k))) return false;
    return true;
  }
  if (a instanceof Set && b instanceof Set) {
    if (a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

export function assert(cond: unknown, msg = "Assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(msg);
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!equal(actual, expected)) {
    throw new AssertionError(
      `${msg ? msg + "\n" : ""}Values are not equal:\n  actual:   ${show(actual)}\n  expected: ${
        show(expected)
      }`,
    );
  }
}

export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  if (equal(actual, expected)) throw new AssertionError(msg ?? `Expected values to differ: ${show(actual)}`);
}

export function assertStrictEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(
      `${msg ? msg + "\n" : ""}Not strictly equal: ${show(actual)} !== ${show(expected)}`,
    );
  }
}

export function assertGreaterOrEqual(actual: number, expected: number, msg?: string): void {
  if (!(actual >= expected)) throw new AssertionError(msg ?? `Expected ${actual} >= ${expected}`);
}

export function assertGreater(actual: number, expected: number, msg?: string): void {
  if (!(actual > expected)) throw new AssertionError(msg ?? `Expected ${actual} > ${expected}`);
}

export function assertLess(actual: number, expected: number, msg?: string): void {
  if (!(actual < expected)) throw new AssertionError(msg ?? `Expected ${actual} < ${expected}`);
}

export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  if (!re.test(actual)) throw new AssertionError(msg ?? `Expected ${show(actual)} to match ${re}`);
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = new (...args: any[]) => E;

/** Calls fn and asserts it throws an E whose message includes `includes` (if given); returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  cls?: ErrorClass<E>,
  includes?: string,
): E {
  try {
    fn();
  } catch (e) {
    return checkError(e, cls, includes);
  }
  throw new AssertionError("Expected function to throw");
}

/** Awaits fn and asserts it rejects with an E whose message includes `includes` (if given); returns the error. */
export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  cls?: ErrorClass<E>,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    return checkError(e, cls, includes);
  }
  throw new AssertionError("Expected promise to reject");
}

function checkError<E extends Error>(e: unknown, cls?: ErrorClass<E>, includes?: string): E {
  if (cls && !(e instanceof cls)) {
    throw new AssertionError(`Expected error of class ${cls.name}, got ${show(e)}`);
  }
  if (!(e instanceof Error)) throw new AssertionError(`Expected an Error, got ${show(e)}`);
  if (includes !== undefined && !e.message.includes(includes)) {
    throw new AssertionError(`Expected error message to include ${show(includes)}, got ${show(e.message)}`);
  }
  return e as E;
}
