// `custom_vjp` regions: a function with a backward pass written by the user (`customVjp`).
//
// The node's args are the call's arguments; it has one result and two blocks: the forward
// block (params: one per argument; yields the result) and the backward block (params: one
// per argument, the result, its cotangent; yields one cotangent per argument). Reverse-mode
// AD reverses the node by inlining the backward block; everything after AD (and forward mode)
// sees the forward block inlined in place of the node (`expandCustom`). Guarantees after
// `expandCustom`: no `custom_vjp` node is left, and every value keeps its type.

import type { IRBuilder } from "../ir/builder.js";
import { substituteNodes } from "../ir/substitute.js";
import { type Block, type Func, type IdSource, type Node, type Value, CUSTOM } from "../ir/types.js";

export const CUSTOM_VJP = CUSTOM;

export function hasCustom(block: Block): boolean {
  return block.nodes.some((n) => n.op === CUSTOM_VJP || n.blocks.some(hasCustom));
}

/** Replaces every `custom_vjp` node by its forward block. */
export function expandCustom(fn: Func, _ids?: IdSource): Func {
  if (!hasCustom(fn.body)) return fn;
  const map = new Map<Value, Value>();
  const m = (v: Value): Value => map.get(v) ?? v;
  const expand = (block: Block): Block => {
    const nodes: Node[] = [];
    for (const node of block.nodes) {
      if (node.op !== CUSTOM_VJP) {
        nodes.push({ ...node, args: node.args.map(m), blocks: node.blocks.map(expand) });
        continue;
      }
      const fwd = node.blocks[0]!;
      const inner = new Map<Value, Value>();
      fwd.params.forEach((p, i) => inner.set(p, m(node.args[i]!)));
      const body = expand({ ...fwd, nodes: substituteNodes(fwd.nodes, inner) });
      nodes.push(...body.nodes);
      const r = fwd.results[0]!;
      map.set(node.outs[0]!, inner.get(r) ?? m(r));
    }
    return { params: block.params, nodes, results: block.results.map(m) };
  };
  return { ...fn, body: expand(fn.body) };
}

/**
 * The cotangents of a `custom_vjp` node's arguments: its backward block inlined with the
 * primal arguments, the primal result and the upstream cotangent `g`.
 */
export function reverseCustom(b: IRBuilder, node: Node, g: Value, primal: (v: Value) => Value): Value[] {
  const bwd = node.blocks[1]!;
  const inner = new Map<Value, Value>();
  bwd.params.forEach((p, i) => inner.set(p, i < node.args.length ? primal(node.args[i]!) : i === node.args.length ? primal(node.outs[0]!) : g));
  // The backward block may be inlined more than once (in reversed branches): fresh values each time.
  const fresh = new Map<Value, Value>(inner);
  const cloned = cloneFresh(b, bwd.nodes, fresh);
  cloned.forEach((n) => b.push(n));
  return bwd.results.map((r) => fresh.get(r) ?? r);
}

function cloneFresh(b: IRBuilder, nodes: readonly Node[], map: Map<Value, Value>): Node[] {
  const m = (v: Value): Value => map.get(v) ?? v;
  return nodes.map((node) => {
    const blocks = node.blocks.map((blk) => {
      const params = blk.params.map((p) => {
        const f = b.ids.value(p.type, p.name);
        map.set(p, f);
        return f;
      });
      const inner = cloneFresh(b, blk.nodes, map);
      return { params, nodes: inner, results: blk.results.map(m) };
    });
    const outs = node.outs.map((o) => {
      const f = b.ids.value(o.type, o.name);
      map.set(o, f);
      return f;
    });
    return { ...node, args: node.args.map(m), outs, blocks };
  });
}
