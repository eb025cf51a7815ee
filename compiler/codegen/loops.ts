// The backend side of ops that write their own loops (`KernelBackend.loops`: indexing by i32
// tensors). The op gets names and text only: its arguments' storage, its result's, the
// dimensions, and the statement that checks an index, so no op reaches into the emitter.

import type { Dim, Node, Value } from "../ir/types.js";
import type { LoopEmitter, LoopWriter } from "../ops/registry.js";
import type { FunctionEmitter } from "./js.js";

/** What the kernel emitter lends: its emitter, storage and dimension text. */
export interface LoopHost {
  readonly e: FunctionEmitter;
  allocate(out: Value): string;
  buf(v: Value): string;
  dim(d: Dim): string;
  size(shape: readonly Dim[]): string;
}

/** The op's label for messages, as the eager op prefixes them. */
export function emitLoops(host: LoopHost, node: Node, label: string, write: LoopEmitter): void {
  const { e } = host;
  const out = host.allocate(node.outs[0]!);
  const w: LoopWriter = {
    args: node.args.map((a) => host.buf(a)),
    out,
    bang: e.bang,
    line: (text) => e.line(text),
    read: (array, index) => e.read(array, index),
    dim: (d) => host.dim(d),
    size: (shape) => host.size(shape),
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
