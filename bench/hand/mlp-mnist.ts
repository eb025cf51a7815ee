// Hand-written MNIST MLP step: batch 64, 784→128 ReLU→10, softmax cross-entropy averaged over
// the batch. Tensors are stored in the model's dtype (f32 in the benchmark; f64 for the
// finite-difference test); sums accumulate in f64 scratch buffers, as careful JS does anyway.
//
// The three large products (x·W1 forward, xᵀ·dZ1 and dZ1·W2ᵀ backward) are written so the
// innermost loop walks memory contiguously, and the ReLU mask is used to skip work on the
// zero half of the hidden layer. All buffers are allocated once, in `createMlpMnist`.

import type { DType } from "../lib/tree.js";

export const B = 64;
export const D = 784;
export const H = 128;
export const C = 10;

type Arr = Float32Array | Float64Array;

export function createMlpMnist(dtype: DType = "f32") {
  const F = dtype === "f32" ? Float32Array : Float64Array;
  const h = new F(B * H); // ReLU output, kept for the backward pass
  const dz1 = new Float64Array(B * H); // dL/d(x·W1 + b1)
  const dlogits = new Float64Array(B * C);
  const row = new Float64Array(H); // accumulator for one output row
  const logits = new Float64Array(C);
  const accW2 = new Float64Array(H * C);
  const dW1 = new F(D * H);
  const db1 = new F(H);
  const dW2 = new F(H * C);
  const db2 = new F(C);

  function lossAndGrad(W1: Arr, b1: Arr, W2: Arr, b2: Arr, x: Arr, y: Arr): number {
    // h = relu(x·W1 + b1), one batch row at a time: row += x[b,k] · W1[k,:]
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) row[j] = b1[j];
      const xo = b * D;
      for (let k = 0; k < D; k++) {
        const xv = x[xo + k];
        const wo = k * H;
        for (let j = 0; j < H; j++) row[j] += xv * W1[wo + j];
      }
      const ho = b * H;
      for (let j = 0; j < H; j++) {
        const v = row[j];
        h[ho + j] = v > 0 ? v : 0;
      }
    }

    // logits = h·W2 + b2, then per row: nll = logSumExp(logits) − logits·y and
    // dL/dlogits = (softmax(logits) − y) / B
    const invB = 1 / B;
    let loss = 0;
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) logits[c] = b2[c];
      const ho = b * H;
      for (let j = 0; j < H; j++) {
        const hv = h[ho + j];
        if (hv === 0) continue;
        const wo = j * C;
        for (let c = 0; c < C; c++) logits[c] += hv * W2[wo + c];
      }
      let m = -Infinity;
      for (let c = 0; c < C; c++) if (logits[c] > m) m = logits[c];
      let s = 0;
      let target = 0;
      const yo = b * C;
      for (let c = 0; c < C; c++) {
        const e = Math.exp(logits[c] - m);
        dlogits[yo + c] = e;
        s += e;
        target += logits[c] * y[yo + c];
      }
      loss += m + Math.log(s) - target;
      const invS = 1 / s;
      for (let c = 0; c < C; c++) dlogits[yo + c] = (dlogits[yo + c] * invS - y[yo + c]) * invB;
    }

    // db2 = Σ_b dlogits, dW2 = hᵀ·dlogits (skipping ReLU zeros), dz1 = (dlogits·W2ᵀ) ⊙ [h > 0]
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let b = 0; b < B; b++) s += dlogits[b * C + c];
      db2[c] = s;
    }
    accW2.fill(0);
    for (let b = 0; b < B; b++) {
      const ho = b * H;
      const lo = b * C;
      for (let j = 0; j < H; j++) {
        const hv = h[ho + j];
        if (hv === 0) {
          dz1[ho + j] = 0;
          continue;
        }
        const wo = j * C;
        let s = 0;
        for (let c = 0; c < C; c++) {
          const g = dlogits[lo + c];
          accW2[wo + c] += hv * g;
          s += g * W2[wo + c];
        }
        dz1[ho + j] = s;
      }
    }
    for (let i = 0; i < H * C; i++) dW2[i] = accW2[i];

    // db1 = Σ_b dz1, dW1 = xᵀ·dz1: for each input k, row = Σ_b x[b,k] · dz1[b,:]
    for (let j = 0; j < H; j++) row[j] = 0;
    for (let b = 0; b < B; b++) {
      const o = b * H;
      for (let j = 0; j < H; j++) row[j] += dz1[o + j];
    }
    for (let j = 0; j < H; j++) db1[j] = row[j];
    for (let k = 0; k < D; k++) {
      for (let j = 0; j < H; j++) row[j] = 0;
      for (let b = 0; b < B; b++) {
        const xv = x[b * D + k];
        const o = b * H;
        for (let j = 0; j < H; j++) row[j] += xv * dz1[o + j];
      }
      const wo = k * H;
      for (let j = 0; j < H; j++) dW1[wo + j] = row[j];
    }
    return loss * invB;
  }

  return { dW1, db1, dW2, db2, lossAndGrad };
}
