// The runtime's fast kernels against the op registry's reference evaluation: same values, bit
// for bit, same shapes and dtypes, over random shapes with broadcasting.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ElementwiseOp, getOp } from "../../compiler/ops/index.js";
import type { TensorVal, Val } from "../../compiler/ops/values.js";
import * as kernels from "../../runtime/kernels.js";

const floats = (n: number, f32: boolean) =>
  fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n }).map((xs) => (f32 ? Float32Array.from(xs) : Float64Array.from(xs)));

const tensorOf = (shape: number[], f32: boolean) =>
  floats(
    shape.reduce((a, b) => a * b, 1),
    f32,
  ).map((data): TensorVal => ({ shape, data }));

/** A pair of shapes that broadcast: each axis of the result comes from d or 1, leading axes may be missing. */
const broadcastPair = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 })
  .chain((dims) =>
    fc.tuple(
      fc.array(fc.boolean(), { minLength: dims.length, maxLength: dims.length }),
      fc.array(fc.boolean(), { minLength: dims.length, maxLength: dims.length }),
      fc.integer({ min: 0, max: dims.length - 1 }),
      fc.boolean(),
      fc.boolean(),
    ).map(([o1, o2, drop, f1, f2]) => ({
      a: dims.map((d, i) => (o1[i] ? 1 : d)),
      b: dims.map((d, i) => (o2[i] ? 1 : d)).slice(drop),
      f1,
      f2,
    })),
  );

function sameVal(actual: Val | null, expected: Val): void {
  expect(actual).not.toBeNull();
  if (typeof expected !== "object") return void expect(actual).toBe(expected);
  const a = actual as TensorVal;
  expect(a.shape).toEqual(expected.shape);
  expect(a.data.constructor).toBe(expected.data.constructor);
  expect([...a.data]).toEqual([...expected.data]);
}

describe("elementwise kernels", () => {
  const binaryOps = ["add", "sub", "mul", "div", "maximum", "minimum", "pow"].map((n) => getOp(n) as ElementwiseOp);
  const unaryOps = ["neg", "exp", "tanh", "sigmoid", "relu", "abs", "square"].map((n) => getOp(n) as ElementwiseOp);

  it("binary ops with broadcasting match the reference", () => {
    fc.assert(
      fc.property(
        broadcastPair.chain(({ a, b, f1, f2 }) => fc.tuple(tensorOf(a, f1), tensorOf(b, f2))),
        ([x, y]) => {
          for (const op of binaryOps) {
            sameVal(kernels.elementwise(op, [x, y]), op.evaluate([x, y], {}));
            sameVal(kernels.elementwise(op, [y, x]), op.evaluate([y, x], {}));
            sameVal(kernels.elementwise(op, [x, 0.75]), op.evaluate([x, 0.75], {}));
            sameVal(kernels.elementwise(op, [-1.5, y]), op.evaluate([-1.5, y], {}));
          }
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });

  it("unary ops match the reference", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }).chain((s) => tensorOf(s, false)),
        fc.boolean(),
        (x, f32) => {
          const input: TensorVal = f32 ? { shape: x.shape, data: Float32Array.from(x.data) } : x;
          for (const op of unaryOps) sameVal(kernels.elementwise(op, [input]), op.evaluate([input], {}));
        },
      ),
      { numRuns: 40, seed: 11 },
    );
  });

  it("leaves booleans to the reference", () => {
    const mask: TensorVal = { shape: [2], data: new Uint8Array([1, 0]) };
    expect(kernels.elementwise(getOp("add") as ElementwiseOp, [mask, 1])).toBeNull();
  });
});

describe("matmul kernel", () => {
  it("matches the reference for every transposition flag and dtype", () => {
    const dims = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }));
    fc.assert(
      fc.property(
        dims.chain(([m, k, n]) =>
          fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()).chain(([ta, tb, f32]) =>
            fc.tuple(tensorOf(ta ? [k, m] : [m, k], f32), tensorOf(tb ? [n, k] : [k, n], false), fc.constant({ ta, tb })),
          ),
        ),
        ([a, b, attrs]) => {
          const op = getOp("matmul");
          sameVal(kernels.matmul([a, b], attrs), op.evaluate([a, b], attrs));
        },
      ),
      { numRuns: 80, seed: 3 },
    );
  });
});
