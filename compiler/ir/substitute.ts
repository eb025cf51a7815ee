// Renaming values in IR that is being moved: a function body spliced into another function
// (nested transformations), or a region's block inlined where the region was.

import type { Block, Node, Value } from "./types.js";

/** `nodes` with every use of a key of `map` replaced by its value, in nested blocks too. */
export function substituteNodes(nodes: readonly Node[], map: ReadonlyMap<Value, Value>): Node[] {
  if (map.size === 0) return [...nodes];
  const m = (v: Value): Value => map.get(v) ?? v;
  const block = (b: Block): Block => ({ params: b.params, nodes: substituteNodes(b.nodes, map), results: b.results.map(m) });
  return nodes.map((n) => ({ ...n, args: n.args.map(m), blocks: n.blocks.map(block) }));
}

/** Pushes a function body's nodes with its params bound to `args`; returns its results. */
export function splice(push: (n: Node) => void, body: Block, args: readonly Value[]): Value[] {
  const map = new Map<Value, Value>();
  body.params.forEach((p, i) => map.set(p, args[i]!));
  for (const n of substituteNodes(body.nodes, map)) push(n);
  return body.results.map((r) => map.get(r) ?? r);
}
