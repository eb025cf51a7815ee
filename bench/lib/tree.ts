// Pytrees as every engine sees them in the harness: leaves are plain numbers or tensors
// `{ shape, data }` (row-major typed array, exactly gradc's `Tensor` shape), nested in arrays
// and objects. Engines convert to and from their own types at the edges, outside the timed call.

export type DType = "f64" | "f32";
export type FloatArray = Float64Array | Float32Array;

export interface TensorValue {
  readonly shape: readonly number[];
  readonly data: FloatArray;
}

/** Integer labels or indices (gradc's `i32` tensors): data only, never differentiated. */
export interface IntTensorValue {
  readonly shape: readonly number[];
  readonly data: Int32Array;
}

export type Leaf = number | TensorValue | IntTensorValue;
export type Tree = Leaf | readonly Tree[] | { readonly [key: string]: Tree };

export function isTensor(x: unknown): x is TensorValue | IntTensorValue {
  return typeof x === "object" && x !== null && "data" in x && "shape" in x &&
    (x.data instanceof Float64Array || x.data instanceof Float32Array || x.data instanceof Int32Array);
}

/** Leaves in traversal order (arrays by index, objects by key order), each with a readable path. */
export function leaves(tree: Tree, path = ""): { path: string; leaf: Leaf }[] {
  if (typeof tree === "number" || isTensor(tree)) return [{ path, leaf: tree }];
  if (Array.isArray(tree)) return tree.flatMap((t: Tree, i: number) => leaves(t, `${path}[${i}]`));
  return Object.entries(tree).flatMap(([k, t]) => leaves(t, path === "" ? k : `${path}.${k}`));
}

/** The same structure with every leaf replaced by `f(leaf)`. */
export function mapLeaves<T>(tree: Tree, f: (leaf: Leaf) => T): unknown {
  if (typeof tree === "number" || isTensor(tree)) return f(tree);
  if (Array.isArray(tree)) return tree.map((t: Tree) => mapLeaves(t, f));
  return Object.fromEntries(Object.entries(tree).map(([k, t]) => [k, mapLeaves(t, f)]));
}

/**
 * Rebuilds `template`'s structure from an engine's value of the same structure, converting
 * each leaf with `f`. Object keys are taken from the template, so an engine that returns keys
 * in another order (or extra keys) still lines up; a missing key throws.
 */
export function alignTo(template: Tree, value: unknown, f: (v: unknown, like: Leaf) => Leaf, path = ""): Tree {
  if (typeof template === "number" || isTensor(template)) return f(value, template);
  if (value === null || typeof value !== "object") throw new Error(`expected a structure at '${path}', got ${String(value)}`);
  if (Array.isArray(template)) {
    if (!Array.isArray(value) || value.length !== template.length) throw new Error(`expected an array of ${template.length} at '${path}'`);
    return template.map((t: Tree, i: number) => alignTo(t, value[i], f, `${path}[${i}]`));
  }
  const obj = value as Record<string, unknown>;
  return Object.fromEntries(Object.entries(template).map(([k, t]) => {
    if (!(k in obj)) throw new Error(`missing key '${path === "" ? k : `${path}.${k}`}'`);
    return [k, alignTo(t, obj[k], f, path === "" ? k : `${path}.${k}`)];
  }));
}

/** Deep copy, so no engine can see another engine's writes into shared input buffers. */
export function cloneTree<T extends Tree>(tree: T): T {
  return mapLeaves(tree, (l) => (typeof l === "number" ? l : { shape: [...l.shape], data: l.data.slice() })) as T;
}

export function leafSize(leaf: Leaf): number {
  return typeof leaf === "number" ? 1 : leaf.data.length;
}
