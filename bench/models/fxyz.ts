// The first circuit of SPEC §1: an add gate feeding a mul gate.
import { valueAndGrad } from "gradc";

export function fxyz(x: number, y: number, z: number): number {
  return (x + y) * z;
}

export const lossAndGrad = valueAndGrad(fxyz, { argnums: [0, 1, 2] });
