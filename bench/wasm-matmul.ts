// Micro-benchmark: the WebAssembly SIMD matrix products (compiler/wasm/) against the JavaScript
// loops codegen emits today (compiler/codegen/kernels.ts), at mlp-mnist's sizes, in GFLOP/s
// (2·M·N·K per product). Not part of the test suite; run with
//   npx tsx bench/wasm-matmul.ts [--ms 400] [--kc 256] [--wall] [--f64]
//   npx tsx bench/wasm-matmul.ts --dump      (prints the kernel module's text listing instead)
// Times are the process's CPU time by default (all kernels here are single-threaded, and on a
// shared machine wall time also counts the time spent waiting for a core); --wall for wall time.
// "JS literal" is the 4×4 register-blocked loop codegen writes when M and N are literal
// multiples of 4 (sizes inlined as constants); "JS symbolic" is the loop it writes when a
// dimension is a type parameter (sizes are variables). Both are rebuilt here with `new
// Function` in the same form, over typed arrays, so V8 sees what it sees in generated code.

import { buildKernelModule, type KernelExports } from "../compiler/wasm/module.js";
import { Arena, pagesFor } from "../compiler/wasm/memory.js";
import { instantiateSync, WA } from "../compiler/wasm/webassembly.js";

type Variant = "nn" | "nt" | "tn";
type Arr = Float32Array | Float64Array;
type Kernel = (c: Arr, a: Arr, b: Arr, m: number, n: number, k: number) => void;

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const BUDGET_MS = flag("ms", 400);
const KC = flag("kc", 256);
const F64 = args.includes("--f64");
const ELEM = F64 ? "f64" : "f32";
const SIZE = F64 ? 8 : 4;
const view = (at: number, n: number): Arr => (F64 ? new Float64Array(memory.buffer, at, n) : new Float32Array(memory.buffer, at, n));

/** The loop nest kernels.ts emits for a product, with sizes as literals or as variables. */
function jsMatmul(v: Variant, m: number, n: number, k: number, literal: boolean): Kernel {
  const ta = v === "tn";
  const tb = v === "nt";
  const [M, N, K] = literal ? [String(m), String(n), String(k)] : ["m", "n", "k"];
  const aAt = ta ? `a[p * ${M} + i]` : `a[i * ${K} + p]`;
  const lines: string[] = [];
  if (literal && m % 4 === 0 && n % 4 === 0 && k !== 1) {
    const R = [0, 1, 2, 3];
    lines.push(`for (let i = 0; i < ${M}; i += 4) {`);
    if (!ta) R.forEach((r) => lines.push(`const ar${r} = (i + ${r}) * ${K};`));
    lines.push(`for (let j = 0; j < ${N}; j += 4) {`);
    if (tb) R.forEach((c) => lines.push(`const br${c} = (j + ${c}) * ${K};`));
    lines.push(`let ${R.flatMap((r) => R.map((c) => `c${r}${c} = 0`)).join(", ")};`);
    lines.push(`for (let p = 0; p < ${K}; p++) {`);
    if (ta) lines.push(`const ao = p * ${M} + i;`);
    if (!tb) lines.push(`const bo = p * ${N} + j;`);
    lines.push(`const ${R.map((r) => `a${r} = ${ta ? `a[ao + ${r}]` : `a[ar${r} + p]`}`).join(", ")};`);
    lines.push(`const ${R.map((c) => `b${c} = ${tb ? `b[br${c} + p]` : `b[bo + ${c}]`}`).join(", ")};`);
    R.forEach((r) => lines.push(R.map((c) => `c${r}${c} += a${r} * b${c};`).join(" ")));
    lines.push("}");
    R.forEach((r) => lines.push(`{ const o = (i + ${r}) * ${N} + j; ${R.map((c) => `C[o + ${c}] = c${r}${c};`).join(" ")} }`));
    lines.push("}", "}");
  } else if (!tb) {
    lines.push(`for (let i = 0; i < ${M}; i++) {`, `const ci = i * ${N};`, `for (let j = 0; j < ${N}; j++) C[ci + j] = 0;`);
    lines.push(`for (let p = 0; p < ${K}; p++) {`, `const av = ${aAt};`, `const bp = p * ${N};`);
    lines.push(`for (let j = 0; j < ${N}; j++) C[ci + j] += av * b[bp + j];`, "}", "}");
  } else {
    lines.push(`for (let i = 0; i < ${M}; i++) {`, `for (let j = 0; j < ${N}; j++) {`, "let acc = 0;");
    lines.push(`for (let p = 0; p < ${K}; p++) acc += ${aAt} * b[j * ${K} + p];`, `C[i * ${N} + j] = acc;`, "}", "}");
  }
  return new Function("C", "a", "b", "m", "n", "k", lines.join("\n")) as Kernel;
}

const WALL = args.includes("--wall");
/** Milliseconds since some origin: CPU time of this process, or wall time with --wall. */
const now = (): number => {
  if (WALL) return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Median milliseconds per call over rounds of batches. */
function time(fn: () => void): number {
  const warm = now();
  let calls = 0;
  while (now() - warm < BUDGET_MS / 4) {
    fn();
    calls++;
  }
  const perCall = (BUDGET_MS / 4) / Math.max(calls, 1);
  const batch = Math.max(1, Math.round(5 / perCall));
  const samples: number[] = [];
  const start = now();
  while (samples.length < 5 || (now() - start < BUDGET_MS && samples.length < 41)) {
    const t0 = now();
    for (let i = 0; i < batch; i++) fn();
    samples.push((now() - t0) / batch);
  }
  samples.sort((x, y) => x - y);
  return samples[samples.length >> 1]!;
}

const SHAPES: Array<{ label: string; v: Variant; m: number; n: number; k: number }> = [
  { label: "x·W1 (forward)", v: "nn", m: 64, n: 128, k: 784 },
  { label: "dz1·W1ᵀ (dx)", v: "nt", m: 64, n: 784, k: 128 },
  { label: "xᵀ·dz1 (dW1)", v: "tn", m: 784, n: 128, k: 64 },
  { label: "h·W2 (forward)", v: "nn", m: 64, n: 10, k: 128 },
  { label: "dlogits·W2ᵀ (dh)", v: "nt", m: 64, n: 128, k: 10 },
  { label: "hᵀ·dlogits (dW2)", v: "tn", m: 128, n: 10, k: 64 },
  // hidden width 2048: B's panels no longer fit in L2, the K tiles matter
  { label: "x·W1, H = 2048", v: "nn", m: 64, n: 2048, k: 784 },
  { label: "dz1·W1ᵀ, H = 2048", v: "nt", m: 64, n: 784, k: 2048 },
  { label: "xᵀ·dz1, H = 2048", v: "tn", m: 784, n: 2048, k: 64 },
];

const mod = buildKernelModule({ kc: KC });
if (args.includes("--dump")) {
  process.stdout.write(mod.text);
  process.exit(0);
}
const arenaBytes = SIZE * 3 * 784 * 2048 + 1024;
const memory = new WA.Memory({ initial: pagesFor(arenaBytes) });
const wasm = instantiateSync(mod.bytes, memory).exports as unknown as KernelExports;

const fill = (x: Arr, seed: number): void => {
  let s = seed;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = s / 4294967296 - 0.5;
  }
};

const rows: string[] = [];
console.log(`WebAssembly SIMD vs JavaScript matrix products, ${ELEM}, GFLOP/s by ${WALL ? "wall" : "CPU"} time (higher is better); K tile ${KC}`);
console.log("");
console.log("| product | variant | M×K·K×N | JS symbolic | JS literal | wasm SIMD | wasm / JS literal | max |Δ| vs JS |");
console.log("|---|---|---|---:|---:|---:|---:|---:|");
for (const s of SHAPES) {
  const { v, m, n, k } = s;
  const arena = new Arena();
  const aAt = arena.alloc(m * k * SIZE);
  const bAt = arena.alloc(k * n * SIZE);
  const cAt = arena.alloc(m * n * SIZE);
  const a = view(aAt, m * k);
  const b = view(bAt, k * n);
  const c = view(cAt, m * n);
  fill(a, 1);
  fill(b, 2);
  const aJs = a.slice();
  const bJs = b.slice();
  const cJs = F64 ? new Float64Array(m * n) : new Float32Array(m * n);
  const flops = 2 * m * n * k;
  const gflops = (ms: number): number => flops / (ms * 1e6);
  const symbolic = jsMatmul(v, m, n, k, false);
  const literal = jsMatmul(v, m, n, k, true);
  const kernel = wasm[`matmul_${v}_${ELEM}`];
  const tSym = time(() => symbolic(cJs, aJs, bJs, m, n, k));
  const tLit = time(() => literal(cJs, aJs, bJs, m, n, k));
  const tWasm = time(() => kernel(cAt, aAt, bAt, m, n, k, 0));
  let diff = 0;
  for (let i = 0; i < m * n; i++) diff = Math.max(diff, Math.abs(c[i]! - cJs[i]!));
  const line = `| ${s.label} | ${v} | ${m}×${k}·${k}×${n} | ${gflops(tSym).toFixed(2)} | ${gflops(tLit).toFixed(2)} | ${gflops(tWasm).toFixed(2)} | ${(tLit / tWasm).toFixed(2)}× | ${diff.toExponential(1)} |`;
  rows.push(line);
  console.log(line);
}
