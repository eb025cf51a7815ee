// Matrix products as JS loops, the innermost loop always contiguous: 4×4 register blocks for
// static sizes that are multiples of 4, sums written out for a short static inner dimension,
// row-times-matrix updates when B is read by rows, dot products when B is transposed or a single
// column. (An inner dimension of 1, an outer product, is fused like elementwise code: kernels.ts.)

import type { Node, Value } from "../ir/types.js";
import { UNROLL, loop } from "./control.js";
import type { Emitter } from "./emitter.js";

/** `r * stride + c` as JS, leaving out terms that are 0 and factors that are 1. */
function linear(r: string, stride: string, c: string): string {
  const numeric = /^\d+$/.test(r) && /^\d+$/.test(stride);
  const head = r === "0" ? "" : numeric ? String(Number(r) * Number(stride)) : stride === "1" ? r : r === "1" ? stride : `${r} * ${stride}`;
  if (head === "") return c;
  return c === "0" ? head : `${head} + ${c}`;
}

/**
 * Emits `C = op(A) · op(B)` into the storage `C` (op: transposed when the attribute says so).
 * `read(0 | 1, index)` reads A or B where a read may be hoisted out of the loops (the short sums).
 */
export function emitMatmul(e: Emitter, node: Node, C: string, read: (operand: 0 | 1, index: string) => string): void {
  const [A, B] = node.args as [Value, Value];
  const out = node.outs[0]!;
  const ta = node.attrs["ta"] === true;
  const tb = node.attrs["tb"] === true;
  const [M, N] = out.type.shape.map((d) => e.dim(d)) as [string, string];
  const K = e.dim(ta ? A.type.shape[0]! : A.type.shape[1]!);
  const a = e.operand(A);
  const b = e.operand(B);
  const aAt = ta ? e.read(a, `p * ${M} + i`) : e.read(a, `i * ${K} + p`);
  if (/^\d+$/.test(M) && /^\d+$/.test(N) && Number(M) % 4 === 0 && Number(N) % 4 === 0 && K !== "1") {
    // 4×4 register blocks: sixteen accumulators, each operand element loaded once per block
    // row or column, and C written once (no zero fill, no read-modify-write).
    const R = [0, 1, 2, 3];
    e.line(`for (let i = 0; i < ${M}; i += 4) {`);
    e.nested(() => {
      if (!ta) R.forEach((r) => e.line(`const ar${r} = (i + ${r}) * ${K};`));
      e.line(`for (let j = 0; j < ${N}; j += 4) {`);
      e.nested(() => {
        if (tb) R.forEach((c) => e.line(`const br${c} = (j + ${c}) * ${K};`));
        e.line(`let ${R.flatMap((r) => R.map((c) => `c${r}${c} = 0`)).join(", ")};`);
        e.line(`for (let p = 0; p < ${K}; p++) {`);
        e.nested(() => {
          if (ta) e.line(`const ao = p * ${M} + i;`);
          if (!tb) e.line(`const bo = p * ${N} + j;`);
          e.line(`const ${R.map((r) => `a${r} = ${ta ? e.read(a, `ao + ${r}`) : e.read(a, `ar${r} + p`)}`).join(", ")};`);
          e.line(`const ${R.map((c) => `b${c} = ${tb ? e.read(b, `br${c} + p`) : e.read(b, `bo + ${c}`)}`).join(", ")};`);
          R.forEach((r) => e.line(R.map((c) => `c${r}${c} += a${r} * b${c};`).join(" ")));
        });
        e.line("}");
        R.forEach((r) => e.line(`{ const o = (i + ${r}) * ${N} + j; ${R.map((c) => `${C}[o + ${c}] = c${r}${c};`).join(" ")} }`));
      });
      e.line("}");
    });
    e.line("}");
    return;
  }
  if (/^\d+$/.test(K) && Number(K) <= UNROLL) {
    // A short inner dimension: each entry is one sum of products, written out (no accumulator
    // loop, no zero fill); a dimension of one needs no loop.
    const entry = (i: string, j: string): void => {
      const terms = Array.from({ length: Number(K) }, (_x, p) => {
        const k = String(p);
        return `${read(0, ta ? linear(k, M, i) : linear(i, K, k))} * ${read(1, tb ? linear(j, K, k) : linear(k, N, j))}`;
      });
      e.line(`${C}[${linear(i, N, j)}] = ${terms.join(" + ")};`);
    };
    const rows = (body: (i: string) => void): void => (M === "1" ? body("0") : loop(e, "i", M, () => body("i")));
    rows((i) => (N === "1" ? entry(i, "0") : loop(e, "j", N, () => entry(i, "j"))));
    return;
  }
  if (!tb && N !== "1") {
    // C[i,:] += A(i,p) * B[p,:]: the innermost loop walks rows of B and C contiguously.
    loop(e, "i", M, () => {
      e.line(`const ci = i * ${N};`);
      e.line(`for (let j = 0; j < ${N}; j++) ${C}[ci + j] = 0;`);
      loop(e, "p", K, () => {
        e.line(`const a = ${aAt};`);
        e.line(`const bp = p * ${N};`);
        e.line(`for (let j = 0; j < ${N}; j++) ${C}[ci + j]${e.bang} += a * ${e.read(b, "bp + j")};`);
      });
    });
    return;
  }
  // C[i,j] = dot(A(i,:), B(:,j)) with B(:,j) contiguous: B transposed, or a single column.
  const bAt = tb ? e.read(b, `j * ${K} + p`) : e.read(b, "p");
  loop(e, "i", M, () =>
    loop(e, "j", N, () => {
      e.line("let acc = 0;");
      if (K === "1") e.line(`{ const p = 0; acc += ${aAt} * ${bAt}; }`);
      else e.line(`for (let p = 0; p < ${K}; p++) acc += ${aAt} * ${bAt};`);
      e.line(`${C}[i * ${N} + j] = acc;`);
    }),
  );
}
