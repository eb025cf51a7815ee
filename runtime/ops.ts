// The tensor ops users call. Each evaluates through the op registry, so the runtime and the
// compiler agree on semantics by construction. Called on values the tape is tracing (inside the
// `grad` fallback), the same functions record themselves instead, so one `add` serves both.

import { type OpDef, getOp, ShapeError } from "../compiler/ops/index.js";
import * as composite from "../compiler/ops/composite.js";
import { indexProblem } from "../compiler/ops/index-check.js";
import { reshapeTarget } from "../compiler/ops/reshape-target.js";
import type { Attrs } from "../compiler/ir/types.js";
import { type Val, shapeOf } from "../compiler/ops/values.js";
import { GradcError } from "./error.js";
import { Var, apply, tracing } from "./tape.js";
import { type DType, type Tensor, isTensor } from "./tensor.js";

/** A value a tensor op accepts: a tensor or a plain number (broadcast like a rank-0 tensor). */
export type Operand = Tensor<readonly number[], DType> | number;

// ---- types: shapes flow through where that is easy, else widen to Tensor<number[]> ----------

/** An elementwise function of one argument: preserves shape and dtype. */
export type UnaryOp = {
  (x: number): number;
  <S extends readonly number[], D extends DType = "f64">(x: Tensor<S, D>): Tensor<S, D>;
  (x: Operand): Operand;
};

/** An elementwise function of two arguments with NumPy broadcasting. */
export type BinaryOp = {
  (x: number, y: number): number;
  <S extends readonly number[], D extends DType = "f64">(x: Tensor<S, D>, y: Tensor<S, D> | number): Tensor<S, D>;
  <S extends readonly number[], D extends DType = "f64">(x: number, y: Tensor<S, D>): Tensor<S, D>;
  <D extends DType = "f64">(x: Tensor<readonly number[], D>, y: Tensor<readonly number[], D> | number): Tensor<number[], D>;
  (x: Operand, y: Operand): Operand;
};

type Zeros<N extends number, T extends 0[] = []> = T["length"] extends N ? T : Zeros<N, [...T, 0]>;
/** A literal axis made non-negative for a rank-`L` shape (`-1` → `L - 1`). */
type PositiveAxis<L extends number, A extends number> = `${A}` extends `-${infer P extends number}`
  ? Zeros<L> extends [...infer Head, ...Zeros<P>]
    ? Head["length"]
    : never
  : A;
type ReplaceAt<S extends readonly number[], I, By extends readonly number[], Acc extends number[] = []> =
  S extends readonly [infer H extends number, ...infer R extends number[]]
    ? Acc["length"] extends I
      ? [...Acc, ...By, ...R]
      : ReplaceAt<R, I, By, [...Acc, H]>
    : Acc;
/** The shape left after reducing axis `A` of `S`; `number[]` when it cannot be known statically. */
export type ReducedShape<S extends readonly number[], A extends number, K extends boolean> = number extends S["length"]
  ? number[]
  : number extends A
    ? number[]
    : boolean extends K
      ? number[]
      : ReplaceAt<S, PositiveAxis<S["length"], A>, K extends true ? [1] : []>;
/** A reduction's result: a number at rank 0, else a tensor. */
export type Reduced<S extends readonly number[], D extends DType, A extends number, K extends boolean> =
  ReducedShape<S, A, K> extends [] ? number : Tensor<ReducedShape<S, A, K>, D>;

/**
 * A reduction: with no axis, over everything to a number (`keepdims` is then ignored); over an
 * axis or several, to a tensor (a number when no axis is left).
 */
export type ReduceOp = {
  (x: Operand): number;
  <S extends readonly number[], D extends DType, const A extends number, K extends boolean = false>(
    x: Tensor<S, D>,
    axis: A,
    keepdims?: K,
  ): Reduced<S, D, A, K>;
  <D extends DType>(x: Tensor<readonly number[], D> | number, axis?: number | readonly number[], keepdims?: boolean):
    | Tensor<number[], D>
    | number;
};

// ---- implementation -------------------------------------------------------------------

type Arg = Val | Var;

function operand(op: string, x: unknown, position: number): Arg {
  if (typeof x === "number" || x instanceof Var) return x;
  if (isTensor(x)) {
    let n = 1;
    for (const d of x.shape) n *= d;
    if (n !== x.data.length)
      throw new GradcError(`${op}: argument ${position + 1} has shape [${x.shape.join(", ")}] but ${x.data.length} values`);
    return x;
  }
  throw new GradcError(`${op}: argument ${position + 1} must be a number or a tensor, got ${describe(x)}`);
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array (make it a tensor with tensor(...))";
  return typeof x === "object" ? "an object" : typeof x;
}

function unary(def: OpDef): UnaryOp {
  return ((x: unknown) => apply(def, [operand(def.name, x, 0)])) as UnaryOp;
}

function binary(def: OpDef): BinaryOp {
  return ((x: unknown, y: unknown) => apply(def, [operand(def.name, x, 0), operand(def.name, y, 1)])) as BinaryOp;
}

// With no axis a reduction always gives a number, keepdims or not (as compiled code does).
const keepOf = (axis: unknown, keepdims: boolean | undefined): boolean => axis !== undefined && keepdims === true;

function reduceAttrs(axis: number | readonly number[] | undefined, keepdims: boolean | undefined): Attrs {
  return axis === undefined ? { keepdims: false } : { axes: typeof axis === "number" ? [axis] : [...axis], keepdims: keepdims === true };
}

function reduction(def: OpDef): ReduceOp {
  return ((x: unknown, axis?: number | readonly number[], keepdims?: boolean) =>
    apply(def, [operand(def.name, x, 0)], reduceAttrs(axis, keepdims))) as ReduceOp;
}

/** Runs a composite, reporting a shape problem as a GradcError like the primitives do. */
function guarded<T>(name: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof ShapeError) throw new GradcError(`${name}: ${e.message}`);
    throw e;
  }
}

/**
 * `x + y` elementwise, with broadcasting.
 *
 * @example
 * add(ones([2, 3]), 1)
 */
export const add: BinaryOp = binary(getOp("add"));
/**
 * `x - y` elementwise, with broadcasting.
 *
 * @example
 * sub(1, y)
 */
export const sub: BinaryOp = binary(getOp("sub"));
/**
 * `x * y` elementwise, with broadcasting.
 *
 * @example
 * mul(x, x)
 */
export const mul: BinaryOp = binary(getOp("mul"));
/**
 * `x / y` elementwise, with broadcasting.
 *
 * @example
 * div(x, sum(x))
 */
export const div: BinaryOp = binary(getOp("div"));
/**
 * `x ** y` elementwise, with broadcasting.
 *
 * @example
 * pow(x, 3)
 */
export const pow: BinaryOp = binary(getOp("pow"));
/**
 * Elementwise maximum; the gradient goes to the larger input, ties to the first.
 *
 * @example
 * maximum(x, 0)
 */
export const maximum: BinaryOp = binary(getOp("maximum"));
/**
 * Elementwise minimum; the gradient goes to the smaller input, ties to the first.
 *
 * @example
 * minimum(x, 1)
 */
export const minimum: BinaryOp = binary(getOp("minimum"));

/**
 * `-x`.
 *
 * @example
 * neg(x)
 */
export const neg: UnaryOp = unary(getOp("neg"));
/**
 * `e^x`.
 *
 * @example
 * exp(x)
 */
export const exp: UnaryOp = unary(getOp("exp"));
/**
 * Natural logarithm.
 *
 * @example
 * log(p)
 */
export const log: UnaryOp = unary(getOp("log"));
/**
 * Square root.
 *
 * @example
 * sqrt(v)
 */
export const sqrt: UnaryOp = unary(getOp("sqrt"));
/**
 * `x * x`.
 *
 * @example
 * sum(square(sub(yHat, y)))
 */
export const square: UnaryOp = unary(getOp("square"));
/**
 * Hyperbolic tangent.
 *
 * @example
 * tanh(h)
 */
export const tanh: UnaryOp = unary(getOp("tanh"));
/**
 * Logistic sigmoid `1 / (1 + e^-x)`.
 *
 * @example
 * sigmoid(matmul(x, w))
 */
export const sigmoid: UnaryOp = unary(getOp("sigmoid"));
/**
 * `max(x, 0)`; the gradient at 0 is 0.
 *
 * @example
 * relu(h)
 */
export const relu: UnaryOp = unary(getOp("relu"));
/**
 * Absolute value; the gradient at 0 is 0.
 *
 * @example
 * sum(abs(x))
 */
export const abs: UnaryOp = unary(getOp("abs"));
/**
 * The identity whose gradient is zero: what flows through it is treated as a constant by
 * `grad`, `valueAndGrad` and `jvp` (compiled and on the tape).
 *
 * @example
 * mul(x, stopGradient(x)) // gradient x, not 2x
 */
export const stopGradient: UnaryOp = unary(getOp("stop_gradient"));

/**
 * Sum over `axis` (one or several; negative counts from the end), or of everything to a
 * number when no axis is given. `keepdims` keeps reduced axes as size 1 (with an axis).
 *
 * @example
 * sum(x)          // number
 * sum(x, 1, true) // [B, C] → [B, 1]
 */
export const sum: ReduceOp = reduction(getOp("sum"));

/**
 * Maximum over `axis`, or of everything to a number. The gradient goes to the first maximal
 * entry of each reduced slice.
 *
 * @example
 * max(logits, -1) // [B, C] → [B]
 */
export const max: ReduceOp = reduction(getOp("max"));

/**
 * Mean over `axis`, or of everything to a number.
 *
 * @example
 * mean(square(sub(yHat, y))) // mean squared error
 */
export const mean: ReduceOp = ((x: unknown, axis?: number | readonly number[], keepdims?: boolean) =>
  guarded("mean", () => composite.mean(tracing, operand("mean", x, 0), axis, keepOf(axis, keepdims)))) as ReduceOp;

/**
 * `log(sum(exp(x)))` over `axis`, or of everything to a number, computed stably (logits of
 * ±1000 stay finite).
 *
 * @example
 * const nll = sub(logSumExp(logits, 1), picked);
 */
export const logSumExp: ReduceOp = ((x: unknown, axis?: number | readonly number[], keepdims?: boolean) =>
  guarded("logSumExp", () => composite.logSumExp(tracing, operand("logSumExp", x, 0), axis, keepOf(axis, keepdims)))) as ReduceOp;

/**
 * Softmax along `axis` (the last by default), computed stably.
 *
 * @example
 * const p = softmax(logits); // rows sum to 1
 */
export function softmax<S extends readonly number[], D extends DType = "f64">(x: Tensor<S, D>, axis = -1): Tensor<S, D> {
  return guarded("softmax", () => composite.softmax(tracing, operand("softmax", x, 0), axis)) as unknown as Tensor<S, D>;
}

/** True for a 2-D shape whose sizes are all known to the checker (literal or type parameter). */
type Static2D<S extends readonly number[]> = S extends readonly [number, number]
  ? number extends S[0] ? false : number extends S[1] ? false : true
  : false;

const MATMUL = getOp("matmul");
const TRANSPOSE = getOp("transpose");
const RESHAPE = getOp("reshape");
const TAKE = getOp("take");

/**
 * Matrix product of 2-D tensors: `[M, K] · [K, N] → [M, N]`.
 *
 * @example
 * const h = matmul(x, w1); // Tensor<[64, 128]>
 */
export function matmul<M extends number, K extends number, N extends number, D extends DType = "f64">(
  a: Tensor<[M, K], D>,
  b: Tensor<[NoInfer<K>, N], D>,
): Tensor<[M, N], D>;
export function matmul<A extends readonly number[], B extends readonly number[], D extends DType = "f64">(
  a: Tensor<A, D>,
  b: Tensor<B, D> & ([Static2D<A>, Static2D<B>] extends [true, true] ? never : unknown),
): Tensor<number[], D>;
export function matmul(a: unknown, b: unknown): unknown {
  return apply(MATMUL, [operand("matmul", a, 0), operand("matmul", b, 1)]);
}

/**
 * Transpose of a 2-D tensor.
 *
 * @example
 * transpose(w) // [3, 4] → [4, 3]
 */
export function transpose<A extends number, B extends number, D extends DType = "f64">(x: Tensor<[A, B], D>): Tensor<[B, A], D>;
export function transpose<D extends DType = "f64">(x: Tensor<readonly number[], D>): Tensor<number[], D>;
export function transpose(x: unknown): unknown {
  return apply(TRANSPOSE, [operand("transpose", x, 0)]);
}

/**
 * The same values, row-major, in a new shape of the same size. Reshaping to `[]` gives a number.
 * One dimension may be -1: it is inferred from the size (`reshape(x, [-1, 2])`).
 *
 * @example
 * reshape(b, [1, 16]) // [16] → [1, 16]
 */
export function reshape<const S extends readonly number[], D extends DType = "f64">(
  x: Tensor<readonly number[], D> | number,
  shape: S,
): S extends readonly [] ? number : Tensor<{ -readonly [K in keyof S]: S[K] }, D>;
export function reshape(x: unknown, shape: readonly number[]): unknown {
  const arg = operand("reshape", x, 0);
  const from = shapeOf(arg instanceof Var ? arg.value : arg);
  // One dimension may be -1, inferred from the size (as in NumPy).
  return guarded("reshape", () => apply(RESHAPE, [arg], { shape: reshapeTarget(from, shape) }));
}

/**
 * Slice `i` of `x` along its leading axis: the per-step input of a loop. Slicing a vector gives
 * a number. The index must be an integer in range.
 *
 * @example
 * for (let t = 0; t < 1000; t++) loss = loss + (theta - at(target, t)) ** 2;
 */
export function at<R extends readonly number[], D extends DType = "f64">(
  x: Tensor<readonly [number, ...R], D>,
  i: number,
): R extends readonly [] ? number : Tensor<R, D>;
export function at(x: unknown, i: unknown): unknown {
  const xs = operand("at", x, 0);
  const index = operand("at", i, 1);
  // Checked here, in the words the compiler uses for an index it knows at compile time.
  const n = shapeOf(xs instanceof Var ? xs.value : xs)[0];
  const k = index instanceof Var ? index.value : index;
  const problem = n !== undefined && typeof k === "number" ? indexProblem(k, n) : undefined;
  if (problem !== undefined) throw new GradcError(`at: ${problem}`);
  return guarded("at", () => apply(TAKE, [xs, index]));
}
