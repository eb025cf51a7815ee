// Fused elementwise kernels generated from an expression tree: code generation hands over the
// tree it would write as one JavaScript expression per element (codegen/wasm-elementwise.ts),
// and this file writes the WebAssembly function computing it, vectors for the body of each row
// and a scalar loop for its remainder.
//
//   name(out, l0 … lL-1, s0 … sS-1, rows, cols)     out[r, c] = expr(r, c)
//                                                   or, reduce "cols", out[c] = Σ_r expr(r, c)
//
// Leaves are read at a 2-D index (r, c) of the output seen as rows × cols (its last dimension
// is cols): `flat` at r·cols + c, `row` (broadcast along rows: a bias) at c, `col` (broadcast
// along columns) at r, `one` at 0; scalars are arguments (f32 kernels take them rounded to f32,
// as a Float32Array would store them). Each operator rounds to the kernel's precision; JavaScript
// evaluates a fused f32 expression in f64 and rounds once, so f32 results may differ in the last
// place (f64 kernels equal the JavaScript loop exactly). max and min are JavaScript's Math.max
// and Math.min (NaN wins, -0 < +0), as are WebAssembly's; a comparison gives a lane mask that
// `select` consumes (bitselect), or an i32 in the scalar loop.

import type { Expr, FunctionBuilder, Local, ModuleBuilder } from "./encoder.js";
import type { OpName } from "./opcodes.js";
import { F32, F64, type Precision } from "./precision.js";

export type FusedLeaf = "flat" | "row" | "col" | "one";
export type FusedOp = "add" | "sub" | "mul" | "div" | "neg" | "abs" | "sqrt" | "max" | "min" | "relu" | "select" | "gt" | "ge" | "lt" | "le" | "eq" | "ne" | "and";

export type FusedExpr =
  | { readonly kind: "load"; readonly arg: number }
  | { readonly kind: "scalar"; readonly arg: number }
  | { readonly kind: "const"; readonly value: number }
  | { readonly kind: "op"; readonly op: FusedOp; readonly args: readonly FusedExpr[] };

export interface FusedKernel {
  /** The export name (unique in the module). */
  readonly name: string;
  readonly dtype: "f32" | "f64";
  /** How each tensor leaf is indexed. */
  readonly leaves: readonly FusedLeaf[];
  readonly scalars: number;
  readonly expr: FusedExpr;
  /** `cols`: the kernel writes the column sums of expr (out has `cols` entries). */
  readonly reduce?: "cols";
}

// Masks: comparisons, and `and` of two masks (a lane mask in vectors, an i32 in the scalar loop).
const COMPARES: ReadonlySet<string> = new Set(["gt", "ge", "lt", "le", "eq", "ne", "and"]);

/** A stable text of a kernel's computation (its identity: equal texts, one function). */
export function fusedKey(k: Omit<FusedKernel, "name">): string {
  const expr = (x: FusedExpr): string =>
    x.kind === "load" ? `l${x.arg}` : x.kind === "scalar" ? `s${x.arg}` : x.kind === "const" ? `c${x.value}` : `${x.op}(${x.args.map(expr).join(",")})`;
  return `${k.reduce === "cols" ? "colsum " : ""}${k.dtype}[${k.leaves.join(",")}]${k.scalars}:${expr(k.expr)}`;
}

/** The vector and scalar forms of a kernel's expression, given how each leaf and scalar is read. */
function builders(f: FunctionBuilder, k: FusedKernel, leaf: { vector(i: number): Expr; scalar(i: number): Expr }, scalars: readonly Local[], vs: readonly Local[]) {
  const vec = k.dtype === "f32" ? "f32x4" : "f64x2";
  const sc = (op: string): OpName => `${k.dtype}.${op}` as OpName;
  const vc = (op: string): OpName => `${vec}.${op}` as OpName;
  const constant = (v: number): Expr => (k.dtype === "f32" ? f.f32(v) : f.f64(v));
  const vector = (x: FusedExpr): Expr => {
    if (x.kind === "scalar") return f.get(vs[x.arg]!);
    if (x.kind === "const") return f.op(vc("splat"), constant(x.value));
    if (x.kind === "load") return leaf.vector(x.arg);
    const a = x.args.map(vector);
    switch (x.op) {
      case "and":
        return f.op("v128.and", a[0]!, a[1]!);
      case "relu":
        return f.op(vc("max"), a[0]!, f.zero128());
      case "select":
        return f.op("v128.bitselect", a[1]!, a[2]!, a[0]!);
      default:
        return f.op(vc(x.op), ...a);
    }
  };
  const scalar = (x: FusedExpr): Expr => {
    if (x.kind === "scalar") return f.get(scalars[x.arg]!);
    if (x.kind === "const") return constant(x.value);
    if (x.kind === "load") return leaf.scalar(x.arg);
    const a = x.args.map(scalar);
    switch (x.op) {
      case "and":
        return f.op("i32.and", a[0]!, a[1]!);
      case "relu":
        return f.op(sc("max"), a[0]!, constant(0));
      case "select":
        return f.op("select", a[1]!, a[2]!, a[0]!);
      default:
        return f.op(sc(x.op), ...a);
    }
  };
  return { vector, scalar, vc };
}

export function addFused(mod: ModuleBuilder, k: FusedKernel): void {
  const p: Precision = k.dtype === "f32" ? F32 : F64;
  const params: [string, "i32" | "f32" | "f64"][] = [
    ["out", "i32"],
    ...k.leaves.map((_l, i): [string, "i32"] => [`l${i}`, "i32"]),
    ...Array.from({ length: k.scalars }, (_x, i): [string, "f32" | "f64"] => [`s${i}`, p.type as "f32" | "f64"]),
    ["rows", "i32"],
    ["cols", "i32"],
  ];
  mod.func(k.name, params, [], (f: FunctionBuilder) => (k.reduce === "cols" ? columnSum(f, k, p) : elementwise(f, k, p)));
}

/** out[r, c] = expr(r, c), row by row: vectors, then the row's remainder. */
function elementwise(f: FunctionBuilder, k: FusedKernel, p: Precision): void {
  const g = (l: Local): Expr => f.get(l);
  const out = f.param("out");
  const leaves = k.leaves.map((_l, i) => f.param(`l${i}`));
  const scalars = Array.from({ length: k.scalars }, (_x, i) => f.param(`s${i}`));
  const rows = f.param("rows");
  const cols = f.param("cols");
  const r = f.local("r", "i32");
  const c = f.local("c", "i32");
  // Running pointers: flat leaves and the output move on through the rows, row leaves restart
  // at each row, col leaves move one element per row.
  const ptr = k.leaves.map((_l, i) => f.local(`p${i}`, "i32"));
  const splat = k.leaves.map((l, i) => (l === "col" || l === "one" ? f.local(`v${i}`, "v128") : undefined));
  const single = k.leaves.map((l, i) => (l === "col" || l === "one" ? f.local(`x${i}`, p.type) : undefined));
  const vs = scalars.map((_s, i) => f.local(`vs${i}`, "v128"));
  const po = f.local("po", "i32");
  const { vector, scalar, vc } = builders(
    f,
    k,
    {
      vector: (i) => (splat[i] ? g(splat[i]!) : f.load("v128.load", g(ptr[i]!))),
      scalar: (i) => (single[i] ? g(single[i]!) : f.load(p.load, g(ptr[i]!))),
    },
    scalars,
    vs,
  );
  f.comment(`${k.name}: ${fusedKey(k)}`);
  scalars.forEach((s, i) => f.set(vs[i]!, f.op(vc("splat"), g(s))));
  k.leaves.forEach((l, i) => {
    if (l !== "row") f.set(ptr[i]!, g(leaves[i]!));
    if (l === "one") {
      f.set(single[i]!, f.load(p.load, g(leaves[i]!)));
      f.set(splat[i]!, f.op(vc("splat"), g(single[i]!)));
    }
  });
  f.set(po, g(out));
  const bumpAll = (by: number): void => {
    f.bump(po, by);
    k.leaves.forEach((l, i) => (l === "flat" || l === "row") && f.bump(ptr[i]!, by));
  };
  f.set(r, f.i32(0));
  f.whileLoop(f.op("i32.lt_s", g(r), g(rows)), () => {
    k.leaves.forEach((l, i) => {
      if (l === "row") f.set(ptr[i]!, g(leaves[i]!));
      if (l === "col") {
        f.set(single[i]!, f.load(p.load, g(ptr[i]!)));
        f.set(splat[i]!, f.op(vc("splat"), g(single[i]!)));
      }
    });
    f.set(c, f.i32(0));
    f.whileLoop(f.op("i32.le_s", f.op("i32.add", g(c), f.i32(p.lanes)), g(cols)), () => {
      f.store("v128.store", g(po), vector(k.expr));
      bumpAll(16);
      f.bump(c, p.lanes);
    });
    f.whileLoop(f.op("i32.lt_s", g(c), g(cols)), () => {
      f.store(p.store, g(po), scalar(k.expr));
      bumpAll(p.bytes);
      f.bump(c, 1);
    });
    k.leaves.forEach((l, i) => l === "col" && f.bump(ptr[i]!, p.bytes));
    f.bump(r, 1);
  });
}

/**
 * out[c] = Σ_r expr(r, c), each column summed over the rows in order, in f64 (an f32 kernel
 * promotes each element and rounds the sum once): JavaScript's `acc += …` loop exactly, when
 * the summand is a stored element. Vectors of columns, then the remaining columns one by one.
 */
function columnSum(f: FunctionBuilder, k: FusedKernel, p: Precision): void {
  const g = (l: Local): Expr => f.get(l);
  const f32 = k.dtype === "f32";
  const out = f.param("out");
  const leaves = k.leaves.map((_l, i) => f.param(`l${i}`));
  const scalars = Array.from({ length: k.scalars }, (_x, i) => f.param(`s${i}`));
  const rows = f.param("rows");
  const cols = f.param("cols");
  const r = f.local("r", "i32");
  const c = f.local("c", "i32");
  const stride = f.local("stride", "i32");
  // Per column block: flat leaves from (0, c) down the rows, row leaves at c, col leaves from 0.
  const ptr = k.leaves.map((_l, i) => f.local(`p${i}`, "i32"));
  const vs = scalars.map((_s, i) => f.local(`vs${i}`, "v128"));
  const lo = f.local("lo", "v128");
  const hi = f.local("hi", "v128");
  const v = f.local("v", "v128");
  const acc = f.local("acc", "f64");
  const splatOf = p.loadSplat;
  const { vector, scalar, vc } = builders(
    f,
    k,
    {
      vector: (i) => (k.leaves[i] === "col" || k.leaves[i] === "one" ? f.load(splatOf, g(ptr[i]!)) : f.load("v128.load", g(ptr[i]!))),
      scalar: (i) => f.load(p.load, g(ptr[i]!)),
    },
    scalars,
    vs,
  );
  const start = (byteOffset: Expr): void =>
    k.leaves.forEach((l, i) => f.set(ptr[i]!, l === "flat" || l === "row" ? f.op("i32.add", g(leaves[i]!), byteOffset) : g(leaves[i]!)));
  const nextRow = (): void =>
    k.leaves.forEach((l, i) => {
      if (l === "flat") f.bump(ptr[i]!, g(stride));
      if (l === "col") f.bump(ptr[i]!, p.bytes);
    });
  const promote = (x: Expr): Expr => f.op("f64x2.promote_low_f32x4", x);
  const highHalf = (x: Expr): Expr => () => {
    x();
    x();
    f.instr({ op: "i8x16.shuffle", v128: [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15] });
  };
  const storeLane = (lane: number, from: Local, at: number): void => {
    const x = f.lane("f64x2.extract_lane", lane, g(from));
    f.store(p.store, g(out), f32 ? f.op("f32.demote_f64", x) : x, at);
  };
  f.comment(`${k.name}: ${fusedKey(k)}`);
  scalars.forEach((s, i) => f.set(vs[i]!, f.op(vc("splat"), g(s))));
  f.set(stride, f.op("i32.mul", g(cols), f.i32(p.bytes)));
  f.set(c, f.i32(0));
  f.whileLoop(f.op("i32.le_s", f.op("i32.add", g(c), f.i32(p.lanes)), g(cols)), () => {
    start(f.op("i32.mul", g(c), f.i32(p.bytes)));
    f.set(lo, f.zero128());
    if (f32) f.set(hi, f.zero128());
    f.set(r, f.i32(0));
    f.whileLoop(f.op("i32.lt_s", g(r), g(rows)), () => {
      if (f32) {
        f.set(v, vector(k.expr));
        f.set(lo, f.op("f64x2.add", g(lo), promote(g(v))));
        f.set(hi, f.op("f64x2.add", g(hi), promote(highHalf(g(v)))));
      } else f.set(lo, f.op("f64x2.add", g(lo), vector(k.expr)));
      nextRow();
      f.bump(r, 1);
    });
    storeLane(0, lo, 0);
    storeLane(1, lo, p.bytes);
    if (f32) {
      storeLane(0, hi, 8);
      storeLane(1, hi, 12);
    }
    f.bump(out, 16);
    f.bump(c, p.lanes);
  });
  f.whileLoop(f.op("i32.lt_s", g(c), g(cols)), () => {
    start(f.op("i32.mul", g(c), f.i32(p.bytes)));
    f.set(acc, f.f64(0));
    f.set(r, f.i32(0));
    f.whileLoop(f.op("i32.lt_s", g(r), g(rows)), () => {
      const x = scalar(k.expr);
      f.set(acc, f.op("f64.add", g(acc), f32 ? f.op("f64.promote_f32", x) : x));
      nextRow();
      f.bump(r, 1);
    });
    f.store(p.store, g(out), f32 ? f.op("f32.demote_f64", g(acc)) : g(acc));
    f.bump(out, p.bytes);
    f.bump(c, 1);
  });
}

/** True when `op` is a comparison (its value is a mask, usable only as a select's condition). */
export const isCompare = (op: string): boolean => COMPARES.has(op);
