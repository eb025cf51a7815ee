// More pointwise primitives users call by name: clip, the masks (comparisons giving 1/0 of
// their operands' dtype, no gradient: piecewise constant; unlike compare.ts's booleans, which
// the JavaScript operators build) and `where(mask, a, b)`, which routes the gradient to the side each entry was taken from.

import { elementwise, when } from "./pointwise.js";
import { sugar } from "./sugar.js";

/**
 * `clip(x, lo, hi)` = min(max(x, lo), hi), as NumPy and JAX define it: x gets the gradient
 * inside [lo, hi] (ends included, the max gate's ties going to its first argument), lo where
 * x is below it, hi where the result is hi's; 0 to x outside the range.
 */
export const clip = elementwise({
  name: "clip",
  gradc: "clip",
  arity: 3,
  scalar: (x, lo, hi) => Math.min(Math.max(x, lo), hi),
  expr: ([x, lo, hi]) => `Math.min(Math.max(${x}, ${lo}), ${hi})`,
  callForm: true,
  vjp: (b, g, [x, lo, hi], _out, _attrs, needs) => {
    const s = sugar(b);
    const zero = s.c(0, g);
    const first = s.ge(x!, lo!);
    const second = s.le(b.op("maximum", [x!, lo!]), hi!);
    return [
      when(needs[0], () => s.select(b.op("and", [first, second]), g, zero)),
      when(needs[1], () => s.select(b.op("and", [b.op("not", [first]), second]), g, zero)),
      when(needs[2], () => s.select(second, zero, g)),
    ];
  },
});

/** `where(mask, a, b)`: a where the mask is nonzero (or true), b elsewhere; the mask has no gradient. */
export const where = elementwise({
  name: "where",
  gradc: "where",
  arity: 3,
  dtype: "where",
  scalar: (c, x, y) => (c ? x : y),
  expr: ([c, x, y]) => `${c} ? ${x} : ${y}`,
  vjp: (b, g, [c], _out, _attrs, needs) => {
    const zero = b.constant(0, g);
    return [null, when(needs[1], () => b.op("where", [c!, g, zero])), when(needs[2], () => b.op("where", [c!, zero, g]))];
  },
});

/** A comparison giving a 1/0 mask of its operands' dtype; zero gradient (piecewise constant). */
const mask = (name: string, js: string, test: (x: number, y: number) => boolean) =>
  elementwise({
    name,
    gradc: name,
    arity: 2,
    scalar: (x, y) => (test(x, y) ? 1 : 0),
    expr: ([x, y]) => `(${x} ${js} ${y} ? 1 : 0)`,
    vjp: () => [null, null],
  });

export const greater = mask("greater", ">", (x, y) => x > y);
export const less = mask("less", "<", (x, y) => x < y);
export const equal = mask("equal", "===", (x, y) => x === y);
