// Ops with no value arguments, written inline by the code generator.

import type { Attrs, DType, Type } from "../ir/types.js";
import { type LeafOp, defineOp } from "./registry.js";

/** JS literal for a number, exact and round-trippable (keeps -0, writes NaN/Infinity). */
export function numberLiteral(v: number): string {
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

export const constant = defineOp<LeafOp>({
  kind: "leaf",
  name: "const",
  arity: 0,
  pure: true,
  infer: (_args, attrs: Attrs): Type => ({ dtype: (attrs["dtype"] as DType | undefined) ?? "f64", shape: [] }),
  evaluate: (_args, attrs) => (attrs["dtype"] === "bool" ? attrs["value"] !== 0 : (attrs["value"] as number)),
  vjp: "not-differentiable",
  jvp: "not-differentiable",
  expr: (_operands, attrs) =>
    attrs["dtype"] === "bool" ? String(attrs["value"] !== 0) : numberLiteral(attrs["value"] as number),
});

/** The run-time value of a symbolic dimension, as a number (`mean` over `B` divides by it). */
export const dim = defineOp<LeafOp>({
  kind: "leaf",
  name: "dim",
  arity: 0,
  pure: true,
  infer: () => ({ dtype: "f64", shape: [] }),
  evaluate: (_args, attrs) => {
    throw new Error(`dimension ${String(attrs["name"])} has no value outside a call`);
  },
  vjp: "not-differentiable",
  jvp: "not-differentiable",
  expr: (_operands, attrs) => `dim_${String(attrs["name"])}`,
});
