// Fused elementwise kernels, the pattern for chains the planner fuses: one pass over memory,
// vectors for the body and a scalar loop for the remainder (sizes are call arguments).
//   bias_relu   out[r, c] = relu(x[r, c] + bias[c])       forward of relu(X·W + b)
//   relu_mask   dx[i] = y[i] > 0 ? dy[i] : 0             its backward, reusing relu's output
//   col_sum     out[c] (+)= Σ_r x[r, c]                   the bias gradient (acc ≠ 0: add to out)
// relu is JavaScript's `v > 0 ? v : 0` exactly (NaN and -0 give +0): pmax(0, v) in vectors,
// select in the tail.

import type { Expr, FunctionBuilder, Local, ModuleBuilder } from "./encoder.js";
import type { Precision } from "./precision.js";

export const ELEMENTWISE_KERNELS = ["bias_relu", "relu_mask", "col_sum"] as const;

const zero = (f: FunctionBuilder, p: Precision): Expr => (p.name === "f32" ? f.f32(0) : f.f64(0));

export function addElementwise(mod: ModuleBuilder, p: Precision): void {
  const vbytes = 16;
  mod.func(`bias_relu_${p.name}`, [["out", "i32"], ["x", "i32"], ["bias", "i32"], ["rows", "i32"], ["cols", "i32"]], [], (f) => {
    const [out, x, bias, rows, cols] = ["out", "x", "bias", "rows", "cols"].map((n) => f.param(n)) as Local[] as
      [Local, Local, Local, Local, Local];
    const r = f.local("r", "i32");
    const c = f.local("c", "i32");
    const po = f.local("po", "i32");
    const px = f.local("px", "i32");
    const pb = f.local("pb", "i32");
    const v = f.local("v", p.type);
    const g = (l: Local): Expr => f.get(l);
    f.comment(`bias_relu_${p.name}: out = relu(x + bias), bias broadcast along rows`);
    f.set(po, g(out));
    f.set(px, g(x));
    f.set(r, f.i32(0));
    f.whileLoop(f.op("i32.lt_s", g(r), g(rows)), () => {
      f.set(pb, g(bias));
      f.set(c, f.i32(0));
      f.whileLoop(f.op("i32.le_s", f.op("i32.add", g(c), f.i32(p.lanes)), g(cols)), () => {
        const sum = f.op(p.vadd, f.load("v128.load", g(px)), f.load("v128.load", g(pb)));
        f.store("v128.store", g(po), f.op(p.vpmax, f.zero128(), sum));
        for (const l of [po, px, pb]) f.bump(l, vbytes);
        f.bump(c, p.lanes);
      });
      f.whileLoop(f.op("i32.lt_s", g(c), g(cols)), () => {
        f.set(v, f.op(p.add, f.load(p.load, g(px)), f.load(p.load, g(pb))));
        f.store(p.store, g(po), f.op("select", g(v), zero(f, p), f.op(p.gt, g(v), zero(f, p))));
        for (const l of [po, px, pb]) f.bump(l, p.bytes);
        f.bump(c, 1);
      });
      f.bump(r, 1);
    });
  });

  mod.func(`relu_mask_${p.name}`, [["dx", "i32"], ["dy", "i32"], ["y", "i32"], ["n", "i32"]], [], (f) => {
    const [dx, dy, y, n] = ["dx", "dy", "y", "n"].map((s) => f.param(s)) as [Local, Local, Local, Local];
    const i = f.local("i", "i32");
    const g = (l: Local): Expr => f.get(l);
    f.comment(`relu_mask_${p.name}: dx = y > 0 ? dy : 0`);
    f.set(i, f.i32(0));
    f.whileLoop(f.op("i32.le_s", f.op("i32.add", g(i), f.i32(p.lanes)), g(n)), () => {
      const mask = f.op(p.vgt, f.load("v128.load", g(y)), f.zero128());
      f.store("v128.store", g(dx), f.op("v128.and", f.load("v128.load", g(dy)), mask));
      for (const l of [dx, dy, y]) f.bump(l, vbytes);
      f.bump(i, p.lanes);
    });
    f.whileLoop(f.op("i32.lt_s", g(i), g(n)), () => {
      const pass = f.op(p.gt, f.load(p.load, g(y)), zero(f, p));
      f.store(p.store, g(dx), f.op("select", f.load(p.load, g(dy)), zero(f, p), pass));
      for (const l of [dx, dy, y]) f.bump(l, p.bytes);
      f.bump(i, 1);
    });
  });

  mod.func(`col_sum_${p.name}`, [["out", "i32"], ["x", "i32"], ["rows", "i32"], ["cols", "i32"], ["acc", "i32"]], [], (f) => {
    const [out, x, rows, cols, acc] = ["out", "x", "rows", "cols", "acc"].map((s) => f.param(s)) as
      [Local, Local, Local, Local, Local];
    const r = f.local("r", "i32");
    const c = f.local("c", "i32");
    const px = f.local("px", "i32");
    const stride = f.local("stride", "i32");
    const vs = f.local("vs", "v128");
    const s = f.local("s", p.type);
    const g = (l: Local): Expr => f.get(l);
    f.comment(`col_sum_${p.name}: out[c] (+)= sum over rows of x[r, c]`);
    f.set(stride, f.op("i32.mul", g(cols), f.i32(p.bytes)));
    f.set(c, f.i32(0));
    f.whileLoop(f.op("i32.le_s", f.op("i32.add", g(c), f.i32(p.lanes)), g(cols)), () => {
      f.ifElse(g(acc), () => f.set(vs, f.load("v128.load", g(out))), () => f.set(vs, f.zero128()));
      f.set(px, f.op("i32.add", g(x), f.op("i32.mul", g(c), f.i32(p.bytes))));
      f.set(r, f.i32(0));
      f.whileLoop(f.op("i32.lt_s", g(r), g(rows)), () => {
        f.set(vs, f.op(p.vadd, g(vs), f.load("v128.load", g(px))));
        f.bump(px, g(stride));
        f.bump(r, 1);
      });
      f.store("v128.store", g(out), g(vs));
      f.bump(out, vbytes);
      f.bump(c, p.lanes);
    });
    f.whileLoop(f.op("i32.lt_s", g(c), g(cols)), () => {
      f.ifElse(g(acc), () => f.set(s, f.load(p.load, g(out))), () => f.set(s, zero(f, p)));
      f.set(px, f.op("i32.add", g(x), f.op("i32.mul", g(c), f.i32(p.bytes))));
      f.set(r, f.i32(0));
      f.whileLoop(f.op("i32.lt_s", g(r), g(rows)), () => {
        f.set(s, f.op(p.add, g(s), f.load(p.load, g(px))));
        f.bump(px, g(stride));
        f.bump(r, 1);
      });
      f.store(p.store, g(out), g(s));
      f.bump(out, p.bytes);
      f.bump(c, 1);
    });
  });
}
