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
// Memory: one linear memory per generated module. A function that may call a kernel keeps its
// f32/f64 buffers in it (wasm-memory.ts lays them out and grows the memory at call entry, never
// during a call), so the kernels read and write them in place; the helpers below stage only
// what is not in the memory (parameters not yet copied in, results the caller keeps) in the
// call's room.
//
// Threads (`threads` other than 1): the module is built for a shared memory of at most
// `SHARED_MAX_PAGES`, and the helper runs the kernel through `$gradc_wasm.par`, which splits a
// large product by rows of C across worker threads (compiler/wasm/threads.ts). Growing a
// shared memory never detaches its buffer, but the views must still be re-made for the new
// length, as below.

import { gradcErrorBinding } from "../../runtime/error-source.js";
import { type Dim, type Func, type Node, type Value, isRegionOp, walkNodes } from "../ir/types.js";
import { buildKernelModule, type KernelModule } from "../wasm/module.js";
import { wasmLoaderSource } from "../wasm/embed.js";
import { AUTO_THREADS_CAP, THREAD_MIN_WORK } from "../wasm/threads.js";
import type { Emitter } from "./emitter.js";
import { type TensorPlan, isOuterProduct, planTensors } from "./plan.js";
import { batchedChoice, batchedHelperSource, batchedPlan } from "./wasm-batched.js";
import { type FusedSite, WASM_MIN_ELEMENTS, fusedSiteOf } from "./wasm-elementwise.js";
import { type Choice, emitChoice, workChoice } from "./wasm-choice.js";
import type { FusedKernel } from "../wasm/fused.js";
import { getOp } from "../ops/index.js";
import { isTripDim } from "../ir/while.js";
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
  // A while loop's trip count is known only inside the call: the memory is laid out before it.
  if (dims.some(isTripDim)) return "js";
  return workChoice(dims, minWork);
}

/** The WebAssembly kernels a function may call (empty with the JavaScript backend). */
export function wasmKernelsOf(fn: Func, backend: Backend, minWork = WASM_MIN_WORK): string[] {
  const used: string[] = [];
  for (const [n, k] of wasmKernelNodes(fn, backend, minWork)) {
    const name = k.fused?.kernel.name ?? (n.op !== "matmul" ? windowKernelOf(n) : k.batched ? batchedPlan(n)!.kernel : kernelOf(n))!;
    if (!used.includes(name)) used.push(name);
  }
  return used;
}

/** The fused elementwise kernels a function may call (wasm-elementwise.ts), for the module. */
export function fusedKernelsOf(fn: Func, backend: Backend, minWork = WASM_MIN_WORK): FusedKernel[] {
  return [...wasmKernelNodes(fn, backend, minWork).values()].flatMap((k) => (k.fused ? [k.fused.kernel] : []));
}

/** A node that may run as a WebAssembly kernel. */
export interface KernelSite {
  readonly choice: "wasm" | "runtime";
  /** The tensors the kernel reads (a product's operands, a fused tree's stored leaves). */
  readonly operands: readonly Value[];
  /** Set for a fused elementwise tree. */
  readonly fused?: FusedSite;
  /** Set for a convolution or pooling node (wasm-conv.ts), whose operands are passed as they are. */
  readonly window?: true;
  /** Set for a batched product (wasm-batched.ts), whose operands are passed as they are. */
  readonly batched?: true;
}

/** The fused-tree threshold: the default, or the tests' lowered one. */
const minElementsOf = (minWork: number): number => (minWork === WASM_MIN_WORK ? WASM_MIN_ELEMENTS : Math.min(minWork, WASM_MIN_ELEMENTS));

/**
 * Kernel sites per optimized function and threshold: codegen's memory plan, the module text
 * (`usesWasm`, `fusedKernelsOf`), the `.d.ts` and `--dump wasm` all ask, and the answer needs
 * a tensor plan of the function; the IR is final by then, so it is found once.
 */
const sitesOf = new WeakMap<Func, Map<number, ReadonlyMap<Node, KernelSite>>>();

/** The nodes of a function that may run as WebAssembly kernels, in program order. */
export function wasmKernelNodes(fn: Func, backend: Backend, minWork = WASM_MIN_WORK, given?: TensorPlan): ReadonlyMap<Node, KernelSite> {
  if (backend !== "wasm") return new Map();
  let byWork = sitesOf.get(fn);
  if (byWork === undefined) sitesOf.set(fn, (byWork = new Map()));
  let sites = byWork.get(minWork);
  if (sites === undefined) byWork.set(minWork, (sites = findKernelSites(fn, minWork, given)));
  return sites;
}

function findKernelSites(fn: Func, minWork: number, given: TensorPlan | undefined): Map<Node, KernelSite> {
  const backend: Backend = "wasm";
  const nodes = new Map<Node, KernelSite>();
  let plan = given;
  const producers = new Map<Value, Node>();
  walkNodes(fn.body, (n) => n.outs.forEach((o) => producers.set(o, n)));
  walkNodes(fn.body, (n) => {
    // A while loop's trip count is known only inside the call: the room is sized at its entry.
    if ([...n.args, ...n.outs].some((v) => v.type.shape.some(isTripDim))) return;
    if (n.op === "matmul" && n.outs[0]!.type.shape.length > 2) {
      const batched = batchedPlan(n);
      const choice = batched === undefined ? "js" : batchedChoice(batched, minWork);
      if (choice !== "js") nodes.set(n, { choice, operands: n.args, batched: true });
      return;
    }
    if (n.op === "matmul") {
      const choice = matmulChoice(n, backend, minWork);
      if (choice !== "js") nodes.set(n, { choice, operands: n.args });
      return;
    }
    // Convolutions and max pooling (wasm-conv.ts): their helper stages what is not in the memory.
    const window = windowChoice(n, backend, minWork);
    if (window !== "js") {
      nodes.set(n, { choice: window, operands: n.args, window: true });
      return;
    }
    if (isRegionOp(n.op) || n.outs.length !== 1 || n.outs[0]!.type.shape.length === 0 || (getOp(n.op).kind !== "elementwise" && n.op !== "sum")) return;
    const choice = workChoice((n.op === "sum" ? n.args[0]! : n.outs[0]!).type.shape, minElementsOf(minWork));
    if (choice === "js") return;
    plan ??= planTensors(fn);
    const fused = fusedSiteOf(n, plan, producers);
    if (fused) nodes.set(n, { choice, operands: fused.leaves, fused });
  });
  return nodes;
}

/**
 * A fused elementwise tree at `node` as its WebAssembly kernel, or `js` (the JavaScript loop)
 * when it has none or is too small; `operand` as for products.
 */
export function emitFusedKernel(e: Emitter, node: Node, site: KernelSite | undefined, out: () => string, js: () => void, operand: (node: Node, v: Value) => string): void {
  const fused = site?.fused;
  if (!site || !fused) return js();
  const space = fused.space;
  // Declared before a run-time choice, so that both branches write the same array.
  const target = out();
  const call = (): void => {
    const leaves = fused.leaves.map((l) => `${operand(node, l)}.byteOffset`);
    const rows = space.length === 1 ? "1" : e.size(space.slice(0, -1));
    const at = fused.copyOut ? "$gradc_wasm_room_at" : `${target}.byteOffset`;
    const args = [at, ...leaves, ...fused.scalars.map((s) => e.operand(s)), rows, e.dim(space[space.length - 1]!)];
    e.line(`${WASM_STATE}.get().${fused.kernel.name}(${args.join(", ")});`);
    const dtype = fused.kernel.dtype;
    const from = `$gradc_wasm_room_at / ${dtype === "f32" ? 4 : 8}`;
    if (fused.copyOut) e.line(`${target}.set($gradc_wasm_${dtype}.subarray(${from}, ${from} + ${e.size(node.outs[0]!.type.shape)}));`);
  };
  emitChoice(e, site.choice, () => e.size(space), minElementsOf(e.wasmMinWork ?? WASM_MIN_WORK), call, js);
}

/**
 * The `KernelBackend.matmul` of code generation: a WebAssembly call, the JavaScript loop that
 * `js` writes, or both with a run-time choice. `operand` names the array a kernel reads for a
 * value (a parameter's copy in the linear memory, wasm-memory.ts), writing its copy-in first.
 */
export function emitMatmulKernel(e: Emitter, node: Node, C: string, js: () => void, operand: (node: Node, v: Value) => string = (_n, v) => e.operand(v)): void {
  const minWork = e.wasmMinWork ?? WASM_MIN_WORK;
  const choice = matmulChoice(node, e.backend, minWork);
  if (choice === "js") return js();
  const [M, N, K] = dimsOf(node).map((d) => e.dim(d)) as [string, string, string];
  const [A, B] = node.args as [Value, Value];
  const dtype = node.outs[0]!.type.dtype;
  const mul = (x: string, y: string): string => (x === "1" ? y : y === "1" ? x : `${x} * ${y}`);
  const call = (): void => {
    const [a, b] = [operand(node, A), operand(node, B)];
    e.line(`$gradc_mm_${dtype}(${WASM_STATE}.get().${kernelOf(node)}, ${C}, ${a}, ${b}, ${mul(M, K)}, ${mul(K, N)}, ${M}, ${N}, ${K});`);
  };
  emitChoice(e, choice, () => mul(mul(M, N), K), minWork, call, js);
}

const cached = new Map<string, KernelModule>();

/**
 * The kernel module a generated module embeds: the fixed kernels and the program's fused ones,
 * for an ordinary or a shared memory (built once per compiler process and set of kernels).
 */
export function kernelModule(shared = false, fused: readonly FusedKernel[] = []): KernelModule {
  const distinct = [...new Map(fused.map((k) => [k.name, k])).values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const key = `${shared}:${distinct.map((k) => k.name).join(",")}`;
  let mod = cached.get(key);
  if (mod === undefined) {
    mod = buildKernelModule({ ...(shared ? { shared: true, maxPages: SHARED_MAX_PAGES } : {}), fused: distinct });
    if (cached.size > 64) cached.clear();
    cached.set(key, mod);
  }
  return mod;
}

/** Options of the module-level code: threads, the split threshold (tests), the program's fused kernels. */
export interface WasmModuleOptions {
  readonly threads?: Threads;
  readonly threadMinWork?: number;
  readonly fused?: readonly FusedKernel[];
}

/**
 * The module-level code of a module whose functions call kernels: the embedded module and its
 * loader, the views over its memory, the layout helper (wasm-memory.ts) and the helper that
 * runs a product on operands in the memory, staging those that are not.
 */
export function wasmModuleCode(ts: boolean, options: WasmModuleOptions = {}): string {
  const t = (type: string): string => (ts ? `: ${type}` : "");
  const threads = options.threads ?? DEFAULT_THREADS;
  const parallel = threads !== 1;
  const loader = wasmLoaderSource(kernelModule(parallel, options.fused ?? []).bytes, {
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
  const memory = ${WASM_STATE}.memory.buffer;
  $gradc_wasm_cursor = $gradc_wasm_room_at;
  const a = $gradc_wasm_in_${dtype}(A, na);
  const b = $gradc_wasm_in_${dtype}(B, nb);
  const out = C.buffer !== memory;
  const c = out ? $gradc_wasm_cursor : C.byteOffset;
  ${run}
  if (out) C.set($gradc_wasm_${dtype}.subarray(c / ${size}, c / ${size} + m * n));
}`;
  };
  const put = (dtype: "f32" | "f64"): string => {
    const array = dtype === "f32" ? "Float32Array" : "Float64Array";
    const size = dtype === "f32" ? 4 : 8;
    return `function $gradc_wasm_put_${dtype}(A${t(array)}, n${t("number")}, at${t("number")})${t("number")} {
  $gradc_wasm_${dtype}.set(A.length === n ? A : A.subarray(0, n), at / ${size});
  return at + Math.ceil(n / ${16 / size}) * 16;
}
/** Where a kernel reads X's first n entries: X itself when it is a view on the memory, else a copy at the cursor in the room. */
function $gradc_wasm_in_${dtype}(X${t(array)}, n${t("number")})${t("number")} {
  if (X.buffer === ${WASM_STATE}.memory.buffer) return X.byteOffset;
  const at = $gradc_wasm_cursor;
  $gradc_wasm_cursor = $gradc_wasm_put_${dtype}(X, n, at);
  return at;
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
/** Grows the memory (at a call's entry, never during a call) to at least \`bytes\`. */
function $gradc_wasm_room(bytes${t("number")})${t("void")} {
  const memory = ${WASM_STATE}.memory;
  const have = memory.buffer.byteLength;
  if (bytes <= have) return;${limit}
  memory.grow(Math.ceil((bytes - have) / 65536));
  $gradc_wasm_f32 = new Float32Array(memory.buffer);
  $gradc_wasm_f64 = new Float64Array(memory.buffer);
}
// Where the running call's kernels stage operands and results that are not in the memory:
// after its buffers, in room the call's layout reserved.
let $gradc_wasm_room_at = 16;
// The next free address in the room while a kernel's helper stages its operands.
let $gradc_wasm_cursor = 16;
/** Addresses for buffers of \`sizes\` bytes from 16, 16-byte aligned, then their end; grows the memory to hold them and \`room\` more. */
function $gradc_wasm_layout(sizes${t("number[]")}, room${t("number")})${t("number[]")} {
  const at${t("number[]")} = [];
  let end = 16;
  for (const bytes of sizes) {
    at.push(end);
    end += Math.ceil(bytes / 16) * 16;
  }
  at.push(end);
  $gradc_wasm_room(end + room);
  return at;
}
// Staging: A's first n entries copied to address \`at\` (returns the next aligned address), or
// placed at the cursor unless A already is in the memory.
${put("f32")}
${put("f64")}
// C = op(A)·op(B) in WebAssembly, in place on operands in the memory; others staged (copied
// in; the product written in the room, then copied out to C).
${helper("f32")}
${helper("f64")}
${batchedHelperSource(ts, WASM_STATE, parallel)}
${windowHostCode(ts, WASM_STATE)}`;
}

/** The export statement of `ready` (resolves when the kernels can run). */
export function readyExport(cjs: boolean, ts: boolean): string {
  return cjs ? `exports.ready = ${WASM_STATE}.ready;` : `export const ready${ts ? ": Promise<void>" : ""} = ${WASM_STATE}.ready;`;
}
