// A two-layer net L = (W2·σ(W1·x) − y)², 4 → 16 → 1, trained per sample with SGD.
import { matmul, randn, sgd, sigmoid, square, sub, sum, valueAndGrad, type Tensor } from "gradc";

export interface Params {
  W1: Tensor<[16, 4]>;
  W2: Tensor<[1, 16]>;
}

export function loss(p: Params, x: Tensor<[4, 1]>, y: number): number {
  const h = sigmoid(matmul(p.W1, x));
  const yhat = matmul(p.W2, h);
  return sum(square(sub(yhat, y)));
}

export const lossGrad = valueAndGrad(loss);

/**
 * Fits y = sin(x0) + x1·x2 − x3 on random samples, one SGD step per sample. `g` is the
 * gradient function: this module's `lossGrad`, compiled when built with gradc.
 */
export function main(g = lossGrad, epochs = 40, lr = 0.05): number {
  const p: Params = { W1: randn([16, 4], 1) as Params["W1"], W2: randn([1, 16], 2) as Params["W2"] };
  const samples = Array.from({ length: 64 }, (_v, i) => {
    const x = randn([4, 1], 100 + i) as Tensor<[4, 1]>;
    const [a, b, c, d] = Array.from(x.data);
    return { x, y: Math.sin(a!) + b! * c! - d! };
  });
  let avg = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    avg = 0;
    for (const { x, y } of samples) {
      const [value, grads] = g(p, x, y);
      sgd(p, grads, lr);
      avg += value / samples.length;
    }
    if (epoch % 10 === 0 || epoch === epochs - 1) console.log(`epoch ${String(epoch).padStart(2)}  mean loss ${avg.toFixed(4)}`);
  }
  return avg;
}
