// Loop-invariant code motion.
//
// Guarantees: no pure, non-region node inside a loop body has all its operands defined outside
// the body; such nodes run once, before the loop. Inner loops are treated first, so what they
// hoist can move further out. Hoisting is safe for any trip count: the ops are pure; the one
// exception, an `at` whose index may be out of range (it throws), leaves only a loop known to
// run at least once.

import { type Block, type Func, type Node, type Value, walkNodes, LOOP, isRegionOp } from "../ir/types.js";
import { getOp } from "../ops/index.js";
import { type IndexRanges, indexRanges } from "./indexrange.js";

function hoist(block: Block, ranges: IndexRanges): Block {
  const nodes: Node[] = [];
  for (const node of block.nodes) {
    const current: Node = node.blocks.length > 0 ? { ...node, blocks: node.blocks.map((b) => hoist(b, ranges)) } : node;
    if (current.op !== LOOP) {
      nodes.push(current);
      continue;
    }
    const body = current.blocks[0]!;
    const inside = new Set<Value>(body.params);
    const kept: Node[] = [];
    const trips = current.attrs["trips"];
    const runs = typeof trips === "number" && trips > 0;
    for (const n of body.nodes) {
      if (!isRegionOp(n.op) && getOp(n.op).pure && n.args.every((a) => !inside.has(a)) && (runs || !ranges.mayThrow(n))) nodes.push(n);
      else {
        kept.push(n);
        n.outs.forEach((o) => inside.add(o));
      }
    }
    nodes.push({ ...current, blocks: [{ ...body, nodes: kept }] });
  }
  return { ...block, nodes };
}

/** Returns `fn` itself when it has no loop, so the clean-up after LICM can be skipped. */
export function licm(fn: Func): Func {
  let loops = false;
  walkNodes(fn.body, (n) => (loops ||= n.op === LOOP));
  return loops ? { ...fn, body: hoist(fn.body, indexRanges(fn)) } : fn;
}
