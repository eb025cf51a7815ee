// Reverse-mode AD on the IR (backpropagation as a compiler pass).
//
// Guarantees: the result is a function with the same parameters that returns the original
// value followed by one gradient per differentiated parameter, each with that parameter's type.
// Adjoints exist only for active values (varied by a differentiated input and useful to the
// output); a zero adjoint is symbolic (absent), so nothing is initialized to zero; the first
// contribution to an adjoint is the value itself and later ones add to it (fan-out sums).
// Broadcasting is undone in one place (sumTo). Through an `if`, the backward pass is an `if` on
// the same condition that reverses only the branch taken, so the other branch cannot leak NaN.

import { IF, IRBuilder } from "../ir/builder.js";
import { type Block, type Func, type Node, type Value, IdSource, freeValues } from "../ir/types.js";
import { getOp, sumTo } from "../ops/index.js";

/** Values depending on `wrt` and values the results depend on; active = both. */
export function activeValues(body: Block, wrt: readonly Value[]): Set<Value> {
  const varied = new Set<Value>(wrt);
  const forward = (block: Block): void => {
    for (const node of block.nodes) {
      if (node.op === IF) {
        node.blocks.forEach(forward);
        node.outs.forEach((o, i) => {
          if (node.blocks.some((b) => varied.has(b.results[i]!))) varied.add(o);
        });
      } else if (getOp(node.op).vjp !== "not-differentiable" && node.args.some((a) => varied.has(a))) {
        node.outs.forEach((o) => varied.add(o));
      }
    }
  };
  forward(body);

  const useful = new Set<Value>(body.results.slice(0, 1));
  const backward = (block: Block): void => {
    for (let k = block.nodes.length - 1; k >= 0; k--) {
      const node = block.nodes[k]!;
      if (!node.outs.some((o) => useful.has(o))) continue;
      if (node.op === IF) {
        node.blocks.forEach((b) => {
          node.outs.forEach((o, i) => useful.has(o) && useful.add(b.results[i]!));
          backward(b);
        });
      } else node.args.forEach((a) => useful.add(a));
    }
  };
  backward(body);
  return new Set([...varied].filter((v) => useful.has(v)));
}

interface Ctx {
  b: IRBuilder;
  active: Set<Value>;
}

function accumulate(ctx: Ctx, adj: Map<Value, Value>, v: Value, ct: Value): void {
  const ctShaped = sumTo(ctx.b, ct, v.type.shape);
  const prev = adj.get(v);
  adj.set(v, prev === undefined ? ctShaped : ctx.b.op("add", [prev, ctShaped]));
}

/**
 * Names v's adjoint `d<v>` once it is complete (all contributions summed), so a name never
 * labels a partial sum. Constants and forward values keep their own names.
 */
function nameAdjoint(ctx: Ctx, v: Value, g: Value): void {
  if (g.name !== undefined || v.name === undefined || ctx.active.has(g) || ctx.b.defOf(g)?.op === "const") return;
  g.name = `d${v.name}`;
}

/** A zero of v's type, for gradients with no path to the output. */
function zerosLike(b: IRBuilder, v: Value): Value {
  const zero = b.constant(0, v);
  return v.type.shape.length === 0 ? zero : b.op("broadcast_to", [zero], { shape: v.type.shape });
}

/** Copies forward nodes into the block being built, with fresh values recorded in `map`. */
function cloneNodes(b: IRBuilder, nodes: readonly Node[], map: Map<Value, Value>, outer: (v: Value) => Value): void {
  const m = (v: Value): Value => map.get(v) ?? outer(v);
  for (const node of nodes) {
    const blocks = node.blocks.map((block) =>
      b.block(() => {
        cloneNodes(b, block.nodes, map, outer);
        return block.results.map(m);
      }),
    );
    const outs = node.outs.map((o) => {
      const fresh = b.ids.value(o.type, o.name);
      map.set(o, fresh);
      return fresh;
    });
    b.push({ ...node, args: node.args.map(m), outs, blocks });
  }
}

/**
 * Reverses `nodes`, reading primal values through `primal` (the identity at top level, the
 * recomputed copies inside a reversed branch).
 */
function reverseNodes(ctx: Ctx, nodes: readonly Node[], adj: Map<Value, Value>, primal: (v: Value) => Value): void {
  const { b, active } = ctx;
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    const gs = node.outs.map((o) => adj.get(o));
    if (gs.every((g) => g === undefined)) continue;
    gs.forEach((g, i) => g && nameAdjoint(ctx, node.outs[i]!, g));
    b.loc = node.loc;
    if (node.op === IF) {
      reverseIf(ctx, node, gs, adj, primal);
      continue;
    }
    const def = getOp(node.op);
    if (def.vjp === "not-differentiable") continue;
    const needs = node.args.map((a) => active.has(a));
    if (!needs.some(Boolean)) continue;
    const cts = def.vjp(b, gs[0]!, node.args.map(primal), primal(node.outs[0]!), node.attrs, needs);
    node.args.forEach((a, i) => {
      const ct = cts[i];
      if (needs[i] && ct) accumulate(ctx, adj, a, ct);
    });
  }
}

/**
 * The backward of `if c {T} else {E}` is `if c {T reversed} else {E reversed}`, yielding the
 * contributions to the active outer values the branches read. Each reversed branch first
 * recomputes the forward values it needs, since the forward branch's values are out of scope.
 */
function reverseIf(
  ctx: Ctx,
  node: Node,
  gs: readonly (Value | undefined)[],
  adj: Map<Value, Value>,
  primal: (v: Value) => Value,
): void {
  const { b, active } = ctx;
  const targets = freeValues(node).filter((v) => active.has(v));
  if (targets.length === 0) return;
  const blocks = node.blocks.map((branch) =>
    b.block(() => {
      const copies = new Map<Value, Value>();
      cloneNodes(b, branch.nodes, copies, primal);
      const local = new Map<Value, Value>();
      branch.results.forEach((r, i) => {
        const g = gs[i];
        if (g !== undefined && active.has(r)) accumulate(ctx, local, r, g);
      });
      reverseNodes(ctx, branch.nodes, local, (v) => copies.get(v) ?? primal(v));
      return targets.map((t) => local.get(t) ?? zerosLike(b, t));
    }),
  );
  // The backward `if` belongs to the source line of the forward one.
  b.loc = node.loc;
  const outs = b.ifNode(primal(node.args[0]!), blocks[0]!, blocks[1]!);
  targets.forEach((t, i) => accumulate(ctx, adj, t, outs[i]!));
}

/**
 * Differentiates `fn` with respect to the parameters `wrt`. The result returns
 * `[value, ...gradients]`.
 */
export function differentiate(fn: Func, wrt: readonly Value[], name = `${fn.name}_grad`): Func {
  const b = new IRBuilder(IdSource.after(fn));
  const active = activeValues(fn.body, wrt);
  const ctx: Ctx = { b, active };
  const output = fn.body.results[0]!;
  fn.body.nodes.forEach((n) => b.push(n));
  const adj = new Map<Value, Value>();
  if (active.has(output)) {
    b.loc = fn.loc;
    adj.set(output, b.constant(1, output));
  }
  reverseNodes(ctx, fn.body.nodes, adj, (v) => v);
  b.loc = fn.loc;
  const grads = wrt.map((p) => adj.get(p) ?? zerosLike(b, p));
  wrt.forEach((p, i) => nameAdjoint(ctx, p, grads[i]!));
  return { name, body: b.finish([output, ...grads], fn.body.params), ...(fn.loc ? { loc: fn.loc } : {}) };
}
