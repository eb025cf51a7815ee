// Pytrees: a parameter is a number, a tensor, or nested plain objects / arrays of them. The
// numbers and tensors are the leaves that carry gradients; anything else (strings, booleans,
// null, functions) is carried through unchanged.

import { GradcError } from "./error.js";
import { type DType, type Tensor, isTensor } from "./tensor.js";

/** What carries a gradient in a pytree. */
export type Leaf = number | Tensor<readonly number[], DType>;
/** Keys from a pytree's root to one of its parts. */
export type Path = readonly (string | number)[];

/** True for containers a pytree recurses into: arrays and plain objects. */
export function isContainer(x: unknown): x is Record<string | number, unknown> {
  if (typeof x !== "object" || x === null || isTensor(x)) return false;
  if (Array.isArray(x)) return true;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

/** True for numbers and tensors. */
export const isLeaf = (x: unknown): x is Leaf => typeof x === "number" || isTensor(x);

/**
 * A fresh tree of the same structure with every leaf replaced by `fn(leaf, path)`. Objects that
 * are neither leaves nor plain containers (class instances, bare typed arrays) are refused:
 * passing them through would silently drop their gradients.
 */
export function mapLeaves(tree: unknown, fn: (leaf: Leaf, path: Path) => unknown, path: Path = []): unknown {
  if (isLeaf(tree)) return fn(tree, path);
  if (Array.isArray(tree)) return tree.map((v, i) => mapLeaves(v, fn, [...path, i]));
  if (isContainer(tree)) {
    const out: Record<string, unknown> = {};
    // defineProperty: a key named "__proto__" stays a field rather than setting the prototype.
    for (const k of Object.keys(tree)) Object.defineProperty(out, k, { value: mapLeaves(tree[k], fn, [...path, k]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  if (typeof tree === "object" && tree !== null) {
    const what = ArrayBuffer.isView(tree) ? "a bare typed array (wrap it with tensor())" : `an instance of ${tree.constructor?.name ?? "a class"}`;
    throw new GradcError(
      `parameter ${formatPath(path)} is ${what}; parameters are numbers, tensors, and plain objects and arrays of them`,
    );
  }
  return tree;
}

/** Visits every leaf in a fixed order (array order, then object key order). */
export function forEachLeaf(tree: unknown, fn: (leaf: Leaf, path: Path) => void, path: Path = []): void {
  if (isLeaf(tree)) fn(tree, path);
  else if (Array.isArray(tree)) tree.forEach((v, i) => forEachLeaf(v, fn, [...path, i]));
  else if (isContainer(tree)) for (const k of Object.keys(tree)) forEachLeaf(tree[k], fn, [...path, k]);
}

/**
 * Walks `params` and `grads` together, replacing each leaf of `params` by `update(param, grad,
 * key)`. Tensors are expected to be updated in place by `update` (its result is ignored);
 * numbers inside containers are written back into their container. Returns the (possibly new)
 * root, which differs from `params` only when the root itself is a number.
 */
export function updateLeaves(
  params: unknown,
  grads: unknown,
  update: (param: Leaf, grad: Leaf, key: string) => Leaf,
  path: Path = [],
): unknown {
  if (isLeaf(params)) {
    if (!isLeaf(grads) || typeof grads !== typeof params)
      throw new GradcError(`gradient at ${formatPath(path)} is ${describeLeaf(grads)}, but the parameter is ${describeLeaf(params)}`);
    if (isTensor(params) && isTensor(grads) && params.data.length !== grads.data.length)
      throw new GradcError(
        `gradient at ${formatPath(path)} has shape [${grads.shape.join(", ")}], the parameter [${params.shape.join(", ")}]`,
      );
    return update(params, grads, formatPath(path));
  }
  if (!isContainer(params)) return params;
  if (!isContainer(grads)) throw new GradcError(`gradient at ${formatPath(path)} is missing`);
  for (const k of Array.isArray(params) ? params.keys() : Object.keys(params)) {
    if (!(k in grads)) throw new GradcError(`gradient at ${formatPath([...path, k])} is missing`);
    const next = updateLeaves(params[k], grads[k], update, [...path, k]);
    if (next !== params[k]) params[k] = next;
  }
  return params;
}

function describeLeaf(x: unknown): string {
  if (typeof x === "number") return "a number";
  if (isTensor(x)) return `a tensor [${x.shape.join(", ")}]`;
  return x === null ? "null" : typeof x;
}

/** `[0].layers[1].w` style. */
export function formatPath(path: Path): string {
  let s = "";
  for (const k of path) s += typeof k === "number" || !/^[A-Za-z_$][\w$]*$/.test(k) ? `[${JSON.stringify(k)}]` : `.${k}`;
  return s === "" ? "(root)" : s;
}
