// Max pooling kernels (ops/pool.ts): the window maximum and the adjoint that routes each
// gradient to the first maximal entry of its window (row-major, a strict `>`: ties and NaN keep
// the earlier entry, exactly the rule of the JavaScript loops). Comparisons are branch-free in
// vectors: a lane per output column, each tap's entries gathered into a vector, then
// `gt` + `bitselect` keep the running maximum and the offset of its tap. Scalar code would
// branch on data (half the comparisons mispredicted on activations of random sign).
//   max_pool2d       y[p, y, z] = max over the window of x
//   max_pool2d_grad  dx = 0, then dx[argmax of window (p, y, z)] += dy[p, y, z], windows in order
// They take the convolution kernels' parameter list (conv.ts), so one host helper serves all
// window kernels: (out, a = x, b = dy, col unused, n, c, h, wd, o unused, kh = the window,
// kw unused, oh, ow, stride, pt and pl unused); the planes are n·c.

import type { Expr, FunctionBuilder, Local, ModuleBuilder } from "./encoder.js";
import { CONV_PARAMS } from "./conv.js";
import type { OpName } from "./opcodes.js";
import type { Precision } from "./precision.js";

export const POOL_KERNELS = ["max_pool2d", "max_pool2d_grad"] as const;

/** What pooling needs beyond the shared precision table. */
const LANES: Record<Precision["name"], { splat: OpName; replace: OpName; fromInt: OpName; toInt: OpName }> = {
  f32: { splat: "f32x4.splat", replace: "f32x4.replace_lane", fromInt: "f32.convert_i32_s", toInt: "i32.trunc_f32_s" },
  f64: { splat: "f64x2.splat", replace: "f64x2.replace_lane", fromInt: "f64.convert_i32_s", toInt: "i32.trunc_f64_s" },
};

export function addPool(mod: ModuleBuilder, p: Precision): void {
  for (const kind of POOL_KERNELS) mod.func(`${kind}_${p.name}`, CONV_PARAMS, [], (f) => writePool(f, p, kind === "max_pool2d_grad"));
}

function writePool(f: FunctionBuilder, p: Precision, grad: boolean): void {
  const lanes = LANES[p.name];
  const get = (l: Local): Expr => f.get(l);
  const add = (a: Expr, b: Expr): Expr => f.op("i32.add", a, b);
  const mul = (a: Expr, b: Expr): Expr => f.op("i32.mul", a, b);
  const lt = (a: Expr, b: Expr): Expr => f.op("i32.lt_s", a, b);
  const [out, x, dy, n, c, h, wd, k, oh, ow, stride] = named(["out", "a", "b", "n", "c", "h", "wd", "kh", "oh", "ow", "stride"] as const, (s) => f.param(s));
  const i32 = (name: string): Local => f.local(name, "i32");
  const [planes, plane, y, z, u, v, po, px, pd, rowX, tapPtr, tapOff, rowBytes, planeBytes, colBytes, end] =
    named(["planes", "plane", "y", "z", "u", "v", "po", "px", "pd", "rowx", "tapptr", "tapoff", "rowbytes", "planebytes", "colbytes", "end"] as const, i32);
  const off = Array.from({ length: p.lanes }, (_x, j) => i32(`off${j}`));
  const [best, tapv, val, mask] = named(["best", "tapv", "val", "mask"] as const, (s) => f.local(s, "v128"));
  f.comment(grad
    ? `max_pool2d_grad_${p.name}: dx = 0; dx[first argmax of each window] += dy, windows in row-major order`
    : `max_pool2d_${p.name}: y = the maximum of each window (the first one on ties, NaN kept)`);
  f.set(planes, mul(get(n), get(c)));
  f.set(rowBytes, mul(get(wd), f.i32(p.bytes)));
  f.set(planeBytes, mul(get(h), get(rowBytes)));
  f.set(colBytes, mul(get(stride), f.i32(p.bytes)));
  if (grad) {
    f.comment("dx = 0");
    f.set(pd, get(out));
    f.set(end, add(get(out), mul(get(planes), get(planeBytes))));
    f.whileLoop(f.op("i32.le_u", add(get(pd), f.i32(16)), get(end)), () => {
      f.store("v128.store", get(pd), f.zero128());
      f.bump(pd, 16);
    });
    f.whileLoop(f.op("i32.lt_u", get(pd), get(end)), () => {
      f.store(p.store, get(pd), p.name === "f32" ? f.f32(0) : f.f64(0));
      f.bump(pd, p.bytes);
    });
  }
  /** One lane per output column z + j (the last column repeated past the end), gathered at `at`. */
  const gather = (at: Expr): Expr => {
    let vec: Expr = f.op(lanes.splat, f.load(p.load, add(at, get(off[0]!))));
    for (let j = 1; j < p.lanes; j++) vec = f.lane(lanes.replace, j, vec, f.load(p.load, add(at, get(off[j]!))));
    return vec;
  };
  f.set(po, grad ? get(dy) : get(out));
  f.set(px, get(x));
  f.set(pd, get(out));
  f.set(plane, f.i32(0));
  f.whileLoop(lt(get(plane), get(planes)), () => {
    f.set(y, f.i32(0));
    f.whileLoop(lt(get(y), get(oh)), () => {
      f.set(rowX, add(get(px), mul(mul(get(y), get(stride)), get(rowBytes))));
      f.set(z, f.i32(0));
      f.whileLoop(lt(get(z), get(ow)), () => {
        off.forEach((o, j) => {
          const col = add(get(z), f.i32(j));
          const last = f.op("i32.sub", get(ow), f.i32(1));
          f.set(o, mul(f.op("select", col, last, lt(col, get(ow))), get(colBytes)));
        });
        f.set(best, gather(get(rowX)));
        f.set(tapv, f.zero128());
        // Every tap, the first again too (x > x is false: it changes nothing).
        f.set(u, f.i32(0));
        f.whileLoop(lt(get(u), get(k)), () => {
          f.set(v, f.i32(0));
          f.whileLoop(lt(get(v), get(k)), () => {
            f.set(tapOff, add(mul(get(u), get(wd)), get(v)));
            f.set(tapPtr, add(get(rowX), mul(get(tapOff), f.i32(p.bytes))));
            f.set(val, gather(get(tapPtr)));
            f.set(mask, f.op(p.vgt, get(val), get(best)));
            f.set(best, f.op("v128.bitselect", get(val), get(best), get(mask)));
            f.set(tapv, f.op("v128.bitselect", f.op(lanes.splat, f.op(lanes.fromInt, get(tapOff))), get(tapv), get(mask)));
            f.bump(v, 1);
          });
          f.bump(u, 1);
        });
        for (let j = 0; j < p.lanes; j++) {
          f.ifElse(lt(add(get(z), f.i32(j)), get(ow)), () => {
            if (!grad) return f.store(p.store, get(po), f.lane(p.extract, j, get(best)), j * p.bytes);
            // at = dx row + the column's offset + the tap's offset
            const tap = f.op(lanes.toInt, f.lane(p.extract, j, get(tapv)));
            const at = (): Expr => add(add(add(get(pd), mul(mul(get(y), get(stride)), get(rowBytes))), get(off[j]!)), mul(tap, f.i32(p.bytes)));
            f.set(tapPtr, at());
            f.store(p.store, get(tapPtr), f.op(p.add, f.load(p.load, get(tapPtr)), f.load(p.load, get(po), j * p.bytes)));
          });
        }
        // The next output: past this group's columns that exist.
        const next = add(get(z), f.i32(p.lanes));
        f.bump(po, mul(f.op("i32.sub", f.op("select", next, get(ow), f.op("i32.le_s", next, get(ow))), get(z)), f.i32(p.bytes)));
        f.set(z, next);
      });
      f.bump(y, 1);
    });
    f.bump(px, get(planeBytes));
    f.bump(pd, get(planeBytes));
    f.bump(plane, 1);
  });
}

/** Locals for a list of names, typed as a tuple of the same length. */
function named<T extends readonly string[]>(names: T, make: (name: string) => Local): { -readonly [K in keyof T]: Local } {
  return names.map(make) as { -readonly [K in keyof T]: Local };
}
