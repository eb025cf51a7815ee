// The model the page trains: a 2 → 16 → 16 → 1 tanh network that separates two interleaved
// half-moons, with the logistic loss. gradc's Vite plugin replaces `lossGrad` by generated
// code at build time; `logits` also runs eagerly in the page to draw the decision boundary.
import { abs, add, exp, log, matmul, mean, mul, neg, randn, relu, tanh, zeros, type Tensor, valueAndGrad } from "gradc";

export interface Params {
  W1: Tensor<[2, 16]>;
  b1: Tensor<[16]>;
  W2: Tensor<[16, 16]>;
  b2: Tensor<[16]>;
  W3: Tensor<[16, 1]>;
  b3: Tensor<[1]>;
}

/** The network's raw score for each point of `x`: positive means class +1. */
export function logits<B extends number>(p: Params, x: Tensor<[B, 2]>): Tensor<[B, 1]> {
  const h1 = tanh(add(matmul(x, p.W1), p.b1));
  const h2 = tanh(add(matmul(h1, p.W2), p.b2));
  return add(matmul(h2, p.W3), p.b3);
}

/** Mean logistic loss, log(1 + exp(−y·z)) for labels y = ±1, written so it never overflows. */
export function loss<B extends number>(p: Params, x: Tensor<[B, 2]>, y: Tensor<[B, 1]>): number {
  const t = neg(mul(y, logits(p, x)));
  return mean(add(relu(t), log(add(1, exp(neg(abs(t)))))));
}

export const lossGrad = valueAndGrad(loss);

/** Small random weights (seeded, so every run of the page trains the same way). */
export function initParams(seed = 1): Params {
  const scaled = <S extends number[]>(shape: S, s: number, k: number): Tensor<S> => {
    const t = randn(shape, seed * 100 + k) as Tensor<S>;
    for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! * s;
    return t;
  };
  return {
    W1: scaled([2, 16], 1, 1),
    b1: zeros([16]),
    W2: scaled([16, 16], 0.25, 2),
    b2: zeros([16]),
    W3: scaled([16, 1], 0.25, 3),
    b3: zeros([1]),
  };
}
