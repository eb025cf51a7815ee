// Parameter types → pytree layouts. A leaf is a number or a Tensor<S, D>; structure comes from
// tuples, fixed-length arrays and object types, fields in declaration order.

import { type Node, type Type, ts } from "ts-morph";
import type { DType, Dim, Type as IRType } from "../ir/types.js";
import { LowerError } from "./errors.js";

export type Layout =
  | { readonly kind: "leaf"; readonly type: IRType }
  | { readonly kind: "object"; readonly fields: readonly { key: string; layout: Layout }[] }
  | { readonly kind: "array"; readonly items: readonly Layout[] };

/**
 * The type arguments `[S, D]` of a tensor type, however it is spelt: `Tensor<[3]>`, an alias
 * (`type Vec3 = Tensor<[3]>`), a generic alias (`Vec<3>` with `type Vec<N> = Tensor<[N]>`) or
 * an alias of an alias. The checker resolves aliases to the `Tensor` interface's instance and
 * keeps only the outermost alias's name, so the interface is what identifies a tensor.
 */
function tensorArguments(type: Type): Type[] | undefined {
  const sym = type.getSymbol();
  if (sym?.getName() === "Tensor" && type.getTypeArguments().length > 0) return type.getTypeArguments();
  // A `Tensor` declared as a type alias of its own (a user's, or an older gradc's).
  if (type.getAliasSymbol()?.getName() === "Tensor" && type.getAliasTypeArguments().length > 0) return type.getAliasTypeArguments();
  return undefined;
}

function tensorLayout(args: Type[], type: Type, at: Node, paramName: string, dims: Set<string>): Layout {
  const shapeType = args[0];
  const bad = (): never => {
    throw new LowerError("GRADC1006", at, [paramName, type.getText(at, ts.TypeFormatFlags.NoTruncation)]);
  };
  if (!shapeType || !shapeType.isTuple()) return bad();
  const shape: Dim[] = shapeType.getTupleElements().map((el) => {
    if (el.isNumberLiteral()) {
      const n = el.getLiteralValue() as number;
      if (!Number.isSafeInteger(n) || n < 0)
        throw new LowerError("GRADC2005", at, [`dimension ${n} of '${paramName}' is not a whole number of elements`]);
      return n;
    }
    if (el.isTypeParameter()) {
      const name = el.getSymbol()?.getName();
      if (!name) return bad();
      dims.add(name);
      return name;
    }
    return bad();
  });
  // A typed array holds at most 2³² - 1 elements; a larger tensor could never be passed.
  const elements = shape.reduce<number>((n, d) => (typeof d === "number" ? n * d : n), 1);
  if (elements > 2 ** 32 - 1)
    throw new LowerError("GRADC2005", at, [`'${paramName}' would hold ${elements} elements, more than a typed array can (2^32 - 1)`]);
  let dtype: DType = "f64";
  const d = args[1];
  if (d && d.isStringLiteral()) {
    const name = d.getLiteralValue();
    dtype = name === "f32" || name === "i32" ? name : "f64";
  }
  else if (d && !d.isTypeParameter()) {
    // A defaulted D shows up as the constraint union; anything else is not a layout we know.
    if (!d.isUnion()) return bad();
  }
  return { kind: "leaf", type: { dtype, shape } };
}

/** The layout of a parameter's type, recording symbolic dimensions in `dims`. */
export function layoutOf(type: Type, at: Node, paramName: string, dims: Set<string>, depth = 0): Layout {
  const bad = (): never => {
    throw new LowerError("GRADC1006", at, [paramName, type.getText(at, ts.TypeFormatFlags.NoTruncation)]);
  };
  if (depth > 32) return bad();
  if (type.isNumber() || type.isNumberLiteral()) return { kind: "leaf", type: { dtype: "f64", shape: [] } };
  const tensorArgs = tensorArguments(type);
  if (tensorArgs) return tensorLayout(tensorArgs, type, at, paramName, dims);
  if (type.isTuple()) {
    // `[number, ...number[]]` and `[number, number?]` have no fixed length to lay out.
    const target = (type.compilerType as ts.TypeReference).target as ts.TupleType;
    if (target.elementFlags.some((f) => (f & (ts.ElementFlags.Optional | ts.ElementFlags.Variable)) !== 0)) return bad();
    return { kind: "array", items: type.getTupleElements().map((t) => layoutOf(t, at, paramName, dims, depth + 1)) };
  }
  if (type.isArray() || type.isUnion() || type.isAny() || type.isUnknown() || type.isTypeParameter()) return bad();
  if (type.isObject() && type.getCallSignatures().length === 0) {
    const props = type.getProperties();
    if (props.length === 0) return bad();
    return {
      kind: "object",
      fields: props.map((p) => ({ key: p.getName(), layout: layoutOf(p.getTypeAtLocation(at), at, paramName, dims, depth + 1) })),
    };
  }
  return bad();
}
