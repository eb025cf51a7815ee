// Buffers in the kernels' linear memory (codegen/wasm-memory.ts): a function's planned buffers
// are views on it, laid out at call entry; the memory grows between calls as symbolic
// dimensions grow (also when another function of the module grows it); results handed to the
// caller, fresh or reused, are ordinary typed arrays that later calls do not overwrite. Every
// result is compared with the JavaScript backend's (1e-5 in f32, 1e-12 in f64).

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { compile, type CompileOptions } from "../../compiler/program.js";
import { importGenerated } from "../helpers/generated.js";
import { expectAgree, numericLeaves as leaves } from "../helpers/agree.js";

vi.mock("gradc", () => import("../../runtime/index.js"));

const SOURCE = `import { add, matmul, relu, sum, square, mul, valueAndGrad, type Tensor } from "gradc";
export function mlp<B extends number>(x: Tensor<[B, 24], "f32">, w: Tensor<[24, 16], "f32">, b: Tensor<[16], "f32">, v: Tensor<[16, 8], "f32">): number {
  const h = relu(add(matmul(x, w), b));
  return sum(square(matmul(h, v)));
}
export const gMlp = valueAndGrad(mlp, { argnums: [0, 1, 2, 3] });
export const gMlpReuse = valueAndGrad(mlp, { argnums: [1, 2, 3], reuse: true });
export function wide<N extends number>(x: Tensor<[N, 32]>, w: Tensor<[32, 32]>): number {
  return sum(square(matmul(mul(matmul(x, w), x), w)));
}
export const gWide = valueAndGrad(wide, { argnums: [0, 1] });
export function twice<B extends number>(x: Tensor<[B, 24], "f32">, w: Tensor<[24, 16], "f32">): [number, Tensor<[B, 16], "f32">] {
  const h = matmul(x, w);
  return [sum(square(h)), h];
}
export const gTwice = valueAndGrad(twice, { argnums: 1, hasAux: true });
`;

type Fn = (...a: unknown[]) => unknown;
let dir: string;
let js: Record<string, Fn>;
let wasm: Record<string, Fn>;
let memory: () => ArrayBufferLike;

const build = (options: CompileOptions) => {
  const r = compile([join(dir, "model.ts")], { emit: "js", verify: true, module: "esm", ...options });
  expect(r.diagnostics).toEqual([]);
  return r.modules[0]!.code;
};

let rand = 11;
const next = (): number => ((rand = (rand * 16807) % 2147483647) / 2147483647) * 2 - 1;
const tensor = (shape: number[], f32 = false) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: f32 ? Float32Array.from({ length: n }, next) : Float64Array.from({ length: n }, next) };
};
const mlpArgs = (B: number) => [tensor([B, 24], true), tensor([24, 16], true), tensor([16], true), tensor([16, 8], true)];

/** Every typed array of a result tree. */
function arrays(v: unknown, out: (Float32Array | Float64Array)[] = []): (Float32Array | Float64Array)[] {
  if (Array.isArray(v)) v.forEach((x) => arrays(x, out));
  else if (v !== null && typeof v === "object" && "data" in v) out.push((v as { data: Float32Array }).data);
  else if (v !== null && typeof v === "object") Object.values(v).forEach((x) => arrays(x, out));
  return out;
}

/** No array of a result is a view on the kernels' memory. */
function expectOrdinary(result: unknown): void {
  const all = arrays(result);
  expect(all.length).toBeGreaterThan(0);
  for (const a of all) expect(a.buffer).not.toBe(memory());
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gradc-wasm-memory-"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.ts"), SOURCE);
  js = (await importGenerated(build({ backend: "js" }), "memory-js")) as Record<string, Fn>;
  // Every product a kernel (threshold 1), and the memory visible to the test.
  const code = `${build({ backend: "wasm", wasmMinWork: 1 })}export const memoryBuffer = () => $gradc_wasm.memory.buffer;\n`;
  const mod = await importGenerated(code, "memory-wasm");
  await (mod["ready"] as Promise<void>);
  wasm = mod as Record<string, Fn>;
  memory = mod["memoryBuffer"] as () => ArrayBufferLike;
});

describe("planned buffers in the linear memory", () => {
  it("are views on the memory, laid out at call entry, and the kernels read them in place", () => {
    const code = build({ backend: "wasm", wasmMinWork: 1 });
    const body = code.slice(code.indexOf("export function gMlp("), code.indexOf("export function gMlpReuse"));
    // The layout is made before the first kernel, the buffers are views on the memory.
    expect(body).toMatch(/\$gradc_wasm_layout\(\[/);
    expect(body.indexOf("$gradc_wasm_layout")).toBeLessThan(body.indexOf("$gradc_mm_f32"));
    expect(body).toMatch(/\$gradc_gMlp_b0 = new Float32Array\(m, at\[0\], B \* 16\);/);
    // x is read by two products (forward and dW): copied into the memory once per call.
    expect(body.match(/\$gradc_gMlp_in\d\.set\(x_d\);/g)?.length).toBe(1);
    // The module cannot grow the memory during a call: the helpers grow it only from the layout.
    const helpers = code.slice(code.indexOf("function $gradc_mm_f32"), code.indexOf("// Buffers"));
    expect(helpers).not.toContain("$gradc_wasm_room(");
    // The JavaScript backend's code has none of it.
    expect(build({ backend: "js" })).not.toMatch(/wasm|_mem\b/);
  });

  it("grows between calls as symbolic dimensions grow, also when another function grows it", () => {
    const sizes: number[] = [];
    for (const [B, N] of [
      [3, 2],
      [64, 5],
      [2, 700],
      [500, 1],
      [1, 1],
    ] as const) {
      const a = mlpArgs(B);
      expectAgree(wasm["gMlp"]!(...a), js["gMlp"]!(...a), 1e-5);
      sizes.push(memory().byteLength);
      // gWide's layout for N = 700 (f64) is larger than gMlp's for B = 2: it grows the memory,
      // detaching gMlp's views, which gMlp's next call re-makes.
      const b = [tensor([N, 32]), tensor([32, 32])];
      expectAgree(wasm["gWide"]!(...b), js["gWide"]!(...b), 1e-12);
      sizes.push(memory().byteLength);
    }
    expect(sizes[5]).toBeGreaterThan(sizes[4]!);
    // Memory only grows; small calls after large ones use what is there.
    sizes.forEach((s, i) => i > 0 && expect(s).toBeGreaterThanOrEqual(sizes[i - 1]!));
    expect(sizes[sizes.length - 1]).toBe(sizes[sizes.length - 3]);
  });

  it("fresh results are ordinary typed arrays that later calls do not overwrite", () => {
    const a = mlpArgs(40);
    const first = wasm["gMlp"]!(...a);
    const copy = leaves(first);
    expectOrdinary(first);
    expectAgree(first, js["gMlp"]!(...a), 1e-5);
    // Another call, another batch size, another function growing the memory.
    wasm["gMlp"]!(...mlpArgs(41));
    wasm["gWide"]!(tensor([900, 32]), tensor([32, 32]));
    wasm["gMlp"]!(...mlpArgs(40));
    expect(leaves(first)).toEqual(copy);
  });

  it("reused results are the same ordinary arrays every call, each call's values, through memory growth", () => {
    let previous: unknown;
    for (const B of [8, 200, 8]) {
      const a = mlpArgs(B);
      const r = wasm["gMlpReuse"]!(...a);
      if (previous !== undefined) expect(r).toBe(previous);
      previous = r;
      expectOrdinary(r);
      expectAgree(r, js["gMlpReuse"]!(...a), 1e-5);
      // A call of another function (growing the memory) leaves the reused result as it was.
      const values = leaves(r);
      wasm["gWide"]!(tensor([1200 + B, 32]), tensor([32, 32]));
      expect(leaves(r)).toEqual(values);
    }
  });

  it("a value returned as aux and used by the gradient is returned as an ordinary copy", () => {
    for (const B of [5, 70]) {
      const a = [tensor([B, 24], true), tensor([24, 16], true)];
      const r = wasm["gTwice"]!(...a);
      expectOrdinary(r);
      expectAgree(r, js["gTwice"]!(...a), 1e-5);
      const values = leaves(r);
      wasm["gTwice"]!(tensor([B, 24], true), tensor([24, 16], true));
      expect(leaves(r)).toEqual(values);
    }
  });
});
