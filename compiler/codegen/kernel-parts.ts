// The vocabulary of tensor code generation that kernels.ts and the files beside it share: the
// interface the node dispatch calls, the reserved loop names, and fused-expression values.

import type { Dim, Node } from "../ir/types.js";
import { LOOP_KERNEL_NAMES } from "./loops.js";

export interface KernelEmitter {
  /** Emits a tensor node (elementwise loop, reduction, matmul, movement). */
  emit(node: Node): void;
  /** Before the loop node `loop` of `trips` trips: the hoisted checks of indices in its body. */
  loopPrechecks(loop: Node, trips: string): void;
  /** Module-level declarations: kernels outlined from a function too large for V8. */
  declarations(): string[];
}

/** Loop counters and accumulators: reserved so user-derived names never collide with them. */
export const LOOP_NAMES = [
  ...["i", "j", "p", "o", "r", "acc", "best", "at", "a", "ci", "bp", "ao", "bo", "next"],
  ...Array.from({ length: 8 }, (_x, k) => `i${k}`),
  ...[0, 1, 2, 3].flatMap((r) => [`a${r}`, `b${r}`, `ar${r}`, `br${r}`, ...[0, 1, 2, 3].map((c) => `c${r}${c}`)]),
  ...LOOP_KERNEL_NAMES,
];

/** An operand in a product: parenthesized unless atomic. */
export const wrap = (x: Expr): string => (x.atomic ? x.text : `(${x.text})`);

/** Tensor kernels per function beyond which each kernel is emitted as a function of its own. */
export const OUTLINE_AFTER = 64;

export interface Expr {
  readonly text: string;
  readonly atomic: boolean;
}

/** Where an element is computed: in a loop nest over `space` with counters `cs`, or at `i` of a flat loop over equal shapes. */
export type At = "flat" | { readonly space: readonly Dim[]; readonly cs: readonly string[] };
