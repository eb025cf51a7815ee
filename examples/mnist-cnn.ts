// A small convolutional net on real MNIST digits (the `mnist` package's 10 000, split 8000 for
// training and 2000 held out), in f32: conv 3×3 (1 → 8) → ReLU → 2×2 max-pool → conv 3×3
// (8 → 16) → ReLU → 2×2 max-pool → linear 784 → 10, trained with Adam on batches of 64 against
// the digits' integer labels, its step size decaying along a cosine from `lr` to 0 over the run.
// Prints the mean training loss and the held-out accuracy after each epoch. Training digits are
// shifted at random by up to one pixel each time they are drawn.
import { add, adam, argmax, conv2d, crossEntropy, matmul, maxPool2d, mul, randn, relu, reshape, tensor, valueAndGrad, zeros, type Tensor } from "gradc";
import { CLASSES, fillBatch, loadMnist, permutation, PIXELS, seeded, type Shift, type TrainOptions } from "./data/mnist.js";
import { cosineDecay } from "./data/schedule.js";

export interface Cnn {
  K1: Tensor<[8, 1, 3, 3], "f32">;
  c1: Tensor<[1, 8, 1, 1], "f32">;
  K2: Tensor<[16, 8, 3, 3], "f32">;
  c2: Tensor<[1, 16, 1, 1], "f32">;
  W: Tensor<[784, 10], "f32">;
  b: Tensor<[10], "f32">;
}

/** The logits of a batch of digits, each a 1 × 28 × 28 image. */
export function logits<B extends number>(net: Cnn, x: Tensor<[B, 1, 28, 28], "f32">, batch: B): Tensor<[B, 10], "f32"> {
  const h1 = maxPool2d(relu(add(conv2d(x, net.K1, { padding: 1 }), net.c1)), { size: 2 }); // [B, 8, 14, 14]
  const h2 = maxPool2d(relu(add(conv2d(h1, net.K2, { padding: 1 }), net.c2)), { size: 2 }); // [B, 16, 7, 7]
  return add(matmul(reshape(h2, [batch, 784]), net.W), net.b);
}

/** Mean softmax cross-entropy of the logits against the digits' labels. */
export function loss(net: Cnn, x: Tensor<[64, 1, 28, 28], "f32">, labels: Tensor<[64], "i32">): number {
  return crossEntropy(logits(net, x, 64), labels);
}

export const lossGrad = valueAndGrad(loss);

/** The fraction of the digits whose largest logit is their label (evaluated 500 at a time). */
export function accuracy(net: Cnn, images: Float32Array, labels: Int32Array): number {
  let right = 0;
  for (let start = 0; start < labels.length; start += 500) {
    const n = Math.min(500, labels.length - start);
    const x = tensor(images.subarray(start * PIXELS, (start + n) * PIXELS), [n, 1, 28, 28], "f32");
    const predicted = argmax(logits(net, x, n), 1).data;
    predicted.forEach((p, i) => (right += p === labels[start + i] ? 1 : 0));
  }
  return labels.length === 0 ? 0 : right / labels.length;
}

export type { TrainOptions };

const BATCH = 64;

export function initCnn(seed = 1): Cnn {
  const scale = (t: Tensor<readonly number[], "f32">, s: number) => mul(t, s) as never;
  return {
    K1: scale(randn([8, 1, 3, 3], seed, "f32"), Math.sqrt(2 / 9)),
    c1: zeros([1, 8, 1, 1], "f32"),
    K2: scale(randn([16, 8, 3, 3], seed + 1, "f32"), Math.sqrt(2 / 72)),
    c2: zeros([1, 16, 1, 1], "f32"),
    W: scale(randn([784, 10], seed + 2, "f32"), Math.sqrt(1 / 784)),
    b: zeros([10], "f32"),
  };
}

/**
 * Trains with `g`, this module's `lossGrad` (compiled when built with gradc), and returns the
 * held-out accuracy after the last epoch.
 */
export function main(g = lossGrad, options: TrainOptions = {}): number {
  const { epochs = 8, train = 8000, test = 2000, lr = 3e-3, shift = 1, log = console.log } = options;
  const started = performance.now();
  const data = loadMnist({ train, test });
  log(`MNIST: ${data.train.count} training digits, ${data.test.count} held out (loaded in ${((performance.now() - started) / 1000).toFixed(1)} s)`);

  const net = initCnn();
  const steps = Math.floor(data.train.count / BATCH);
  // A constant step size leaves the held-out accuracy moving by about a point between the last
  // epochs; decaying it to 0 over the run lets them settle.
  const opt = adam({ lr: cosineDecay(lr, epochs * steps) });
  const x = zeros([BATCH, 1, 28, 28], "f32");
  const labels = zeros([BATCH], "i32");
  // fillBatch also writes one-hot targets, which the i32 labels make unnecessary here.
  const oneHot = new Float32Array(BATCH * CLASSES);
  const augment: Shift | undefined = shift > 0 ? { max: shift, random: seeded(7), background: -data.mean / data.std } : undefined;
  let acc = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = permutation(data.train.count, 1000 + epoch);
    let total = 0;
    for (let s = 0; s < steps; s++) {
      fillBatch(data.train, order, s * BATCH, x.data, oneHot, labels.data, augment);
      const [value, grads] = g(net, x, labels);
      opt.step(net, grads);
      total += value;
    }
    acc = accuracy(net, data.test.images, data.test.labels);
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    log(`epoch ${String(epoch).padStart(2)}  train loss ${(total / steps).toFixed(4)}  held-out accuracy ${(acc * 100).toFixed(2)}%  (${secs} s)`);
  }
  return acc;
}
