/** What `fn` threw (failing the test if it returned), for asserting on an error's class, code and message. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}
