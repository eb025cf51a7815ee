// The seed's two-layer net L = (W2·σ(W1·x) − y)², 4 → 16 → 1, trained per sample with SGD.
import { matmul, sigmoid, square, sub, sum, valueAndGrad, type Tensor } from "gradc";

export interface Params {
  W1: Tensor<[16, 4]>;
  W2: Tensor<[1, 16]>;
}

export function loss(p: Params, x: Tensor<[4, 1]>, y: number): number {
  const h = sigmoid(matmul(p.W1, x));
  const yhat = matmul(p.W2, h);
  return sum(square(sub(yhat, y)));
}

export const lossGrad = valueAndGrad(loss);
