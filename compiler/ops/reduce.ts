// Reductions over a set of axes: sum, max, and the one-hot argmax mask max's gradient needs.

import type { Attrs, Type } from "../ir/types.js";
import { type KernelOp, type Vjp, defineOp, normalizeAxes, resultDType, ShapeError } from "./registry.js";
import { sugar } from "./sugar.js";
import { type Val, allocData, dtypeOf, isTensorVal, makeVal, shapeOf, sizeOf, strides } from "./values.js";

/** Axes an op reduces: all of them when `axes` is absent. */
export function reducedAxes(attrs: Attrs, rank: number): number[] {
  const axes = attrs["axes"] as readonly number[] | undefined;
  return axes === undefined ? [...Array(rank).keys()] : normalizeAxes(axes, rank);
}

export function reducedShape<D>(shape: readonly D[], axes: readonly number[], keepdims: boolean): (D | 1)[] {
  const out: (D | 1)[] = [];
  shape.forEach((d, ax) => {
    if (!axes.includes(ax)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

function inferReduce(args: readonly Type[], attrs: Attrs): Type {
  if (args.length !== 1) throw new ShapeError("a reduction takes one tensor", "arity");
  const x = args[0]!;
  const axes = reducedAxes(attrs, x.shape.length);
  return { dtype: resultDType([x]), shape: reducedShape(x.shape, axes, attrs["keepdims"] === true) };
}

/** For each flat input index, the flat index of its reduction slot (keepdims layout). */
function slotIndex(shape: readonly number[], axes: readonly number[]): (i: number) => number {
  const keep = reducedShape(shape, axes, true) as number[];
  const inStrides = strides(shape);
  const outStrides = strides(keep);
  return (i) => {
    let o = 0;
    for (let ax = 0; ax < shape.length; ax++) {
      if (axes.includes(ax)) continue;
      o += (Math.floor(i / inStrides[ax]!) % shape[ax]!) * outStrides[ax]!;
    }
    return o;
  };
}

function evalReduce(x: Val, attrs: Attrs, init: number, combine: (acc: number, v: number) => number): Val {
  if (!isTensorVal(x)) return x;
  const shape = shapeOf(x);
  const axes = reducedAxes(attrs, shape.length);
  const outShape = reducedShape(shape, axes, attrs["keepdims"] === true) as number[];
  const acc = new Float64Array(sizeOf(outShape)).fill(init);
  const slot = slotIndex(shape, axes);
  for (let i = 0; i < x.data.length; i++) acc[slot(i)] = combine(acc[slot(i)]!, x.data[i]!);
  return makeVal(outShape, dtypeOf(x), (i) => acc[i]!);
}

/** Reshapes an upstream gradient to keepdims layout and spreads it over the input's shape. */
const spread: Vjp = (b, g, [x], _out, attrs) => {
  const s = sugar(b);
  const shape = s.shape(x!);
  const axes = reducedAxes(attrs, shape.length);
  const kept = attrs["keepdims"] === true ? g : s.reshape(g, reducedShape(shape, axes, true));
  return [s.broadcastTo(kept, shape)];
};

export const sum = defineOp<KernelOp>({
  kind: "kernel",
  name: "sum",
  gradc: "sum",
  arity: 1,
  pure: true,
  infer: inferReduce,
  evaluate: ([x], attrs) => evalReduce(x!, attrs, 0, (a, v) => a + v),
  vjp: spread,
  jvp: (b, [t], _args, _out, attrs) => (t ? b.op("sum", [t], attrs) : null),
  emit: (k, node) => k.reduce(node, "sum"),
});

export const max = defineOp<KernelOp>({
  kind: "kernel",
  name: "max",
  gradc: "max",
  arity: 1,
  pure: true,
  infer: inferReduce,
  evaluate: ([x], attrs) => evalReduce(x!, attrs, -Infinity, (a, v) => (v > a || Number.isNaN(v) ? v : a)),
  // Routes to the first maximal entry of each slice, like the binary max gate.
  vjp: (b, g, args, out, attrs, needs) => {
    const [spreadG] = spread(b, g, args, out, attrs, needs);
    return [b.op("mul", [b.op("argmax_mask", [args[0]!], attrs), spreadG!])];
  },
  // The tangent of the first maximal entry of each slice.
  jvp: (b, [t], [x], _out, attrs) => (t ? b.op("sum", [b.op("mul", [b.op("argmax_mask", [x!], attrs), t])], attrs) : null),
  emit: (k, node) => k.reduce(node, "max"),
});

/** 1 at the first maximal entry of each reduced slice, 0 elsewhere; same shape as x. */
export const argmaxMask = defineOp<KernelOp>({
  kind: "kernel",
  name: "argmax_mask",
  arity: 1,
  pure: true,
  infer: ([x]) => ({ dtype: resultDType([x!]), shape: x!.shape }),
  evaluate: ([x], attrs) => {
    if (!isTensorVal(x)) return 1;
    const shape = shapeOf(x);
    const axes = reducedAxes(attrs, shape.length);
    const slot = slotIndex(shape, axes);
    const nSlots = sizeOf(reducedShape(shape, axes, true) as number[]);
    const best = new Float64Array(nSlots).fill(-Infinity);
    const where = new Int32Array(nSlots).fill(-1);
    for (let i = 0; i < x.data.length; i++) {
      const o = slot(i);
      if (where[o] === -1 || x.data[i]! > best[o]!) {
        best[o] = x.data[i]!;
        where[o] = i;
      }
    }
    const data = allocData(dtypeOf(x), x.data.length);
    for (const i of where) data[i] = 1;
    return { shape, data };
  },
  vjp: "not-differentiable",
  jvp: "not-differentiable",
  emit: (k, node) => k.argmaxMask(node),
});
