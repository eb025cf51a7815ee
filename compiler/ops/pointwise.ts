// How pointwise primitives are defined: a scalar function lifted with NumPy broadcasting, whose
// expression emitter serves scalar code (`const f = q * z`) and fused tensor loops alike, and
// whose JVP is derived from its VJP. The entries live in elementwise.ts (arithmetic and
// transcendental functions), rounding.ts (piecewise constant, `%`), compare.ts (booleans) and
// elementwise-more.ts (clip, where and the 1/0 masks users call).

import type { Attrs, DType, Type } from "../ir/types.js";
import type { Builder } from "./registry.js";
import { type ElementwiseOp, type ExprEmitter, type GraphLabel, type Jvp, type Vjp, broadcastShapes, defineOp, resultDType, ShapeError } from "./registry.js";
import { type Val, broadcastIndex, dtypeOf, flatGet, makeVal, shapeOf } from "./values.js";

type DTypeRule = "float" | "bool" | "select" | "where";

/** What an entry may say about how users reach it and how it is drawn (see OpDefBase). */
type Exposure = Pick<ElementwiseOp, "gradc" | "math" | "variadic" | "operators" | "prefix" | "commutative" | "graph" | "callForm">;

interface ElementwiseSpec extends Exposure {
  name: string;
  arity: number;
  scalar: (...xs: number[]) => number;
  expr: ExprEmitter;
  vjp: Vjp | "not-differentiable";
  /** Comparisons give booleans; select reads one; arithmetic refuses them. */
  dtype?: DTypeRule;
}

function inferDType(rule: DTypeRule, args: readonly Type[]): DType {
  if (rule === "bool") {
    // Comparisons of numbers, or logic on booleans.
    return "bool";
  }
  // `where(mask, a, b)`: the mask may be any dtype (nonzero is true) and takes no part in promotion.
  if (rule === "where") return resultDType(args.slice(1));
  if (rule === "select") {
    if (args[0]!.dtype !== "bool") throw new ShapeError("the condition of a select must be boolean", "dtype");
    return resultDType(args.slice(1));
  }
  return resultDType(args);
}

export function elementwise(spec: ElementwiseSpec): ElementwiseOp {
  const { dtype, ...fields } = spec;
  const rule = dtype ?? "float";
  return defineOp<ElementwiseOp>({
    ...fields,
    kind: "elementwise",
    pure: true,
    jvp: spec.vjp === "not-differentiable" ? "not-differentiable" : jvpFromVjp(spec.vjp),
    infer(args: readonly Type[]): Type {
      if (args.length !== spec.arity) throw new ShapeError(`${spec.name} takes ${spec.arity} arguments`, "arity");
      const shape = args.map((a) => a.shape).reduce((a, b) => broadcastShapes(a, b));
      return { dtype: inferDType(rule, args), shape };
    },
    evaluate(args: readonly Val[], _attrs: Attrs): Val {
      const shapes = args.map(shapeOf);
      const outShape = shapes.reduce((a, b) => broadcastShapes(a, b) as number[]);
      const index = shapes.map((s) => broadcastIndex(s, outShape));
      const dtype = inferDType(rule, args.map((a) => ({ dtype: dtypeOf(a), shape: shapeOf(a) })));
      const xs = new Array<number>(args.length);
      return makeVal(outShape, dtype, (i) => {
        for (let k = 0; k < args.length; k++) xs[k] = flatGet(args[k]!, index[k]!(i));
        return spec.scalar(...xs);
      });
    },
  });
}

/**
 * The JVP of a pointwise op from its VJP. A pointwise op's Jacobian is diagonal (up to
 * broadcasting), so it is its own transpose: the VJP of argument i applied to that argument's
 * tangent, instead of to an upstream gradient, is argument i's contribution to the output's
 * tangent. Contributions are broadcast to the output's shape and summed.
 */
function jvpFromVjp(vjp: Vjp): Jvp {
  return <V>(b: Builder<V>, tangents: readonly (V | null)[], args: readonly V[], out: V, attrs: Attrs): V | null => {
    let acc: V | null = null;
    const shape = b.typeOf(out).shape;
    tangents.forEach((t, i) => {
      if (t === null) return;
      const c = vjp(b, t, args, out, attrs, args.map((_a, j) => j === i))[i];
      if (c === null || c === undefined) return;
      const cs = b.typeOf(c).shape;
      const shaped = cs.length === shape.length && cs.every((d, k) => d === shape[k]) ? c : b.op("broadcast_to", [c], { shape });
      acc = acc === null ? shaped : b.op("add", [acc, shaped]);
    });
    return acc;
  };
}

// Returns a cotangent only where the argument is active.
export const when = <V>(need: boolean | undefined, make: () => V): V | null => (need ? make() : null);

/** `Math.<name>` of one number: the same function evaluates, folds and is emitted. */
export const mathCall = (name: string) =>
  ({
    math: name,
    scalar: (Math as unknown as Record<string, (x: number) => number>)[name]!,
    expr: ([x]: readonly string[]) => `Math.${name}(${x})`,
    callForm: true,
  }) as const;

/** Drawn as an infix symbol; a constant operand folds in (`+1`, `1/x`). */
export const infix = (label: string, fold: GraphLabel["fold"]): GraphLabel => ({ label, fold });

/**
 * Piecewise constant (floor, sign, …): the derivative is zero wherever it exists, so the VJP
 * gives no cotangent. Unlike "not-differentiable" (booleans), the result is a number that
 * arithmetic may use, on the tape and compiled alike.
 */
export const piecewiseConstant: Vjp = (_b, _g, args) => args.map(() => null);
