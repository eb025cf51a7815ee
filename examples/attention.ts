// One self-attention layer learns to reverse short token sequences. Each of the 8 positions of a
// sequence holds one of 10 tokens; the net embeds tokens with `take` (a learned table plus a
// learned position embedding), forms queries, keys and values, attends with a batched `matmul`
// and a `softmax` over the last axis, and reads every position's output token through a linear
// layer, trained with Adam against the reversed sequence (integer labels, `crossEntropy`).
// Reversing needs each position to look at its mirror image, which the attention learns from
// the position embeddings. Prints the loss and the token accuracy on fresh sequences per epoch.
import { add, adam, argmax, crossEntropy, div, matmul, mul, randn, reshape, softmax, take, tensor, transpose, valueAndGrad, zeros, type Tensor } from "gradc";
import { seeded } from "./data/random.js";

/** Tokens, positions per sequence, model width, sequences per batch. */
export const VOCAB = 10;
export const LENGTH = 8;
export const WIDTH = 32;
export const BATCH = 32;

export interface Attention {
  E: Tensor<[10, 32], "f32">;
  P: Tensor<[8, 32], "f32">;
  Wq: Tensor<[32, 32], "f32">;
  Wk: Tensor<[32, 32], "f32">;
  Wv: Tensor<[32, 32], "f32">;
  Wo: Tensor<[32, 10], "f32">;
  bo: Tensor<[10], "f32">;
}

/** The logits of every position's output token, [B·8, 10], for i32 tokens [B, 8]. */
export function logits<B extends number>(net: Attention, tokens: Tensor<[B, 8], "i32">, rows: number): Tensor<[number, 10], "f32"> {
  const x = add(take(net.E, tokens), net.P); // [B, 8, 32]
  const q = matmul(x, net.Wq);
  const k = matmul(x, net.Wk);
  const v = matmul(x, net.Wv);
  const scores = div(matmul(q, transpose(k, [0, 2, 1])), Math.sqrt(32)); // [B, 8, 8]
  const h = matmul(softmax(scores, -1), v); // [B, 8, 32]
  return add(matmul(reshape(h, [rows, 32]), net.Wo), net.bo);
}

/** Mean cross-entropy of every position's prediction against the reversed sequence's token. */
export function loss(net: Attention, tokens: Tensor<[32, 8], "i32">, targets: Tensor<[256], "i32">): number {
  return crossEntropy(logits(net, tokens, 256), targets);
}

// `scope` lets the uncompiled tape (tests compare it with the compiled gradient) resolve `logits`.
export const lossGrad = valueAndGrad(loss, { scope: { logits } });

/** Fills `tokens` with random sequences (from `random`) and `targets` with them reversed. */
export function fillBatch(tokens: Int32Array, targets: Int32Array, random: () => number): void {
  for (let s = 0; s < tokens.length / LENGTH; s++) {
    for (let t = 0; t < LENGTH; t++) tokens[s * LENGTH + t] = Math.floor(random() * VOCAB);
    for (let t = 0; t < LENGTH; t++) targets[s * LENGTH + t] = tokens[s * LENGTH + LENGTH - 1 - t]!;
  }
}

export { seeded };

/** The fraction of output tokens that equal the reversed sequence's, over `count` sequences. */
export function accuracy(net: Attention, count: number, random: () => number): number {
  const tokens = new Int32Array(count * LENGTH);
  const targets = new Int32Array(count * LENGTH);
  fillBatch(tokens, targets, random);
  const predicted = argmax(logits(net, tensor(tokens, [count, LENGTH], "i32"), count * LENGTH), 1).data;
  let right = 0;
  predicted.forEach((p, i) => (right += p === targets[i] ? 1 : 0));
  return right / targets.length;
}

export interface TrainOptions {
  epochs?: number;
  /** Batches per epoch. */
  steps?: number;
  lr?: number;
  /** Called after each epoch instead of printing the progress line. */
  log?: (line: string) => void;
}

export function initAttention(seed = 1): Attention {
  const scale = (t: Tensor<readonly number[], "f32">, s: number) => mul(t, s) as never;
  return {
    E: scale(randn([VOCAB, WIDTH], seed, "f32"), 1),
    P: scale(randn([LENGTH, WIDTH], seed + 1, "f32"), 1),
    Wq: scale(randn([WIDTH, WIDTH], seed + 2, "f32"), Math.sqrt(1 / WIDTH)),
    Wk: scale(randn([WIDTH, WIDTH], seed + 3, "f32"), Math.sqrt(1 / WIDTH)),
    Wv: scale(randn([WIDTH, WIDTH], seed + 4, "f32"), Math.sqrt(1 / WIDTH)),
    Wo: scale(randn([WIDTH, VOCAB], seed + 5, "f32"), Math.sqrt(1 / WIDTH)),
    bo: zeros([VOCAB], "f32"),
  };
}

/**
 * Trains with `g`, this module's `lossGrad` (compiled when built with gradc), and returns the
 * token accuracy on 1000 fresh sequences after the last epoch.
 */
export function main(g = lossGrad, options: TrainOptions = {}): number {
  const { epochs = 10, steps = 20, lr = 3e-3, log = console.log } = options;
  const started = performance.now();
  const net = initAttention();
  const opt = adam({ lr });
  const tokens = zeros([BATCH, LENGTH], "i32");
  const targets = zeros([256], "i32"); // BATCH · LENGTH
  const random = seeded(11);
  let acc = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let total = 0;
    for (let s = 0; s < steps; s++) {
      fillBatch(tokens.data, targets.data, random);
      const [value, grads] = g(net, tokens, targets);
      opt.step(net, grads);
      total += value;
    }
    acc = accuracy(net, 1000, seeded(5000 + epoch));
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    log(`epoch ${String(epoch).padStart(2)}  train loss ${(total / steps).toFixed(4)}  token accuracy ${(acc * 100).toFixed(2)}%  (${secs} s)`);
  }
  return acc;
}
