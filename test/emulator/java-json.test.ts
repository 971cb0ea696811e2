import { gsonQuote, gsonStringify, jacksonQuote, javaUtf8 } from "../../tools/emulator/java-json.js";

describe("Java JSON text", () => {
  it("Gson: lower-case \\u00xx for control characters, short escapes, U+2028/2029 escaped, no HTML escaping", () => {
    expect(gsonQuote('a"b\\c\b\t\n\f\r\u0000\u001f\u007f\u2028\u2029<>&=\'/é😀')).toBe(
      '"a\\"b\\\\c\\b\\t\\n\\f\\r\\u0000\\u001f\u007f\\u2028\\u2029<>&=\'/é😀"',
    );
  });
  it("Jackson: upper-case \\u00XX, U+2028 left as is", () => {
    expect(jacksonQuote("\u001f\u001a\n\u2028")).toBe('"\\u001F\\u001A\\n\u2028"');
  });
  it("gsonStringify keeps key order and nests", () => {
    expect(gsonStringify({ b: 1, a: [true, null, "x"], c: { d: "\u0001" } })).toBe('{"b":1,"a":[true,null,"x"],"c":{"d":"\\u0001"}}');
  });
  it("javaUtf8 writes a lone surrogate as '?' and keeps pairs", () => {
    expect(Buffer.from(javaUtf8("a\ud800b\udc00c😀")).toString("utf8")).toBe("a?b?c😀");
  });
});
