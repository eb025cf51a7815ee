// Fast evaluation of the ops the tape spends its time in. The op registry's `evaluate` is the
// reference (written for clarity: a closure per element); these compute the same values with
// plain loops. They add no semantics: elementwise ops run the registry's own scalar function,
// and test/runtime/kernels.test.ts checks every kernel against the reference.

import { type ElementwiseOp, broadcastShapes } from "../compiler/ops/index.js";
import type { Attrs } from "../compiler/ir/types.js";
import type { TensorVal, Val } from "../compiler/ops/values.js";

type Float = Float64Array | Float32Array;
type Operand = number | { readonly shape: readonly number[]; readonly data: Float };

const isFloat = (v: Val): v is { shape: readonly number[]; data: Float } =>
  typeof v === "object" && (v.data instanceof Float64Array || v.data instanceof Float32Array);

const alloc = (f32: boolean, n: number): Float => (f32 ? new Float32Array(n) : new Float64Array(n));

/**
 * An elementwise op of float operands (numbers or float tensors) with broadcasting, or null
 * when the arguments are of another kind (booleans) and the reference should handle them.
 */
export function elementwise(def: ElementwiseOp, args: readonly Val[], attrs: Attrs = {}): Val | null {
  // An op whose attributes name its result dtype (`cast`) changes it: the reference does that.
  if (attrs["dtype"] !== undefined) return null;
  if (args.length === 1) {
    const x = args[0]!;
    if (!isFloat(x) || x.shape.length === 0) return null;
    const f = def.scalar;
    const a = x.data;
    const out = alloc(a instanceof Float32Array, a.length);
    for (let i = 0; i < a.length; i++) out[i] = f(a[i]!);
    return { shape: [...x.shape], data: out };
  }
  if (args.length !== 2) return null;
  const x = args[0]!;
  const y = args[1]!;
  if (!(typeof x === "number" || isFloat(x)) || !(typeof y === "number" || isFloat(y))) return null;
  if ((typeof x === "object" && x.shape.length === 0) || (typeof y === "object" && y.shape.length === 0)) return null;
  return binary(def.scalar, x, y);
}

function binary(f: (a: number, b: number) => number, x: Operand, y: Operand): Val {
  if (typeof x === "number" && typeof y === "number") return f(x, y);
  // The promotion rule of ops/registry.ts `resultDType`: numbers are weak, any f64 tensor wins.
  const f32 = (typeof x === "number" || x.data instanceof Float32Array) && (typeof y === "number" || y.data instanceof Float32Array);
  if (typeof y === "number") {
    const a = (x as Exclude<Operand, number>).data;
    const out = alloc(f32, a.length);
    for (let i = 0; i < a.length; i++) out[i] = f(a[i]!, y);
    return { shape: [...(x as TensorVal).shape], data: out };
  }
  if (typeof x === "number") {
    const b = y.data;
    const out = alloc(f32, b.length);
    for (let i = 0; i < b.length; i++) out[i] = f(x, b[i]!);
    return { shape: [...y.shape], data: out };
  }
  const shape = broadcastShapes(x.shape, y.shape) as number[];
  const n = shape.reduce((p, d) => p * d, 1);
  const out = alloc(f32, n);
  const a = x.data;
  const b = y.data;
  if (a.length === n && b.length === n) {
    for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!);
    return { shape, data: out };
  }
  // Broadcasting: walk the output row-major, each input with stride 0 along its broadcast axes.
  const rank = shape.length;
  const sa = broadcastStrides(x.shape, shape);
  const sb = broadcastStrides(y.shape, shape);
  const last = rank - 1;
  const inner = shape[last]!;
  const ia = sa[last]!;
  const ib = sb[last]!;
  const coord = new Array<number>(rank).fill(0);
  let oa = 0;
  let ob = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0, pa = oa, pb = ob; j < inner; j++, pa += ia, pb += ib) out[o + j] = f(a[pa]!, b[pb]!);
    // Advance the odometer over the outer axes.
    for (let ax = last - 1; ax >= 0; ax--) {
      coord[ax]!++;
      oa += sa[ax]!;
      ob += sb[ax]!;
      if (coord[ax]! < shape[ax]!) break;
      oa -= sa[ax]! * shape[ax]!;
      ob -= sb[ax]! * shape[ax]!;
      coord[ax] = 0;
    }
  }
  return { shape, data: out };
}

/** Strides of `inShape` read in the coordinates of `outShape`: 0 along broadcast axes. */
function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const offset = outShape.length - inShape.length;
  const s = new Array<number>(outShape.length).fill(0);
  let acc = 1;
  for (let ax = inShape.length - 1; ax >= 0; ax--) {
    s[ax + offset] = inShape[ax] === 1 ? 0 : acc;
    acc *= inShape[ax]!;
  }
  return s;
}

/**
 * `op(A)·op(B)` of 2-D float tensors, op transposing when `ta`/`tb` is set (batched products
 * take the registry's evaluation). The inner loop
 * runs along rows of B (or, for Bᵀ, along rows of both), so memory is read sequentially.
 */
export function matmul(args: readonly Val[], attrs: Attrs): Val | null {
  const A = args[0]!;
  const B = args[1]!;
  if (!isFloat(A) || !isFloat(B) || A.shape.length !== 2 || B.shape.length !== 2) return null;
  const ta = attrs["ta"] === true;
  const tb = attrs["tb"] === true;
  const m = ta ? A.shape[1]! : A.shape[0]!;
  const k = ta ? A.shape[0]! : A.shape[1]!;
  const n = tb ? B.shape[0]! : B.shape[1]!;
  const a = A.data;
  const b = B.data;
  // Accumulate in float64 like the reference, over p in the same order (so the sums are
  // bit-identical), then store, rounding once for f32.
  const acc = new Float64Array(m * n);
  if (tb) {
    // B read transposed: each output entry is a dot product along rows of B.
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += (ta ? a[p * m + i]! : a[i * k + p]!) * b[j * k + p]!;
        acc[i * n + j] = s;
      }
  } else
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let p = 0; p < k; p++) {
      const aip = ta ? a[p * m + i]! : a[i * k + p]!;
      const brow = p * n;
      for (let j = 0; j < n; j++) acc[row + j]! += aip * b[brow + j]!;
    }
  }
  const f32 = a instanceof Float32Array && b instanceof Float32Array;
  return { shape: [m, n], data: f32 ? Float32Array.from(acc) : acc };
}
