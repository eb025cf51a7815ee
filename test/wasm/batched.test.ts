// Batched matrix products on the WebAssembly backend (codegen/wasm-batched.ts): which products
// become kernel calls (one 2-D product when B is not batched, one looped call otherwise, the
// JavaScript loops past two broadcast groups or below the threshold), and results equal to the
// JavaScript backend's, to the tape's and to finite differences, for every transposition form
// the backward pass produces, broadcast batch dimensions, a symbolic batch, f32 and f64.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile, type CompileOptions } from "../../compiler/index.js";
import { wasmKernelsOf } from "../../compiler/codegen/wasm-backend.js";
import { randn, type Tensor } from "../../runtime/index.js";
import { importGenerated } from "../helpers/generated.js";
import { expectAgree, numericLeaves as leaves } from "../helpers/agree.js";

const TMP = join(__dirname, "..", ".tmp", "wasm-batched");

// Each model's products, with the forms reverse mode derives from them:
//   flat    x [4,16,24]·w: nn over 64 rows (forward), nt over 64 rows (dx), tn per entry (dw)
//   att     q·kᵀ (nt, k read in place), softmax·v (nn), and their tn/nn/nt backward
//   tn      transpose(a, [0, 2, 1])·b (tn), da (nt), db (nn)
//   cross   [2,1]×[1,3] batch: two groups, each operand broadcast over one
//   left    an un-batched A times a batched B (A broadcast)
//   outer   [3,5]×[5] batch: A walks both axes, B only the inner one
//   alt     [2,1,2]×[1,3,1]: three groups, left to the JavaScript loops
const models = (d: "f32" | "f64"): string => `
export function flat_${d}(x: Tensor<[4, 16, 24], "${d}">, w: Tensor<[24, 20], "${d}">): number {
  return sum(square(matmul(x, w)));
}
export const gFlat_${d} = valueAndGrad(flat_${d}, { argnums: [0, 1] });
export function att_${d}(q: Tensor<[3, 16, 12], "${d}">, k: Tensor<[3, 16, 12], "${d}">, v: Tensor<[3, 16, 10], "${d}">): number {
  const s = softmax(mul(matmul(q, transpose(k, [0, 2, 1])), 0.3), 2);
  return sum(square(matmul(s, v)));
}
export const gAtt_${d} = valueAndGrad(att_${d}, { argnums: [0, 1, 2] });
export function tn_${d}(a: Tensor<[2, 12, 8], "${d}">, b: Tensor<[2, 12, 10], "${d}">): number {
  return sum(square(matmul(transpose(a, [0, 2, 1]), b)));
}
export const gTn_${d} = valueAndGrad(tn_${d}, { argnums: [0, 1] });
export function cross_${d}(a: Tensor<[2, 1, 8, 12], "${d}">, b: Tensor<[1, 3, 12, 10], "${d}">): number {
  return sum(square(matmul(a, b)));
}
export const gCross_${d} = valueAndGrad(cross_${d}, { argnums: [0, 1] });
export function left_${d}(a: Tensor<[8, 12], "${d}">, b: Tensor<[5, 12, 10], "${d}">): number {
  return sum(square(matmul(a, b)));
}
export const gLeft_${d} = valueAndGrad(left_${d}, { argnums: [0, 1] });
export function outer_${d}(a: Tensor<[3, 5, 8, 12], "${d}">, b: Tensor<[5, 12, 10], "${d}">): number {
  return sum(square(matmul(a, b)));
}
export const gOuter_${d} = valueAndGrad(outer_${d}, { argnums: [0, 1] });
export function alt_${d}(a: Tensor<[2, 1, 2, 8, 12], "${d}">, b: Tensor<[1, 3, 1, 12, 10], "${d}">): number {
  return sum(square(matmul(a, b)));
}
export const gAlt_${d} = valueAndGrad(alt_${d}, { argnums: [0, 1] });
export function sym_${d}<B extends number>(x: Tensor<[B, 8, 12], "${d}">, w: Tensor<[12, 10], "${d}">, y: Tensor<[B, 8, 9], "${d}">): number {
  return sum(square(matmul(transpose(matmul(x, w), [0, 2, 1]), y)));
}
export const gSym_${d} = valueAndGrad(sym_${d}, { argnums: [0, 1, 2] });
`;

// Past OUTLINE_AFTER kernels each kernel becomes a module-level function: the batched call
// must find its operands and its symbolic batch there too.
const LONG = (() => {
  const lines = ["export function long<B extends number>(a: Tensor<[B, 6, 8]>, b: Tensor<[B, 8, 5]>): number {", "  const v0 = matmul(a, b);", "  const v1 = tanh(v0);", "  const v2 = sigmoid(v0);"];
  for (let i = 3; i < 40; i++) lines.push(`  const v${i} = tanh(add(mul(v${i - 1}, v${i - 2}), v${i - 3}));`);
  lines.push("  return sum(matmul(v39, transpose(v38, [0, 2, 1])));", "}", "export const gLong = valueAndGrad(long, { argnums: [0, 1] });");
  return lines.join("\n");
})();

const SOURCE = `import { add, matmul, mul, sigmoid, softmax, square, sum, tanh, transpose, valueAndGrad, type Tensor } from "gradc";
${models("f32")}${models("f64")}${LONG}
`;

const SHAPES: Record<string, number[][]> = {
  Flat: [[4, 16, 24], [24, 20]],
  Att: [[3, 16, 12], [3, 16, 12], [3, 16, 10]],
  Tn: [[2, 12, 8], [2, 12, 10]],
  Cross: [[2, 1, 8, 12], [1, 3, 12, 10]],
  Left: [[8, 12], [5, 12, 10]],
  Outer: [[3, 5, 8, 12], [5, 12, 10]],
  Alt: [[2, 1, 2, 8, 12], [1, 3, 1, 12, 10]],
};
const symShapes = (B: number): number[][] => [[B, 8, 12], [12, 10], [B, 8, 9]];

type Fn = (...args: unknown[]) => [number, unknown];
type Module = Record<string, Fn>;
let src: string;
let code: { js: string; wasm: string; threshold: string };
let js: Module;
let wasm: Module;
let threshold: Module;
let tape: Module;

const build = (options: CompileOptions): string => {
  const r = compile([src], { emit: "js", verify: true, module: "esm", ...options });
  expect(r.diagnostics).toEqual([]);
  return r.modules[0]!.code;
};

beforeAll(async () => {
  mkdirSync(TMP, { recursive: true });
  src = join(TMP, "models.ts");
  writeFileSync(src, SOURCE);
  // Every product a kernel (threshold 1); and a threshold of 5000 multiply-adds, so the symbolic
  // batch switches between the kernels and the loops at small sizes.
  code = { js: build({ backend: "js" }), wasm: build({ backend: "wasm", wasmMinWork: 1 }), threshold: build({ backend: "wasm", wasmMinWork: 5000 }) };
  js = (await importGenerated(code.js, "batched-js")) as Module;
  wasm = (await importGenerated(code.wasm, "batched-wasm")) as Module;
  threshold = (await importGenerated(code.threshold, "batched-threshold")) as Module;
  tape = (await import(/* @vite-ignore */ src)) as Module;
});

/** The body of one exported function of a generated module. */
const body = (text: string, name: string): string => {
  const start = text.indexOf(`export function ${name}(`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = text.indexOf("\nexport function ", start + 1);
  return text.slice(start, end < 0 ? undefined : end);
};

const args = (shapes: number[][], d: "f32" | "f64", seed: number): Tensor[] => shapes.map((s, i) => randn(s, seed + i, d) as Tensor);
const TOL = { f32: 1e-5, f64: 1e-12 } as const;
const CASES = Object.keys(SHAPES).flatMap((m) => (["f32", "f64"] as const).map((d) => [m, d] as const));

describe("the plan", () => {
  it("B not batched: one product over batch·M rows (forward nn, dx nt; dw tn is 2-D after the VJP)", () => {
    const f = body(code.wasm, "gFlat_f32");
    expect(f).toMatch(/\$gradc_bmm_f32\("matmul_nn_f32", [\w$]+, x_d, w_d, 1536, 480, 64, 20, 24, 1, 0, 0, 1, 0, 0\);/);
    expect(f).toMatch(/\$gradc_bmm_f32\("matmul_nt_f32", [\w$]+, [\w$]+, w_d, 1280, 480, 64, 24, 20, 1, 0, 0, 1, 0, 0\);/);
    // dw = Σ xᵀ·dy over the batch: one tn product over the 64 rows (the VJP reshapes x and dy).
    // x is read from its copy in the kernels' memory, staged once per call (wasm-memory.ts).
    expect(f).toMatch(/\$gradc_mm_f32\(\$gradc_wasm\.get\(\)\.matmul_tn_f32, [\w$]+, [\w$]+, [\w$]+, 24 \* 64, 64 \* 20, 24, 20, 64\);/);
    expect(f.match(/\$gradc_bmm_f32\(/g)).toHaveLength(2);
  });

  it("transpose(k, [0, 2, 1]) is read in place by the nt kernel, and every backward form is a kernel", () => {
    const f = body(code.wasm, "gAtt_f64");
    expect(f).toMatch(/\$gradc_bmm_f64\("matmul_nt_f64", [\w$]+, q_d, k_d, 576, 576, 16, 16, 12, 1, 0, 0, 3, 192, 192\);/);
    for (const form of ["nn", "nt", "tn"]) expect(f).toContain(`$gradc_bmm_f64("matmul_${form}_f64",`);
    expect(f).not.toMatch(/for \(let \$p = 0/);
  });

  it("broadcast batch dimensions: stride 0 for the operand that is broadcast", () => {
    // cross [2,1]×[1,3]: outer group (a walks, 96 per entry), inner group (b walks, 120 per entry).
    expect(body(code.wasm, "gCross_f64")).toMatch(/\$gradc_bmm_f64\("matmul_nn_f64", [\w$]+, a_d, b_d, 192, 360, 8, 10, 12, 2, 96, 0, 3, 0, 120\);/);
    // left: A not batched.
    expect(body(code.wasm, "gLeft_f64")).toMatch(/\$gradc_bmm_f64\("matmul_nn_f64", [\w$]+, a_d, b_d, 96, 600, 8, 10, 12, 1, 0, 0, 5, 0, 120\);/);
    // outer [3,5]×[5]: A walks both groups, B only the inner one.
    expect(body(code.wasm, "gOuter_f64")).toMatch(/\$gradc_bmm_f64\("matmul_nn_f64", [\w$]+, a_d, b_d, 1440, 600, 8, 10, 12, 3, 480, 0, 5, 96, 120\);/);
  });

  it("three broadcast groups stay JavaScript, and so do products below the threshold", () => {
    expect(body(code.wasm, "gAlt_f64")).not.toContain("$gradc_bmm");
    const alt = compile([src], { emit: "js", verify: true }).modules[0]!.functions.find((f) => f.exportName === "gAlt_f64")!;
    // (Its elementwise backward may still be a fused kernel at this lowered threshold.)
    expect(wasmKernelsOf(alt.stages.opt, "wasm", 1).filter((k) => k.startsWith("matmul"))).toEqual([]);
    // At the default threshold (32768 multiply-adds) the attention-sized products of these models are loops.
    const fn = compile([src], { emit: "js", verify: true }).modules[0]!.functions.find((f) => f.exportName === "gAtt_f32")!;
    const products = (minWork?: number): string[] => wasmKernelsOf(fn.stages.opt, "wasm", minWork).filter((k) => k.startsWith("matmul"));
    expect(products()).toEqual([]);
    expect(products(1)).toEqual(["matmul_nt_f32", "matmul_nn_f32", "matmul_tn_f32"]);
  });

  it("a symbolic batch decides with one comparison; the JavaScript backend calls no kernel", () => {
    const f = body(code.threshold, "gSym_f64");
    expect(f).toMatch(/if \(B \* 960 >= 5000\) \{\n\s+\$gradc_bmm_f64\("matmul_nn_f64", [\w$]+, x_d, w_d, B \* 96, 120, B \* 8, 10, 12, 1, 0, 0, 1, 0, 0\);\n\s+\} else \{/);
    // dw = Σ xᵀ·d(x·w): B·8 is not one dimension, so a tn per batch entry, then a sum.
    expect(f).toMatch(/if \(B \* 960 >= 5000\) \{\n\s+\$gradc_bmm_f64\("matmul_tn_f64", [\w$]+, x_d, [\w$]+, B \* 96, B \* 80, 12, 10, 8, 1, 0, 0, B, 96, 80\);/);
    // (x·w)ᵀ·y per batch entry: 10×9 by an inner 8.
    expect(f).toMatch(/if \(B \* 720 >= 5000\) \{\n\s+\$gradc_bmm_f64\("matmul_tn_f64", [\w$]+, [\w$]+, y_d, B \* 80, B \* 72, 10, 9, 8, 1, 0, 0, B, 80, 72\);\n\s+\} else \{/);
    expect(code.js).not.toContain("$gradc_wasm");
  });
});

describe("results", () => {
  it.each(CASES)("%s %s: WebAssembly equals the JavaScript backend and the tape", (model, d) => {
    const a = () => args(SHAPES[model]!, d, 11);
    const name = `g${model}_${d}`;
    const onWasm = wasm[name]!(...a());
    expectAgree(onWasm, js[name]!(...a()), TOL[d]);
    expectAgree(onWasm, tape[name]!(...a()), TOL[d]);
  });

  it.each(["f32", "f64"] as const)("symbolic batch %s: kernels above the threshold, loops below, the memory growing", (d) => {
    for (const B of [1, 3, 6, 7, 12, 100, 2]) {
      const a = () => args(symShapes(B), d, 40 + B);
      const name = `gSym_${d}`;
      const reference = js[name]!(...a());
      expectAgree(threshold[name]!(...a()), reference, TOL[d]);
      expectAgree(wasm[name]!(...a()), reference, TOL[d]);
      if (B <= 12) expectAgree(wasm[name]!(...a()), tape[name]!(...a()), TOL[d]);
    }
  });

  it("a function past the outlining limit calls batched kernels from its outlined kernels", () => {
    expect(code.wasm).toMatch(/^function \$gradc_gLong_k\d+\([^)]*\) \{\n\s+\$gradc_bmm_f64\(/m);
    for (const B of [3, 1]) {
      const a = () => args([[B, 6, 8], [B, 8, 5]], "f64", 60 + B);
      expectAgree(wasm["gLong"]!(...a()), js["gLong"]!(...a()), 1e-12);
    }
  });

  it("with threads, a flat product is split by rows and the results are bit-identical", { timeout: 120_000 }, async () => {
    const threaded = `${build({ backend: "wasm", wasmMinWork: 1, threads: 2, threadMinWork: 1 })}export const helped = () => $gradc_wasm.helped();\n`;
    const one = (await importGenerated(build({ backend: "wasm", wasmMinWork: 1, threads: 1 }), "batched-one")) as Module;
    const two = await importGenerated(threaded, "batched-two");
    const helped = two["helped"] as () => number;
    const a = () => args(SHAPES["Flat"]!, "f32", 3);
    const reference = leaves(one["gFlat_f32"]!(...a()));
    // Workers start with the first large call and help once they are ready.
    const end = Date.now() + 60_000;
    do {
      expect(leaves((two["gFlat_f32"] as Fn)(...a()))).toEqual(reference);
      expect(leaves((two["gAtt_f32"] as Fn)(...args(SHAPES["Att"]!, "f32", 3)))).toEqual(leaves(one["gAtt_f32"]!(...args(SHAPES["Att"]!, "f32", 3))));
      await new Promise((r) => setTimeout(r, 5));
    } while (helped() === 0 && Date.now() < end);
    expect(helped()).toBeGreaterThan(0);
  });

  it.each(["Att", "Cross", "Outer", "Tn"])("%s f64: gradients agree with central finite differences", (model) => {
    const shapes = SHAPES[model]!;
    const inputs = args(shapes, "f64", 5);
    const f = wasm[`g${model}_f64`]!;
    const [, grads] = f(...inputs) as [number, Tensor[]];
    const eps = 1e-6;
    inputs.forEach((x, arg) => {
      const data = x.data as Float64Array;
      for (const i of [0, Math.floor(data.length / 2), data.length - 1]) {
        const saved = data[i]!;
        data[i] = saved + eps;
        const up = f(...inputs)[0];
        data[i] = saved - eps;
        const down = f(...inputs)[0];
        data[i] = saved;
        const fd = (up - down) / (2 * eps);
        expect(Math.abs(grads[arg]!.data[i]! - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
      }
    });
  });
});
