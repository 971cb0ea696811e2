/**
 * Smoke suite for the XS conformance harness (test/xs). It runs under Jest on Node and under the expect
 * shim inside XS, so every assertion here is also a parity check: the shim must agree with Jest.
 */

const onXs = (globalThis as { __XS__?: boolean }).__XS__ === true;
/** Asserts that an expectation fails (throws), the way both Jest and the shim report it. */
const fails = (assertion: () => void) => expect(assertion).toThrow();

describe("xs smoke: host environment", () => {
  it("has no Node or xsnap-only host globals under XS", () => {
    if (!onXs) return; // on Node these exist; the point is that the XS run proves the core can do without
    for (const name of ["Buffer", "process", "require", "setTimeout", "setImmediate", "console", "TextEncoder", "TextDecoder"]) {
      expect([name, typeof (globalThis as Record<string, unknown>)[name]]).toEqual([name, "undefined"]);
    }
  });

  it("has BigInt and DataView with 64-bit access", () => {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, 0x0102030405060708n);
    expect(view.getUint8(0)).toBe(1);
    expect(view.getUint8(7)).toBe(8);
    expect(view.getBigUint64(0)).toBe(0x0102030405060708n);
    expect(2n ** 64n - 1n).toBeGreaterThan(2n ** 53n);
  });

  it("encodes UTF-8 without TextEncoder", () => {
    // encodeURIComponent is plain ECMAScript: a portable way to get UTF-8 bytes.
    const bytes = Array.from(unescape(encodeURIComponent("é€")), (c) => c.charCodeAt(0));
    expect(new Uint8Array(bytes)).toEqual(new Uint8Array([0xc3, 0xa9, 0xe2, 0x82, 0xac]));
  });
});

describe("xs smoke: matchers agree with Jest", () => {
  class Point {
    x = 1;
  }

  it("toBe / toEqual / toStrictEqual", () => {
    expect(NaN).toBe(NaN);
    fails(() => expect(0).toBe(-0));
    expect([1, [2, { x: 3 }]]).toEqual([1, [2, { x: 3 }]]);
    expect({ a: 1, b: undefined }).toEqual({ a: 1 });
    fails(() => expect({ a: 1, b: undefined }).toStrictEqual({ a: 1 }));
    expect([1, 2]).toEqual([1, 2, undefined]);
    fails(() => expect([1, 2]).toStrictEqual([1, 2, undefined]));
    expect(new Point()).toEqual({ x: 1 });
    fails(() => expect(new Point()).toStrictEqual({ x: 1 }));
    expect(new Uint8Array([1, 2, 3])).toEqual(new Uint8Array([1, 2, 3]));
    fails(() => expect(new Uint8Array([1, 2, 3])).toEqual(new Uint8Array([1, 2, 4])));
    fails(() => expect(new Uint8Array([1])).toEqual([1]));
    fails(() => expect(new Uint8Array([1])).toEqual(new Int8Array([1])));
    expect(new Uint8Array([1, 2]).buffer).toStrictEqual(new Uint8Array([1, 2]).buffer);
    fails(() => expect(new Uint8Array([1, 2]).buffer).toStrictEqual(new Uint8Array([1, 3]).buffer));
    expect(new Map([[{ k: 1 }, [1]]])).toEqual(new Map([[{ k: 1 }, [1]]]));
    fails(() => expect(new Map([["a", 1]])).toEqual(new Map([["a", 2]])));
    fails(() => expect(new Set([1, 2])).toEqual(new Set([1, 3])));
    expect({ n: 1n }).toEqual({ n: 1n });
    fails(() => expect({ n: 1n }).toEqual({ n: 1 }));
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    const cyclic2: { self?: unknown } = {};
    cyclic2.self = cyclic2;
    expect(cyclic).toEqual(cyclic2);
    expect({ n: 1, s: "x", t: [3] }).toEqual({ n: expect.any(Number), s: expect.anything(), t: expect.arrayContaining([3]) });
  });

  it("toMatchObject / toHaveProperty", () => {
    expect({ a: 1, b: { c: 2, d: 3 }, e: [1, 2] }).toMatchObject({ b: { c: 2 }, e: [1, 2] });
    fails(() => expect({ e: [1, 2] }).toMatchObject({ e: [1] }));
    fails(() => expect({ a: 1 }).toMatchObject({ a: 1, b: undefined }));
    expect([{ a: 1, b: 2 }]).toMatchObject([{ a: 1 }]);
    expect({ a: [{ b: 5 }] }).toHaveProperty("a[0].b", 5);
    expect({ a: { b: 1 } }).toHaveProperty(["a", "b"]);
    expect({ a: { b: 1 } }).not.toHaveProperty("a.c");
    fails(() => expect({ a: { b: 1 } }).toHaveProperty("a.b", 2));
    expect("abc").toHaveProperty("length", 3);
  });

  it("toThrow and failed expectations", () => {
    fails(() => expect(1).toBe(2));
    expect(() => expect({ a: 1 }).toEqual({ a: 2 })).toThrow(/toEqual/);
    const thrower = () => {
      throw new TypeError("bad length 70000");
    };
    expect(thrower).toThrow(TypeError);
    expect(thrower).toThrow(Error);
    expect(thrower).toThrow("length");
    expect(thrower).toThrow(/\d+/);
    expect(thrower).not.toThrow(RangeError);
    fails(() => expect(thrower).toThrow(RangeError));
    fails(() => expect(() => 1).toThrow());
    expect(() => expect([1, 2]).toHaveLength(2)).not.toThrow();
  });

  it("comparisons, truthiness, containment", () => {
    expect(2).toBeGreaterThan(1);
    expect(2n).toBeGreaterThanOrEqual(2n);
    expect(1).toBeLessThan(2);
    expect(2).toBeLessThanOrEqual(2);
    fails(() => expect(1).toBeGreaterThan(1));
    expect(new Uint8Array(4)).toHaveLength(4);
    expect(undefined).toBeUndefined();
    expect(null).toBeDefined();
    expect(null).toBeNull();
    expect(1).toBeTruthy();
    expect(0n).toBeFalsy();
    expect([1, 2]).toContain(2);
    expect("abc").toContain("b");
    expect(new Uint8Array([7])).toContain(7);
    fails(() => expect([{ a: 1 }]).toContain({ a: 1 }));
    expect("abc").toMatch(/b/);
    expect(new Point()).toBeInstanceOf(Point);
    fails(() => expect({}).toBeInstanceOf(Point));
  });
});

describe("xs smoke: async, hooks and each", () => {
  const order: string[] = [];
  beforeEach(() => {
    order.push("before");
  });
  afterEach(() => {
    order.push("after");
  });

  it("awaits chained promises and async matchers", async () => {
    const step = (n: number) => Promise.resolve(n + 1);
    let n = 0;
    for (let i = 0; i < 10; i++) n = await step(n);
    expect(n).toBe(10);
    await expect(Promise.resolve({ ok: true })).resolves.toEqual({ ok: true });
    await expect(Promise.reject(new TypeError("bad packet"))).rejects.toThrow("bad packet");
    await expect(Promise.reject(new TypeError("bad packet"))).rejects.toBeInstanceOf(TypeError);
    await expect(expect(Promise.resolve(1)).rejects.toThrow()).rejects.toThrow();
  });

  it("ran the hooks of the previous test in order", () => {
    expect(order).toEqual(["before", "after", "before"]);
  });

  it.each([
    [1, 2, 3],
    [2, 3, 5],
  ])("it.each: %i + %i = %i", (a, b, sum) => {
    expect(a + b).toBe(sum);
  });
});
