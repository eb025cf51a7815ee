// Reverse-mode AD on the IR (backpropagation as a compiler pass).
//
// Guarantees: the result is a function with the same parameters that returns the original
// value followed by one gradient per differentiated parameter, each with that parameter's type.
// Adjoints exist only for active values (varied by a differentiated input and useful to the
// output); a zero adjoint is symbolic (absent), so nothing is initialized to zero; the first
// contribution to an adjoint is the value itself and later ones add to it (fan-out sums).
// Broadcasting is undone in one place (sumTo), and so is dtype promotion: every adjoint has
// its primal's dtype (a cotangent of an f32 value that flowed back through f64 arithmetic is
// cast to f32), so each gradient has its parameter's dtype. Through an `if`, the backward pass is an `if` on
// the same condition that reverses only the branch taken, so the other branch cannot leak NaN.
// Through a `loop`, the forward loop records each carry's value at the start of every
// iteration (preallocated per-iteration storage); the backward pass is a loop running the
// iterations in reverse that recomputes one iteration's forward values from the recorded
// carries and reverses it, carrying the carries' adjoints and summing the contributions to
// the outer values the body reads. Reverse over reverse: a loop that records already (an inner
// gradient's forward loop) keeps its histories, and its reverse adds each history's adjoint,
// row k, to the adjoint of the carries at the start of trip k; the inner backward loop (it
// runs its trips in reverse) is reversed by a loop running them forward, summing the adjoints
// of the histories it read into history-shaped accumulators.

import { IRBuilder } from "../ir/builder.js";
import { recordWhile, renameTripAttrs, renameTrips, tripDimOf } from "../ir/while.js";
import { type Block, type DType, type Func, type Node, type Type, type Value, IdSource, freeValues, hasFixedName, IF, LOOP, WHILE } from "../ir/types.js";
import { getOp, opTypes, sumTo } from "../ops/index.js";
import { CUSTOM_VJP, reverseCustom } from "./custom.js";
import { variedValues } from "./jvp.js";

/** Values depending on `wrt` and values the results depend on; active = both. */
export function activeValues(body: Block, wrt: readonly Value[]): Set<Value> {
  // Forward activity is forward mode's (an op without a VJP has no JVP either).
  const varied = variedValues(body, wrt);
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
      } else if (node.op === LOOP || node.op === WHILE) {
        const body = loopBody(node);
        node.args.forEach((a) => useful.add(a));
        body.params.forEach((p) => useful.add(p));
        body.results.forEach((r) => useful.add(r));
        backward(body);
      } else node.args.forEach((a) => useful.add(a));
    }
  };
  backward(body);
  return new Set([...varied].filter((v) => useful.has(v)));
}

interface Ctx {
  b: IRBuilder;
  active: Set<Value>;
  /** The recorded carry histories of each forward loop, by the original loop node. */
  histories: Map<Node, Value[]>;
  /** The trip count of each recorded forward loop (a `while`'s copy has a name of its own). */
  trips: Map<Node, number | string>;
  /**
   * The trip count of each copied `while`, by the original's: a copy names its own, and the
   * copies of what the region built over the original's trips (an inner gradient's backward
   * loop and histories), and the adjoints of such values, use the copy's.
   */
  tripNames: Map<string, string>;
}

/** v's type where the block being built is: trip counts of copied `while` loops renamed. */
const typeHere = (ctx: Ctx, v: Value): Type => renameTrips(v.type, ctx.tripNames);

/** The block a `loop` or `while` repeats (a `while` also has its condition block). */
const loopBody = (node: Node): Block => node.blocks[node.op === WHILE ? 1 : 0]!;

/** Carries with an adjoint: a boolean (a `break` flag) has none. */
const hasAdjoint = (v: Value): boolean => v.type.dtype !== "bool";

/** Adds a contribution to v's adjoint, brought to v's shape and dtype. */
function accumulate(ctx: Ctx, adj: Map<Value, Value>, v: Value, ct: Value): void {
  const summed = sumTo(ctx.b, ct, typeHere(ctx, v).shape);
  const ctShaped = summed.type.dtype === v.type.dtype ? summed : ctx.b.op("cast", [summed], { dtype: v.type.dtype });
  const prev = adj.get(v);
  adj.set(v, prev === undefined ? ctShaped : ctx.b.op("add", [prev, ctShaped]));
}

/**
 * Names v's adjoint `d<v>` once it is complete (all contributions summed), so a name never
 * labels a partial sum. Constants and forward values keep their own names.
 */
function nameAdjoint(ctx: Ctx, v: Value, g: Value): void {
  if (g.name !== undefined || v.name === undefined || ctx.active.has(g) || ctx.b.defOf(g)?.op === "const" || hasFixedName(g)) return;
  g.name = `d${v.name}`;
}

/** A zero of v's type, for gradients with no path to the output. */
function zerosLike(b: IRBuilder, v: Value, type: Type = v.type): Value {
  const zero = b.constant(0, v);
  return type.shape.length === 0 ? zero : b.op("broadcast_to", [zero], { shape: type.shape });
}

/**
 * A zero adjoint of v, for a branch or trip that does not reach it: v's type, like every
 * adjoint, so both paths yield the same type.
 */
function zeroAdjoint(ctx: Ctx, v: Value): Value {
  return zerosLike(ctx.b, v, typeHere(ctx, v));
}

/**
 * Copies forward nodes into the block being built, with fresh values recorded in `map`.
 * Copied loops record their carries, since they are copied to be reversed.
 */
function cloneNodes(ctx: Ctx, nodes: readonly Node[], map: Map<Value, Value>, outer: (v: Value) => Value): void {
  const { b } = ctx;
  const m = (v: Value): Value => map.get(v) ?? outer(v);
  for (const node of nodes) {
    const blocks = node.blocks.map((block) => {
      const params = block.params.map((p) => {
        const fresh = b.ids.value(typeHere(ctx, p), p.name);
        map.set(p, fresh);
        return fresh;
      });
      return b.block(() => {
        cloneNodes(ctx, block.nodes, map, outer);
        return block.results.map(m);
      }, params);
    });
    const outs: Value[] = [];
    node.outs.forEach((o, j) => {
      // A copied while counts its own trips: its histories, and what follows, say so.
      if (node.op === WHILE && j === node.args.length) ctx.tripNames.set(node.attrs["trips"] as string, tripDimOf(outs[0]!));
      const fresh = b.ids.value(typeHere(ctx, o), o.name);
      map.set(o, fresh);
      outs.push(fresh);
    });
    if (node.op === WHILE && node.outs.length === node.args.length) ctx.tripNames.set(node.attrs["trips"] as string, tripDimOf(outs[0]!));
    const copy: Node = { ...node, args: node.args.map(m), attrs: renameTripAttrs(node.attrs, ctx.tripNames), outs, blocks };
    b.push(node.op === LOOP || node.op === WHILE ? recording(ctx, node, copy) : copy);
  }
}

/**
 * The loop `copy` (of `original`) made to also return every carry's value at the start of each
 * iteration, stacked: the per-iteration storage its reverse reads.
 */
function recording(ctx: Ctx, original: Node, copy: Node): Node {
  // A loop that records already (the forward loop of an inner gradient) keeps its histories,
  // and records the carries it did not.
  const m = copy.args.length;
  const had = (copy.attrs["record"] as readonly number[] | undefined) ?? [];
  const missing = copy.args.map((_a, j) => j).filter((j) => !had.includes(j));
  const all = [...had, ...missing];
  if (copy.op === WHILE) {
    // A while loop's histories grow as it runs; its trip count is named after the copy.
    const rec = recordWhile(copy, missing, (t) => ctx.b.ids.value(t));
    ctx.histories.set(original, copy.args.map((_a, j) => rec.node.outs[m + all.indexOf(j)]!));
    ctx.trips.set(original, rec.node.attrs["trips"] as string);
    return rec.node;
  }
  const trips = copy.attrs["trips"] as number | string;
  const fresh = new Map(missing.map((j) => [j, ctx.b.ids.value({ dtype: copy.args[j]!.type.dtype, shape: [trips, ...copy.args[j]!.type.shape] })]));
  const hist = copy.args.map((_a, j) => fresh.get(j) ?? copy.outs[m + had.indexOf(j)]!);
  ctx.histories.set(original, hist);
  ctx.trips.set(original, trips);
  return { ...copy, attrs: { ...copy.attrs, record: all }, outs: [...copy.outs, ...missing.map((j) => hist[j]!)] };
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
    if (node.op === LOOP || node.op === WHILE) {
      reverseLoop(ctx, node, gs, adj, primal);
      continue;
    }
    if (node.op === CUSTOM_VJP) {
      const cts = reverseCustom(b, node, gs[0]!, primal);
      node.args.forEach((a, i) => active.has(a) && accumulate(ctx, adj, a, cts[i]!));
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
      cloneNodes(ctx, branch.nodes, copies, primal);
      const local = new Map<Value, Value>();
      branch.results.forEach((r, i) => {
        const g = gs[i];
        if (g !== undefined && active.has(r)) accumulate(ctx, local, r, g);
      });
      reverseNodes(ctx, branch.nodes, local, (v) => copies.get(v) ?? primal(v));
      return targets.map((t) => local.get(t) ?? zeroAdjoint(ctx, t));
    }),
  );
  // The backward `if` belongs to the source line of the forward one.
  b.loc = node.loc;
  const outs = b.ifNode(primal(node.args[0]!), blocks[0]!, blocks[1]!);
  targets.forEach((t, i) => accumulate(ctx, adj, t, outs[i]!));
}

/**
 * The backward of `loop` is a loop over the same iterations in reverse. Its carries are the
 * adjoints of the forward carries and one accumulator per active outer value the body reads.
 * Each reverse iteration reads the carries recorded at the start of the forward iteration,
 * recomputes that iteration's forward values from them, and reverses the body.
 */
function reverseLoop(
  ctx: Ctx,
  node: Node,
  gs: readonly (Value | undefined)[],
  adj: Map<Value, Value>,
  primal: (v: Value) => Value,
): void {
  const { b, active } = ctx;
  const body = loopBody(node);
  const hist = ctx.histories.get(node);
  if (!hist) throw new Error("loop reversed without recorded carries");
  // A while's condition reads carries but is not differentiated: only its body is reversed.
  const targets = freeValues(node.op === WHILE ? { ...node, blocks: [body] } : node).filter((v) => active.has(v));
  const ds = node.args.flatMap((a, j) => (hasAdjoint(a) ? [j] : []));
  const m = ds.length;
  const carryAdj = ds.map((j) => gs[j] ?? zeroAdjoint(ctx, node.args[j]!));
  // Reverse over reverse: the adjoints of the histories this loop recorded for an inner
  // backward pass (whose reverse read them row by row).
  const recorded = (node.attrs["record"] as readonly number[] | undefined) ?? [];
  const histAdj = ds.map((j) => (recorded.includes(j) ? gs[node.args.length + recorded.indexOf(j)] : undefined));
  const accInit = targets.map((t) => zeroAdjoint(ctx, t));
  const k = b.ids.value({ dtype: "f64", shape: [] }, "k");
  const adjParams = ds.map((j) => {
    const carry = node.outs[j]!.name;
    return b.ids.value(typeHere(ctx, node.args[j]!), carry === undefined ? undefined : `d${carry}`);
  });
  const accParams = targets.map((t) => b.ids.value(typeHere(ctx, t), t.name === undefined ? undefined : `d${t.name}`));
  const reversed = b.block(() => {
    const copies = new Map<Value, Value>();
    copies.set(body.params[0]!, k);
    body.params.slice(1).forEach((p, j) => {
      const recorded = b.op("take", [hist[j]!, k]);
      if (p.name !== undefined) recorded.name = p.name;
      copies.set(p, recorded);
    });
    cloneNodes(ctx, body.nodes, copies, primal);
    const local = new Map<Value, Value>();
    body.results.forEach((r, j) => active.has(r) && accumulate(ctx, local, r, adjParams[ds.indexOf(j)]!));
    reverseNodes(ctx, body.nodes, local, (v) => copies.get(v) ?? primal(v));
    // A recorded history's adjoint: its row k goes to the carry at the start of trip k.
    histAdj.forEach((g, i) => g && accumulate(ctx, local, body.params[ds[i]! + 1]!, b.op("take", [g, k])));
    return [
      ...ds.map((j) => local.get(body.params[j + 1]!) ?? zeroAdjoint(ctx, node.args[j]!)),
      ...targets.map((t, i) => {
        const c = local.get(t);
        return c === undefined ? accParams[i]! : b.op("add", [accParams[i]!, c]);
      }),
    ];
  }, [k, ...adjParams, ...accParams]);
  b.loc = node.loc;
  const outs = b.loopNode([...carryAdj, ...accInit], reversed, { trips: ctx.trips.get(node)!, reverse: node.attrs["reverse"] !== true });
  node.args.forEach((a, j) => active.has(a) && accumulate(ctx, adj, a, outs[ds.indexOf(j)]!));
  targets.forEach((t, i) => accumulate(ctx, adj, t, outs[m + i]!));
}

/**
 * Differentiates `fn` with respect to the parameters `wrt`. The result returns
 * `[value, ...gradients]`.
 */
export function differentiate(fn: Func, wrt: readonly Value[], name = `${fn.name}_grad`, ids: IdSource = IdSource.after(fn)): Func {
  const b = new IRBuilder(opTypes, ids);
  const active = activeValues(fn.body, wrt);
  const output = fn.body.results[0]!;
  const ctx: Ctx = { b, active, histories: new Map(), trips: new Map(), tripNames: new Map() };
  // Loops the backward pass reverses record their carries as they run forward.
  fn.body.nodes.forEach((n) => b.push((n.op === LOOP || n.op === WHILE) && n.outs.some((o) => active.has(o)) ? recording(ctx, n, n) : n));
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
