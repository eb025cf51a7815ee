// The benchmark models of `npm run bench` (bench/README.md): where each one's gradc source lives, which arguments are
// differentiated, and how its inputs are drawn. Every engine receives clones of the same inputs.

import { Rng } from "./lib/prng.js";
import type { DType, IntTensorValue, TensorValue, Tree } from "./lib/tree.js";

export const MODEL_NAMES = ["fxyz", "neuron", "mlp-tiny", "mlp-mnist", "pendulum", "cnn-mnist", "attention"] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface ModelCase {
  name: ModelName;
  /** One line for tables and the README. */
  description: string;
  dtype: DType;
  /** The gradc source, relative to the repository root. Exports `lossAndGrad`. */
  source: string;
  argnums: readonly number[];
  /**
   * gradc ops the model uses that the runtime may not export yet. The gradc and tape engines
   * report "n/a (needs …)" for a model whose ops are missing, instead of failing to compile.
   */
  needs?: readonly string[];
  /** The positional arguments of the model function, drawn from `rng`. */
  makeInputs(rng: Rng): Tree[];
  /**
   * mlp-mnist at another size (the scaling table): the hand engine then runs the sized
   * reference (bench/scaling/hand-mlp.ts) instead of bench/hand/mlp-mnist.ts.
   */
  dims?: MlpDims;
  /** false: skip the cost-of-derivatives measurement (a second compile, more timing). */
  timeDerivatives?: boolean;
}

/** mlp-mnist's batch and hidden width; `symbolic`: gradc's source takes the batch as `<B extends number>`. */
export interface MlpDims {
  batch: number;
  hidden: number;
  symbolic?: boolean;
}

/** Seed of the one generator all inputs come from; a model's inputs depend only on it. */
export const SEED = 20240611;

function labels(n: number, classes: number, rng: Rng): IntTensorValue {
  return { shape: [n], data: Int32Array.from({ length: n }, () => rng.int(classes)) };
}

function tensor(shape: number[], dtype: DType, fill: () => number): TensorValue {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === "f32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = fill();
  return { shape, data };
}

export const CASES: Record<ModelName, ModelCase> = {
  fxyz: {
    name: "fxyz",
    description: "f = (x+y)·z, 3 scalars",
    dtype: "f64",
    source: "bench/models/fxyz.ts",
    argnums: [0, 1, 2],
    makeInputs: (rng) => [rng.normal(0, 3), rng.normal(0, 3), rng.normal(0, 3)],
  },
  neuron: {
    name: "neuron",
    description: "σ(w0·x0 + w1·x1 + w2), tuple params",
    dtype: "f64",
    source: "bench/models/neuron.ts",
    argnums: [0, 1],
    makeInputs: (rng) => [
      [rng.normal(), rng.normal(), rng.normal()],
      [rng.normal(), rng.normal()],
    ],
  },
  "mlp-tiny": {
    name: "mlp-tiny",
    description: "4→16→1 sigmoid MLP, one sample, f64",
    dtype: "f64",
    source: "bench/models/mlp-tiny.ts",
    argnums: [0, 1],
    makeInputs: (rng) => [
      tensor([16, 4], "f64", () => rng.normal(0, 0.5)),
      tensor([1, 16], "f64", () => rng.normal(0, 0.25)),
      tensor([4, 1], "f64", () => rng.normal()),
      rng.normal(),
    ],
  },
  "mlp-mnist": {
    name: "mlp-mnist",
    description: "f32, batch 64, 784→128 ReLU→10, softmax CE",
    dtype: "f32",
    source: "bench/models/mlp-mnist.ts",
    argnums: [0],
    makeInputs: (rng) => awayFromKink(mlpInputs(rng, 64, 128), 64, 128),
  },
  pendulum: {
    name: "pendulum",
    description: "1000-step damped pendulum (for loop), 4 scalar params",
    dtype: "f64",
    source: "bench/models/pendulum.ts",
    argnums: [0, 1, 2, 3],
    makeInputs: (rng) => [
      rng.uniform(0.05, 0.5), // k
      rng.uniform(0.5, 2), // L
      rng.uniform(-1, 1), // θ0
      rng.uniform(-1, 1), // ω0
      rng.uniform(-0.5, 0.5), // target
    ],
  },
  "cnn-mnist": {
    name: "cnn-mnist",
    description: "f32, batch 32, conv 1→8 → pool → conv 8→16 → pool → 784→10, CE (i32 labels)",
    dtype: "f32",
    source: "bench/models/cnn-mnist.ts",
    argnums: [0],
    needs: ["conv2d", "maxPool2d", "crossEntropy", "reshape"],
    makeInputs: (rng) => {
      const params = {
        w1: tensor([8, 1, 3, 3], "f32", () => rng.normal(0, Math.sqrt(2 / 9))),
        b1: tensor([8], "f32", () => rng.normal(0, 0.01)),
        w2: tensor([16, 8, 3, 3], "f32", () => rng.normal(0, Math.sqrt(2 / 72))),
        b2: tensor([16], "f32", () => rng.normal(0, 0.01)),
        W3: tensor([784, 10], "f32", () => rng.normal(0, Math.sqrt(2 / 784))),
        b3: tensor([10], "f32", () => rng.normal(0, 0.01)),
      };
      const x = tensor([32, 1, 28, 28], "f32", () => rng.uniform());
      return [params, x, labels(32, 10, rng)];
    },
  },
  attention: {
    name: "attention",
    description: "f32, [8, 64, 64], one head softmax(Q·Kᵀ/√64)·V, mean square",
    dtype: "f32",
    source: "bench/models/attention.ts",
    argnums: [0],
    needs: ["batched matmul", "transpose(x, perm)", "softmax"],
    makeInputs: (rng) => {
      const params = {
        Wq: tensor([64, 64], "f32", () => rng.normal(0, 1 / 8)),
        Wk: tensor([64, 64], "f32", () => rng.normal(0, 1 / 8)),
        Wv: tensor([64, 64], "f32", () => rng.normal(0, 1 / 8)),
      };
      return [params, tensor([8, 64, 64], "f32", () => rng.normal())];
    },
  },
};

/** mlp-mnist's inputs at batch `batch` and hidden width `hidden` (at 64 and 128: the bench's own). */
function mlpInputs(rng: Rng, batch: number, hidden: number): Tree[] {
  const params = {
    W1: tensor([784, hidden], "f32", () => rng.normal(0, Math.sqrt(2 / 784))),
    b1: tensor([hidden], "f32", () => rng.normal(0, 0.01)),
    W2: tensor([hidden, 10], "f32", () => rng.normal(0, Math.sqrt(2 / hidden))),
    b2: tensor([10], "f32", () => rng.normal(0, 0.01)),
  };
  const x = tensor([batch, 784], "f32", () => rng.uniform());
  const y = tensor([batch, 10], "f32", () => 0);
  for (let b = 0; b < batch; b++) y.data[b * 10 + rng.int(10)] = 1;
  return [params, x, y];
}

/**
 * mlp-mnist at another batch and hidden width, its gradc source at `source` (written by
 * bench/scaling/model.ts). Same name, so every engine runs it as mlp-mnist.
 */
export function sizedMlpMnist(dims: MlpDims, source: string): ModelCase {
  const { batch, hidden } = dims;
  return {
    ...CASES["mlp-mnist"],
    description: `f32, batch ${batch}${dims.symbolic ? " (symbolic in gradc)" : ""}, 784→${hidden} ReLU→10, softmax CE`,
    source,
    dims,
    timeDerivatives: false,
    makeInputs: (rng) => awayFromKink(mlpInputs(rng, batch, hidden), batch, hidden),
  };
}

/**
 * Moves the hidden biases of `inputs` (mlp-mnist's) until no pre-activation x·W1 + b1 lies
 * within 1e-4 of ReLU's kink. Closer than that, sums accumulated in float32 (WebAssembly
 * kernels, jax-js) and in float64 (hand, JavaScript loops) can fall on either side: a whole
 * column of dW1 then differs, an error of the data, not of an engine. At batch 64, hidden 2048
 * one pre-activation is 1.4e-7.
 */
export function awayFromKink(inputs: Tree[], batch: number, hidden: number, margin = 1e-4): Tree[] {
  const p = inputs[0] as Record<"W1" | "b1", TensorValue>;
  const x = (inputs[1] as TensorValue).data;
  const W1 = p.W1.data, b1 = p.b1.data;
  const z = new Float64Array(hidden);
  for (let round = 0; round < 8; round++) {
    const near = new Set<number>();
    for (let b = 0; b < batch; b++) {
      z.set(b1);
      for (let k = 0; k < 784; k++) {
        const v = x[b * 784 + k]!;
        const row = k * hidden;
        for (let j = 0; j < hidden; j++) z[j] += v * W1[row + j]!;
      }
      for (let j = 0; j < hidden; j++) if (Math.abs(z[j]!) < margin) near.add(j);
    }
    if (near.size === 0) return inputs;
    for (const j of near) b1[j] = b1[j]! + 3 * margin;
  }
  throw new Error(`mlp-mnist inputs at batch ${batch}, hidden ${hidden}: pre-activations stay within ${margin} of 0`);
}

/** Inputs for one model: a fresh generator per model, so filtering models changes nothing. */
export function inputsFor(c: ModelCase): Tree[] {
  return c.makeInputs(new Rng(SEED ^ hash(c.name)));
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Max relative error at which an engine's result still counts as matching `hand`. */
export function tolerance(dtype: DType): number {
  return dtype === "f64" ? 1e-9 : 1e-4;
}
