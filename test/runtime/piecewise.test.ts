// The piecewise-constant Math functions and the remainder `%` on the runtime's tape: gradients
// against central finite differences, on numbers and on broadcast tensors, at points away from
// the jumps; and the uncompiled `grad` of a model calling the Math functions.

import { describe, expect, it } from "vitest";
import { getOp } from "../../compiler/ops/index.js";
import type { Val } from "../../compiler/ops/values.js";
import { grad } from "../../runtime/index.js";
import { Var, apply, backward } from "../../runtime/tape.js";
import { centralDifference, relErr } from "../helpers/numeric.js";

const floorPoints = [-1.7, -0.4, 0.3, 1.2, 2.6];

/** The gradient of sum(op(args)) on the tape, per argument. */
function tapeGrads(op: string, args: readonly Val[]): Val[] {
  const vars = args.map((a) => new Var(a));
  let out = apply(getOp(op), vars);
  if (typeof (out instanceof Var ? out.value : out) !== "number") out = apply(getOp("sum"), [out], { keepdims: false });
  expect(out).toBeInstanceOf(Var);
  backward(out as Var);
  return vars.map((v) => (v.grad === null ? 0 : (v.grad as Val)));
}

describe("on the tape", () => {
  it.each(["floor", "ceil", "round", "sign"])("%s has gradient 0 between its jumps", (op) => {
    for (const x of floorPoints) expect(tapeGrads(op, [x])).toEqual([0]);
  });

  it("x % y: 1 and -trunc(x/y), against finite differences", () => {
    for (const [x, y] of [
      [5.3, 2],
      [-5.3, 2],
      [5.3, -1.5],
      [0.7, 3],
      [-7.9, -2.2],
    ] as const) {
      const [dx, dy] = tapeGrads("rem", [x, y]) as number[];
      expect(relErr(dx!, centralDifference((a) => a % y, x))).toBeLessThan(1e-6);
      expect(relErr(dy!, centralDifference((b) => x % b, y))).toBeLessThan(1e-6);
      expect(dy).toBe(-Math.trunc(x / y));
    }
  });

  it("x % y broadcast over tensors sums -trunc(x/y) back to y's shape", () => {
    const x = { shape: [2, 3], data: Float64Array.from([5.3, -4.1, 7.7, 0.4, -9.2, 3.3]) };
    const y = { shape: [3], data: Float64Array.from([2, -1.5, 3.1]) };
    const [gx, gy] = tapeGrads("rem", [x, y]) as { data: Float64Array }[];
    expect([...gx!.data]).toEqual([1, 1, 1, 1, 1, 1]);
    const want = [0, 1, 2].map((j) => -Math.trunc(x.data[j]! / y.data[j]!) - Math.trunc(x.data[3 + j]! / y.data[j]!));
    expect([...gy!.data]).toEqual(want);
  });
});

describe("uncompiled grad of a model with piecewise-constant Math functions", () => {
  const f = (x: number, y: number): number => {
    const cells = Math.floor(x * 3);
    return (x * 3 - cells) * y + Math.ceil(y) * x + Math.round(x * y) * y + Math.sign(x - y) * x * x;
  };
  it("matches finite differences", () => {
    const df = grad(f, { argnums: [0, 1] });
    for (const [x, y] of [
      [0.45, 1.3],
      [-1.1, 0.6],
      [1.7, -0.8],
    ] as const) {
      const [dx, dy] = df(x, y) as [number, number];
      expect(relErr(dx, centralDifference((a) => f(a, y), x))).toBeLessThan(1e-6);
      expect(relErr(dy, centralDifference((b) => f(x, b), y))).toBeLessThan(1e-6);
    }
  });
});
