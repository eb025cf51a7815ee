// Batched matrix products (`[..., M, K]·[..., K, N]`, batch dimensions broadcast) as the
// WebAssembly kernels of compiler/wasm/matmul.ts: the plan (which products, which kernel), the
// call each one becomes, and the host helper that runs it. The JavaScript loops stay in loops.ts
// and run whatever the plan leaves (the JavaScript backend, small products).
//
// The plan looks at the batch axes of the result: over each, an operand either walks (has that
// axis, not 1) or is broadcast (lacks it, or has 1). Consecutive axes over which both operands
// do the same merge into one group, so a batch of any rank becomes at most a few groups:
// - No group where B walks, A walks all of them and is not read transposed (`x·W` with x
//   [B, S, D] and W [D, E], and its dX = dY·Wᵀ): A's batch rows are contiguous, so the product
//   is ONE 2-D product with batch·M rows (with threads, split by rows like any 2-D product).
// - Otherwise one host call (`$gradc_bmm_*`) copies both operands in once, runs the 2-D kernel
//   per batch entry at offset addresses (an operand broadcast over a group has stride 0 in it)
//   and copies the whole result out once. Up to two groups (outer, inner); a product whose
//   broadcasting alternates more often stays JavaScript.
// Transposed operands (`ta`, `tb`: `transpose(k, [0, 2, 1])` folded into the product) are read
// in place by the nt and tn kernels, as in 2-D.
//
// Size: the product of all dimensions (batch·M·N·K multiply-adds) against the threshold, as for
// 2-D products: literal sizes decide at compile time, a symbolic one with one comparison at run
// time. A looped product also needs each entry to be worth a kernel call (M·N·K ≥ `ENTRY_MIN_WORK`
// when those three are literal).

import type { Dim, Node, Value } from "../ir/types.js";
import { matmulDims } from "../ops/linalg.js";
import { isTripDim } from "../ir/while.js";
import { type Choice, emitChoice, workChoice } from "./wasm-choice.js";

/**
 * Multiply-adds per batch entry (M·N·K) below which a looped product stays JavaScript: measured
 * on square f32 entries (forward and backward, 2^20 multiply-adds per product), the kernels tie
 * with the JavaScript loops at 4×4×4 and are 2.5× faster at 8×8×8 (4.7× at 6×6×6).
 */
export const ENTRY_MIN_WORK = 128;

/** Consecutive batch axes of the result over which each operand walks or is broadcast alike. */
interface Group {
  readonly dims: readonly Dim[];
  /** Index after the group's last axis, in the result's batch axes. */
  readonly end: number;
  readonly a: boolean;
  readonly b: boolean;
}

/** How a batched product runs in WebAssembly. */
export interface BatchedPlan {
  /** The 2-D kernel (`matmul_nn_f32`…). */
  readonly kernel: string;
  /** One 2-D product of batch·M rows (B not batched, A's rows contiguous). */
  readonly flat: boolean;
  /** The batch axes merged into groups (at most two), outermost first; empty when `flat`. */
  readonly groups: readonly Group[];
  readonly batch: readonly Dim[];
  readonly m: Dim;
  readonly n: Dim;
  readonly k: Dim;
}

/** What the batched call may use of the function emitter (a subset of loops.ts's `LoopWriter`). */
export interface BatchedWriter {
  line(text: string): void;
  nested(body: () => void): void;
  buf(v: Value): string;
  dim(d: Dim): string;
  size(shape: readonly Dim[]): string;
  readonly backend: "js" | "wasm";
  /** Multiply-adds from which a product runs in WebAssembly. */
  readonly wasmMinWork: number;
}

/** The plan of a batched product (result of rank above 2), or undefined when no kernel fits. */
export function batchedPlan(node: Node): BatchedPlan | undefined {
  if (node.op !== "matmul") return undefined;
  const [A, B] = node.args as [Value, Value];
  const out = node.outs[0]!;
  const ta = node.attrs["ta"] === true;
  const tb = node.attrs["tb"] === true;
  const dtype = out.type.dtype;
  if (ta && tb) return undefined;
  if ((dtype !== "f32" && dtype !== "f64") || A.type.dtype !== dtype || B.type.dtype !== dtype) return undefined;
  if (out.type.shape.length <= 2) return undefined;
  // A while loop's trip count is known only inside the call: the memory is laid out before it.
  if ([A, B, out].some((v) => v.type.shape.some(isTripDim))) return undefined;
  const { batch, m, n, k } = matmulDims(A.type.shape, B.type.shape, node.attrs);
  const walks = (shape: readonly Dim[], axis: number): boolean => {
    const own = shape.slice(0, -2);
    const d = own[axis - (batch.length - own.length)];
    return d !== undefined && d !== 1;
  };
  const groups: Group[] = [];
  batch.forEach((d, axis) => {
    if (d === 1) return;
    const [a, b] = [walks(A.type.shape, axis), walks(B.type.shape, axis)];
    const last = groups[groups.length - 1];
    if (last !== undefined && last.a === a && last.b === b && last.end === axis) groups[groups.length - 1] = { dims: [...last.dims, d], end: axis + 1, a, b };
    else groups.push({ dims: [d], end: axis + 1, a, b });
  });
  const flat = groups.length === 0 || (!ta && groups.length === 1 && groups[0]!.a && !groups[0]!.b);
  if (!flat && groups.length > 2) return undefined;
  const kernel = `matmul_${ta ? "tn" : tb ? "nt" : "nn"}_${dtype}`;
  return { kernel, flat, groups: flat ? [] : groups, batch, m, n, k };
}

/** Where a batched product runs: JavaScript, WebAssembly, or decided at run time from its sizes. */
export function batchedChoice(plan: BatchedPlan, minWork: number): Choice {
  const { m, n, k } = plan;
  const entry = [m, n, k];
  if (!plan.flat && entry.every((d) => typeof d === "number") && (m as number) * (n as number) * (k as number) < Math.min(minWork, ENTRY_MIN_WORK)) return "js";
  return workChoice([...plan.batch, ...entry], minWork);
}

/** The kernel a batched product calls with the WebAssembly backend, or undefined (JavaScript). */
export function batchedKernelOf(node: Node, minWork: number): string | undefined {
  const plan = batchedPlan(node);
  return plan === undefined || batchedChoice(plan, minWork) === "js" ? undefined : plan.kernel;
}

/**
 * A batched product into `C` (its storage, already declared): the WebAssembly call, the
 * JavaScript loops that `js` writes, or both with a run-time choice.
 */
export function emitBatchedMatmul(w: BatchedWriter, node: Node, C: string, js: () => void): void {
  const plan = w.backend === "wasm" ? batchedPlan(node) : undefined;
  if (plan === undefined) return js();
  const choice = batchedChoice(plan, w.wasmMinWork);
  if (choice === "js") return js();
  const [A, B] = node.args as [Value, Value];
  const dtype = node.outs[0]!.type.dtype;
  const [N, K] = [w.dim(plan.n), w.dim(plan.k)];
  /** Per group: its size and each operand's element stride over it (0 where broadcast). */
  const loop = (g: Group | undefined): string => {
    if (g === undefined) return "1, 0, 0";
    const stride = (x: Value, walks: boolean): string => {
      if (!walks) return "0";
      const own = x.type.shape.slice(0, -2);
      const after = own.slice(g.end - (plan.batch.length - own.length));
      return w.size([...after, ...x.type.shape.slice(-2)]);
    };
    return `${w.size(g.dims)}, ${stride(A, g.a)}, ${stride(B, g.b)}`;
  };
  // Flat: one entry of batch·M rows. Looped: outer × inner entries of M rows.
  const M = plan.flat ? w.size([...plan.batch, plan.m]) : w.dim(plan.m);
  const [outer, inner] = plan.groups.length === 2 ? plan.groups : [undefined, plan.groups[0]];
  const call = `$gradc_bmm_${dtype}("${plan.kernel}", ${C}, ${w.buf(A)}, ${w.buf(B)}, ${w.size(A.type.shape)}, ${w.size(B.type.shape)}, ${M}, ${N}, ${K}, ${loop(outer)}, ${loop(inner)});`;
  emitChoice(w, choice, () => w.size([...plan.batch, plan.m, plan.n, plan.k]), w.wasmMinWork, () => w.line(call), js);
}

/**
 * The host helper of batched products, one per dtype, the one place they touch the kernels'
 * memory: operands in the memory (wasm-memory.ts) read in place, others staged in the call's
 * room (copied in once), the 2-D kernel named `name` run per batch entry (outer ×
 * inner, each operand's address advanced by its stride, 0 where it is broadcast; one entry for
 * a flat product), the result written in place, or in the room and copied out once. With threads (`parallel`) a single entry
 * runs through `state.par`, which splits a large one by rows across the workers. Uses the memory,
 * its views, the room and `$gradc_wasm_in_*` of the module code in wasm-backend.ts.
 */
export function batchedHelperSource(ts: boolean, state: string, parallel: boolean): string {
  const t = (type: string): string => (ts ? `: ${type}` : "");
  const helper = (dtype: "f32" | "f64"): string => {
    const array = dtype === "f32" ? "Float32Array" : "Float64Array";
    const size = dtype === "f32" ? 4 : 8;
    const num = t("number");
    const args = `co, a + (o * sao + i * sai) * ${size}, b + (o * sbo + i * sbi) * ${size}, m, n, k, 0`;
    // With threads only a single entry (a flat product) is split by rows: splitting each entry
    // of a batch costs one hand-off per entry, more than it saves at attention's sizes.
    const run = parallel ? `outer * inner === 1 ? ${state}.par(kernel, m, m * n * k, [${args}]) : kernel(${args})` : `kernel(${args})`;
    return `function $gradc_bmm_${dtype}(name${t("string")}, C${t(array)}, A${t(array)}, B${t(array)}, na${num}, nb${num}, m${num}, n${num}, k${num}, outer${num}, sao${num}, sbo${num}, inner${num}, sai${num}, sbi${num})${t("void")} {
  const kernel = ${state}.get()[name];
  const memory = ${state}.memory.buffer;
  $gradc_wasm_cursor = $gradc_wasm_room_at;
  const a = $gradc_wasm_in_${dtype}(A, na);
  const b = $gradc_wasm_in_${dtype}(B, nb);
  const out = C.buffer !== memory;
  const c = out ? $gradc_wasm_cursor : C.byteOffset;
  const mn = m * n;
  let co = c;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++, co += mn * ${size}) ${run};
  }
  if (out) C.set($gradc_wasm_${dtype}.subarray(c / ${size}, c / ${size} + outer * inner * mn));
}`;
  };
  return `// Batched C = op(A)·op(B): operands in the memory read in place (others staged in the room), the kernel run per batch entry.
${helper("f32")}
${helper("f64")}`;
}
