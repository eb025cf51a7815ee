// A strided, 4×4 register-blocked matrix product for the hand-written references of cnn-mnist
// and attention: C[i, j] (+)= Σ_k A[i, k] · B[k, j], with each operand addressed through an
// offset and a row and column stride, so a transposed operand is the same matrix read with
// its strides swapped (no copy). C's rows are contiguous with stride `cRow`. Edge rows and
// columns that do not fill a 4×4 tile fall back to plain dot products. Sums are accumulated in
// locals (doubles) and stored once; nothing is allocated.

type Arr = Float32Array | Float64Array;

/**
 * C[M × N] = A[M × K] · B[K × N] (or += when `accumulate`), each operand strided.
 *
 * ```ts
 * // C = Aᵀ · B with A stored [K, M] row-major:
 * gemm(M, N, K, a, 0, 1, M, b, 0, N, 1, c, 0, N, false);
 * ```
 */
export function gemm(
  M: number, N: number, K: number,
  A: Arr, aOff: number, aRow: number, aCol: number,
  B: Arr, bOff: number, bRow: number, bCol: number,
  C: Arr, cOff: number, cRow: number,
  accumulate: boolean,
): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = aOff + i * aRow, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow;
    for (let j = 0; j < N4; j += 4) {
      const b0 = bOff + j * bCol, b1 = b0 + bCol, b2 = b1 + bCol, b3 = b2 + bCol;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0, ak = 0, bk = 0; k < K; k++, ak += aCol, bk += bRow) {
        const x0 = A[a0 + ak], x1 = A[a1 + ak], x2 = A[a2 + ak], x3 = A[a3 + ak];
        const y0 = B[b0 + bk], y1 = B[b1 + bk], y2 = B[b2 + bk], y3 = B[b3 + bk];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
      }
      let o = cOff + i * cRow + j;
      if (accumulate) {
        C[o] += c00; C[o + 1] += c01; C[o + 2] += c02; C[o + 3] += c03;
        o += cRow;
        C[o] += c10; C[o + 1] += c11; C[o + 2] += c12; C[o + 3] += c13;
        o += cRow;
        C[o] += c20; C[o + 1] += c21; C[o + 2] += c22; C[o + 3] += c23;
        o += cRow;
        C[o] += c30; C[o + 1] += c31; C[o + 2] += c32; C[o + 3] += c33;
      } else {
        C[o] = c00; C[o + 1] = c01; C[o + 2] = c02; C[o + 3] = c03;
        o += cRow;
        C[o] = c10; C[o + 1] = c11; C[o + 2] = c12; C[o + 3] = c13;
        o += cRow;
        C[o] = c20; C[o + 1] = c21; C[o + 2] = c22; C[o + 3] = c23;
        o += cRow;
        C[o] = c30; C[o + 1] = c31; C[o + 2] = c32; C[o + 3] = c33;
      }
    }
    if (N4 < N) edge(i, i + 4, N4, N, K, A, aOff, aRow, aCol, B, bOff, bRow, bCol, C, cOff, cRow, accumulate);
  }
  if (M4 < M) edge(M4, M, 0, N, K, A, aOff, aRow, aCol, B, bOff, bRow, bCol, C, cOff, cRow, accumulate);
}

/** Rows i0…i1 × columns j0…j1 of the product as plain dot products (the tiles' leftovers). */
function edge(
  i0: number, i1: number, j0: number, j1: number, K: number,
  A: Arr, aOff: number, aRow: number, aCol: number,
  B: Arr, bOff: number, bRow: number, bCol: number,
  C: Arr, cOff: number, cRow: number,
  accumulate: boolean,
): void {
  for (let i = i0; i < i1; i++) {
    for (let j = j0; j < j1; j++) {
      let s = 0;
      for (let k = 0, ai = aOff + i * aRow, bj = bOff + j * bCol; k < K; k++, ai += aCol, bj += bRow) s += A[ai] * B[bj];
      const o = cOff + i * cRow + j;
      C[o] = accumulate ? C[o] + s : s;
    }
  }
}
