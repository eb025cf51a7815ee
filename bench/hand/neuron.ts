// Hand-written sigmoid neuron: σ' = σ(1 − σ) from the forward output, then one mul gate each.

export function createNeuron() {
  const dw = new Float64Array(3);
  const dx = new Float64Array(2);
  function lossAndGrad(w: Float64Array, x: Float64Array): number {
    const w0 = w[0], w1 = w[1], w2 = w[2], x0 = x[0], x1 = x[1];
    const f = 1 / (1 + Math.exp(-(w0 * x0 + w1 * x1 + w2)));
    const dz = f * (1 - f);
    dw[0] = dz * x0;
    dw[1] = dz * x1;
    dw[2] = dz;
    dx[0] = dz * w0;
    dx[1] = dz * w1;
    return f;
  }
  return { dw, dx, lossAndGrad };
}
