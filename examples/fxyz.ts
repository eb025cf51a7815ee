// The first worked example of backpropagation: f(x, y, z) = (x + y) * z.
// At (-2, 5, -4): f = -12, df/dx = -4, df/dy = -4, df/dz = 3.
import { grad, valueAndGrad } from "gradc";

export function fxyz(x: number, y: number, z: number): number {
  const q = x + y;
  return q * z;
}

export const dfxyz = grad(fxyz, { argnums: [0, 1, 2] });
export const fxyzValueAndGrad = valueAndGrad(fxyz, { argnums: [0, 1, 2] });

/** Prints the value and gradients at the worked example's point. */
export function main(g = fxyzValueAndGrad): void {
  const [f, [dx, dy, dz]] = g(-2, 5, -4);
  console.log(`f(-2, 5, -4) = ${f}`);
  console.log(`df/dx = ${dx}, df/dy = ${dy}, df/dz = ${dz}`);
}
