// How calls to the ops of convolutional and attention models that read more than tensors lower
// to IR: structure (any-rank transpose, concat and stack of a list, slice), convolution and
// pooling with their options. Options and axes must be known at compile time; the op's shape
// rule then checks the call where it is written. (Their pointwise ops, sin … where, lower as
// any registry primitive does.)

import type { Dim, Value } from "../ir/types.js";
import { ShapeError } from "../ops/index.js";
import { stack } from "../ops/structure.js";
import { convPadding } from "../ops/conv.js";
import type { LV, OpCall, OpCallContext } from "./types.js";

const val = (v: Value): LV => ({ k: "val", v });

const given = (lv: LV | undefined): lv is LV => lv !== undefined && lv.k !== "undefined";

function constInt(lv: LV, ctx: OpCallContext, what: string): number {
  if (lv.k !== "num" || !Number.isInteger(lv.n)) throw ctx.fail(`${what} must be an integer known at compile time`);
  return lv.n;
}

function intList(lv: LV, ctx: OpCallContext, what: string): number[] {
  if (lv.k !== "arr") throw ctx.fail(`${what} must be an array literal of integers`);
  return lv.items.map((i) => constInt(i, ctx, `each entry of ${what}`));
}

/** The tensors of an array literal argument (`concat([a, b], 1)`). */
function tensorList(lv: LV | undefined, ctx: OpCallContext, op: string): Value[] {
  if (lv === undefined || lv.k !== "arr") throw ctx.fail(`${op} takes an array literal of tensors, [a, b, …]`);
  if (lv.items.length === 0) throw ctx.fail(`${op} needs at least one tensor`);
  return lv.items.map((i) => ctx.value(i));
}

/** An axis counted from the end when negative, checked against `rank`. */
function axisOf(lv: LV | undefined, rank: number, ctx: OpCallContext, op: string): number {
  const a = given(lv) ? constInt(lv, ctx, "the axis") : 0;
  const ax = a < 0 ? a + rank : a;
  if (ax < 0 || ax >= rank) throw new ShapeError(`${op}: axis ${a} is out of range for rank ${rank}`, "axis");
  return ax;
}

/** The fields of an options argument, refusing unknown ones. */
function options(lv: LV | undefined, ctx: OpCallContext, op: string, known: readonly string[]): ReadonlyMap<string, LV> {
  if (!given(lv)) return new Map();
  if (lv.k !== "obj") throw ctx.fail(`the options of ${op} must be an object literal { ${known.join(", ")} }`);
  for (const key of lv.fields.keys()) if (!known.includes(key)) throw ctx.fail(`'${key}' is not an option of ${op}; its options are ${known.join(", ")}`);
  return lv.fields;
}

function positive(lv: LV | undefined, fallback: number | undefined, ctx: OpCallContext, what: string): number {
  if (!given(lv)) {
    if (fallback === undefined) throw ctx.fail(`${what} is required`);
    return fallback;
  }
  const n = constInt(lv, ctx, what);
  if (n < 1) throw ctx.fail(`${what} must be at least 1, got ${n}`);
  return n;
}

function pool(op: string, label: string): OpCall {
  return {
    minArgs: 2,
    maxArgs: 2,
    lower(ctx, [x, opts]) {
      const fields = options(opts, ctx, label, ["size", "stride"]);
      if (!given(opts)) throw ctx.fail(`${label} needs its window: ${label}(x, { size })`);
      const window = positive(fields.get("size"), undefined, ctx, `the size of ${label}`);
      const stride = positive(fields.get("stride"), window, ctx, `the stride of ${label}`);
      return val(ctx.b.op(op, [ctx.value(x!)], { window, stride }));
    },
  };
}

/** Lowerings of the model ops that read lists, axes or options (opcalls.ts merges them in). */
export const MODEL_OPS: Readonly<Record<string, OpCall>> = {
  transpose: {
    minArgs: 1,
    maxArgs: 2,
    lower(ctx, [x, perm]) {
      const v = ctx.value(x!);
      if (!given(perm)) return val(ctx.b.op("transpose", [v]));
      const rank = v.type.shape.length;
      return val(ctx.b.op("transpose", [v], { perm: intList(perm, ctx, "the permutation").map((a) => (a < 0 ? a + rank : a)) }));
    },
  },
  concat: {
    minArgs: 1,
    maxArgs: 2,
    lower(ctx, [xs, axis]) {
      const parts = tensorList(xs, ctx, "concat");
      return val(ctx.b.op("concat", parts, { axis: axisOf(axis, parts[0]!.type.shape.length, ctx, "concat") }));
    },
  },
  stack: {
    minArgs: 1,
    maxArgs: 2,
    lower(ctx, [xs, axis]) {
      const parts = tensorList(xs, ctx, "stack");
      return val(stack(ctx.b, parts, given(axis) ? constInt(axis, ctx, "the axis") : 0));
    },
  },
  slice: {
    minArgs: 3,
    maxArgs: 3,
    lower(ctx, [x, start, end]) {
      const v = ctx.value(x!);
      const shape = v.type.shape;
      const starts = intList(start!, ctx, "start");
      const ends = intList(end!, ctx, "end");
      if (starts.length > shape.length || ends.length > shape.length)
        throw new ShapeError(`slice of [${shape.join(", ")}]: start and end have at most one entry per axis`, "fit");
      // Axes not listed are kept whole; negative entries count from the end.
      const at = (list: number[], k: number, whole: Dim): Dim => {
        const e = list[k];
        if (e === undefined) return whole;
        return e < 0 && typeof shape[k] === "number" ? e + (shape[k] as number) : e;
      };
      return val(ctx.b.op("slice", [v], { start: shape.map((_d, k) => at(starts, k, 0)), end: shape.map((d, k) => at(ends, k, d)) }));
    },
  },
  conv2d: {
    minArgs: 2,
    maxArgs: 3,
    lower(ctx, [x, w, opts]) {
      const fields = options(opts, ctx, "conv2d", ["stride", "padding"]);
      const stride = positive(fields.get("stride"), 1, ctx, "the stride of conv2d");
      const p = fields.get("padding");
      let padding: number | string = 0;
      if (given(p)) {
        if (p.k === "num") padding = p.n;
        else if (p.k === "str") padding = p.s;
        else throw ctx.fail('padding must be a number or "same", known at compile time');
      }
      const wv = ctx.value(w!);
      const pads = convPadding(padding, stride, wv.type.shape[2]!, wv.type.shape[3]!);
      if (typeof pads === "string") throw ctx.fail(`conv2d: ${pads}`);
      return val(ctx.b.op("conv2d", [ctx.value(x!), wv], { stride, padding: pads }));
    },
  },
  maxPool2d: pool("max_pool2d", "maxPool2d"),
  avgPool2d: pool("avg_pool2d", "avgPool2d"),
};
