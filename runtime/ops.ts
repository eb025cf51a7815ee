// The tensor ops users call. Each evaluates through the op registry, so the runtime and the
// compiler agree on semantics by construction. Called on values the tape is tracing (inside the
// `grad` fallback), the same functions record themselves instead, so one `add` serves both.

import * as composite from "../compiler/ops/composite.js";
import { indexProblem } from "../compiler/ops/index-check.js";
import { reshapeTarget } from "../compiler/ops/reshape-target.js";
import type { Attrs } from "../compiler/ir/types.js";
import { shapeOf } from "../compiler/ops/values.js";
import { GradcError } from "./error.js";
import { coded } from "./codes.js";
import { apply, tracing, valueOf } from "./eager.js";
import { binary, describe, exported, guarded, operand, unary } from "./op-args.js";
import type { DType, Tensor } from "./tensor.js";
import type { BroadcastShape, Check, MatmulShape, Mutable, PermutedShape, PromoteDType, Reduced, ReducedShape, TensorOf, TransposeShape } from "./shapes.js";

/** A value a tensor op accepts: a tensor or a plain number (broadcast like a rank-0 tensor). */
export type Operand = Tensor<readonly number[], DType> | number;

// ---- types: result shapes computed by runtime/shapes.ts --------------------------------

/** An elementwise function of one argument: preserves shape and dtype. */
export type UnaryOp = {
  (x: number): number;
  <S extends readonly number[], D extends DType = "f64">(x: Tensor<S, D>): Tensor<S, D>;
  (x: Operand): Operand;
};

// Operands are wrapped in an object before they are tested: that keeps a union (`Operand`) whole,
// and an object holding a named dimension (`Tensor<[B, 4]>`) still resolves.
interface Wrap<X> {
  v: X;
}
/** The shape of an operand (a number is rank 0), `number[]` when it may be either. */
type ShapeOfOperand<X> = Wrap<X> extends Wrap<number> ? [] : Wrap<X> extends Wrap<Tensor<infer S, DType>> ? S : number[];
/** The dtype of an operand (a number takes the other's), `null` when it may be either. */
type DTypeOfOperand<X> = Wrap<X> extends Wrap<number> ? "f64" : Wrap<X> extends Wrap<Tensor<infer _S, infer D>> ? D : null;

/** The broadcast shape of two operands for op `Op` (named in its ShapeError). */
export type BinaryShape<X, Y, Op extends string> = BroadcastShape<ShapeOfOperand<X>, ShapeOfOperand<Y>, Op>;

/**
 * The result of a binary op: a number for two numbers, else a tensor of the broadcast shape
 * whose dtype is f32 when either operand is; `Operand` when an argument may be either.
 */
export type BinaryResult<X, Y, Op extends string> =
  DTypeOfOperand<X> extends infer DX extends DType
    ? DTypeOfOperand<Y> extends infer DY extends DType
      ? BinaryShape<X, Y, Op> extends infer R
        ? R extends readonly []
          ? number
          : TensorOf<R, PromoteDType<DX, DY>>
        : never
      : Operand
    : Operand;

/**
 * An elementwise function of two arguments with NumPy broadcasting. `Op` names the function
 * in the ShapeError of operands whose shapes do not broadcast.
 *
 * @example
 * const h = add(matmul(x, w), b); // [B, 16] with [16] → Tensor<[B, 16]>
 */
export type BinaryOp<Op extends string = string> = <X extends Operand, Y extends Operand>(
  x: X,
  y: Y & NoInfer<Check<BinaryShape<X, Y, Op>>>,
) => BinaryResult<X, Y, Op>;

/**
 * A reduction: with no axis, over everything to a number (`keepdims` is then ignored); over an
 * axis or several, to a tensor (a number when no axis is left).
 */
export type ReduceOp<Op extends string = string> = {
  (x: Operand, axis?: undefined, keepdims?: boolean): number;
  <S extends readonly number[], D extends DType, const A extends number | readonly number[], K extends boolean = false>(
    x: Tensor<S, D>,
    axis: A & NoInfer<Check<ReducedShape<S, A, K, Op>>>,
    keepdims?: K,
  ): Reduced<S, D, A, K, Op>;
};

// ---- implementation -------------------------------------------------------------------

// With no axis a reduction always gives a number, keepdims or not (as compiled code does).
const keepOf = (axis: unknown, keepdims: boolean | undefined): boolean => axis !== undefined && keepdims === true;

function reduceAttrs(axis: number | readonly number[] | undefined, keepdims: boolean | undefined): Attrs {
  return axis === undefined ? { keepdims: false } : { axes: typeof axis === "number" ? [axis] : [...axis], keepdims: keepdims === true };
}

function reduction<Op extends string>(name: Op): ReduceOp<Op> {
  const def = exported(name);
  return ((x: unknown, axis?: number | readonly number[], keepdims?: boolean) =>
    apply(def, [operand(def.name, x, 0)], reduceAttrs(axis, keepdims))) as ReduceOp<Op>;
}

/**
 * `x + y` elementwise, with broadcasting.
 *
 * @example
 * add(ones([2, 3]), 1)
 */
export const add: BinaryOp<"add"> = binary("add");
/**
 * `x - y` elementwise, with broadcasting.
 *
 * @example
 * sub(1, y)
 */
export const sub: BinaryOp<"sub"> = binary("sub");
/**
 * `x * y` elementwise, with broadcasting.
 *
 * @example
 * mul(x, x)
 */
export const mul: BinaryOp<"mul"> = binary("mul");
/**
 * `x / y` elementwise, with broadcasting.
 *
 * @example
 * div(x, sum(x))
 */
export const div: BinaryOp<"div"> = binary("div");
/**
 * `x ** y` elementwise, with broadcasting.
 *
 * @example
 * pow(x, 3)
 */
export const pow: BinaryOp<"pow"> = binary("pow");
/**
 * Elementwise maximum; the gradient goes to the larger input, ties to the first.
 *
 * @example
 * maximum(x, 0)
 */
export const maximum: BinaryOp<"maximum"> = binary("maximum");
/**
 * Elementwise minimum; the gradient goes to the smaller input, ties to the first.
 *
 * @example
 * minimum(x, 1)
 */
export const minimum: BinaryOp<"minimum"> = binary("minimum");

/**
 * `-x`.
 *
 * @example
 * neg(x)
 */
export const neg: UnaryOp = unary("neg");
/**
 * `e^x`.
 *
 * @example
 * exp(x)
 */
export const exp: UnaryOp = unary("exp");
/**
 * Natural logarithm.
 *
 * @example
 * log(p)
 */
export const log: UnaryOp = unary("log");
/**
 * Square root.
 *
 * @example
 * sqrt(v)
 */
export const sqrt: UnaryOp = unary("sqrt");
/**
 * `x * x`.
 *
 * @example
 * sum(square(sub(yHat, y)))
 */
export const square: UnaryOp = unary("square");
/**
 * Hyperbolic tangent.
 *
 * @example
 * tanh(h)
 */
export const tanh: UnaryOp = unary("tanh");
/**
 * Logistic sigmoid `1 / (1 + e^-x)`.
 *
 * @example
 * sigmoid(matmul(x, w))
 */
export const sigmoid: UnaryOp = unary("sigmoid");
/**
 * `max(x, 0)`; the gradient at 0 is 0.
 *
 * @example
 * relu(h)
 */
export const relu: UnaryOp = unary("relu");
/**
 * Absolute value; the gradient at 0 is 0.
 *
 * @example
 * sum(abs(x))
 */
export const abs: UnaryOp = unary("abs");
/**
 * The identity whose gradient is zero: what flows through it is treated as a constant by
 * `grad`, `valueAndGrad` and `jvp` (compiled and on the tape).
 *
 * @example
 * mul(x, stopGradient(x)) // gradient x, not 2x
 */
export const stopGradient: UnaryOp = unary("stopGradient");

/**
 * Sum over `axis` (one or several; negative counts from the end), or of everything to a
 * number when no axis is given. `keepdims` keeps reduced axes as size 1 (with an axis).
 *
 * @example
 * sum(x)          // number
 * sum(x, 1, true) // [B, C] → [B, 1]
 */
export const sum: ReduceOp<"sum"> = reduction("sum");

/**
 * Maximum over `axis`, or of everything to a number. The gradient goes to the first maximal
 * entry of each reduced slice.
 *
 * @example
 * max(logits, -1) // [B, C] → [B]
 */
export const max: ReduceOp<"max"> = reduction("max");

/**
 * Mean over `axis`, or of everything to a number.
 *
 * @example
 * mean(square(sub(yHat, y))) // mean squared error
 */
export const mean: ReduceOp<"mean"> = ((x: unknown, axis?: number | readonly number[], keepdims?: boolean) =>
  guarded("mean", () => composite.mean(tracing, operand("mean", x, 0), axis, keepOf(axis, keepdims)))) as ReduceOp<"mean">;

/**
 * `log(sum(exp(x)))` over `axis`, or of everything to a number, computed stably (logits of
 * ±1000 stay finite).
 *
 * @example
 * const nll = sub(logSumExp(logits, 1), picked);
 */
export const logSumExp: ReduceOp<"logSumExp"> = ((x: unknown, axis?: number | readonly number[], keepdims?: boolean) =>
  guarded("logSumExp", () => composite.logSumExp(tracing, operand("logSumExp", x, 0), axis, keepOf(axis, keepdims)))) as ReduceOp<"logSumExp">;

/**
 * Softmax along `axis` (the last by default), computed stably.
 *
 * @example
 * const p = softmax(logits); // rows sum to 1
 */
export function softmax<S extends readonly number[], D extends DType = "f64">(x: Tensor<S, D>, axis = -1): Tensor<S, D> {
  return guarded("softmax", () => composite.softmax(tracing, operand("softmax", x, 0), axis)) as unknown as Tensor<S, D>;
}

const MATMUL = exported("matmul");
const TRANSPOSE = exported("transpose");
const RESHAPE = exported("reshape");
const TAKE = exported("at");

/**
 * Matrix product with NumPy batch semantics: `[..., M, K] · [..., K, N] → [..., M, N]`, the
 * batch dimensions broadcast (`[8, 64, 64] · [64, 64]` multiplies each of the 8 by the same
 * matrix). Inner sizes that differ are a type error
 * (`ShapeError<"matmul: inner dimensions differ: …">`) where the checker knows them.
 *
 * @example
 * const h = matmul(x, w1); // Tensor<[64, 128]>
 * const scores = matmul(q, transpose(k, [0, 2, 1])); // [B, T, D] · [B, D, T] → [B, T, T]
 */
export function matmul<A extends readonly number[], B extends readonly number[], DA extends DType = "f64", DB extends DType = "f64">(
  a: Tensor<A, DA>,
  b: Tensor<B, DB> & NoInfer<Check<MatmulShape<A, B>>>,
): TensorOf<MatmulShape<A, B>, PromoteDType<DA, DB>> {
  return guarded("matmul", () => apply(MATMUL, [operand("matmul", a, 0), operand("matmul", b, 1)])) as TensorOf<MatmulShape<A, B>, PromoteDType<DA, DB>>;
}

/**
 * The axes of `x` permuted: axis k of the result is axis `perm[k]` of x (negative entries count
 * from the end). Without `perm` the axes are reversed, so a matrix is transposed.
 *
 * @example
 * transpose(w)            // [3, 4] → [4, 3]
 * transpose(k, [0, 2, 1]) // [B, T, D] → [B, D, T]
 */
export function transpose<S extends readonly number[], D extends DType = "f64">(
  x: Tensor<S, D> & NoInfer<Check<TransposeShape<S>>>,
): TensorOf<TransposeShape<S>, D>;
export function transpose<S extends readonly number[], const P extends readonly number[], D extends DType = "f64">(
  x: Tensor<S, D>,
  perm: P,
): Tensor<PermutedShape<S, P>, D>;
export function transpose(x: unknown, perm?: readonly number[]): unknown {
  const arg = operand("transpose", x, 0);
  if (perm === undefined) return guarded("transpose", () => apply(TRANSPOSE, [arg]));
  const rank = shapeOf(valueOf(arg)).length;
  if (!Array.isArray(perm)) throw new GradcError(`transpose: perm must be an array of axes, got ${describe(perm)}`);
  return guarded("transpose", () => apply(TRANSPOSE, [arg], { perm: perm.map((a: number) => (a < 0 ? a + rank : a)) }));
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
): S extends readonly [] ? number : Tensor<Mutable<S>, D>;
export function reshape(x: unknown, shape: readonly number[]): unknown {
  const arg = operand("reshape", x, 0);
  const from = shapeOf(valueOf(arg));
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
  const n = shapeOf(valueOf(xs))[0];
  const k = valueOf(index);
  const problem = n !== undefined && typeof k === "number" ? indexProblem(k, n) : undefined;
  if (problem !== undefined) throw coded("GRADC2006", new GradcError(`at: ${problem}`));
  return guarded("at", () => apply(TAKE, [xs, index]));
}
