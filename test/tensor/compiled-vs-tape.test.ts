// Compiled tensor gradients against the runtime tape (same source, interpreted) and against
// central finite differences: examples, broadcasting, reductions, symbolic dimensions, f32.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { compile } from "../../compiler/index.js";
import { randn, tensor, type Tensor } from "../../runtime/index.js";
import { expectClose, numericLeaves } from "../helpers/agree.js";

const TMP = join(__dirname, "..", ".tmp", "tensor");

const SOURCE = `
import { add, exp, log, logSumExp, matmul, max, maximum, mean, minimum, mul, relu, reshape, sigmoid, softmax, square, sub, sum, tanh, transpose, valueAndGrad, type Tensor } from "gradc";

export function mlp(p: { W1: Tensor<[16, 4]>; W2: Tensor<[1, 16]> }, x: Tensor<[4, 1]>, y: number): number {
  const h = sigmoid(matmul(p.W1, x));
  return sum(square(sub(matmul(p.W2, h), y)));
}
export const gMlp = valueAndGrad(mlp);

export function bcast(a: Tensor<[3, 1]>, b: Tensor<[1, 4]>, s: number): number {
  return sum(mul(tanh(add(a, b)), s));
}
export const gBcast = valueAndGrad(bcast, { argnums: [0, 1, 2] });

export function axes(x: Tensor<[3, 4]>): number {
  const r = sum(x, 1);
  const c = mean(x, 0, true);
  const m = max(x, 1, true);
  return sum(square(r)) + sum(mul(c, c)) + sum(sub(x, m));
}
export const gAxes = valueAndGrad(axes);

export function stable(x: Tensor<[2, 3]>): number {
  const p = softmax(x);
  return sum(mul(p, x)) + logSumExp(x);
}
export const gStable = valueAndGrad(stable);

export function gates(x: Tensor<[5]>, y: Tensor<[5]>): number {
  return sum(add(relu(x), mul(maximum(x, y), minimum(x, y))));
}
export const gGates = valueAndGrad(gates, { argnums: [0, 1] });

export function batch<B extends number>(x: Tensor<[B, 3]>, w: Tensor<[3, 2]>, b: Tensor<[2]>): number {
  const z = add(matmul(x, w), b);
  return mean(sub(logSumExp(z, 1), sum(z, 1)));
}
export const gBatch = valueAndGrad(batch, { argnums: [1, 2] });

export function moves(x: Tensor<[2, 3]>, w: Tensor<[2, 3]>): number {
  const t = matmul(transpose(x), w);
  const r = reshape(t, [9]);
  return sum(mul(r, r)) + sum(exp(log(add(square(x), 1))));
}
export const gMoves = valueAndGrad(moves, { argnums: [0, 1] });

export function blocked(a: Tensor<[8, 12]>, b: Tensor<[12, 4]>, c: Tensor<[12, 8]>, d: Tensor<[4, 12]>): number {
  return sum(square(matmul(a, b))) + sum(mul(matmul(transpose(c), transpose(d)), matmul(a, b)));
}
export const gBlocked = valueAndGrad(blocked, { argnums: [0, 1, 2, 3] });

export function single(x: Tensor<[64, 10], "f32">, w: Tensor<[10, 3], "f32">): number {
  return sum(square(matmul(x, w)));
}
export const gSingle = valueAndGrad(single, { argnums: [1] });
`;

// A chain long enough (over OUTLINE_AFTER kernels) that each kernel is emitted as a function.
const LONG = (() => {
  const lines = ["export function long(x: Tensor<[8]>, y: Tensor<[8]>): number {", "  const v0 = mul(x, y);", "  const v1 = tanh(x);", "  const v2 = sigmoid(y);"];
  for (let i = 3; i < 40; i++) lines.push(`  const v${i} = tanh(add(mul(v${i - 1}, v${i - 2}), v${i - 3}));`);
  lines.push("  return sum(v39);", "}", "export const gLong = valueAndGrad(long, { argnums: [0, 1] });");
  return lines.join("\n");
})();

type Fn = (...args: unknown[]) => [number, unknown];
let compiled: Record<string, Fn>;
/** The same models on the WebAssembly backend, every matrix product a kernel (threshold 1). */
let onWasm: Record<string, Fn>;
let interpreted: Record<string, Fn>;

beforeAll(async () => {
  mkdirSync(TMP, { recursive: true });
  const src = join(TMP, "models.ts");
  writeFileSync(src, `${SOURCE}\n${LONG}\n`);
  const result = compile([src], { emit: "js", verify: true, backend: "js" });
  expect(result.diagnostics).toEqual([]);
  const out = join(TMP, "models.compiled.mjs");
  writeFileSync(out, result.modules[0]!.code);
  compiled = (await import(pathToFileURL(out).href)) as Record<string, Fn>;
  const wasm = compile([src], { emit: "js", verify: true, backend: "wasm", wasmMinWork: 1 });
  expect(wasm.diagnostics).toEqual([]);
  const wasmOut = join(TMP, "models.wasm.mjs");
  writeFileSync(wasmOut, wasm.modules[0]!.code);
  onWasm = (await import(pathToFileURL(wasmOut).href)) as Record<string, Fn>;
  interpreted = (await import(src)) as Record<string, Fn>;
});

const t = (shape: number[], seed: number, f32 = false) => randn(shape, seed, f32 ? "f32" : "f64") as Tensor;

const CASES: [string, () => unknown[], number][] = [
  ["gMlp", () => [{ W1: t([16, 4], 1), W2: t([1, 16], 2) }, t([4, 1], 3), 0.5], 1e-12],
  ["gBcast", () => [t([3, 1], 4), t([1, 4], 5), 1.5], 1e-12],
  ["gAxes", () => [t([3, 4], 6)], 1e-12],
  ["gStable", () => [t([2, 3], 7)], 1e-12],
  ["gGates", () => [t([5], 8), t([5], 9)], 1e-12],
  ["gBatch", () => [t([7, 3], 10), t([3, 2], 11), t([2], 12)], 1e-12],
  ["gMoves", () => [t([2, 3], 13), t([2, 3], 14)], 1e-12],
  ["gBlocked", () => [t([8, 12], 17), t([12, 4], 18), t([12, 8], 19), t([4, 12], 20)], 1e-12],
  ["gLong", () => [t([8], 21), t([8], 22)], 1e-12],
  ["gSingle", () => [t([64, 10], 15, true), t([10, 3], 16, true)], 1e-5],
];

describe("compiled tensor code equals the tape", () => {
  test.each(CASES)("%s", (name, args, tol) => {
    const [v1, g1] = compiled[name]!(...args());
    const [v2, g2] = interpreted[name]!(...args());
    expectClose(v1, v2, tol);
    expectClose(g1, g2, tol);
  });
});

describe("the WebAssembly backend equals the tape and the JavaScript backend", () => {
  test("its products are kernels", async () => {
    const { readFileSync } = await import("node:fs");
    const code = readFileSync(join(TMP, "models.wasm.mjs"), "utf8");
    for (const k of ["matmul_nn_f64", "matmul_nn_f32"]) expect(code).toContain(`$gradc_wasm.get().${k}`);
    expect(readFileSync(join(TMP, "models.compiled.mjs"), "utf8")).not.toContain("$gradc_wasm");
  });
  test.each(CASES)("%s", (name, args, tol) => {
    const [v1, g1] = onWasm[name]!(...args());
    const [v2, g2] = interpreted[name]!(...args());
    const [v3, g3] = compiled[name]!(...args());
    expectClose(v1, v2, tol);
    expectClose(g1, g2, tol);
    expectClose(v1, v3, tol);
    expectClose(g1, g3, tol);
  });
  test("symbolic batch: the same kernels at every size, the memory grown between calls", () => {
    for (const B of [1, 7, 3, 4000, 2]) {
      const args = [t([B, 3], 20 + B), t([3, 2], 11), t([2], 12)];
      expectClose(onWasm.gBatch!(...args), interpreted.gBatch!(...args), 1e-12);
      expectClose(onWasm.gBatch!(...args), compiled.gBatch!(...args), 1e-12);
    }
  });
});

describe("compiled tensor code agrees with finite differences", () => {
  test("mlp gradient entries", () => {
    const p = { W1: t([16, 4], 1), W2: t([1, 16], 2) };
    const x = t([4, 1], 3);
    const [, g] = compiled.gMlp!(p, x, 0.5) as [number, { W1: Tensor; W2: Tensor }];
    const eps = 1e-6;
    for (const key of ["W1", "W2"] as const) {
      for (const i of [0, 5, 15]) {
        const data = p[key].data as Float64Array;
        const saved = data[i]!;
        data[i] = saved + eps;
        const up = compiled.gMlp!(p, x, 0.5)[0];
        data[i] = saved - eps;
        const down = compiled.gMlp!(p, x, 0.5)[0];
        data[i] = saved;
        expect(g[key].data[i]).toBeCloseTo((up - down) / (2 * eps), 6);
      }
    }
  });

  test("softmax and logSumExp of ±1000 stay finite", () => {
    const x = tensor([[1000, -1000, 0], [-1000, 1000, 999]]) as Tensor;
    const [v, g] = compiled.gStable!(x);
    expect(Number.isFinite(v)).toBe(true);
    numericLeaves(g).flat().forEach((d) => expect(Number.isFinite(d)).toBe(true));
  });

  test("symbolic batch dimension takes any size, and buffers follow it", () => {
    for (const B of [1, 7, 3]) {
      const args = [t([B, 3], 20 + B), t([3, 2], 11), t([2], 12)];
      expectClose(compiled.gBatch!(...args), interpreted.gBatch!(...args), 1e-12);
    }
  });
});

test("a function with more kernels than V8 optimizes whole has them outlined", async () => {
  const { readFileSync } = await import("node:fs");
  const code = readFileSync(join(TMP, "models.compiled.mjs"), "utf8");
  expect((code.match(/^function \$gradc_gLong_k\d+\(/gm) ?? []).length).toBeGreaterThan(64);
  expect(code).not.toMatch(/^function \$gradc_gMlp_k/m);
});

describe("GradcError on entry", () => {
  test("wrong shape names function, argument, expected and actual shape", () => {
    expect(() => compiled.gBcast!(t([3, 2], 1), t([1, 4], 2), 1)).toThrow(
      /gBcast: argument a must be a f64 tensor of shape \[3, 1\], got a f64 tensor of shape \[3, 2\]/,
    );
  });
  test("wrong dtype", () => {
    expect(() => compiled.gBcast!(t([3, 1], 1, true), t([1, 4], 2), 1)).toThrow(/argument a must be a f64 tensor/);
  });
  test("inconsistent symbolic dimension", () => {
    expect(() => compiled.gBatch!(t([4, 2], 1), t([3, 2], 11), t([2], 12))).toThrow(/argument x must be a f64 tensor of shape \[B, 3\]/);
  });
  test("missing pytree field", () => {
    expect(() => compiled.gMlp!({ W1: t([16, 4], 1) }, t([4, 1], 3), 0.5)).toThrow(/argument p.W2/);
  });
});
