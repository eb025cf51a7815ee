// Matrix products with a short inner dimension, as small models and backward passes are full
// of: outer products (inner dimension 1), fused with their factors and into their consumers,
// and sums of up to four products written out, with reads at fixed indices hoisted out of the
// loops. Every transpose combination, single rows and columns, symbolic and f32 operands, and
// products inside a loop body, compiled and compared with the tape (same source, interpreted)
// and with central finite differences.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { compile } from "../../compiler/index.js";
import { randn, type Tensor } from "../../runtime/index.js";
import { expectClose } from "../helpers/agree.js";

const TMP = join(__dirname, "..", ".tmp", "short-products");

const SOURCE = `
import { exp, matmul, mul, sigmoid, square, sub, sum, tanh, transpose, valueAndGrad, type Tensor } from "gradc";

// Outer products in all four transpose forms, each factor a fused expression, each product
// consumed by an elementwise op or a reduction.
export function outer(a: Tensor<[3, 1]>, b: Tensor<[1, 4]>, c: Tensor<[1, 3]>, d: Tensor<[4, 1]>, w: Tensor<[3, 4]>): number {
  const p1 = matmul(tanh(a), exp(b));
  const p2 = matmul(transpose(sigmoid(c)), b);
  const p3 = matmul(a, transpose(tanh(d)));
  const p4 = matmul(transpose(c), transpose(d));
  return sum(mul(p1, w)) + sum(square(p2)) + sum(mul(p3, p4));
}
export const gOuter = valueAndGrad(outer, { argnums: [0, 1, 2, 3, 4] });

// One row or one column: the row factor with no loop, the column factor fused.
export function lines(r: Tensor<[1, 1]>, v: Tensor<[1, 5]>, u: Tensor<[5, 1]>): number {
  return sum(square(matmul(r, tanh(v)))) + sum(exp(matmul(tanh(u), r)));
}
export const gLines = valueAndGrad(lines, { argnums: [0, 1, 2] });

// Inner dimensions 2, 3 and 4 in every transpose form, one output row, one output column.
export function sums(a: Tensor<[5, 2]>, b: Tensor<[2, 3]>, c: Tensor<[3, 5]>, d: Tensor<[4, 4]>, x: Tensor<[4, 1]>, y: Tensor<[1, 3]>): number {
  const ab = matmul(a, b);
  const cta = matmul(transpose(b), transpose(a));
  const dx = matmul(d, x);
  const yc = matmul(y, c);
  const tt = matmul(transpose(d), x);
  return sum(square(ab)) + sum(mul(cta, c)) + sum(tanh(dx)) + sum(square(yc)) + sum(mul(tt, dx));
}
export const gSums = valueAndGrad(sums, { argnums: [0, 1, 2, 3, 4, 5] });

// A symbolic batch of rows through a layer of inner dimension 3.
export function batch<B extends number>(x: Tensor<[B, 3]>, w: Tensor<[3, 2]>, v: Tensor<[2, 1]>): number {
  return sum(square(matmul(tanh(matmul(x, w)), v)));
}
export const gBatch = valueAndGrad(batch, { argnums: [0, 1, 2] });

export function single(x: Tensor<[6, 1], "f32">, w: Tensor<[1, 4], "f32">, z: Tensor<[4, 2], "f32">): number {
  return sum(square(matmul(matmul(x, w), z)));
}
export const gSingle = valueAndGrad(single, { argnums: [0, 1, 2] });

// A recurrence kept as a loop: a 3×3 product per step, outer products in its reverse.
export function rnn(w: Tensor<[3, 3]>, h0: Tensor<[3, 1]>): number {
  let h = h0;
  for (let i = 0; i < 40; i++) h = tanh(matmul(w, h));
  return sum(square(h));
}
export const gRnn = valueAndGrad(rnn, { argnums: [0, 1] });
`;

type Fn = (...args: unknown[]) => [number, unknown];
let compiled: Record<string, Fn>;
let interpreted: Record<string, Fn>;
let code: string;

beforeAll(async () => {
  mkdirSync(TMP, { recursive: true });
  const src = join(TMP, "models.ts");
  writeFileSync(src, SOURCE);
  const result = compile([src], { emit: "js", verify: true });
  expect(result.diagnostics).toEqual([]);
  code = result.modules[0]!.code;
  const out = join(TMP, "models.compiled.mjs");
  writeFileSync(out, code);
  compiled = (await import(pathToFileURL(out).href)) as Record<string, Fn>;
  interpreted = (await import(src)) as Record<string, Fn>;
});

const t = (shape: number[], seed: number, f32 = false) => randn(shape, seed, f32 ? "f32" : "f64") as Tensor;

const CASES: [string, () => unknown[], number][] = [
  ["gOuter", () => [t([3, 1], 1), t([1, 4], 2), t([1, 3], 3), t([4, 1], 4), t([3, 4], 5)], 1e-12],
  ["gLines", () => [t([1, 1], 6), t([1, 5], 7), t([5, 1], 8)], 1e-12],
  ["gSums", () => [t([5, 2], 9), t([2, 3], 10), t([3, 5], 11), t([4, 4], 12), t([4, 1], 13), t([1, 3], 14)], 1e-12],
  ["gBatch", () => [t([7, 3], 15), t([3, 2], 16), t([2, 1], 17)], 1e-12],
  ["gSingle", () => [t([6, 1], 18, true), t([1, 4], 19, true), t([4, 2], 20, true)], 1e-5],
  ["gRnn", () => [t([3, 3], 21), t([3, 1], 22)], 1e-12],
];

describe("short products: compiled equals the tape", () => {
  test.each(CASES)("%s", (name, args, tol) => {
    const [v1, g1] = compiled[name]!(...args());
    const [v2, g2] = interpreted[name]!(...args());
    expectClose(v1, v2, tol);
    expectClose(g1, g2, tol);
  });

  test("a symbolic batch of 1, 4 and 2 rows", () => {
    for (const B of [1, 4, 2]) {
      const args = [t([B, 3], 30 + B), t([3, 2], 16), t([2, 1], 17)];
      expectClose(compiled.gBatch!(...args), interpreted.gBatch!(...args), 1e-12);
    }
  });
});

describe("short products: compiled agrees with finite differences", () => {
  test.each([
    ["gOuter", 5],
    ["gSums", 6],
    ["gRnn", 2],
  ] as const)("%s, every argument", (name, count) => {
    const pick = CASES.find((c) => c[0] === name)!;
    const args = pick[1]() as Tensor[];
    const [, grads] = compiled[name]!(...args) as [number, Tensor[]];
    expect(grads).toHaveLength(count);
    const eps = 1e-6;
    args.forEach((arg, k) => {
      const data = arg.data as Float64Array;
      for (const i of [0, data.length - 1]) {
        const saved = data[i]!;
        data[i] = saved + eps;
        const up = compiled[name]!(...args)[0];
        data[i] = saved - eps;
        const down = compiled[name]!(...args)[0];
        data[i] = saved;
        expect(grads[k]!.data[i]).toBeCloseTo((up - down) / (2 * eps), 5);
      }
    });
  });
});

describe("the generated code", () => {
  const body = (name: string): string => code.slice(code.indexOf(`export function ${name}(`), code.indexOf("\n}\n", code.indexOf(`export function ${name}(`)));

  test("has no accumulator loop for an inner dimension of 4 or less, and no loop of one trip for a product", () => {
    for (const name of ["gOuter", "gLines", "gSums", "gSingle"]) {
      expect(body(name)).not.toMatch(/for \(let p = 0; p < [1-4];/);
      expect(body(name)).not.toMatch(/const p = 0;/);
    }
  });

  test("reads the fixed factors of a short sum once, before its loop", () => {
    // d·x: x's four entries, read at fixed indices in every row.
    expect(body("gSums")).toMatch(/const x_at0 = x_d\[0\], x_at1 = x_d\[1\], x_at2 = x_d\[2\], x_at3 = x_d\[3\];/);
  });
});
