// Dead-code elimination.
//
// Guarantees: every node left has a result that reaches the function's results; `if` nodes
// keep only the results that are used (their blocks yield only those); a loop (`loop` or
// `while`, whose condition reads the carries) is kept whole when any of its results is used
// (its carries feed each other), and records only the histories that are read. An `at` whose index is not
// known to be in range stays even when its value is unused, and so does the `if` or loop
// holding one: it must still throw where, and in the order, the eager op would
// (passes/indexrange.ts).

import { type Block, type Func, type Node, type Value, walkNodes, IF, LOOP, WHILE } from "../ir/types.js";
import { indexRanges } from "./indexrange.js";
import { isTripDim } from "../ir/while.js";

export function dce(fn: Func): Func {
  // Live values by id (ids are unique within a function): cheaper than a Set of values. A
  // typed array, grown as needed: the sweep starts from the results, whose ids are the
  // highest, and writing there first would make a plain array a slow dictionary.
  let liveIds = new Uint8Array(1024);
  const live = {
    add: (v: Value): void => {
      if (v.id >= liveIds.length) {
        const grown = new Uint8Array(Math.max(2 * liveIds.length, v.id + 1));
        grown.set(liveIds);
        liveIds = grown;
      }
      liveIds[v.id] = 1;
    },
    has: (v: Value): boolean => v.id < liveIds.length && liveIds[v.id] === 1,
  };
  const ranges = indexRanges(fn);
  const throws = (node: Node): boolean => {
    if (ranges.mayThrow(node)) return true;
    let found = false;
    node.blocks.forEach((b) => walkNodes(b, (n) => (found ||= ranges.mayThrow(n))));
    return found;
  };
  // Trip counts of `while` loops that a kept loop runs over: the `while` must stay to count them.
  const liveTrips = new Set<string>();
  const sweep = (block: Block): Block => {
    block.results.forEach((r) => live.add(r));
    const kept: Node[] = [];
    for (let k = block.nodes.length - 1; k >= 0; k--) {
      const node = block.nodes[k]!;
      if (node.outs.length === 1 && node.blocks.length === 0) {
        // The common case, without the arrays below.
        if (!live.has(node.outs[0]!) && !ranges.mayThrow(node)) continue;
        kept.push(node);
        for (const a of node.args) live.add(a);
        continue;
      }
      const used = node.outs.map((o) => live.has(o));
      const counted = node.op === WHILE && liveTrips.has(node.attrs["trips"] as string);
      if (!used.some(Boolean) && !counted && !throws(node)) continue;
      const trips = node.attrs["trips"];
      if (node.op === LOOP && typeof trips === "string" && isTripDim(trips)) liveTrips.add(trips);
      if (node.op === IF) {
        const pick = <T,>(xs: readonly T[]): T[] => xs.filter((_x, i) => used[i]);
        const blocks = node.blocks.map((b) => sweep({ ...b, results: pick(b.results) }));
        kept.push({ ...node, outs: pick(node.outs), blocks });
      } else if (node.op === LOOP || node.op === WHILE) {
        // Histories nobody reads are not recorded (the to-be-recorded analysis, by liveness).
        const m = node.args.length;
        const record = (node.attrs["record"] as readonly number[] | undefined) ?? [];
        const keepHist = record.map((_j, h) => used[m + h]!);
        const attrs = { ...node.attrs, record: record.filter((_j, h) => keepHist[h]) };
        if ((attrs.record as number[]).length === 0) delete (attrs as Record<string, unknown>)["record"];
        kept.push({
          ...node,
          attrs,
          outs: node.outs.filter((_o, i) => i < m || keepHist[i - m]),
          blocks: node.blocks.map((b) => sweep({ ...b, results: [...b.results] })),
        });
      } else kept.push(node);
      node.args.forEach((a) => live.add(a));
    }
    return { ...block, nodes: kept.reverse() };
  };
  return { ...fn, body: sweep(fn.body) };
}
