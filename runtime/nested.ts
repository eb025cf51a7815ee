// Transformations inside transformations, on the tape: `grad(grad(f))`, a gradient penalty,
// `jvp(grad(f))` uncompiled. One tape holds everything: a nested `grad` records its own
// backward pass (the VJPs are applied by the tracing builder, as PyTorch's `create_graph`), so
// the gradients it returns are traced values the enclosing transformation differentiates again
// or pushes tangents through. The nested function's inputs are fresh identity Vars over the
// enclosing values, so its cotangents stop there and flow on only when the enclosing pass runs.

import { getOp } from "../compiler/ops/index.js";
import { type Val, shapeOf } from "../compiler/ops/values.js";
import { GradcError } from "./error.js";
import { coded } from "./codes.js";
import { isLeaf } from "./pytree.js";
import { Var, backwardRecorded, eager, record, valueOf } from "./tape.js";
import { isTensor } from "./tensor.js";

const RESHAPE = getOp("reshape");

/** True when a pytree holds a traced value. */
export function containsVar(tree: unknown): boolean {
  if (tree instanceof Var) return true;
  if (isLeaf(tree) || typeof tree !== "object" || tree === null) return false;
  return Object.values(tree).some(containsVar);
}

/** `mapLeaves` that also takes traced values (Vars) as leaves. */
export function mapTraced(tree: unknown, fn: (leaf: Val | Var) => unknown): unknown {
  if (tree instanceof Var || isLeaf(tree)) return fn(tree as Val | Var);
  if (Array.isArray(tree)) return tree.map((v) => mapTraced(v, fn));
  if (typeof tree === "object" && tree !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(tree))
      Object.defineProperty(out, k, { value: mapTraced((tree as Record<string, unknown>)[k], fn), enumerable: true, writable: true, configurable: true });
    return out;
  }
  throw new GradcError(`a differentiated argument must be numbers and tensors, got ${typeof tree}`);
}

/** A fresh traced input standing for `x` (itself possibly traced): the identity, as a reshape. */
export function inputVar(x: Val | Var): Var {
  const value = valueOf(x);
  return new Var(value, RESHAPE, [x], { shape: isTensor(value) ? value.shape : [] });
}

/** A zero like `x`. */
export function zerosLike(x: Val): Val {
  return typeof x === "number" ? 0 : eager.op("broadcast_to", [0], { shape: shapeOf(x) });
}

/**
 * `valueAndGrad` of `run` inside an enclosing transformation: the value (traced) and the
 * gradients of the `indices` arguments, traced values of their structure.
 */
export function nestedValueAndGrad(
  run: (args: unknown[]) => unknown,
  name: string,
  indices: readonly number[],
  single: boolean,
  args: readonly unknown[],
): [Val | Var, unknown] {
  const traced = [...args];
  const inputs: Var[][] = [];
  for (const i of indices) {
    if (i >= args.length) throw new GradcError(`argnums: ${i} is out of range, ${name} got ${args.length} arguments`);
    const vars: Var[] = [];
    traced[i] = mapTraced(args[i], (leaf) => {
      // The compiler's GRADC1032 for the same mistake: integers have no gradient.
      const value = valueOf(leaf as Val | Var);
      if (typeof value === "object" && value.data instanceof Int32Array)
        throw coded("GRADC1032", new GradcError(`grad(${name}): argument ${i} holds an i32 tensor (labels, indices), which cannot be differentiated; leave it out of argnums`));
      const v = inputVar(leaf);
      vars.push(v);
      return v;
    });
    inputs.push(vars);
  }
  const { result: out, tape } = record(() => run(traced));
  if (typeof valueOf(out as Val | Var) !== "number") throw coded("GRADC1032", new GradcError(`${name} must return a number (a scalar loss)`));
  if (out instanceof Var) backwardRecorded(out, tape, new Set([...tape, ...inputs.flat()]));
  const grads = indices.map((i, k) => {
    let next = 0;
    return mapTraced(args[i], (leaf) => {
      const v = inputs[k]![next++]!;
      const g = v.grad;
      v.grad = null;
      return g ?? zerosLike(valueOf(leaf));
    });
  });
  // A gradient that is the input itself (f = x => x) must not stay marked as a cotangent.
  if (!(out instanceof Var)) for (const vs of inputs) for (const v of vs) v.grad = null;
  return [out as Val | Var, single ? grads[0] : grads];
}
