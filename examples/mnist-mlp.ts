// The 784 → 128 ReLU → 10 net of the mlp-mnist benchmark in f32, batch 64, softmax cross-entropy,
// trained with Adam on synthetic data (ten class prototypes plus noise).
import { add, adam, logSumExp, matmul, mean, mul, randn, relu, sub, sum, valueAndGrad, zeros, type Tensor } from "gradc";

export interface Mlp {
  W1: Tensor<[784, 128], "f32">;
  b1: Tensor<[128], "f32">;
  W2: Tensor<[128, 10], "f32">;
  b2: Tensor<[10], "f32">;
}

export function loss(net: Mlp, x: Tensor<[64, 784], "f32">, y: Tensor<[64, 10], "f32">): number {
  const h = relu(add(matmul(x, net.W1), net.b1));
  const z = add(matmul(h, net.W2), net.b2);
  return mean(sub(logSumExp(z, 1), sum(mul(z, y), 1)));
}

export const lossGrad = valueAndGrad(loss);

/** A batch of 64 noisy copies of ten fixed random "digit" prototypes. */
export function syntheticBatch(step: number): { x: Tensor<[64, 784], "f32">; y: Tensor<[64, 10], "f32"> } {
  const protos = randn([10, 784], 7, "f32");
  const noise = randn([64, 784], 100 + step, "f32");
  const x = zeros([64, 784], "f32");
  const y = zeros([64, 10], "f32");
  for (let i = 0; i < 64; i++) {
    const c = (i * 7 + step) % 10;
    y.data[i * 10 + c] = 1;
    for (let j = 0; j < 784; j++) x.data[i * 784 + j] = protos.data[c * 784 + j]! + 0.5 * noise.data[i * 784 + j]!;
  }
  return { x, y };
}

/** Trains with `g`, this module's `lossGrad` (compiled when built with gradc); returns the last loss. */
export function main(g = lossGrad, steps = 60): number {
  const scale = (t: Tensor<readonly number[], "f32">, s: number) => mul(t, s) as never;
  const net: Mlp = {
    W1: scale(randn([784, 128], 1, "f32"), Math.sqrt(2 / 784)),
    b1: zeros([128], "f32"),
    W2: scale(randn([128, 10], 2, "f32"), Math.sqrt(2 / 128)),
    b2: zeros([10], "f32"),
  };
  const opt = adam({ lr: 1e-3 });
  let last = Infinity;
  for (let step = 0; step < steps; step++) {
    const { x, y } = syntheticBatch(step);
    const [value, grads] = g(net, x, y);
    if (step % 10 === 0) console.log(`step ${String(step).padStart(3)}  loss ${value.toFixed(4)}`);
    opt.step(net, grads);
    last = value;
  }
  return last;
}
