// gradc's runtime tape: the model source itself, with `gradc` resolved to runtime/index.ts, so
// `lossAndGrad = valueAndGrad(model, { argnums })` runs uncompiled, on the tape, as it does
// wherever no gradc compiler or plugin has replaced it.

import type { ModelCase } from "../cases.js";
import { bundleForTape, Missing } from "../lib/build.js";
import { missingOps } from "../lib/needs.js";
import { mapLeaves, type Leaf, type Tree } from "../lib/tree.js";
import { fromGradc } from "./compiled.js";
import { needsMessage, Unavailable, type Engine, type EngineInstance } from "./types.js";

interface TapeModule {
  lossAndGrad?: (...args: unknown[]) => unknown;
  gradc: { tensor?: (data: Float64Array | Float32Array, shape: number[]) => unknown };
}

let bundled: Promise<string> | undefined;

function bundleOnce(model: ModelCase): Promise<string> {
  bundled ??= missingOps(model)
    .then((missing) => {
      if (missing.length > 0) throw new Unavailable(needsMessage(missing));
      return bundleForTape(model.source, `tape-${model.name}.mjs`);
    })
    .catch((e: unknown) => {
      throw e instanceof Missing ? new Unavailable(`pending: ${e.message}`) : e;
    });
  return bundled;
}

export const tape: Engine = {
  name: "tape",
  prepare: async (model) => void (await bundleOnce(model)),
  async setup(model: ModelCase, inputs: Tree[]): Promise<EngineInstance> {
    const mod = (await import(await bundleOnce(model))) as TapeModule;
    const { lossAndGrad } = mod;
    const { tensor } = mod.gradc;
    if (typeof lossAndGrad !== "function") throw new Unavailable(`${model.source}: lossAndGrad is not a function under the runtime`);
    if (typeof tensor !== "function") throw new Unavailable("runtime/index.ts does not export tensor()");
    // Integer labels go in as structural i32 tensors ({ shape, data: Int32Array }).
    const toRuntime = (l: Leaf): unknown =>
      typeof l === "number" ? l : l.data instanceof Int32Array ? { shape: [...l.shape], data: l.data.slice() } : tensor(l.data.slice(), [...l.shape]);
    const args = inputs.map((a) => mapLeaves(a, toRuntime));
    let out: unknown;
    return {
      call: () => void (out = lossAndGrad(...args)),
      result: () => fromGradc(model, inputs, out),
    };
  },
};
