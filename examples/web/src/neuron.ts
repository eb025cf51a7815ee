// A sigmoid neuron, f = σ(w0·x0 + w1·x1 + w2), the standard worked example of
// backpropagation. The page draws its computational graph at the worked point (drawn at build
// time by `gradc graph`'s machinery) and checks it against the compiled gradient, computed here
// in the browser.
import { valueAndGrad } from "gradc";

export type Weights = [number, number, number];
export type Inputs = [number, number];

export function neuron(w: Weights, x: Inputs): number {
  const dot = w[0] * x[0] + w[1] * x[1] + w[2];
  return 1 / (1 + Math.exp(-dot));
}

export const neuronGrad = valueAndGrad(neuron, { argnums: [0, 1] });

/** The point the worked example uses: w = (2, −3, −3), x = (−1, −2). */
export const WORKED_POINT: [Weights, Inputs] = [
  [2, -3, -3],
  [-1, -2],
];
