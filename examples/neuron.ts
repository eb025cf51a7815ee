// A sigmoid neuron: f = σ(w0·x0 + w1·x1 + w2). At w = (2, -3, -3), x = (-1, -2):
// f ≈ 0.73, dw ≈ (-0.20, -0.39, 0.20), dx ≈ (0.39, -0.59).
import { valueAndGrad } from "gradc";

export type Weights = [number, number, number];
export type Inputs = [number, number];

export function neuron(w: Weights, x: Inputs): number {
  const dot = w[0] * x[0] + w[1] * x[1] + w[2];
  return 1 / (1 + Math.exp(-dot));
}

export const neuronGrad = valueAndGrad(neuron, { argnums: [0, 1] });

/** Prints the neuron's output and gradients at the worked example's point. */
export function main(g = neuronGrad): void {
  const [f, [dw, dx]] = g([2, -3, -3], [-1, -2]);
  const fmt = (xs: number[]) => xs.map((v) => v.toFixed(2)).join(", ");
  console.log(`f = ${f.toFixed(4)}`);
  console.log(`dw = (${fmt(dw)})`);
  console.log(`dx = (${fmt(dx)})`);
}
