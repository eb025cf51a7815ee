// Hand-written f = (x + y)·z and its gradient: the add gate passes the upstream gradient
// through, the mul gate swaps its inputs.

export function createFxyz() {
  const grad = new Float64Array(3);
  function lossAndGrad(x: number, y: number, z: number): number {
    const q = x + y;
    grad[0] = z;
    grad[1] = z;
    grad[2] = q;
    return q * z;
  }
  return { grad, lossAndGrad };
}
