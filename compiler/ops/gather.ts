// Indexing by i32 tensors: `take` gathers whole slices along an axis (NumPy `take`), and its
// adjoint scatter-adds them back, so repeated indices accumulate; `takeAlongAxis` picks one
// entry per position along an axis, with the same adjoint pair. Indices are never
// differentiated. Every index is checked against its axis, eagerly and in compiled code, with
// the one wording of ops/index-check.ts: never a read past the end, never NaN.

import type { Attrs, Dim, Type } from "../ir/types.js";
import { indexProblem } from "./index-check.js";
import { type KernelOp, type LoopEmitter, defineOp, formatShape, normalizeAxes, ShapeError } from "./registry.js";
import { type TensorVal, allocData, dtypeOf, isTensorVal, sizeOf } from "./values.js";

/** The one axis an op works along, normalized against `rank`. */
export function axisOf(attrs: Attrs, rank: number): number {
  return normalizeAxes([(attrs["axis"] as number | undefined) ?? 0], rank)[0]!;
}

/** Refuses indices that are not an i32 tensor; `what` names them as the user wrote them. */
export function requireIndices(t: Type, what: string): void {
  if (t.dtype !== "i32") throw new ShapeError(`${what} must be an i32 tensor, got ${t.shape.length === 0 ? "a number" : `an ${t.dtype} tensor`}`, "dtype");
  if (t.shape.length === 0) throw new ShapeError(`${what} must be an i32 tensor of rank 1 or more`, "dtype");
}

/** `[before, along, after]`: the sizes a shape flattens to around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

/** Reads index `at` into an axis of size `n`, or throws the op's index error. */
function index(at: number, n: number): number {
  const problem = indexProblem(at, n);
  if (problem !== undefined) throw new ShapeError(problem, "index");
  return at;
}

/** What may be gathered from: a float tensor, or an i32 one (labels picked by index). */
function gatherable(x: Type, op: string): void {
  if (x.shape.length === 0) throw new ShapeError(`${op} needs a tensor to gather from, not a number`, "dtype");
  if (x.dtype === "bool") throw new ShapeError(`${op} gathers from a number tensor, not a boolean one`, "dtype");
}

// ---- take (gather) and its adjoint --------------------------------------------------------

/** x.shape with `axis` replaced by the indices' shape. */
const takenShape = (x: readonly Dim[], idx: readonly Dim[], axis: number): Dim[] => [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];

/** Generated loops shared by take and its adjoint: `write(dst, src)` copies or accumulates. */
function takeLoops(scatter: boolean): LoopEmitter {
  return (w, { args, out }, attrs) => {
    const [full, idx] = scatter ? [out, args[1]!] : [args[0]!, args[1]!];
    const axis = axisOf(attrs, full.shape.length);
    const [P, N, Q] = [w.size(full.shape.slice(0, axis)), w.dim(full.shape[axis]!), w.size(full.shape.slice(axis + 1))];
    const K = w.size(idx.shape);
    const [src, ix] = [w.args[0]!, w.args[1]!];
    if (scatter) w.line(`${w.out}.fill(0);`);
    w.line(`for (let j = 0; j < ${K}; j++) {`);
    w.line(`  const at = ${w.read(ix, "j")};`);
    w.line(`  ${w.checkIndex("at", N)}`);
    w.line(`  for (let p = 0; p < ${P}; p++) {`);
    w.line(`    const o = (p * ${K} + j) * ${Q}, r = (p * ${N} + at) * ${Q};`);
    w.line(
      scatter
        ? `    for (let i0 = 0; i0 < ${Q}; i0++) ${w.out}[r + i0]${w.bang} += ${w.read(src, "o + i0")};`
        : `    for (let i0 = 0; i0 < ${Q}; i0++) ${w.out}[o + i0] = ${w.read(src, "r + i0")};`,
    );
    w.line("  }");
    w.line("}");
  };
}

/** `gather(x, indices) {axis}`: the user's `take`; slices of x along `axis` at each index. */
export const gather = defineOp<KernelOp>({
  kind: "kernel",
  name: "gather",
  label: "take",
  gradc: "take",
  arity: 2,
  pure: true,
  infer([x, idx], attrs): Type {
    gatherable(x!, "take");
    requireIndices(idx!, "the indices of take");
    return { dtype: x!.dtype, shape: takenShape(x!.shape, idx!.shape, axisOf(attrs, x!.shape.length)) };
  },
  evaluate([x, idx], attrs) {
    const t = x as TensorVal;
    const ix = (idx as TensorVal).data;
    const axis = axisOf(attrs, t.shape.length);
    const [P, N, Q] = around(t.shape, axis);
    const K = ix.length;
    const data = allocData(dtypeOf(t), P * K * Q);
    for (let j = 0; j < K; j++) {
      const at = index(ix[j]!, N);
      for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) data[(p * K + j) * Q + q] = t.data[(p * N + at) * Q + q]!;
    }
    return { shape: takenShape(t.shape, (idx as TensorVal).shape, axis) as number[], data };
  },
  vjp: (b, g, [x, idx], _out, attrs, needs) => [
    needs[0] ? b.op("scatter_add", [g, idx!], { axis: axisOf(attrs, b.typeOf(x!).shape.length), shape: b.typeOf(x!).shape }) : null,
    null,
  ],
  jvp: (b, [t], [, idx], _out, attrs) => (t ? b.op("gather", [t, idx!], attrs) : null),
  emit: (k, node) => k.loops(node, takeLoops(false)),
});

/** `scatter_add(g, indices) {axis, shape}`: zeros of `shape` with g's slices added at the indices. */
export const scatterAdd = defineOp<KernelOp>({
  kind: "kernel",
  name: "scatter_add",
  label: "take",
  arity: 2,
  pure: true,
  infer([g, idx], attrs): Type {
    const shape = attrs["shape"] as readonly Dim[];
    requireIndices(idx!, "the indices of take");
    const axis = axisOf(attrs, shape.length);
    const expected = takenShape(shape, idx!.shape, axis);
    if (g!.shape.length !== expected.length || g!.shape.some((d, k) => d !== expected[k]))
      throw new ShapeError(`cannot scatter ${formatShape(g!.shape)} into ${formatShape(shape)} along axis ${axis}`, "dtype");
    return { dtype: g!.dtype, shape };
  },
  evaluate([g, idx], attrs) {
    const shape = attrs["shape"] as number[];
    const src = (g as TensorVal).data;
    const ix = (idx as TensorVal).data;
    const axis = axisOf(attrs, shape.length);
    const [P, N, Q] = around(shape, axis);
    const K = ix.length;
    const data = allocData(dtypeOf(g!), P * N * Q);
    for (let j = 0; j < K; j++) {
      const at = index(ix[j]!, N);
      for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) data[(p * N + at) * Q + q]! += src[(p * K + j) * Q + q]!;
    }
    return { shape: [...shape], data };
  },
  vjp: (b, g, [, idx], _out, attrs, needs) => [needs[0] ? b.op("gather", [g, idx!], { axis: attrs["axis"] as number }) : null, null],
  jvp: (b, [t], [, idx], _out, attrs) => (t ? b.op("scatter_add", [t, idx!], attrs) : null),
  emit: (k, node) => k.loops(node, takeLoops(true)),
});

// ---- takeAlongAxis and its adjoint ----------------------------------------------------------

/** The indices' shape must be x's everywhere but along `axis`. */
function alongShape(x: readonly Dim[], idx: readonly Dim[], axis: number): void {
  if (idx.length !== x.length || idx.some((d, k) => k !== axis && d !== x[k]))
    throw new ShapeError(
      `takeAlongAxis needs indices of x's rank and shape except along axis ${axis}: x is ${formatShape(x)}, the indices ${formatShape(idx)}`,
      "dtype",
    );
}

function alongLoops(scatter: boolean): LoopEmitter {
  return (w, { args, out }, attrs) => {
    const [full, idx] = scatter ? [out, args[1]!] : [args[0]!, args[1]!];
    const axis = axisOf(attrs, full.shape.length);
    const [P, N, Q] = [w.size(full.shape.slice(0, axis)), w.dim(full.shape[axis]!), w.size(full.shape.slice(axis + 1))];
    const K = w.dim(idx.shape[axis]!);
    const [src, ix] = [w.args[0]!, w.args[1]!];
    if (scatter) w.line(`${w.out}.fill(0);`);
    w.line(`for (let p = 0; p < ${P}; p++) {`);
    w.line(`  for (let j = 0; j < ${K}; j++) {`);
    w.line(`    const o = (p * ${K} + j) * ${Q};`);
    w.line(`    for (let i0 = 0; i0 < ${Q}; i0++) {`);
    w.line(`      const at = ${w.read(ix, "o + i0")};`);
    w.line(`      ${w.checkIndex("at", N)}`);
    w.line(
      scatter
        ? `      ${w.out}[(p * ${N} + at) * ${Q} + i0]${w.bang} += ${w.read(src, "o + i0")};`
        : `      ${w.out}[o + i0] = ${w.read(src, `(p * ${N} + at) * ${Q} + i0`)};`,
    );
    w.line("    }");
    w.line("  }");
    w.line("}");
  };
}

/** `gather_along(x, indices) {axis}`: the user's `takeAlongAxis`. */
export const gatherAlong = defineOp<KernelOp>({
  kind: "kernel",
  name: "gather_along",
  label: "takeAlongAxis",
  gradc: "takeAlongAxis",
  arity: 2,
  pure: true,
  infer([x, idx], attrs): Type {
    gatherable(x!, "takeAlongAxis");
    requireIndices(idx!, "the indices of takeAlongAxis");
    alongShape(x!.shape, idx!.shape, axisOf(attrs, x!.shape.length));
    return { dtype: x!.dtype, shape: idx!.shape };
  },
  evaluate([x, idx], attrs) {
    const t = x as TensorVal;
    const it = idx as TensorVal;
    const axis = axisOf(attrs, t.shape.length);
    const [P, N, Q] = around(t.shape, axis);
    const K = it.shape[axis]!;
    const data = allocData(dtypeOf(t), it.data.length);
    for (let p = 0; p < P; p++)
      for (let j = 0; j < K; j++)
        for (let q = 0; q < Q; q++) {
          const o = (p * K + j) * Q + q;
          data[o] = t.data[(p * N + index(it.data[o]!, N)) * Q + q]!;
        }
    return { shape: [...it.shape], data };
  },
  vjp: (b, g, [x, idx], _out, attrs, needs) => [
    needs[0] ? b.op("scatter_along", [g, idx!], { axis: axisOf(attrs, b.typeOf(x!).shape.length), shape: b.typeOf(x!).shape }) : null,
    null,
  ],
  jvp: (b, [t], [, idx], _out, attrs) => (t ? b.op("gather_along", [t, idx!], attrs) : null),
  emit: (k, node) => k.loops(node, alongLoops(false)),
});

/** `scatter_along(g, indices) {axis, shape}`: zeros of `shape` with g added where the indices point. */
export const scatterAlong = defineOp<KernelOp>({
  kind: "kernel",
  name: "scatter_along",
  label: "takeAlongAxis",
  arity: 2,
  pure: true,
  infer([g, idx], attrs): Type {
    const shape = attrs["shape"] as readonly Dim[];
    requireIndices(idx!, "the indices of takeAlongAxis");
    alongShape(shape, idx!.shape, axisOf(attrs, shape.length));
    if (g!.shape.length !== idx!.shape.length || g!.shape.some((d, k) => d !== idx!.shape[k]))
      throw new ShapeError(`cannot scatter ${formatShape(g!.shape)} at indices of shape ${formatShape(idx!.shape)}`, "dtype");
    return { dtype: g!.dtype, shape };
  },
  evaluate([g, idx], attrs) {
    const shape = attrs["shape"] as number[];
    const src = isTensorVal(g!) ? g.data : new Float64Array(0);
    const it = idx as TensorVal;
    const axis = axisOf(attrs, shape.length);
    const [P, N, Q] = around(shape, axis);
    const K = it.shape[axis]!;
    const data = allocData(dtypeOf(g!), P * N * Q);
    for (let p = 0; p < P; p++)
      for (let j = 0; j < K; j++)
        for (let q = 0; q < Q; q++) {
          const o = (p * K + j) * Q + q;
          data[(p * N + index(it.data[o]!, N)) * Q + q]! += src[o]!;
        }
    return { shape: [...shape], data };
  },
  vjp: (b, g, [, idx], _out, attrs, needs) => [needs[0] ? b.op("gather_along", [g, idx!], { axis: attrs["axis"] as number }) : null, null],
  jvp: (b, [t], [, idx], _out, attrs) => (t ? b.op("scatter_along", [t, idx!], attrs) : null),
  emit: (k, node) => k.loops(node, alongLoops(true)),
});
