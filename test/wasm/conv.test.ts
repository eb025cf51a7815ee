// The convolution kernels against plain JavaScript loops written from the definition
// (PyTorch's conv2d: a cross-correlation over zero-padded input): im2col and col2im exactly,
// conv2d / conv2d_dx / conv2d_dw within rounding of an f64 reference, over geometries that
// leave every edge case (strides that skip input, padding wider than the kernel, odd widths
// that leave vector remainders, 1×1 kernels, a kernel as large as the input, empty batches).

import { describe, expect, it } from "vitest";
import { Arena } from "../../compiler/wasm/memory.js";
import { instantiate, random, type Elem } from "./harness.js";

interface Geometry {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  kh: number;
  kw: number;
  stride: number;
  /** top, bottom, left, right */
  pad: [number, number, number, number];
}

const CASES: Geometry[] = [
  { n: 2, c: 3, h: 7, w: 9, o: 5, kh: 3, kw: 2, stride: 1, pad: [1, 0, 2, 1] },
  { n: 3, c: 2, h: 8, w: 8, o: 4, kh: 3, kw: 3, stride: 2, pad: [1, 1, 1, 1] },
  { n: 1, c: 1, h: 5, w: 5, o: 1, kh: 1, kw: 1, stride: 1, pad: [0, 0, 0, 0] },
  { n: 2, c: 2, h: 11, w: 13, o: 3, kh: 2, kw: 2, stride: 3, pad: [0, 0, 0, 0] },
  { n: 1, c: 2, h: 4, w: 5, o: 2, kh: 2, kw: 2, stride: 1, pad: [3, 3, 3, 3] },
  { n: 2, c: 3, h: 6, w: 6, o: 6, kh: 6, kw: 6, stride: 1, pad: [0, 0, 0, 0] },
  { n: 4, c: 8, h: 14, w: 14, o: 16, kh: 3, kw: 3, stride: 1, pad: [1, 1, 1, 1] },
  { n: 1, c: 1, h: 3, w: 17, o: 7, kh: 3, kw: 5, stride: 2, pad: [2, 1, 0, 3] },
];

const outSize = (size: number, k: number, stride: number, before: number, after: number): number =>
  Math.floor((size + before + after - k) / stride) + 1;

function dims(g: Geometry) {
  const oh = outSize(g.h, g.kh, g.stride, g.pad[0], g.pad[1]);
  const ow = outSize(g.w, g.kw, g.stride, g.pad[2], g.pad[3]);
  return { oh, ow, x: g.n * g.c * g.h * g.w, k: g.o * g.c * g.kh * g.kw, y: g.n * g.o * oh * ow, col: g.c * g.kh * g.kw * oh * ow };
}

/** The kernels' geometry arguments: c, h, w, o, kh, kw, oh, ow, stride, pad top, pad left. */
function args(g: Geometry): [number, number, number, number, number, number, number, number, number, number, number] {
  const { oh, ow } = dims(g);
  return [g.c, g.h, g.w, g.o, g.kh, g.kw, oh, ow, g.stride, g.pad[0], g.pad[2]];
}

/** Every (x index, w index, y index) of the convolution with the input in range. */
function taps(g: Geometry, f: (xi: number, wi: number, yi: number) => void): void {
  const { oh, ow } = dims(g);
  for (let b = 0; b < g.n; b++)
    for (let o = 0; o < g.o; o++)
      for (let c = 0; c < g.c; c++)
        for (let u = 0; u < g.kh; u++)
          for (let v = 0; v < g.kw; v++)
            for (let y = 0; y < oh; y++)
              for (let z = 0; z < ow; z++) {
                const iy = y * g.stride - g.pad[0] + u;
                const ix = z * g.stride - g.pad[2] + v;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                f(((b * g.c + c) * g.h + iy) * g.w + ix, ((o * g.c + c) * g.kh + u) * g.kw + v, ((b * g.o + o) * oh + y) * ow + z);
              }
}

/** Reference sums in f64 and, per entry, the sum of |terms| (the scale of rounding errors). */
function reference(g: Geometry, x: ArrayLike<number>, k: ArrayLike<number>, dy: ArrayLike<number>) {
  const d = dims(g);
  const [y, dx, dw] = [new Float64Array(d.y), new Float64Array(d.x), new Float64Array(d.k)];
  const [ys, dxs, dws] = [new Float64Array(d.y), new Float64Array(d.x), new Float64Array(d.k)];
  taps(g, (xi, wi, yi) => {
    y[yi]! += k[wi]! * x[xi]!;
    ys[yi]! += Math.abs(k[wi]! * x[xi]!);
    dx[xi]! += dy[yi]! * k[wi]!;
    dxs[xi]! += Math.abs(dy[yi]! * k[wi]!);
    dw[wi]! += x[xi]! * dy[yi]!;
    dws[wi]! += Math.abs(x[xi]! * dy[yi]!);
  });
  return { y: [y, ys], dx: [dx, dxs], dw: [dw, dws] } as const;
}

const label = (g: Geometry): string =>
  `${g.n}×${g.c}×${g.h}×${g.w} * ${g.o}×${g.c}×${g.kh}×${g.kw}, stride ${g.stride}, padding ${g.pad.join(",")}`;

describe("convolution kernels", () => {
  const inst = instantiate(1 << 22);

  for (const elem of ["f32", "f64"] as const satisfies readonly Elem[]) {
    const size = elem === "f32" ? 4 : 8;
    const round = elem === "f32" ? Math.fround : (v: number) => v;

    it(`im2col_${elem} lays out each window as a column, zeros in the padding; col2im adds them back`, () => {
      for (const g of CASES) {
        const d = dims(g);
        const one = { ...g, n: 1 };
        const arena = new Arena();
        const [px, pcol, pback] = [d.x, d.col, d.x].map((len) => arena.alloc(len * size)) as [number, number, number];
        const xs = random(g.h + g.w, g.c * g.h * g.w).map(round);
        inst.view(elem, px, xs.length).set(xs);
        // Garbage where the kernel must write zeros or overwrite.
        inst.view(elem, pcol, d.col).fill(7);
        inst.view(elem, pback, xs.length).fill(7);
        const [c, h, w, , kh, kw, oh, ow, stride, pt, pl] = args(g);
        inst.kernels[`im2col_${elem}`](pcol, px, c, h, w, kh, kw, oh, ow, stride, pt, pl);
        const want = new Array<number>(d.col).fill(0);
        const back = new Array<number>(xs.length).fill(0);
        // The column of output position (y, z), row of tap (c, u, v): read from x where in range.
        taps({ ...one, o: 1 }, (xi, wi, yi) => {
          want[wi * d.oh * d.ow + yi] = xs[xi]!;
        });
        expect(Array.from(inst.view(elem, pcol, d.col)), label(g)).toEqual(want);
        // col2im of the same columns: each input entry times the number of windows that read it
        // (sums of equal terms, exact in both precisions at these counts).
        inst.kernels[`col2im_${elem}`](pback, pcol, c, h, w, kh, kw, oh, ow, stride, pt, pl);
        taps({ ...one, o: 1 }, (xi) => {
          back[xi] = round(back[xi]! + xs[xi]!);
        });
        expect(Array.from(inst.view(elem, pback, xs.length)), label(g)).toEqual(back);
      }
    });

    it(`conv2d_${elem}, conv2d_dx_${elem}, conv2d_dw_${elem} equal the definition within rounding`, () => {
      const tol = elem === "f32" ? 1e-6 : 1e-14;
      for (const g of CASES) {
        const d = dims(g);
        const arena = new Arena();
        const [px, pk, pdy, py, pdx, pdw, pcol] = [d.x, d.k, d.y, d.y, d.x, d.k, d.col].map((len) => arena.alloc(len * size)) as
          [number, number, number, number, number, number, number];
        const x = random(1 + g.c, d.x).map(round);
        const k = random(2 + g.o, d.k).map(round);
        const dy = random(3 + g.n, d.y).map(round);
        inst.view(elem, px, d.x).set(x);
        inst.view(elem, pk, d.k).set(k);
        inst.view(elem, pdy, d.y).set(dy);
        for (const [at, len] of [[py, d.y], [pdx, d.x], [pdw, d.k]] as const) inst.view(elem, at, len).fill(7);
        inst.kernels[`conv2d_${elem}`](py, px, pk, pcol, g.n, ...args(g));
        inst.kernels[`conv2d_dx_${elem}`](pdx, pdy, pk, pcol, g.n, ...args(g));
        inst.kernels[`conv2d_dw_${elem}`](pdw, px, pdy, pcol, g.n, ...args(g));
        const ref = reference(g, x, k, dy);
        for (const [name, at, [want, scale]] of [["y", py, ref.y], ["dx", pdx, ref.dx], ["dw", pdw, ref.dw]] as const) {
          const got = inst.view(elem, at, want.length);
          want.forEach((v, i) => {
            expect(Math.abs(got[i]! - v), `${name}[${i}] of ${label(g)}`).toBeLessThanOrEqual(tol * Math.max(scale[i]!, 1e-300) * 8);
          });
        }
      }
    });

    it(`conv2d_dw_${elem} of an empty batch is zero; conv2d_${elem} writes nothing`, () => {
      const g = CASES[0]!;
      const d = dims(g);
      const arena = new Arena();
      const [px, pk, py, pcol] = [d.x, d.k, d.y, d.col].map((len) => arena.alloc(len * size)) as [number, number, number, number];
      inst.view(elem, pk, d.k).fill(7);
      inst.view(elem, py, d.y).fill(7);
      inst.kernels[`conv2d_dw_${elem}`](pk, px, py, pcol, 0, ...args(g));
      expect(Array.from(inst.view(elem, pk, d.k))).toEqual(new Array(d.k).fill(0));
      inst.kernels[`conv2d_${elem}`](py, px, pk, pcol, 0, ...args(g));
      expect(Array.from(inst.view(elem, py, d.y))).toEqual(new Array(d.y).fill(7));
    });
  }
});
