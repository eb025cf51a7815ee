// Pointwise primitives. Each is a scalar function lifted with NumPy broadcasting; the same
// expression emitter serves scalar code (`const f = q * z`) and fused tensor loops.

import type { Attrs, DType, Type } from "../ir/types.js";
import type { Builder } from "./registry.js";
import { type ElementwiseOp, type ExprEmitter, type Jvp, type Vjp, broadcastShapes, defineOp, resultDType, ShapeError } from "./registry.js";
import { sugar } from "./sugar.js";
import { type Val, broadcastIndex, dtypeOf, flatGet, makeVal, shapeOf } from "./values.js";

type DTypeRule = "float" | "bool" | "select" | "where";

export interface ElementwiseSpec {
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
  const rule = spec.dtype ?? "float";
  return defineOp<ElementwiseOp>({
    kind: "elementwise",
    name: spec.name,
    arity: spec.arity,
    pure: true,
    scalar: spec.scalar,
    expr: spec.expr,
    vjp: spec.vjp,
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

export const add = elementwise({
  name: "add",
  arity: 2,
  scalar: (x, y) => x + y,
  expr: ([x, y]) => `${x} + ${y}`,
  vjp: (_b, g, _args, _out, _attrs, needs) => [needs[0] ? g : null, needs[1] ? g : null],
});

export const sub = elementwise({
  name: "sub",
  arity: 2,
  scalar: (x, y) => x - y,
  expr: ([x, y]) => `${x} - ${y}`,
  vjp: (b, g, _args, _out, _attrs, needs) => [needs[0] ? g : null, when(needs[1], () => sugar(b).neg(g))],
});

export const mul = elementwise({
  name: "mul",
  arity: 2,
  scalar: (x, y) => x * y,
  expr: ([x, y]) => `${x} * ${y}`,
  // The mul gate swaps: each input's gradient is the upstream times the other input.
  vjp: (b, g, [x, y], _out, _attrs, needs) => {
    const s = sugar(b);
    return [when(needs[0], () => s.mul(g, y!)), when(needs[1], () => s.mul(g, x!))];
  },
});

export const div = elementwise({
  name: "div",
  arity: 2,
  scalar: (x, y) => x / y,
  expr: ([x, y]) => `${x} / ${y}`,
  vjp: (b, g, [, y], out, _attrs, needs) => {
    const s = sugar(b);
    return [when(needs[0], () => s.div(g, y!)), when(needs[1], () => s.neg(s.div(s.mul(g, out), y!)))];
  },
});

export const pow = elementwise({
  name: "pow",
  arity: 2,
  scalar: (x, y) => x ** y,
  expr: ([x, y]) => `${x} ** ${y}`,
  vjp: (b, g, [x, y], out, _attrs, needs) => {
    const s = sugar(b);
    return [
      when(needs[0], () => s.mul(g, s.mul(y!, s.pow(x!, s.sub(y!, s.c(1, y!)))))),
      when(needs[1], () => s.mul(g, s.mul(out, s.log(x!)))),
    ];
  },
});

// The max gate routes: the upstream gradient goes to the larger input, ties to the first.
export const maximum = elementwise({
  name: "maximum",
  arity: 2,
  scalar: Math.max,
  expr: ([x, y]) => `Math.max(${x}, ${y})`,
  vjp: (b, g, [x, y], _out, _attrs, needs) => {
    const s = sugar(b);
    const first = s.ge(x!, y!);
    return [
      when(needs[0], () => s.select(first, g, s.c(0, g))),
      when(needs[1], () => s.select(first, s.c(0, g), g)),
    ];
  },
});

export const minimum = elementwise({
  name: "minimum",
  arity: 2,
  scalar: Math.min,
  expr: ([x, y]) => `Math.min(${x}, ${y})`,
  vjp: (b, g, [x, y], _out, _attrs, needs) => {
    const s = sugar(b);
    const first = s.le(x!, y!);
    return [
      when(needs[0], () => s.select(first, g, s.c(0, g))),
      when(needs[1], () => s.select(first, s.c(0, g), g)),
    ];
  },
});

export const neg = elementwise({
  name: "neg",
  arity: 1,
  scalar: (x) => -x,
  expr: ([x]) => `-${x}`,
  vjp: (b, g) => [sugar(b).neg(g)],
});

export const exp = elementwise({
  name: "exp",
  arity: 1,
  scalar: Math.exp,
  expr: ([x]) => `Math.exp(${x})`,
  vjp: (b, g, _args, out) => [sugar(b).mul(g, out)],
});

export const log = elementwise({
  name: "log",
  arity: 1,
  scalar: Math.log,
  expr: ([x]) => `Math.log(${x})`,
  vjp: (b, g, [x]) => [sugar(b).div(g, x!)],
});

export const sqrt = elementwise({
  name: "sqrt",
  arity: 1,
  scalar: Math.sqrt,
  expr: ([x]) => `Math.sqrt(${x})`,
  // Reuses the forward output: d sqrt(x) = 0.5 / sqrt(x).
  vjp: (b, g, _args, out) => {
    const s = sugar(b);
    return [s.div(s.mul(g, s.c(0.5, g)), out)];
  },
});

export const square = elementwise({
  name: "square",
  arity: 1,
  scalar: (x) => x * x,
  expr: ([x]) => `${x} * ${x}`,
  vjp: (b, g, [x]) => {
    const s = sugar(b);
    return [s.mul(g, s.mul(s.c(2, x!), x!))];
  },
});

export const tanh = elementwise({
  name: "tanh",
  arity: 1,
  scalar: Math.tanh,
  expr: ([x]) => `Math.tanh(${x})`,
  // Reuses the forward output: 1 - tanh².
  vjp: (b, g, _args, out) => {
    const s = sugar(b);
    return [s.mul(g, s.sub(s.c(1, out), s.mul(out, out)))];
  },
});

export const sigmoid = elementwise({
  name: "sigmoid",
  arity: 1,
  scalar: (x) => 1 / (1 + Math.exp(-x)),
  expr: ([x]) => `1 / (1 + Math.exp(-${x}))`,
  // Reuses the forward output: σ' = σ(1 - σ).
  vjp: (b, g, _args, out) => {
    const s = sugar(b);
    return [s.mul(g, s.mul(out, s.sub(s.c(1, out), out)))];
  },
});

export const relu = elementwise({
  name: "relu",
  arity: 1,
  scalar: (x) => (x > 0 ? x : 0),
  expr: ([x]) => `Math.max(${x}, 0)`,
  // Routes like max(x, 0) with the tie at 0 going to the constant: relu'(0) = 0.
  vjp: (b, g, [x]) => {
    const s = sugar(b);
    return [s.select(s.gt(x!, s.c(0, x!)), g, s.c(0, g))];
  },
});

export const abs = elementwise({
  name: "abs",
  arity: 1,
  scalar: Math.abs,
  expr: ([x]) => `Math.abs(${x})`,
  vjp: (b, g, [x]) => {
    const s = sugar(b);
    return [s.mul(g, s.sign(x!))];
  },
});

export const sin = elementwise({
  name: "sin",
  arity: 1,
  scalar: Math.sin,
  expr: ([x]) => `Math.sin(${x})`,
  vjp: (b, g, [x]) => {
    const s = sugar(b);
    return [s.mul(g, s.cos(x!))];
  },
});

export const cos = elementwise({
  name: "cos",
  arity: 1,
  scalar: Math.cos,
  expr: ([x]) => `Math.cos(${x})`,
  vjp: (b, g, [x]) => {
    const s = sugar(b);
    return [s.neg(s.mul(g, s.sin(x!)))];
  },
});

export const sign = elementwise({
  name: "sign",
  arity: 1,
  scalar: Math.sign,
  expr: ([x]) => `Math.sign(${x})`,
  vjp: "not-differentiable",
});

// ---- comparisons and logic: booleans carry no gradient --------------------------------

const compare = (name: string, js: string, scalar: (x: number, y: number) => boolean): ElementwiseOp =>
  elementwise({
    name,
    arity: 2,
    dtype: "bool",
    scalar: (x, y) => (scalar(x, y) ? 1 : 0),
    expr: ([x, y]) => `${x} ${js} ${y}`,
    vjp: "not-differentiable",
  });

export const lt = compare("lt", "<", (x, y) => x < y);
export const le = compare("le", "<=", (x, y) => x <= y);
export const gt = compare("gt", ">", (x, y) => x > y);
export const ge = compare("ge", ">=", (x, y) => x >= y);
export const eq = compare("eq", "===", (x, y) => x === y);
export const ne = compare("ne", "!==", (x, y) => x !== y);
export const and = compare("and", "&&", (x, y) => x !== 0 && y !== 0);
export const or = compare("or", "||", (x, y) => x !== 0 || y !== 0);

export const not = elementwise({
  name: "not",
  arity: 1,
  dtype: "bool",
  scalar: (x) => (x !== 0 ? 0 : 1),
  expr: ([x]) => `!${x}`,
  vjp: "not-differentiable",
});

/** `c ? x : y` elementwise, both sides already computed: for masks, never for user branches. */
export const select = elementwise({
  name: "select",
  arity: 3,
  dtype: "select",
  scalar: (c, x, y) => (c !== 0 ? x : y),
  expr: ([c, x, y]) => `${c} ? ${x} : ${y}`,
  vjp: (b, g, [c], _out, _attrs, needs) => {
    const s = sugar(b);
    return [
      null,
      when(needs[1], () => s.select(c!, g, s.c(0, g))),
      when(needs[2], () => s.select(c!, s.c(0, g), g)),
    ];
  },
});

/** Identity whose gradient is zero: the max subtracted inside softmax is a constant. */
export const stopGradient = elementwise({
  name: "stop_gradient",
  arity: 1,
  scalar: (x) => x,
  expr: ([x]) => x!,
  vjp: (_b, _g, _args, _out, _attrs) => [null],
});
