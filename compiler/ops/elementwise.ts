// Pointwise primitives. Each is a scalar function lifted with NumPy broadcasting; the same
// expression emitter serves scalar code (`const f = q * z`) and fused tensor loops.

import type { Attrs, DType, Type } from "../ir/types.js";
import type { Builder } from "./registry.js";
import { type ElementwiseOp, type ExprEmitter, type GraphLabel, type Jvp, type Vjp, broadcastShapes, defineOp, resultDType, ShapeError } from "./registry.js";
import { sugar } from "./sugar.js";
import { type Val, broadcastIndex, dtypeOf, flatGet, makeVal, shapeOf } from "./values.js";

type DTypeRule = "float" | "bool" | "select";

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
  if (rule === "select") {
    if (args[0]!.dtype !== "bool") throw new ShapeError("the condition of a select must be boolean", "dtype");
    return resultDType(args.slice(1));
  }
  return resultDType(args);
}

function elementwise(spec: ElementwiseSpec): ElementwiseOp {
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
const when = <V>(need: boolean | undefined, make: () => V): V | null => (need ? make() : null);

/** `Math.<name>` of one number: the same function evaluates, folds and is emitted. */
const mathCall = (name: string) =>
  ({
    math: name,
    scalar: (Math as unknown as Record<string, (x: number) => number>)[name]!,
    expr: ([x]: readonly string[]) => `Math.${name}(${x})`,
    callForm: true,
  }) as const;

/** Drawn as an infix symbol; a constant operand folds in (`+1`, `1/x`). */
const infix = (label: string, fold: GraphLabel["fold"]): GraphLabel => ({ label, fold });

/**
 * Piecewise constant (floor, sign, …): the derivative is zero wherever it exists, so the VJP
 * gives no cotangent. Unlike "not-differentiable" (booleans), the result is a number that
 * arithmetic may use, on the tape and compiled alike.
 */
const piecewiseConstant: Vjp = (_b, _g, args) => args.map(() => null);

export const add = elementwise({
  name: "add",
  arity: 2,
  gradc: "add",
  operators: ["+"],
  commutative: true,
  graph: infix("+", (c) => `+${c}`),
  scalar: (x, y) => x + y,
  expr: ([x, y]) => `${x} + ${y}`,
  vjp: (_b, g, _args, _out, _attrs, needs) => [needs[0] ? g : null, needs[1] ? g : null],
});

export const sub = elementwise({
  name: "sub",
  arity: 2,
  gradc: "sub",
  operators: ["-"],
  graph: infix("-", (c, first) => (first ? `${c}-x` : `-${c}`)),
  scalar: (x, y) => x - y,
  expr: ([x, y]) => `${x} - ${y}`,
  vjp: (b, g, _args, _out, _attrs, needs) => [needs[0] ? g : null, when(needs[1], () => sugar(b).neg(g))],
});

export const mul = elementwise({
  name: "mul",
  arity: 2,
  gradc: "mul",
  operators: ["*"],
  commutative: true,
  graph: infix("*", (c) => `*${c}`),
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
  gradc: "div",
  operators: ["/"],
  graph: infix("/", (c, first) => (first ? `${c}/x` : `/${c}`)),
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
  gradc: "pow",
  math: "pow",
  operators: ["**"],
  graph: infix("^", (c, first) => (first ? `${c}^x` : `x^${c}`)),
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
  gradc: "maximum",
  math: "max",
  variadic: true,
  graph: { label: "max", fold: (c) => `max(x, ${c})` },
  scalar: Math.max,
  expr: ([x, y]) => `Math.max(${x}, ${y})`,
  callForm: true,
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
  gradc: "minimum",
  math: "min",
  variadic: true,
  graph: { label: "min", fold: (c) => `min(x, ${c})` },
  scalar: Math.min,
  expr: ([x, y]) => `Math.min(${x}, ${y})`,
  callForm: true,
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
  gradc: "neg",
  prefix: "-",
  graph: { label: "*-1" },
  scalar: (x) => -x,
  expr: ([x]) => `-${x}`,
  vjp: (b, g) => [sugar(b).neg(g)],
});

export const exp = elementwise({
  name: "exp",
  arity: 1,
  gradc: "exp",
  ...mathCall("exp"),
  vjp: (b, g, _args, out) => [sugar(b).mul(g, out)],
});

export const log = elementwise({
  name: "log",
  arity: 1,
  gradc: "log",
  ...mathCall("log"),
  vjp: (b, g, [x]) => [sugar(b).div(g, x!)],
});

export const sqrt = elementwise({
  name: "sqrt",
  arity: 1,
  gradc: "sqrt",
  ...mathCall("sqrt"),
  graph: { label: "√" },
  // Reuses the forward output: d sqrt(x) = 0.5 / sqrt(x).
  vjp: (b, g, _args, out) => {
    const s = sugar(b);
    return [s.div(s.mul(g, s.c(0.5, g)), out)];
  },
});

export const square = elementwise({
  name: "square",
  arity: 1,
  gradc: "square",
  graph: { label: "x²" },
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
  gradc: "tanh",
  ...mathCall("tanh"),
  // Reuses the forward output: 1 - tanh².
  vjp: (b, g, _args, out) => {
    const s = sugar(b);
    return [s.mul(g, s.sub(s.c(1, out), s.mul(out, out)))];
  },
});

export const sigmoid = elementwise({
  name: "sigmoid",
  arity: 1,
  gradc: "sigmoid",
  graph: { label: "σ" },
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
  gradc: "relu",
  scalar: (x) => (x > 0 ? x : 0),
  expr: ([x]) => `Math.max(${x}, 0)`,
  callForm: true,
  // Routes like max(x, 0) with the tie at 0 going to the constant: relu'(0) = 0.
  vjp: (b, g, [x]) => {
    const s = sugar(b);
    return [s.select(s.gt(x!, s.c(0, x!)), g, s.c(0, g))];
  },
});

export const abs = elementwise({
  name: "abs",
  arity: 1,
  gradc: "abs",
  ...mathCall("abs"),
  vjp: (b, g, [x]) => {
    const s = sugar(b);
    return [s.mul(g, s.sign(x!))];
  },
});

export const log1p = elementwise({
  name: "log1p",
  arity: 1,
  ...mathCall("log1p"),
  // log(1 + x), exact for small x: d/dx = 1 / (1 + x).
  vjp: (b, g, [x]) => {
    const s = sugar(b);
    return [s.div(g, s.add(s.c(1, x!), x!))];
  },
});

export const expm1 = elementwise({
  name: "expm1",
  arity: 1,
  ...mathCall("expm1"),
  // e^x - 1, exact for small x; reuses the forward output: d/dx = e^x = out + 1.
  vjp: (b, g, _args, out) => {
    const s = sugar(b);
    return [s.mul(g, s.add(out, s.c(1, out)))];
  },
});

export const sin = elementwise({
  name: "sin",
  arity: 1,
  ...mathCall("sin"),
  vjp: (b, g, [x]) => {
    const s = sugar(b);
    return [s.mul(g, s.cos(x!))];
  },
});

export const cos = elementwise({
  name: "cos",
  arity: 1,
  ...mathCall("cos"),
  vjp: (b, g, [x]) => {
    const s = sugar(b);
    return [s.neg(s.mul(g, s.sin(x!)))];
  },
});

// ---- piecewise constant: zero derivative wherever there is one ---------------------------

export const sign = elementwise({ name: "sign", arity: 1, ...mathCall("sign"), vjp: piecewiseConstant });
export const floor = elementwise({ name: "floor", arity: 1, ...mathCall("floor"), vjp: piecewiseConstant });
export const ceil = elementwise({ name: "ceil", arity: 1, ...mathCall("ceil"), vjp: piecewiseConstant });
export const round = elementwise({ name: "round", arity: 1, ...mathCall("round"), vjp: piecewiseConstant });

/** JavaScript's `%`, the remainder of truncated division: a - b·trunc(a/b). */
export const rem = elementwise({
  name: "rem",
  arity: 2,
  operators: ["%"],
  graph: infix("%", (c, first) => (first ? `${c}%x` : `%${c}`)),
  scalar: (x, y) => x % y,
  expr: ([x, y]) => `${x} % ${y}`,
  // Between jumps trunc(a/b) is constant, so d/da = 1 and d/db = -trunc(a/b), written as
  // -(a - out)/b: built from differentiable ops, it differentiates again to 0 as it should.
  vjp: (b, g, [x, y], out, _attrs, needs) => {
    const s = sugar(b);
    return [needs[0] ? g : null, when(needs[1], () => s.neg(s.div(s.mul(g, s.sub(x!, out)), y!)))];
  },
});

// ---- comparisons and logic: booleans carry no gradient --------------------------------

/** `operators` are the JavaScript spellings; the first is emitted. `drawn` labels the graph. */
const compare = (name: string, operators: readonly string[], drawn: string, scalar: (x: number, y: number) => boolean, commutative = false): ElementwiseOp => {
  const js = operators[0]!;
  return elementwise({
    name,
    arity: 2,
    operators,
    commutative,
    graph: { label: drawn, fold: (c, first) => (first ? `${c} ${drawn} x` : `${drawn} ${c}`) },
    dtype: "bool",
    scalar: (x, y) => (scalar(x, y) ? 1 : 0),
    expr: ([x, y]) => `${x} ${js} ${y}`,
    vjp: "not-differentiable",
  });
};

export const lt = compare("lt", ["<"], "<", (x, y) => x < y);
export const le = compare("le", ["<="], "≤", (x, y) => x <= y);
export const gt = compare("gt", [">"], ">", (x, y) => x > y);
export const ge = compare("ge", [">="], "≥", (x, y) => x >= y);
export const eq = compare("eq", ["===", "=="], "==", (x, y) => x === y, true);
export const ne = compare("ne", ["!==", "!="], "!=", (x, y) => x !== y, true);

/** Logic on booleans; `&&`/`||` in source are lowered as conditionals, so no operator here. */
const logic = (name: string, js: string, scalar: (x: boolean, y: boolean) => boolean): ElementwiseOp =>
  elementwise({
    name,
    arity: 2,
    commutative: true,
    graph: { label: js },
    dtype: "bool",
    scalar: (x, y) => (scalar(x !== 0, y !== 0) ? 1 : 0),
    expr: ([x, y]) => `${x} ${js} ${y}`,
    vjp: "not-differentiable",
  });

export const and = logic("and", "&&", (x, y) => x && y);
export const or = logic("or", "||", (x, y) => x || y);

export const not = elementwise({
  name: "not",
  arity: 1,
  graph: { label: "!" },
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
  gradc: "stopGradient",
  scalar: (x) => x,
  expr: ([x]) => x!,
  vjp: (_b, _g, _args, _out, _attrs) => [null],
});
