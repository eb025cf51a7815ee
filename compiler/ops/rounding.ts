// Piecewise-constant functions (derivative 0 between their jumps) and the remainder `%`.

import { elementwise, infix, mathCall, piecewiseConstant, when } from "./pointwise.js";
import { sugar } from "./sugar.js";

export const sign = elementwise({ name: "sign", arity: 1, ...mathCall("sign"), vjp: piecewiseConstant });
export const floor = elementwise({ name: "floor", arity: 1, ...mathCall("floor"), vjp: piecewiseConstant });
export const ceil = elementwise({ name: "ceil", arity: 1, ...mathCall("ceil"), vjp: piecewiseConstant });
export const round = elementwise({ name: "round", arity: 1, ...mathCall("round"), vjp: piecewiseConstant });
export const trunc = elementwise({ name: "trunc", arity: 1, ...mathCall("trunc"), vjp: piecewiseConstant });

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
