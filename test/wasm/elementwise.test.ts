// The fused elementwise kernels against plain JavaScript, at lengths that leave every vector
// remainder (0 to lanes − 1 elements), with the special values relu must treat as JavaScript does.

import { describe, expect, it } from "vitest";
import { instantiate, random, type Elem } from "./harness.js";
import { Arena } from "../../compiler/wasm/memory.js";

const relu = (v: number): number => (v > 0 ? v : 0);
const round = (elem: Elem, v: number): number => (elem === "f32" ? Math.fround(v) : v);
const SHAPES: Array<[number, number]> = [[1, 1], [3, 5], [2, 4], [7, 17], [64, 128], [5, 67], [4, 129]];
const SPECIAL = [NaN, -0, 0, -1e-30, 1e-30, Infinity, -Infinity, 1.5, -2.5];

describe("elementwise kernels", () => {
  const inst = instantiate(1 << 20);
  for (const elem of ["f32", "f64"] as const) {
    const size = elem === "f32" ? 4 : 8;

    it(`bias_relu_${elem}: relu(x + bias) per row, exactly as JavaScript rounds it`, () => {
      for (const [rows, cols] of SHAPES) {
        const arena = new Arena();
        const [out, x, bias] = [rows * cols, rows * cols, cols].map((n) => arena.alloc(n * size)) as [number, number, number];
        const xs = random(rows + cols, rows * cols).map((v, i) => (i < SPECIAL.length ? SPECIAL[i]! : v));
        const bs = random(cols, cols);
        inst.view(elem, x, rows * cols).set(xs);
        inst.view(elem, bias, cols).set(bs);
        inst.kernels[`bias_relu_${elem}`](out, x, bias, rows, cols);
        const xv = inst.view(elem, x, rows * cols);
        const bv = inst.view(elem, bias, cols);
        const want = Array.from(xv, (v, i) => relu(round(elem, v + bv[i % cols]!)));
        expect(Array.from(inst.view(elem, out, rows * cols)), `${rows}×${cols}`).toEqual(want);
      }
    });

    it(`relu_mask_${elem}: dy where y > 0, else 0`, () => {
      for (const n of [1, 3, 4, 5, 17, 64, 67, 129]) {
        const arena = new Arena();
        const [dx, dy, y] = [n, n, n].map(() => arena.alloc(n * size)) as [number, number, number];
        inst.view(elem, dy, n).set(random(n, n));
        inst.view(elem, y, n).set(random(n + 1, n).map((v, i) => (i < SPECIAL.length ? SPECIAL[i]! : v)));
        inst.kernels[`relu_mask_${elem}`](dx, dy, y, n);
        const dyv = inst.view(elem, dy, n);
        const yv = inst.view(elem, y, n);
        const want = Array.from(dyv, (g, i) => (yv[i]! > 0 ? g : 0));
        expect(Array.from(inst.view(elem, dx, n)), `n = ${n}`).toEqual(want);
      }
    });

    it(`col_sum_${elem}: column sums, replacing or accumulating`, () => {
      for (const [rows, cols] of SHAPES) {
        for (const acc of [0, 1]) {
          const arena = new Arena();
          const out = arena.alloc(cols * size);
          const x = arena.alloc(rows * cols * size);
          inst.view(elem, x, rows * cols).set(random(rows * 31 + cols, rows * cols));
          inst.view(elem, out, cols).set(random(cols, cols));
          const start = Array.from(inst.view(elem, out, cols));
          inst.kernels[`col_sum_${elem}`](out, x, rows, cols, acc);
          const xv = inst.view(elem, x, rows * cols);
          const got = inst.view(elem, out, cols);
          for (let c = 0; c < cols; c++) {
            let s = acc ? start[c]! : 0;
            let scale = Math.abs(s);
            for (let r = 0; r < rows; r++) {
              s += xv[r * cols + c]!;
              scale += Math.abs(xv[r * cols + c]!);
            }
            const tol = (elem === "f32" ? 1e-6 : 1e-14) * Math.max(scale, 1e-300);
            expect(Math.abs(got[c]! - s), `${rows}×${cols} acc ${acc} column ${c}`).toBeLessThanOrEqual(tol);
          }
        }
      }
    });
  }
});
