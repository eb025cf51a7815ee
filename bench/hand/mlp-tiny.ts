// Hand-written 4→16→1 sigmoid MLP, L = (W2·σ(W1·x) − y)², with the 4-wide input unrolled.
// W1 is [16, 4] and W2 [1, 16], row-major.

const H = 16;

export function createMlpTiny() {
  const h = new Float64Array(H);
  const dW1 = new Float64Array(H * 4);
  const dW2 = new Float64Array(H);
  function lossAndGrad(W1: Float64Array, W2: Float64Array, x: Float64Array, y: number): number {
    const x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
    let yHat = 0;
    for (let i = 0; i < H; i++) {
      const o = i * 4;
      const s = 1 / (1 + Math.exp(-(W1[o] * x0 + W1[o + 1] * x1 + W1[o + 2] * x2 + W1[o + 3] * x3)));
      h[i] = s;
      yHat += W2[i] * s;
    }
    const d = yHat - y;
    const g = 2 * d;
    for (let i = 0; i < H; i++) {
      const s = h[i];
      dW2[i] = g * s;
      const da = g * W2[i] * s * (1 - s);
      const o = i * 4;
      dW1[o] = da * x0;
      dW1[o + 1] = da * x1;
      dW1[o + 2] = da * x2;
      dW1[o + 3] = da * x3;
    }
    return d * d;
  }
  return { dW1, dW2, lossAndGrad };
}
