// Dead-code elimination.
//
// Guarantees: every node left has a result that reaches the function's results; `if` nodes
// keep only the results that are used (their blocks yield only those).

import { IF } from "../ir/builder.js";
import type { Block, Func, Node, Value } from "../ir/types.js";

export function dce(fn: Func): Func {
  const live = new Set<Value>();
  const sweep = (block: Block): Block => {
    block.results.forEach((r) => live.add(r));
    const kept: Node[] = [];
    for (let k = block.nodes.length - 1; k >= 0; k--) {
      const node = block.nodes[k]!;
      const used = node.outs.map((o) => live.has(o));
      if (!used.some(Boolean)) continue;
      if (node.op === IF) {
        const pick = <T,>(xs: readonly T[]): T[] => xs.filter((_x, i) => used[i]);
        const blocks = node.blocks.map((b) => sweep({ ...b, results: pick(b.results) }));
        kept.push({ ...node, outs: pick(node.outs), blocks });
      } else kept.push(node);
      node.args.forEach((a) => live.add(a));
    }
    return { ...block, nodes: kept.reverse() };
  };
  return { ...fn, body: sweep(fn.body) };
}
