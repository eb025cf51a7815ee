// Conversion between float dtypes. The promotion rule (registry.ts `resultDType`) makes mixed
// f32/f64 arithmetic f64; AD then converts each cotangent back to its primal's dtype, so an
// f32 parameter's gradient is f32 even where the computation was promoted (as JAX does).

import type { Attrs, DType, Type } from "../ir/types.js";
import { type ElementwiseOp, defineOp, ShapeError } from "./registry.js";
import { type Val, makeVal, flatGet, shapeOf } from "./values.js";

const target = (attrs: Attrs): DType => attrs["dtype"] as DType;

/** `cast(x) {dtype}`: x's values in the other float dtype (rounded to nearest for f32). */
export const cast = defineOp<ElementwiseOp>({
  kind: "elementwise",
  name: "cast",
  arity: 1,
  pure: true,
  // Rounding happens where the value is stored (a Float32Array) or, for a number, in `expr`.
  scalar: (x) => x,
  expr: ([x], attrs) => (target(attrs) === "f32" ? `Math.fround(${x})` : x!),
  infer([x], attrs): Type {
    const to = target(attrs);
    if ((to !== "f32" && to !== "f64") || x!.dtype === "bool" || x!.dtype === "i32") throw new ShapeError(`cannot convert ${x!.dtype} to ${String(to)}`, "dtype");
    return { dtype: to, shape: x!.shape };
  },
  evaluate([x], attrs): Val {
    return makeVal(shapeOf(x!), target(attrs), (i) => flatGet(x!, i));
  },
  vjp: (b, g, [x]) => [b.op("cast", [g], { dtype: b.typeOf(x!).dtype })],
  // Linear: the tangent is converted like the value.
  jvp: (b, [t], _args, _out, attrs) => (t ? b.op("cast", [t], { dtype: target(attrs) }) : null),
});
