// Convolutions and max pooling on the WebAssembly backend, in generated code: which ones become kernels (literal
// sizes at compile time, a symbolic batch at run time), the kernels listed wherever the module
// is described (`--dump wasm`, `ready` in the module and its declarations), and results: equal
// to the JavaScript backend's within 1e-5 (f32) and 1e-12 (f64) of each tensor's scale, to the
// tape (the same source run uncompiled), and in f64 to central differences of the model.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { WASM_MIN_WORK } from "../../compiler/codegen/wasm-backend.js";
import { compile, type CompileOptions } from "../../compiler/program.js";
import { importGenerated } from "../helpers/generated.js";
import { centralDifference } from "../helpers/numeric.js";
import { expectAgree } from "../helpers/agree.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

const SOURCE = `import { add, conv2d, maxPool2d, mul, relu, sum, square, valueAndGrad, type Tensor } from "gradc";
// 4·8·16·16·3·3·3 multiply-adds: a kernel at the default threshold, forward and both adjoints.
export function big(x: Tensor<[4, 3, 16, 16], "f32">, w: Tensor<[8, 3, 3, 3], "f32">): number {
  return sum(square(conv2d(x, w, { padding: 1 })));
}
export const gBig = valueAndGrad(big, { argnums: [0, 1] });
// 36 multiply-adds: JavaScript loops.
export function small(x: Tensor<[1, 1, 4, 4]>, w: Tensor<[1, 1, 2, 2]>): number {
  return sum(square(conv2d(x, w)));
}
export const gSmall = valueAndGrad(small, { argnums: [0, 1] });
// Stride 2 with padding 2: rows and columns the stride skips get no gradient.
export function strided(x: Tensor<[2, 3, 9, 7]>, w: Tensor<[4, 3, 3, 2]>): number {
  return sum(square(conv2d(x, w, { stride: 2, padding: 2 })));
}
export const gStrided = valueAndGrad(strided, { argnums: [0, 1] });
// "same" padding of an even kernel: the extra row and column go after.
export function same(x: Tensor<[3, 2, 6, 5], "f32">, w: Tensor<[2, 2, 4, 2], "f32">): number {
  return sum(mul(conv2d(x, w, { padding: "same" }), x));
}
export const gSame = valueAndGrad(same, { argnums: [0, 1] });
// Two layers with a bias and relu: the second layer's adjoint in its input feeds the first's.
export function layers(x: Tensor<[2, 2, 9, 9]>, p: { w1: Tensor<[3, 2, 3, 3]>; b1: Tensor<[3, 1, 1]>; w2: Tensor<[5, 3, 3, 3]> }): number {
  const h = relu(add(conv2d(x, p.w1, { padding: 1 }), p.b1));
  return sum(square(conv2d(h, p.w2, { stride: 2 })));
}
export const gLayers = valueAndGrad(layers, { argnums: [0, 1] });
// A batch given at run time: 4·8·8·2·3·3 = 4608 multiply-adds per image, a kernel from B = 8.
export function batched<B extends number>(x: Tensor<[B, 2, 10, 10]>, w: Tensor<[4, 2, 3, 3]>): number {
  return sum(square(conv2d(x, w)));
}
export const gBatched = valueAndGrad(batched, { argnums: [0, 1] });
// Max pooling, overlapping windows (stride below the window) and a symbolic batch: 3·6·6·9 = 972
// comparisons per image, a kernel from B = 34 at the default threshold.
export function pooled<B extends number>(x: Tensor<[B, 3, 13, 14], "f32">, w: Tensor<[2, 3, 2, 2], "f32">): number {
  return sum(square(maxPool2d(x, { size: 3, stride: 2 }))) + sum(square(maxPool2d(conv2d(x, w), { size: 2 })));
}
export const gPooled = valueAndGrad(pooled, { argnums: [0, 1] });
`;

/** A module with convolutions and no matrix product. */
const CONV_ONLY = `import { conv2d, sum, square, grad, type Tensor } from "gradc";
export function f(x: Tensor<[8, 4, 12, 12], "f32">, w: Tensor<[8, 4, 3, 3], "f32">): number {
  return sum(square(conv2d(x, w)));
}
export const df = grad(f, { argnums: 1 });
`;

let dir: string;
const build = (options: CompileOptions, file = "model.ts") => {
  const r = compile([join(dir, file)], { emit: "js", verify: true, module: "esm", ...options });
  expect(r.diagnostics).toEqual([]);
  return r.modules[0]!;
};

let rand = 11;
const next = (): number => ((rand = (rand * 16807) % 2147483647) / 2147483647) * 2 - 1;
const tensor = (shape: number[], f32 = false) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: f32 ? Float32Array.from({ length: n }, next) : Float64Array.from({ length: n }, next) };
};
type Fn = (...a: unknown[]) => [number, unknown];

beforeAll(() => {
  // Inside the project, so that the tape's run of the source resolves "gradc" (mocked above).
  dir = join(__dirname, "..", ".tmp", "wasm-conv");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.ts"), SOURCE);
  writeFileSync(join(dir, "conv.ts"), CONV_ONLY);
});

const section = (code: string, from: string, to?: string): string =>
  code.slice(code.indexOf(`export function ${from}`), to === undefined ? undefined : code.indexOf(`export function ${to}`));

describe("the plan: convolutions above the size threshold", () => {
  it("literal sizes decide at compile time; a symbolic batch at run time", () => {
    const code = build({ backend: "wasm" }).code;
    const big = section(code, "gBig", "gSmall");
    for (const k of ["conv2d_f32", "conv2d_dx_f32", "conv2d_dw_f32"]) expect(big).toContain(`$gradc_window_f32("${k}", `);
    expect(big).not.toMatch(/ >= \d+\) \{/);
    expect(section(code, "gSmall", "gStrided")).not.toContain("$gradc_window");
    expect(section(code, "gBatched", "gPooled")).toMatch(new RegExp(`if \\(B \\* 4608 >= ${WASM_MIN_WORK}\\) \\{\\n\\s+\\$gradc_window_f64\\("conv2d_f64", `));
    const pooled = section(code, "gPooled");
    expect(pooled).toMatch(new RegExp(`if \\(B \\* 972 >= ${WASM_MIN_WORK}\\) \\{\\n\\s+\\$gradc_window_f32\\("max_pool2d_f32", `));
    expect(pooled).toContain(`$gradc_window_f32("max_pool2d_grad_f32", `);
  });

  it("the JavaScript backend keeps the loops", () => {
    const { code } = build({ backend: "js" });
    expect(code).not.toContain("$gradc_window");
    expect(code).not.toContain("WebAssembly");
  });

  it("a module whose only kernels are convolutions embeds the kernels and exports `ready`", () => {
    const m = build({ backend: "wasm" }, "conv.ts");
    expect(m.code).toContain(`$gradc_window_f32("conv2d_dw_f32", `);
    expect(m.code).toMatch(/^export const ready = \$gradc_wasm\.ready;$/m);
    expect(m.declarations?.text).toContain("export declare const ready: Promise<void>;");
  });

  it("--dump wasm lists the convolution kernels and prints them", async () => {
    let out = "";
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) }, cwd: dir, pretty: false, color: false };
    expect(await main(["model.ts", "--dump", "wasm"], io)).toBe(0);
    // The convolutions in program order (fused elementwise kernels, ew_…, may come between).
    expect(out).toMatch(/;; model\.ts: gBig: conv2d_f32, (ew_\w+, |colsum_\w+, )*conv2d_dx_f32, (ew_\w+, |colsum_\w+, )*conv2d_dw_f32/);
    expect(out).toContain(";; model.ts: gSmall: no WebAssembly kernels (JavaScript only)");
    expect(out).toContain('(func $conv2d_dw_f64 (export "conv2d_dw_f64")');
    expect(out).toContain("call $matmul_nt_f64");
  });
});

describe("results", () => {
  let js: Record<string, Fn>;
  /** Every convolution a kernel (threshold 1). */
  let wasm: Record<string, Fn>;
  /** The default threshold. */
  let planned: Record<string, Fn>;
  let tape: Record<string, Fn>;
  beforeAll(async () => {
    js = (await importGenerated(build({ backend: "js" }).code, "conv-js")) as Record<string, Fn>;
    wasm = (await importGenerated(build({ backend: "wasm", wasmMinWork: 1 }).code, "conv-wasm")) as Record<string, Fn>;
    const code = `${build({ backend: "wasm" }).code}export const memoryBytes = () => $gradc_wasm.memory.buffer.byteLength;\n`;
    planned = (await importGenerated(code, "conv-planned")) as Record<string, Fn>;
    tape = (await import(/* @vite-ignore */ join(dir, "model.ts"))) as Record<string, Fn>;
  });

  const CASES: Array<[string, () => unknown[], boolean]> = [
    ["gBig", () => [tensor([4, 3, 16, 16], true), tensor([8, 3, 3, 3], true)], true],
    ["gSmall", () => [tensor([1, 1, 4, 4]), tensor([1, 1, 2, 2])], false],
    ["gStrided", () => [tensor([2, 3, 9, 7]), tensor([4, 3, 3, 2])], false],
    ["gSame", () => [tensor([3, 2, 6, 5], true), tensor([2, 2, 4, 2], true)], true],
    ["gLayers", () => [tensor([2, 2, 9, 9]), { w1: tensor([3, 2, 3, 3]), b1: tensor([3, 1, 1]), w2: tensor([5, 3, 3, 3]) }], false],
    ["gBatched", () => [tensor([3, 2, 10, 10]), tensor([4, 2, 3, 3])], false],
    ["gPooled", () => [tensor([5, 3, 13, 14], true), tensor([2, 3, 2, 2], true)], true],
  ];

  it.each(CASES)("%s: the kernels equal the JavaScript backend and the tape", (name, make, f32) => {
    const args = make();
    const tol = f32 ? 1e-5 : 1e-12;
    const got = wasm[name]!(...args);
    expectAgree(got, js[name]!(...args), tol, `${name} against the JavaScript backend`);
    expectAgree(got, tape[name]!(...args), tol, `${name} against the tape`);
    expectAgree(planned[name]!(...args), js[name]!(...args), tol, `${name} at the default threshold`);
  });

  it("f64 gradients equal central differences of the model", () => {
    const args = [tensor([2, 2, 9, 9]), { w1: tensor([3, 2, 3, 3]), b1: tensor([3, 1, 1]), w2: tensor([5, 3, 3, 3]) }] as const;
    const [, [dx, dp]] = wasm["gLayers"]!(...args) as [number, [{ data: Float64Array }, Record<string, { data: Float64Array }>]];
    const value = (x: unknown, p: unknown): number => tape["layers"]!(x, p) as unknown as number;
    type Tensor = ReturnType<typeof tensor>;
    const perturbed = (t: Tensor, i: number, v: number): Tensor => {
      const data = t.data.slice();
      data[i] = v;
      return { shape: t.shape, data };
    };
    let checked = 0;
    for (let i = 0; i < dx.data.length; i += 23) {
      const fd = centralDifference((v) => value(perturbed(args[0], i, v), args[1]), args[0].data[i]!);
      expect(Math.abs(dx.data[i]! - fd), `dx[${i}]`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
      checked++;
    }
    for (const key of ["w1", "b1", "w2"] as const) {
      const t = args[1][key];
      for (let i = 0; i < t.data.length; i += 7) {
        const fd = centralDifference((v) => value(args[0], { ...args[1], [key]: perturbed(t, i, v) }), t.data[i]!);
        expect(Math.abs(dp[key]!.data[i]! - fd), `${key}[${i}]`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("max pooling at the default threshold, below and above it, agrees with the JavaScript loops", () => {
    for (const B of [2, 33, 34, 40]) {
      const args = [tensor([B, 3, 13, 14], true), tensor([2, 3, 2, 2], true)];
      const [, [dx]] = planned["gPooled"]!(...args) as [number, [{ data: Float32Array }]];
      const [, [want]] = js["gPooled"]!(...args) as [number, [{ data: Float32Array }]];
      expect(dx.data.length).toBe(B * 3 * 13 * 14);
      expectAgree(dx, want, 1e-5, `B = ${B}`);
    }
  });

  it("a symbolic batch below and above the threshold, the memory growing between calls", () => {
    const bytes = planned["memoryBytes"] as unknown as () => number;
    const before = bytes();
    for (const B of [1, 7, 8, 33, 300, 2]) {
      const args = [tensor([B, 2, 10, 10]), tensor([4, 2, 3, 3])];
      expectAgree(planned["gBatched"]!(...args), js["gBatched"]!(...args), 1e-12, `B = ${B}`);
      // Below B = 8 the loops run and the memory is not touched; B = 300 needs x, dy and the
      // scratch columns (300·200 + 300·256 + 18·64 f64) in it.
      if (B === 7) expect(bytes()).toBe(before);
      if (B === 300) expect(bytes()).toBeGreaterThanOrEqual(8 * (300 * 200 + 300 * 256 + 18 * 64));
    }
    expect(before).toBeLessThan(8 * (300 * 200 + 300 * 256 + 18 * 64));
  });
});
