/**
 * Smoke suite for the XS conformance harness (test/xs): it runs on Node under Jest and inside XS under
 * the expect shim, and checks the things the core relies on (or must not rely on) in both places.
 */

const onXs = (globalThis as any).__XS__ === true;

describe("xs smoke: host environment", () => {
  it("has no Node or xsnap-only host globals under XS", () => {
    if (!onXs) return; // on Node these exist; the point is that the XS run proves the core can do without
    for (const name of ["Buffer", "process", "require", "setTimeout", "setImmediate", "console", "TextEncoder", "TextDecoder"]) {
      expect([name, typeof (globalThis as any)[name]]).toEqual([name, "undefined"]);
    }
  });

  it("has BigInt and DataView with 64-bit access", () => {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, 0x0102030405060708n);
    expect(view.getUint8(0)).toBe(1);
    expect(view.getUint8(7)).toBe(8);
    expect(view.getBigUint64(0)).toBe(0x0102030405060708n);
    expect(2n ** 64n - 1n).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
  });

  it("encodes UTF-8 without TextEncoder", () => {
    // encodeURIComponent is plain ECMAScript: a portable way to get UTF-8 bytes.
    const bytes = Array.from(unescape(encodeURIComponent("é€")), (c) => c.charCodeAt(0));
    expect(new Uint8Array(bytes)).toEqual(new Uint8Array([0xc3, 0xa9, 0xe2, 0x82, 0xac]));
  });
});

describe("xs smoke: matchers", () => {
  it("compares bytes, buffers and collections deeply", () => {
    expect(new Uint8Array([1, 2, 3])).toEqual(new Uint8Array([1, 2, 3]));
    expect(new Uint8Array([1, 2, 3])).not.toEqual(new Uint8Array([1, 2, 4]));
    expect(new Uint8Array([1, 2]).buffer).toEqual(new Uint8Array([1, 2]).buffer);
    expect(new Map([["a", [1]]])).toEqual(new Map([["a", [1]]]));
    expect(new Set([1, 2])).not.toEqual(new Set([1, 3]));
    expect({ a: 1, b: undefined }).toEqual({ a: 1 });
    expect({ a: 1, b: undefined }).not.toStrictEqual({ a: 1 });
    expect({ a: 1, nested: { b: 2, c: 3 } }).toMatchObject({ nested: { b: 2 } });
    expect({ a: { b: [0, 7] } }).toHaveProperty("a.b[1]", 7);
  });

  it("reports failed expectations as thrown errors", () => {
    expect(() => expect(1).toBe(2)).toThrow();
    expect(() => expect({ a: 1 }).toEqual({ a: 2 })).toThrow(/toEqual/);
    expect(() => expect([1, 2]).toHaveLength(2)).not.toThrow();
    expect(() => {
      throw new RangeError("out of range: 70000");
    }).toThrow(RangeError);
  });
});

describe("xs smoke: async and hooks", () => {
  const order: string[] = [];
  beforeEach(() => {
    order.push("before");
  });
  afterEach(() => {
    order.push("after");
  });

  it("awaits chained promises", async () => {
    const step = (n: number) => Promise.resolve(n + 1);
    let n = 0;
    for (let i = 0; i < 10; i++) n = await step(n);
    expect(n).toBe(10);
    await expect(Promise.resolve({ ok: true })).resolves.toEqual({ ok: true });
    await expect(Promise.reject(new TypeError("bad packet"))).rejects.toThrow("bad packet");
    await expect(Promise.reject(new TypeError("bad packet"))).rejects.toBeInstanceOf(TypeError);
  });

  it("ran the hooks of the previous test in order", () => {
    expect(order).toEqual(["before", "after", "before"]);
  });
});
