// Concrete values (numbers and row-major tensors, as the op registry evaluates them) for
// numeric tests: drawing them on a domain, moving along a direction, inner products.

import { type TensorVal, type Val, isTensorVal, sizeOf } from "../../compiler/ops/values.js";

/** Where an argument's entries are drawn: away from each op's kinks and domain edges. */
export type Domain = "any" | "positive" | "nonzero";

export function draw(shape: readonly number[], domain: Domain, next: () => number, f32 = false): Val {
  const one = (): number => {
    const u = next();
    if (domain === "positive") return 0.5 + 1.5 * u;
    if (domain === "nonzero") return (next() < 0.5 ? -1 : 1) * (0.3 + 1.7 * u);
    return -2 + 4 * u;
  };
  if (shape.length === 0) return one();
  const n = sizeOf(shape);
  const data = f32 ? Float32Array.from({ length: n }, one) : Float64Array.from({ length: n }, one);
  return { shape: [...shape], data };
}

export const flat = (v: Val): number[] => (isTensorVal(v) ? [...v.data] : [Number(v)]);

/** x + t·v, entrywise (v has x's shape). */
export function axpy(x: Val, t: number, v: Val): Val {
  if (!isTensorVal(x)) return (x as number) + t * (v as number);
  const dir = (v as TensorVal).data;
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) data[i] = x.data[i]! + t * dir[i]!;
  return { shape: [...x.shape], data };
}

/** Σ a_i·b_i over two values of one shape. */
export function dot(a: Val, b: Val): number {
  const fa = flat(a);
  const fb = flat(b);
  if (fa.length !== fb.length) throw new Error(`dot of sizes ${fa.length} and ${fb.length}`);
  return fa.reduce((s, x, i) => s + x * fb[i]!, 0);
}
