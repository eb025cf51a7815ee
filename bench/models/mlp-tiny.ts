// A 4→16→1 sigmoid network on one sample, squared error: L = (W2·σ(W1·x) − y)².
import { matmul, sigmoid, square, sub, sum, valueAndGrad, type Tensor } from "gradc";

export function mlpTiny(W1: Tensor<[16, 4]>, W2: Tensor<[1, 16]>, x: Tensor<[4, 1]>, y: number): number {
  const h = sigmoid(matmul(W1, x));
  const yHat = matmul(W2, h);
  return sum(square(sub(yHat, y)));
}

// Reused results: each call overwrites the same result objects, as hand-written code writes
// into buffers it owns. lossAndGradFresh returns new ones each call (the default).
export const lossAndGrad = valueAndGrad(mlpTiny, { argnums: [0, 1], reuse: true });
export const lossAndGradFresh = valueAndGrad(mlpTiny, { argnums: [0, 1] });
