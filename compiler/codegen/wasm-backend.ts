// The WebAssembly backend behind the `KernelBackend` seam: which matrix products run as the
// SIMD kernels of compiler/wasm/, the call each one becomes, and the module-level code (the
// embedded kernel module, its linear memory and the copy-in/copy-out helpers) a generated
// module then carries. Everything else stays JavaScript (kernels.ts, matmul.ts).
//
// Per product the plan decides from its sizes, expressions of the dimensions: M·N·K
// multiply-adds at or above `WASM_MIN_WORK` run in WebAssembly, below it the JavaScript loop
// (already optimal for small sizes, and no copies). Literal sizes decide at compile time; a
// product with a symbolic dimension whose literal part alone does not decide gets both, chosen
// at run time by one comparison, so a symbolic batch runs the same kernel as a literal one.
//
// Memory: one linear memory per generated module, grown (only before a kernel call, never
// during one) to the largest product seen so far; the typed-array views over it are refreshed
// after growth. Operands are copied in, the product is copied out into the result's ordinary
// typed array (Float32Array / Float64Array) planned by buffers.ts, so nothing outside this file
// sees the linear memory.
//
// Threads (`threads` other than 1): the module is built for a shared memory of at most
// `SHARED_MAX_PAGES`, and the helper runs the kernel through `$gradc_wasm.par`, which splits a
// large product by rows of C across worker threads (compiler/wasm/threads.ts). Growing a
// shared memory never detaches its buffer, but the views must still be re-made for the new
// length, as below.

import { gradcErrorBinding } from "../../runtime/error-source.js";
import { type Dim, type Func, type Node, type Value, walkNodes } from "../ir/types.js";
import { buildKernelModule, type KernelModule } from "../wasm/module.js";
import { wasmLoaderSource } from "../wasm/embed.js";
import { AUTO_THREADS_CAP, THREAD_MIN_WORK } from "../wasm/threads.js";
import type { Emitter } from "./emitter.js";
import { isOuterProduct } from "./plan.js";
import { batchedHelperSource, batchedKernelOf } from "./wasm-batched.js";
import { windowChoice, windowHostCode, windowKernelOf } from "./wasm-conv.js";

export type Backend = "js" | "wasm";

/** The default backend of the CLI, the plugins and `compile`. */
export const DEFAULT_BACKEND: Backend = "wasm";

/** Multiply-adds (M·N·K) from which a matrix product runs in WebAssembly. */
export const WASM_MIN_WORK = 32768;

/** Threads for the kernels: a count (1: no workers, no shared memory) or "auto". */
export type Threads = number | "auto";

/** The default of the CLI, the plugins and `compile`: the core count, at most `AUTO_THREADS_CAP`. */
export const DEFAULT_THREADS: Threads = "auto";
export { AUTO_THREADS_CAP };

/** Largest shared memory (pages of 64 KiB): 2 GiB. A shared memory needs a maximum. */
export const SHARED_MAX_PAGES = 32768;

/** The loader's state object in a generated module. */
export const WASM_STATE = "$gradc_wasm";

type Choice = "js" | "wasm" | "runtime";

/** The kernel name of a product (`matmul_nn_f32`…), or undefined when no kernel fits. */
function kernelOf(node: Node): string | undefined {
  const [A, B] = node.args as [Value, Value];
  const out = node.outs[0]!;
  const ta = node.attrs["ta"] === true;
  const tb = node.attrs["tb"] === true;
  if (ta && tb) return undefined;
  const dtype = out.type.dtype;
  if ((dtype !== "f32" && dtype !== "f64") || A.type.dtype !== dtype || B.type.dtype !== dtype) return undefined;
  if (A.type.shape.length !== 2 || B.type.shape.length !== 2 || out.type.shape.length !== 2) return undefined;
  return `matmul_${ta ? "tn" : tb ? "nt" : "nn"}_${dtype}`;
}

/** The dimensions M, N, K of a product (numbers or symbolic names). */
function dimsOf(node: Node): [Dim, Dim, Dim] {
  const A = node.args[0]!;
  const [M, N] = node.outs[0]!.type.shape as [Dim, Dim];
  const K = node.attrs["ta"] === true ? A.type.shape[0]! : A.type.shape[1]!;
  return [M, N, K];
}

/** Where a product runs: JavaScript, WebAssembly, or decided at run time from its sizes. */
export function matmulChoice(node: Node, backend: Backend, minWork = WASM_MIN_WORK): Choice {
  // An outer product (K = 1) is fused into its consumer's loop, which is better than any kernel.
  if (backend !== "wasm" || node.op !== "matmul" || kernelOf(node) === undefined || isOuterProduct(node)) return "js";
  const dims = dimsOf(node);
  const literal = dims.reduce<number>((p, d) => (typeof d === "number" ? p * d : p), 1);
  if (literal === 0) return "js";
  if (literal >= minWork) return "wasm";
  return dims.every((d) => typeof d === "number") ? "js" : "runtime";
}

/** The WebAssembly kernels a function may call (empty with the JavaScript backend). */
export function wasmKernelsOf(fn: Func, backend: Backend, minWork = WASM_MIN_WORK): string[] {
  const used: string[] = [];
  walkNodes(fn.body, (n) => {
    let k: string | undefined;
    // Batched products (rank above 2): wasm-batched.ts.
    if (n.op === "matmul" && n.outs[0]!.type.shape.length > 2) k = backend === "wasm" ? batchedKernelOf(n, minWork) : undefined;
    else if (n.op === "matmul") k = matmulChoice(n, backend, minWork) === "js" ? undefined : kernelOf(n);
    // Convolutions and max pooling: wasm-conv.ts.
    else if (windowChoice(n, backend, minWork) !== "js") k = windowKernelOf(n);
    if (k !== undefined && !used.includes(k)) used.push(k);
  });
  return used;
}

/**
 * The `KernelBackend.matmul` of code generation: a WebAssembly call, the JavaScript loop that
 * `js` writes, or both with a run-time choice.
 */
export function emitMatmulKernel(e: Emitter, node: Node, C: string, js: () => void): void {
  const minWork = e.wasmMinWork ?? WASM_MIN_WORK;
  const choice = matmulChoice(node, e.backend, minWork);
  if (choice === "js") return js();
  const [M, N, K] = dimsOf(node).map((d) => e.dim(d)) as [string, string, string];
  const [A, B] = node.args as [Value, Value];
  const dtype = node.outs[0]!.type.dtype;
  const mul = (x: string, y: string): string => (x === "1" ? y : y === "1" ? x : `${x} * ${y}`);
  const call = `$gradc_mm_${dtype}(${WASM_STATE}.get().${kernelOf(node)}, ${C}, ${e.operand(A)}, ${e.operand(B)}, ${mul(M, K)}, ${mul(K, N)}, ${M}, ${N}, ${K});`;
  if (choice === "wasm") return e.line(call);
  // A symbolic size: the kernel above the threshold, the JavaScript loop below it.
  e.line(`if (${mul(mul(M, N), K)} >= ${minWork}) {`);
  e.nested(() => e.line(call));
  e.line("} else {");
  e.nested(js);
  e.line("}");
}

const cached = new Map<boolean, KernelModule>();

/** The kernel module every generated module embeds (built once per compiler process). */
export function kernelModule(shared = false): KernelModule {
  let mod = cached.get(shared);
  if (mod === undefined) {
    mod = buildKernelModule(shared ? { shared: true, maxPages: SHARED_MAX_PAGES } : {});
    cached.set(shared, mod);
  }
  return mod;
}

/** Options of the module-level code: TypeScript or not, threads, and the split threshold (tests). */
export interface WasmModuleOptions {
  readonly threads?: Threads;
  readonly threadMinWork?: number;
}

/**
 * The module-level code of a module whose functions call kernels: the embedded module and its
 * loader, the views over its memory, and the helper that copies a product's operands in, runs
 * the kernel and copies the product out.
 */
export function wasmModuleCode(ts: boolean, options: WasmModuleOptions = {}): string {
  const t = (type: string): string => (ts ? `: ${type}` : "");
  const threads = options.threads ?? DEFAULT_THREADS;
  const parallel = threads !== 1;
  const loader = wasmLoaderSource(kernelModule(parallel).bytes, {
    name: WASM_STATE,
    pages: 1,
    typescript: ts,
    ...(parallel ? { maxPages: SHARED_MAX_PAGES, threads: { threads, minWork: options.threadMinWork ?? THREAD_MIN_WORK } } : {}),
  }).trimEnd();
  const kernelType = "(c: number, a: number, b: number, m: number, n: number, k: number, acc: number) => void";
  // With threads the kernel runs through `par`, split by rows of C when the product is large.
  const run = parallel ? `${WASM_STATE}.par(kernel, m, m * n * k, [c, a, b, m, n, k, 0]);` : "kernel(c, a, b, m, n, k, 0);";
  const helper = (dtype: "f32" | "f64"): string => {
    const array = dtype === "f32" ? "Float32Array" : "Float64Array";
    const size = dtype === "f32" ? 4 : 8;
    return `function $gradc_mm_${dtype}(kernel${t(kernelType)}, C${t(array)}, A${t(array)}, B${t(array)}, na${t("number")}, nb${t("number")}, m${t("number")}, n${t("number")}, k${t("number")})${t("void")} {
  const a = 16;
  const b = a + Math.ceil((na * ${size}) / 16) * 16;
  const c = b + Math.ceil((nb * ${size}) / 16) * 16;
  $gradc_wasm_room(c + m * n * ${size});
  const view = $gradc_wasm_${dtype};
  view.set(A.length === na ? A : A.subarray(0, na), a / ${size});
  view.set(B.length === nb ? B : B.subarray(0, nb), b / ${size});
  ${run}
  C.set(view.subarray(c / ${size}, c / ${size} + m * n));
}`;
  };
  // A shared memory has a maximum: past it, a GradcError rather than the engine's RangeError.
  const limit = parallel
    ? `
  if (bytes > ${SHARED_MAX_PAGES * 65536}) {
    ${gradcErrorBinding("GradcError", { ts, oneLine: true })}
    throw new GradcError(\`the WebAssembly kernels need \${Math.ceil(bytes / 1048576)} MiB of memory, more than the ${SHARED_MAX_PAGES / 16} MiB a shared memory may have: compile with threads: 1\`);
  }`
    : "";
  return `${loader}
// Views of the kernels' memory: re-created when it grows (growth detaches an ordinary memory's
// buffer; a shared one's stays valid but keeps its old length).
let $gradc_wasm_f32 = new Float32Array(${WASM_STATE}.memory.buffer);
let $gradc_wasm_f64 = new Float64Array(${WASM_STATE}.memory.buffer);
/** Grows the memory (between kernel calls, never during one) to at least \`bytes\`. */
function $gradc_wasm_room(bytes${t("number")})${t("void")} {
  const memory = ${WASM_STATE}.memory;
  const have = memory.buffer.byteLength;
  if (bytes <= have) return;${limit}
  memory.grow(Math.ceil((bytes - have) / 65536));
  $gradc_wasm_f32 = new Float32Array(memory.buffer);
  $gradc_wasm_f64 = new Float64Array(memory.buffer);
}
// C = op(A)·op(B) in WebAssembly: operands copied into the memory, the product copied out into C.
${helper("f32")}
${helper("f64")}
${batchedHelperSource(ts, WASM_STATE, parallel)}
${windowHostCode(ts, WASM_STATE)}`;
}

/** The export statement of `ready` (resolves when the kernels can run). */
export function readyExport(cjs: boolean, ts: boolean): string {
  return cjs ? `exports.ready = ${WASM_STATE}.ready;` : `export const ready${ts ? ": Promise<void>" : ""} = ${WASM_STATE}.ready;`;
}
