// The first circuit of SPEC §1: an add gate feeding a mul gate.
import { valueAndGrad } from "gradc";

export function fxyz(x: number, y: number, z: number): number {
  return (x + y) * z;
}

// Reused results: each call overwrites the same result objects, as hand-written code writes
// into buffers it owns. lossAndGradFresh returns new ones each call (the default).
export const lossAndGrad = valueAndGrad(fxyz, { argnums: [0, 1, 2], reuse: true });
export const lossAndGradFresh = valueAndGrad(fxyz, { argnums: [0, 1, 2] });
