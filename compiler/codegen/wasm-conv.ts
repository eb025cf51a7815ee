// Convolutions (conv2d and its adjoints conv2d_dx, conv2d_dw) as the WebAssembly kernels of
// compiler/wasm/conv.ts: im2col into a scratch area of the linear memory and the SIMD matrix
// products, one image at a time. This file decides per node where it runs, writes the call,
// and writes the one host helper that copies the operands in and the result out.
//
// The plan is the matrix products' (wasm-backend.ts): the work is N·O·OH·OW·C·KH·KW
// multiply-adds; at or above the threshold the kernel runs, below it the JavaScript loops of
// windows.ts. Only the batch N can be symbolic (ops/conv.ts fixes the rest at compile time):
// when the literal part does not decide, both are written and one comparison picks at run time.

import type { Dim, Node, Value } from "../ir/types.js";
import { type ConvGeometry, convGeometry } from "../ops/conv.js";
import type { Backend } from "./wasm-backend.js";

type Choice = "js" | "wasm" | "runtime";

const CONV_OPS = new Set(["conv2d", "conv2d_dx", "conv2d_dw"]);

/** The kernel of a convolution node (`conv2d_f32`…), or undefined when none fits (mixed dtypes). */
export function convKernelOf(node: Node): string | undefined {
  if (!CONV_OPS.has(node.op)) return undefined;
  const dtype = node.outs[0]!.type.dtype;
  if (dtype !== "f32" && dtype !== "f64") return undefined;
  if (node.args.some((a) => a.type.dtype !== dtype)) return undefined;
  return `${node.op}_${dtype}`;
}

/** The geometry of the forward convolution a node belongs to, from whichever shapes it has. */
function geometryOf(node: Node): ConvGeometry {
  const [a, b] = node.args as [Value, Value];
  const out = node.outs[0]!.type.shape;
  if (node.op === "conv2d") return convGeometry(a.type.shape, b.type.shape, node.attrs);
  if (node.op === "conv2d_dx") return convGeometry(out, b.type.shape, node.attrs);
  return convGeometry(a.type.shape, out, node.attrs);
}

/** Where a convolution runs: JavaScript, WebAssembly, or decided at run time from the batch. */
export function convChoice(node: Node, backend: Backend, minWork: number): Choice {
  if (backend !== "wasm" || convKernelOf(node) === undefined) return "js";
  const g = geometryOf(node);
  const perImage = g.o * g.oh * g.ow * g.c * g.kh * g.kw;
  const literal = typeof g.n === "number" ? g.n * perImage : perImage;
  if (literal === 0) return "js";
  if (literal >= minWork) return "wasm";
  return typeof g.n === "number" ? "js" : "runtime";
}

/** What the call needs of the loop writer (a subset of loops.ts's LoopWriter). */
export interface ConvCallWriter {
  line(text: string): void;
  nested(body: () => void): void;
  dim(d: Dim): string;
  size(shape: readonly Dim[]): string;
  readonly backend: Backend;
  readonly wasmMinWork: number;
}

/**
 * A convolution node: the WebAssembly call into `out` from the operand arrays `a`, `b` (the
 * node's arguments in order), the JavaScript loops `js` writes, or both with a run-time choice.
 */
export function emitConvKernel(w: ConvCallWriter, node: Node, out: string, [a, b]: readonly [string, string], js: () => void): void {
  const choice = convChoice(node, w.backend, w.wasmMinWork);
  if (choice === "js") return js();
  const g = geometryOf(node);
  const [A, B] = node.args as [Value, Value];
  const dtype = node.outs[0]!.type.dtype;
  const N = w.dim(g.n);
  const geometry = [N, g.c, g.h, g.w, g.o, g.kh, g.kw, g.oh, g.ow, g.stride, g.pad[0], g.pad[2]].join(", ");
  const sizes = [w.size(A.type.shape), w.size(B.type.shape), w.size(node.outs[0]!.type.shape), g.c * g.kh * g.kw * g.oh * g.ow].join(", ");
  const call = `$gradc_conv_${dtype}("${convKernelOf(node)}", ${out}, ${a}, ${b}, ${sizes}, ${geometry});`;
  if (choice === "wasm") return w.line(call);
  const perImage = g.o * g.oh * g.ow * g.c * g.kh * g.kw;
  w.line(`if (${N} * ${perImage} >= ${w.wasmMinWork}) {`);
  w.nested(() => w.line(call));
  w.line("} else {");
  w.nested(js);
  w.line("}");
}

/**
 * The host helper of the convolution kernels, per dtype: places the operands, the result and
 * the scratch im2col area at 16-byte-aligned addresses, grows the memory if needed, copies the
 * operands in, runs the kernel and copies the result out. (Needs `$gradc_wasm_room` and the
 * views of wasm-backend.ts's module code; `state` is the loader's state object.)
 */
export function convHostCode(ts: boolean, state: string): string {
  const t = (type: string): string => (ts ? `: ${type}` : "");
  const helper = (dtype: "f32" | "f64"): string => {
    const array = dtype === "f32" ? "Float32Array" : "Float64Array";
    const size = dtype === "f32" ? 4 : 8;
    const at = (n: string): string => `Math.ceil((${n} * ${size}) / 16) * 16`;
    const num = t("number");
    return `function $gradc_conv_${dtype}(kernel${t("string")}, Out${t(array)}, A${t(array)}, B${t(array)}, na${num}, nb${num}, nout${num}, ncol${num}, n${num}, c${num}, h${num}, w${num}, o${num}, kh${num}, kw${num}, oh${num}, ow${num}, stride${num}, pt${num}, pl${num})${t("void")} {
  const a = 16;
  const b = a + ${at("na")};
  const out = b + ${at("nb")};
  const col = out + ${at("nout")};
  $gradc_wasm_room(col + ncol * ${size});
  const view = $gradc_wasm_${dtype};
  view.set(A.length === na ? A : A.subarray(0, na), a / ${size});
  view.set(B.length === nb ? B : B.subarray(0, nb), b / ${size});
  ${state}.get()[kernel](out, a, b, col, n, c, h, w, o, kh, kw, oh, ow, stride, pt, pl);
  Out.set(view.subarray(out / ${size}, out / ${size} + nout));
}`;
  };
  return `// conv2d and its adjoints in WebAssembly (im2col + matrix products per image): operands copied
// into the memory, the result copied out into Out.
${helper("f32")}
${helper("f64")}`;
}
