// Ops that move or replicate data without arithmetic: reshape, broadcast_to, transpose (any
// permutation of the axes).

import type { Attrs, Dim, Type } from "../ir/types.js";
import { sumTo } from "./broadcast.js";
import { type KernelOp, linearJvp, broadcastShapes, defineOp, formatShape, ShapeError } from "./registry.js";
import { sizeFactors } from "./shape.js";
import { sugar } from "./sugar.js";
import { type Val, broadcastIndex, dtypeOf, isTensorVal, makeVal, shapeOf, strides } from "./values.js";

const targetShape = (attrs: Attrs): readonly Dim[] => attrs["shape"] as readonly Dim[];

export const reshape = defineOp<KernelOp>({
  kind: "kernel",
  name: "reshape",
  gradc: "reshape",
  arity: 1,
  pure: true,
  infer([x], attrs): Type {
    const to = targetShape(attrs);
    const a = sizeFactors(x!.shape);
    const b = sizeFactors(to);
    if (a.product !== b.product || a.symbols.join() !== b.symbols.join())
      throw new ShapeError(`cannot reshape ${formatShape(x!.shape)} to ${formatShape(to)}: the sizes differ`, "reshape");
    return { dtype: x!.dtype, shape: to };
  },
  evaluate: ([x], attrs) => {
    const to = targetShape(attrs) as number[];
    const flat = isTensorVal(x!) ? x!.data : null;
    return makeVal(to, dtypeOf(x!), (i) => (flat ? flat[i]! : (x as number)));
  },
  vjp: (b, g, [x]) => [sugar(b).reshape(g, sugar(b).shape(x!))],
  jvp: linearJvp("reshape"),
  emit: (k, node) => k.alias(node),
});

export const broadcastTo = defineOp<KernelOp>({
  kind: "kernel",
  name: "broadcast_to",
  arity: 1,
  pure: true,
  infer([x], attrs): Type {
    const to = targetShape(attrs);
    const shape = broadcastShapes(x!.shape, to);
    if (shape.length !== to.length || shape.some((d, i) => d !== to[i]))
      throw new ShapeError(`cannot broadcast ${formatShape(x!.shape)} to ${formatShape(to)}`);
    return { dtype: x!.dtype, shape: to };
  },
  evaluate: ([x], attrs): Val => {
    const to = targetShape(attrs) as number[];
    const index = broadcastIndex(shapeOf(x!), to);
    return makeVal(to, dtypeOf(x!), (i) => (isTensorVal(x!) ? x!.data[index(i)]! : Number(x)));
  },
  vjp: (b, g, [x]) => [sumTo(b, g, sugar(b).shape(x!))],
  jvp: linearJvp("broadcast_to"),
  emit: (k, node) => k.pointwise(node),
});

/** The permutation of a transpose: `perm` when given, else the axes reversed. */
export function permOf(attrs: Attrs, rank: number): number[] {
  const perm = attrs["perm"] as readonly number[] | undefined;
  return perm === undefined ? [...Array(rank).keys()].reverse() : [...perm];
}

/** Checks `perm` is a permutation of the axes of a tensor of rank `rank`. */
export function checkPerm(perm: readonly number[], rank: number): void {
  const seen = new Set<number>();
  for (const a of perm) {
    if (!Number.isInteger(a) || a < 0 || a >= rank || seen.has(a))
      throw new ShapeError(`transpose: ${formatShape(perm)} is not a permutation of the ${rank} axes of the tensor`, "axis");
    seen.add(a);
  }
  if (perm.length !== rank) throw new ShapeError(`transpose: ${formatShape(perm)} is not a permutation of the ${rank} axes of the tensor`, "axis");
}

/** `x` with its axes permuted: axis k of the result is axis `perm[k]` of x (reversed by default). */
export const transpose = defineOp<KernelOp>({
  kind: "kernel",
  name: "transpose",
  gradc: "transpose",
  arity: 1,
  pure: true,
  infer([x], attrs): Type {
    if (x!.shape.length === 0) throw new ShapeError("transpose takes a tensor, not a number", "axis");
    const perm = permOf(attrs, x!.shape.length);
    checkPerm(perm, x!.shape.length);
    return { dtype: x!.dtype, shape: perm.map((a) => x!.shape[a]!) };
  },
  evaluate: ([x], attrs) => {
    const t = x as { shape: number[]; data: Float64Array };
    const perm = permOf(attrs, t.shape.length);
    const outShape = perm.map((a) => t.shape[a]!);
    const inStrides = strides(t.shape);
    const outStrides = strides(outShape);
    return makeVal(outShape, dtypeOf(t), (i) => {
      let j = 0;
      for (let k = 0; k < perm.length; k++) j += (Math.floor(i / outStrides[k]!) % outShape[k]!) * inStrides[perm[k]!]!;
      return t.data[j]!;
    });
  },
  // The inverse permutation; the default (reversal) is its own inverse.
  vjp: (b, g, _args, _out, attrs) => {
    const perm = attrs["perm"] as readonly number[] | undefined;
    if (perm === undefined) return [b.op("transpose", [g])];
    const inverse = new Array<number>(perm.length);
    perm.forEach((a, k) => (inverse[a] = k));
    return [b.op("transpose", [g], { perm: inverse })];
  },
  jvp: linearJvp("transpose"),
  // The backend writes 2-D transposes itself and others with the loops of its own table.
  emit: (k, node) => k.transpose(node),
});
