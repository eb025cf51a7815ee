// The tensor ops of convolutional and attention models, and the pointwise ops users call by
// name: each evaluates (or records itself on the tape) through the op registry, like ops.ts
// (runtime/index.ts exports both files whole).
// Options are checked here, in the words the compiler uses for the same mistakes at compile
// time.

import { getOp } from "../compiler/ops/index.js";
import { convPadding } from "../compiler/ops/conv.js";
import { stack as stackOf } from "../compiler/ops/structure.js";
import { shapeOf } from "../compiler/ops/values.js";
import { GradcError } from "./error.js";
import { apply, tracing, valueOf } from "./eager.js";
import { type Arg, binary, describe, guarded, operand, unary } from "./op-args.js";
import type { BinaryOp, Operand, UnaryOp } from "./ops.js";
import type { DType, Tensor } from "./tensor.js";

const call = (name: string, op: string, args: readonly unknown[], attrs?: Record<string, unknown>): unknown =>
  guarded(name, () => apply(getOp(op), args.map((a, i) => operand(name, a, i)), attrs as never));


/** A tensor of any shape of dtype D: what the ops below give when the checker cannot follow. */
export type AnyTensor<D extends DType = DType> = Tensor<number[], D>;

/**
 * Sine (the gradient is cos).
 *
 * @example
 * sin(t)
 */
export const sin: UnaryOp = unary("sin");
/**
 * Cosine (the gradient is −sin).
 *
 * @example
 * cos(t)
 */
export const cos: UnaryOp = unary("cos");
/**
 * `log(1 + x)`, accurate for x near 0.
 *
 * @example
 * log1p(p)
 */
export const log1p: UnaryOp = unary("log1p");
/**
 * `e^x − 1`, accurate for x near 0.
 *
 * @example
 * expm1(x)
 */
export const expm1: UnaryOp = unary("expm1");

/**
 * 1 where `x > y`, else 0 (a mask of the operands' dtype, with broadcasting; no gradient).
 *
 * @example
 * mul(greater(x, 0), x) // relu written by hand
 */
export const greater: BinaryOp<"greater"> = binary("greater");
/**
 * 1 where `x < y`, else 0 (a mask of the operands' dtype, with broadcasting; no gradient).
 *
 * @example
 * less(x, 0)
 */
export const less: BinaryOp<"less"> = binary("less");
/**
 * 1 where `x === y`, else 0 (a mask of the operands' dtype, with broadcasting; no gradient).
 *
 * @example
 * equal(x, y)
 */
export const equal: BinaryOp<"equal"> = binary("equal");

/**
 * `min(max(x, lo), hi)` elementwise, with broadcasting. The gradient of x is 0 outside
 * [lo, hi]; lo and hi get the gradient where they are the result.
 *
 * @example
 * clip(x, -1, 1)
 */
export function clip(x: number, lo: number, hi: number): number;
export function clip<S extends readonly number[], D extends DType = "f64">(x: Tensor<S, D>, lo: Operand, hi: Operand): Tensor<S, D>;
export function clip(x: Operand, lo: Operand, hi: Operand): Operand;
export function clip(x: unknown, lo: unknown, hi: unknown): unknown {
  return call("clip", "clip", [x, lo, hi]);
}

/**
 * `a` where `mask` is nonzero, `b` elsewhere, with broadcasting (masks come from `greater`,
 * `less`, `equal`). The gradient goes to the side each entry was taken from; the mask has none.
 *
 * @example
 * where(greater(x, 0), x, mul(x, 0.01)) // leaky relu
 */
export function where<S extends readonly number[], D extends DType = "f64">(mask: Operand, a: Tensor<S, D>, b: Operand): Tensor<S, D>;
export function where(mask: Operand, a: Operand, b: Operand): Operand;
export function where(mask: unknown, a: unknown, b: unknown): unknown {
  return call("where", "where", [mask, a, b]);
}

function axisArg(op: string, axis: unknown, rank: number): number {
  if (axis === undefined) return 0;
  if (typeof axis !== "number" || !Number.isInteger(axis)) throw new GradcError(`${op}: axis must be an integer, got ${describe(axis)}`);
  return axis;
}

function tensorsArg(op: string, xs: unknown): Arg[] {
  if (!Array.isArray(xs) || xs.length === 0) throw new GradcError(`${op}: the first argument must be a non-empty array of tensors, got ${describe(xs)}`);
  return xs.map((x, i) => operand(op, x, i));
}

/**
 * The tensors joined along `axis` (0 by default; negative counts from the end). They must have
 * one dtype and agree on every other axis.
 *
 * @example
 * concat([a, b], 1) // [2, 3] and [2, 4] → [2, 7]
 */
export function concat<D extends DType = "f64">(xs: readonly Tensor<readonly number[], D>[], axis = 0): AnyTensor<D> {
  const parts = tensorsArg("concat", xs);
  const rank = shapeOf(valueOf(parts[0]!)).length;
  const a = axisArg("concat", axis, rank);
  const ax = a < 0 ? a + rank : a;
  if (ax < 0 || ax >= rank) throw new GradcError(`concat: axis ${a} is out of range for rank ${rank}`);
  return guarded("concat", () => apply(getOp("concat"), parts, { axis: ax })) as AnyTensor<D>;
}

/**
 * The tensors (of one shape) joined along a new axis at `axis` (0 by default).
 *
 * @example
 * stack([a, b]) // two [3] → [2, 3]
 */
export function stack<D extends DType = "f64">(xs: readonly (Tensor<readonly number[], D> | number)[], axis = 0): AnyTensor<D> {
  const parts = tensorsArg("stack", xs);
  return guarded("stack", () => stackOf(tracing, parts, axisArg("stack", axis, 0))) as AnyTensor<D>;
}

/**
 * The block `start[k] ≤ i < end[k]` along each axis (`end` exclusive, negative entries count
 * from the end; axes past the lists' length are kept whole).
 *
 * @example
 * slice(x, [0, 1], [2, 3]) // [4, 5] → [2, 2]
 */
export function slice<D extends DType = "f64">(x: Tensor<readonly number[], D>, start: readonly number[], end: readonly number[]): AnyTensor<D> {
  const arg = operand("slice", x, 0);
  const shape = shapeOf(valueOf(arg));
  const list = (v: unknown, what: string): number[] => {
    if (!Array.isArray(v) || v.some((d) => typeof d !== "number" || !Number.isInteger(d)))
      throw new GradcError(`slice: ${what} must be an array of integers, got ${describe(v)}`);
    if (v.length > shape.length) throw new GradcError(`slice of [${shape.join(", ")}]: ${what} has at most one entry per axis`);
    return v as number[];
  };
  const s = list(start, "start");
  const e = list(end, "end");
  const at = (l: number[], k: number, whole: number): number => (l[k] === undefined ? whole : l[k]! < 0 ? l[k]! + shape[k]! : l[k]!);
  return guarded("slice", () => apply(getOp("slice"), [arg], { start: shape.map((_d, k) => at(s, k, 0)), end: shape.map((d, k) => at(e, k, d)) })) as AnyTensor<D>;
}

function positiveInt(op: string, v: unknown, what: string, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new GradcError(`${op}: ${what} must be a whole number of at least 1, got ${describe(v)}`);
  return v;
}

function optionsArg(op: string, opts: unknown, known: readonly string[]): Record<string, unknown> {
  if (opts === undefined) return {};
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) throw new GradcError(`${op}: the options must be an object { ${known.join(", ")} }, got ${describe(opts)}`);
  for (const key of Object.keys(opts)) if (!known.includes(key)) throw new GradcError(`${op}: '${key}' is not an option; its options are ${known.join(", ")}`);
  return opts as Record<string, unknown>;
}

/** Options of {@link conv2d}: the stride (1) and the padding of every side (0), or "same". */
export interface Conv2dOptions {
  readonly stride?: number;
  readonly padding?: number | "same";
}

/**
 * 2-D convolution (cross-correlation, as in PyTorch): x `[N, C, H, W]` by w `[O, C, KH, KW]`
 * gives `[N, O, OH, OW]`, `OH = ⌊(H + 2·padding − KH) / stride⌋ + 1`. `padding: "same"` (stride
 * 1) keeps H and W. Add a bias with `add(y, reshape(b, [1, O, 1, 1]))`.
 *
 * @example
 * const h = relu(conv2d(x, w1, { padding: 1 })); // [32, 1, 28, 28] by [8, 1, 3, 3] → [32, 8, 28, 28]
 */
export function conv2d<D extends DType = "f64">(x: Tensor<readonly number[], D>, w: Tensor<readonly number[], DType>, options?: Conv2dOptions): AnyTensor<D> {
  const opts = optionsArg("conv2d", options, ["stride", "padding"]);
  const stride = positiveInt("conv2d", opts["stride"], "stride", 1);
  const padding = opts["padding"] ?? 0;
  if (typeof padding !== "number" && typeof padding !== "string") throw new GradcError(`conv2d: padding must be a number or "same", got ${describe(padding)}`);
  const ws = shapeOf(valueOf(operand("conv2d", w, 1)));
  const pads = convPadding(padding, stride, ws[2] ?? 0, ws[3] ?? 0);
  if (typeof pads === "string") throw new GradcError(`conv2d: ${pads}`);
  return call("conv2d", "conv2d", [x, w], { stride, padding: pads }) as AnyTensor<D>;
}

/** Options of {@link maxPool2d} and {@link avgPool2d}: the window's size, and its stride (the size). */
export interface Pool2dOptions {
  readonly size: number;
  readonly stride?: number;
}

function pool(op: string, name: string, x: unknown, options: unknown): unknown {
  const opts = optionsArg(name, options, ["size", "stride"]);
  if (options === undefined) throw new GradcError(`${name}: the options { size } are required`);
  const window = positiveInt(name, opts["size"], "size");
  return call(name, op, [x], { window, stride: positiveInt(name, opts["stride"], "stride", window) });
}

/**
 * Max pooling of x `[N, C, H, W]` over `size × size` windows moved by `stride` (the size by
 * default), no padding. The gradient of each window goes to its first maximal entry.
 *
 * @example
 * maxPool2d(h, { size: 2 }) // [32, 8, 28, 28] → [32, 8, 14, 14]
 */
export function maxPool2d<D extends DType = "f64">(x: Tensor<readonly number[], D>, options: Pool2dOptions): AnyTensor<D> {
  return pool("max_pool2d", "maxPool2d", x, options) as AnyTensor<D>;
}

/**
 * Average pooling of x `[N, C, H, W]` over `size × size` windows moved by `stride` (the size
 * by default), no padding.
 *
 * @example
 * avgPool2d(h, { size: 2 }) // [32, 8, 28, 28] → [32, 8, 14, 14]
 */
export function avgPool2d<D extends DType = "f64">(x: Tensor<readonly number[], D>, options: Pool2dOptions): AnyTensor<D> {
  return pool("avg_pool2d", "avgPool2d", x, options) as AnyTensor<D>;
}
