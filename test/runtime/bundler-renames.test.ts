// The uncompiled fallback reads a free name ending in digits (`sum2`) as a bundler's rename of
// gradc's op only where a bundler can have renamed it, and never over a name the program itself
// defines: a helper `mul3` of the program is not gradc's `mul`. Expected gradients are worked by
// hand in each test.

import { afterEach, describe, expect, it } from "vitest";
import { grad, sum, tensor } from "../../runtime/index.js";
import { runtimeBundled, setRuntimeBundled } from "../../runtime/interpret-names.js";

// A helper of the program whose name is a gradc op's plus a digit: it multiplies, it does not add.
function add3(a: number, b: number): number {
  return a * b;
}
// What a bundler leaves after renaming the import `sum` (another `sum` was in the bundle).
const sum2 = sum;

const initial = runtimeBundled;
afterEach(() => setRuntimeBundled(initial));

describe("free names ending in digits, in the uncompiled fallback", () => {
  it("unbundled (as the tests run), gradc's runtime knows it is not in a bundle", () => {
    expect(runtimeBundled).toBe(false);
  });

  it("a helper add3 of the module, not supplied: refused by name, never computed as gradc's add", () => {
    const f = (x: number) => add3(x, x);
    // Read as add, d(x + x)/dx would be 2: a silent wrong answer.
    expect(() => grad(f)(3)).toThrow(/^GRADC1011: 'add3' is not defined here/);
  });

  it("the helper add3 supplied in scope is the program's own: d(x·x)/dx = 2x", () => {
    const f = (x: number) => add3(x, x);
    expect(grad(f, { scope: { add3 } })(3)).toBe(6);
    setRuntimeBundled(true);
    expect(grad(f, { scope: { add3 } })(3)).toBe(6);
  });

  it("a helper add3 the function defines itself wins in a bundle too: d(x·x·x)/dx = 3x²", () => {
    const f = (x: number) => {
      const add3 = (a: number, b: number) => a * b;
      return add3(add3(x, x), x);
    };
    setRuntimeBundled(true);
    expect(grad(f)(2)).toBe(12);
  });

  it("in a bundle, a free sum2 nothing defines is gradc's sum renamed: d sum(x)/dx = 1 each", () => {
    const f = (x: ReturnType<typeof tensor>) => sum2(x);
    setRuntimeBundled(true);
    const g = grad(f)(tensor([1, 2, 3])) as unknown as { data: Float64Array };
    expect([...g.data]).toEqual([1, 1, 1]);
    // Unbundled, nothing renames imports: the same name is refused.
    setRuntimeBundled(false);
    expect(() => grad(f)(tensor([1, 2, 3]))).toThrow(/^GRADC1011: 'sum2'/);
  });
});
