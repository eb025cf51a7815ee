// Fused elementwise kernels generated from an expression tree: code generation hands over the
// tree it would write as one JavaScript expression per element (codegen/wasm-elementwise.ts),
// and this file writes the WebAssembly function computing it, vectors for the body of each row
// and a scalar loop for its remainder.
//
//   name(out, l0 … lL-1, s0 … sS-1, rows, cols)     out[r, c] = expr(r, c)
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
}

// Masks: comparisons, and `and` of two masks (a lane mask in vectors, an i32 in the scalar loop).
const COMPARES: ReadonlySet<string> = new Set(["gt", "ge", "lt", "le", "eq", "ne", "and"]);

/** A stable text of a kernel's computation (its identity: equal texts, one function). */
export function fusedKey(k: Omit<FusedKernel, "name">): string {
  const expr = (x: FusedExpr): string =>
    x.kind === "load" ? `l${x.arg}` : x.kind === "scalar" ? `s${x.arg}` : x.kind === "const" ? `c${x.value}` : `${x.op}(${x.args.map(expr).join(",")})`;
  return `${k.dtype}[${k.leaves.join(",")}]${k.scalars}:${expr(k.expr)}`;
}

export function addFused(mod: ModuleBuilder, k: FusedKernel): void {
  const p: Precision = k.dtype === "f32" ? F32 : F64;
  const vec = k.dtype === "f32" ? "f32x4" : "f64x2";
  const sc = (op: string): OpName => `${k.dtype}.${op}` as OpName;
  const vc = (op: string): OpName => `${vec}.${op}` as OpName;
  const params: [string, "i32" | "f32" | "f64"][] = [
    ["out", "i32"],
    ...k.leaves.map((_l, i): [string, "i32"] => [`l${i}`, "i32"]),
    ...Array.from({ length: k.scalars }, (_x, i): [string, "f32" | "f64"] => [`s${i}`, p.type as "f32" | "f64"]),
    ["rows", "i32"],
    ["cols", "i32"],
  ];
  mod.func(k.name, params, [], (f: FunctionBuilder) => {
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

    const constant = (v: number): Expr => (k.dtype === "f32" ? f.f32(v) : f.f64(v));
    const zero = (): Expr => constant(0);
    const vector = (x: FusedExpr): Expr => {
      if (x.kind === "scalar") return g(vs[x.arg]!);
      if (x.kind === "const") return f.op(vc("splat"), constant(x.value));
      if (x.kind === "load") return splat[x.arg] ? g(splat[x.arg]!) : f.load("v128.load", g(ptr[x.arg]!));
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
      if (x.kind === "scalar") return g(scalars[x.arg]!);
      if (x.kind === "const") return constant(x.value);
      if (x.kind === "load") return single[x.arg] ? g(single[x.arg]!) : f.load(p.load, g(ptr[x.arg]!));
      const a = x.args.map(scalar);
      switch (x.op) {
        case "and":
          return f.op("i32.and", a[0]!, a[1]!);
        case "relu":
          return f.op(sc("max"), a[0]!, zero());
        case "select":
          return f.op("select", a[1]!, a[2]!, a[0]!);
        default:
          return f.op(sc(x.op), ...a);
      }
    };
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
  });
}

/** True when `op` is a comparison (its value is a mask, usable only as a select's condition). */
export const isCompare = (op: string): boolean => COMPARES.has(op);
