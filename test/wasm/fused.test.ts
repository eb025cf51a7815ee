// Fused elementwise kernels generated from expression trees (compiler/wasm/fused.ts): against
// hand-written JavaScript per element, at shapes that leave every vector remainder, with each
// leaf mode (flat, row, col, one) and the special values (NaN, ±0, ±∞) whose handling must be
// JavaScript's; then, in generated code (codegen/wasm-elementwise.ts), models of every supported
// operator on both backends (f32 within 1e-5, f64 within 1e-12).

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { compile } from "../../compiler/program.js";
import { type FusedExpr, type FusedKernel } from "../../compiler/wasm/fused.js";
import { Arena } from "../../compiler/wasm/memory.js";
import { importGenerated } from "../helpers/generated.js";
import { instantiate, random, type Elem } from "./harness.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

const SHAPES: Array<[number, number]> = [[1, 1], [3, 5], [2, 4], [7, 17], [5, 67], [4, 129]];
const SPECIAL = [NaN, -0, 0, -1e-30, 1e-30, Infinity, -Infinity, 1.5, -2.5];

const load = (arg: number): FusedExpr => ({ kind: "load", arg });
const op = (name: string, ...args: FusedExpr[]): FusedExpr => ({ kind: "op", op: name as "add", args });

/**
 * out = select(l0 > s0, max(l0 * l1, -l2), sqrt(|l0|) / (l3 - 2)) + min(relu(l0), 1):
 * l0 flat, l1 a row vector, l2 a column vector, l3 one number; one scalar argument.
 */
const tree: FusedExpr = op(
  "add",
  op("select", op("gt", load(0), { kind: "scalar", arg: 0 }), op("max", op("mul", load(0), load(1)), op("neg", load(2))), op("div", op("sqrt", op("abs", load(0))), op("sub", load(3), { kind: "const", value: 2 }))),
  op("min", op("relu", load(0)), { kind: "const", value: 1 }),
);
/** The same per element in JavaScript, rounding after each operator in f32 as the kernel does. */
function reference(elem: Elem, x: number, row: number, col: number, one: number, s: number): number {
  const r = elem === "f32" ? Math.fround : (v: number) => v;
  const picked = x > r(s) ? r(Math.max(r(x * row), -col)) : r(r(Math.sqrt(Math.abs(x))) / r(one - 2));
  return r(picked + Math.min(Math.max(x, 0), 1));
}

const kernel = (dtype: Elem): FusedKernel => ({ name: `t_${dtype}`, dtype, leaves: ["flat", "row", "col", "one"], scalars: 1, expr: tree });

/** One operator each, on two flat operands, with JavaScript's result for it. */
const SINGLE: Array<[string, FusedExpr, (x: number, y: number) => number]> = [
  ["relu", op("relu", load(0)), (x) => Math.max(x, 0)],
  ["neg", op("neg", load(0)), (x) => -x],
  ["abs", op("abs", load(0)), (x) => Math.abs(x)],
  ["sqrt", op("sqrt", load(0)), (x) => Math.sqrt(x)],
  ["max", op("max", load(0), load(1)), (x, y) => Math.max(x, y)],
  ["min", op("min", load(0), load(1)), (x, y) => Math.min(x, y)],
  ["add", op("add", load(0), load(1)), (x, y) => x + y],
  ["sub", op("sub", load(0), load(1)), (x, y) => x - y],
  ["mul", op("mul", load(0), load(1)), (x, y) => x * y],
  ["div", op("div", load(0), load(1)), (x, y) => x / y],
  ...(["gt", "ge", "lt", "le", "eq", "ne"] as const).map((c): [string, FusedExpr, (x: number, y: number) => number] => [
    c,
    op("select", op(c, load(0), load(1)), load(0), load(1)),
    (x, y) => ({ gt: x > y, ge: x >= y, lt: x < y, le: x <= y, eq: x === y, ne: x !== y })[c] ? x : y,
  ]),
];
const singles = (dtype: Elem): FusedKernel[] => SINGLE.map(([name, expr]) => ({ name: `${name}_${dtype}`, dtype, leaves: ["flat", "flat"], scalars: 0, expr }));

/** Column sums of l0 · l1 (l1 a row vector), and of l0 alone. */
const colsum = (dtype: Elem): FusedKernel[] => [
  { name: `cs_${dtype}`, dtype, leaves: ["flat", "row"], scalars: 0, expr: op("mul", load(0), load(1)), reduce: "cols" },
  { name: `cs1_${dtype}`, dtype, leaves: ["flat"], scalars: 0, expr: load(0), reduce: "cols" },
];

describe("generated fused kernels", () => {
  const inst = instantiate(1 << 20, { fused: [kernel("f32"), kernel("f64"), ...singles("f32"), ...singles("f64"), ...colsum("f32"), ...colsum("f64")] });
  for (const elem of ["f32", "f64"] as const) {
    const size = elem === "f32" ? 4 : 8;
    it(`${elem}: column sums in row order with an f64 accumulator, JavaScript's \`acc += …\` exactly`, () => {
      for (const [rows, cols] of SHAPES) {
        const arena = new Arena();
        const [out, x, w] = [cols, rows * cols, cols].map((n) => arena.alloc(n * size)) as [number, number, number];
        inst.view(elem, x, rows * cols).set(random(rows * 3 + cols, rows * cols).map((v) => v * 1e3));
        inst.view(elem, w, cols).set(random(cols + 9, cols));
        const [xv, wv] = [inst.view(elem, x, rows * cols), inst.view(elem, w, cols)];
        const kernels = inst.kernels as unknown as Record<string, (...a: number[]) => void>;
        const r = elem === "f32" ? Math.fround : (v: number) => v;
        for (const [name, term] of [
          [`cs_${elem}`, (i: number, c: number) => r(xv[i]! * wv[c]!)],
          [`cs1_${elem}`, (i: number) => xv[i]!],
        ] as const) {
          if (name.startsWith("cs1")) kernels[name]!(out, x, rows, cols);
          else kernels[name]!(out, x, w, rows, cols);
          const want = Array.from({ length: cols }, (_v, c) => {
            let acc = 0;
            for (let i = 0; i < rows; i++) acc += term(i * cols + c, c);
            return r(acc);
          });
          expect(Array.from(inst.view(elem, out, cols)), `${name} ${rows}×${cols}`).toEqual(want);
        }
      }
    });
    it(`${elem}: each operator as JavaScript computes it, special values included`, () => {
      // Every pair of special values, then random ones, in vectors and in the scalar remainder.
      const xs = SPECIAL.flatMap((a) => SPECIAL.map(() => a)).concat(random(3, 23));
      const ys = SPECIAL.flatMap(() => SPECIAL).concat(random(4, 23));
      const n = xs.length;
      const arena = new Arena();
      const [out, x, y] = [n, n, n].map(() => arena.alloc(n * size)) as [number, number, number];
      inst.view(elem, x, n).set(xs);
      inst.view(elem, y, n).set(ys);
      const [xv, yv] = [Array.from(inst.view(elem, x, n)), Array.from(inst.view(elem, y, n))];
      for (const [name, , js] of SINGLE) {
        (inst.kernels as unknown as Record<string, (...a: number[]) => void>)[`${name}_${elem}`]!(out, x, y, 1, n);
        const want = xv.map((a, i) => (elem === "f32" ? Math.fround(js(a, yv[i]!)) : js(a, yv[i]!)));
        const got = Array.from(inst.view(elem, out, n));
        got.forEach((g, i) => expect(Object.is(g, want[i]), `${name}(${xv[i]}, ${yv[i]}) = ${g}, JavaScript ${want[i]}`).toBe(true));
      }
    });

    it(`${elem}: every leaf mode, every remainder, JavaScript's special values`, () => {
      for (const [rows, cols] of SHAPES) {
        const arena = new Arena();
        const [out, x, row, col, one] = [rows * cols, rows * cols, cols, rows, 1].map((n) => arena.alloc(n * size)) as number[];
        inst.view(elem, x!, rows * cols).set(random(rows * cols, rows * cols).map((v, i) => (i < SPECIAL.length ? SPECIAL[i]! : v * 3)));
        inst.view(elem, row!, cols).set(random(cols + 1, cols));
        inst.view(elem, col!, rows).set(random(rows + 2, rows));
        inst.view(elem, one!, 1).set([0.75]);
        const fn = (inst.kernels as unknown as Record<string, (...a: number[]) => void>)[`t_${elem}`]!;
        fn(out!, x!, row!, col!, one!, 0.1, rows, cols);
        const [xv, rv, cv] = [inst.view(elem, x!, rows * cols), inst.view(elem, row!, cols), inst.view(elem, col!, rows)];
        const s = elem === "f32" ? Math.fround(0.1) : 0.1;
        const want = Array.from(xv, (v, i) => reference(elem, v, rv[i % cols]!, cv[Math.floor(i / cols)]!, 0.75, s));
        const got = Array.from(inst.view(elem, out!, rows * cols));
        // Object.is: NaN equals NaN, and -0 is not +0.
        got.forEach((g, i) => expect(Object.is(g, want[i]), `${rows}×${cols} at ${i}: ${g} vs ${want[i]}`).toBe(true));
      }
    });
  }
});

const SOURCE = `import { abs, add, div, equal, greater, less, maximum, minimum, mul, neg, relu, sqrt, square, sub, sum, where, valueAndGrad, type Tensor } from "gradc";
export function chain<B extends number>(x: Tensor<[B, 37]>, w: Tensor<[37]>, c: Tensor<[B, 1]>, s: number): number {
  const a = maximum(mul(x, w), c);
  const b = div(sub(abs(a), neg(x)), add(square(w), 1));
  const d = sqrt(add(square(b), 0.001));
  const e = minimum(d, mul(x, s));
  const f = where(greater(x, 0), e, mul(e, 0.01));
  const g = add(mul(less(x, c), f), mul(equal(x, x), relu(sub(e, 0.5))));
  return sum(mul(where(g, g, x), e));
}
export const gChain = valueAndGrad(chain, { argnums: [0, 1, 2] });
export function chain32<B extends number>(x: Tensor<[B, 37], "f32">, w: Tensor<[37], "f32">, c: Tensor<[B, 1], "f32">): number {
  const a = maximum(mul(x, w), c);
  const d = sqrt(add(square(div(sub(abs(a), neg(x)), add(square(w), 1))), 0.001));
  return sum(mul(where(greater(x, 0), d, mul(d, 0.01)), relu(sub(x, c))));
}
export const gChain32 = valueAndGrad(chain32, { argnums: [0, 1, 2] });
`;

describe("fused kernels in generated code", () => {
  let js: Record<string, (...a: unknown[]) => unknown>;
  let wasm: Record<string, (...a: unknown[]) => unknown>;
  let code: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradc-wasm-fused-"));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "model.ts"), SOURCE);
    const build = (backend: "js" | "wasm") => {
      const r = compile([join(dir, "model.ts")], { emit: "js", verify: true, module: "esm", backend, wasmMinWork: 1 });
      expect(r.diagnostics).toEqual([]);
      return r.modules[0]!.code;
    };
    code = build("wasm");
    js = (await importGenerated(build("js"), "fused-js")) as typeof js;
    const mod = await importGenerated(code, "fused-wasm");
    await (mod["ready"] as Promise<void>);
    wasm = mod as typeof wasm;
  });

  const leaves = (v: unknown): number[][] =>
    typeof v === "number" ? [[v]] : Array.isArray(v) ? v.flatMap(leaves) : v !== null && typeof v === "object" && "data" in v ? [Array.from((v as { data: ArrayLike<number> }).data)] : v !== null && typeof v === "object" ? Object.values(v).flatMap(leaves) : [];
  const agree = (a: unknown, b: unknown, rel: number): void => {
    const [xs, ys] = [leaves(a), leaves(b)];
    expect(xs.map((l) => l.length)).toEqual(ys.map((l) => l.length));
    xs.forEach((leaf, k) => {
      const scale = Math.max(1e-30, ...ys[k]!.map(Math.abs));
      leaf.forEach((x, i) => expect(Math.abs(x - ys[k]![i]!) / scale, `leaf ${k} at ${i}`).toBeLessThan(rel));
    });
  };
  let seed = 5;
  const next = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const t = (shape: number[], f32: boolean) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return { shape, data: f32 ? Float32Array.from({ length: n }, next) : Float64Array.from({ length: n }, next) };
  };

  it("the forward and backward trees run as fused kernels", () => {
    const body = code.slice(code.indexOf("export function gChain("), code.indexOf("export function gChain32"));
    expect(body.match(/\$gradc_wasm\.get\(\)\.ew_[0-9a-f]{8}_f64\(/g)?.length ?? 0).toBeGreaterThan(2);
    expect(code).toMatch(/\$gradc_wasm\.get\(\)\.ew_[0-9a-f]{8}_f32\(/);
  });

  it("f64 results equal the JavaScript backend's within 1e-12, f32 within 1e-5", () => {
    for (const B of [1, 3, 64]) {
      const a = [t([B, 37], false), t([37], false), t([B, 1], false), 0.3];
      agree(wasm["gChain"]!(...a), js["gChain"]!(...a), 1e-12);
      const b = [t([B, 37], true), t([37], true), t([B, 1], true)];
      agree(wasm["gChain32"]!(...b), js["gChain32"]!(...b), 1e-5);
    }
  });
});
