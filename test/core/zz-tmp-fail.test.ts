function helper(x: number) { return x * 2; }
describe("deliberate", () => {
  it("fails an assertion", () => {
    expect(helper(2)).toBe(5);
  });
  it("throws a TypeError", () => {
    const o: any = undefined;
    o.foo();
  });
  it("rejects wrongly", async () => {
    await expect(Promise.resolve(1)).rejects.toThrow("x");
  });
});
