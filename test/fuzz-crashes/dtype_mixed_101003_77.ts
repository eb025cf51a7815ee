import { grad, valueAndGrad, add, sub, mul, div, maximum, minimum, pow, sum, max, tanh, matmul, reshape, logSumExp, sigmoid, type Tensor } from "gradc";
export function model(a: Tensor<[3], "f32">, b: Tensor<[3], "f32">, m: Tensor<[3, 3]>, s: number): number {
  const u = sigmoid(sub(b, a));
  return sum(mul(u, s)) + sum(matmul(m, reshape(b, [3, 1])));
}
export const g = valueAndGrad(model, { argnums: [2] });
