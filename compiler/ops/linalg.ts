// Matrix product of 2-D tensors. The transposition flags let the backward pass read A and B
// transposed in place, so no transposed copy is ever made.

import type { Type } from "../ir/types.js";
import { type KernelOp, defineOp, formatShape, resultDType, ShapeError } from "./registry.js";
import { sugar } from "./sugar.js";
import { type TensorVal, dtypeOf, makeVal } from "./values.js";

export const matmul = defineOp<KernelOp>({
  kind: "kernel",
  name: "matmul",
  gradc: "matmul",
  arity: 2,
  pure: true,
  infer([a, b], attrs): Type {
    if (a!.shape.length !== 2 || b!.shape.length !== 2)
      throw new ShapeError(
        `matmul takes 2-D tensors, got ${formatShape(a!.shape)} and ${formatShape(b!.shape)}`,
        "matmul",
      );
    const [m, ka] = attrs["ta"] === true ? [a!.shape[1]!, a!.shape[0]!] : [a!.shape[0]!, a!.shape[1]!];
    const [kb, n] = attrs["tb"] === true ? [b!.shape[1]!, b!.shape[0]!] : [b!.shape[0]!, b!.shape[1]!];
    if (ka !== kb)
      throw new ShapeError(
        `matmul of ${formatShape(a!.shape)} by ${formatShape(b!.shape)}: inner dimensions ${ka} and ${kb} differ`,
        "matmul",
      );
    return { dtype: resultDType([a!, b!]), shape: [m, n] };
  },
  evaluate([a, b], attrs) {
    const A = a as TensorVal;
    const B = b as TensorVal;
    const ta = attrs["ta"] === true;
    const tb = attrs["tb"] === true;
    const [m, k] = ta ? [A.shape[1]!, A.shape[0]!] : [A.shape[0]!, A.shape[1]!];
    const n = tb ? B.shape[0]! : B.shape[1]!;
    const at = (i: number, p: number) => (ta ? A.data[p * m + i]! : A.data[i * k + p]!);
    const bt = (p: number, j: number) => (tb ? B.data[j * k + p]! : B.data[p * n + j]!);
    const dtype = resultDType([{ dtype: dtypeOf(A), shape: A.shape }, { dtype: dtypeOf(B), shape: B.shape }]);
    return makeVal([m, n], dtype, (idx) => {
      const i = Math.floor(idx / n);
      const j = idx % n;
      let s = 0;
      for (let p = 0; p < k; p++) s += at(i, p) * bt(p, j);
      return s;
    });
  },
  // C = op(A)·op(B): dA and dB are products of G with the other operand, read transposed.
  vjp(b, g, [A, B], _out, attrs, needs) {
    const s = sugar(b);
    const ta = attrs["ta"] === true;
    const tb = attrs["tb"] === true;
    return [
      needs[0] ? (ta ? s.matmul(B!, g, tb, true) : s.matmul(g, B!, false, !tb)) : null,
      needs[1] ? (tb ? s.matmul(g, A!, true, ta) : s.matmul(A!, g, !ta, false)) : null,
    ];
  },
  // Product rule: dC = op(dA)·op(B) + op(A)·op(dB), with the same flags.
  jvp(b, [tA, tB], [A, B], _out, attrs) {
    const left = tA ? b.op("matmul", [tA, B!], attrs) : null;
    const right = tB ? b.op("matmul", [A!, tB], attrs) : null;
    return left && right ? b.op("add", [left, right]) : (left ?? right);
  },
  emit: (k, node) => k.matmul(node),
});
