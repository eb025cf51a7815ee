// Composite ops, written from primitives against `Builder<V>`: the compiler frontend lowers
// them to IR and the runtime tape evaluates them with the same code, so they need no gradient
// rule of their own (the primitives' VJPs compose).

import type { Dim } from "../ir/types.js";
import { reducedShape } from "./reduce.js";
import { type Builder, normalizeAxes } from "./registry.js";
import { stack } from "./structure.js";

/** Axes as the user wrote them: one axis, several, or all of them (`undefined`). */
export type AxesArg = number | readonly number[] | undefined;

const axesList = (axes: AxesArg, rank: number): number[] =>
  axes === undefined ? [...Array(rank).keys()] : normalizeAxes(typeof axes === "number" ? [axes] : axes, rank);

/**
 * The mean over `axes` (all when absent): the sum divided by the number of entries reduced.
 * A symbolic dimension among them divides by its run-time value (`dim` op).
 */
export function mean<V>(b: Builder<V>, x: V, axes?: AxesArg, keepdims = false): V {
  const shape = b.typeOf(x).shape;
  const ax = axesList(axes, shape.length);
  const total = b.op("sum", [x], { axes: ax, keepdims });
  let staticCount = 1;
  let count: V | null = null;
  for (const a of ax) {
    const d: Dim = shape[a]!;
    if (typeof d === "number") staticCount *= d;
    else {
      const n = b.op("dim", [], { name: d });
      count = count === null ? n : b.op("mul", [count, n]);
    }
  }
  if (count === null) return staticCount === 1 ? total : b.op("div", [total, b.constant(staticCount, x)]);
  if (staticCount !== 1) count = b.op("mul", [count, b.constant(staticCount, x)]);
  return b.op("div", [total, count]);
}

/**
 * Row-wise maximum over `ax`, kept as reduced axes of size 1 and cut out of the gradient.
 * Subtracting it changes neither softmax nor logSumExp mathematically, but keeps exp() from
 * overflowing: logits of ±1000 stay finite.
 */
function stableShift<V>(b: Builder<V>, x: V, ax: readonly number[]): V {
  return b.op("stop_gradient", [b.op("max", [x], { axes: ax, keepdims: true })]);
}

/** `exp(x) / sum(exp(x), axis)` along one axis (the last by default), numerically stable. */
export function softmax<V>(b: Builder<V>, x: V, axis = -1): V {
  const ax = axesList(axis, b.typeOf(x).shape.length);
  const e = b.op("exp", [b.op("sub", [x, stableShift(b, x, ax)])]);
  return b.op("div", [e, b.op("sum", [e], { axes: ax, keepdims: true })]);
}

/** `log(sum(exp(x), axes))` over `axes` (all when absent), numerically stable. */
export function logSumExp<V>(b: Builder<V>, x: V, axes?: AxesArg, keepdims = false): V {
  const shape = b.typeOf(x).shape;
  const ax = axesList(axes, shape.length);
  const m = stableShift(b, x, ax);
  const e = b.op("exp", [b.op("sub", [x, m])]);
  const lse = b.op("log", [b.op("sum", [e], { axes: ax, keepdims })]);
  return b.op("add", [lse, keepdims ? m : b.op("reshape", [m], { shape: reducedShape(shape, ax, false) })]);
}

/** The composites by name, for lowering a call to one of them. */
export const composites = { mean, softmax, logSumExp, stack } as const;
