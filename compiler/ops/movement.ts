// Ops that move or replicate data without arithmetic: reshape, broadcast_to, transpose.

import type { Attrs, Dim, Type } from "../ir/types.js";
import { sumTo } from "./broadcast.js";
import { type KernelOp, linearJvp, broadcastShapes, defineOp, formatShape, ShapeError } from "./registry.js";
import { sizeFactors } from "./shape.js";
import { sugar } from "./sugar.js";
import { type Val, broadcastIndex, dtypeOf, isTensorVal, makeVal, shapeOf } from "./values.js";

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

export const transpose = defineOp<KernelOp>({
  kind: "kernel",
  name: "transpose",
  gradc: "transpose",
  arity: 1,
  pure: true,
  infer([x]): Type {
    if (x!.shape.length !== 2)
      throw new ShapeError(`transpose takes a 2-D tensor, got shape ${formatShape(x!.shape)}`, "axis");
    return { dtype: x!.dtype, shape: [x!.shape[1]!, x!.shape[0]!] };
  },
  evaluate: ([x]) => {
    const t = x as { shape: number[]; data: Float64Array };
    const [m, n] = t.shape as [number, number];
    return makeVal([n, m], dtypeOf(t), (i) => t.data[(i % m) * n + Math.floor(i / m)]!);
  },
  vjp: (b, g) => [b.op("transpose", [g])],
  jvp: linearJvp("transpose"),
  emit: (k, node) => k.transpose(node),
});
