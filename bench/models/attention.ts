// One head of self-attention in f32 on x [8, 64, 64] (batch × sequence × width):
// softmax(Q·Kᵀ / √64)·V with Q, K, V projections of x, loss the mean square of the output.
// Gradients for the three projections.
//
// Written with matmul's batch dimensions (x [8, 64, 64] by a [64, 64] projection, broadcast
// over the batch) and transpose with a permutation of the last two axes.
import { matmul, mean, mul, softmax, transpose, valueAndGrad, type Tensor } from "gradc";

export type Params = {
  Wq: Tensor<[64, 64], "f32">;
  Wk: Tensor<[64, 64], "f32">;
  Wv: Tensor<[64, 64], "f32">;
};

export function attentionLoss(p: Params, x: Tensor<[8, 64, 64], "f32">): number {
  const q = matmul(x, p.Wq);
  const k = matmul(x, p.Wk);
  const v = matmul(x, p.Wv);
  const scores = mul(matmul(q, transpose(k, [0, 2, 1])), 1 / 8);
  const out = matmul(softmax(scores, 2), v);
  return mean(mul(out, out));
}

export const lossAndGrad = valueAndGrad(attentionLoss, { argnums: [0], reuse: true });
export const lossAndGradFresh = valueAndGrad(attentionLoss, { argnums: [0] });
