// The benchmark models of `npm run bench` (bench/README.md): where each one's gradc source lives, which arguments are
// differentiated, and how its inputs are drawn. Every engine receives clones of the same inputs.

import { Rng } from "./lib/prng.js";
import type { DType, TensorValue, Tree } from "./lib/tree.js";

export const MODEL_NAMES = ["fxyz", "neuron", "mlp-tiny", "mlp-mnist", "pendulum"] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface ModelCase {
  name: ModelName;
  /** One line for tables and the README. */
  description: string;
  dtype: DType;
  /** The gradc source, relative to the repository root. Exports `lossAndGrad`. */
  source: string;
  argnums: readonly number[];
  /** The positional arguments of the model function, drawn from `rng`. */
  makeInputs(rng: Rng): Tree[];
}

/** Seed of the one generator all inputs come from; a model's inputs depend only on it. */
export const SEED = 20240611;

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
    makeInputs: (rng) => {
      const params = {
        W1: tensor([784, 128], "f32", () => rng.normal(0, Math.sqrt(2 / 784))),
        b1: tensor([128], "f32", () => rng.normal(0, 0.01)),
        W2: tensor([128, 10], "f32", () => rng.normal(0, Math.sqrt(2 / 128))),
        b2: tensor([10], "f32", () => rng.normal(0, 0.01)),
      };
      const x = tensor([64, 784], "f32", () => rng.uniform());
      const y = tensor([64, 10], "f32", () => 0);
      for (let b = 0; b < 64; b++) y.data[b * 10 + rng.int(10)] = 1;
      return [params, x, y];
    },
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
};

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
