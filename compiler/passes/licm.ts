// Loop-invariant code motion.
//
// Guarantees: no pure, non-region node inside a loop body (or a `while`'s condition) has all
// its operands defined outside the block; such nodes run once, before the loop. Inner loops are treated first, so what they
// hoist can move further out. Hoisting is safe for any trip count: the ops are pure; the one
// exception, an `at` whose index may be out of range (it throws), leaves only a loop known to
// run at least once. A node shaped by the trip count of a `while` inside the loop (an
// adjoint of its history, in reverse over reverse) stays: that count exists only once that
// `while` has run.

import { type Block, type Func, type Node, type Value, walkNodes, LOOP, WHILE, isRegionOp } from "../ir/types.js";
import { getOp } from "../ops/index.js";
import { type IndexRanges, indexRanges } from "./indexrange.js";

function hoist(block: Block, ranges: IndexRanges): Block {
  const nodes: Node[] = [];
  for (const node of block.nodes) {
    const current: Node = node.blocks.length > 0 ? { ...node, blocks: node.blocks.map((b) => hoist(b, ranges)) } : node;
    if (current.op !== LOOP && current.op !== WHILE) {
      nodes.push(current);
      continue;
    }
    const trips = current.attrs["trips"];
    // A while loop's trip count is known only once it has run (it may be zero).
    const runs = current.op === LOOP && typeof trips === "number" && trips > 0;
    const blocks = current.blocks.map((body) => {
      const inside = new Set<Value>(body.params);
      const innerTrips = new Set<string>();
      walkNodes(body, (n) => n.op === WHILE && innerTrips.add(n.attrs["trips"] as string));
      const shapedInside = (n: Node): boolean => innerTrips.size > 0 && n.outs.some((o) => o.type.shape.some((d) => typeof d === "string" && innerTrips.has(d)));
      const kept: Node[] = [];
      for (const n of body.nodes) {
        if (!isRegionOp(n.op) && getOp(n.op).pure && n.args.every((a) => !inside.has(a)) && (runs || !ranges.mayThrow(n)) && !shapedInside(n)) nodes.push(n);
        else {
          kept.push(n);
          n.outs.forEach((o) => inside.add(o));
        }
      }
      return { ...body, nodes: kept };
    });
    nodes.push({ ...current, blocks });
  }
  return { ...block, nodes };
}

/** Returns `fn` itself when it has no loop, so the clean-up after LICM can be skipped. */
export function licm(fn: Func): Func {
  let loops = false;
  walkNodes(fn.body, (n) => (loops ||= n.op === LOOP || n.op === WHILE));
  return loops ? { ...fn, body: hoist(fn.body, indexRanges(fn)) } : fn;
}
