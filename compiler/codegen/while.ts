// Code for `while` nodes (ir/while.ts): a `for (;;)` loop that tests the condition block at the
// top of each trip (after the first trip for `do`), carries in locals (numbers) or planned
// buffers (tensors), and a counter that is the loop's trip count once it exits, which is what
// the backward pass's `loop` over the trip dimension runs to. Recorded carries go into
// module-level typed arrays that double when a trip would overflow them and are kept between
// calls, so a loop allocates only until its buffers have grown to the longest run seen.

import type { Node, Value } from "../ir/types.js";
import { whileParts } from "../ir/while.js";
import { type Buffers, declareCarries, emitTrip } from "./buffers.js";
import { type Emitter, arrayType } from "./emitter.js";

export function emitWhile(e: Emitter, buffers: Buffers, node: Node): void {
  const { cond, body, m, record, trips } = whileParts(node);
  const isTensor = (v: Value): boolean => v.type.shape.length > 0;
  const carries = declareCarries(e, buffers, node);
  const hists = record.map((j, k) => {
    const out = node.outs[m + k]!;
    const type = arrayType(out.type.dtype);
    const name = buffers.history(out.type.dtype);
    e.bind(out, name);
    return { j, name, type, size: e.size(node.args[j]!.type.shape), bool: out.type.dtype === "bool" };
  });
  const k = e.fresh("k");
  e.line(`let ${k} = 0;`);
  e.line(`for (; ; ${k}++) {`);
  e.nested(() => {
    const test = (): void => {
      cond.params.forEach((p, j) => e.bind(p, carries[j]!));
      e.emitBlock(cond);
      e.line(`if (!${e.operand(cond.results[0]!)}) break;`);
    };
    if (node.attrs["do"] === true) {
      e.line(`if (${k} !== 0) {`);
      e.nested(test);
      e.line("}");
    } else test();
    // Histories of one row size start empty and grow together, so one test serves them all.
    // They grow by doubling (copying what the earlier trips stored), so growth is rare.
    for (const size of new Set(hists.map((hist) => hist.size))) {
      const group = hists.filter((hist) => hist.size === size);
      const end = size === "1" ? `${k} + 1` : `(${k} + 1) * ${size}`;
      e.line(`if (${group[0]!.name}.length < ${end}) {`);
      e.nested(() => {
        const n = `${group[0]!.name}_n`;
        e.line(`const ${n} = Math.max(2 * ${group[0]!.name}.length, ${end}, 16);`);
        for (const hist of group) {
          e.line(`const ${hist.name}_grown = new ${hist.type}(${n});`);
          e.line(`${hist.name}_grown.set(${hist.name});`);
          e.line(`${hist.name} = ${hist.name}_grown;`);
        }
      });
      e.line("}");
    }
    for (const hist of hists) {
      const c = carries[hist.j]!;
      if (isTensor(node.args[hist.j]!)) e.line(`${hist.name}.set(${c}, ${k} * ${hist.size});`);
      else e.line(`${hist.name}[${k}] = ${hist.bool ? `${c} ? 1 : 0` : c};`);
    }
    emitTrip(e, node, body, k, carries);
  });
  e.line("}");
  // The backward loop over the trips this loop ran reads its count from the counter.
  e.bindDim(trips, k);
}
