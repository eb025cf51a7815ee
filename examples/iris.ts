// A small MLP (4 → 16 tanh → 3, softmax cross-entropy) on the real Iris data set, trained with
// full-batch SGD. The batch size is a symbolic dimension: the compiled code takes any B.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { add, logSumExp, matmul, mean, mul, randn, sgd, sub, sum, tanh, tensor, valueAndGrad, type Tensor } from "gradc";

export interface Net {
  W1: Tensor<[4, 16]>;
  b1: Tensor<[16]>;
  W2: Tensor<[16, 3]>;
  b2: Tensor<[3]>;
}

export function logits<B extends number>(net: Net, x: Tensor<[B, 4]>): Tensor<[B, 3]> {
  const h = tanh(add(matmul(x, net.W1), net.b1));
  return add(matmul(h, net.W2), net.b2);
}

/** Mean cross-entropy of the softmax over classes against one-hot targets. */
export function loss<B extends number>(net: Net, x: Tensor<[B, 4]>, y: Tensor<[B, 3]>): number {
  const z = logits(net, x);
  return mean(sub(logSumExp(z, 1), sum(mul(z, y), 1)));
}

export const lossGrad = valueAndGrad(loss);

const SPECIES = ["setosa", "versicolor", "virginica"];

interface Flower {
  sepalLength: number;
  sepalWidth: number;
  petalLength: number;
  petalWidth: number;
  species: string;
}

export function loadIris(): { x: Tensor<[number, 4]>; y: Tensor<[number, 3]>; labels: number[] } {
  const path = createRequire(import.meta.url).resolve("vega-datasets/data/iris.json");
  const rows = JSON.parse(readFileSync(path, "utf8")) as Flower[];
  const feats = rows.map((r) => [r.sepalLength, r.sepalWidth, r.petalLength, r.petalWidth]);
  // Standardize each feature, so one learning rate suits all of them.
  for (let k = 0; k < 4; k++) {
    const col = feats.map((f) => f[k]!);
    const mu = col.reduce((a, b) => a + b, 0) / col.length;
    const sd = Math.sqrt(col.reduce((a, b) => a + (b - mu) ** 2, 0) / col.length);
    feats.forEach((f) => (f[k] = (f[k]! - mu) / sd));
  }
  const labels = rows.map((r) => SPECIES.indexOf(r.species));
  const onehot = labels.map((l) => [0, 1, 2].map((c) => (c === l ? 1 : 0)));
  return { x: tensor(feats) as Tensor<[number, 4]>, y: tensor(onehot) as Tensor<[number, 3]>, labels };
}

export function accuracy(net: Net, x: Tensor<[number, 4]>, labels: number[]): number {
  const z = logits(net, x);
  let right = 0;
  labels.forEach((l, i) => {
    const row = Array.from(z.data.subarray(i * 3, i * 3 + 3));
    if (row.indexOf(Math.max(...row)) === l) right++;
  });
  return right / labels.length;
}

/** Trains with `g`, this module's `lossGrad` (compiled when built with gradc); returns the accuracy. */
export function main(g = lossGrad, epochs = 400, lr = 0.5): number {
  const { x, y, labels } = loadIris();
  const net: Net = {
    W1: mul(randn([4, 16], 1), 0.5) as Tensor<[4, 16]>,
    b1: mul(randn([16], 2), 0) as Tensor<[16]>,
    W2: mul(randn([16, 3], 3), 0.5) as Tensor<[16, 3]>,
    b2: mul(randn([3], 4), 0) as Tensor<[3]>,
  };
  for (let epoch = 0; epoch <= epochs; epoch++) {
    const [value, grads] = g(net, x, y);
    if (epoch % 50 === 0) console.log(`epoch ${String(epoch).padStart(3)}  loss ${value.toFixed(4)}`);
    sgd(net, grads, lr);
  }
  const acc = accuracy(net, x, labels);
  console.log(`training accuracy ${(acc * 100).toFixed(1)}%`);
  return acc;
}
