// The reference engine: the hand-written code of bench/hand/, called on the harness's typed
// arrays directly. Gradient buffers are preallocated by each model; a call allocates nothing.

import type { ModelName } from "../cases.js";
import { createFxyz } from "../hand/fxyz.js";
import { createMlpMnist } from "../hand/mlp-mnist.js";
import { createMlpTiny } from "../hand/mlp-tiny.js";
import { createNeuron } from "../hand/neuron.js";
import { createPendulum } from "../hand/pendulum.js";
import type { FloatArray, TensorValue, Tree } from "../lib/tree.js";
import type { Engine, EngineInstance } from "./types.js";

const num = (t: Tree): number => t as number;
const arr = (t: Tree): FloatArray => (t as TensorValue).data;
const t = (shape: number[], data: FloatArray): TensorValue => ({ shape, data: data.slice() });

const setups: Record<ModelName, (args: Tree[]) => EngineInstance> = {
  fxyz(args) {
    const [x, y, z] = args.map(num) as [number, number, number];
    const m = createFxyz();
    let value = 0;
    return {
      call: () => void (value = m.lossAndGrad(x, y, z)),
      result: () => ({ value, grads: [m.grad[0], m.grad[1], m.grad[2]] }),
    };
  },
  neuron(args) {
    const w = Float64Array.from(args[0] as number[]);
    const x = Float64Array.from(args[1] as number[]);
    const m = createNeuron();
    let value = 0;
    return {
      call: () => void (value = m.lossAndGrad(w, x)),
      result: () => ({ value, grads: [[...m.dw], [...m.dx]] }),
    };
  },
  "mlp-tiny"(args) {
    const [W1, W2, x] = args.slice(0, 3).map(arr) as [Float64Array, Float64Array, Float64Array];
    const y = num(args[3]!);
    const m = createMlpTiny();
    let value = 0;
    return {
      call: () => void (value = m.lossAndGrad(W1, W2, x, y)),
      result: () => ({ value, grads: [t([16, 4], m.dW1), t([1, 16], m.dW2)] }),
    };
  },
  "mlp-mnist"(args) {
    const p = args[0] as Record<"W1" | "b1" | "W2" | "b2", TensorValue>;
    const x = arr(args[1]!), y = arr(args[2]!);
    const m = createMlpMnist("f32");
    let value = 0;
    return {
      call: () => void (value = m.lossAndGrad(p.W1.data, p.b1.data, p.W2.data, p.b2.data, x, y)),
      result: () => ({
        value,
        grads: [{ W1: t([784, 128], m.dW1), b1: t([128], m.db1), W2: t([128, 10], m.dW2), b2: t([10], m.db2) }],
      }),
    };
  },
  pendulum(args) {
    const [k, L, theta0, omega0, target] = args.map(num) as [number, number, number, number, number];
    const m = createPendulum();
    let value = 0;
    return {
      call: () => void (value = m.lossAndGrad(k, L, theta0, omega0, target)),
      result: () => ({ value, grads: [m.grad[0], m.grad[1], m.grad[2], m.grad[3]] }),
    };
  },
};

export const hand: Engine = {
  name: "hand",
  setup: async (model, inputs) => setups[model.name](inputs),
};
