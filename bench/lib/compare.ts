// How far an engine's result is from the reference: the max over the value and every gradient
// leaf of a relative error. For a tensor leaf the error is normwise, max|a − b| / max|b|, so
// entries that are nearly zero inside a large gradient do not dominate; a scalar leaf is
// |a − b| / |b|. Shapes that differ, or any NaN, count as an infinite error.

import { leaves, type Leaf, type Tree } from "./tree.js";

export interface Discrepancy {
  maxRelErr: number;
  /** Where the max was reached: "value" or a path like "grads[0].W1". */
  worst: string;
}

const FLOOR = 1e-15;

export function compareResults(ref: { value: number; grads: Tree[] }, got: { value: number; grads: Tree[] }): Discrepancy {
  let maxRelErr = relScalar(got.value, ref.value);
  let worst = "value";
  const a = leaves(got.grads as Tree, "grads");
  const b = leaves(ref.grads as Tree, "grads");
  if (a.length !== b.length) return { maxRelErr: Infinity, worst: `grads: ${a.length} leaves, reference has ${b.length}` };
  for (let i = 0; i < a.length; i++) {
    const e = relLeaf(a[i]!.leaf, b[i]!.leaf);
    if (!(e <= maxRelErr)) {
      maxRelErr = e;
      worst = b[i]!.path;
    }
  }
  return { maxRelErr, worst };
}

function relScalar(a: number, b: number): number {
  const e = Math.abs(a - b) / Math.max(Math.abs(b), FLOOR);
  return Number.isNaN(e) ? Infinity : e;
}

function relLeaf(a: Leaf, b: Leaf): number {
  if (typeof b === "number") return typeof a === "number" ? relScalar(a, b) : Infinity;
  if (typeof a === "number") return Infinity;
  if (a.data.length !== b.data.length || a.shape.join() !== b.shape.join()) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    if (Number.isNaN(d)) return Infinity;
    if (d > diff) diff = d;
    scale = Math.max(scale, Math.abs(b.data[i]!));
  }
  const e = diff / Math.max(scale, FLOOR);
  return Number.isNaN(e) ? Infinity : e;
}
