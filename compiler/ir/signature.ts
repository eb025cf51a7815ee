// The argument layout of a compiled function, shared by the frontend (which builds it) and codegen
// (which reads it): how the JS-level arguments of a compiled `grad`/`valueAndGrad`/`jvp` map onto
// the IR function's leaf parameters, and how to shape results. Depends on the IR types only.

import type { Type } from "./types.js";

/** A pytree: a leaf (number or tensor) or a fixed structure of pytrees. */
export type Tree =
  | { readonly kind: "leaf"; readonly index: number; readonly type: Type }
  | { readonly kind: "object"; readonly fields: readonly { readonly key: string; readonly tree: Tree }[] }
  | { readonly kind: "array"; readonly items: readonly Tree[] };

export interface ParamSpec {
  readonly name: string;
  readonly tree: Tree;
}

export interface GradSpec {
  /** The exported binding (`export const dfxyz = grad(...)`). */
  readonly exportName: string;
  /** The differentiated function's name, for messages. */
  readonly modelName: string;
  /** `jvp`: IR params are the leaves then one tangent per differentiated leaf; results [value, tangent]. */
  readonly mode: "grad" | "valueAndGrad" | "jvp";
  /** Positions of the differentiated arguments. */
  readonly argnums: readonly number[];
  /** True when the user wrote `argnums: [...]`: gradients then come back as a tuple. */
  readonly argnumsIsArray: boolean;
  readonly params: readonly ParamSpec[];
  /** Symbolic dimension names, in declaration order. */
  readonly dims: readonly string[];
  /**
   * With `hasAux`: the structure of the auxiliary value, its leaves numbered 0, 1, ... in the
   * order they follow the value among the function's results (see resultLayout).
   */
  readonly aux?: Tree;
  /** With `reuse`: every call returns the same result objects, overwritten in place. */
  readonly reuse?: boolean;
  /** Internal (the benchmark's cost of derivatives): the value alone, no derivatives. */
  readonly forwardOnly?: boolean;
  /** The transformed function it applies, when that is not the model itself (`grad(f)` in `grad(grad(f))`). */
  readonly wrapped?: string;
  /** For `jvp`: the type of the function's result (a number or a tensor). */
  readonly result?: Type;
  /** For `jvp` of a structured result: its structure, leaf i being result i (tangent leaf i result n + i). */
  readonly resultTree?: Tree;
}

/**
 * Where each part of the result sits in the optimized function's results: the value (absent
 * for `grad`), then the auxiliary leaves, then one gradient per differentiated leaf.
 */
export function resultLayout(spec: GradSpec): { value: number | undefined; auxStart: number; gradStart: number } {
  const value = spec.mode === "valueAndGrad" || spec.forwardOnly ? 0 : undefined;
  const auxStart = value === undefined ? 0 : 1;
  return { value, auxStart, gradStart: auxStart + (spec.aux ? leavesOf(spec.aux).length : 0) };
}

/**
 * For `jvp`: the tangent arguments, one per differentiated argument, shaped like it, with leaf
 * indices after the primal leaves (`primalLeaves`), in the order of `wrtIndices`.
 */
export function tangentParams(spec: GradSpec, primalLeaves: number): ParamSpec[] {
  const order = wrtIndices(spec);
  const shift = (tree: Tree): Tree =>
    tree.kind === "leaf"
      ? { ...tree, index: primalLeaves + order.indexOf(tree.index) }
      : tree.kind === "array"
        ? { kind: "array", items: tree.items.map(shift) }
        : { kind: "object", fields: tree.fields.map((f) => ({ key: f.key, tree: shift(f.tree) })) };
  return spec.argnums.map((n, k) => ({ name: `tangents[${k}]`, tree: shift(spec.params[n]!.tree) }));
}

export function leavesOf(tree: Tree, out: { index: number; type: Type; path: (string | number)[] }[] = [], path: (string | number)[] = []) {
  if (tree.kind === "leaf") out.push({ index: tree.index, type: tree.type, path });
  else if (tree.kind === "object") tree.fields.forEach((f) => leavesOf(f.tree, out, [...path, f.key]));
  else tree.items.forEach((t, i) => leavesOf(t, out, [...path, i]));
  return out;
}

/** The IR parameter indices being differentiated, in the order the gradients are returned. */
export function wrtIndices(spec: GradSpec): number[] {
  return spec.argnums.flatMap((k) => leavesOf(spec.params[k]!.tree).map((l) => l.index));
}
