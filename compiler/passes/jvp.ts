// Forward-mode AD on the IR (tangent propagation): the JVP of a function.
//
// Guarantees: the result takes the function's parameters followed by one tangent per
// differentiated parameter (same types) and returns the original value followed by its
// tangent (the first `outputs` results followed by their tangents, for a structured result). Every primal node is kept as it was; each node with a nonzero tangent on an
// argument gets its tangent from the op's `jvp` rule right after it. Tangents are symbolic
// zeros until something varies (only values depending on a differentiated parameter get
// one). An `if` yields its results' tangents from both branches; a `loop` stays a loop that
// carries the tangents of its carries as extra carries (and records them too when the loop
// records its carries for a reverse pass), so forward-over-reverse (`jvp(grad(f))`) keeps
// every loop of `f` and of its backward pass rolled. `custom_vjp` nodes are expanded first:
// forward mode differentiates the custom function's own forward body (the custom rule is a
// reverse-mode rule).

import { IRBuilder } from "../ir/builder.js";
import { historyType } from "../ir/while.js";
import { type Block, type Func, type Node, type Value, IdSource, freeValues, hasFixedName, IF, LOOP, WHILE } from "../ir/types.js";
import { getOp, opTypes } from "../ops/index.js";
import { CUSTOM_VJP, expandCustom } from "./custom.js";

/** Values that depend on `wrt` through differentiable ops (forward activity). */
export function variedValues(body: Block, wrt: readonly Value[]): Set<Value> {
  const varied = new Set<Value>(wrt);
  const forward = (block: Block): void => {
    for (const node of block.nodes) {
      if (node.op === IF) {
        node.blocks.forEach(forward);
        node.outs.forEach((o, i) => {
          if (node.blocks.some((b) => varied.has(b.results[i]!))) varied.add(o);
        });
      } else if (node.op === LOOP || node.op === WHILE) {
        // A boolean carry (a `break` flag) is never varied: nothing differentiable makes one.
        const body = node.blocks[node.op === WHILE ? 1 : 0]!;
        if (node.args.some((a) => varied.has(a)) || freeValues(node).some((v) => varied.has(v))) {
          body.params.slice(1).forEach((p) => p.type.dtype !== "bool" && varied.add(p));
          node.outs.forEach((o) => o.type.dtype !== "bool" && varied.add(o));
        }
        node.blocks.forEach(forward);
      } else if (node.op === CUSTOM_VJP) {
        if (node.args.some((a) => varied.has(a))) node.outs.forEach((o) => varied.add(o));
      } else if (getOp(node.op).jvp !== "not-differentiable" && node.args.some((a) => varied.has(a))) {
        node.outs.forEach((o) => varied.add(o));
      }
    }
  };
  forward(body);
  return varied;
}

interface Ctx {
  b: IRBuilder;
  varied: Set<Value>;
  tan: Map<Value, Value>;
}

/** A zero tangent of v's type. */
function zeroTangent(b: IRBuilder, v: Value): Value {
  const dtype = v.type.dtype === "f32" ? "f32" : "f64";
  const zero = b.op("const", [], dtype === "f64" ? { value: 0 } : { value: 0, dtype });
  return v.type.shape.length === 0 ? zero : b.op("broadcast_to", [zero], { shape: v.type.shape });
}

const tangentOrZero = (ctx: Ctx, v: Value): Value => ctx.tan.get(v) ?? zeroTangent(ctx.b, v);

function nameTangent(v: Value, t: Value): void {
  if (t.name === undefined && v.name !== undefined && !hasFixedName(t)) t.name = `t${v.name}`;
}

function forwardNodes(ctx: Ctx, nodes: readonly Node[]): void {
  const { b, tan, varied } = ctx;
  for (const node of nodes) {
    b.loc = node.loc;
    if (node.op === IF) {
      forwardIf(ctx, node);
      continue;
    }
    if (node.op === LOOP || node.op === WHILE) {
      forwardLoop(ctx, node);
      continue;
    }
    b.push(node);
    if (!node.outs.some((o) => varied.has(o))) continue;
    const def = getOp(node.op);
    if (def.jvp === "not-differentiable") continue;
    const ts = node.args.map((a) => tan.get(a) ?? null);
    if (ts.every((t) => t === null)) continue;
    const t = def.jvp(b, ts, node.args, node.outs[0]!, node.attrs);
    if (t !== null) {
      nameTangent(node.outs[0]!, t);
      tan.set(node.outs[0]!, t);
    }
  }
}

/** `if c {T} else {E}` becomes one `if` whose branches also yield the varied results' tangents. */
function forwardIf(ctx: Ctx, node: Node): void {
  const { b, varied, tan } = ctx;
  const withTangent = node.outs.map((o, i) => (varied.has(o) ? i : -1)).filter((i) => i >= 0);
  if (withTangent.length === 0) {
    b.push(node);
    return;
  }
  const blocks = node.blocks.map((branch) =>
    b.block(() => {
      forwardNodes(ctx, branch.nodes);
      return [...branch.results, ...withTangent.map((i) => tangentOrZero(ctx, branch.results[i]!))];
    }, branch.params),
  );
  b.loc = node.loc;
  const touts = withTangent.map((i) => b.ids.value(tangentType(node.outs[i]!)));
  b.push({ ...node, outs: [...node.outs, ...touts], blocks });
  withTangent.forEach((i, k) => {
    nameTangent(node.outs[i]!, touts[k]!);
    tan.set(node.outs[i]!, touts[k]!);
  });
}

const tangentType = (v: Value) => ({ dtype: v.type.dtype === "f32" ? ("f32" as const) : ("f64" as const), shape: v.type.shape });

/**
 * A loop whose carries vary gets one extra carry per varied carry: its tangent. Recorded carries
 * have their tangents recorded too (a backward pass reads them, so its tangent reads those).
 */
function forwardLoop(ctx: Ctx, node: Node): void {
  const { b, varied, tan } = ctx;
  const isWhile = node.op === WHILE;
  const body = node.blocks[isWhile ? 1 : 0]!;
  const m = node.args.length;
  const carried = body.params.slice(1).map((p, j) => (varied.has(p) ? j : -1)).filter((j) => j >= 0);
  if (carried.length === 0) {
    b.push(node);
    return;
  }
  const record = (node.attrs["record"] as readonly number[] | undefined) ?? [];
  const inits = carried.map((j) => tangentOrZero(ctx, node.args[j]!));
  const tparams = carried.map((j) => b.ids.value(tangentType(body.params[j + 1]!), body.params[j + 1]!.name === undefined ? undefined : `t${body.params[j + 1]!.name}`));
  carried.forEach((j, k) => tan.set(body.params[j + 1]!, tparams[k]!));
  const newBody = b.block(() => {
    forwardNodes(ctx, body.nodes);
    return [...body.results, ...carried.map((j) => tangentOrZero(ctx, body.results[j]!))];
  }, [...body.params, ...tparams]);
  const tRecord = record.filter((j) => carried.includes(j));
  const touts = carried.map((j) => b.ids.value(tangentType(node.outs[j]!)));
  const thist = tRecord.map((j) => b.ids.value(historyType(tangentType(node.outs[j]!), node.attrs["trips"] as number | string)));
  const attrs = record.length > 0 ? { ...node.attrs, record: [...record, ...tRecord.map((j) => m + carried.indexOf(j))] } : node.attrs;
  b.loc = node.loc;
  b.push({
    ...node,
    args: [...node.args, ...inits],
    attrs,
    outs: [...node.outs.slice(0, m), ...touts, ...node.outs.slice(m), ...thist],
    // A while's condition takes the tangent carries too, and ignores them.
    blocks: isWhile ? [whileCond(b, node.blocks[0]!, tparams), newBody] : [newBody],
  });
  carried.forEach((j, k) => {
    nameTangent(node.outs[j]!, touts[k]!);
    tan.set(node.outs[j]!, touts[k]!);
  });
  tRecord.forEach((j, h) => tan.set(node.outs[m + record.indexOf(j)]!, thist[h]!));
}

/** A while's condition block with extra (unused) params like `extra`. */
function whileCond(b: IRBuilder, cond: Block, extra: readonly Value[]): Block {
  return { ...cond, params: [...cond.params, ...extra.map((p) => b.ids.value(p.type))] };
}

/**
 * The JVP of `fn` with respect to the parameters `wrt`: params `[...params, ...tangents]`,
 * results `[value, tangent of the value]`. `ids` must be the id source of any function the
 * result is spliced into.
 */
export function forwardDerivative(fn: Func, wrt: readonly Value[], ids: IdSource = IdSource.after(fn), name = `${fn.name}_jvp`, outputs = 1): Func {
  const expanded = expandCustom(fn, ids);
  const b = new IRBuilder(opTypes, ids);
  const varied = variedValues(expanded.body, wrt);
  const tan = new Map<Value, Value>();
  const tparams = wrt.map((p) => b.ids.value(tangentType(p), p.name === undefined ? undefined : `t${p.name}`));
  wrt.forEach((p, i) => tan.set(p, tparams[i]!));
  const ctx: Ctx = { b, varied, tan };
  forwardNodes(ctx, expanded.body.nodes);
  b.loc = fn.loc;
  // The first `outputs` results (a structured result's leaves), then their tangents.
  const values = expanded.body.results.slice(0, outputs);
  const tangents = values.map((v) => tangentOrZero(ctx, v));
  return { name, body: b.finish([...values, ...tangents], [...expanded.body.params, ...tparams]), ...(fn.loc ? { loc: fn.loc } : {}) };
}
