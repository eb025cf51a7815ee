// Hand-written MNIST MLP step: batch 64, 784→128 ReLU→10, softmax cross-entropy averaged over
// the batch. Tensors are stored in the model's dtype (f32 in the benchmark; f64 for the
// finite-difference test); sums accumulate in f64 scratch buffers, as careful JS does anyway.
//
// The two large products (x·W1 forward, xᵀ·dz1 backward: 6.4 M multiply-adds each) are
// 4×4 register-blocked, 3× faster in V8 than the textbook i-k-j loop; the small layer-2
// products skip the zero half of the ReLU output. B, D and H are multiples of 4. All buffers
// are allocated once, in `createMlpMnist`.

import type { DType } from "../lib/tree.js";

export const B = 64;
export const D = 784;
export const H = 128;
export const C = 10;

type Arr = Float32Array | Float64Array;

const relu = (v: number): number => (v > 0 ? v : 0);

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
    // h = relu(x·W1 + b1): 4×4 register-blocked product (4 batch rows × 4 hidden units per
    // tile, 16 accumulators in locals), bias and ReLU applied as each tile is stored.
    for (let b = 0; b < B; b += 4) {
      const x0 = b * D, x1 = x0 + D, x2 = x1 + D, x3 = x2 + D;
      for (let j = 0; j < H; j += 4) {
        let a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
        let a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0;
        for (let k = 0, wo = j; k < D; k++, wo += H) {
          const w0 = W1[wo], w1 = W1[wo + 1], w2 = W1[wo + 2], w3 = W1[wo + 3];
          const v0 = x[x0 + k], v1 = x[x1 + k], v2 = x[x2 + k], v3 = x[x3 + k];
          a00 += v0 * w0; a01 += v0 * w1; a02 += v0 * w2; a03 += v0 * w3;
          a10 += v1 * w0; a11 += v1 * w1; a12 += v1 * w2; a13 += v1 * w3;
          a20 += v2 * w0; a21 += v2 * w1; a22 += v2 * w2; a23 += v2 * w3;
          a30 += v3 * w0; a31 += v3 * w1; a32 += v3 * w2; a33 += v3 * w3;
        }
        const c0 = b1[j], c1 = b1[j + 1], c2 = b1[j + 2], c3 = b1[j + 3];
        let o = b * H + j;
        h[o] = relu(a00 + c0); h[o + 1] = relu(a01 + c1); h[o + 2] = relu(a02 + c2); h[o + 3] = relu(a03 + c3);
        o += H;
        h[o] = relu(a10 + c0); h[o + 1] = relu(a11 + c1); h[o + 2] = relu(a12 + c2); h[o + 3] = relu(a13 + c3);
        o += H;
        h[o] = relu(a20 + c0); h[o + 1] = relu(a21 + c1); h[o + 2] = relu(a22 + c2); h[o + 3] = relu(a23 + c3);
        o += H;
        h[o] = relu(a30 + c0); h[o + 1] = relu(a31 + c1); h[o + 2] = relu(a32 + c2); h[o + 3] = relu(a33 + c3);
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

    // db1 = Σ_b dz1
    for (let j = 0; j < H; j++) row[j] = 0;
    for (let b = 0; b < B; b++) {
      const o = b * H;
      for (let j = 0; j < H; j++) row[j] += dz1[o + j];
    }
    for (let j = 0; j < H; j++) db1[j] = row[j];
    // dW1 = xᵀ·dz1, read in place through x's rows: 4×4 tiles of (input k, hidden j), the
    // batch as the inner loop.
    for (let k = 0; k < D; k += 4) {
      for (let j = 0; j < H; j += 4) {
        let a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
        let a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0;
        for (let b = 0, xo = k, go = j; b < B; b++, xo += D, go += H) {
          const v0 = x[xo], v1 = x[xo + 1], v2 = x[xo + 2], v3 = x[xo + 3];
          const g0 = dz1[go], g1 = dz1[go + 1], g2 = dz1[go + 2], g3 = dz1[go + 3];
          a00 += v0 * g0; a01 += v0 * g1; a02 += v0 * g2; a03 += v0 * g3;
          a10 += v1 * g0; a11 += v1 * g1; a12 += v1 * g2; a13 += v1 * g3;
          a20 += v2 * g0; a21 += v2 * g1; a22 += v2 * g2; a23 += v2 * g3;
          a30 += v3 * g0; a31 += v3 * g1; a32 += v3 * g2; a33 += v3 * g3;
        }
        let o = k * H + j;
        dW1[o] = a00; dW1[o + 1] = a01; dW1[o + 2] = a02; dW1[o + 3] = a03;
        o += H;
        dW1[o] = a10; dW1[o + 1] = a11; dW1[o + 2] = a12; dW1[o + 3] = a13;
        o += H;
        dW1[o] = a20; dW1[o + 1] = a21; dW1[o + 2] = a22; dW1[o + 3] = a23;
        o += H;
        dW1[o] = a30; dW1[o + 1] = a31; dW1[o + 2] = a32; dW1[o + 3] = a33;
      }
    }
    return loss * invB;
  }

  return { dW1, db1, dW2, db2, lossAndGrad };
}
