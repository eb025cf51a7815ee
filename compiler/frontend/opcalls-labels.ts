// Calls to the ops that index with i32 tensors and work with class labels: `take`,
// `takeAlongAxis`, `oneHot`, `argmax` and `crossEntropy`. Axes, class counts and dtypes are
// read at compile time; the shape and dtype rules are the registry's (ops/gather.ts,
// ops/labels.ts), so a mistake is a diagnostic at the call.

import type { Value } from "../ir/types.js";
import { crossEntropy } from "../ops/labels.js";
import type { LV, OpCall, OpCallContext } from "./types.js";

const val = (v: Value): LV => ({ k: "val", v });

/** A whole number known at compile time, or `fallback` when the argument is left out. */
function wholeNumber(lv: LV | undefined, ctx: OpCallContext, what: string, fallback?: number): number {
  if ((lv === undefined || lv.k === "undefined") && fallback !== undefined) return fallback;
  if (lv === undefined || lv.k !== "num" || !Number.isInteger(lv.n)) throw ctx.fail(`${what} must be a whole number known at compile time`);
  return lv.n;
}

/** An op along one axis, `op(x, indices?, axis)`, the axis read at compile time. */
function alongAxis(op: string, arity: 1 | 2, defaultAxis?: number): OpCall {
  return {
    minArgs: defaultAxis === undefined ? arity + 1 : arity,
    maxArgs: arity + 1,
    lower(ctx, args) {
      const axis = wholeNumber(args[arity], ctx, "the axis", defaultAxis);
      return val(ctx.b.op(op, args.slice(0, arity).map((a) => ctx.value(a)), { axis }));
    },
  };
}

export const LABEL_OPS: Readonly<Record<string, OpCall>> = {
  take: alongAxis("gather", 2, 0),
  takeAlongAxis: alongAxis("gather_along", 2),
  argmax: alongAxis("argmax", 1),
  oneHot: {
    minArgs: 2,
    maxArgs: 3,
    lower(ctx, [labels, n, dtype]) {
      let dt: "f64" | "f32" = "f64";
      if (dtype !== undefined && dtype.k !== "undefined") {
        if (dtype.k !== "str" || (dtype.s !== "f64" && dtype.s !== "f32")) throw ctx.fail('the dtype must be "f64" or "f32", written as a string literal');
        dt = dtype.s;
      }
      return val(ctx.b.op("one_hot", [ctx.value(labels!)], { n: wholeNumber(n, ctx, "the number of classes"), dtype: dt }));
    },
  },
  crossEntropy: {
    minArgs: 2,
    maxArgs: 2,
    lower: (ctx, [logits, labels]) => val(crossEntropy(ctx.b, ctx.value(logits!), ctx.value(labels!))),
  },
};
