// The target shape of `reshape(x, shape)` as NumPy reads it: one dimension may be -1, inferred
// from the element count. Shared by the compiler (static and symbolic shapes) and the eager op,
// so both accept and refuse the same shapes with the same words.

import type { Dim } from "../ir/types.js";
import { formatShape, ShapeError } from "./registry.js";
import { sizeFactors } from "./shape.js";

function describeSize(shape: readonly Dim[]): string {
  const { product, symbols } = sizeFactors(shape);
  return [...(product !== 1 || symbols.length === 0 ? [String(product)] : []), ...symbols].join("*");
}

/**
 * `to` with its -1 replaced by the inferred size; throws a ShapeError naming the reason when
 * `from` cannot become `to`.
 */
export function reshapeTarget(from: readonly Dim[], to: readonly Dim[]): Dim[] {
  const wanted = formatShape(to);
  for (const d of to)
    if (typeof d === "number" && d !== -1 && !(Number.isInteger(d) && d >= 0))
      throw new ShapeError(`cannot reshape to ${wanted}: ${d} is not a size (use a whole number, or -1 for the one dimension to infer)`, "reshape");
  const holes = to.filter((d) => d === -1).length;
  if (holes > 1) throw new ShapeError(`cannot reshape to ${wanted}: only one dimension can be -1`, "reshape");
  const a = sizeFactors(from);
  const known = to.filter((d) => d !== -1);
  const b = sizeFactors(known);
  const rest = [...a.symbols];
  const missing: string[] = [];
  for (const s of b.symbols) {
    const k = rest.indexOf(s);
    if (k >= 0) rest.splice(k, 1);
    else missing.push(s);
  }
  const mismatch = (why: string): never => {
    throw new ShapeError(`cannot reshape ${formatShape(from)} (${describeSize(from)} elements) to ${wanted}: ${why}`, "reshape");
  };
  if (holes === 0) {
    if (missing.length > 0 || rest.length > 0 || a.product !== b.product) mismatch(`that holds ${describeSize(to)} elements`);
    return [...to];
  }
  if (missing.length > 0) mismatch(`the dimension ${missing[0]} does not divide the size`);
  if (b.product === 0) mismatch("-1 cannot be inferred when another dimension is 0");
  if (a.product % b.product !== 0)
    mismatch(rest.length === 0 ? `${a.product} is not a multiple of ${b.product}, so no size fits -1` : `-1 would stand for ${describeSize(from)}/${b.product}, which is not a dimension; write the shape out`);
  const q = a.product / b.product;
  let inferred: Dim;
  if (rest.length === 0) inferred = q;
  else if (rest.length === 1 && q === 1) inferred = rest[0]!;
  else return mismatch(`-1 would stand for ${[...(q !== 1 ? [String(q)] : []), ...rest].join("*")}, a product of dimensions; write the shape out`);
  return to.map((d) => (d === -1 ? inferred : d));
}
