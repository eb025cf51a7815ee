import { grad, valueAndGrad, add, sub, mul, div, neg, exp, log, sqrt, square, pow, tanh, sigmoid, relu, maximum, minimum, abs, matmul, transpose, reshape, sum, mean, max, softmax, logSumExp, at, type Tensor } from "gradc";


export function model(x0: { w: number; b: number }, x1: number): number {
  const x0_w = x0.w;
  const x0_b = x0["b"];
  for (const q of [1, 2, 3]) { x1 = x1 + q; }
  return x0_b;
}

export const g0 = valueAndGrad(model, { argnums: 0 });
export const g1 = valueAndGrad(model, { argnums: [0] });
