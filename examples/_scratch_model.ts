import { grad, tensor, sum, mul, type Tensor } from "gradc";

export function loss(w: Tensor<[3]>, x: Tensor<[3]>): number {
  return sum(mul(w, x));
}
export const dloss = grad(loss);
const w = tensor([1, 2, 3]);
console.log(Array.from(dloss(w, tensor([4, 5, 6])).data));
