// Tensors are plain `{ shape, data }` objects (generated code creates them too), row-major,
// float64 by default or float32. Rank 0 is never a tensor: scalars are plain numbers.

import { GradcError } from "./error.js";

/** Element type of a tensor: f64 or f32 numbers, or i32 labels and indices (never differentiated). */
export type DType = "f64" | "f32" | "i32";

/** The typed array that stores a tensor of dtype `D`. */
export type DataOf<D extends DType> = D extends "f32" ? Float32Array : D extends "i32" ? Int32Array : Float64Array;

/**
 * A row-major tensor of static shape `S` (a tuple of sizes) and dtype `D`.
 *
 * @example
 * const w: Tensor<[2, 3]> = zeros([2, 3]);
 * const h: Tensor<[64, 784], "f32"> = zeros([64, 784], "f32");
 */
export interface Tensor<S extends readonly number[] = readonly number[], D extends DType = "f64"> {
  readonly shape: S;
  readonly data: DataOf<D>;
}

/** A shape written as a literal, widened to the mutable tuple `Tensor<[2, 3]>` expects. */
export type Shape<S extends readonly number[]> = { -readonly [K in keyof S]: S[K] };

/** Nested arrays of numbers, as accepted by {@link tensor}. */
export type NestedArray = readonly (number | NestedArray)[];

/** The shape of a nested array type (`[[1, 2], [3, 4]]` → `[2, 2]`). */
export type NestedShape<A> = A extends readonly (infer E)[]
  ? [A["length"], ...(E extends readonly unknown[] ? NestedShape<E> : [])]
  : [];

/** True when `x` is a tensor: an object with an array `shape` and `data` a Float64Array, Float32Array or Int32Array. */
export function isTensor(x: unknown): x is Tensor<readonly number[], DType> {
  if (typeof x !== "object" || x === null) return false;
  const t = x as { shape?: unknown; data?: unknown };
  return Array.isArray(t.shape) && (t.data instanceof Float64Array || t.data instanceof Float32Array || t.data instanceof Int32Array);
}

/** Dtype of a tensor's storage. */
export const dtypeOfTensor = (t: Tensor<readonly number[], DType>): DType =>
  t.data instanceof Float32Array ? "f32" : t.data instanceof Int32Array ? "i32" : "f64";

/** Zeroed storage for `n` entries of `dtype`. */
export function allocate<D extends DType>(dtype: D, n: number): DataOf<D> {
  return (dtype === "f32" ? new Float32Array(n) : dtype === "i32" ? new Int32Array(n) : new Float64Array(n)) as DataOf<D>;
}

function checkShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new GradcError(`invalid shape [${shape.join(", ")}]: sizes must be non-negative integers`);
    n *= d;
  }
  return n;
}

/**
 * A tensor from nested arrays (shape inferred) or a typed array (shape `[length]` unless
 * given). The values are copied. A `Float32Array` gives an f32 tensor; `dtype` overrides.
 *
 * @example
 * const a = tensor([[1, 2], [3, 4]]);                       // Tensor<[2, 2]>
 * const b = tensor(new Float32Array(6), [2, 3]);            // Tensor<[2, 3], "f32">
 * const y = tensor(Int32Array.from([3, 0, 7]));             // Tensor<[number], "i32">: labels
 * const z = tensor([1, 0, 2], undefined, "i32");            // Tensor<[3], "i32">
 */
export function tensor<const A extends NestedArray, D extends DType = "f64">(values: A, shape?: undefined, dtype?: D): Tensor<NestedShape<A>, D>;
export function tensor<const S extends readonly number[], D extends DType = "f64">(values: NestedArray | Float64Array, shape: S, dtype?: D): Tensor<Shape<S>, D>;
export function tensor<const S extends readonly number[], D extends DType = "f32">(values: Float32Array, shape: S, dtype?: D): Tensor<Shape<S>, D>;
export function tensor<D extends DType = "f64">(values: Float64Array, shape?: undefined, dtype?: D): Tensor<[number], D>;
export function tensor<D extends DType = "f32">(values: Float32Array, shape?: undefined, dtype?: D): Tensor<[number], D>;
export function tensor<const S extends readonly number[], D extends DType = "i32">(values: Int32Array, shape: S, dtype?: D): Tensor<Shape<S>, D>;
export function tensor<D extends DType = "i32">(values: Int32Array, shape?: undefined, dtype?: D): Tensor<[number], D>;
export function tensor(
  values: NestedArray | Float64Array | Float32Array | Int32Array,
  shape?: readonly number[],
  dtype?: DType,
): Tensor<readonly number[], DType> {
  const dt: DType = dtype ?? (values instanceof Float32Array ? "f32" : values instanceof Int32Array ? "i32" : "f64");
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (values instanceof Float64Array || values instanceof Float32Array || values instanceof Int32Array) {
    flat = values;
    inferred = [values.length];
  } else {
    inferred = nestedShape(values);
    const out: number[] = [];
    flatten(values, inferred, 0, out);
    flat = out;
  }
  const s = shape === undefined ? inferred : [...shape];
  if (s.length === 0) throw new GradcError("tensor: rank-0 values are plain numbers, not tensors");
  const n = checkShape(s);
  if (n !== flat.length)
    throw new GradcError(`tensor: ${flat.length} values do not fill shape [${s.join(", ")}] (${n} entries)`);
  const data = allocate(dt, n);
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    if (typeof v !== "number") throw new GradcError(`tensor: entry ${i} is not a number`);
    if (dt === "i32" && !(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31)) throw new GradcError(`tensor: entry ${i} (${v}) is not a 32-bit integer, as an i32 tensor holds`);
    data[i] = v;
  }
  return { shape: s, data };
}

/** Appends the numbers of `values` to `out`, checking that every level has the size `shape` says. */
function flatten(values: unknown, shape: readonly number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (typeof values !== "number") throw new GradcError(`tensor: expected a number at depth ${depth}, got ${typeof values}`);
    out.push(values);
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[depth])
    throw new GradcError(`tensor: nested arrays are ragged (expected shape [${shape.join(", ")}])`);
  for (const v of values) flatten(v, shape, depth + 1, out);
}

function nestedShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let level: unknown = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

/**
 * A tensor of zeros.
 *
 * @example
 * const b = zeros([16]);          // Tensor<[16]>
 * const h = zeros([4, 8], "f32"); // Tensor<[4, 8], "f32">
 */
export function zeros<const S extends readonly number[], D extends DType = "f64">(shape: S, dtype?: D): Tensor<Shape<S>, D> {
  const s = [...shape] as unknown as Shape<S>;
  if (s.length === 0) throw new GradcError("zeros: rank-0 values are plain numbers, not tensors");
  return { shape: s, data: allocate((dtype ?? "f64") as D, checkShape(shape)) };
}

/**
 * A tensor of ones.
 *
 * @example
 * const m = ones([3, 3]);
 */
export function ones<const S extends readonly number[], D extends DType = "f64">(shape: S, dtype?: D): Tensor<Shape<S>, D> {
  const t = zeros(shape, dtype);
  t.data.fill(1);
  return t;
}

/**
 * A tensor of standard normal samples from a seeded generator (mulberry32 + Box–Muller): the
 * same seed gives the same values on every platform.
 *
 * @example
 * const w1 = randn([784, 128], 42, "f32");
 */
export function randn<const S extends readonly number[], D extends DType = "f64">(
  shape: S,
  seed: number,
  dtype?: D,
): Tensor<Shape<S>, D> {
  const t = zeros(shape, dtype);
  const uniform = mulberry32(seed);
  const data = t.data;
  for (let i = 0; i < data.length; i += 2) {
    // Box–Muller: two uniforms in (0, 1] give two independent standard normals.
    const u1 = 1 - uniform();
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    data[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < data.length) data[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return t;
}

/** Uniform floats in [0, 1) from a 32-bit seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
