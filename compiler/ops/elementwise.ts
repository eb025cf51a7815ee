// Pointwise arithmetic and transcendental functions, `select` and `stop_gradient` (how an entry
// is defined: pointwise.ts).

import { elementwise, infix, mathCall, when } from "./pointwise.js";
import { sugar } from "./sugar.js";

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
  gradc: "log1p",
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
  gradc: "expm1",
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
  gradc: "sin",
  ...mathCall("sin"),
  vjp: (b, g, [x]) => {
    const s = sugar(b);
    return [s.mul(g, s.cos(x!))];
  },
});

export const cos = elementwise({
  name: "cos",
  arity: 1,
  gradc: "cos",
  ...mathCall("cos"),
  vjp: (b, g, [x]) => {
    const s = sugar(b);
    return [s.neg(s.mul(g, s.sin(x!)))];
  },
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
