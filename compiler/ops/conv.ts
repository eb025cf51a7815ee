// 2-D convolution in PyTorch's layout and arithmetic: x [N, C, H, W], w [O, C, KH, KW] →
// [N, O, OH, OW] with OH = ⌊(H + padTop + padBottom − KH) / stride⌋ + 1 (a cross-correlation,
// as in every deep-learning library). Its two adjoints are ops of their own, and the three are
// closed under differentiation: each one's VJP is built from the other two, so gradients of
// gradients work. Evaluation loops directly over the window (nothing larger than the operands
// is materialized); compiled code writes the same loops (codegen/windows.ts).

import type { Attrs, Dim, Type } from "../ir/types.js";
import { type Jvp, type KernelOp, defineOp, formatShape, resultDType, ShapeError } from "./registry.js";
import { type TensorVal, allocData, dtypeOf } from "./values.js";

/** Padding as [top, bottom, left, right]. */
export type Padding = readonly [number, number, number, number];

export interface ConvGeometry {
  readonly n: Dim;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly o: number;
  readonly kh: number;
  readonly kw: number;
  readonly oh: number;
  readonly ow: number;
  readonly stride: number;
  readonly pad: Padding;
}

const fixed = (d: Dim | undefined, what: string): number => {
  if (typeof d !== "number") throw new ShapeError(`${what} must be known at compile time, got ${String(d)}`, "window");
  return d;
};

/** Output size of a window sweep along one axis, or a ShapeError when the window does not fit. */
export function sweep(size: number, k: number, stride: number, before: number, after: number, what: string): number {
  const span = size + before + after - k;
  if (span < 0) throw new ShapeError(`${what}: the window ${k} does not fit in size ${size}${before + after > 0 ? ` padded by ${before + after}` : ""}`, "window");
  return Math.floor(span / stride) + 1;
}

export const strideOf = (attrs: Attrs): number => attrs["stride"] as number;
export const paddingOf = (attrs: Attrs): Padding => attrs["padding"] as unknown as Padding;

/** The geometry of conv2d(x, w) from the shapes of x and w; throws a located ShapeError. */
export function convGeometry(x: readonly Dim[], wt: readonly Dim[], attrs: Attrs, op = "conv2d"): ConvGeometry {
  if (x.length !== 4) throw new ShapeError(`${op}: x must be [N, C, H, W], got ${formatShape(x)}`, "window");
  if (wt.length !== 4) throw new ShapeError(`${op}: w must be [O, C, KH, KW], got ${formatShape(wt)}`, "window");
  if (x[1] !== wt[1]) throw new ShapeError(`${op} of x ${formatShape(x)} by w ${formatShape(wt)}: channels ${x[1]} and ${wt[1]} differ`, "window");
  const stride = strideOf(attrs);
  const pad = paddingOf(attrs);
  const h = fixed(x[2], `${op}: the height of x`);
  const w = fixed(x[3], `${op}: the width of x`);
  const kh = fixed(wt[2], `${op}: the kernel height`);
  const kw = fixed(wt[3], `${op}: the kernel width`);
  return {
    n: x[0]!,
    c: fixed(x[1], `${op}: the channels of x`),
    h,
    w,
    o: fixed(wt[0], `${op}: the output channels of w`),
    kh,
    kw,
    oh: sweep(h, kh, stride, pad[0], pad[1], `${op} of x ${formatShape(x)} by w ${formatShape(wt)}`),
    ow: sweep(w, kw, stride, pad[2], pad[3], `${op} of x ${formatShape(x)} by w ${formatShape(wt)}`),
    stride,
    pad,
  };
}

/**
 * Visits every (output position, input position, weight) triple of a convolution with the
 * input in range: `f(xIndex, wIndex, yIndex)`. Row-major throughout; the loops the compiled
 * code writes (codegen/windows.ts) visit in the same order.
 */
function forEachTap(g: ConvGeometry, n: number, f: (xi: number, wi: number, yi: number) => void): void {
  const { c, h, w, o, kh, kw, oh, ow, stride, pad } = g;
  for (let b = 0; b < n; b++)
    for (let q = 0; q < o; q++)
      for (let ci = 0; ci < c; ci++)
        for (let u = 0; u < kh; u++)
          for (let v = 0; v < kw; v++) {
            const wi = ((q * c + ci) * kh + u) * kw + v;
            for (let y = 0; y < oh; y++) {
              const iy = y * stride - pad[0] + u;
              if (iy < 0 || iy >= h) continue;
              for (let z = 0; z < ow; z++) {
                const ix = z * stride - pad[2] + v;
                if (ix < 0 || ix >= w) continue;
                f(((b * c + ci) * h + iy) * w + ix, wi, ((b * o + q) * oh + y) * ow + z);
              }
            }
          }
}

/** Accumulates in float64, then stores (rounding once for f32). */
function accumulate(shape: number[], like: readonly TensorVal[], fill: (acc: Float64Array) => void): TensorVal {
  const acc = new Float64Array(shape.reduce((a, b) => a * b, 1));
  fill(acc);
  const dtype = resultDType(like.map((t) => ({ dtype: dtypeOf(t), shape: t.shape })));
  const data = allocData(dtype, acc.length);
  data.set(acc);
  return { shape, data };
}

/** PyTorch's padding: a number for every side, or "same" (stride 1: the output keeps H and W). */
export function convPadding(padding: number | string, stride: number, kh: Dim, kw: Dim): [number, number, number, number] | string {
  if (typeof padding === "number") {
    if (!Number.isInteger(padding) || padding < 0) return `padding must be a whole number or "same", got ${padding}`;
    return [padding, padding, padding, padding];
  }
  if (padding !== "same") return `padding must be a whole number or "same", got "${padding}"`;
  if (stride !== 1) return `padding "same" needs stride 1 (as in PyTorch), got stride ${stride}`;
  if (typeof kh !== "number" || typeof kw !== "number") return "the kernel size must be known at compile time";
  // The extra row or column of an even kernel goes after (bottom, right), as in PyTorch.
  return [Math.floor((kh - 1) / 2), Math.ceil((kh - 1) / 2), Math.floor((kw - 1) / 2), Math.ceil((kw - 1) / 2)];
}

const sizeAttr = (attrs: Attrs): [number, number] => attrs["size"] as unknown as [number, number];

/** The JVP of an op bilinear in its two arguments: op(t0, a1) + op(a0, t1). */
function bilinearJvp(name: string): Jvp {
  return (b, [t0, t1], [a0, a1], _out, attrs) => {
    const left = t0 ? b.op(name, [t0, a1!], attrs) : null;
    const right = t1 ? b.op(name, [a0!, t1], attrs) : null;
    return left && right ? b.op("add", [left, right]) : (left ?? right);
  };
}

const windowAttrs = (attrs: Attrs): Attrs => ({ stride: attrs["stride"]!, padding: attrs["padding"]! });

export const conv2d = defineOp<KernelOp>({
  kind: "kernel",
  name: "conv2d",
  gradc: "conv2d",
  arity: 2,
  pure: true,
  infer([x, w], attrs): Type {
    const g = convGeometry(x!.shape, w!.shape, attrs);
    return { dtype: resultDType([x!, w!]), shape: [g.n, g.o, g.oh, g.ow] };
  },
  evaluate([x, w], attrs) {
    const [X, W] = [x as TensorVal, w as TensorVal];
    const g = convGeometry(X.shape, W.shape, attrs);
    const n = X.shape[0]!;
    return accumulate([n, g.o, g.oh, g.ow], [X, W], (acc) => forEachTap(g, n, (xi, wi, yi) => (acc[yi]! += X.data[xi]! * W.data[wi]!)));
  },
  vjp(b, g, [x, w], _out, attrs, needs) {
    const xs = b.typeOf(x!).shape;
    const ws = b.typeOf(w!).shape;
    return [
      needs[0] ? b.op("conv2d_dx", [g, w!], { ...windowAttrs(attrs), size: [xs[2]!, xs[3]!] }) : null,
      needs[1] ? b.op("conv2d_dw", [x!, g], { ...windowAttrs(attrs), size: [ws[2]!, ws[3]!] }) : null,
    ];
  },
  jvp: bilinearJvp("conv2d"),
  emit: (k, node) => k.loops(node),
});

/** The geometry of a conv2d whose output is `y` [N, O, OH, OW] and input is [N, C, size]. */
function adjointGeometry(xShape: readonly Dim[], wShape: readonly Dim[], y: readonly Dim[], attrs: Attrs, op: string): ConvGeometry {
  const g = convGeometry(xShape, wShape, attrs, op);
  if (y.length !== 4 || y[0] !== xShape[0] || y[1] !== g.o || y[2] !== g.oh || y[3] !== g.ow)
    throw new ShapeError(`${op}: the gradient has shape ${formatShape(y)}, expected ${formatShape([xShape[0]!, g.o, g.oh, g.ow])}`, "window");
  return g;
}

/** conv2d's adjoint in x: `conv2d_dx(g, w)` is [N, C, H, W] for a gradient g of conv2d(x, w). */
export const conv2dDx = defineOp<KernelOp>({
  kind: "kernel",
  name: "conv2d_dx",
  label: "conv2d",
  arity: 2,
  pure: true,
  infer([y, w], attrs): Type {
    const [h, wd] = sizeAttr(attrs);
    const xShape = [y!.shape[0]!, w!.shape[1]!, h, wd];
    adjointGeometry(xShape, w!.shape, y!.shape, attrs, "conv2d");
    return { dtype: resultDType([y!, w!]), shape: xShape };
  },
  evaluate([y, w], attrs) {
    const [Y, W] = [y as TensorVal, w as TensorVal];
    const [h, wd] = sizeAttr(attrs);
    const xShape = [Y.shape[0]!, W.shape[1]!, h, wd];
    const g = convGeometry(xShape, W.shape, attrs);
    return accumulate(xShape, [Y, W], (acc) => forEachTap(g, xShape[0]!, (xi, wi, yi) => (acc[xi]! += Y.data[yi]! * W.data[wi]!)));
  },
  vjp(b, h, [y, w], _out, attrs, needs) {
    const ws = b.typeOf(w!).shape;
    return [
      needs[0] ? b.op("conv2d", [h, w!], windowAttrs(attrs)) : null,
      needs[1] ? b.op("conv2d_dw", [h, y!], { ...windowAttrs(attrs), size: [ws[2]!, ws[3]!] }) : null,
    ];
  },
  jvp: bilinearJvp("conv2d_dx"),
  emit: (k, node) => k.loops(node),
});

/** conv2d's adjoint in w: `conv2d_dw(x, g)` is [O, C, KH, KW] for a gradient g of conv2d(x, w). */
export const conv2dDw = defineOp<KernelOp>({
  kind: "kernel",
  name: "conv2d_dw",
  label: "conv2d",
  arity: 2,
  pure: true,
  infer([x, y], attrs): Type {
    const [kh, kw] = sizeAttr(attrs);
    const wShape = [y!.shape[1]!, x!.shape[1]!, kh, kw];
    adjointGeometry(x!.shape, wShape, y!.shape, attrs, "conv2d");
    return { dtype: resultDType([x!, y!]), shape: wShape };
  },
  evaluate([x, y], attrs) {
    const [X, Y] = [x as TensorVal, y as TensorVal];
    const [kh, kw] = sizeAttr(attrs);
    const wShape = [Y.shape[1]!, X.shape[1]!, kh, kw];
    const g = convGeometry(X.shape, wShape, attrs);
    return accumulate(wShape, [X, Y], (acc) => forEachTap(g, X.shape[0]!, (xi, wi, yi) => (acc[wi]! += X.data[xi]! * Y.data[yi]!)));
  },
  vjp(b, h, [x, y], _out, attrs, needs) {
    const xs = b.typeOf(x!).shape;
    return [
      needs[0] ? b.op("conv2d_dx", [y!, h], { ...windowAttrs(attrs), size: [xs[2]!, xs[3]!] }) : null,
      needs[1] ? b.op("conv2d", [x!, h], windowAttrs(attrs)) : null,
    ];
  },
  jvp: bilinearJvp("conv2d_dw"),
  emit: (k, node) => k.loops(node),
});
