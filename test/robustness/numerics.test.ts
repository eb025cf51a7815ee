// Numerical edge cases: kinks (max ties go to the first argument, relu and abs have gradient 0
// at 0), domain edges behind a guard (`x > 0 ? Math.sqrt(x) : 0` at -1 is 0, not NaN),
// softmax/logSumExp at ±1000, exp overflowing to Infinity. Each is computed by the compiled
// code and by the runtime's tape (the same source, run uncompiled), which must agree exactly
// on every NaN and Infinity and within 1e-12 elsewhere, and both must give the stated values.

import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { type Compiled, compileFiles, load, tensorOf } from "./helpers.js";

// The source's "gradc" is the runtime: its grad/valueAndGrad are the tape fallback.
vi.mock("gradc", () => import("../../runtime/index.js"));

const SOURCE = `import { valueAndGrad, add, sum, mul, maximum, minimum, relu, softmax, logSumExp, exp, sigmoid, tanh, max, type Tensor } from "gradc";

export const maxTie = valueAndGrad((x: number, y: number): number => Math.max(x, y), { argnums: [0, 1] });
export const minTie = valueAndGrad((x: number, y: number): number => Math.min(x, y), { argnums: [0, 1] });
export const maxWithZero = valueAndGrad((x: number): number => Math.max(x, 0));
export const maximumTie = valueAndGrad((x: Tensor<[3]>, y: Tensor<[3]>): number => sum(maximum(x, y)), { argnums: [0, 1] });
export const minimumTie = valueAndGrad((x: Tensor<[3]>, y: Tensor<[3]>): number => sum(minimum(x, y)), { argnums: [0, 1] });
export const reluAtZero = valueAndGrad((x: Tensor<[3]>): number => sum(relu(x)));
export const absAtZero = valueAndGrad((x: number): number => Math.abs(x));
export const maxReduceTie = valueAndGrad((x: Tensor<[4]>): number => max(x));

export const sqrtGuard = valueAndGrad((x: number): number => (x > 0 ? Math.sqrt(x) : 0));
export const logGuard = valueAndGrad((x: number): number => (x > 0 ? Math.log(x) : 0));
export function sqrtIf(x: number): number {
  let y = 0;
  if (x > 0) {
    y = Math.sqrt(x) * 2;
  }
  return y;
}
export const sqrtGuardIf = valueAndGrad(sqrtIf);

export const lse = valueAndGrad((x: Tensor<[3]>): number => logSumExp(x));
export const softmaxed = valueAndGrad((x: Tensor<[3]>, w: Tensor<[3]>): number => sum(mul(softmax(x), w)), { argnums: [0, 1] });
export const expScalar = valueAndGrad((x: number): number => Math.exp(x));
export const expTensor = valueAndGrad((x: Tensor<[2]>): number => sum(exp(x)));
export const sigmoidFar = valueAndGrad((x: Tensor<[2]>): number => sum(sigmoid(x)));
export const tanhFar = valueAndGrad((x: Tensor<[2]>): number => sum(tanh(x)));
export const overflowDifference = valueAndGrad((x: number): number => Math.exp(x) - Math.exp(x));

// f64 parameters with an f32 tensor in the loss: every cotangent is f32.
export const mixedBranch = valueAndGrad((x: number, h: Tensor<[3], "f32">): number => (x > 1 ? x * x : 3) + sum(h), { argnums: [0, 1] });
export function mixedLoopModel(x: Tensor<[2]>, h: Tensor<[2], "f32">): number {
  let t = x;
  for (let i = 0; i < 20; i++) {
    t = add(mul(t, 0.5), x);
  }
  return sum(mul(t, t)) + sum(h);
}
export const mixedLoop = valueAndGrad(mixedLoopModel, { argnums: [0, 1] });
`;

type VG = (...args: unknown[]) => [number, unknown];
let compiled: Compiled;
let generated: Record<string, unknown>;
let tape: Record<string, unknown>;

beforeAll(async () => {
  compiled = compileFiles("numerics", { "model.ts": SOURCE });
  generated = await load(compiled, "model.ts");
  tape = (await import(/* @vite-ignore */ join(compiled.dir, "model.ts"))) as Record<string, unknown>;
});

/** Numbers of a result (values and gradients), tensors flattened, in order. */
function numbers(x: unknown): number[] {
  if (typeof x === "number") return [x];
  if (Array.isArray(x)) return x.flatMap(numbers);
  if (x && typeof x === "object" && "data" in x) return Array.from((x as { data: ArrayLike<number> }).data);
  return [NaN];
}

/** Runs `name` compiled and on the tape; they must agree; returns the compiled numbers. */
function both(name: string, ...args: unknown[]): number[] {
  return agree(1e-12, name, ...args);
}

function agree(tolerance: number, name: string, ...args: unknown[]): number[] {
  const c = numbers((generated[name] as VG)(...args));
  const t = numbers((tape[name] as VG)(...args));
  expect(c.length, name).toBe(t.length);
  c.forEach((v, i) => {
    const where = `${name} entry ${i}: compiled ${v}, tape ${t[i]}`;
    if (!Number.isFinite(v) || !Number.isFinite(t[i]!)) expect(Object.is(v, t[i]) || (Number.isNaN(v) && Number.isNaN(t[i])), where).toBe(true);
    else expect(Math.abs(v - t[i]!), where).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(v)));
  });
  return c;
}

const t3 = (...v: number[]) => tensorOf([v.length], v);

describe("kinks", () => {
  it("Math.max / Math.min ties: the gradient goes to the first argument", () => {
    expect(both("maxTie", 2, 2)).toEqual([2, 1, 0]);
    expect(both("minTie", -1, -1)).toEqual([-1, 1, 0]);
    expect(both("maxTie", 2, 3)).toEqual([3, 0, 1]);
    // Math.max(x, 0) at 0 is a tie too: x (the first argument) gets it, unlike relu.
    expect(both("maxWithZero", 0)).toEqual([0, 1]);
  });

  it("maximum / minimum of tensors: elementwise ties to the first argument", () => {
    expect(both("maximumTie", t3(1, 2, 3), t3(1, 5, 3))).toEqual([9, 1, 0, 1, 0, 1, 0]);
    expect(both("minimumTie", t3(1, 2, 3), t3(1, 5, 0))).toEqual([3, 1, 1, 0, 0, 0, 1]);
  });

  it("relu and abs at 0 have gradient 0", () => {
    expect(both("reluAtZero", t3(-1, 0, 2))).toEqual([2, 0, 0, 1]);
    expect(both("absAtZero", 0)).toEqual([0, 0]);
    // At -0 the gradient is sign(-0) = -0: zero all the same.
    expect(both("absAtZero", -0).map(Math.abs)).toEqual([0, 0]);
  });

  it("a max reduction with a tie routes the whole gradient to one maximum", () => {
    const [value, ...grad] = both("maxReduceTie", tensorOf([4], [3, 1, 3, 0]));
    expect(value).toBe(3);
    expect(grad.reduce((a, b) => a + b)).toBe(1);
    expect(grad).toEqual([1, 0, 0, 0]);
  });
});

describe("domain edges behind a guard: the branch not taken is never evaluated, not even backward", () => {
  it("x > 0 ? Math.sqrt(x) : 0 at -1 and at 0 is 0 with gradient 0, not NaN", () => {
    expect(both("sqrtGuard", -1)).toEqual([0, 0]);
    expect(both("sqrtGuard", 0)).toEqual([0, 0]);
    expect(both("sqrtGuard", 4)).toEqual([2, 0.25]);
  });

  it("the same with Math.log, and with if/else", () => {
    expect(both("logGuard", -1)).toEqual([0, 0]);
    expect(both("logGuard", 0)).toEqual([0, 0]);
    expect(both("sqrtGuardIf", -1)).toEqual([0, 0]);
    expect(both("sqrtGuardIf", 0)).toEqual([0, 0]);
    expect(both("sqrtGuardIf", 4)).toEqual([4, 0.5]);
  });
});

describe("f64 parameters in a loss that depends on an f32 tensor", () => {
  // Regressions: the backward if and loop got f64 zeros beside f32 cotangents and did not verify.
  const h = (...v: number[]) => tensorOf([v.length], v, true);
  it("a branch on an f64 number", () => {
    expect(agree(1e-6, "mixedBranch", 2, h(1, 2, 3))).toEqual([10, 4, 1, 1, 1]);
    expect(agree(1e-6, "mixedBranch", 0, h(1, 2, 3))).toEqual([9, 0, 1, 1, 1]);
  });
  it("a loop over an f64 tensor carry that stays a loop", () => {
    const out = agree(1e-6, "mixedLoop", tensorOf([2], [1, -1]), h(0.5, 0.25));
    // t converges to 2x: the value is about 4 + 4 + 0.75, d/dx about 2 * 2t = 8x.
    expect(out[0]).toBeCloseTo(8.75, 4);
    expect(out[1]).toBeCloseTo(8, 4);
    expect(out[2]).toBeCloseTo(-8, 4);
    expect(out.slice(3)).toEqual([1, 1]);
  });
});

describe("extremes", () => {
  it("logSumExp of ±1000 is stable: finite value, gradients the softmax", () => {
    const [v, ...g] = both("lse", t3(1000, 1000, -1000));
    expect(v).toBeCloseTo(1000 + Math.LN2, 10);
    expect(g).toEqual([0.5, 0.5, 0]);
    const [w, ...h] = both("lse", t3(-1000, -1000, -1000));
    expect(w).toBeCloseTo(-1000 + Math.log(3), 10);
    h.forEach((x) => expect(x).toBeCloseTo(1 / 3, 15));
  });

  it("softmax of ±1000 is stable: no NaN, no Infinity", () => {
    const out = both("softmaxed", t3(1000, -1000, 0), t3(1, 2, 3));
    expect(out.every(Number.isFinite)).toBe(true);
    expect(out[0]).toBe(1);
    expect(out.slice(4)).toEqual([1, 0, 0]); // d/dw = softmax(x)
  });

  it("exp overflows to Infinity (value and gradient), underflows to 0, the same on both sides", () => {
    expect(both("expScalar", 1000)).toEqual([Infinity, Infinity]);
    expect(both("expScalar", -1000)).toEqual([0, 0]);
    expect(both("expScalar", 709).every(Number.isFinite)).toBe(true);
    expect(both("expTensor", tensorOf([2], [1000, 0]))).toEqual([Infinity, Infinity, 1]);
    // Infinity - Infinity: NaN, and so is its gradient; not an exception.
    const [v, g] = both("overflowDifference", 1000);
    expect(v).toBeNaN();
    expect(g).toBeNaN();
  });

  it("sigmoid and tanh far out saturate: gradient 0, not NaN", () => {
    expect(both("sigmoidFar", tensorOf([2], [1000, -1000]))).toEqual([1, 0, 0]);
    expect(both("tanhFar", tensorOf([2], [1000, -1000]))).toEqual([0, 0, 0]);
  });
});
