// The one place where broadcasting is undone: a gradient computed at the broadcast shape is
// summed back to the shape of the input it belongs to. Used by AD and by the tape alike.

import type { Dim } from "../ir/types.js";
import type { Builder } from "./registry.js";
import { sameShapeDims } from "./shape.js";
import { sugar } from "./sugar.js";

export function sumTo<V>(b: Builder<V>, g: V, target: readonly Dim[]): V {
  const s = sugar(b);
  const from = s.shape(g);
  if (sameShapeDims(from, target)) return g;
  // Down to a number: one full reduction, no reshape.
  if (target.length === 0) return s.sum(g, [...from.keys()], false);
  const lead = from.length - target.length;
  const axes: number[] = [];
  for (let ax = 0; ax < from.length; ax++) {
    if (ax < lead) axes.push(ax);
    else if (target[ax - lead] === 1 && from[ax] !== 1) axes.push(ax);
  }
  const summed = axes.length > 0 ? s.sum(g, axes, true) : g;
  return sameShapeDims(s.shape(summed), target) ? summed : s.reshape(summed, target);
}
