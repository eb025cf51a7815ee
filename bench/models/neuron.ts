// A 2-input sigmoid neuron (SPEC §1): weights and inputs are tuples, so the gradients come
// back as tuples of the same shape.
import { valueAndGrad } from "gradc";

export function neuron(w: [number, number, number], x: [number, number]): number {
  const dot = w[0] * x[0] + w[1] * x[1] + w[2];
  return 1 / (1 + Math.exp(-dot));
}

export const lossAndGrad = valueAndGrad(neuron, { argnums: [0, 1] });
