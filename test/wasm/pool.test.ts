// The max-pooling kernels against the JavaScript rule, bit for bit: each window's first maximal
// entry (row-major, strict `>`, so ties and a leading NaN keep the earlier entry), the gradient
// added there, windows in order (overlapping windows accumulate, in the same f32 rounding).
// Geometries leave vector remainders (widths not a multiple of the lanes), overlap (stride
// below the window), skip input (stride above it) and pool whole images.

import { describe, expect, it } from "vitest";
import { Arena } from "../../compiler/wasm/memory.js";
import { instantiate, random, type Elem } from "./harness.js";

/** [n, c, h, w, window, stride] */
const CASES: Array<[number, number, number, number, number, number]> = [
  [2, 3, 28, 28, 2, 2],
  [1, 2, 14, 14, 2, 2],
  [2, 3, 9, 11, 3, 2],
  [1, 2, 7, 7, 2, 1],
  [2, 1, 5, 9, 3, 3],
  [1, 1, 4, 13, 1, 1],
  [3, 2, 6, 6, 6, 6],
  [1, 1, 8, 10, 2, 3],
];

/** Special values where the rule matters: NaN, signed zeros, ties, infinities. */
const SPECIAL = [NaN, -0, 0, 0, Infinity, -Infinity, 1.5, 1.5, NaN, -2];

function reference(elem: Elem, x: ArrayLike<number>, dy: ArrayLike<number>, [n, c, h, w, k, s]: (typeof CASES)[number]) {
  const F = elem === "f32" ? Float32Array : Float64Array;
  const oh = Math.floor((h - k) / s) + 1;
  const ow = Math.floor((w - k) / s) + 1;
  const y = new F(n * c * oh * ow);
  const dx = new F(x.length);
  let o = 0;
  for (let p = 0; p < n * c; p++)
    for (let r = 0; r < oh; r++)
      for (let z = 0; z < ow; z++, o++) {
        let best = -Infinity;
        let at = -1;
        for (let u = 0; u < k; u++)
          for (let v = 0; v < k; v++) {
            const i = (p * h + r * s + u) * w + z * s + v;
            if (at < 0 || x[i]! > best) {
              best = x[i]!;
              at = i;
            }
          }
        y[o] = x[at]!;
        dx[at] = dx[at]! + dy[o]!;
      }
  return { y, dx, oh, ow };
}

describe("max pooling kernels", () => {
  const inst = instantiate(1 << 22);
  for (const elem of ["f32", "f64"] as const satisfies readonly Elem[]) {
    const size = elem === "f32" ? 4 : 8;
    it(`max_pool2d_${elem} and max_pool2d_grad_${elem} follow the first-maximum rule exactly`, () => {
      for (const g of CASES) {
        const [n, c, h, w, k, s] = g;
        const nx = n * c * h * w;
        // Special values scattered through x (every 7th entry), and runs of equal values.
        const x = random(h * w + k, nx).map((v, i) => (i % 7 === 3 ? SPECIAL[(i / 7) % SPECIAL.length | 0]! : i % 11 === 5 ? 0.25 : v));
        const xr = elem === "f32" ? Float32Array.from(x) : Float64Array.from(x);
        const probe = reference(elem, xr, [], g);
        const dy = random(n + c + s, probe.y.length);
        const want = reference(elem, xr, elem === "f32" ? Float32Array.from(dy) : dy, g);
        const arena = new Arena();
        const [px, py, pdy, pdx] = [nx, want.y.length, want.y.length, nx].map((len) => arena.alloc(len * size)) as [number, number, number, number];
        inst.view(elem, px, nx).set(xr);
        inst.view(elem, pdy, dy.length).set(dy);
        inst.view(elem, py, want.y.length).fill(7);
        inst.view(elem, pdx, nx).fill(7);
        const geometry = [n, c, h, w, 0, k, k, want.oh, want.ow, s, 0, 0] as const;
        inst.kernels[`max_pool2d_${elem}`](py, px, 0, 0, ...geometry);
        inst.kernels[`max_pool2d_grad_${elem}`](pdx, px, pdy, 0, ...geometry);
        const what = `${n}×${c}×${h}×${w}, window ${k}, stride ${s}`;
        // toEqual tells NaN from NaN and +0 from -0 as Object.is does.
        expect(Array.from(inst.view(elem, py, want.y.length)), what).toEqual(Array.from(want.y));
        expect(Array.from(inst.view(elem, pdx, nx)), what).toEqual(Array.from(want.dx));
      }
    });
  }
});
