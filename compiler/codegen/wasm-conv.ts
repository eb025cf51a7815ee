// Convolutions (conv2d and its adjoints conv2d_dx, conv2d_dw) and max pooling (max_pool2d and
// its adjoint max_pool2d_grad) as the WebAssembly kernels of compiler/wasm/conv.ts and pool.ts:
// im2col into a scratch area of the linear memory and the SIMD matrix products, one image at a
// time; branch-free vector comparisons for pooling. This file decides per node where it runs,
// writes the call, and writes the one host helper that copies the operands in and the result
// out (all window kernels share one parameter list).
//
// The plan is the matrix products' (wasm-backend.ts): the work is the multiply-adds
// (N·O·OH·OW·C·KH·KW) or comparisons (N·C·OH·OW·K·K); at or above the threshold the kernel
// runs, below it the JavaScript loops of windows.ts. Only the batch (and pooling's channels)
// can be symbolic: when the literal part does not decide, both are written and one comparison
// picks at run time.

import { isTripDim } from "../ir/while.js";
import type { Dim, Node, Value } from "../ir/types.js";
import { convGeometry } from "../ops/conv.js";
import { poolGeometry } from "../ops/pool.js";
import type { Backend } from "./wasm-backend.js";
import { type Choice, emitChoice, workChoice } from "./wasm-choice.js";


const WINDOW_OPS = new Set(["conv2d", "conv2d_dx", "conv2d_dw", "max_pool2d", "max_pool2d_grad"]);

/** The kernel of a window node (`conv2d_f32`…), or undefined when none fits (mixed dtypes). */
export function windowKernelOf(node: Node): string | undefined {
  if (!WINDOW_OPS.has(node.op)) return undefined;
  const dtype = node.outs[0]!.type.dtype;
  if (dtype !== "f32" && dtype !== "f64") return undefined;
  if (node.args.some((a) => a.type.dtype !== dtype)) return undefined;
  return `${node.op}_${dtype}`;
}

/**
 * A window node as its kernel sees it: the kernels' geometry arguments after the batch (c, h,
 * w, o, kh, kw, oh, ow, stride, pad top, pad left), the batch and channels that may be
 * symbolic, and the work per batch (and channel) entry.
 */
interface WindowCall {
  readonly batch: readonly Dim[];
  readonly perEntry: number;
  readonly geometry: ReadonlyArray<Dim>;
}

function callOf(node: Node): WindowCall {
  const [a, b] = node.args as [Value, Value | undefined];
  const out = node.outs[0]!.type.shape;
  if (node.op === "max_pool2d" || node.op === "max_pool2d_grad") {
    const g = poolGeometry(a.type.shape, node.attrs, node.op);
    return { batch: [g.n, g.c], perEntry: g.oh * g.ow * g.k * g.k, geometry: [g.c, g.h, g.w, 0, g.k, g.k, g.oh, g.ow, g.stride, 0, 0] };
  }
  const g =
    node.op === "conv2d" ? convGeometry(a.type.shape, b!.type.shape, node.attrs)
    : node.op === "conv2d_dx" ? convGeometry(out, b!.type.shape, node.attrs)
    : convGeometry(a.type.shape, out, node.attrs);
  return {
    batch: [g.n],
    perEntry: g.o * g.oh * g.ow * g.c * g.kh * g.kw,
    geometry: [g.c, g.h, g.w, g.o, g.kh, g.kw, g.oh, g.ow, g.stride, g.pad[0], g.pad[2]],
  };
}

/** Where a window node runs: JavaScript, WebAssembly, or decided at run time from the batch. */
export function windowChoice(node: Node, backend: Backend, minWork: number): Choice {
  if (backend !== "wasm" || windowKernelOf(node) === undefined) return "js";
  // A while loop's trip count is known only inside the call: the memory is laid out before it.
  if ([...node.args, ...node.outs].some((v) => v.type.shape.some(isTripDim))) return "js";
  const { batch, perEntry } = callOf(node);
  return workChoice(batch, minWork, perEntry);
}

/** What the call needs of the loop writer (a subset of loops.ts's LoopWriter). */
export interface WindowCallWriter {
  line(text: string): void;
  nested(body: () => void): void;
  dim(d: Dim): string;
  size(shape: readonly Dim[]): string;
  readonly backend: Backend;
  readonly wasmMinWork: number;
}

/**
 * A window node: the WebAssembly call into `out` from the arrays of its arguments (in order),
 * the JavaScript loops `js` writes, or both with a run-time choice.
 */
export function emitWindowKernel(w: WindowCallWriter, node: Node, out: string, args: readonly string[], js: () => void): void {
  const choice = windowChoice(node, w.backend, w.wasmMinWork);
  if (choice === "js") return js();
  const { batch, perEntry, geometry } = callOf(node);
  const dtype = node.outs[0]!.type.dtype;
  const [A, B] = node.args as [Value, Value | undefined];
  // Pooling has one operand: the second is the first again, copied for none of its elements.
  const sizes = [w.size(A.type.shape), B ? w.size(B.type.shape) : "0", w.size(node.outs[0]!.type.shape), scratchOf(node)];
  const n = w.dim(batch[0]!);
  const rest = geometry.map((d) => w.dim(d));
  const call = `$gradc_window_${dtype}("${windowKernelOf(node)}", ${out}, ${args[0]}, ${args[1] ?? args[0]}, ${sizes.join(", ")}, ${n}, ${rest.join(", ")});`;
  emitChoice(w, choice, () => w.size([...batch, perEntry]), w.wasmMinWork, () => w.line(call), js);
}

/** Elements of the im2col scratch area a convolution needs (C·KH·KW·OH·OW), 0 for pooling. */
export function windowScratch(node: Node): number {
  return scratchOf(node);
}

function scratchOf(node: Node): number {
  if (!node.op.startsWith("conv2d")) return 0;
  const [c, , , , kh, kw, oh, ow] = callOf(node).geometry as number[];
  return c! * kh! * kw! * oh! * ow!;
}

/**
 * The host helper of the window kernels, per dtype: operands and result in the linear memory
 * are used in place; the others, then the scratch im2col area, go in the call's room, which the
 * calling function's layout reserved (wasm-memory.ts): the memory never grows here. (Needs the
 * views and `$gradc_wasm_in_*` of wasm-backend.ts's module code; `state` is the loader's.)
 */
export function windowHostCode(ts: boolean, state: string): string {
  const t = (type: string): string => (ts ? `: ${type}` : "");
  const helper = (dtype: "f32" | "f64"): string => {
    const array = dtype === "f32" ? "Float32Array" : "Float64Array";
    const size = dtype === "f32" ? 4 : 8;
    const at = (n: string): string => `Math.ceil((${n} * ${size}) / 16) * 16`;
    const num = t("number");
    return `function $gradc_window_${dtype}(kernel${t("string")}, Out${t(array)}, A${t(array)}, B${t(array)}, na${num}, nb${num}, nout${num}, ncol${num}, n${num}, c${num}, h${num}, w${num}, o${num}, kh${num}, kw${num}, oh${num}, ow${num}, stride${num}, pt${num}, pl${num})${t("void")} {
  const memory = ${state}.memory.buffer;
  $gradc_wasm_cursor = $gradc_wasm_room_at;
  const a = $gradc_wasm_in_${dtype}(A, na);
  const b = $gradc_wasm_in_${dtype}(B, nb);
  const copy = Out.buffer !== memory;
  const out = copy ? $gradc_wasm_cursor : Out.byteOffset;
  const col = copy ? out + ${at("nout")} : $gradc_wasm_cursor;
  ${state}.get()[kernel](out, a, b, col, n, c, h, w, o, kh, kw, oh, ow, stride, pt, pl);
  if (copy) Out.set($gradc_wasm_${dtype}.subarray(out / ${size}, out / ${size} + nout));
}`;
  };
  return `// Convolutions and max pooling in WebAssembly, in place on operands in the memory; others
// staged in the call's room (copied in; the result written there and copied out into Out),
// then the scratch area for im2col.
${helper("f32")}
${helper("f64")}`;
}
