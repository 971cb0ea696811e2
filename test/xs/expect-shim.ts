/**
 * A small, portable stand-in for the Jest globals, so core suites (test/core) run unchanged inside XS.
 *
 * Only ECMAScript built-ins are used: no console, timers, TextEncoder or Buffer, because the XS hosts
 * have none of them. Tests run sequentially on promise jobs; there are no per-test timeouts (XS has no
 * timers) — a test that never settles is caught by the runner when XS's job queue drains without a report.
 *
 * Supported: describe (+ .skip/.only), it/test (+ .skip/.only/.todo/.each over arrays), sync, async and
 * done-callback tests, before/afterEach, before/afterAll, expect(...) with .not/.resolves/.rejects, the
 * common matchers, a few asymmetric matchers (expect.any/anything/objectContaining/…), expect.assertions.
 * Not supported: jest.fn/mocks, snapshots, fake timers, tagged-template .each tables.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */

type TestFn = (done?: any) => unknown;
type Mode = "run" | "skip" | "only" | "todo";

interface SuiteNode {
  kind: "suite";
  name: string;
  parent: SuiteNode | null;
  mode: Mode;
  file: string | undefined;
  children: (SuiteNode | TestNode)[];
  beforeAll: TestFn[];
  afterAll: TestFn[];
  beforeEach: TestFn[];
  afterEach: TestFn[];
}

interface TestNode {
  kind: "test";
  name: string;
  parent: SuiteNode;
  mode: Mode;
  file: string | undefined;
  fn: TestFn | undefined;
}

export interface TestFailure {
  name: string;
  error: string;
}

export interface FileSummary {
  registered: number;
  ran: number;
  failed: number;
}

export interface RunResult {
  passed: number;
  failed: TestFailure[];
  /** Full names of the tests that ran (passed or failed), in run order. */
  tests: string[];
  /** Tests registered with it/test, including skipped and todo ones. */
  registered: number;
  /** Full names of skipped / todo / filtered-out (by .only) tests. */
  skipped: string[];
  /** Per suite file, when the bundle announced files with setCurrentFile(). */
  files: Record<string, FileSummary>;
}

const NAME_SEPARATOR = " › ";

// ---------------------------------------------------------------------------------------------
// Formatting values for messages (no util.inspect here).

const MAX_ITEMS = 30;
const MAX_DEPTH = 4;
const MAX_TEXT = 2000;

function typeTag(value: unknown): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

function constructorName(value: object): string {
  const proto = Object.getPrototypeOf(value);
  if (proto === null) return "[Object: null prototype]";
  const ctor = proto.constructor;
  return typeof ctor === "function" && typeof ctor.name === "string" ? ctor.name : "";
}

function formatKey(key: string | symbol): string {
  if (typeof key === "symbol") return `[${String(key)}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
}

function formatList(items: unknown[], total: number, depth: number, seen: unknown[]): string {
  const parts = items.map((item) => formatValue(item, depth + 1, seen));
  if (total > items.length) parts.push(`…${total - items.length} more`);
  return parts.join(", ");
}

function formatValue(value: unknown, depth = 0, seen: unknown[] = []): string {
  if (isAsymmetric(value)) return value.toString();
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "undefined":
      return "undefined";
    case "boolean":
    case "symbol":
      return String(value);
    case "function":
      return `[Function ${value.name || "anonymous"}]`;
  }
  if (value === null) return "null";
  const obj = value as any;
  if (seen.includes(obj)) return "[Circular]";
  if (obj instanceof Error) return `[${obj.name}: ${obj.message}]`;
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? "Date(Invalid)" : `Date(${obj.toISOString()})`;
  if (obj instanceof RegExp) return String(obj);
  if (obj instanceof ArrayBuffer) return `ArrayBuffer [${formatBytes(new Uint8Array(obj))}]`;
  if (obj instanceof DataView) return `DataView [${formatBytes(new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength))}]`;
  if (ArrayBuffer.isView(obj)) {
    const items = Array.prototype.slice.call(obj, 0, MAX_ITEMS) as unknown[];
    return `${constructorName(obj)} [${formatList(items, (obj as any).length, depth, seen)}]`;
  }
  if (obj instanceof Promise) return "Promise {}";
  const name = constructorName(obj);
  if (depth >= MAX_DEPTH) return Array.isArray(obj) ? "[Array]" : `[${name || "Object"}]`;
  seen.push(obj);
  try {
    if (Array.isArray(obj)) return `[${formatList(obj.slice(0, MAX_ITEMS), obj.length, depth, seen)}]`;
    if (obj instanceof Map) {
      const entries = Array.from(obj).slice(0, MAX_ITEMS);
      const body = entries.map(([k, v]) => `${formatValue(k, depth + 1, seen)} => ${formatValue(v, depth + 1, seen)}`);
      if (obj.size > entries.length) body.push(`…${obj.size - entries.length} more`);
      return `Map {${body.join(", ")}}`;
    }
    if (obj instanceof Set) return `Set {${formatList(Array.from(obj).slice(0, MAX_ITEMS), obj.size, depth, seen)}}`;
    const keys = ownKeys(obj);
    const body = keys.slice(0, MAX_ITEMS).map((k) => `${formatKey(k)}: ${formatValue(obj[k], depth + 1, seen)}`);
    if (keys.length > MAX_ITEMS) body.push(`…${keys.length - MAX_ITEMS} more`);
    const prefix = name === "Object" ? "" : `${name || "Object"} `;
    return `${prefix}{${body.join(", ")}}`;
  } finally {
    seen.pop();
  }
}

function formatBytes(bytes: Uint8Array): string {
  const shown = Array.prototype.slice.call(bytes, 0, MAX_ITEMS * 2) as number[];
  const more = bytes.length > shown.length ? `, …${bytes.length - shown.length} more` : "";
  return shown.join(", ") + more;
}

/** Public: short, bounded rendering of any value, used in failure messages. */
export function format(value: unknown): string {
  const text = formatValue(value);
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// Asymmetric matchers (expect.any(Number) etc.), usable inside toEqual/toMatchObject/toHaveProperty.

class AsymmetricMatcher {
  constructor(
    readonly description: string,
    private readonly test: (other: unknown) => boolean,
  ) {}
  asymmetricMatch(other: unknown): boolean {
    return this.test(other);
  }
  toString(): string {
    return this.description;
  }
}

function isAsymmetric(value: unknown): value is AsymmetricMatcher {
  return value instanceof AsymmetricMatcher;
}

function matchesAny(expected: any, other: unknown): boolean {
  switch (expected) {
    case Number:
      return typeof other === "number" || other instanceof Number;
    case String:
      return typeof other === "string" || other instanceof String;
    case Boolean:
      return typeof other === "boolean" || other instanceof Boolean;
    case BigInt:
      return typeof other === "bigint";
    case Symbol:
      return typeof other === "symbol";
    case Function:
      return typeof other === "function";
    case Object:
      return typeof other === "object" && other !== null;
  }
  return other instanceof expected;
}

// ---------------------------------------------------------------------------------------------
// Deep equality with Jest's semantics:
//   loose  (toEqual):        ignores undefined-valued props and prototypes; arrays compare by length + items
//   strict (toStrictEqual):  undefined props, array holes and prototypes count
//   subset (toMatchObject):  only the expected object's props are checked (recursively)

type EqualityMode = "loose" | "strict" | "subset";

const hasOwn = (obj: object, key: PropertyKey) => Object.prototype.hasOwnProperty.call(obj, key);

function ownKeys(obj: object): (string | symbol)[] {
  const keys: (string | symbol)[] = Object.keys(obj);
  for (const sym of Object.getOwnPropertySymbols(obj)) {
    if (Object.prototype.propertyIsEnumerable.call(obj, sym)) keys.push(sym);
  }
  return keys;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function bytesOf(view: ArrayBuffer | ArrayBufferView): Uint8Array {
  return view instanceof ArrayBuffer ? new Uint8Array(view) : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export function equals(actual: unknown, expected: unknown, mode: EqualityMode = "loose"): boolean {
  return eq(actual, expected, mode, [], []);
}

function eq(a: any, b: any, mode: EqualityMode, aStack: unknown[], bStack: unknown[]): boolean {
  if (isAsymmetric(b)) return b.asymmetricMatch(a);
  if (isAsymmetric(a)) return a.asymmetricMatch(b);
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;

  const tag = typeTag(a);
  if (tag !== typeTag(b)) return false;
  if (mode === "strict" && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;

  // Cycles: a pair already being compared further up is assumed equal if it pairs the same objects.
  for (let i = aStack.length - 1; i >= 0; i--) {
    if (aStack[i] === a) return bStack[i] === b;
    if (bStack[i] === b) return false;
  }

  switch (tag) {
    case "Number":
    case "String":
    case "Boolean":
    case "BigInt":
    case "Symbol":
      return Object.is(a.valueOf(), b.valueOf());
    case "Date":
      return Object.is(a.getTime(), b.getTime());
    case "RegExp":
      return a.source === b.source && a.flags === b.flags;
    case "ArrayBuffer":
    case "SharedArrayBuffer":
    case "DataView":
      return bytesEqual(bytesOf(a), bytesOf(b));
  }
  // Like Jest 30: two errors are equal when their messages are (toStrictEqual also checked the prototype).
  if (a instanceof Error && b instanceof Error) return a.message === b.message;

  aStack.push(a);
  bStack.push(b);
  try {
    if (ArrayBuffer.isView(a)) {
      const x = a as unknown as ArrayLike<unknown>;
      const y = b as unknown as ArrayLike<unknown>;
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
      return true;
    }
    if (a instanceof Map) {
      if (a.size !== b.size) return false;
      for (const [key, value] of a) {
        if (b.has(key)) {
          if (!eq(value, b.get(key), mode, aStack, bStack)) return false;
        } else {
          let found = false;
          for (const [k2, v2] of b) {
            if (eq(key, k2, mode, aStack, bStack) && eq(value, v2, mode, aStack, bStack)) {
              found = true;
              break;
            }
          }
          if (!found) return false;
        }
      }
      return true;
    }
    if (a instanceof Set) {
      if (a.size !== b.size) return false;
      for (const value of a) {
        if (b.has(value)) continue;
        let found = false;
        for (const v2 of b) {
          if (eq(value, v2, mode, aStack, bStack)) {
            found = true;
            break;
          }
        }
        if (!found) return false;
      }
      return true;
    }
    if (Array.isArray(a)) {
      // By index, not by keys (cheap on long arrays; extra non-index props are not compared).
      // toEqual treats undefined items like missing ones ([1] equals [1, undefined]);
      // toStrictEqual and toMatchObject need equal lengths, toStrictEqual also equal holes.
      if (mode !== "loose" && a.length !== b.length) return false;
      const length = Math.max(a.length, b.length);
      for (let i = 0; i < length; i++) {
        if (mode === "strict" && i in a !== i in b) return false;
        if (!eq(a[i], b[i], mode, aStack, bStack)) return false;
      }
      return true;
    }
    return keysEqual(a, b, mode, aStack, bStack);
  } finally {
    aStack.pop();
    bStack.pop();
  }
}

/** Compares own enumerable props (string and symbol keys). */
function keysEqual(a: any, b: any, mode: EqualityMode, aStack: unknown[], bStack: unknown[]): boolean {
  // toEqual ignores props whose value is undefined; toMatchObject still requires them to exist.
  const relevant = (obj: any) => ownKeys(obj).filter((k) => mode !== "loose" || obj[k] !== undefined);
  const bKeys = relevant(b);
  if (mode === "subset") {
    // Every expected prop must exist on the actual object (inherited props count, like Jest).
    return bKeys.every((k) => k in a && eq(a[k], b[k], mode, aStack, bStack));
  }
  const aKeys = relevant(a);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((k) => hasOwn(b, k) && eq(a[k], b[k], mode, aStack, bStack));
}

// ---------------------------------------------------------------------------------------------
// expect()

/** The error an unmet expectation throws. */
export class ExpectationError extends Error {
  override name = "ExpectationError";
  constructor(message: string) {
    super(message);
  }
}

interface MatcherContext {
  isNot: boolean;
  /** "rejects" / "resolves" when the actual value came out of a promise. */
  promise: "" | "rejects" | "resolves";
}

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

type Matcher = (this: MatcherContext, actual: any, ...expected: any[]) => MatcherResult;

function hint(ctx: MatcherContext, name: string, expectedArg = "expected"): string {
  const chain = `${ctx.promise ? `.${ctx.promise}` : ""}${ctx.isNot ? ".not" : ""}`;
  return `expect(received)${chain}.${name}(${expectedArg})`;
}

function expectedReceived(ctx: MatcherContext, name: string, expected: unknown, actual: unknown, extra = ""): string {
  return (
    `${hint(ctx, name)}\n\n` +
    `Expected: ${ctx.isNot ? "not " : ""}${format(expected)}\n` +
    `Received: ${format(actual)}${extra}`
  );
}

function usageError(ctx: MatcherContext, name: string, problem: string, value: unknown): never {
  throw new ExpectationError(`${hint(ctx, name)}\n\nMatcher error: ${problem}\nReceived: ${format(value)}`);
}

function messageOf(error: unknown): string {
  return error !== null && typeof error === "object" && typeof (error as any).message === "string"
    ? (error as any).message
    : String(error);
}

function isNumeric(value: unknown): value is number | bigint {
  return typeof value === "number" || typeof value === "bigint";
}

function compare(name: string, test: (a: any, b: any) => boolean, symbol: string): Matcher {
  return function (this: MatcherContext, actual, expected) {
    if (!isNumeric(actual)) usageError(this, name, "received value must be a number or bigint", actual);
    if (!isNumeric(expected)) usageError(this, name, "expected value must be a number or bigint", expected);
    return {
      pass: test(actual, expected),
      message: () =>
        `${hint(this, name)}\n\nExpected: ${this.isNot ? "not " : ""}${symbol} ${format(expected)}\nReceived:${" ".repeat(symbol.length + 1)}${format(actual)}`,
    };
  };
}

function parsePropertyPath(path: string | (string | number)[]): (string | number)[] {
  if (Array.isArray(path)) return path;
  const keys: string[] = [];
  for (const part of path.split(".")) {
    const re = /([^[\]]+)|\[(\d+)\]/g;
    let m: RegExpExecArray | null;
    let any = false;
    while ((m = re.exec(part)) !== null) {
      keys.push(m[1] ?? m[2]);
      any = true;
    }
    if (!any) keys.push(part);
  }
  return keys;
}

const matchers: Record<string, Matcher> = {
  toBe(actual, expected) {
    const pass = Object.is(actual, expected);
    return {
      pass,
      message: () => {
        const deep = !pass && !this.isNot && equals(actual, expected, "strict");
        return expectedReceived(this, "toBe", expected, actual, deep ? "\n\nIf it should pass with deep equality, replace \"toBe\" with \"toStrictEqual\"" : "");
      },
    };
  },
  toEqual(actual, expected) {
    return { pass: equals(actual, expected, "loose"), message: () => expectedReceived(this, "toEqual", expected, actual) };
  },
  toStrictEqual(actual, expected) {
    return { pass: equals(actual, expected, "strict"), message: () => expectedReceived(this, "toStrictEqual", expected, actual) };
  },
  toMatchObject(actual, expected) {
    if (typeof actual !== "object" || actual === null) usageError(this, "toMatchObject", "received value must be a non-null object", actual);
    if (typeof expected !== "object" || expected === null) usageError(this, "toMatchObject", "expected value must be a non-null object", expected);
    return { pass: equals(actual, expected, "subset"), message: () => expectedReceived(this, "toMatchObject", expected, actual) };
  },
  toBeInstanceOf(actual, expected) {
    if (typeof expected !== "function") usageError(this, "toBeInstanceOf", "expected value must be a class or function", expected);
    const received = actual !== null && (typeof actual === "object" || typeof actual === "function") ? constructorName(actual) : typeof actual;
    return {
      pass: actual instanceof expected,
      message: () =>
        `${hint(this, "toBeInstanceOf")}\n\nExpected constructor: ${this.isNot ? "not " : ""}${expected.name}\nReceived constructor: ${received}\nReceived value: ${format(actual)}`,
    };
  },
  toThrow(actual, expected) {
    let thrown = false;
    let error: unknown;
    if (this.promise === "rejects") {
      thrown = true;
      error = actual;
    } else {
      if (typeof actual !== "function") usageError(this, "toThrow", "received value must be a function", actual);
      try {
        actual();
      } catch (e) {
        thrown = true;
        error = e;
      }
    }
    let pass = thrown;
    let what = "any error";
    if (thrown && expected !== undefined) {
      if (typeof expected === "function") {
        pass = error instanceof expected;
        what = `an instance of ${expected.name}`;
      } else if (typeof expected === "string") {
        pass = messageOf(error).includes(expected);
        what = `a message containing ${format(expected)}`;
      } else if (expected instanceof RegExp) {
        pass = expected.test(messageOf(error));
        what = `a message matching ${String(expected)}`;
      } else if (isAsymmetric(expected)) {
        pass = expected.asymmetricMatch(error);
        what = `an error matching ${expected.toString()}`;
      } else if (typeof expected === "object" && expected !== null && "message" in expected) {
        pass = messageOf(error) === expected.message;
        what = `the message ${format(expected.message)}`;
      } else {
        usageError(this, "toThrow", "expected value must be a class, string, RegExp or error-like object", expected);
      }
    }
    return {
      pass,
      message: () => {
        const head = `${hint(this, "toThrow")}\n\n`;
        if (!thrown) return `${head}Expected the function to throw ${what}, but it did not throw.`;
        const received = `Received: ${format(error)}${error instanceof Error ? `\nReceived message: ${format(error.message)}` : ""}`;
        return this.isNot ? `${head}Expected not to throw ${what}.\n${received}` : `${head}Expected to throw ${what}.\n${received}`;
      },
    };
  },
  toBeGreaterThan: compare("toBeGreaterThan", (a, b) => a > b, ">"),
  toBeGreaterThanOrEqual: compare("toBeGreaterThanOrEqual", (a, b) => a >= b, ">="),
  toBeLessThan: compare("toBeLessThan", (a, b) => a < b, "<"),
  toBeLessThanOrEqual: compare("toBeLessThanOrEqual", (a, b) => a <= b, "<="),
  toBeCloseTo(actual, expected, precision = 2) {
    if (typeof actual !== "number") usageError(this, "toBeCloseTo", "received value must be a number", actual);
    const pass =
      actual === expected || (Number.isFinite(actual) && Math.abs(expected - actual) < Math.pow(10, -precision) / 2);
    return { pass, message: () => expectedReceived(this, "toBeCloseTo", expected, actual, `\nPrecision: ${precision} digits`) };
  },
  toHaveLength(actual, expected) {
    if (actual === null || actual === undefined || typeof actual.length !== "number") {
      usageError(this, "toHaveLength", "received value must have a length property whose value is a number", actual);
    }
    return {
      pass: actual.length === expected,
      message: () =>
        `${hint(this, "toHaveLength")}\n\nExpected length: ${this.isNot ? "not " : ""}${expected}\nReceived length: ${actual.length}\nReceived value: ${format(actual)}`,
    };
  },
  toBeUndefined(actual) {
    return { pass: actual === undefined, message: () => expectedReceived(this, "toBeUndefined", undefined, actual) };
  },
  toBeDefined(actual) {
    return { pass: actual !== undefined, message: () => `${hint(this, "toBeDefined", "")}\n\nReceived: ${format(actual)}` };
  },
  toBeNull(actual) {
    return { pass: actual === null, message: () => expectedReceived(this, "toBeNull", null, actual) };
  },
  toBeNaN(actual) {
    return { pass: Number.isNaN(actual), message: () => expectedReceived(this, "toBeNaN", NaN, actual) };
  },
  toBeTruthy(actual) {
    return { pass: !!actual, message: () => `${hint(this, "toBeTruthy", "")}\n\nReceived: ${format(actual)}` };
  },
  toBeFalsy(actual) {
    return { pass: !actual, message: () => `${hint(this, "toBeFalsy", "")}\n\nReceived: ${format(actual)}` };
  },
  toContain(actual, expected) {
    let pass: boolean;
    if (typeof actual === "string") {
      if (typeof expected !== "string") usageError(this, "toContain", "expected value must be a string when received is a string", expected);
      pass = actual.includes(expected);
    } else if (actual !== null && actual !== undefined && typeof actual[Symbol.iterator] === "function") {
      pass = Array.from(actual as Iterable<unknown>).some((item) => item === expected || (Number.isNaN(item) && Number.isNaN(expected)));
    } else {
      usageError(this, "toContain", "received value must be a string or an iterable", actual);
    }
    return { pass, message: () => `${hint(this, "toContain")}\n\nExpected value: ${format(expected)}\nReceived ${this.isNot ? "" : "does not contain it"}: ${format(actual)}` };
  },
  toContainEqual(actual, expected) {
    if (actual === null || actual === undefined || typeof actual[Symbol.iterator] !== "function") {
      usageError(this, "toContainEqual", "received value must be an iterable", actual);
    }
    const pass = Array.from(actual as Iterable<unknown>).some((item) => equals(item, expected, "loose"));
    return { pass, message: () => `${hint(this, "toContainEqual")}\n\nExpected value: ${format(expected)}\nReceived: ${format(actual)}` };
  },
  toMatch(actual, expected) {
    if (typeof actual !== "string") usageError(this, "toMatch", "received value must be a string", actual);
    const pass = typeof expected === "string" ? actual.includes(expected) : (expected as RegExp).test(actual);
    return { pass, message: () => expectedReceived(this, "toMatch", expected, actual) };
  },
  toHaveProperty(actual, path, ...rest) {
    if (actual === null || actual === undefined) usageError(this, "toHaveProperty", "received value must not be null nor undefined", actual);
    const keys = parsePropertyPath(path);
    let current: any = actual;
    let found = true;
    for (const key of keys) {
      if (current === null || current === undefined || !(key in Object(current))) {
        found = false;
        break;
      }
      current = current[key];
    }
    const checkValue = rest.length > 0;
    const pass = found && (!checkValue || equals(current, rest[0], "loose"));
    return {
      pass,
      message: () =>
        `${hint(this, "toHaveProperty", checkValue ? "path, value" : "path")}\n\n` +
        `Expected path: ${format(path)}${found ? "" : " (not found)"}\n` +
        (checkValue ? `Expected value: ${this.isNot ? "not " : ""}${format(rest[0])}\n` : "") +
        (found ? `Received value: ${format(current)}\n` : "") +
        `Received: ${format(actual)}`,
    };
  },
};

// Per-test assertion bookkeeping for expect.assertions()/hasAssertions().
let assertionCalls = 0;
let expectedAssertions: number | undefined;
let requireAssertions = false;

function resetAssertionState(): void {
  assertionCalls = 0;
  expectedAssertions = undefined;
  requireAssertions = false;
}

function runMatcher(ctx: MatcherContext, name: string, actual: unknown, args: unknown[]): void {
  const result = matchers[name].call(ctx, actual, ...args);
  if (result.pass === ctx.isNot) throw new ExpectationError(result.message());
}

function syncMatchers(actual: unknown, isNot: boolean): Record<string, (...args: unknown[]) => void> {
  const ctx: MatcherContext = { isNot, promise: "" };
  const api: Record<string, (...args: unknown[]) => void> = {};
  for (const name of Object.keys(matchers)) {
    api[name] = (...args) => {
      assertionCalls++;
      runMatcher(ctx, name, actual, args);
    };
  }
  return api;
}

/** Awaits the received promise, checks it settled the expected way, then applies the matcher. */
async function settleAndMatch(ctx: MatcherContext, name: string, actual: unknown, args: unknown[]): Promise<void> {
  const promise = typeof actual === "function" ? (actual as () => unknown)() : actual;
  if (!isThenable(promise)) usageError(ctx, name, "received value must be a promise or a function returning a promise", promise);
  let settled: { ok: true; value: unknown } | { ok: false; reason: unknown };
  try {
    settled = { ok: true, value: await promise };
  } catch (reason) {
    settled = { ok: false, reason };
  }
  if (ctx.promise === "rejects" && settled.ok) {
    throw new ExpectationError(`${hint(ctx, name)}\n\nReceived promise resolved instead of rejected\nResolved to value: ${format(settled.value)}`);
  }
  if (ctx.promise === "resolves" && !settled.ok) {
    throw new ExpectationError(`${hint(ctx, name)}\n\nReceived promise rejected instead of resolved\nRejected to value: ${format(settled.reason)}`);
  }
  runMatcher(ctx, name, settled.ok ? settled.value : settled.reason, args);
}

function asyncMatchers(actual: unknown, mode: "rejects" | "resolves", isNot: boolean): Record<string, (...args: unknown[]) => Promise<void>> {
  const ctx: MatcherContext = { isNot, promise: mode };
  const api: Record<string, (...args: unknown[]) => Promise<void>> = {};
  for (const name of Object.keys(matchers)) {
    api[name] = async (...args) => {
      assertionCalls++;
      // Created before the first await so that its stack shows the caller's line; frames captured after
      // the await would all be inside the shim.
      const origin = new ExpectationError("");
      try {
        await settleAndMatch(ctx, name, actual, args);
      } catch (error) {
        if (!(error instanceof ExpectationError)) throw error;
        origin.message = error.message;
        throw origin;
      }
    };
  }
  return api;
}

function makeExpect(): any {
  const expect = (actual: unknown) => {
    const api: any = syncMatchers(actual, false);
    api.not = syncMatchers(actual, true);
    api.resolves = asyncMatchers(actual, "resolves", false);
    api.resolves.not = asyncMatchers(actual, "resolves", true);
    api.rejects = asyncMatchers(actual, "rejects", false);
    api.rejects.not = asyncMatchers(actual, "rejects", true);
    return api;
  };
  expect.any = (ctor: unknown) => {
    if (typeof ctor !== "function") throw new TypeError("expect.any() expects a class or function");
    return new AsymmetricMatcher(`Any<${ctor.name}>`, (other) => matchesAny(ctor, other));
  };
  expect.anything = () => new AsymmetricMatcher("Anything", (other) => other !== null && other !== undefined);
  expect.objectContaining = (sample: Record<PropertyKey, unknown>) =>
    new AsymmetricMatcher(`ObjectContaining ${format(sample)}`, (other) =>
      other !== null && typeof other === "object" && ownKeys(sample).every((k) => k in other && equals((other as any)[k], (sample as any)[k], "loose")),
    );
  expect.arrayContaining = (sample: unknown[]) =>
    new AsymmetricMatcher(`ArrayContaining ${format(sample)}`, (other) =>
      Array.isArray(other) && sample.every((item) => other.some((o) => equals(o, item, "loose"))),
    );
  expect.stringContaining = (sample: string) =>
    new AsymmetricMatcher(`StringContaining ${format(sample)}`, (other) => typeof other === "string" && other.includes(sample));
  expect.stringMatching = (sample: string | RegExp) =>
    new AsymmetricMatcher(`StringMatching ${format(sample)}`, (other) =>
      typeof other === "string" && (typeof sample === "string" ? new RegExp(sample) : sample).test(other),
    );
  expect.assertions = (n: number) => {
    expectedAssertions = n;
  };
  expect.hasAssertions = () => {
    requireAssertions = true;
  };
  return expect;
}

// ---------------------------------------------------------------------------------------------
// Registration: describe / it / hooks build a tree, exactly like Jest's collection phase.

function newSuite(name: string, parent: SuiteNode | null, mode: Mode): SuiteNode {
  return { kind: "suite", name, parent, mode, file: currentFile, children: [], beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] };
}

let currentFile: string | undefined;
let root = newSuite("", null, "run");
let currentSuite = root;
/** Errors thrown while collecting (a describe callback threw): reported as failures. */
let collectionErrors: TestFailure[] = [];

/** Tags the tests registered from now on with a suite file (used when several files share one bundle). */
export function setCurrentFile(file: string): void {
  currentFile = file;
}

/** Records that a suite file failed to load (its top level threw), so the run reports it instead of dying. */
export function recordLoadError(file: string, error: unknown): void {
  collectionErrors.push({ name: `${file} (while loading the file)`, error: describeError(error) });
}

/** Forgets all registered tests (for running the shim itself more than once). */
export function resetRegistry(): void {
  currentFile = undefined;
  root = newSuite("", null, "run");
  currentSuite = root;
  collectionErrors = [];
}

function pathOf(node: SuiteNode | TestNode): string[] {
  const names: string[] = [];
  for (let n: SuiteNode | TestNode | null = node; n && n !== root; n = n.parent) names.unshift(n.name);
  return names;
}

function fullName(node: SuiteNode | TestNode): string {
  return pathOf(node).join(NAME_SEPARATOR);
}

function registerSuite(mode: Mode, name: unknown, fn: () => unknown): void {
  const suite = newSuite(String(name), currentSuite, mode);
  currentSuite.children.push(suite);
  const saved = currentSuite;
  currentSuite = suite;
  try {
    const returned = fn();
    if (returned !== null && typeof returned === "object" && typeof (returned as any).then === "function") {
      collectionErrors.push({ name: fullName(suite), error: "A describe callback must not return a promise (tests are collected synchronously)." });
    }
  } catch (error) {
    collectionErrors.push({ name: fullName(suite), error: `describe callback threw: ${describeError(error)}` });
  } finally {
    currentSuite = saved;
  }
}

function registerTest(mode: Mode, name: unknown, fn: TestFn | undefined): void {
  if (mode !== "todo" && typeof fn !== "function") {
    collectionErrors.push({ name: [...pathOf(currentSuite), String(name)].join(NAME_SEPARATOR), error: "test() needs a function" });
    return;
  }
  currentSuite.children.push({ kind: "test", name: String(name), parent: currentSuite, mode, file: currentFile, fn });
}

/** Formats a test title for .each: printf-style %s %d %i %f %j %o %p %#, and $key for object rows. */
function eachTitle(template: string, args: unknown[], index: number): string {
  const row = args.length === 1 ? args[0] : undefined;
  let i = 0;
  let title = template.replace(/%([sdifjop#%])/g, (whole, code: string) => {
    if (code === "%") return "%";
    if (code === "#") return String(index);
    if (i >= args.length) return whole;
    const value = args[i++];
    switch (code) {
      case "s":
        return typeof value === "string" ? value : format(value);
      case "d":
      case "i":
        return String(code === "i" ? Math.trunc(Number(value)) : Number(value));
      case "f":
        return String(Number(value));
      default:
        return format(value);
    }
  });
  if (row !== null && typeof row === "object" && !Array.isArray(row)) {
    title = title.replace(/\$([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)/g, (whole, path: string) => {
      let v: any = row;
      for (const key of path.split(".")) v = v === null || v === undefined ? undefined : v[key];
      return v === undefined && !(path.split(".")[0] in row) ? whole : typeof v === "string" ? v : format(v);
    });
  }
  return title;
}

/** `.each(table)(title, fn)`: one registration per row; array rows are spread into fn's arguments. */
function makeEach(register: (name: string, fn: () => unknown) => void) {
  return (table: unknown) => {
    if (!Array.isArray(table)) throw new Error("XS shim: .each supports arrays only (no tagged-template tables)");
    return (template: unknown, fn: (...args: any[]) => unknown) => {
      table.forEach((row, index) => {
        const args = Array.isArray(row) ? row : [row];
        register(eachTitle(String(template), args, index), () => fn(...args));
      });
    };
  };
}

function makeTestApi() {
  const it: any = (name: unknown, fn: TestFn) => registerTest("run", name, fn);
  it.skip = (name: unknown, fn?: TestFn) => registerTest("skip", name, fn ?? (() => {}));
  it.only = (name: unknown, fn: TestFn) => registerTest("only", name, fn);
  it.todo = (name: unknown) => registerTest("todo", name, undefined);
  it.each = makeEach((name, fn) => registerTest("run", name, fn));
  it.skip.each = makeEach((name, fn) => registerTest("skip", name, fn));
  it.only.each = makeEach((name, fn) => registerTest("only", name, fn));

  const describe: any = (name: unknown, fn: () => unknown) => registerSuite("run", name, fn);
  describe.skip = (name: unknown, fn: () => unknown) => registerSuite("skip", name, fn);
  describe.only = (name: unknown, fn: () => unknown) => registerSuite("only", name, fn);
  describe.each = makeEach((name, fn) => registerSuite("run", name, fn));
  return { it, describe };
}

// ---------------------------------------------------------------------------------------------
// Running: sequential, on promise jobs only.

function describeError(error: unknown): string {
  if (error instanceof Error || (error !== null && typeof error === "object" && "message" in (error as object))) {
    const e = error as Error;
    const head = error instanceof ExpectationError ? e.message : `${e.name || "Error"}: ${e.message}`;
    // XS stacks look like "Error: msg\n at f (#1:123)" (bundle lines): keep the frames for the Node side
    // to map back to source files (bundle.ts mapXsStack), which also drops the shim's own frames.
    const frames = typeof e.stack === "string" ? e.stack.split("\n").filter((l) => /^\s*at /.test(l)).slice(0, 12) : [];
    return frames.length ? `${head}\n${frames.join("\n")}` : head;
  }
  return `Thrown: ${format(error)}`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as any).then === "function";
}

/** Calls a test or hook; a function that declares a parameter gets Jest's `done` callback. */
function invoke(fn: TestFn): Promise<unknown> {
  if (fn.length === 0) {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return new Promise((resolve, reject) => {
    const done: any = (error?: unknown) => (error === undefined || error === null ? resolve(undefined) : reject(error));
    done.fail = (error?: unknown) => reject(error ?? new Error("done.fail() called"));
    try {
      const returned = fn(done);
      if (isThenable(returned)) reject(new Error("Test functions cannot both take a 'done' callback and return a promise."));
    } catch (error) {
      reject(error);
    }
  });
}

function progress(text: string): void {
  // Optional breadcrumb for the XS runner (shows the hanging test if the job queue drains early).
  const hook = (globalThis as any).__progress;
  if (typeof hook === "function") hook(text);
}

function allTests(suite: SuiteNode, out: TestNode[] = []): TestNode[] {
  for (const child of suite.children) {
    if (child.kind === "test") out.push(child);
    else allTests(child, out);
  }
  return out;
}

function hasOnly(suite: SuiteNode): boolean {
  return suite.children.some((c) => c.mode === "only" || (c.kind === "suite" && hasOnly(c)));
}

function shouldRun(test: TestNode, onlyMode: boolean): boolean {
  if (test.mode === "skip" || test.mode === "todo") return false;
  let selected = test.mode === "only";
  for (let s: SuiteNode | null = test.parent; s; s = s.parent) {
    if (s.mode === "skip") return false;
    if (s.mode === "only") selected = true;
  }
  return !onlyMode || selected;
}

/** Runs every registered test, in registration order, and summarises the outcome. */
export async function runAll(): Promise<RunResult> {
  const result: RunResult = { passed: 0, failed: [...collectionErrors], tests: [], registered: 0, skipped: [], files: {} };
  const onlyMode = hasOnly(root);
  const everything = allTests(root);
  const runnable = new Set(everything.filter((t) => shouldRun(t, onlyMode)));
  result.registered = everything.length;
  for (const test of everything) {
    if (test.file !== undefined) result.files[test.file] ??= { registered: 0, ran: 0, failed: 0 };
    if (test.file !== undefined) result.files[test.file].registered++;
  }

  const record = (test: TestNode, error: unknown | undefined, failed: boolean) => {
    const name = fullName(test);
    result.tests.push(name);
    const file = test.file !== undefined ? result.files[test.file] : undefined;
    if (file) file.ran++;
    if (failed) {
      result.failed.push({ name, error: describeError(error) });
      if (file) file.failed++;
    } else {
      result.passed++;
    }
  };

  const runTest = async (test: TestNode) => {
    const name = fullName(test);
    progress(name);
    resetAssertionState();
    const chain: SuiteNode[] = [];
    for (let s: SuiteNode | null = test.parent; s; s = s.parent) chain.unshift(s);
    let error: unknown;
    let failed = false;
    const fail = (e: unknown) => {
      if (!failed) {
        failed = true;
        error = e;
      }
    };
    outer: for (const suite of chain) {
      for (const hook of suite.beforeEach) {
        try {
          await invoke(hook);
        } catch (e) {
          fail(e);
          break outer;
        }
      }
    }
    if (!failed) {
      try {
        await invoke(test.fn!);
      } catch (e) {
        fail(e);
      }
    }
    for (const suite of [...chain].reverse()) {
      for (const hook of suite.afterEach) {
        try {
          await invoke(hook);
        } catch (e) {
          fail(e);
        }
      }
    }
    if (!failed && expectedAssertions !== undefined && assertionCalls !== expectedAssertions) {
      fail(new ExpectationError(`expect.assertions(${expectedAssertions})\n\nExpected ${expectedAssertions} assertions to be called but received ${assertionCalls}.`));
    }
    if (!failed && requireAssertions && assertionCalls === 0) {
      fail(new ExpectationError("expect.hasAssertions()\n\nExpected at least one assertion to be called but received none."));
    }
    record(test, error, failed);
  };

  const runSuite = async (suite: SuiteNode, inheritedError: { error: unknown } | undefined) => {
    const tests = allTests(suite).filter((t) => runnable.has(t));
    if (tests.length === 0) {
      for (const t of allTests(suite)) result.skipped.push(fullName(t));
      return;
    }
    let setupError = inheritedError;
    if (!setupError) {
      for (const hook of suite.beforeAll) {
        try {
          await invoke(hook);
        } catch (error) {
          setupError = { error };
          break;
        }
      }
    }
    for (const child of suite.children) {
      if (child.kind === "suite") {
        await runSuite(child, setupError);
      } else if (!runnable.has(child)) {
        result.skipped.push(fullName(child));
      } else if (setupError) {
        progress(fullName(child));
        record(child, new Error(`beforeAll hook failed: ${describeError(setupError.error)}`), true);
      } else {
        await runTest(child);
      }
    }
    if (!inheritedError) {
      for (const hook of suite.afterAll) {
        try {
          await invoke(hook);
        } catch (error) {
          result.failed.push({ name: `${fullName(suite) || "(top level)"}${NAME_SEPARATOR}afterAll hook`, error: describeError(error) });
        }
      }
    }
  };

  await runSuite(root, undefined);
  progress("(all tests finished)");
  return result;
}

/** Installs describe/it/test/expect/hooks as globals (replacing any existing ones) and sets __XS__. */
export function installGlobals(target: any = globalThis): void {
  const { it, describe } = makeTestApi();
  target.describe = describe;
  target.it = it;
  target.test = it;
  target.xit = it.skip;
  target.xdescribe = describe.skip;
  target.fit = it.only;
  target.expect = makeExpect();
  target.beforeEach = (fn: TestFn) => currentSuite.beforeEach.push(fn);
  target.afterEach = (fn: TestFn) => currentSuite.afterEach.push(fn);
  target.beforeAll = (fn: TestFn) => currentSuite.beforeAll.push(fn);
  target.afterAll = (fn: TestFn) => currentSuite.afterAll.push(fn);
  target.__XS__ = true;
}
