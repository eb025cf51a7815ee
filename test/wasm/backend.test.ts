// The WebAssembly backend in generated code: which products become kernels (literal sizes at
// compile time, symbolic ones at run time), the embedded module and its `ready` export, the
// memory growing between calls, results equal to the JavaScript backend's, and the CLI's
// `--backend` and `--dump wasm`.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { WASM_MIN_WORK } from "../../compiler/codegen/wasm-backend.js";
import { compile, type CompileOptions } from "../../compiler/program.js";
import { importGenerated } from "../helpers/generated.js";
import { expectAgree } from "../helpers/agree.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

const SOURCE = `import { add, matmul, relu, sum, square, valueAndGrad, type Tensor } from "gradc";
export function small(x: Tensor<[4, 3]>, w: Tensor<[3, 2]>): number {
  return sum(square(matmul(x, w)));
}
export const gSmall = valueAndGrad(small, { argnums: 1 });
export function big(x: Tensor<[64, 96], "f32">, w: Tensor<[96, 48], "f32">, b: Tensor<[48], "f32">): number {
  return sum(square(relu(add(matmul(x, w), b))));
}
export const gBig = valueAndGrad(big, { argnums: [1, 2] });
export function batched<B extends number>(x: Tensor<[B, 40]>, w: Tensor<[40, 30]>): number {
  return sum(square(matmul(x, w)));
}
export const gBatched = valueAndGrad(batched, { argnums: [0, 1] });
`;

let dir: string;
const build = (options: CompileOptions) => {
  const r = compile([join(dir, "model.ts")], { emit: "js", verify: true, module: "esm", ...options });
  expect(r.diagnostics).toEqual([]);
  return r.modules[0]!;
};

let rand = 7;
const next = (): number => ((rand = (rand * 16807) % 2147483647) / 2147483647) * 2 - 1;
const tensor = (shape: number[], f32 = false) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: f32 ? Float32Array.from({ length: n }, next) : Float64Array.from({ length: n }, next) };
};
type Fn = (...a: unknown[]) => [number, unknown];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gradc-wasm-backend-"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.ts"), SOURCE);
});

describe("the plan: kernels above the size threshold", () => {
  it("literal sizes decide at compile time; a symbolic size at run time", () => {
    const code = build({ backend: "wasm" }).code;
    // 64·96·48 multiply-adds and its backward forms are kernels; the 4×3·3×2 product is not.
    expect(code).toContain(`$gradc_mm_f32($gradc_wasm.get().matmul_nn_f32`);
    expect(code).toContain(`$gradc_wasm.get().matmul_tn_f32`);
    const small = code.slice(code.indexOf("export function gSmall"), code.indexOf("export function gBig"));
    expect(small).not.toContain("$gradc_mm");
    const batched = code.slice(code.indexOf("export function gBatched"));
    expect(batched).toMatch(new RegExp(`if \\(B \\* 30 \\* 40 >= ${WASM_MIN_WORK}\\) \\{\\n\\s+\\$gradc_mm_f64\\(\\$gradc_wasm\\.get\\(\\)\\.matmul_nn_f64`));
    expect(code).toMatch(/^export const ready = \$gradc_wasm\.ready;$/m);
  });

  it("the JavaScript backend writes no WebAssembly and exports no `ready`", () => {
    const { code, declarations } = build({ backend: "js" });
    expect(code).not.toContain("WebAssembly");
    expect(code).not.toContain("ready");
    expect(declarations?.text).not.toContain("ready");
  });

  it("declarations and CommonJS export `ready`", () => {
    const esm = build({ backend: "wasm" });
    expect(esm.declarations?.text).toContain("export declare const ready: Promise<void>;");
    const cjs = build({ backend: "wasm", module: "cjs" });
    expect(cjs.code).toMatch(/^exports\.ready = \$gradc_wasm\.ready;$/m);
  });

  it("the generated module imports nothing", () => {
    expect(build({ backend: "wasm" }).code.split("\n").filter((l) => /^import (?!type )/.test(l))).toEqual([]);
  });
});

describe("results equal the JavaScript backend's", () => {
  let js: Record<string, Fn>;
  let wasm: Record<string, Fn>;
  beforeAll(async () => {
    js = (await importGenerated(build({ backend: "js" }).code, "backend-js")) as Record<string, Fn>;
    // The test reads the size of the kernels' memory through an export of its own.
    const code = `${build({ backend: "wasm" }).code}export const memoryBytes = () => $gradc_wasm.memory.buffer.byteLength;\n`;
    const mod = await importGenerated(code, "backend-wasm");
    await (mod["ready"] as Promise<void>);
    wasm = mod as Record<string, Fn>;
  });

  it("f32 within 1e-5 of each tensor's scale", () => {
    const args = [tensor([64, 96], true), tensor([96, 48], true), tensor([48], true)];
    expectAgree(wasm["gBig"]!(...args), js["gBig"]!(...args), 1e-5);
  });

  it("f64 with a symbolic batch within 1e-12, below and above the threshold, the memory growing between calls", () => {
    // B·30·40 ≥ 32768 from B = 28; B = 2000 needs more than the first page of memory.
    const bytes = wasm["memoryBytes"] as unknown as () => number;
    const seen = new Map<number, number>();
    for (const B of [2, 27, 28, 64, 2000, 5]) {
      const args = [tensor([B, 40]), tensor([40, 30])];
      expectAgree(wasm["gBatched"]!(...args), js["gBatched"]!(...args), 1e-12);
      seen.set(B, bytes());
    }
    // The memory holds the call's buffers (B·30 f64 at least) and its staged operands (x: B·40,
    // w: 40·30); B = 2000 grows it, and the smaller B = 5 after it keeps it as it is.
    expect(seen.get(64)!).toBeGreaterThanOrEqual(8 * (64 * 40 + 1200 + 64 * 30));
    expect(seen.get(2000)!).toBeGreaterThan(seen.get(64)!);
    expect(seen.get(2000)!).toBeGreaterThanOrEqual(8 * (2000 * 40 + 1200 + 2000 * 30));
    expect(seen.get(5)).toBe(seen.get(2000));
  });

  it("returns ordinary typed arrays, not views of the kernels' memory", () => {
    const args = [tensor([64, 96], true), tensor([96, 48], true), tensor([48], true)];
    const [, [dw]] = wasm["gBig"]!(...args) as [number, [{ data: Float32Array }]];
    const first = Float32Array.from(dw.data);
    expect(dw.data).toBeInstanceOf(Float32Array);
    wasm["gBig"]!(tensor([64, 96], true), tensor([96, 48], true), tensor([48], true));
    expect(Array.from(dw.data)).toEqual(Array.from(first));
  });
});

describe("the CLI", () => {
  const run = async (args: string[]): Promise<{ code: number; out: string }> => {
    let out = "";
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) }, cwd: dir, pretty: false, color: false };
    return { code: await main(args, io), out };
  };

  it("--dump wasm lists each function's kernels and prints the kernel module", async () => {
    const { code, out } = await run(["model.ts", "--dump", "wasm"]);
    expect(code).toBe(0);
    expect(out).toContain(";; model.ts: gSmall: no WebAssembly kernels (JavaScript only)");
    // gBig's products, and its 64×48 bias-and-relu trees as fused elementwise kernels.
    expect(out).toMatch(/;; model\.ts: gBig: matmul_nn_f32, ew_[0-9a-f]{8}_f32, .*matmul_tn_f32/);
    expect(out).toMatch(/\(func \$ew_[0-9a-f]{8}_f32 \(export "ew_[0-9a-f]{8}_f32"\)/);
    expect(out).toContain('(func $matmul_nt_f64 (export "matmul_nt_f64")');
  });

  it("--backend js writes JavaScript only; the default embeds the kernels", async () => {
    expect((await run(["model.ts", "--emit", "js", "--backend", "js"])).code).toBe(0);
    expect(readFileSync(join(dir, "model.grad.js"), "utf8")).not.toContain("WebAssembly");
    expect((await run(["model.ts", "--emit", "js"])).code).toBe(0);
    expect(readFileSync(join(dir, "model.grad.js"), "utf8")).toContain("$gradc_wasm.get().matmul_nn_f32");
  });

  it("--backend with another value is a usage error", async () => {
    expect((await run(["model.ts", "--backend", "gpu"])).code).toBe(2);
  });
});
