// A 2-input sigmoid neuron, f = σ(w0·x0 + w1·x1 + w2): weights and inputs are tuples, so the gradients come
// back as tuples of the same shape.
import { valueAndGrad } from "gradc";

export function neuron(w: [number, number, number], x: [number, number]): number {
  const dot = w[0] * x[0] + w[1] * x[1] + w[2];
  return 1 / (1 + Math.exp(-dot));
}

// Reused results: each call overwrites the same result objects, as hand-written code writes
// into buffers it owns. lossAndGradFresh returns new ones each call (the default).
export const lossAndGrad = valueAndGrad(neuron, { argnums: [0, 1], reuse: true });
export const lossAndGradFresh = valueAndGrad(neuron, { argnums: [0, 1] });
