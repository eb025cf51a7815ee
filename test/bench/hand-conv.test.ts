// The hand-written references of cnn-mnist and attention (bench/hand/), checked like the other
// models in hand.test.ts: the value against an independent naive forward (direct convolution
// loops, no im2col; attention written out per entry), every gradient against central finite
// differences of that naive forward, and the f32 instance against the f64 one. Also the strided
// blocked matrix product both share, against a triple loop.

import { describe, expect, it } from "vitest";
import { CASES, inputsFor } from "../../bench/cases.js";
import { createAttention } from "../../bench/hand/attention.js";
import { createCnnMnist } from "../../bench/hand/cnn-mnist.js";
import { gemm } from "../../bench/hand/gemm.js";
import { Rng } from "../../bench/lib/prng.js";
import type { IntTensorValue, TensorValue } from "../../bench/lib/tree.js";

function centralDiff(f: () => number, x: Float64Array, i: number, h = 1e-6): number {
  const x0 = x[i]!;
  const step = h * Math.max(1, Math.abs(x0));
  x[i] = x0 + step;
  const up = f();
  x[i] = x0 - step;
  const down = f();
  x[i] = x0;
  return (up - down) / (2 * step);
}

function expectClose(actual: number, expected: number, rel: number, what: string): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-6);
  expect(err, `${what}: ${actual} vs ${expected}`).toBeLessThan(rel);
}

function normwise(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0, err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return err / scale;
}

/**
 * Checks `grads` against the naive forward: a few sampled entries of each parameter, then the
 * derivative along one random direction through all of them at once.
 */
function checkGrads(params: Record<string, Float64Array>, grads: Record<string, ArrayLike<number>>, naive: () => number, h: number, seed: number): void {
  const rng = new Rng(seed);
  for (const name of Object.keys(params)) {
    for (let s = 0; s < 4; s++) {
      const i = rng.int(params[name]!.length);
      expectClose(grads[name]![i]!, centralDiff(naive, params[name]!, i), 1e-5, `d${name}[${i}]`);
    }
  }
  const dirs = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Float64Array.from(v, () => rng.normal())]));
  let predicted = 0;
  for (const k of Object.keys(params)) for (let i = 0; i < params[k]!.length; i++) predicted += grads[k]![i]! * dirs[k]![i]!;
  const base = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Float64Array.from(v)]));
  const along = (t: number) => {
    for (const k of Object.keys(params)) for (let i = 0; i < params[k]!.length; i++) params[k]![i] = base[k]![i]! + t * dirs[k]![i]!;
    return naive();
  };
  const fd = (along(h) - along(-h)) / (2 * h);
  along(0);
  expectClose(predicted, fd, 1e-6, "directional derivative");
}

describe("gemm: strided 4×4-blocked product", () => {
  it("matches a triple loop for transposed operands, ragged sizes and accumulation", () => {
    const rng = new Rng(3);
    for (const [M, N, K] of [[4, 4, 4], [9, 7, 5], [16, 10, 32], [3, 13, 1]] as const) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
        const A = Float64Array.from({ length: M * K }, () => rng.normal());
        const Bm = Float64Array.from({ length: K * N }, () => rng.normal());
        const C0 = Float64Array.from({ length: M * N + 3 }, () => rng.normal());
        const a = (i: number, k: number) => (ta ? A[k * M + i]! : A[i * K + k]!);
        const b = (k: number, j: number) => (tb ? Bm[j * K + k]! : Bm[k * N + j]!);
        for (const accumulate of [false, true]) {
          const C = Float64Array.from(C0);
          gemm(M, N, K, A, 0, ta ? 1 : K, ta ? M : 1, Bm, 0, tb ? 1 : N, tb ? K : 1, C, 3, N, accumulate);
          for (let i = 0; i < M; i++) {
            for (let j = 0; j < N; j++) {
              let s = accumulate ? C0[3 + i * N + j]! : 0;
              for (let k = 0; k < K; k++) s += a(i, k) * b(k, j);
              expect(C[3 + i * N + j]!).toBeCloseTo(s, 12);
            }
          }
          expect(Array.from(C.subarray(0, 3))).toEqual(Array.from(C0.subarray(0, 3)));
        }
      }
    }
  });
});

type CnnParams = Record<"w1" | "b1" | "w2" | "b2" | "W3" | "b3", Float64Array>;

/** Direct 3×3 convolution, padding 1, + bias, ReLU, 2×2 max-pool, for one batch. */
function convReluPool(x: Float64Array, N: number, C: number, H: number, W: number, w: Float64Array, b: Float64Array, O: number): Float64Array {
  const Ho = H / 2, Wo = W / 2;
  const out = new Float64Array(N * O * Ho * Wo);
  const a = new Float64Array(H * W);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let h = 0; h < H; h++) {
        for (let v = 0; v < W; v++) {
          let s = b[o]!;
          for (let c = 0; c < C; c++) {
            for (let kh = 0; kh < 3; kh++) {
              for (let kw = 0; kw < 3; kw++) {
                const ih = h + kh - 1, iw = v + kw - 1;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W) s += w[((o * C + c) * 3 + kh) * 3 + kw]! * x[((n * C + c) * H + ih) * W + iw]!;
              }
            }
          }
          a[h * W + v] = Math.max(s, 0);
        }
      }
      for (let h = 0; h < Ho; h++) {
        for (let v = 0; v < Wo; v++) {
          const i = 2 * h * W + 2 * v;
          out[((n * O + o) * Ho + h) * Wo + v] = Math.max(a[i]!, a[i + 1]!, a[i + W]!, a[i + W + 1]!);
        }
      }
    }
  }
  return out;
}

function naiveCnn(p: CnnParams, x: Float64Array, labels: Int32Array): number {
  const N = labels.length;
  const h1 = convReluPool(x, N, 1, 28, 28, p.w1, p.b1, 8);
  const h2 = convReluPool(h1, N, 8, 14, 14, p.w2, p.b2, 16);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const logits = Float64Array.from(p.b3);
    for (let k = 0; k < 784; k++) for (let c = 0; c < 10; c++) logits[c] += h2[n * 784 + k]! * p.W3[k * 10 + c]!;
    let sumExp = 0;
    for (let c = 0; c < 10; c++) sumExp += Math.exp(logits[c]!);
    total += Math.log(sumExp) - logits[labels[n]!]!;
  }
  return total / N;
}

function cnnInputs(): { params: CnnParams; x: Float64Array; labels: Int32Array } {
  const [p, x, labels] = inputsFor(CASES["cnn-mnist"]) as [Record<string, TensorValue>, TensorValue, IntTensorValue];
  const params = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Float64Array.from(v.data)])) as CnnParams;
  return { params, x: Float64Array.from(x.data), labels: labels.data };
}

describe("hand cnn-mnist: im2col convolutions against direct loops and finite differences", () => {
  it("value and gradients (f64 instance)", () => {
    const { params: p, x, labels } = cnnInputs();
    const m = createCnnMnist("f64");
    const value = m.lossAndGrad(p.w1, p.b1, p.w2, p.b2, p.W3, p.b3, x, labels);
    const naive = () => naiveCnn(p, x, labels);
    expectClose(value, naive(), 1e-12, "loss");
    const grads = { w1: m.dw1, b1: m.db1, w2: m.dw2, b2: m.db2, W3: m.dW3, b3: m.db3 };
    // Copies: the naive forward does not touch the hand buffers, but keep them safe anyway.
    const copy = Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, Float64Array.from(v)]));
    checkGrads(p, copy, naive, 1e-7, 11);
  });

  it("integer labels: other labels give the naive forward's loss; a repeated call gives the same", () => {
    const { params: p, x, labels } = cnnInputs();
    const m = createCnnMnist("f64");
    const base = m.lossAndGrad(p.w1, p.b1, p.w2, p.b2, p.W3, p.b3, x, labels);
    const shifted = labels.map((l) => (l + 1) % 10);
    expect(m.lossAndGrad(p.w1, p.b1, p.w2, p.b2, p.W3, p.b3, x, shifted)).toBeCloseTo(naiveCnn(p, x, shifted), 12);
    expect(m.lossAndGrad(p.w1, p.b1, p.w2, p.b2, p.W3, p.b3, x, labels)).toBe(base);
  });

  it("the f32 instance agrees with the f64 one", () => {
    const [p, x, labels] = inputsFor(CASES["cnn-mnist"]) as [Record<string, TensorValue>, TensorValue, IntTensorValue];
    const m32 = createCnnMnist("f32");
    const m64 = createCnnMnist("f64");
    const d = (k: string) => p[k]!.data;
    const f = (k: string) => Float64Array.from(p[k]!.data);
    const v32 = m32.lossAndGrad(d("w1"), d("b1"), d("w2"), d("b2"), d("W3"), d("b3"), x.data, labels.data);
    const v64 = m64.lossAndGrad(f("w1"), f("b1"), f("w2"), f("b2"), f("W3"), f("b3"), Float64Array.from(x.data), labels.data);
    expectClose(v32, v64, 1e-6, "loss");
    for (const k of ["dw1", "db1", "dw2", "db2", "dW3", "db3"] as const) expect(normwise(m32[k], m64[k]), k).toBeLessThan(1e-5);
  });
});

type AttnParams = Record<"Wq" | "Wk" | "Wv", Float64Array>;

function naiveAttention(p: AttnParams, x: Float64Array): number {
  const B = 8, T = 64, D = 64;
  const proj = (W: Float64Array) => {
    const out = new Float64Array(B * T * D);
    for (let r = 0; r < B * T; r++) for (let j = 0; j < D; j++) {
      let s = 0;
      for (let k = 0; k < D; k++) s += x[r * D + k]! * W[k * D + j]!;
      out[r * D + j] = s;
    }
    return out;
  };
  const q = proj(p.Wq), k = proj(p.Wk), v = proj(p.Wv);
  let total = 0;
  const row = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      let sum = 0;
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += q[(b * T + i) * D + d]! * k[(b * T + j) * D + d]!;
        row[j] = Math.exp(s / 8);
        sum += row[j]!;
      }
      for (let d = 0; d < D; d++) {
        let o = 0;
        for (let j = 0; j < T; j++) o += (row[j]! / sum) * v[(b * T + j) * D + d]!;
        total += o * o;
      }
    }
  }
  return total / (B * T * D);
}

describe("hand attention against a naive forward and finite differences", () => {
  it("value and gradients (f64 instance)", () => {
    const [p, xIn] = inputsFor(CASES.attention) as [Record<string, TensorValue>, TensorValue];
    const params = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Float64Array.from(v.data)])) as AttnParams;
    const x = Float64Array.from(xIn.data);
    const m = createAttention("f64");
    const value = m.lossAndGrad(params.Wq, params.Wk, params.Wv, x);
    const naive = () => naiveAttention(params, x);
    expectClose(value, naive(), 1e-12, "loss");
    const grads = { Wq: Float64Array.from(m.dWq), Wk: Float64Array.from(m.dWk), Wv: Float64Array.from(m.dWv) };
    // The softmax is far from saturated at these scales (scores ~ N(0, 1)), so Wq and Wk get
    // gradients of the same order as Wv: a wrong attention backward cannot hide behind Wv.
    const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(maxAbs(grads.Wq)).toBeGreaterThan(0.01 * maxAbs(grads.Wv));
    checkGrads(params, grads, naive, 1e-6, 12);
  });

  it("the f32 instance agrees with the f64 one", () => {
    const [p, x] = inputsFor(CASES.attention) as [Record<string, TensorValue>, TensorValue];
    const m32 = createAttention("f32");
    const m64 = createAttention("f64");
    const f = (k: string) => Float64Array.from(p[k]!.data);
    const v32 = m32.lossAndGrad(p.Wq!.data, p.Wk!.data, p.Wv!.data, x.data);
    const v64 = m64.lossAndGrad(f("Wq"), f("Wk"), f("Wv"), Float64Array.from(x.data));
    expectClose(v32, v64, 1e-6, "loss");
    for (const k of ["dWq", "dWk", "dWv"] as const) expect(normwise(m32[k], m64[k]), k).toBeLessThan(1e-5);
  });
});
