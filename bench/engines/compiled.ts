// Converting what gradc's `valueAndGrad` returns, compiled or on the tape, into the harness's
// form: `[value, grads]` with one gradient per argnum, tensors as `{ shape, data }`.

import type { ModelCase } from "../cases.js";
import { alignTo, isTensor, type Leaf, type Tree } from "../lib/tree.js";
import type { EngineResult } from "./types.js";

export function fromGradc(model: ModelCase, inputs: Tree[], out: unknown): EngineResult {
  if (!Array.isArray(out) || out.length !== 2) throw new Error(`expected [value, grads], got ${describe(out)}`);
  const [value, grads] = out as [unknown, unknown];
  if (typeof value !== "number") throw new Error(`expected the value to be a number, got ${describe(value)}`);
  if (!Array.isArray(grads) || grads.length !== model.argnums.length) {
    throw new Error(`expected ${model.argnums.length} gradients (argnums [${model.argnums.join(", ")}]), got ${describe(grads)}`);
  }
  const leaf = (v: unknown, like: Leaf): Leaf => {
    if (typeof like === "number") {
      if (typeof v === "number") return v;
      throw new Error(`expected a number gradient, got ${describe(v)}`);
    }
    if (!isTensor(v) || v.data instanceof Int32Array) throw new Error(`expected a float tensor gradient of shape [${like.shape.join(", ")}], got ${describe(v)}`);
    return { shape: [...v.shape], data: v.data };
  };
  return { value, grads: model.argnums.map((i, j) => alignTo(inputs[i]!, grads[j], leaf)) };
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null || typeof v !== "object") return String(v);
  return `{ ${Object.keys(v).join(", ")} }`;
}
