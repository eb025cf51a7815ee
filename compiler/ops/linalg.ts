// Matrix product with NumPy batch semantics: `[..., M, K] · [..., K, N] → [..., M, N]`, the
// batch dimensions broadcast. The transposition flags (`ta`, `tb`: the last two axes swapped)
// let the backward pass read A and B transposed in place, so no transposed copy is ever made.

import type { Attrs, Dim, Type } from "../ir/types.js";
import { sumTo } from "./broadcast.js";
import { type Builder, type KernelOp, broadcastShapes, defineOp, formatShape, resultDType, ShapeError } from "./registry.js";
import { sizeFactors } from "./shape.js";
import { sugar } from "./sugar.js";
import { type TensorVal, allocData, broadcastIndex, dtypeOf, sizeOf } from "./values.js";

/** The batch shape, M, K and N of `op(A)·op(B)`; throws a ShapeError naming both shapes. */
export function matmulDims(a: readonly Dim[], b: readonly Dim[], attrs: Attrs): { batch: Dim[]; m: Dim; k: Dim; n: Dim } {
  if (a.length < 2 || b.length < 2)
    throw new ShapeError(`matmul takes tensors of rank 2 or more, got ${formatShape(a)} and ${formatShape(b)}`, "matmul");
  const [a0, a1] = [a[a.length - 2]!, a[a.length - 1]!];
  const [b0, b1] = [b[b.length - 2]!, b[b.length - 1]!];
  const [m, ka] = attrs["ta"] === true ? [a1, a0] : [a0, a1];
  const [kb, n] = attrs["tb"] === true ? [b1, b0] : [b0, b1];
  if (ka !== kb)
    throw new ShapeError(`matmul of ${formatShape(a)} by ${formatShape(b)}: inner dimensions ${ka} and ${kb} differ`, "matmul");
  let batch: Dim[];
  try {
    batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  } catch {
    throw new ShapeError(
      `matmul of ${formatShape(a)} by ${formatShape(b)}: batch dimensions ${formatShape(a.slice(0, -2))} and ${formatShape(b.slice(0, -2))} do not broadcast`,
      "matmul",
    );
  }
  return { batch, m, k: ka, n };
}

/**
 * `op(A)·op(B)` on concrete values, per batch entry, accumulating in float64 over p in order
 * (so rank-2 products are bit-identical to the tape's kernel) and rounding once for f32.
 */
function evaluateMatmul(A: TensorVal, B: TensorVal, attrs: Attrs): TensorVal {
  const { batch, m, k, n } = matmulDims(A.shape, B.shape, attrs) as { batch: number[]; m: number; k: number; n: number };
  const ta = attrs["ta"] === true;
  const tb = attrs["tb"] === true;
  const aIndex = broadcastIndex(A.shape.slice(0, -2), batch);
  const bIndex = broadcastIndex(B.shape.slice(0, -2), batch);
  const dtype = resultDType([{ dtype: dtypeOf(A), shape: A.shape }, { dtype: dtypeOf(B), shape: B.shape }]);
  const out = allocData(dtype, sizeOf(batch) * m * n);
  const a = A.data;
  const b = B.data;
  for (let t = 0; t < sizeOf(batch); t++) {
    const ao = aIndex(t) * m * k;
    const bo = bIndex(t) * k * n;
    const co = t * m * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ao + (ta ? p * m + i : i * k + p)]! * b[bo + (tb ? j * k + p : p * n + j)]!;
        out[co + i * n + j] = s;
      }
  }
  return { shape: [...batch, m, n], data: out };
}

/**
 * dB of `A·op(B)` when B is not batched (`x·W` with x [..., M, K]): the sum over the batch of
 * Aᵀ·G is one product over the batch's rows, Aᵀ·G with A as [batch·M, K] and G as
 * [batch·M, N] (reshapes, no copies), instead of a batched product then a sum. Undefined when
 * that does not apply, or when batch·M is not one dimension (a symbolic batch times a literal M).
 */
function flatWeightGrad<V>(b: Builder<V>, g: V, A: V, B: V, ta: boolean, tb: boolean): V | undefined {
  const s = sugar(b);
  const [a, w] = [s.shape(A), s.shape(B)];
  if (ta || a.length <= 2 || w.slice(0, -2).some((d) => d !== 1)) return undefined;
  const { product, symbols } = sizeFactors(a.slice(0, -1));
  if (symbols.length > 1 || (symbols.length === 1 && product !== 1)) return undefined;
  const rows: Dim = symbols[0] ?? product;
  const A2 = s.reshape(A, [rows, a[a.length - 1]!]);
  const g2 = s.reshape(g, [rows, s.shape(g)[a.length - 1]!]);
  const dB = tb ? s.matmul(g2, A2, true, false) : s.matmul(A2, g2, true, false);
  return w.length === 2 ? dB : s.reshape(dB, w);
}

export const matmul = defineOp<KernelOp>({
  kind: "kernel",
  name: "matmul",
  gradc: "matmul",
  arity: 2,
  pure: true,
  infer([a, b], attrs): Type {
    const { batch, m, n } = matmulDims(a!.shape, b!.shape, attrs);
    return { dtype: resultDType([a!, b!]), shape: [...batch, m, n] };
  },
  evaluate: ([a, b], attrs) => evaluateMatmul(a as TensorVal, b as TensorVal, attrs),
  // C = op(A)·op(B): dA and dB are products of G with the other operand, read transposed, then
  // summed over the batch dimensions their operand was broadcast along.
  vjp(b, g, [A, B], _out, attrs, needs) {
    const s = sugar(b);
    const ta = attrs["ta"] === true;
    const tb = attrs["tb"] === true;
    return [
      needs[0] ? sumTo(b, ta ? s.matmul(B!, g, tb, true) : s.matmul(g, B!, false, !tb), s.shape(A!)) : null,
      needs[1] ? (flatWeightGrad(b, g, A!, B!, ta, tb) ?? sumTo(b, tb ? s.matmul(g, A!, true, ta) : s.matmul(A!, g, !ta, false), s.shape(B!))) : null,
    ];
  },
  // Product rule: dC = op(dA)·op(B) + op(A)·op(dB), with the same flags.
  jvp(b, [tA, tB], [A, B], _out, attrs) {
    const left = tA ? b.op("matmul", [tA, B!], attrs) : null;
    const right = tB ? b.op("matmul", [A!, tB], attrs) : null;
    return left && right ? b.op("add", [left, right]) : (left ?? right);
  },
  // The backend writes batched products (rank above 2) with the loops of its own table.
  emit: (k, node) => k.matmul(node),
});
