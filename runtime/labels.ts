// Ops on i32 labels and indices: gathering slices and entries by index, one-hot encoding,
// argmax, and the cross-entropy loss with integer labels. Each evaluates through the op
// registry (compiler/ops/gather.ts, labels.ts) and records itself on the tape when traced, like
// the ops of ops.ts; an index out of range is a GradcError naming the op, the index and the
// bound.

import { getOp } from "../compiler/ops/index.js";
import { crossEntropy as crossEntropyOf } from "../compiler/ops/labels.js";
import { ShapeError } from "../compiler/ops/index.js";
import { type Traced, apply, isTraced, tracing } from "./eager.js";
import { shapeRefusal } from "./codes.js";
import { GradcError } from "./error.js";
import { isTensor } from "./tensor.js";
import type { Val } from "../compiler/ops/values.js";
import type { Mutable, ReducedShape, TakeShape, TensorOf } from "./shapes.js";
import type { DType, Tensor } from "./tensor.js";

/** The dtypes of tensors that hold numbers to compute with. */
export type FloatDType = "f64" | "f32";

/** An op's argument: a number, a traced value or a tensor (a GradcError naming the op otherwise). */
function operand(op: string, x: unknown, position: number): Val | Traced {
  if (typeof x === "number" || isTraced(x) || isTensor(x)) return x as Val | Traced;
  throw new GradcError(`${op}: argument ${position + 1} must be a tensor, got ${x === null ? "null" : typeof x}`);
}

/** Runs an op, reporting a shape problem as a GradcError naming it, as the ops of ops.ts do. */
function guarded<T>(name: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof ShapeError) throw shapeRefusal(name, e);
    throw e;
  }
}

const GATHER = getOp("gather");
const GATHER_ALONG = getOp("gather_along");
const ONE_HOT = getOp("one_hot");
const ARGMAX = getOp("argmax");

/**
 * NumPy's `take`: the slices of `x` along `axis` (0 by default) at each of `indices`, an i32
 * tensor; the result has x's shape with that axis replaced by the indices' shape. Its gradient
 * adds each slice's gradient back at its index, so repeated indices accumulate.
 *
 * @example
 * const rows = take(embedding, tokens); // [V, D] at i32 [B, T] → [B, T, D]
 */
export function take<S extends readonly number[], I extends readonly number[], D extends DType = "f64", const A extends number = 0>(
  x: Tensor<S, D>,
  indices: Tensor<I, "i32">,
  axis?: A,
): TensorOf<TakeShape<S, I, A>, D> {
  return guarded("take", () => apply(GATHER, [operand("take", x, 0), operand("take", indices, 1)], { axis: axis ?? 0 })) as TensorOf<TakeShape<S, I, A>, D>;
}

/**
 * NumPy's `take_along_axis`: the entry of `x` along `axis` that `indices` (i32, x's shape except
 * along `axis`) names at each position; the result has the indices' shape.
 *
 * @example
 * const picked = takeAlongAxis(logits, reshape(labels, [B, 1]), 1); // [B, 1]
 */
export function takeAlongAxis<I extends readonly number[], D extends DType = "f64">(
  x: Tensor<readonly number[], D>,
  indices: Tensor<I, "i32">,
  axis: number,
): Tensor<I, D> {
  return guarded("takeAlongAxis", () =>
    apply(GATHER_ALONG, [operand("takeAlongAxis", x, 0), operand("takeAlongAxis", indices, 1)], { axis }),
  ) as unknown as Tensor<I, D>;
}

/**
 * The one-hot encoding of i32 `labels`: a tensor of the labels' shape plus a last axis of `n`
 * classes, 1 at each label and 0 elsewhere, of dtype `dtype` (f64 by default). A label outside
 * [0, n) is a GradcError. Not differentiable (the labels are integers).
 *
 * @example
 * const targets = oneHot(labels, 10); // i32 [B] → [B, 10]
 */
export function oneHot<S extends readonly number[], const N extends number, D extends FloatDType = "f64">(
  labels: Tensor<S, "i32">,
  n: N,
  dtype?: D,
): Tensor<[...Mutable<S>, N], D> {
  return guarded("oneHot", () => apply(ONE_HOT, [operand("oneHot", labels, 0)], { n, dtype: dtype ?? "f64" })) as unknown as Tensor<[...Mutable<S>, N], D>;
}

/**
 * The i32 position of the first maximal entry of `x` along `axis` (ties go to the first, as
 * with `max`'s gradient). `x` has rank 2 or more, so the result is a tensor. Not differentiable.
 *
 * @example
 * const predicted = argmax(logits, 1); // [B, 10] → i32 [B]
 */
export function argmax<S extends readonly number[], const A extends number>(
  x: Tensor<S, FloatDType>,
  axis: A,
): TensorOf<ReducedShape<S, A, false, "argmax">, "i32"> {
  return guarded("argmax", () => apply(ARGMAX, [operand("argmax", x, 0)], { axis })) as TensorOf<ReducedShape<S, A, false, "argmax">, "i32">;
}

/**
 * The cross-entropy of `logits` ([B, C]) against i32 class `labels` ([B]): the mean over the
 * batch of `logSumExp(logits_b) − logits_b[label_b]`, as PyTorch's `cross_entropy`. Stable for
 * logits of ±1000; its gradient is `(softmax(logits) − oneHot(labels)) / B`.
 *
 * @example
 * const loss = crossEntropy(add(matmul(x, w), b), labels);
 */
export function crossEntropy<B extends number, C extends number, D extends FloatDType = "f64">(
  logits: Tensor<readonly [B, C], D>,
  labels: Tensor<readonly [B], "i32">,
): number {
  return guarded("crossEntropy", () => crossEntropyOf(tracing, operand("crossEntropy", logits, 0), operand("crossEntropy", labels, 1))) as number;
}
