// The smallest circuit of backpropagation, f = (x + y)·z: an add gate feeding a mul gate.
// At (x, y, z) = (−2, 5, −4) the gradients are (−4, −4, 3).
import { valueAndGrad } from "gradc";

export function fxyz(x: number, y: number, z: number): number {
  return (x + y) * z;
}

// Reused results: each call overwrites the same result objects, as hand-written code writes
// into buffers it owns. lossAndGradFresh returns new ones each call (the default).
export const lossAndGrad = valueAndGrad(fxyz, { argnums: [0, 1, 2], reuse: true });
export const lossAndGradFresh = valueAndGrad(fxyz, { argnums: [0, 1, 2] });
