// Ops that assemble and cut tensors: concat (variadic), slice, and pad (slice's adjoint, which
// puts a block into zeros). `stack` is concat of operands given a new axis of size 1.

import type { Attrs, Dim, Type } from "../ir/types.js";
import { type Builder, type KernelOp, defineOp, formatShape, ShapeError } from "./registry.js";
import { type TensorVal, type Val, allocData, dtypeOf, sizeOf, strides } from "./values.js";

const dimsOf = (attrs: Attrs, key: string): readonly Dim[] => attrs[key] as readonly Dim[];

/** Copies the block of `src` (shape `from`) into `dst` (shape `to`) at `offset`, or the reverse. */
function copyBlock(src: TensorVal["data"], from: readonly number[], dst: TensorVal["data"], to: readonly number[], offset: readonly number[], into: boolean): void {
  const block = into ? from : to;
  const big = into ? to : from;
  const bigStrides = strides(big);
  const n = sizeOf(block);
  const blockStrides = strides(block);
  for (let i = 0; i < n; i++) {
    let j = 0;
    for (let k = 0; k < block.length; k++) j += ((Math.floor(i / blockStrides[k]!) % block[k]!) + offset[k]!) * bigStrides[k]!;
    if (into) dst[j] = src[i]!;
    else dst[i] = src[j]!;
  }
}

/** `concat(xs, axis)`: the tensors joined along `axis`; the others must agree. */
export const concat = defineOp<KernelOp>({
  kind: "kernel",
  name: "concat",
  gradc: "concat",
  arity: 1,
  listArgs: true,
  pure: true,
  infer(args, attrs): Type {
    const axis = attrs["axis"] as number;
    const first = args[0]!;
    const rank = first.shape.length;
    if (rank === 0) throw new ShapeError("concat joins tensors, not numbers", "axis");
    if (!Number.isInteger(axis) || axis < 0 || axis >= rank) throw new ShapeError(`concat: axis ${axis} is out of range for tensors of rank ${rank}`, "axis");
    let along = 0;
    for (const a of args) {
      if (a.dtype !== first.dtype) throw new ShapeError(`concat of ${first.dtype} and ${a.dtype} tensors: give them one dtype`, "fit");
      if (a.shape.length !== rank || a.shape.some((d, k) => k !== axis && d !== first.shape[k]))
        throw new ShapeError(`concat along axis ${axis}: shapes ${formatShape(first.shape)} and ${formatShape(a.shape)} differ on another axis`, "fit");
      const d = a.shape[axis]!;
      if (typeof d !== "number") throw new ShapeError(`concat along axis ${axis}: its size ${d} must be known at compile time`, "fit");
      along += d;
    }
    return { dtype: first.dtype, shape: first.shape.map((d, k) => (k === axis ? along : d)) };
  },
  evaluate(args, attrs) {
    const axis = attrs["axis"] as number;
    const xs = args as TensorVal[];
    const shape = xs[0]!.shape.map((d, k) => (k === axis ? xs.reduce((s, x) => s + x.shape[axis]!, 0) : d));
    const data = allocData(dtypeOf(xs[0]!), sizeOf(shape));
    let at = 0;
    for (const x of xs) {
      copyBlock(x.data, x.shape, data, shape, shape.map((_d, k) => (k === axis ? at : 0)), true);
      at += x.shape[axis]!;
    }
    return { shape, data };
  },
  // Each operand's cotangent is its block of g.
  vjp(b, g, args, _out, attrs, needs) {
    const axis = attrs["axis"] as number;
    const gShape = b.typeOf(g).shape;
    let at = 0;
    return args.map((x, i) => {
      const shape = b.typeOf(x).shape;
      const start = gShape.map((_d, k) => (k === axis ? at : 0));
      const end = gShape.map((d, k) => (k === axis ? at + (shape[axis] as number) : d));
      at += shape[axis] as number;
      return needs[i] ? b.op("slice", [g], { start, end }) : null;
    });
  },
  // Linear in every operand: the tangents joined, zeros where an operand has none.
  jvp(b, tangents, args, _out, attrs) {
    if (tangents.every((t) => t === null)) return null;
    const parts = args.map((x, i) => tangents[i] ?? b.op("broadcast_to", [b.constant(0, x)], { shape: b.typeOf(x).shape }));
    return b.op("concat", parts, attrs);
  },
  emit: (k, node) => k.loops(node),
});

/** The extent of a slice along each axis: a number, or the whole symbolic dimension. */
function extents(shape: readonly Dim[], start: readonly Dim[], end: readonly Dim[]): Dim[] {
  return shape.map((d, k) => {
    const s = start[k]!;
    const e = end[k]!;
    if (s === 0 && e === d) return d;
    if (typeof s !== "number" || typeof e !== "number" || typeof d !== "number")
      throw new ShapeError(`slice of ${formatShape(shape)} along axis ${k}: a symbolic dimension can only be kept whole`, "fit");
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > d || s > e)
      throw new ShapeError(`slice of ${formatShape(shape)}: [${s}, ${e}) is not a range within axis ${k} of size ${d}`, "fit");
    return e - s;
  });
}

/** `slice(x, start, end)`: the block `start[k] ≤ i_k < end[k]` (attrs have one entry per axis). */
export const slice = defineOp<KernelOp>({
  kind: "kernel",
  name: "slice",
  gradc: "slice",
  arity: 1,
  pure: true,
  infer([x], attrs): Type {
    const start = dimsOf(attrs, "start");
    const end = dimsOf(attrs, "end");
    if (x!.shape.length === 0) throw new ShapeError("slice takes a tensor, not a number", "axis");
    if (start.length !== x!.shape.length || end.length !== x!.shape.length)
      throw new ShapeError(`slice of ${formatShape(x!.shape)}: start and end need one entry per axis`, "fit");
    return { dtype: x!.dtype, shape: extents(x!.shape, start, end) };
  },
  evaluate([x], attrs) {
    const t = x as TensorVal;
    const start = dimsOf(attrs, "start") as number[];
    const shape = extents(t.shape, start, dimsOf(attrs, "end")) as number[];
    const data = allocData(dtypeOf(t), sizeOf(shape));
    copyBlock(t.data, t.shape, data, shape, start, false);
    return { shape, data };
  },
  vjp: (b, g, [x], _out, attrs) => [b.op("pad", [g], { shape: b.typeOf(x!).shape, start: attrs["start"]! })],
  jvp: (b, [t], _args, _out, attrs) => (t ? b.op("slice", [t], attrs) : null),
  emit: (k, node) => k.loops(node),
});

/** `pad(x)`: a zero tensor of `shape` holding x at `start` (the adjoint of slice). */
export const pad = defineOp<KernelOp>({
  kind: "kernel",
  name: "pad",
  label: "slice",
  arity: 1,
  pure: true,
  infer([x], attrs): Type {
    const shape = dimsOf(attrs, "shape");
    const start = dimsOf(attrs, "start");
    const end = shape.map((d, k) => (start[k] === 0 && x!.shape[k] === d ? d : (start[k] as number) + (x!.shape[k] as number)));
    if (x!.shape.length !== shape.length || extents(shape, start, end).some((d, k) => d !== x!.shape[k]))
      throw new ShapeError(`cannot put a block of shape ${formatShape(x!.shape)} into ${formatShape(shape)} at ${formatShape(start)}`, "fit");
    return { dtype: x!.dtype, shape };
  },
  evaluate([x], attrs): Val {
    const t = x as TensorVal;
    const shape = dimsOf(attrs, "shape") as number[];
    const data = allocData(dtypeOf(t), sizeOf(shape));
    copyBlock(t.data, t.shape, data, shape, dimsOf(attrs, "start") as number[], true);
    return { shape, data };
  },
  vjp: (b, g, [x], _out, attrs) => {
    const start = dimsOf(attrs, "start");
    const shape = b.typeOf(x!).shape;
    const end = shape.map((d, k) => (start[k] === 0 && typeof d === "string" ? d : (start[k] as number) + (d as number)));
    return [b.op("slice", [g], { start, end })];
  },
  jvp: (b, [t], _args, _out, attrs) => (t ? b.op("pad", [t], attrs) : null),
  emit: (k, node) => k.loops(node),
});

/** `stack(xs, axis)`: the tensors (or numbers) joined along a new axis at `axis`. */
export function stack<V>(b: Builder<V>, xs: readonly V[], axis: number): V {
  if (xs.length === 0) throw new ShapeError("stack needs at least one tensor", "arity");
  const shape = b.typeOf(xs[0]!).shape;
  const ax = axis < 0 ? axis + shape.length + 1 : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax > shape.length)
    throw new ShapeError(`stack: axis ${axis} is out of range for a result of rank ${shape.length + 1}`, "axis");
  const parts = xs.map((x) => {
    const s = b.typeOf(x).shape;
    if (s.length !== shape.length || s.some((d, k) => d !== shape[k]))
      throw new ShapeError(`stack of ${formatShape(shape)} and ${formatShape(s)}: the shapes must be equal`, "fit");
    return b.op("reshape", [x], { shape: [...s.slice(0, ax), 1, ...s.slice(ax)] });
  });
  return b.op("concat", parts, { axis: ax });
}
