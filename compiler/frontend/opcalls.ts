// How calls to gradc ops and Math functions lower to IR: argument counts, compile-time folding
// of constant arguments, and the primitive or composite each call builds.

import type { Dim, Value } from "../ir/types.js";
import { composites } from "../ops/composite.js";
import { MATH_CONSTANTS, getOp, gradcOpNames, gradcOps, mathOps } from "../ops/index.js";
import { reshapeTarget } from "../ops/reshape-target.js";
import type { LV, OpCall, OpCallContext } from "./types.js";
import { MODEL_OPS } from "./opcalls-models.js";
import { LABEL_OPS } from "./opcalls-labels.js";

export type { OpCall, OpCallContext } from "./types.js";

const val = (v: Value): LV => ({ k: "val", v });

/** A primitive applied to all arguments; compile-time numbers fold through its scalar rule. */
function primitive(op: string, arity: number): OpCall {
  return {
    minArgs: arity,
    maxArgs: arity,
    lower(ctx, args) {
      const def = getOp(op);
      if (def.kind === "elementwise" && args.every((a) => a.k === "num"))
        return { k: "num", n: def.scalar(...args.map((a) => (a as { n: number }).n)) };
      return val(ctx.b.op(op, args.map((a) => ctx.value(a))));
    },
  };
}

/** Math.max/min: variadic, folded left, ties to the first argument. */
function variadic(op: string, mathName: string): OpCall {
  return {
    numbersOnly: true,
    minArgs: 1,
    maxArgs: Infinity,
    lower(ctx, args) {
      const folded = ctx.fold(mathName, args);
      if (folded) return folded;
      return val(args.map((a) => ctx.value(a)).reduce((acc, x) => ctx.b.op(op, [acc, x])));
    },
  };
}

/** A Math function of a fixed number of arguments: folded when all are compile-time numbers. */
function mathFixed(op: string, mathName: string, arity: number): OpCall {
  return {
    numbersOnly: true,
    minArgs: arity,
    maxArgs: arity,
    lower: (ctx, args) => ctx.fold(mathName, args) ?? val(ctx.b.op(op, args.map((a) => ctx.value(a)))),
  };
}

/** `Math.<name>` → its lowering, one per registry entry exposed in Math (ops/exposure.ts). */
export const MATH_FUNCTIONS: Readonly<Record<string, OpCall>> = Object.fromEntries(
  [...mathOps()].map(([name, def]) => [name, def.variadic ? variadic(def.name, name) : mathFixed(def.name, name, def.arity)]),
);

export { MATH_CONSTANTS };

// ---- gradc tensor ops ---------------------------------------------------------------------

function constNumber(lv: LV | undefined, ctx: OpCallContext, what: string): number | undefined {
  if (lv === undefined || lv.k === "undefined") return undefined;
  if (lv.k !== "num") throw ctx.fail(`${what} must be a number known at compile time`);
  return lv.n;
}

function constBool(lv: LV | undefined, ctx: OpCallContext, what: string): boolean {
  if (lv === undefined || lv.k === "undefined") return false;
  if (lv.k !== "bool") throw ctx.fail(`${what} must be true or false, known at compile time`);
  return lv.b;
}

/** An axis argument: one number, an array of numbers, or absent (all axes). */
function axesArg(lv: LV | undefined, ctx: OpCallContext): number | number[] | undefined {
  if (lv === undefined || lv.k === "undefined") return undefined;
  if (lv.k === "num") return lv.n;
  if (lv.k === "arr") return lv.items.map((i) => constNumber(i, ctx, "an axis")!);
  throw ctx.fail("axis must be a number or an array of numbers known at compile time");
}

function allAxes(v: Value, axes: number | number[] | undefined): number[] | undefined {
  if (axes === undefined) return undefined;
  const list = typeof axes === "number" ? [axes] : axes;
  return list.map((a) => (a < 0 ? a + v.type.shape.length : a));
}

function reduction(kind: "sum" | "max"): OpCall {
  return {
    minArgs: 1,
    maxArgs: 3,
    lower(ctx, [x, axis, keep]) {
      const v = ctx.value(x!);
      const axes = allAxes(v, axesArg(axis, ctx));
      const keepdims = axes === undefined ? false : constBool(keep, ctx, "keepdims");
      return val(ctx.b.op(kind, [v], axes === undefined ? { keepdims } : { axes, keepdims }));
    },
  };
}

function shapeArg(lv: LV, ctx: OpCallContext): Dim[] {
  if (lv.k !== "arr") throw ctx.fail("the shape must be an array literal");
  return lv.items.map((d) => {
    if (d.k === "num") return d.n;
    // `x.shape[0]` of a symbolic dimension lowers to a `dim` node; its name is the dimension.
    if (d.k === "val") {
      const def = ctx.b.defOf(d.v);
      if (def?.op === "dim") return String(def.attrs["name"]);
    }
    throw ctx.fail("each dimension must be a number or a symbolic dimension");
  });
}

/** An index the compiler can evaluate (see index-bounds.ts) must be in range. */
function checkKnownIndex(ctx: OpCallContext, i: Value, n: Dim): void {
  const problem = ctx.indexProblem(i, n);
  if (problem !== undefined) throw ctx.failIndex(`at: ${problem}`);
}

/** `zeros(shape, dtype?)`, `ones(shape, dtype?)`: a constant tensor of a static or symbolic shape. */
function filled(value: number): OpCall {
  return {
    minArgs: 1,
    maxArgs: 2,
    lower(ctx, [shape, dtype]) {
      const dims = shapeArg(shape!, ctx);
      if (dims.length === 0) throw ctx.fail("a tensor has at least one dimension (rank-0 values are plain numbers)");
      if (dims.some((d) => typeof d === "number" && !(Number.isInteger(d) && d >= 0)))
        throw ctx.fail(`[${dims.join(", ")}] is not a shape: sizes are whole numbers`);
      let dt: "f64" | "f32" = "f64";
      if (dtype !== undefined && dtype.k !== "undefined") {
        if (dtype.k !== "str" || (dtype.s !== "f64" && dtype.s !== "f32")) throw ctx.fail('the dtype must be "f64" or "f32", written as a string literal');
        dt = dtype.s;
      }
      return val(ctx.b.op("broadcast_to", [ctx.b.op("const", [], { value, dtype: dt })], { shape: dims }));
    },
  };
}

/**
 * gradc functions whose lowering is more than the primitive applied to its arguments: attributes
 * read from compile-time arguments, composites, constructors. Every other op exposed in gradc
 * lowers as `primitive`.
 */
const SPECIAL: Readonly<Record<string, OpCall>> = {
  at: {
    minArgs: 2,
    maxArgs: 2,
    lower(ctx, [x, i]) {
      const xv = ctx.value(x!);
      const iv = ctx.value(i!);
      if (xv.type.shape.length === 0) throw ctx.fail("at(x, i) reads a slice of a tensor, but x is a number");
      checkKnownIndex(ctx, iv, xv.type.shape[0]!);
      return val(ctx.b.op("take", [xv, iv]));
    },
  },
  reshape: {
    minArgs: 2,
    maxArgs: 2,
    lower(ctx, [x, shape]) {
      const v = ctx.value(x!);
      return val(ctx.b.op("reshape", [v], { shape: reshapeTarget(v.type.shape, shapeArg(shape!, ctx)) }));
    },
  },
  zeros: filled(0),
  ones: filled(1),
  sum: reduction("sum"),
  max: reduction("max"),
  mean: {
    minArgs: 1,
    maxArgs: 3,
    lower(ctx, [x, axis, keep]) {
      const v = ctx.value(x!);
      const axes = axesArg(axis, ctx);
      return val(composites.mean(ctx.b, v, axes, axes === undefined ? false : constBool(keep, ctx, "keepdims")));
    },
  },
  logSumExp: {
    minArgs: 1,
    maxArgs: 3,
    lower(ctx, [x, axis, keep]) {
      const v = ctx.value(x!);
      const axes = axesArg(axis, ctx);
      return val(composites.logSumExp(ctx.b, v, axes, axes === undefined ? false : constBool(keep, ctx, "keepdims")));
    },
  },
  softmax: {
    minArgs: 1,
    maxArgs: 2,
    lower: (ctx, [x, axis]) => val(composites.softmax(ctx.b, ctx.value(x!), constNumber(axis, ctx, "axis") ?? -1)),
  },
  ...MODEL_OPS,
  ...LABEL_OPS,
};

/** gradc function name → its lowering: every op and composite gradc exports, and zeros/ones. */
export const GRADC_OPS: Readonly<Record<string, OpCall>> = {
  ...Object.fromEntries([...gradcOps()].map(([name, def]) => [name, primitive(def.name, def.arity)])),
  ...SPECIAL,
};

for (const name of [...gradcOpNames(), "zeros", "ones"])
  if (!Object.hasOwn(GRADC_OPS, name)) throw new Error(`gradc exports ${name}, but the frontend has no lowering for it`);
for (const name of Object.keys(SPECIAL))
  if (!gradcOpNames().includes(name) && name !== "zeros" && name !== "ones") throw new Error(`${name} is lowered but gradc exports no such op`);
