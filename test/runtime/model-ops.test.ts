// The eager ops of convolutional and attention models against values worked by hand, the
// gradient routing rules (max pooling's ties, clip, where), and the run-time argument checks:
// a wrong call is a GradcError naming the op and what is wrong.

import { describe, expect, it } from "vitest";
import {
  type Tensor,
  GradcError,
  avgPool2d,
  clip,
  concat,
  conv2d,
  equal,
  expm1,
  grad,
  greater,
  less,
  log1p,
  matmul,
  maxPool2d,
  mul,
  slice,
  stack,
  sum,
  tensor,
  transpose,
  where,
  zeros,
} from "../../runtime/index.js";

const values = (x: unknown): number[] => [...(x as Tensor).data];
const nchw = (rows: number[][]): Tensor => ({ shape: [1, 1, rows.length, rows[0]!.length], data: Float64Array.from(rows.flat()) });

describe("values worked by hand", () => {
  it("conv2d: a 2×2 kernel over a 3×3 image, with padding 1 and stride 2", () => {
    const x = nchw([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    const w = nchw([[1, 0], [0, -1]]);
    // Each output is x[i][j] − x[i+1][j+1].
    expect(values(conv2d(x, w))).toEqual([-4, -4, -4, -4]);
    // Padded by 1 and strided by 2: windows start at (−1, −1), (−1, 1), (1, −1), (1, 1).
    expect(values(conv2d(x, w, { stride: 2, padding: 1 }))).toEqual([-1, -3, -7, 5 - 9]);
    // "same" keeps 3×3; the extra row and column of an even kernel go after.
    expect(conv2d(x, w, { padding: "same" }).shape).toEqual([1, 1, 3, 3]);
    expect(values(conv2d(x, w, { padding: "same" }))).toEqual([-4, -4, 3, -4, -4, 6, 7, 8, 9]);
  });

  it("maxPool2d and avgPool2d", () => {
    const x = nchw([[1, 5, 2, 0], [3, 4, 8, 8], [0, 0, 1, 1], [-1, 0, 1, 1]]);
    expect(values(maxPool2d(x, { size: 2 }))).toEqual([5, 8, 0, 1]);
    expect(values(avgPool2d(x, { size: 2 }))).toEqual([13 / 4, 18 / 4, -1 / 4, 1]);
    expect(maxPool2d(x, { size: 3, stride: 1 }).shape).toEqual([1, 1, 2, 2]);
  });

  it("max pooling routes each window's gradient to its first maximal entry", () => {
    const x = nchw([[1, 5, 8, 8], [3, 5, 8, 8], [1, 1, 1, 1], [1, 1, 1, 1]]);
    const g = grad((t: Tensor) => sum(maxPool2d(t, { size: 2 })))(x);
    expect(values(g)).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  });

  it("batched matmul broadcasts batch dimensions; transpose permutes any axes", () => {
    const a = tensor([[[1, 2]], [[3, 4]]]); // [2, 1, 2]
    const b = tensor([[1, 0, 2], [0, 1, 3]]); // [2, 3]
    const c = matmul(a, b);
    expect(c.shape).toEqual([2, 1, 3]);
    expect(values(c)).toEqual([1, 2, 8, 3, 4, 18]);
    const x = tensor([[[1, 2, 3], [4, 5, 6]]]); // [1, 2, 3]
    expect(transpose(x, [2, 0, 1]).shape).toEqual([3, 1, 2]);
    expect(values(transpose(x, [2, 0, 1]))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(values(transpose(x))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it("concat, stack and slice", () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([[5], [6]]);
    expect(values(concat([a, b], 1))).toEqual([1, 2, 5, 3, 4, 6]);
    expect(values(concat([a, a], -2))).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    expect(stack([a, a], 2).shape).toEqual([2, 2, 2]);
    expect(values(stack([a, a], 2))).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
    expect(values(slice(concat([a, b], 1), [1, -2], [2, 3]))).toEqual([4, 6]);
  });

  it("masks, where, clip, log1p and expm1", () => {
    const x = tensor([-2, 0.5, 1, 3]);
    expect(values(greater(x, 0.5))).toEqual([0, 0, 1, 1]);
    expect(values(less(x, 0.5))).toEqual([1, 0, 0, 0]);
    expect(values(equal(x, 1))).toEqual([0, 0, 1, 0]);
    expect(values(where(greater(x, 0), x, 0))).toEqual([0, 0.5, 1, 3]);
    expect(values(clip(x, -1, 2))).toEqual([-1, 0.5, 1, 2]);
    expect(log1p(1e-20)).toBe(1e-20);
    expect(expm1(1e-20)).toBe(1e-20);
  });

  it("clip's gradient is 0 outside the range; where's goes to the side taken", () => {
    const x = tensor([-2, 0.5, 1, 3]);
    expect(values(grad((t: Tensor) => sum(clip(t, -1, 2)))(x))).toEqual([0, 1, 1, 0]);
    expect(values(grad((t: Tensor) => sum(where(greater(t, 0.7), mul(t, 3), t)))(x))).toEqual([1, 1, 3, 3]);
  });
});

describe("run-time argument checks", () => {
  const x = zeros([1, 2, 5, 5]);
  it.each([
    ["conv2d channels", () => conv2d(x, zeros([3, 1, 3, 3])), /conv2d.*channels 2 and 1 differ/],
    ["conv2d window", () => conv2d(x, zeros([3, 2, 7, 7])), /conv2d.*window 7 does not fit/],
    ["conv2d stride", () => conv2d(x, zeros([3, 2, 3, 3]), { stride: 0 }), /conv2d: stride must be a whole number of at least 1/],
    ["conv2d same", () => conv2d(x, zeros([3, 2, 3, 3]), { stride: 2, padding: "same" }), /padding "same" needs stride 1/],
    ["conv2d option", () => conv2d(x, zeros([3, 2, 3, 3]), { pad: 1 } as never), /'pad' is not an option/],
    ["conv2d argument", () => conv2d([1, 2] as never, zeros([3, 2, 3, 3])), /conv2d: argument 1 must be a number or a tensor/],
    ["maxPool2d size", () => maxPool2d(x, {} as never), /maxPool2d: size must be a whole number/],
    ["avgPool2d rank", () => avgPool2d(zeros([5, 5]), { size: 2 }), /avgPool2d: x must be \[N, C, H, W\]/],
    ["matmul batch", () => matmul(zeros([2, 3, 4]), zeros([3, 4, 2]) as never), /batch dimensions \[2\] and \[3\] do not broadcast/],
    ["transpose perm", () => transpose(zeros([2, 3, 4]), [0, 1]), /not a permutation of the 3 axes/],
    ["concat shapes", () => concat([zeros([2, 3]), zeros([3, 3])], 1), /concat along axis 1: shapes \[2, 3\] and \[3, 3\] differ/],
    ["concat axis", () => concat([zeros([2, 3])], 2), /concat: axis 2 is out of range/],
    ["concat list", () => concat(zeros([2]) as never), /concat: the first argument must be a non-empty array of tensors/],
    ["slice range", () => slice(zeros([2, 3]), [0, 2], [2, 5]), /slice of \[2, 3\]: \[2, 5\) is not a range within axis 1/],
    ["stack shapes", () => stack([zeros([2]), zeros([3])]), /stack of \[2\] and \[3\]/],
  ])("%s", (_name, call, message) => {
    expect(call).toThrow(GradcError);
    expect(call).toThrow(message);
  });
});
