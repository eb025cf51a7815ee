// Convolution kernels: im2col into a scratch area of the linear memory, then the matrix-product
// kernels of matmul.ts, one image at a time (the operands are [N, C, H, W] and [O, C, KH, KW],
// PyTorch's layout and arithmetic, as in ops/conv.ts). With P = OH·OW output positions and
// CKK = C·KH·KW taps per output:
//   im2col   col[(c, u, v), (y, z)] = x[c, y·s − top + u, z·s − left + v], 0 in the padding
//   col2im   its adjoint: x[c, iy, ix] = Σ col over the taps that read (iy, ix)
//   conv2d     per image  y[n] (O×P)  = w (O×CKK) · col (CKK×P)            matmul_nn
//   conv2d_dx  per image  col         = wᵀ (CKK×O) · dy[n] (O×P)          matmul_tn, then col2im
//   conv2d_dw  Σ images   dw (O×CKK) += dy[n] (O×P) · colᵀ (P×CKK)        matmul_nt (acc after the first)
// Every size, the stride and the padding are call arguments, so one kernel serves every
// convolution and a symbolic batch costs nothing. The scratch `col` holds CKK·P elements; it
// must not overlap the operands. The drivers take the range of images as `n` (a thread may run
// a slice of the batch by offsetting the image addresses).

import type { Expr, FunctionBuilder, Local, ModuleBuilder } from "./encoder.js";
import { matmulName } from "./matmul.js";
import type { OpName } from "./opcodes.js";
import type { Precision } from "./precision.js";

export const CONV_KERNELS = ["conv2d", "conv2d_dx", "conv2d_dw"] as const;
export type ConvKernel = (typeof CONV_KERNELS)[number];

/** The geometry every convolution kernel takes after its addresses, in this order. */
const GEOMETRY = ["c", "h", "wd", "o", "kh", "kw", "oh", "ow", "stride", "pt", "pl"] as const;

const i32s = (names: readonly string[]): Array<readonly [string, "i32"]> => names.map((n) => [n, "i32"] as const);

/** (out, a, b, col, n, geometry…): the parameters of the three drivers. */
export const CONV_PARAMS = i32s(["out", "a", "b", "col", "n", ...GEOMETRY]);

export function addConv(mod: ModuleBuilder, p: Precision): void {
  // im2col(col, x) and col2im(x, col) for one image: the geometry minus `o`.
  const imageGeometry = GEOMETRY.filter((g) => g !== "o");
  mod.func(`im2col_${p.name}`, i32s(["col", "x", ...imageGeometry]), [], (f) => new Im2Col(f, p, "im2col").write());
  mod.func(`col2im_${p.name}`, i32s(["x", "col", ...imageGeometry]), [], (f) => new Im2Col(f, p, "col2im").write());
  for (const kind of CONV_KERNELS) mod.func(`${kind}_${p.name}`, CONV_PARAMS, [], (f) => driver(f, p, kind));
}

const zeroOf = (f: FunctionBuilder, p: Precision): Expr => (p.name === "f32" ? f.f32(0) : f.f64(0));

/**
 * im2col (copy windows into columns) and col2im (add columns back into an image) share one
 * walk: for each tap (c, u, v) and output row y, the run of output columns [z0, z1) whose input
 * column is inside the image; outside it im2col writes zeros and col2im reads nothing. With
 * stride 1 a run is contiguous in both and moves in vectors.
 */
class Im2Col {
  private readonly g: Record<(typeof GEOMETRY)[number], Local>;
  private readonly x: Local;
  private readonly col: Local;

  constructor(
    private readonly f: FunctionBuilder,
    private readonly p: Precision,
    private readonly kind: "im2col" | "col2im",
  ) {
    this.g = Object.fromEntries(GEOMETRY.filter((n) => n !== "o").map((n) => [n, f.param(n)])) as Im2Col["g"];
    this.x = f.param("x");
    this.col = f.param("col");
  }

  write(): void {
    const { f, p, g } = this;
    const get = (l: Local): Expr => f.get(l);
    const add = (a: Expr, b: Expr): Expr => f.op("i32.add", a, b);
    const mul = (a: Expr, b: Expr): Expr => f.op("i32.mul", a, b);
    const sub = (a: Expr, b: Expr): Expr => f.op("i32.sub", a, b);
    const local = (name: string): Local => f.local(name, "i32");
    const [ci, u, v, y, z0, z1, iy, pc, px, end, rowBytes, xs, owb] =
      ["ci", "u", "v", "y", "z0", "z1", "iy", "pc", "px", "end", "rowb", "xs", "owb"].map(local) as Local[] as
        [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
    const im2col = this.kind === "im2col";
    f.comment(im2col
      ? `im2col_${p.name}: col[(c, u, v), (y, z)] = x[c, y·stride − pt + u, z·stride − pl + v], 0 outside`
      : `col2im_${p.name}: x[c, iy, ix] = sum of col over the taps that read it (x is overwritten)`);
    if (!im2col) {
      f.comment("x = 0");
      this.fillZero(get(this.x), mul(mul(get(g.c), get(g.h)), get(g.wd)));
    }
    f.set(pc, get(this.col));
    f.set(owb, mul(get(g.ow), f.i32(p.bytes)));
    f.set(xs, mul(get(g.stride), f.i32(p.bytes)));
    f.set(ci, f.i32(0));
    f.whileLoop(f.op("i32.lt_s", get(ci), get(g.c)), () => {
      f.set(u, f.i32(0));
      f.whileLoop(f.op("i32.lt_s", get(u), get(g.kh)), () => {
        f.set(v, f.i32(0));
        f.whileLoop(f.op("i32.lt_s", get(v), get(g.kw)), () => {
          // Output columns whose input column z·stride − pl + v lies in [0, wd).
          const ix = (z: Expr): Expr => add(sub(mul(z, get(g.stride)), get(g.pl)), get(v));
          f.set(z0, f.i32(0));
          f.whileLoop(f.op("i32.and", f.op("i32.lt_s", get(z0), get(g.ow)), f.op("i32.lt_s", ix(get(z0)), f.i32(0))), () => f.bump(z0, 1));
          f.set(z1, get(g.ow));
          f.whileLoop(
            f.op("i32.and", f.op("i32.gt_s", get(z1), get(z0)), f.op("i32.ge_s", ix(sub(get(z1), f.i32(1))), get(g.wd))),
            () => f.set(z1, sub(get(z1), f.i32(1))),
          );
          f.set(y, f.i32(0));
          f.whileLoop(f.op("i32.lt_s", get(y), get(g.oh)), () => {
            f.set(iy, add(sub(mul(get(y), get(g.stride)), get(g.pt)), get(u)));
            const outside = f.op("i32.or", f.op("i32.lt_s", get(iy), f.i32(0)), f.op("i32.ge_s", get(iy), get(g.h)));
            const inside = (): void => {
              // px = x + ((ci·h + iy)·wd + z0·stride − pl + v)·bytes
              const row = mul(add(mul(get(ci), get(g.h)), get(iy)), get(g.wd));
              f.set(px, add(get(this.x), mul(add(row, ix(get(z0))), f.i32(p.bytes))));
              if (im2col) this.fillZero(get(pc), get(z0));
              f.set(rowBytes, mul(sub(get(z1), get(z0)), f.i32(p.bytes)));
              f.set(end, add(add(get(pc), mul(get(z0), f.i32(p.bytes))), get(rowBytes)));
              this.run(pc, z0, px, end, xs, g.stride);
              if (im2col) this.fillZero(get(end), sub(get(g.ow), get(z1)));
            };
            if (im2col) f.ifElse(outside, () => this.fillZero(get(pc), get(g.ow)), inside);
            else f.ifElse(f.op("i32.eqz", outside), inside);
            f.bump(pc, get(owb));
            f.bump(y, 1);
          });
          f.bump(v, 1);
        });
        f.bump(u, 1);
      });
      f.bump(ci, 1);
    });
  }

  /**
   * Moves one run: col elements [pc + z0, end) ↔ x from px, stepping `xs` bytes in x.
   * Stride 1 moves vectors, then single elements.
   */
  private run(pc: Local, z0: Local, px: Local, end: Local, xs: Local, stride: Local): void {
    const { f, p } = this;
    const get = (l: Local): Expr => f.get(l);
    const q = f.local("q", "i32");
    f.set(q, f.op("i32.add", get(pc), f.op("i32.mul", get(z0), f.i32(p.bytes))));
    const im2col = this.kind === "im2col";
    const step = (load: OpName, store: OpName, add: OpName): void => {
      if (im2col) f.store(store, get(q), f.load(load, get(px)));
      else f.store(store, get(px), f.op(add, f.load(load, get(px)), f.load(load, get(q))));
    };
    f.ifElse(f.op("i32.eq", get(stride), f.i32(1)), () => {
      f.whileLoop(f.op("i32.le_u", f.op("i32.add", get(q), f.i32(16)), get(end)), () => {
        step("v128.load", "v128.store", p.vadd);
        f.bump(q, 16);
        f.bump(px, 16);
      });
    });
    f.whileLoop(f.op("i32.lt_u", get(q), get(end)), () => {
      step(p.load, p.store, p.add);
      f.bump(q, p.bytes);
      f.bump(px, get(xs));
    });
  }

  /** count elements of 0 from `at` (vectors, then single elements). */
  private fillZero(at: Expr, count: Expr): void {
    const { f, p } = this;
    const get = (l: Local): Expr => f.get(l);
    const a = this.scratch("fa");
    const e = this.scratch("fe");
    f.set(a, at);
    f.set(e, f.op("i32.add", get(a), f.op("i32.mul", count, f.i32(p.bytes))));
    f.whileLoop(f.op("i32.le_u", f.op("i32.add", get(a), f.i32(16)), get(e)), () => {
      f.store("v128.store", get(a), f.zero128());
      f.bump(a, 16);
    });
    f.whileLoop(f.op("i32.lt_u", get(a), get(e)), () => {
      f.store(p.store, get(a), zeroOf(f, p));
      f.bump(a, p.bytes);
    });
  }

  private readonly scratchLocals = new Map<string, Local>();

  private scratch(name: string): Local {
    let l = this.scratchLocals.get(name);
    if (!l) this.scratchLocals.set(name, (l = this.f.local(name, "i32")));
    return l;
  }
}

/** The loop over images of one convolution kernel (see the header for the three forms). */
function driver(f: FunctionBuilder, p: Precision, kind: ConvKernel): void {
  const get = (l: Local): Expr => f.get(l);
  const mul = (...xs: Expr[]): Expr => xs.reduce((a, b) => f.op("i32.mul", a, b));
  const [out, a, b, col, n] = ["out", "a", "b", "col", "n"].map((s) => f.param(s)) as [Local, Local, Local, Local, Local];
  const g = Object.fromEntries(GEOMETRY.map((s) => [s, f.param(s)])) as Record<(typeof GEOMETRY)[number], Local>;
  const [i, P, ckk, xBytes, yBytes] = ["i", "p", "ckk", "xbytes", "ybytes"].map((s) => f.local(s, "i32")) as
    [Local, Local, Local, Local, Local];
  const imageArgs = (x: Local): Expr[] => [get(x), ...GEOMETRY.filter((s) => s !== "o").map((s) => get(g[s]))];
  f.comment({
    conv2d: `conv2d_${p.name}: per image, col = im2col(x[i]); y[i] = w · col          (out = y, a = x, b = w)`,
    conv2d_dx: `conv2d_dx_${p.name}: per image, col = wᵀ · dy[i]; dx[i] = col2im(col)  (out = dx, a = dy, b = w)`,
    conv2d_dw: `conv2d_dw_${p.name}: dw = sum over images of dy[i] · im2col(x[i])ᵀ     (out = dw, a = x, b = dy)`,
  }[kind]);
  f.set(P, mul(get(g.oh), get(g.ow)));
  f.set(ckk, mul(get(g.c), get(g.kh), get(g.kw)));
  f.set(xBytes, mul(get(g.c), get(g.h), get(g.wd), f.i32(p.bytes)));
  f.set(yBytes, mul(get(g.o), get(P), f.i32(p.bytes)));
  if (kind === "conv2d_dw") {
    f.ifElse(f.op("i32.eqz", get(n)), () => {
      f.comment("no images: dw = 0 (an empty product)");
      f.call(matmulName("nt", p), get(out), get(b), get(col), get(g.o), get(ckk), f.i32(0), f.i32(0));
      f.ret();
    });
  }
  f.set(i, f.i32(0));
  f.whileLoop(f.op("i32.lt_s", get(i), get(n)), () => {
    if (kind === "conv2d") {
      f.call(`im2col_${p.name}`, get(col), ...imageArgs(a));
      f.call(matmulName("nn", p), get(out), get(b), get(col), get(g.o), get(P), get(ckk), f.i32(0));
      f.bump(a, get(xBytes));
      f.bump(out, get(yBytes));
    } else if (kind === "conv2d_dx") {
      f.call(matmulName("tn", p), get(col), get(b), get(a), get(ckk), get(P), get(g.o), f.i32(0));
      f.call(`col2im_${p.name}`, get(out), get(col), ...imageArgs(out).slice(1));
      f.bump(a, get(yBytes));
      f.bump(out, get(xBytes));
    } else {
      f.call(`im2col_${p.name}`, get(col), ...imageArgs(a));
      f.call(matmulName("nt", p), get(out), get(b), get(col), get(g.o), get(ckk), get(P), f.op("i32.ne", get(i), f.i32(0)));
      f.bump(a, get(xBytes));
      f.bump(b, get(yBytes));
    }
    f.bump(i, 1);
  });
}
