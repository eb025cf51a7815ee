// jax-js engine: `jit(valueAndGrad(f, { argnums }))` on the "wasm" device, the JAX way. Arrays
// are reference-counted (every use consumes a reference, `.ref` adds one), so the model
// functions below take `.ref` wherever a value is used more than once.
//
// Under Node 20, `init()` with no argument throws (`navigator is not defined`) while probing
// for WebGPU, so only the wasm device is initialized. Its wasm kernels evaluate exp, log, sin
// and cos to float32 accuracy even on float64 arrays (jit(np.exp)(0.3) = 1.3498587608…, not
// 1.3498588075…), which the error column shows for the f64 models that use them.

import type { ModelCase, ModelName } from "../cases.js";
import { alignTo, mapLeaves, type Leaf, type Tree } from "../lib/tree.js";
import { Unavailable, type Engine, type EngineInstance } from "./types.js";

type Jax = typeof import("@jax-js/jax");
type A = import("@jax-js/jax").Array;

const models: Record<ModelName, (jax: Jax) => (...args: any[]) => A> = {
  fxyz: () => (x: A, y: A, z: A) => x.add(y).mul(z),
  neuron: ({ numpy: np }) => (w: A[], x: A[]) => {
    const dot = w[0]!.mul(x[0]!).add(w[1]!.mul(x[1]!)).add(w[2]!);
    return np.divide(1, np.exp(dot.neg()).add(1));
  },
  "mlp-tiny": ({ numpy: np, nn }) => (W1: A, W2: A, x: A, y: A) => {
    const h = nn.sigmoid(np.matmul(W1, x));
    return np.sum(np.square(np.matmul(W2, h).sub(y)));
  },
  "mlp-mnist": ({ numpy: np, nn }) => (p: Record<"W1" | "b1" | "W2" | "b2", A>, x: A, y: A) => {
    const h = nn.relu(np.matmul(x, p.W1).add(p.b1));
    const logits = np.matmul(h, p.W2).add(p.b2);
    const nll = nn.logsumexp(logits.ref, 1).sub(np.sum(logits.mul(y), 1));
    return np.mean(nll);
  },
  pendulum: ({ numpy: np }) => (k: A, L: A, theta0: A, omega0: A, target: A) => {
    const g = 9.81, dt = 0.01;
    const c = np.divide(g, L);
    let theta = theta0, omega = omega0;
    let loss = np.zerosLike(theta0.ref);
    for (let t = 0; t < 1000; t++) {
      const accel = c.ref.mul(np.sin(theta.ref)).neg().sub(k.ref.mul(omega.ref));
      omega = omega.add(accel.mul(dt));
      theta = theta.add(omega.ref.mul(dt));
      const d = theta.ref.sub(target.ref);
      loss = loss.add(d.ref.mul(d));
    }
    c.dispose();
    k.dispose();
    target.dispose();
    theta.dispose();
    omega.dispose();
    return loss;
  },
  // PyTorch's layouts (NCHW, OIHW) as the harness has them: convolution is
  // lax.convGeneralDilated; max-pooling, which has no helper, lax.reduceWindow with np.max.
  "cnn-mnist": ({ numpy: np, nn, lax }) => (p: Record<"w1" | "b1" | "w2" | "b2" | "W3" | "b3", A>, x: A, labels: A) => {
    const block = (h: A, w: A, b: A, o: number) =>
      lax.reduceWindow(nn.relu(lax.convGeneralDilated(h, w, [1, 1], [[1, 1], [1, 1]]).add(b.reshape([1, o, 1, 1]))), np.max, [2, 2], [2, 2]);
    const h2 = block(block(x, p.w1, p.b1, 8), p.w2, p.b2, 16);
    const logits = np.matmul(h2.reshape([32, 784]), p.W3).add(p.b3);
    const nll = nn.logsumexp(logits.ref, 1).sub(np.sum(logits.mul(nn.oneHot(labels, 10)), 1));
    return np.mean(nll);
  },
  attention: ({ numpy: np, nn }) => (p: Record<"Wq" | "Wk" | "Wv", A>, x: A) => {
    const q = np.matmul(x.ref, p.Wq), k = np.matmul(x.ref, p.Wk), v = np.matmul(x, p.Wv);
    const scores = np.matmul(q, np.transpose(k, [0, 2, 1])).mul(1 / 8);
    const out = np.matmul(nn.softmax(scores, -1), v);
    return np.mean(np.square(out));
  },
};

let loaded: Promise<Jax> | undefined;

async function loadJax(): Promise<Jax> {
  loaded ??= (async () => {
    // jax-js 0.1.25 tests `data instanceof Float16Array` before Float64Array when it builds an
    // array, and Node 20 has no Float16Array: any float64 array of 2+ elements throws a
    // ReferenceError. A stand-in class makes that test false, which is the truth here.
    (globalThis as { Float16Array?: unknown }).Float16Array ??= class Float16Array {};
    const jax = await import("@jax-js/jax");
    const devices = await jax.init("wasm");
    if (!devices.includes("wasm")) throw new Unavailable(`jax-js init("wasm") returned [${devices.join(", ")}]`);
    jax.defaultDevice("wasm");
    return jax;
  })();
  return loaded;
}

export const jaxJs: Engine = {
  name: "jax-js",
  note: "jax-js's wasm kernels compute exp/log/sin/cos to float32 accuracy, also for float64 arrays.",
  async setup(model: ModelCase, inputs: Tree[]): Promise<EngineInstance> {
    const jax = await loadJax();
    const { numpy: np } = jax;
    const dtype = model.dtype === "f32" ? np.float32 : np.float64;
    const toJax = (l: Leaf): A =>
      typeof l === "number"
        ? np.array([l], { dtype }).reshape([])
        : l.data instanceof Int32Array
          ? np.array(l.data, { dtype: np.int32, shape: [...l.shape] })
          : np.array(l.data, { dtype, shape: [...l.shape] });
    const args = inputs.map((a) => mapLeaves(a, toJax));
    const f = jax.jit(jax.valueAndGrad(models[model.name](jax), { argnums: [...model.argnums] }));

    let value = 0;
    let grads: unknown = [];
    return {
      call() {
        const [v, g] = f(...(args.map((a) => jax.tree.ref(a as any)) as any[])) as unknown as [A, unknown];
        value = v.dataSync()[0]!;
        grads = jax.tree.map((x: A) => x.dataSync(), g as any);
      },
      result() {
        // Structure comes from the inputs: jax-js may order object keys differently.
        const fromJax = (v: unknown, like: Leaf): Leaf => {
          const data = v as Float64Array | Float32Array;
          return typeof like === "number" ? data[0]! : { shape: like.shape, data };
        };
        const perArg = model.argnums.map((i, j) => alignTo(inputs[i]!, (grads as unknown[])[j], fromJax));
        return { value, grads: perArg };
      },
      dispose() {
        for (const a of args) jax.tree.dispose(a as any);
        f.dispose();
      },
    };
  },
};
