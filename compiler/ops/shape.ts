// Small shape utilities shared by the op rules.

import type { Dim } from "../ir/types.js";

export const sameShapeDims = (a: readonly Dim[], b: readonly Dim[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Static element count, or null when a symbolic dimension is involved. */
export function staticSize(shape: readonly Dim[]): number | null {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== "number") return null;
    n *= d;
  }
  return n;
}

/** Splits a shape's size into its static product and the multiset of symbolic factors. */
export function sizeFactors(shape: readonly Dim[]): { product: number; symbols: string[] } {
  let product = 1;
  const symbols: string[] = [];
  for (const d of shape) {
    if (typeof d === "number") product *= d;
    else symbols.push(d);
  }
  return { product, symbols: symbols.sort() };
}
