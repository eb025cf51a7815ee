// Walks structured arguments and gradients (numbers in nested arrays and objects) the way the
// compiler lays them out: depth first, array items in order, object fields in key order of the
// parameter's type (which `Tree` records).

import type { Tree } from "../../compiler/ir/signature.js";

export type Path = readonly (string | number)[];
export type Pytree = number | readonly Pytree[] | { readonly [key: string]: Pytree };

/** A value of the tree's structure with every leaf drawn from `leaf`. */
export function build(tree: Tree, leaf: (path: Path) => number, path: Path = []): Pytree {
  if (tree.kind === "leaf") {
    if (tree.type.shape.length !== 0) throw new Error("pytree helper: tensors are not handled here");
    return leaf(path);
  }
  if (tree.kind === "array") return tree.items.map((t, i) => build(t, leaf, [...path, i]));
  return Object.fromEntries(tree.fields.map((f) => [f.key, build(f.tree, leaf, [...path, f.key])]));
}

/** The leaves of `value` in the tree's order, with their paths. */
export function leaves(tree: Tree, value: unknown, path: Path = []): { path: Path; value: unknown }[] {
  if (tree.kind === "leaf") return [{ path, value }];
  const node = value as Record<string | number, unknown> | undefined;
  if (tree.kind === "array") return tree.items.flatMap((t, i) => leaves(t, node?.[i], [...path, i]));
  return tree.fields.flatMap((f) => leaves(f.tree, node?.[f.key], [...path, f.key]));
}

/** A copy of `value` with the leaf at `path` replaced. */
export function withLeaf(value: Pytree, path: Path, x: number): Pytree {
  if (path.length === 0) return x;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? withLeaf(v as Pytree, rest, x) : v));
  const obj = value as { readonly [key: string]: Pytree };
  return { ...obj, [head]: withLeaf(obj[head as string]!, rest, x) };
}
