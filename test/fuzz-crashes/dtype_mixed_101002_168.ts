import { grad, valueAndGrad, add, sub, mul, div, maximum, minimum, pow, sum, max, tanh, matmul, reshape, logSumExp, sigmoid, type Tensor } from "gradc";
export function model(a: Tensor<[3], "f32">, b: Tensor<[3]>, m: Tensor<[3, 3], "f32">, s: number): number {
  const u = sigmoid(pow(b, a));
  return sum(mul(u, s)) + sum(mul(a, s));
}
export const g = valueAndGrad(model, { argnums: [1, 3] });
