// Comparisons and logic: their results are booleans, which carry no gradient.

import type { ElementwiseOp } from "./registry.js";
import { elementwise } from "./pointwise.js";

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
