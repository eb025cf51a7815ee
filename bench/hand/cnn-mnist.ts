// Hand-written cnn-mnist step: a batch of 32 images [32, 1, 28, 28] (NCHW) → conv 1→8 3×3
// padding 1 → ReLU → max-pool 2 → conv 8→16 3×3 padding 1 → ReLU → max-pool 2 → [32, 784] →
// linear 784→10 → softmax cross-entropy against integer labels, averaged over the batch.
//
// Each convolution is im2col + blocked matrix product, one image at a time: the image's
// patches are laid out as columns [C·3·3, H·W] in one preallocated buffer (the largest thing
// materialized), then out[O, H·W] = W[O, C·9] · cols. Backward, per image: the patches are
// rebuilt, dW += dOut · colsᵀ, and for the second convolution dCols = Wᵀ · dOut is scattered
// back into the input's gradient (col2im). Max-pooling keeps the index of each window's
// maximum (the first one on ties) and the backward pass routes the gradient there. All buffers
// are allocated once, in `createCnnMnist`; intermediate values are doubles.

import type { DType } from "../lib/tree.js";
import { gemm } from "./gemm.js";

export const N = 32;
/** Classes, and the flattened feature size after the second pooling (16 · 7 · 7). */
export const CLASSES = 10;
export const FLAT = 784;

type Arr = Float32Array | Float64Array;

/** One 3×3, stride 1, padding 1 convolution layer's sizes. */
interface Conv {
  C: number;
  O: number;
  H: number;
  W: number;
}

const L1: Conv = { C: 1, O: 8, H: 28, W: 28 };
const L2: Conv = { C: 8, O: 16, H: 14, W: 14 };

/** cols[(c·9 + kh·3 + kw), (h·W + w)] = x[c, h + kh − 1, w + kw − 1], zero outside. */
function im2col(x: Arr, xOff: number, { C, H, W }: Conv, cols: Float64Array): void {
  const HW = H * W;
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < 3; kh++) {
      for (let kw = 0; kw < 3; kw++) {
        const row = ((c * 3 + kh) * 3 + kw) * HW;
        for (let h = 0; h < H; h++) {
          const ih = h + kh - 1;
          const o = row + h * W;
          if (ih < 0 || ih >= H) {
            for (let w = 0; w < W; w++) cols[o + w] = 0;
            continue;
          }
          const src = xOff + (c * H + ih) * W - 1 + kw;
          const w0 = kw === 0 ? 1 : 0;
          const w1 = kw === 2 ? W - 1 : W;
          if (w0 === 1) cols[o] = 0;
          for (let w = w0; w < w1; w++) cols[o + w] = x[src + w];
          if (w1 === W - 1) cols[o + W - 1] = 0;
        }
      }
    }
  }
}

/** The adjoint of im2col: dx[c, h + kh − 1, w + kw − 1] += dCols[(c·9 + kh·3 + kw), (h·W + w)]. */
function col2im(dCols: Float64Array, { C, H, W }: Conv, dx: Float64Array, dxOff: number): void {
  const HW = H * W;
  for (let i = dxOff; i < dxOff + C * HW; i++) dx[i] = 0;
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < 3; kh++) {
      for (let kw = 0; kw < 3; kw++) {
        const row = ((c * 3 + kh) * 3 + kw) * HW;
        for (let h = 0; h < H; h++) {
          const ih = h + kh - 1;
          if (ih < 0 || ih >= H) continue;
          const o = row + h * W;
          const dst = dxOff + (c * H + ih) * W - 1 + kw;
          const w0 = kw === 0 ? 1 : 0;
          const w1 = kw === 2 ? W - 1 : W;
          for (let w = w0; w < w1; w++) dx[dst + w] += dCols[o + w];
        }
      }
    }
  }
}

/**
 * a = relu(z) for one image's [C, H, W] pre-activation, then 2×2 max-pooling of `a` into
 * `out` [C, H/2, W/2], keeping in `arg` the index (into `a`) of each window's maximum.
 */
function reluPool(a: Float64Array, aOff: number, C: number, H: number, W: number, out: Float64Array, outOff: number, arg: Int32Array): void {
  for (let i = aOff; i < aOff + C * H * W; i++) if (!(a[i] > 0)) a[i] = 0;
  const Ho = H >> 1, Wo = W >> 1;
  for (let c = 0; c < C; c++) {
    for (let h = 0; h < Ho; h++) {
      for (let w = 0; w < Wo; w++) {
        // Window order (0,0), (0,1), (1,0), (1,1); a strict > keeps the first maximum.
        const i0 = aOff + (c * H + 2 * h) * W + 2 * w;
        let best = i0;
        let m = a[i0];
        if (a[i0 + 1] > m) (m = a[i0 + 1]), (best = i0 + 1);
        if (a[i0 + W] > m) (m = a[i0 + W]), (best = i0 + W);
        if (a[i0 + W + 1] > m) (m = a[i0 + W + 1]), (best = i0 + W + 1);
        const o = outOff + (c * Ho + h) * Wo + w;
        out[o] = m;
        arg[o] = best;
      }
    }
  }
}

export function createCnnMnist(dtype: DType = "f32") {
  const F = dtype === "f32" ? Float32Array : Float64Array;
  const HW1 = L1.H * L1.W, HW2 = L2.H * L2.W;
  const cols = new Float64Array(Math.max(L1.C * 9 * HW1, L2.C * 9 * HW2));
  const dCols = new Float64Array(L2.C * 9 * HW2);
  const a1 = new Float64Array(N * L1.O * HW1); // relu(conv1), kept for the mask
  const p1 = new Float64Array(N * L1.O * (HW1 / 4));
  const arg1 = new Int32Array(p1.length);
  const a2 = new Float64Array(N * L2.O * HW2);
  const p2 = new Float64Array(N * FLAT); // = the flattened features [32, 784]
  const arg2 = new Int32Array(p2.length);
  const logits = new Float64Array(N * CLASSES);
  const dLogits = new Float64Array(N * CLASSES);
  const dP2 = new Float64Array(p2.length);
  const dA2 = new Float64Array(a2.length);
  const dP1 = new Float64Array(p1.length);
  const dA1 = new Float64Array(a1.length);
  const accW1 = new Float64Array(L1.O * L1.C * 9);
  const accW2 = new Float64Array(L2.O * L2.C * 9);
  const accW3 = new Float64Array(FLAT * CLASSES);
  const dw1 = new F(accW1.length);
  const db1 = new F(L1.O);
  const dw2 = new F(accW2.length);
  const db2 = new F(L2.O);
  const dW3 = new F(accW3.length);
  const db3 = new F(CLASSES);

  /** Forward of one conv layer for image n: out[n] = relu(W · im2col(x[n]) + b), pooled. */
  function convForward(L: Conv, x: Arr, n: number, w: Arr, b: Arr, a: Float64Array, p: Float64Array, arg: Int32Array): void {
    const HW = L.H * L.W;
    im2col(x, n * L.C * HW, L, cols);
    const aOff = n * L.O * HW;
    gemm(L.O, HW, L.C * 9, w, 0, L.C * 9, 1, cols, 0, HW, 1, a, aOff, HW, false);
    for (let o = 0; o < L.O; o++) {
      const bo = b[o];
      for (let i = aOff + o * HW; i < aOff + (o + 1) * HW; i++) a[i] += bo;
    }
    reluPool(a, aOff, L.O, L.H, L.W, p, n * L.O * (HW / 4), arg);
  }

  /** dA = the pooled gradient routed to each window's maximum, masked by the ReLU. */
  function unpool(dP: Float64Array, arg: Int32Array, a: Float64Array, dA: Float64Array): void {
    dA.fill(0);
    for (let i = 0; i < dP.length; i++) dA[arg[i]] += dP[i];
    for (let i = 0; i < dA.length; i++) if (!(a[i] > 0)) dA[i] = 0;
  }

  function lossAndGrad(w1: Arr, b1: Arr, w2: Arr, b2: Arr, W3: Arr, b3: Arr, x: Arr, labels: Int32Array): number {
    for (let n = 0; n < N; n++) convForward(L1, x, n, w1, b1, a1, p1, arg1);
    for (let n = 0; n < N; n++) convForward(L2, p1, n, w2, b2, a2, p2, arg2);

    // logits = p2 · W3 + b3; loss = mean(logSumExp(logits) − logits[label]);
    // dLogits = (softmax(logits) − onehot(label)) / N
    gemm(N, CLASSES, FLAT, p2, 0, FLAT, 1, W3, 0, CLASSES, 1, logits, 0, CLASSES, false);
    const invN = 1 / N;
    let loss = 0;
    for (let n = 0; n < N; n++) {
      const o = n * CLASSES;
      let m = -Infinity;
      for (let c = 0; c < CLASSES; c++) {
        logits[o + c] += b3[c];
        if (logits[o + c] > m) m = logits[o + c];
      }
      let s = 0;
      for (let c = 0; c < CLASSES; c++) s += dLogits[o + c] = Math.exp(logits[o + c] - m);
      const label = labels[n];
      loss += m + Math.log(s) - logits[o + label];
      const invS = 1 / s;
      for (let c = 0; c < CLASSES; c++) dLogits[o + c] = (dLogits[o + c] * invS - (c === label ? 1 : 0)) * invN;
    }

    // Linear layer: dW3 = p2ᵀ · dLogits, db3 = Σ_n dLogits, dP2 = dLogits · W3ᵀ
    gemm(FLAT, CLASSES, N, p2, 0, 1, FLAT, dLogits, 0, CLASSES, 1, accW3, 0, CLASSES, false);
    for (let i = 0; i < accW3.length; i++) dW3[i] = accW3[i];
    for (let c = 0; c < CLASSES; c++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dLogits[n * CLASSES + c];
      db3[c] = s;
    }
    gemm(N, FLAT, CLASSES, dLogits, 0, CLASSES, 1, W3, 0, 1, CLASSES, dP2, 0, FLAT, false);

    // Second conv: dz2 = unpool(dP2) ⊙ [a2 > 0]; per image dw2 += dz2 · colsᵀ, db2 += Σ dz2,
    // dP1 = col2im(w2ᵀ · dz2)
    unpool(dP2, arg2, a2, dA2);
    accW2.fill(0);
    for (let n = 0; n < N; n++) {
      const off = n * L2.O * HW2;
      im2col(p1, n * L2.C * HW2, L2, cols);
      gemm(L2.O, L2.C * 9, HW2, dA2, off, HW2, 1, cols, 0, 1, HW2, accW2, 0, L2.C * 9, true);
      gemm(L2.C * 9, HW2, L2.O, w2, 0, 1, L2.C * 9, dA2, off, HW2, 1, dCols, 0, HW2, false);
      col2im(dCols, L2, dP1, n * L2.C * HW2);
    }
    for (let i = 0; i < accW2.length; i++) dw2[i] = accW2[i];
    channelSums(dA2, L2.O, HW2, db2);

    // First conv: the input is data, so only dw1 and db1.
    unpool(dP1, arg1, a1, dA1);
    accW1.fill(0);
    for (let n = 0; n < N; n++) {
      im2col(x, n * L1.C * HW1, L1, cols);
      gemm(L1.O, L1.C * 9, HW1, dA1, n * L1.O * HW1, HW1, 1, cols, 0, 1, HW1, accW1, 0, L1.C * 9, true);
    }
    for (let i = 0; i < accW1.length; i++) dw1[i] = accW1[i];
    channelSums(dA1, L1.O, HW1, db1);
    return loss * invN;
  }

  return { dw1, db1, dw2, db2, dW3, db3, lossAndGrad };
}

/** out[o] = Σ over images and positions of g[n, o, ·]. */
function channelSums(g: Float64Array, O: number, HW: number, out: Arr): void {
  for (let o = 0; o < O; o++) {
    let s = 0;
    for (let base = o * HW; base < g.length; base += O * HW) for (let i = base; i < base + HW; i++) s += g[i];
    out[o] = s;
  }
}
