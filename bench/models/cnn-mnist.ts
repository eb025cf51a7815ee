// One MNIST-sized convolutional training step in f32: a batch of 32 images [32, 1, 28, 28] →
// conv 1→8 3×3 padding 1 → ReLU → max-pool 2 → conv 8→16 3×3 padding 1 → ReLU → max-pool 2 →
// [32, 784] → linear 784→10 → cross-entropy against integer labels. Gradients for every
// weight and bias.
//
// Written with gradc's convolution ops (conv2d, maxPool2d) and crossEntropy with i32 labels;
// until the runtime has integer tensors and crossEntropy the harness reports gradc and the
// tape as "n/a (needs …)", and bench/tsconfig.json leaves this file out of the type check.
import { add, conv2d, crossEntropy, matmul, maxPool2d, relu, reshape, valueAndGrad, type Tensor } from "gradc";

export type Params = {
  w1: Tensor<[8, 1, 3, 3], "f32">;
  b1: Tensor<[8], "f32">;
  w2: Tensor<[16, 8, 3, 3], "f32">;
  b2: Tensor<[16], "f32">;
  W3: Tensor<[784, 10], "f32">;
  b3: Tensor<[10], "f32">;
};

export function cnnLoss(p: Params, x: Tensor<[32, 1, 28, 28], "f32">, labels: Tensor<[32], "i32">): number {
  const h1 = maxPool2d(relu(add(conv2d(x, p.w1, { padding: 1 }), reshape(p.b1, [8, 1, 1]))), { size: 2 });
  const h2 = maxPool2d(relu(add(conv2d(h1, p.w2, { padding: 1 }), reshape(p.b2, [16, 1, 1]))), { size: 2 });
  const logits = add(matmul(reshape(h2, [32, 784]), p.W3), p.b3);
  return crossEntropy(logits, labels);
}

export const lossAndGrad = valueAndGrad(cnnLoss, { argnums: [0], reuse: true });
export const lossAndGradFresh = valueAndGrad(cnnLoss, { argnums: [0] });
