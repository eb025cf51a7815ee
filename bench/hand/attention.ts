// Hand-written single-head attention step: x [8, 64, 64] (batch × sequence × width),
// Q = x·Wq, K = x·Wk, V = x·Wv, P = softmax(Q·Kᵀ / √64) over the last axis, O = P·V, loss the
// mean of O². Gradients for Wq, Wk and Wv.
//
// The projections are [512, 64] · [64, 64] products (the batch folded into the rows); the
// per-sequence products read transposed operands through swapped strides (bench/hand/gemm.ts).
// Backward: dO = 2·O / size, dP = dO·Vᵀ, dV = Pᵀ·dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √64,
// dQ = dS·K, dK = dSᵀ·Q, and dW = xᵀ·d(projection). All buffers are allocated once.

import type { DType } from "../lib/tree.js";
import { gemm } from "./gemm.js";

export const B = 8;
export const T = 64;
export const D = 64;

type Arr = Float32Array | Float64Array;

export function createAttention(dtype: DType = "f32") {
  const F = dtype === "f32" ? Float32Array : Float64Array;
  const rows = B * T;
  const q = new Float64Array(rows * D), k = new Float64Array(rows * D), v = new Float64Array(rows * D);
  const p = new Float64Array(B * T * T); // softmax probabilities
  const o = new Float64Array(rows * D);
  const dO = new Float64Array(rows * D);
  const dP = new Float64Array(B * T * T);
  const dQ = new Float64Array(rows * D), dK = new Float64Array(rows * D), dV = new Float64Array(rows * D);
  const acc = new Float64Array(D * D);
  const dWq = new F(D * D), dWk = new F(D * D), dWv = new F(D * D);
  const scale = 1 / Math.sqrt(D);

  /** dW = xᵀ · g over all 512 rows. */
  function weightGrad(x: Arr, g: Float64Array, out: Arr): void {
    gemm(D, D, rows, x, 0, 1, D, g, 0, D, 1, acc, 0, D, false);
    for (let i = 0; i < acc.length; i++) out[i] = acc[i];
  }

  function lossAndGrad(Wq: Arr, Wk: Arr, Wv: Arr, x: Arr): number {
    gemm(rows, D, D, x, 0, D, 1, Wq, 0, D, 1, q, 0, D, false);
    gemm(rows, D, D, x, 0, D, 1, Wk, 0, D, 1, k, 0, D, false);
    gemm(rows, D, D, x, 0, D, 1, Wv, 0, D, 1, v, 0, D, false);
    let sumSq = 0;
    for (let b = 0; b < B; b++) {
      const off = b * T * D, offS = b * T * T;
      gemm(T, T, D, q, off, D, 1, k, off, 1, D, p, offS, T, false);
      for (let i = offS; i < offS + T * T; i += T) {
        let m = -Infinity;
        for (let j = i; j < i + T; j++) m = Math.max(m, p[j] * scale);
        let s = 0;
        for (let j = i; j < i + T; j++) s += p[j] = Math.exp(p[j] * scale - m);
        const inv = 1 / s;
        for (let j = i; j < i + T; j++) p[j] *= inv;
      }
      gemm(T, D, T, p, offS, T, 1, v, off, D, 1, o, off, D, false);
    }
    for (let i = 0; i < o.length; i++) sumSq += o[i] * o[i];
    const invSize = 1 / o.length;

    for (let i = 0; i < o.length; i++) dO[i] = 2 * o[i] * invSize;
    for (let b = 0; b < B; b++) {
      const off = b * T * D, offS = b * T * T;
      gemm(T, T, D, dO, off, D, 1, v, off, 1, D, dP, offS, T, false);
      gemm(T, D, T, p, offS, 1, T, dO, off, D, 1, dV, off, D, false);
      // dS (written over dP) = P ⊙ (dP − Σ_j dP·P) · scale
      for (let i = offS; i < offS + T * T; i += T) {
        let dot = 0;
        for (let j = i; j < i + T; j++) dot += dP[j] * p[j];
        for (let j = i; j < i + T; j++) dP[j] = p[j] * (dP[j] - dot) * scale;
      }
      gemm(T, D, T, dP, offS, T, 1, k, off, D, 1, dQ, off, D, false);
      gemm(T, D, T, dP, offS, 1, T, q, off, D, 1, dK, off, D, false);
    }
    weightGrad(x, dQ, dWq);
    weightGrad(x, dK, dWk);
    weightGrad(x, dV, dWv);
    return sumSq * invSize;
  }

  return { dWq, dWk, dWv, lossAndGrad };
}
