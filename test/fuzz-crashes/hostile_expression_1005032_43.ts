import { grad, valueAndGrad, add, sub, mul, div, neg, exp, log, sqrt, square, pow, tanh, sigmoid, relu, maximum, minimum, abs, matmul, transpose, reshape, sum, mean, max, softmax, logSumExp, at, type Tensor } from "gradc";

function h7(a0: number, a1: number, a2: number): number {
  const r = a2;
  return r * 10;
}

export function model(x0: number, x1: { w: Tensor<[3]>; b: number }, x2: Tensor<[3, 2]>, z0: Tensor<[3, 3]>, z3: Tensor<[2, 2, 2]>, z4: Tensor<[2, 2]>, z9: Tensor<[3, 2, 2]>): number {
  const { w: x1_w, b: x1_b } = x1;
  const s1 = Math.log(x0 * (0.1 * x0 > mean(x2) ? Math.sqrt(2 * x0 + 1) : Math.sqrt(at(logSumExp(add(mul(z0, 0), 2), 1), 2) * x0 + 1)) + 1);
  const s2 = x1_b;
  let t5 = reshape(minimum(sum(add(mul(z3, 0), 0.5), 2), mul(add(mul(z4, 0), 0.5), add(mul(z4, 0), 0.5))), [4]);
  let s6 = x1_b;
  if (h7(s1, 0.1, s6) >= mean(x2)) {
    s6 = 10;
    const s8 = 0.25;
  }
  return Math.exp(at(t5, s6)) * x1_b + sum(sum(add(mul(z9, 0), 0.5), 2));
}

export const g0 = grad(model);
