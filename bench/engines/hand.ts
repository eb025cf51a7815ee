// The reference engine: the hand-written code of bench/hand/, called on the harness's typed
// arrays directly. Gradient buffers are preallocated by each model; a call allocates nothing.

import type { MlpDims, ModelName } from "../cases.js";
import { createAttention } from "../hand/attention.js";
import { createCnnMnist } from "../hand/cnn-mnist.js";
import { createFxyz } from "../hand/fxyz.js";
import { createMlpMnist } from "../hand/mlp-mnist.js";
import { createMlpTiny } from "../hand/mlp-tiny.js";
import { createNeuron } from "../hand/neuron.js";
import { createPendulum } from "../hand/pendulum.js";
import { createSizedMlp, INPUTS } from "../scaling/hand-mlp.js";
import type { FloatArray, IntTensorValue, TensorValue, Tree } from "../lib/tree.js";
import type { Engine, EngineInstance } from "./types.js";

const num = (t: Tree): number => t as number;
const arr = (t: Tree): FloatArray => (t as TensorValue).data;
const ints = (t: Tree): Int32Array => (t as IntTensorValue).data;
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
  "cnn-mnist"(args) {
    const p = args[0] as Record<"w1" | "b1" | "w2" | "b2" | "W3" | "b3", TensorValue>;
    const [w1, b1, w2, b2, W3, b3] = [p.w1, p.b1, p.w2, p.b2, p.W3, p.b3].map(arr);
    const x = arr(args[1]!), labels = ints(args[2]!);
    const m = createCnnMnist("f32");
    let value = 0;
    return {
      call: () => void (value = m.lossAndGrad(w1, b1, w2, b2, W3, b3, x, labels)),
      result: () => ({
        value,
        grads: [{ w1: t([8, 1, 3, 3], m.dw1), b1: t([8], m.db1), w2: t([16, 8, 3, 3], m.dw2), b2: t([16], m.db2), W3: t([784, 10], m.dW3), b3: t([10], m.db3) }],
      }),
    };
  },
  attention(args) {
    const p = args[0] as Record<"Wq" | "Wk" | "Wv", TensorValue>;
    const [Wq, Wk, Wv] = [p.Wq, p.Wk, p.Wv].map(arr);
    const x = arr(args[1]!);
    const m = createAttention("f32");
    let value = 0;
    return {
      call: () => void (value = m.lossAndGrad(Wq, Wk, Wv, x)),
      result: () => ({ value, grads: [{ Wq: t([64, 64], m.dWq), Wk: t([64, 64], m.dWk), Wv: t([64, 64], m.dWv) }] }),
    };
  },
};

/** mlp-mnist at another batch and hidden width (the scaling table). */
function sizedMlp({ batch, hidden }: MlpDims, args: Tree[]): EngineInstance {
  const p = args[0] as Record<"W1" | "b1" | "W2" | "b2", TensorValue>;
  const x = arr(args[1]!), y = arr(args[2]!);
  const m = createSizedMlp(batch, hidden, "f32");
  let value = 0;
  return {
    call: () => void (value = m.lossAndGrad(p.W1.data, p.b1.data, p.W2.data, p.b2.data, x, y)),
    result: () => ({
      value,
      grads: [{ W1: t([INPUTS, hidden], m.dW1), b1: t([hidden], m.db1), W2: t([hidden, 10], m.dW2), b2: t([10], m.db2) }],
    }),
  };
}

export const hand: Engine = {
  name: "hand",
  setup: async (model, inputs) => (model.dims ? sizedMlp(model.dims, inputs) : setups[model.name](inputs)),
};
