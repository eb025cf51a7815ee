// The ordered pass lists. Each pass is a function from IR to IR; `verifyEach` (used by the
// tests) runs the verifier after every one of them.

import { verify } from "./verify.js";
import { type Func, type Value, fixName, walkValues } from "../ir/types.js";
import { differentiate } from "./ad.js";
import { expandCustom } from "./custom.js";
import { forwardDerivative } from "./jvp.js";
import { cse } from "./cse.js";
import { dce } from "./dce.js";
import { licm } from "./licm.js";
import { simplify } from "./simplify.js";

export type Pass = (fn: Func) => Func;

export interface NamedPass {
  readonly name: string;
  readonly run: Pass;
  /** Skipped when the pass before it returned its input unchanged (nothing new to clean). */
  readonly onlyAfterChange?: boolean;
}

/** Cleans the frontend's IR before differentiation, so AD sees fewer nodes. */
export const beforeAD: readonly NamedPass[] = [
  { name: "simplify", run: (f) => simplify(f) },
  { name: "cse", run: cse },
  { name: "dce", run: dce },
];

/** Cleans the combined forward+backward function; twice, since each pass exposes work for the others. */
export const afterAD: readonly NamedPass[] = [
  { name: "expandCustom", run: (f) => expandCustom(f) },
  { name: "simplify", run: (f) => simplify(f, { afterAD: true }) },
  { name: "cse", run: cse },
  { name: "dce", run: dce },
  { name: "simplify", run: (f) => simplify(f, { afterAD: true }) },
  { name: "cse", run: cse },
  { name: "dce", run: dce },
  { name: "licm", run: licm },
  { name: "cse", run: cse, onlyAfterChange: true },
  { name: "dce", run: dce, onlyAfterChange: true },
];

export interface PipelineOptions {
  verifyEach?: boolean;
}

export function runPasses(fn: Func, passes: readonly NamedPass[], options: PipelineOptions = {}): Func {
  let cur = fn;
  let changed = true;
  for (const pass of passes) {
    if (pass.onlyAfterChange && !changed) continue;
    const next = pass.run(cur);
    changed = next !== cur;
    cur = next;
    if (options.verifyEach) verify(cur);
  }
  return cur;
}

export interface Stages {
  /** The frontend's IR. */
  ir: Func;
  /** Forward + backward straight after AD. */
  grad: Func;
  /** After optimization: what codegen sees. */
  opt: Func;
}

/**
 * The whole middle end: clean, differentiate (reverse mode, or forward mode with `forward`)
 * w.r.t. the parameters at `wrtIndices` (positions in the function's parameter list), clean
 * again. The function's first result is the value; any further results are auxiliary values
 * (hasAux), carried along undifferentiated. Results are `[value, ...aux, ...gradients]`
 * (`[value, tangent]` in forward mode); without the value for `keepValue: false`; only
 * `[value, ...aux]` for `forwardOnly` (no AD at all).
 */
export function compileStages(
  ir: Func,
  wrtIndices: readonly number[],
  options: PipelineOptions & { keepValue?: boolean; forward?: boolean; forwardOnly?: boolean } = {},
): Stages {
  if (options.verifyEach) verify(ir);
  // The frontend's values keep their names whatever later passes do, so `--dump ir` is stable.
  walkValues(ir.body, fixName);
  const clean = runPasses(ir, beforeAD, options);
  if (options.forwardOnly) return { ir, grad: clean, opt: runPasses(clean, afterAD, options) };
  const wrt: Value[] = wrtIndices.map((i) => clean.body.params[i]!);
  // Forward mode (jvp): results are [value, tangent]; reverse mode: [value, ...gradients]. The
  // auxiliary results, forward values AD keeps, go between.
  const aux = clean.body.results.slice(1);
  // A jvp differentiates every result (the leaves of a structured result): [values, tangents].
  const forward = options.forward === true;
  const differentiated = forward ? forwardDerivative(clean, wrt, undefined, undefined, clean.body.results.length) : differentiate(clean, wrt);
  const [value, ...grads] = differentiated.body.results;
  const full = forward || aux.length === 0 ? differentiated : { ...differentiated, body: { ...differentiated.body, results: [value!, ...aux, ...grads] } };
  // `grad` alone does not return the value: dropping it lets DCE remove what only it needed.
  const grad = options.keepValue === false ? { ...full, body: { ...full.body, results: full.body.results.slice(1) } } : full;
  if (options.verifyEach) verify(grad);
  const opt = runPasses(grad, afterAD, options);
  return { ir, grad, opt };
}
