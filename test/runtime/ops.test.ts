// Eager tensor ops against small cases computed by hand.

import { describe, expect, it } from "vitest";
import {
  type Tensor,
  GradcError,
  abs,
  add,
  div,
  exp,
  log,
  logSumExp,
  matmul,
  max,
  maximum,
  mean,
  minimum,
  mul,
  neg,
  pow,
  relu,
  reshape,
  sigmoid,
  softmax,
  sqrt,
  square,
  sub,
  sum,
  tanh,
  tensor,
  transpose,
  zeros,
} from "../../runtime/index.js";

const t = (rows: number[][]) => tensor(rows);
const v = (xs: number[]) => tensor(xs);
const values = (x: unknown): number[] => [...(x as Tensor).data];
const close = (actual: unknown, expected: number[], tol = 1e-12) => {
  const got = values(actual);
  expect(got.length).toBe(expected.length);
  got.forEach((g, i) => expect(Math.abs(g - expected[i]!)).toBeLessThanOrEqual(tol));
};

describe("elementwise ops", () => {
  const x = v([-2, -0.5, 0, 1.5]);

  it.each([
    ["neg", neg, [2, 0.5, -0, -1.5]],
    ["abs", abs, [2, 0.5, 0, 1.5]],
    ["square", square, [4, 0.25, 0, 2.25]],
    ["relu", relu, [0, 0, 0, 1.5]],
    ["exp", exp, [Math.E ** -2, Math.E ** -0.5, 1, Math.E ** 1.5]],
    ["tanh", tanh, [Math.tanh(-2), Math.tanh(-0.5), 0, Math.tanh(1.5)]],
    ["sigmoid", sigmoid, [1 / (1 + Math.E ** 2), 1 / (1 + Math.E ** 0.5), 0.5, 1 / (1 + Math.E ** -1.5)]],
  ] as const)("%s", (_name, op, expected) => {
    const out = op(x);
    expect(out.shape).toEqual([4]);
    close(out, [...expected]);
  });

  it("log and sqrt", () => {
    close(log(v([1, Math.E, 0.5])), [0, 1, -Math.LN2]);
    close(sqrt(v([4, 2.25, 0])), [2, 1.5, 0]);
  });

  it("binary ops of equal shapes", () => {
    const a = t([[1, 2], [3, 4]]);
    const b = t([[5, -6], [0.5, 2]]);
    close(add(a, b), [6, -4, 3.5, 6]);
    close(sub(a, b), [-4, 8, 2.5, 2]);
    close(mul(a, b), [5, -12, 1.5, 8]);
    close(div(a, b), [0.2, -1 / 3, 6, 2]);
    close(pow(a, t([[2, 0.5], [-1, 3]])), [1, Math.SQRT2, 1 / 3, 64]);
    close(maximum(a, b), [5, 2, 3, 4]);
    close(minimum(a, b), [1, -6, 0.5, 2]);
  });

  it("numbers wherever a tensor goes, on either side", () => {
    const y = v([0.25, 1]);
    close(sub(1, y), [0.75, 0]);
    close(div(y, 2), [0.125, 0.5]);
    close(pow(2, v([3, -1])), [8, 0.5]);
    expect(add(2, 3)).toBe(5);
    expect(sigmoid(0)).toBe(0.5);
  });

  it("NumPy broadcasting: [B,1] + [1,C], [C] + [B,C], scalars", () => {
    const col = t([[1], [2]]);
    const row = t([[10, 20, 30]]);
    const out = add(col, row);
    expect(out.shape).toEqual([2, 3]);
    close(out, [11, 21, 31, 12, 22, 32]);
    const m = mul(t([[1, 2, 3], [4, 5, 6]]), v([1, 0, -1]));
    expect(m.shape).toEqual([2, 3]);
    close(m, [1, 0, -3, 4, 0, -6]);
  });

  it("refuses shapes that do not broadcast, with a GradcError naming both", () => {
    expect(() => add(v([1, 2]), v([1, 2, 3]))).toThrow(GradcError);
    expect(() => add(v([1, 2]), v([1, 2, 3]))).toThrow(/\[2\].*\[3\]/);
  });

  it("refuses things that are not tensors", () => {
    expect(() => add([1, 2] as unknown as number, 1)).toThrow(/tensor\(/);
    expect(() => add({ shape: [3], data: new Float64Array(2) } as Tensor, 1)).toThrow(/shape \[3\] but 2 values/);
  });

  it("keeps f32 and does not mutate the inputs", () => {
    const a = tensor(new Float32Array([1, 2]));
    const out = mul(a, 0.1);
    expect(out.data).toBeInstanceOf(Float32Array);
    expect([...out.data]).toEqual([Math.fround(0.1), Math.fround(0.2)]);
    expect([...a.data]).toEqual([1, 2]);
  });
});

describe("reductions", () => {
  const x = t([[1, 2, 3], [4, 5, 6]]);

  it("sum: everything to a number, per axis, negative axes, keepdims", () => {
    expect(sum(x)).toBe(21);
    const s0 = sum(x, 0);
    expect(s0.shape).toEqual([3]);
    close(s0, [5, 7, 9]);
    const s1 = sum(x, 1, true);
    expect(s1.shape).toEqual([2, 1]);
    close(s1, [6, 15]);
    close(sum(x, -1), [6, 15]);
    expect(sum(x, [0, 1])).toBe(21);
    expect(sum(x, undefined, true)).toBe(21); // no axis: a number, as compiled code gives
    expect(sum(v([1, 2]), 0)).toBe(3);
  });

  it("mean", () => {
    expect(mean(x)).toBe(3.5);
    close(mean(x, 0), [2.5, 3.5, 4.5]);
    const m = mean(x, 1, true);
    expect(m.shape).toEqual([2, 1]);
    close(m, [2, 5]);
  });

  it("max", () => {
    expect(max(t([[1, 9, 3], [4, -5, 6]]))).toBe(9);
    close(max(t([[1, 9, 3], [4, -5, 6]]), 0), [4, 9, 6]);
    close(max(t([[1, 9, 3], [4, -5, 6]]), 1, true), [9, 6]);
  });

  it("logSumExp", () => {
    const y = t([[0, Math.log(3)], [1, 1]]);
    close(logSumExp(y, 1), [Math.log(4), 1 + Math.LN2]);
    expect(Math.abs(logSumExp(y) - Math.log(1 + 3 + 2 * Math.E))).toBeLessThan(1e-12);
    expect(logSumExp(y, 0, true).shape).toEqual([1, 2]);
  });

  it("softmax along the last axis by default, or another", () => {
    const y = t([[0, Math.log(3)], [1, 1]]);
    close(softmax(y), [0.25, 0.75, 0.5, 0.5]);
    const e = Math.E;
    close(softmax(y, 0), [1 / (1 + e), 3 / (3 + e), e / (1 + e), e / (3 + e)]);
  });

  it("softmax and logSumExp stay finite at ±1000", () => {
    const big = v([1000, -1000, 999]);
    const s = softmax(big);
    const e1 = Math.exp(-1);
    close(s, [1 / (1 + e1), 0, e1 / (1 + e1)]);
    expect(Math.abs(logSumExp(big) - (1000 + Math.log(1 + e1)))).toBeLessThan(1e-9);
    expect(logSumExp(v([-1000, -1000]))).toBeCloseTo(-1000 + Math.LN2, 9);
  });

  it("rejects an axis out of range", () => {
    // @ts-expect-error the types refuse the axis too; unchecked code gets the GradcError
    expect(() => sum(x, 2)).toThrow(GradcError);
    expect(() => softmax(x, 5)).toThrow(GradcError);
  });
});

describe("matrix and movement ops", () => {
  it("matmul", () => {
    const out = matmul(t([[1, 2], [3, 4], [5, 6]]), t([[1, 0, -1], [2, 1, 0]]));
    expect(out.shape).toEqual([3, 3]);
    close(out, [5, 2, -1, 11, 4, -3, 17, 6, -5]);
  });

  it("matmul refuses mismatched inner dimensions", () => {
    expect(() => matmul(zeros([2, 3]) as Tensor<number[]>, zeros([2, 3]) as Tensor<number[]>)).toThrow(/inner dimensions 3 and 2/);
  });

  it("transpose", () => {
    const out = transpose(t([[1, 2, 3], [4, 5, 6]]));
    expect(out.shape).toEqual([3, 2]);
    close(out, [1, 4, 2, 5, 3, 6]);
  });

  it("reshape, and reshape to [] gives a number", () => {
    const out = reshape(t([[1, 2, 3], [4, 5, 6]]), [3, 2]);
    expect(out.shape).toEqual([3, 2]);
    close(out, [1, 2, 3, 4, 5, 6]);
    expect(reshape(v([7]), [])).toBe(7);
    expect(() => reshape(v([1, 2, 3]), [2, 2])).toThrow(GradcError);
  });
});
