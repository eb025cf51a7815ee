// Concrete values for the reference evaluation: numbers and booleans for rank 0, row-major
// typed arrays for tensors. The runtime's Tensor is structurally one of these.

import type { DType } from "../ir/types.js";

export type TensorData = Float64Array | Float32Array | Int32Array | Uint8Array;

export interface TensorVal {
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export type Val = number | boolean | TensorVal;

export const isTensorVal = (v: unknown): v is TensorVal =>
  typeof v === "object" && v !== null && "shape" in v && "data" in v;

export function shapeOf(v: Val): number[] {
  return isTensorVal(v) ? [...v.shape] : [];
}

export function dtypeOf(v: Val): DType {
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "f64";
  return v.data instanceof Float32Array ? "f32" : v.data instanceof Uint8Array ? "bool" : v.data instanceof Int32Array ? "i32" : "f64";
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function allocData(dtype: DType, n: number): TensorData {
  return dtype === "f32" ? new Float32Array(n) : dtype === "bool" ? new Uint8Array(n) : dtype === "i32" ? new Int32Array(n) : new Float64Array(n);
}

/** Reads element `i` of a value viewed as flat (a scalar reads as itself everywhere). */
export function flatGet(v: Val, i: number): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  return v.data[i]!;
}

/** Wraps flat results as a value of the given shape: rank 0 becomes a plain number/boolean. */
export function makeVal(shape: readonly number[], dtype: DType, fill: (i: number) => number): Val {
  if (shape.length === 0) {
    const x = fill(0);
    return dtype === "bool" ? x !== 0 : dtype === "f32" ? Math.fround(x) : x;
  }
  const data = allocData(dtype, sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = fill(i);
  return { shape: [...shape], data };
}

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** For each flat index of `outShape`, the flat index into `inShape` under broadcasting. */
export function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): (i: number) => number {
  if (inShape.length === 0) return () => 0;
  const offset = outShape.length - inShape.length;
  const inStrides = strides(inShape);
  const outStrides = strides(outShape);
  return (i) => {
    let j = 0;
    for (let ax = 0; ax < inShape.length; ax++) {
      if (inShape[ax] === 1) continue;
      const coord = Math.floor(i / outStrides[ax + offset]!) % outShape[ax + offset]!;
      j += coord * inStrides[ax]!;
    }
    return j;
  };
}
