// The hand-written reference of the scaling table (`npm run bench:scaling`): mlp-mnist's
// forward + backward (784→H ReLU→10, softmax cross-entropy averaged over the batch) at any
// batch B and hidden width H. The two large products, x·W1 and xᵀ·dz1 (B·784·H multiply-adds
// each), are the strided 4×4 register-blocked `gemm` of bench/hand/gemm.ts (the transposed
// operand read through swapped strides, no copy); the small layer-2 products and the softmax
// are the same loops as bench/hand/mlp-mnist.ts, skipping the ReLU's zeros. Every array gemm
// sees has the model's dtype (dz1 too), so its element accesses stay monomorphic: mixing
// Float32Array and Float64Array operands made it 15 % slower. All buffers are allocated once, in
// `createSizedMlp`; a call allocates nothing.

import { gemm } from "../hand/gemm.js";
import type { DType } from "../lib/tree.js";

type Arr = Float32Array | Float64Array;

export const INPUTS = 784;
export const CLASSES = 10;

export function createSizedMlp(B: number, H: number, dtype: DType = "f32") {
  const D = INPUTS, C = CLASSES;
  const F = dtype === "f32" ? Float32Array : Float64Array;
  const z = new F(B * H); // x·W1, then relu(x·W1 + b1) in place
  const dz1 = new F(B * H); // dL/d(x·W1 + b1)
  const dlogits = new Float64Array(B * C);
  const logits = new Float64Array(C);
  const row = new Float64Array(H);
  const accW2 = new Float64Array(H * C);
  const dW1 = new F(D * H);
  const db1 = new F(H);
  const dW2 = new F(H * C);
  const db2 = new F(C);

  function lossAndGrad(W1: Arr, b1: Arr, W2: Arr, b2: Arr, x: Arr, y: Arr): number {
    // h = relu(x·W1 + b1), kept in z for the backward pass.
    gemm(B, H, D, x, 0, D, 1, W1, 0, H, 1, z, 0, H, false);
    for (let b = 0; b < B; b++) {
      const o = b * H;
      for (let j = 0; j < H; j++) {
        const v = z[o + j] + b1[j];
        z[o + j] = v > 0 ? v : 0;
      }
    }

    // logits = h·W2 + b2; per row nll = logSumExp(logits) − logits·y and
    // dL/dlogits = (softmax(logits) − y) / B.
    const invB = 1 / B;
    let loss = 0;
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) logits[c] = b2[c];
      const ho = b * H;
      for (let j = 0; j < H; j++) {
        const hv = z[ho + j];
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

    // db2 = Σ_b dlogits, dW2 = hᵀ·dlogits and dz1 = (dlogits·W2ᵀ) ⊙ [h > 0], skipping ReLU zeros.
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
        const hv = z[ho + j];
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

    // db1 = Σ_b dz1; dW1 = xᵀ·dz1, x read through swapped strides.
    row.fill(0);
    for (let b = 0; b < B; b++) {
      const o = b * H;
      for (let j = 0; j < H; j++) row[j] += dz1[o + j];
    }
    for (let j = 0; j < H; j++) db1[j] = row[j];
    gemm(D, H, B, x, 0, 1, D, dz1, 0, H, 1, dW1, 0, H, false);
    return loss * invB;
  }

  return { dW1, db1, dW2, db2, lossAndGrad };
}
