// Indexing along the leading axis by a run-time counter: the per-step input of a loop
// (`at(xs, i)`), and its adjoint, which puts a slice into a zero tensor.

import type { Type } from "../ir/types.js";
import { type KernelOp, defineOp, formatShape, ShapeError } from "./registry.js";
import { type TensorVal, dtypeOf, isTensorVal, makeVal, sizeOf } from "./values.js";
import { indexProblem } from "./index-check.js";

// One wording for the eager op, the tape, the frontend's compile-time check and the run-time
// check compiled code makes (codegen/indexcheck.ts formats the same words; a test holds them
// together).
function checkIndex(i: number, n: number): number {
  const problem = indexProblem(i, n);
  if (problem !== undefined) throw new ShapeError(problem, "index");
  return i;
}

/** `take(x, i)`: the slice `x[i]` along axis 0 (a number for a vector). */
export const take = defineOp<KernelOp>({
  kind: "kernel",
  name: "take",
  label: "at",
  gradc: "at",
  graph: { label: "take", fold: (c) => `[${c}]` },
  arity: 2,
  pure: true,
  infer([x, i]): Type {
    if (x!.shape.length === 0) throw new ShapeError("at(x, i) needs a tensor, not a number", "axis");
    if (i!.shape.length !== 0 || i!.dtype === "bool") throw new ShapeError("the index of at(x, i) must be a number", "dtype");
    return { dtype: x!.dtype, shape: x!.shape.slice(1) };
  },
  evaluate([x, i]) {
    const t = x as TensorVal;
    const rest = t.shape.slice(1);
    const n = sizeOf(rest);
    const k = checkIndex(i as number, t.shape[0]!);
    return makeVal(rest, dtypeOf(t), (j) => t.data[k * n + j]!);
  },
  vjp: (b, g, [x, i], _out, _attrs, needs) => [needs[0] ? b.op("put", [g, i!], { shape: b.typeOf(x!).shape }) : null, null],
  jvp: (b, [t], [, i], _out, attrs) => (t ? b.op("take", [t, i!], attrs) : null),
  emit: (k, node) => k.take(node),
});

/** `put(g, i)`: a zero tensor of `shape` whose slice `i` along axis 0 is `g`. */
export const put = defineOp<KernelOp>({
  kind: "kernel",
  name: "put",
  label: "at",
  arity: 2,
  pure: true,
  infer([g, i], attrs): Type {
    const shape = attrs["shape"] as readonly (number | string)[];
    if (shape.length !== g!.shape.length + 1 || g!.shape.some((d, k) => d !== shape[k + 1]))
      throw new ShapeError(`cannot put a slice of shape ${formatShape(g!.shape)} into ${formatShape(shape)}`, "axis");
    if (i!.shape.length !== 0) throw new ShapeError("the index of put must be a number", "dtype");
    return { dtype: g!.dtype, shape };
  },
  evaluate([g, i], attrs) {
    const shape = attrs["shape"] as number[];
    const n = sizeOf(shape.slice(1));
    const k = checkIndex(i as number, shape[0]!);
    const src = isTensorVal(g!) ? g.data : null;
    return makeVal(shape, dtypeOf(g!), (j) => (Math.floor(j / n) === k ? (src ? src[j - k * n]! : Number(g)) : 0));
  },
  vjp: (b, g, [, i], _out, _attrs, needs) => [needs[0] ? b.op("take", [g, i!]) : null, null],
  jvp: (b, [t], [, i], _out, attrs) => (t ? b.op("put", [t, i!], attrs) : null),
  emit: (k, node) => k.put(node),
});
