// 2-D pooling over x [N, C, H, W] with a square window of `window` and a stride (the window by
// default): OH = ⌊(H − window) / stride⌋ + 1, no padding. Max pooling routes each gradient to
// the first maximal entry of its window (row-major), the rule of the max gate; its adjoint and
// the adjoint's adjoint (reading a tensor at each window's argmax) are ops of their own, so the
// three are closed under differentiation. Average pooling is linear; its adjoint spreads each
// gradient evenly over the window.

import type { Attrs, Dim, Type } from "../ir/types.js";
import { sweep } from "./conv.js";
import { type KernelOp, defineOp, formatShape, linearJvp, resultDType, ShapeError } from "./registry.js";
import { type TensorVal, allocData, dtypeOf } from "./values.js";

export interface PoolGeometry {
  readonly n: Dim;
  readonly c: Dim;
  readonly h: number;
  readonly w: number;
  readonly k: number;
  readonly stride: number;
  readonly oh: number;
  readonly ow: number;
}

/** The geometry of pooling x [N, C, H, W] by `attrs`; throws a ShapeError naming `op`. */
export function poolGeometry(x: readonly Dim[], attrs: Attrs, op: string): PoolGeometry {
  if (x.length !== 4) throw new ShapeError(`${op}: x must be [N, C, H, W], got ${formatShape(x)}`, "window");
  const [h, w] = [x[2]!, x[3]!];
  if (typeof h !== "number" || typeof w !== "number") throw new ShapeError(`${op}: the height and width of x must be known at compile time`, "window");
  const k = attrs["window"] as number;
  const stride = attrs["stride"] as number;
  const what = `${op} of ${formatShape(x)}`;
  return { n: x[0]!, c: x[1]!, h, w, k, stride, oh: sweep(h, k, stride, 0, 0, what), ow: sweep(w, k, stride, 0, 0, what) };
}

const outShape = (g: PoolGeometry): Dim[] => [g.n, g.c, g.oh, g.ow];

/** For each window (row-major over [N, C, OH, OW]): `f(outIndex, firstIndexOfMax)` of x. */
function forEachArgmax(x: TensorVal, g: PoolGeometry, f: (o: number, at: number) => void): void {
  const planes = x.shape[0]! * x.shape[1]!;
  const { h, w, k, stride, oh, ow } = g;
  let o = 0;
  for (let p = 0; p < planes; p++)
    for (let y = 0; y < oh; y++)
      for (let z = 0; z < ow; z++, o++) {
        let best = -Infinity;
        let at = -1;
        for (let u = 0; u < k; u++)
          for (let v = 0; v < k; v++) {
            const i = (p * h + y * stride + u) * w + z * stride + v;
            if (at < 0 || x.data[i]! > best) {
              best = x.data[i]!;
              at = i;
            }
          }
        f(o, at);
      }
}

const sameShape = (a: readonly Dim[], b: readonly Dim[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

function checkPooled(x: readonly Dim[], y: readonly Dim[], attrs: Attrs, op: string): PoolGeometry {
  const g = poolGeometry(x, attrs, op);
  if (!sameShape(y, outShape(g))) throw new ShapeError(`${op}: a pooled tensor of ${formatShape(x)} has shape ${formatShape(outShape(g))}, got ${formatShape(y)}`, "window");
  return g;
}

const poolAttrs = (attrs: Attrs): Attrs => ({ window: attrs["window"]!, stride: attrs["stride"]! });

export const maxPool2d = defineOp<KernelOp>({
  kind: "kernel",
  name: "max_pool2d",
  gradc: "maxPool2d",
  label: "maxPool2d",
  arity: 1,
  pure: true,
  infer: ([x], attrs): Type => ({ dtype: resultDType([x!]), shape: outShape(poolGeometry(x!.shape, attrs, "maxPool2d")) }),
  evaluate([x], attrs) {
    const X = x as TensorVal;
    const g = poolGeometry(X.shape, attrs, "maxPool2d");
    const shape = outShape(g) as number[];
    const data = allocData(dtypeOf(X), shape.reduce((a, b) => a * b, 1));
    forEachArgmax(X, g, (o, at) => (data[o] = X.data[at]!));
    return { shape, data };
  },
  vjp: (b, g, [x], _out, attrs) => [b.op("max_pool2d_grad", [x!, g], poolAttrs(attrs))],
  jvp: (b, [t], [x], _out, attrs) => (t ? b.op("max_pool2d_pick", [x!, t], poolAttrs(attrs)) : null),
  emit: (k, node) => k.loops(node),
});

/** `max_pool2d_grad(x, g)`: g's entries added at each window's argmax of x, zeros elsewhere. */
export const maxPool2dGrad = defineOp<KernelOp>({
  kind: "kernel",
  name: "max_pool2d_grad",
  label: "maxPool2d",
  arity: 2,
  pure: true,
  infer([x, y], attrs): Type {
    checkPooled(x!.shape, y!.shape, attrs, "maxPool2d");
    return { dtype: resultDType([y!]), shape: x!.shape };
  },
  evaluate([x, y], attrs) {
    const [X, Y] = [x as TensorVal, y as TensorVal];
    const acc = new Float64Array(X.data.length);
    forEachArgmax(X, poolGeometry(X.shape, attrs, "maxPool2d"), (o, at) => (acc[at]! += Y.data[o]!));
    const data = allocData(dtypeOf(Y), acc.length);
    data.set(acc);
    return { shape: [...X.shape], data };
  },
  // Piecewise constant in x (the argmax moves only at ties); linear in g.
  vjp: (b, h, [x], _out, attrs, needs) => [null, needs[1] ? b.op("max_pool2d_pick", [x!, h], poolAttrs(attrs)) : null],
  jvp: (b, [, t], [x], _out, attrs) => (t ? b.op("max_pool2d_grad", [x!, t], attrs) : null),
  emit: (k, node) => k.loops(node),
});

/** `max_pool2d_pick(x, h)`: h read at each window's argmax of x (pooled shape). */
export const maxPool2dPick = defineOp<KernelOp>({
  kind: "kernel",
  name: "max_pool2d_pick",
  label: "maxPool2d",
  arity: 2,
  pure: true,
  infer([x, h], attrs): Type {
    if (!sameShape(x!.shape, h!.shape)) throw new ShapeError(`maxPool2d: shapes ${formatShape(x!.shape)} and ${formatShape(h!.shape)} differ`, "window");
    return { dtype: resultDType([h!]), shape: outShape(poolGeometry(x!.shape, attrs, "maxPool2d")) };
  },
  evaluate([x, h], attrs) {
    const [X, H] = [x as TensorVal, h as TensorVal];
    const g = poolGeometry(X.shape, attrs, "maxPool2d");
    const shape = outShape(g) as number[];
    const data = allocData(dtypeOf(H), shape.reduce((a, b) => a * b, 1));
    forEachArgmax(X, g, (o, at) => (data[o] = H.data[at]!));
    return { shape, data };
  },
  vjp: (b, g, [x], _out, attrs, needs) => [null, needs[1] ? b.op("max_pool2d_grad", [x!, g], poolAttrs(attrs)) : null],
  jvp: (b, [, t], [x], _out, attrs) => (t ? b.op("max_pool2d_pick", [x!, t], attrs) : null),
  emit: (k, node) => k.loops(node),
});

/** For each window (row-major over [N, C, OH, OW]) and each entry of it: `f(outIndex, xIndex)`. */
function forEachTap(planes: number, g: PoolGeometry, f: (o: number, i: number) => void): void {
  const { h, w, k, stride, oh, ow } = g;
  let o = 0;
  for (let p = 0; p < planes; p++)
    for (let y = 0; y < oh; y++)
      for (let z = 0; z < ow; z++, o++)
        for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) f(o, (p * h + y * stride + u) * w + z * stride + v);
}

export const avgPool2d = defineOp<KernelOp>({
  kind: "kernel",
  name: "avg_pool2d",
  gradc: "avgPool2d",
  label: "avgPool2d",
  arity: 1,
  pure: true,
  infer: ([x], attrs): Type => ({ dtype: resultDType([x!]), shape: outShape(poolGeometry(x!.shape, attrs, "avgPool2d")) }),
  evaluate([x], attrs) {
    const X = x as TensorVal;
    const g = poolGeometry(X.shape, attrs, "avgPool2d");
    const shape = outShape(g) as number[];
    const acc = new Float64Array(shape.reduce((a, b) => a * b, 1));
    forEachTap(X.shape[0]! * X.shape[1]!, g, (o, i) => (acc[o]! += X.data[i]!));
    const data = allocData(dtypeOf(X), acc.length);
    for (let o = 0; o < acc.length; o++) data[o] = acc[o]! / (g.k * g.k);
    return { shape, data };
  },
  vjp: (b, g, [x], _out, attrs) => {
    const s = b.typeOf(x!).shape;
    return [b.op("avg_pool2d_grad", [g], { ...poolAttrs(attrs), input: [s[2]!, s[3]!] })];
  },
  jvp: linearJvp("avg_pool2d"),
  emit: (k, node) => k.loops(node),
});

/** avgPool2d's adjoint: each gradient entry spread evenly over its window of [N, C, H, W]. */
export const avgPool2dGrad = defineOp<KernelOp>({
  kind: "kernel",
  name: "avg_pool2d_grad",
  label: "avgPool2d",
  arity: 1,
  pure: true,
  infer([y], attrs): Type {
    const [h, w] = attrs["input"] as readonly number[];
    if (y!.shape.length !== 4) throw new ShapeError(`avgPool2d: the gradient must be [N, C, OH, OW], got ${formatShape(y!.shape)}`, "window");
    const x = [y!.shape[0]!, y!.shape[1]!, h!, w!];
    checkPooled(x, y!.shape, attrs, "avgPool2d");
    return { dtype: resultDType([y!]), shape: x };
  },
  evaluate([y], attrs) {
    const Y = y as TensorVal;
    const [h, w] = attrs["input"] as readonly number[];
    const shape = [Y.shape[0]!, Y.shape[1]!, h!, w!];
    const g = poolGeometry(shape, attrs, "avgPool2d");
    const acc = new Float64Array(shape.reduce((a, b) => a * b, 1));
    forEachTap(shape[0]! * shape[1]!, g, (o, i) => (acc[i]! += Y.data[o]! / (g.k * g.k)));
    const data = allocData(dtypeOf(Y), acc.length);
    data.set(acc);
    return { shape, data };
  },
  vjp: (b, h, _args, _out, attrs) => [b.op("avg_pool2d", [h], poolAttrs(attrs))],
  jvp: linearJvp("avg_pool2d_grad"),
  emit: (k, node) => k.loops(node),
});
