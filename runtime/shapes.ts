// Shapes computed in the types: what the ops' signatures in ops.ts return. Type-level only;
// nothing here exists at run time.
//
// A dimension is a literal (`3`), a type parameter standing for a size fixed per call (`B`), or
// `number` (a size the checker does not know). Results keep literals and names; where a size
// cannot be computed, that position is `number`, and only a shape whose rank is unknown
// (`number[]`) gives `number[]`. A mismatch the checker can see gives a `ShapeError` whose
// message says what is wrong, so the editor shows a sentence rather than a conditional type.
//
// Comparing a named dimension with anything but itself leaves a conditional type unresolved
// (the checker cannot know `B`'s value), so every comparison below is written to resolve to its
// true branch for the cases that are right whatever `B` is: `B` against `B`, `B` against `1`,
// `B` with no counterpart. Only the literal-only cases ever reach a false branch. The one
// broadcast this leaves unresolved is a literal 1 in the first operand against a name in the
// second (`[1, N]` with `[B, N]`): written the other way round it resolves.

import type { DType, Tensor } from "./tensor.js";

/**
 * A shape mismatch found by the type checker. The message names the op and the sizes, e.g.
 * `ShapeError<"add: shapes do not broadcast: 3 (axis 1 of x) vs 4 (axis 0 of y)">`.
 */
export interface ShapeError<Message extends string> {
  readonly "gradc shape error": Message;
}

/** The dtype of an op's result: f32 when either operand is f32, as at run time. */
export type PromoteDType<A extends DType, B extends DType> = "f32" extends A | B ? "f32" : "f64";

/** The tuple `S` with `readonly` dropped (what `Tensor<[2, 3]>` spells). */
export type Mutable<S extends readonly number[]> = { -readonly [K in keyof S]: S[K] };

// Two dimensions side by side in a plain object: an object type holding a type parameter is
// not itself generic, so the checker resolves a comparison of these when it is certainly true.
interface Pair<X, Y> {
  x: X;
  y: Y;
}
interface Ok<D> {
  ok: D;
}

/** One broadcast dimension: `{ ok: size }`, or a ShapeError. */
type BroadcastDim<X extends number, Y extends number, Message extends string> =
  Pair<X, Y> extends Pair<Y, unknown> | Pair<unknown, 1>
    ? Ok<X>
    : Pair<X, Y> extends Pair<1, unknown>
      ? Ok<Y>
      : number extends X
        ? Ok<number extends Y ? number : Y>
        : number extends Y
          ? Ok<X>
          : ShapeError<Message>;

/**
 * The NumPy broadcast of shapes `A` and `B` (aligned from the right), or a ShapeError naming
 * `Op` and the first pair of sizes that differ. `number[]` when either rank is unknown.
 *
 * @example
 * type H = BroadcastShape<[B, 16], [16]>; // [B, 16]
 */
export type BroadcastShape<A extends readonly number[], B extends readonly number[], Op extends string = "broadcast"> =
  number extends A["length"] ? number[] : number extends B["length"] ? number[] : BroadcastFrom<A, B, Op, []>;

type BroadcastFrom<A extends readonly number[], B extends readonly number[], Op extends string, Acc extends number[]> =
  A extends readonly [...infer AH extends number[], infer X extends number]
    ? B extends readonly [...infer BH extends number[], infer Y extends number]
      ? BroadcastDim<X, Y, `${Op}: shapes do not broadcast: ${X} (axis ${AH["length"]} of x) vs ${Y} (axis ${BH["length"]} of y)`> extends infer R
        ? R extends Ok<infer D extends number>
          ? BroadcastFrom<AH, BH, Op, [D, ...Acc]>
          : R
        : never
      : [...Mutable<A>, ...Acc]
    : [...Mutable<B>, ...Acc];

/** `unknown` when `R` is a shape, else the ShapeError itself: intersected with a parameter's type. */
export type Check<R> = R extends ShapeError<string> ? R : unknown;

/** A tensor of shape `S`, or the ShapeError `S` is. */
export type TensorOf<S, D extends DType> = S extends ShapeError<string>
  ? S
  : S extends readonly [...infer T extends number[]]
    ? Tensor<T, D>
    : never;

/**
 * The result shape of `matmul(a, b)`: `[..., M, K] · [..., K, N] → [..., M, N]`, the batch
 * dimensions broadcast; or a ShapeError.
 */
export type MatmulShape<A extends readonly number[], B extends readonly number[]> = number extends A["length"]
  ? number[]
  : number extends B["length"]
    ? number[]
    : A extends readonly [...infer AB extends number[], infer M extends number, infer K extends number]
      ? B extends readonly [...infer BB extends number[], infer K2 extends number, infer N extends number]
        ? Pair<K, K2> extends Pair<K2, unknown>
          ? MatmulBatch<AB, BB, M, N>
          : number extends K
            ? MatmulBatch<AB, BB, M, N>
            : number extends K2
              ? MatmulBatch<AB, BB, M, N>
              : ShapeError<`matmul: inner dimensions differ: ${K} (axis ${[...AB, M]["length"]} of a) vs ${K2} (axis ${BB["length"]} of b)`>
        : ShapeError<`matmul takes tensors of rank 2 or more: b has rank ${B["length"]}`>
      : ShapeError<`matmul takes tensors of rank 2 or more: a has rank ${A["length"]}`>;

// A side without batch dimensions takes the other's as they are, without a conditional on the
// broadcast result: with a generic batch (`[B]`) that conditional would stay unresolved.
type MatmulBatch<AB extends number[], BB extends number[], M extends number, N extends number> = BB extends []
  ? [...AB, M, N]
  : AB extends []
    ? [...BB, M, N]
    : BroadcastShape<AB, BB, "matmul"> extends infer R extends readonly number[] | ShapeError<string>
      ? Ok<R> extends Ok<ShapeError<string>>
        ? R
        : [...Exclude<R, ShapeError<string>>, M, N]
      : never;

type Reverse<S extends readonly number[], Acc extends number[] = []> = S extends readonly [infer H extends number, ...infer T extends number[]]
  ? Reverse<T, [H, ...Acc]>
  : Acc;

/** The shape of `transpose(x)`: the axes reversed (`[2, 3]` → `[3, 2]`). */
export type TransposeShape<S extends readonly number[]> = number extends S["length"]
  ? number[]
  : S extends readonly []
    ? ShapeError<"transpose takes a tensor: got rank 0">
    : Reverse<S>;

/** The shape of `transpose(x, perm)`: axis k of the result is axis `perm[k]` of x. */
export type PermutedShape<S extends readonly number[], P extends readonly number[]> = number extends P["length"]
  ? number[]
  : { -readonly [K in keyof P]: P[K] extends keyof S ? S[P[K]] : number };

type Zeros<N extends number, T extends 0[] = []> = T["length"] extends N ? T : Zeros<N, [...T, 0]>;

/** A literal axis made non-negative for rank `L` (`-1` → `L - 1`); `never` when out of range. */
type PositiveAxis<L extends number, A extends number> = `${A}` extends `-${infer P extends number}`
  ? Zeros<L> extends [...infer Head, ...Zeros<P>]
    ? Head["length"]
    : never
  : Zeros<L> extends [...Zeros<A>, ...unknown[]]
    ? A extends L
      ? never
      : A
    : never;

/** `S` with the dimensions at the (non-negative) indices `I` removed, or set to 1 when `Keep`. */
type DropAxes<S extends readonly number[], I, Keep extends boolean, Acc extends number[] = [], At extends 0[] = []> =
  S extends readonly [infer H extends number, ...infer R extends number[]]
    ? DropAxes<R, I, Keep, At["length"] extends I ? (Keep extends true ? [...Acc, 1] : Acc) : [...Acc, H], [...At, 0]>
    : Acc;
/** `[…Acc, number, number, …]`: `L` unknown sizes. */
type Unknowns<L extends number, Acc extends number[] = []> = Acc["length"] extends L ? Acc : Unknowns<L, [...Acc, number]>;
type Minus1<L extends number> = Zeros<L> extends [0, ...infer R] ? R["length"] : 0;

type PositiveAxes<L extends number, A extends readonly number[], Op extends string> = {
  [K in keyof A]: [PositiveAxis<L, A[K]>] extends [never] ? ShapeError<`${Op}: axis ${A[K]} is out of range for rank ${L}`> : PositiveAxis<L, A[K]>;
};
type FirstError<T extends readonly unknown[]> = T extends readonly [infer H, ...infer R] ? (H extends ShapeError<string> ? H : FirstError<R>) : never;

/**
 * The shape left by reducing `S` over axis `A` (one literal axis or a tuple of them), keeping
 * reduced axes as size 1 when `K` is true; a ShapeError for an axis out of range. With an axis
 * the checker cannot read (`number`), the rank is still known and each size is `number`.
 *
 * @example
 * type R = ReducedShape<[B, 10], -1, true>; // [B, 1]
 */
export type ReducedShape<S extends readonly number[], A extends number | readonly number[], K extends boolean, Op extends string = "reduce"> =
  number extends S["length"]
    ? number[]
    : boolean extends K
      ? number[]
      : A extends number
        ? number extends A
          ? Unknowns<K extends true ? S["length"] : Minus1<S["length"]>>
          : ReducedByList<S, [A], K, Op>
        : A extends readonly number[]
          ? number extends A["length"]
            ? number[]
            : ReducedByList<S, A, K, Op>
          : number[];
type ReducedByList<S extends readonly number[], A extends readonly number[], K extends boolean, Op extends string> =
  number extends A[number]
    ? number[]
    : FirstError<PositiveAxes<S["length"], A, Op>> extends infer E
      ? [E] extends [never]
        ? DropAxes<S, PositiveAxes<S["length"], A, Op>[number], K>
        : E
      : never;

/** A reduction's result: a number at rank 0, else a tensor (or the ShapeError). */
export type Reduced<S extends readonly number[], D extends DType, A extends number | readonly number[], K extends boolean, Op extends string = "reduce"> =
  ReducedShape<S, A, K, Op> extends infer R
    ? R extends readonly []
      ? number
      : TensorOf<R, D>
    : never;

/** `S` with the dimension at index `P` replaced by the dimensions `I`. */
type SpliceAxis<S extends readonly number[], P, I extends readonly number[], Acc extends number[] = [], At extends 0[] = []> =
  S extends readonly [infer H extends number, ...infer R extends number[]]
    ? SpliceAxis<R, P, I, At["length"] extends P ? [...Acc, ...Mutable<I>] : [...Acc, H], [...At, 0]>
    : Acc;

/**
 * The shape `take(x, indices, axis)` gives: x's shape with axis `A` replaced by the indices'
 * shape (NumPy `take`); a ShapeError for an axis out of range.
 *
 * @example
 * type R = TakeShape<[1000, 16], [B, 8], 0>; // [B, 8, 16]: embedding rows
 */
export type TakeShape<S extends readonly number[], I extends readonly number[], A extends number> = number extends S["length"]
  ? number[]
  : number extends I["length"]
    ? number[]
    : number extends A
      ? number[]
      : [PositiveAxis<S["length"], A>] extends [never]
        ? ShapeError<`take: axis ${A} is out of range for rank ${S["length"]}`>
        : SpliceAxis<S, PositiveAxis<S["length"], A>, I>;
