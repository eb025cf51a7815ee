import { grad, valueAndGrad, add, sub, mul, div, neg, exp, log, sqrt, square, pow, tanh, sigmoid, relu, maximum, minimum, abs, matmul, transpose, reshape, sum, mean, max, softmax, logSumExp, at, type Tensor } from "gradc";

export function model(x0: number = 1, x1: { layer: [{ a: number }, { a: number }]; scale: number }, x2: Tensor<[3, 2]>): number {
  const x1_a0 = x1.layer[0].a;
  const x1_a1 = x1.layer[1].a;
  const x1_s = x1.scale;
  let s0 = Math.tanh(sum(x0));
  return logSumExp(transpose(add(mul(reshape(x2, [2, 3]), 0), 0.1))) + max(mul(x0, x1_a0 * x1_a1));
}
export const g0 = valueAndGrad(model, { argnums: [2] });
export const g1 = grad(model);
