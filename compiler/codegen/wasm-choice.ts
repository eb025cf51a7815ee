// Where a WebAssembly kernel site runs, one rule for every kind of kernel (products, batched
// products, convolutions and pooling, fused elementwise trees): its work, the product of its
// sizes, against a threshold. Literal sizes decide at compile time; when a symbolic size leaves
// it open, both are written and one comparison picks at run time, so a type-parameter
// dimension runs the same kernel as a literal one.

import type { Dim } from "../ir/types.js";

export type Choice = "js" | "wasm" | "runtime";

/** The choice for work `extra` · Π `dims` (`extra`: a literal factor already multiplied out). */
export function workChoice(dims: readonly Dim[], min: number, extra = 1): Choice {
  const literal = dims.reduce<number>((p, d) => (typeof d === "number" ? p * d : p), extra);
  if (literal === 0) return "js";
  if (literal >= min) return "wasm";
  return dims.every((d) => typeof d === "number") ? "js" : "runtime";
}

/** What writing a choice needs of the emitter. */
interface ChoiceWriter {
  line(text: string): void;
  nested(body: () => void): void;
}

/**
 * A site's code: the JavaScript `js` writes, the kernel `call`, or, for `runtime`, the kernel at
 * or above the threshold and the JavaScript below it (`work`: the work as JavaScript text).
 */
export function emitChoice(w: ChoiceWriter, choice: Choice, work: () => string, min: number, call: () => void, js: () => void): void {
  if (choice === "js") return js();
  if (choice === "wasm") return call();
  w.line(`if (${work()} >= ${min}) {`);
  w.nested(call);
  w.line("} else {");
  w.nested(js);
  w.line("}");
}
