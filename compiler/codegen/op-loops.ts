// The backend side of ops that write their own loops (`KernelBackend.loops` with the op's
// `write`: indexing by i32 tensors; kernels the backend writes for an op are in loops.ts). The op gets names and text only: its arguments' storage, its result's, the
// dimensions, and the statement that checks an index, so no op reaches into the emitter.

import type { Node } from "../ir/types.js";
import type { LoopEmitter, OpLoopWriter } from "../ops/registry.js";
import type { Emitter } from "./emitter.js";

/** Emits `write`'s loops for `node`, whose result is stored in `out`; `label` names the op in errors. */
export function emitOpLoops(e: Emitter, node: Node, out: string, label: string, write: LoopEmitter): void {
  const w: OpLoopWriter = {
    args: node.args.map((a) => e.operand(a)),
    out,
    bang: e.bang,
    line: (text) => e.line(text),
    read: (array, index) => e.read(array, index),
    dim: (d) => e.dim(d),
    size: (shape) => e.size(shape),
    // `>>> 0` maps a negative i32 above every bound: one comparison covers both ends.
    checkIndex: (index, bound, noun = "index") => {
      const n = /^\d+$/.test(bound) ? bound : `\${${bound}}`;
      return `if ((${index} >>> 0) >= ${bound}) throw new $gradc_GradcError(\`${label}: ${noun} \${${index}} is out of range [0, ${n})\`);`;
    },
  };
  e.line("{");
  e.nested(() => write(w, { args: node.args.map((a) => a.type), out: node.outs[0]!.type }, node.attrs));
  e.line("}");
}
