// TensorFlow.js engines: `@tensorflow/tfjs-core` with the CPU backend (plain JS kernels) or the
// WebAssembly backend (XNNPACK kernels, SIMD when available). Each model is written with the
// functional ops the way a TF.js user writes it; `tf.valueAndGrads` over the differentiated
// leaves, inside `tf.tidy`, with the data arguments closed over as constants.
//
// TF.js has no float64: f64 models run in float32 here, and the error column shows it.

import type { ModelCase, ModelName } from "../cases.js";
import { mapLeaves, type Leaf, type Tree } from "../lib/tree.js";
import { Unavailable, type Engine, type EngineInstance } from "./types.js";

type TF = typeof import("@tensorflow/tfjs-core");
type T = import("@tensorflow/tfjs-core").Tensor;
type S = import("@tensorflow/tfjs-core").Scalar;

/** Each model over tf tensors; arguments have the structure of the harness inputs. */
const models: Record<ModelName, (tf: TF, ...args: any[]) => S> = {
  fxyz: (tf, x: T, y: T, z: T) => tf.mul(tf.add(x, y), z),
  neuron: (tf, w: T[], x: T[]) => {
    const dot = tf.add(tf.add(tf.mul(w[0]!, x[0]!), tf.mul(w[1]!, x[1]!)), w[2]!);
    return tf.div(1, tf.add(1, tf.exp(tf.neg(dot))));
  },
  "mlp-tiny": (tf, W1: T, W2: T, x: T, y: T) => {
    const h = tf.sigmoid(tf.matMul(W1, x));
    return tf.sum(tf.square(tf.sub(tf.matMul(W2, h), y)));
  },
  "mlp-mnist": (tf, p: Record<"W1" | "b1" | "W2" | "b2", T>, x: T, y: T) => {
    const h = tf.relu(tf.add(tf.matMul(x, p.W1), p.b1));
    const logits = tf.add(tf.matMul(h, p.W2), p.b2);
    return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, y), 1)));
  },
  pendulum: (tf, k: T, L: T, theta0: T, omega0: T, target: T) => {
    const g = 9.81, dt = 0.01;
    const c = tf.div(g, L);
    let theta = theta0, omega = omega0;
    let loss: T = tf.scalar(0);
    for (let t = 0; t < 1000; t++) {
      omega = tf.add(omega, tf.mul(dt, tf.sub(tf.neg(tf.mul(c, tf.sin(theta))), tf.mul(k, omega))));
      theta = tf.add(theta, tf.mul(dt, omega));
      const d = tf.sub(theta, target);
      loss = tf.add(loss, tf.mul(d, d));
    }
    return loss as S;
  },
};

let loaded: Promise<TF> | undefined;

/** Loads TF.js once per process with gradients and both backends registered. */
async function loadTf(): Promise<TF> {
  loaded ??= (async () => {
    const tf = await import("@tensorflow/tfjs-core");
    await import("@tensorflow/tfjs-core/dist/register_all_gradients");
    await import("@tensorflow/tfjs-backend-cpu");
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // The .wasm binaries ship in the package's dist/; under Node they are read from disk.
    const { createRequire } = await import("node:module");
    const path = await import("node:path");
    const pkg = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json");
    wasm.setWasmPaths(path.join(path.dirname(pkg), "dist") + path.sep);
    tf.enableProdMode(); // the documented switch for speed: no per-op debug checks
    return tf;
  })();
  return loaded;
}

function makeEngine(name: "tfjs-cpu" | "tfjs-wasm", backend: "cpu" | "wasm"): Engine {
  return {
    name,
    note: "TF.js has no float64: f64 models are computed in float32.",
    async setup(model: ModelCase, inputs: Tree[]): Promise<EngineInstance> {
      const tf = await loadTf();
      let ok: boolean;
      try {
        ok = await tf.setBackend(backend);
        await tf.ready();
      } catch (e) {
        throw new Unavailable(`backend '${backend}' failed to initialize: ${(e as Error).message}`);
      }
      if (!ok || tf.getBackend() !== backend) throw new Unavailable(`tf.setBackend("${backend}") returned false under Node ${process.version}`);

      const toTf = (l: Leaf): T => (typeof l === "number" ? tf.scalar(l, "float32") : tf.tensor(Float32Array.from(l.data), [...l.shape], "float32"));
      const args = inputs.map((a) => mapLeaves(a, toTf));
      const diff = new Set(model.argnums);
      // The differentiated leaves, in argnums order; data arguments stay constants.
      const params: T[] = [];
      for (const i of model.argnums) collect(args[i], params);
      const fn = models[model.name];
      const valueAndGrads = tf.valueAndGrads((...ps: T[]) => {
        let next = 0;
        const full = args.map((a, i) => (diff.has(i) ? rebuild(a, () => ps[next++]!) : a));
        return fn(tf, ...full);
      });

      let value = 0;
      let grads: Float32Array[] = [];
      const info: Record<string, string> = {};
      if (backend === "wasm") {
        info.simd = String(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
        info.threads = String(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"));
      }
      return {
        info,
        call() {
          const out = tf.tidy(() => valueAndGrads(params));
          value = out.value.dataSync()[0]!;
          grads = out.grads.map((g) => g.dataSync() as Float32Array);
          out.value.dispose();
          tf.dispose(out.grads);
        },
        result() {
          let next = 0;
          const perArg = model.argnums.map((i) =>
            mapLeaves(inputs[i]!, (like) => {
              const data = grads[next++]!;
              return typeof like === "number" ? data[0]! : { shape: like.shape, data };
            }) as Tree,
          );
          return { value, grads: perArg };
        },
        dispose() {
          const all: T[] = [];
          collect(args, all);
          tf.dispose(all);
        },
      };
    },
  };
}

/** Pushes the tf tensors of a structure (built by `mapLeaves`) in traversal order. */
function collect(tree: unknown, out: T[]): void {
  if (Array.isArray(tree)) for (const t of tree) collect(t, out);
  else if (isTf(tree)) out.push(tree);
  else for (const t of Object.values(tree as object)) collect(t, out);
}

/** The same structure with its tf tensors replaced, in traversal order, by `next()`. */
function rebuild(tree: unknown, next: () => T): unknown {
  if (Array.isArray(tree)) return tree.map((t) => rebuild(t, next));
  if (isTf(tree)) return next();
  return Object.fromEntries(Object.entries(tree as object).map(([k, t]) => [k, rebuild(t, next)]));
}

function isTf(x: unknown): x is T {
  return typeof x === "object" && x !== null && "dataId" in x && "shape" in x;
}

export const tfjsCpu = makeEngine("tfjs-cpu", "cpu");
export const tfjsWasm = makeEngine("tfjs-wasm", "wasm");
