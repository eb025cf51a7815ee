// TensorFlow.js engines: `@tensorflow/tfjs-core` with the CPU backend (plain JS kernels) or the
// WebAssembly backend (XNNPACK kernels, SIMD when available). Each model is written with the
// functional ops the way a TF.js user writes it; `tf.valueAndGrads` over the differentiated
// leaves, inside `tf.tidy`, with the data arguments closed over as constants.
//
// TF.js has no float64: f64 models run in float32 here, and the error column shows it.

import type { ModelCase, ModelName } from "../cases.js";
import { mapLeaves, type Leaf, type TensorValue, type Tree } from "../lib/tree.js";
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
  // NHWC throughout (tf.maxPool, and the WebAssembly backend's conv2d, take channels-last
  // only): the input and weights are converted once at setup (`layouts` below), W3's rows
  // permuted so that flattening [32, 7, 7, 16] meets the same weights as flattening NCHW.
  "cnn-mnist": (tf, p: Record<"w1" | "b1" | "w2" | "b2" | "W3" | "b3", T>, x: T, labels: T) => {
    const block = (h: T, w: T, b: T) => tf.maxPool(tf.relu(tf.add(convSame(tf, h as T4, w as T4), b)) as T4, 2, 2, "valid");
    const h2 = block(block(x, p.w1, p.b1), p.w2, p.b2);
    const logits = tf.add(tf.matMul(tf.reshape(h2, [32, 784]), p.W3), p.b3);
    const target = tf.oneHot(labels as import("@tensorflow/tfjs-core").Tensor1D, 10);
    return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, target), 1)));
  },
  // The projections as [512, 64] · [64, 64]: the gradient of tf.matMul of a [8, 64, 64] batch
  // by a [64, 64] matrix throws (its weight gradient keeps the batch axis).
  attention: (tf, p: Record<"Wq" | "Wk" | "Wv", T>, x: T) => {
    const rows = tf.reshape(x, [512, 64]);
    const proj = (W: T) => tf.reshape(tf.matMul(rows, W), [8, 64, 64]);
    const q = proj(p.Wq), k = proj(p.Wk), v = proj(p.Wv);
    const scores = tf.mul(tf.matMul(q, k, false, true), 1 / 8);
    const out = tf.matMul(tf.softmax(scores), v);
    return tf.mean(tf.square(out));
  },
};

type T4 = import("@tensorflow/tfjs-core").Tensor4D;
let wasmConv: ((x: T4, w: T4) => T4) | undefined;

/**
 * 3×3 stride-1 "same" convolution, NHWC × HWIO. The WebAssembly backend has no kernel for the
 * filter gradient, so there it is a custom gradient: the input gradient is conv2dTranspose
 * (a kernel it has), the filter gradient a product of the nine shifted input windows with dy.
 */
function convSame(tf: TF, x: T4, w: T4): T4 {
  if (tf.getBackend() !== "wasm") return tf.conv2d(x, w, 1, "same");
  wasmConv ??= tf.customGrad(((xi: T4, wi: T4, save: (ts: T[]) => void) => {
    save([xi, wi]);
    return {
      value: tf.conv2d(xi, wi, 1, "same"),
      gradFunc: (dy: T4, saved: T[]) => {
        const [xs, ws] = saved as [T4, T4];
        const [n, h, wd, c] = xs.shape;
        const o = ws.shape[3];
        const dx = tf.conv2dTranspose(dy, ws, xs.shape, 1, "same");
        const padded = tf.pad(xs, [[0, 0], [1, 1], [1, 1], [0, 0]]);
        const dyRows = tf.reshape(dy, [n * h * wd, o]);
        const taps: T[] = [];
        for (let kh = 0; kh < 3; kh++) {
          for (let kw = 0; kw < 3; kw++) {
            const win = tf.reshape(tf.slice(padded, [0, kh, kw, 0], [n, h, wd, c]), [n * h * wd, c]);
            taps.push(tf.matMul(win, dyRows, true, false));
          }
        }
        return [dx, tf.reshape(tf.stack(taps), [3, 3, c, o])];
      },
    };
  }) as never) as unknown as (x: T4, w: T4) => T4;
  return wasmConv(x, w);
}

/** Moves between the harness's layout (NCHW, OIHW) and the one a TF.js model is written in. */
interface Layout {
  toTf(inputs: Tree[]): Tree[];
  gradsFromTf(grads: Tree[]): Tree[];
}

/** Copies `data` laid out as `shape` into the order of `perm` (out axis i = in axis perm[i]). */
function permute(t: TensorValue, perm: number[]): TensorValue {
  const shape = perm.map((a) => t.shape[a]!);
  const inStrides = strides(t.shape);
  const out = new (t.data.constructor as Float32ArrayConstructor)(t.data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let a = 0; a < shape.length; a++) src += idx[a]! * inStrides[perm[a]!]!;
    out[i] = t.data[src]!;
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  return { shape, data: out };
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let a = shape.length - 2; a >= 0; a--) s[a] = s[a + 1]! * shape[a + 1]!;
  return s;
}

const inverse = (perm: number[]) => perm.map((_, i) => perm.indexOf(i));
const OIHW_TO_HWIO = [2, 3, 1, 0];
const NCHW_TO_NHWC = [0, 2, 3, 1];
/**
 * W3 [784, 10] with its rows reordered between flattening a [16, 7, 7] feature map (c, h, w),
 * as NCHW does, and a [7, 7, 16] one (h, w, c), as NHWC does.
 */
function w3ToNhwc(W3: TensorValue): TensorValue {
  return { shape: [784, 10], data: permute({ shape: [16, 7, 7, 10], data: W3.data }, [1, 2, 0, 3]).data };
}

function w3FromNhwc(W3: TensorValue): TensorValue {
  return { shape: [784, 10], data: permute({ shape: [7, 7, 16, 10], data: W3.data }, [2, 0, 1, 3]).data };
}

const layouts: Partial<Record<ModelName, Layout>> = {
  "cnn-mnist": {
    toTf([params, x, labels]) {
      const p = params as Record<string, TensorValue>;
      return [
        { ...p, w1: permute(p.w1!, OIHW_TO_HWIO), w2: permute(p.w2!, OIHW_TO_HWIO), W3: w3ToNhwc(p.W3!) },
        permute(x as TensorValue, NCHW_TO_NHWC),
        labels!,
      ];
    },
    gradsFromTf([g]) {
      const p = g as Record<string, TensorValue>;
      const back = inverse(OIHW_TO_HWIO);
      return [{ ...p, w1: permute(p.w1!, back), w2: permute(p.w2!, back), W3: w3FromNhwc(p.W3!) }];
    },
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

      const toTf = (l: Leaf): T =>
        typeof l === "number"
          ? tf.scalar(l, "float32")
          : l.data instanceof Int32Array
            ? tf.tensor(l.data.slice(), [...l.shape], "int32")
            : tf.tensor(Float32Array.from(l.data), [...l.shape], "float32");
      // Inputs in the model's own layout (converted once, untimed); gradients come back in it.
      const layout = layouts[model.name];
      const tfInputs = layout ? layout.toTf(inputs) : inputs;
      const args = tfInputs.map((a) => mapLeaves(a, toTf));
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
            mapLeaves(tfInputs[i]!, (like) => {
              const data = grads[next++]!;
              return typeof like === "number" ? data[0]! : { shape: like.shape, data };
            }) as Tree,
          );
          return { value, grads: layout ? layout.gradsFromTf(perArg) : perArg };
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
