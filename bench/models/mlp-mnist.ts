// One MNIST-sized training step in f32: a batch of 64 images, 784→128 ReLU→10 with biases,
// softmax cross-entropy against one-hot targets, averaged over the batch.
import { add, logSumExp, matmul, mean, mul, relu, sub, sum, valueAndGrad, type Tensor } from "gradc";

export type Params = {
  W1: Tensor<[784, 128], "f32">;
  b1: Tensor<[128], "f32">;
  W2: Tensor<[128, 10], "f32">;
  b2: Tensor<[10], "f32">;
};

export function mnistLoss(p: Params, x: Tensor<[64, 784], "f32">, y: Tensor<[64, 10], "f32">): number {
  const h = relu(add(matmul(x, p.W1), p.b1));
  const logits = add(matmul(h, p.W2), p.b2);
  // −log softmax(logits)[target] = logSumExp(logits) − logits[target]
  const nll = sub(logSumExp(logits, 1), sum(mul(logits, y), 1));
  return mean(nll);
}

// Reused results: each call overwrites the same result objects, as hand-written code writes
// into buffers it owns. lossAndGradFresh returns new ones each call (the default).
export const lossAndGrad = valueAndGrad(mnistLoss, { argnums: [0], reuse: true });
export const lossAndGradFresh = valueAndGrad(mnistLoss, { argnums: [0] });
