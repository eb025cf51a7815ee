// Which of the ops a model needs (ModelCase.needs) gradc's runtime has, asked of the runtime
// itself: an export for a new op, a small call for a new capability of an existing op (batch
// dimensions in matmul, a permutation in transpose). The gradc and tape engines report a model
// with missing ops as "n/a (needs …)" instead of failing to compile it.

import type { ModelCase } from "../cases.js";
import { bundleRuntime } from "./build.js";

type Runtime = Record<string, unknown>;
type Fn = (...args: unknown[]) => { shape?: readonly number[] };

function shapeOf(rt: Runtime, op: string, ...args: unknown[]): string | undefined {
  try {
    return (rt[op] as Fn)(...args).shape?.join(",");
  } catch {
    return undefined;
  }
}

const PROBES: Record<string, (rt: Runtime) => boolean> = {
  "batched matmul": (rt) => shapeOf(rt, "matmul", (rt.zeros as Fn)([2, 3, 4]), (rt.zeros as Fn)([4, 5])) === "2,3,5",
  "transpose(x, perm)": (rt) => shapeOf(rt, "transpose", (rt.zeros as Fn)([2, 3, 4]), [0, 2, 1]) === "2,4,3",
};

let runtime: Promise<Runtime> | undefined;

/** The names in `model.needs` that the runtime does not provide (empty when it has them all). */
export async function missingOps(model: ModelCase): Promise<string[]> {
  if (!model.needs || model.needs.length === 0) return [];
  runtime ??= bundleRuntime().then((url) => import(url) as Promise<Runtime>);
  const rt = await runtime;
  return model.needs.filter((n) => !(PROBES[n] ? PROBES[n](rt) : typeof rt[n] === "function"));
}
