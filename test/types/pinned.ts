// Result types of every op, of grad/valueAndGrad, and of the shape errors, pinned with
// expectTypeOf. Nothing here runs: the file is type-checked by `npm run typecheck` and by
// test/types/types.test.ts, and each pin fails that check when the type it names changes.
// Lines under @ts-expect-error are mistakes the types must refuse.

import { expectTypeOf } from "vitest";
import {
  type Operand,
  type Tensor,
  abs,
  add,
  at,
  div,
  exp,
  grad,
  log,
  logSumExp,
  matmul,
  max,
  maximum,
  mean,
  minimum,
  mul,
  neg,
  ones,
  pow,
  randn,
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
  valueAndGrad,
  zeros,
} from "gradc";

declare const a: Tensor<[2, 3]>;
declare const v3: Tensor<[3]>;
declare const v4: Tensor<[4]>;
declare const f32: Tensor<[2, 3], "f32">;
declare const unknownRows: Tensor<[number, 3]>;
declare const anyShape: Tensor<number[]>;
declare const someAxis: number;
declare const operand: Operand;

// ---- constructors --------------------------------------------------------------------------
expectTypeOf(zeros([2, 3])).toEqualTypeOf<Tensor<[2, 3]>>();
expectTypeOf(ones([4], "f32")).toEqualTypeOf<Tensor<[4], "f32">>();
expectTypeOf(randn([3, 5], 1)).toEqualTypeOf<Tensor<[3, 5]>>();
expectTypeOf(tensor([[1, 2], [3, 4]])).toEqualTypeOf<Tensor<[2, 2]>>();

// ---- elementwise: shape and dtype kept, broadcasting computed --------------------------------
for (const f of [neg, exp, log, sqrt, square, tanh, sigmoid, relu, abs]) {
  expectTypeOf(f(a)).toEqualTypeOf<Tensor<[2, 3]>>();
  expectTypeOf(f(f32)).toEqualTypeOf<Tensor<[2, 3], "f32">>();
  expectTypeOf(f(2)).toEqualTypeOf<number>();
}
expectTypeOf(add(a, a)).toEqualTypeOf<Tensor<[2, 3]>>();
expectTypeOf(sub(a, v3)).toEqualTypeOf<Tensor<[2, 3]>>();
expectTypeOf(mul(v3, a)).toEqualTypeOf<Tensor<[2, 3]>>();
expectTypeOf(div(a, 2)).toEqualTypeOf<Tensor<[2, 3]>>();
expectTypeOf(pow(2, a)).toEqualTypeOf<Tensor<[2, 3]>>();
expectTypeOf(maximum(zeros([2, 1]), zeros([1, 3]))).toEqualTypeOf<Tensor<[2, 3]>>();
expectTypeOf(minimum(zeros([5, 1, 3]), zeros([4, 1]))).toEqualTypeOf<Tensor<[5, 4, 3]>>();
expectTypeOf(add(2, 3)).toEqualTypeOf<number>();
// f32 wins over f64, as at run time.
expectTypeOf(add(a, f32)).toEqualTypeOf<Tensor<[2, 3], "f32">>();
expectTypeOf(mul(f32, 2)).toEqualTypeOf<Tensor<[2, 3], "f32">>();
// An unknown size stays `number` in its position; an unknown rank stays `number[]`.
expectTypeOf(add(unknownRows, v3)).toEqualTypeOf<Tensor<[number, 3]>>();
expectTypeOf(add(unknownRows, zeros([5, 1]))).toEqualTypeOf<Tensor<[5, 3]>>();
expectTypeOf(add(anyShape, v3)).toEqualTypeOf<Tensor<number[]>>();
expectTypeOf(add(operand, a)).toEqualTypeOf<Operand>();

// Named (symbolic) dimensions are kept by name: the dense-layer idiom.
export function dense<B extends number, I extends number, O extends number>(x: Tensor<[B, I]>, W: Tensor<[I, O]>, b: Tensor<[O]>) {
  expectTypeOf(matmul(x, W)).toEqualTypeOf<Tensor<[B, O]>>();
  expectTypeOf(add(matmul(x, W), b)).toEqualTypeOf<Tensor<[B, O]>>();
  const h: Tensor<[B, O]> = tanh(add(matmul(x, W), b));
  expectTypeOf(sub(h, sum(h, 1, true))).toEqualTypeOf<Tensor<[B, O]>>();
  expectTypeOf(sub(logSumExp(h, 1), sum(mul(h, h), -1))).toEqualTypeOf<Tensor<[B]>>();
  expectTypeOf(add(h, zeros([1, 1]))).toEqualTypeOf<Tensor<[B, O]>>();
  expectTypeOf(transpose(h)).toEqualTypeOf<Tensor<[O, B]>>();
  expectTypeOf(at(h, 0)).toEqualTypeOf<Tensor<[O]>>();
  expectTypeOf(softmax(h)).toEqualTypeOf<Tensor<[B, O]>>();
  expectTypeOf(reshape(h, [2, 8])).toEqualTypeOf<Tensor<[2, 8]>>();
  expectTypeOf(mean(h)).toEqualTypeOf<number>();
  return h;
}

// A symbolic batch through batched matmul (attention): the batch dimension keeps its name whether
// one side has batch dimensions or both do.
export function attentionScores<B extends number>(x: Tensor<[B, 8, 32], "f32">, Wq: Tensor<[32, 32], "f32">) {
  const q = matmul(x, Wq);
  expectTypeOf(q).toEqualTypeOf<Tensor<[B, 8, 32], "f32">>();
  expectTypeOf(matmul(Wq, transpose(x, [0, 2, 1]))).toEqualTypeOf<Tensor<[B, 32, 8], "f32">>();
  expectTypeOf(matmul(q, transpose(q, [0, 2, 1]))).toEqualTypeOf<Tensor<[B, 8, 8], "f32">>();
  return q;
}

// ---- matmul, transpose, reshape, at, softmax ---------------------------------------------
expectTypeOf(matmul(a, zeros([3, 4]))).toEqualTypeOf<Tensor<[2, 4]>>();
expectTypeOf(matmul(f32, zeros([3, 4]))).toEqualTypeOf<Tensor<[2, 4], "f32">>();
expectTypeOf(matmul(unknownRows, zeros([3, 4]))).toEqualTypeOf<Tensor<[number, 4]>>();
expectTypeOf(transpose(a)).toEqualTypeOf<Tensor<[3, 2]>>();
expectTypeOf(matmul(zeros([5, 2, 3]), zeros([3, 4]))).toEqualTypeOf<Tensor<[5, 2, 4]>>();
expectTypeOf(matmul(zeros([5, 1, 2, 3]), zeros([6, 3, 4]))).toEqualTypeOf<Tensor<[5, 6, 2, 4]>>();
expectTypeOf(transpose(zeros([2, 3, 4]))).toEqualTypeOf<Tensor<[4, 3, 2]>>();
expectTypeOf(transpose(zeros([2, 3, 4]), [0, 2, 1])).toEqualTypeOf<Tensor<[2, 4, 3]>>();
expectTypeOf(reshape(a, [3, 2])).toEqualTypeOf<Tensor<[3, 2]>>();
expectTypeOf(reshape(zeros([1]), [])).toEqualTypeOf<number>();
expectTypeOf(at(a, 0)).toEqualTypeOf<Tensor<[3]>>();
expectTypeOf(at(v3, 1)).toEqualTypeOf<number>();
expectTypeOf(softmax(f32)).toEqualTypeOf<Tensor<[2, 3], "f32">>();

// ---- reductions ----------------------------------------------------------------------------
expectTypeOf(sum(a)).toEqualTypeOf<number>();
expectTypeOf(sum(a, 0)).toEqualTypeOf<Tensor<[3]>>();
expectTypeOf(sum(a, -1)).toEqualTypeOf<Tensor<[2]>>();
expectTypeOf(max(a, 1, true)).toEqualTypeOf<Tensor<[2, 1]>>();
expectTypeOf(mean(a, [0])).toEqualTypeOf<Tensor<[3]>>();
expectTypeOf(mean(a, [0, 1])).toEqualTypeOf<number>();
expectTypeOf(logSumExp(a, [0, -1], true)).toEqualTypeOf<Tensor<[1, 1]>>();
expectTypeOf(sum(v3, 0)).toEqualTypeOf<number>();
expectTypeOf(sum(f32, 0)).toEqualTypeOf<Tensor<[3], "f32">>();
// An axis the checker cannot read: the rank is known, the sizes are not.
expectTypeOf(sum(a, someAxis)).toEqualTypeOf<Tensor<[number]>>();
expectTypeOf(sum(a, someAxis, true)).toEqualTypeOf<Tensor<[number, number]>>();

// ---- grad and valueAndGrad: gradients mirror the parameters ---------------------------------
interface Net {
  W: Tensor<[4, 3]>;
  b: Tensor<[3]>;
  scale: number;
}
const lossOf = (net: Net, x: Tensor<[8, 4]>, t: number): number => sum(mul(add(matmul(x, net.W), net.b), net.scale)) * t;
expectTypeOf(grad(lossOf)).toEqualTypeOf<(net: Net, x: Tensor<[8, 4]>, t: number) => Net>();
expectTypeOf(grad(lossOf, { argnums: 1 })).returns.toEqualTypeOf<Tensor<[8, 4]>>();
expectTypeOf(grad(lossOf, { argnums: [0, 2] })).returns.toEqualTypeOf<[Net, number]>();
expectTypeOf(valueAndGrad(lossOf)).returns.toEqualTypeOf<[number, Net]>();
expectTypeOf(valueAndGrad(lossOf, { argnums: [2, 1] })).returns.toEqualTypeOf<[number, [number, Tensor<[8, 4]>]]>();
expectTypeOf(grad((w: Tensor<[3], "f32">) => sum(w))).returns.toEqualTypeOf<Tensor<[3], "f32">>();

// ---- mistakes the types refuse -------------------------------------------------------------
// @ts-expect-error shapes that do not broadcast
add(a, v4);
// @ts-expect-error inner dimensions differ
matmul(a, a);
// @ts-expect-error matmul's batch dimensions do not broadcast
matmul(zeros([2, 3, 4]), zeros([3, 4, 2]));
// @ts-expect-error axis out of range
sum(a, 2);
// @ts-expect-error axis out of range, counted from the end
mean(a, [0, -3]);
// @ts-expect-error transpose takes a tensor
transpose(3);
// @ts-expect-error elementwise ops keep the shape
export const wrongShape: Tensor<[3, 2]> = add(a, a);
// @ts-expect-error f32 stays f32
export const wrongDtype: Tensor<[2, 3]> = add(f32, 1);
// @ts-expect-error gradients have the parameter's type
export const wrongGrad: number = grad(lossOf)({ W: zeros([4, 3]), b: zeros([3]), scale: 1 }, zeros([8, 4]), 1);
