// Fused elementwise trees as WebAssembly kernels: the tree that kernels.ts would write as one
// JavaScript expression per element (plan.ts fuses it) becomes a kernel of its own, generated
// by compiler/wasm/fused.ts, when every operator has a WebAssembly form (add, sub, mul, div,
// neg, abs, sqrt, maximum, minimum, relu, square, select on a comparison, where, greater, less,
// equal) and every stored
// operand broadcasts along rows or columns of the output seen as rows × last dimension.
// exp, log, tanh and the other transcendental functions stay JavaScript (WebAssembly has no
// instruction for them). The tree runs there when its output has at least `WASM_MIN_ELEMENTS`
// elements (a symbolic size decides at run time), in a function whose buffers are in the
// linear memory (wasm-memory.ts): its stored operands must be planned buffers or parameters
// (staged in the memory); a result the caller keeps is written in the call's room and copied
// out. A sum over every axis but the last (a bias gradient) of such a tree is a column-sum
// kernel.

import type { Dim, Node, Value } from "../ir/types.js";
import { getOp } from "../ops/index.js";
import { reducedAxes } from "../ops/reduce.js";
import { type FusedExpr, type FusedKernel, type FusedLeaf, type FusedOp, fusedKey, isCompare } from "../wasm/fused.js";
import type { TensorPlan } from "./plan.js";

/** Elements from which a fused elementwise tree runs in WebAssembly. */
export const WASM_MIN_ELEMENTS = 512;

/** A fused kernel at one node: its kernel, and the values its leaves and scalars read. */
export interface FusedSite {
  readonly kernel: FusedKernel;
  readonly leaves: readonly Value[];
  readonly scalars: readonly Value[];
  /** The iteration space: the result's shape, or a column sum's operand's. */
  readonly space: readonly Dim[];
  /** The result is a tensor the caller keeps, not a buffer in the memory. */
  readonly copyOut: boolean;
}

const OPS: Record<string, FusedOp> = {
  add: "add",
  sub: "sub",
  mul: "mul",
  div: "div",
  neg: "neg",
  abs: "abs",
  sqrt: "sqrt",
  maximum: "max",
  minimum: "min",
  relu: "relu",
  select: "select",
  gt: "gt",
  ge: "ge",
  lt: "lt",
  le: "le",
  eq: "eq",
  ne: "ne",
};

/** The 1/0 mask ops and the comparison each one tests. */
const MASKS: Record<string, FusedOp> = { greater: "gt", less: "lt", equal: "eq" };

/** FNV-1a of a text, as 8 hex digits: the kernel's name follows from what it computes. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** How a stored operand of shape `leaf` is read in the output `space` (rows × last dimension). */
function leafMode(leaf: readonly Dim[], space: readonly Dim[]): FusedLeaf | undefined {
  const R = space.length;
  if (leaf.length > R) return undefined;
  const padded = [...new Array<Dim>(R - leaf.length).fill(1), ...leaf];
  const same = (k: number): boolean => padded[k] === space[k];
  const ones = (from: number, to: number): boolean => padded.slice(from, to).every((d) => d === 1);
  if (padded.every((_d, k) => same(k))) return "flat";
  if (ones(0, R - 1) && same(R - 1)) return "row";
  if (padded[R - 1] === 1 && padded.slice(0, R - 1).every((_d, k) => same(k))) return "col";
  if (ones(0, R)) return "one";
  return undefined;
}

/**
 * The fused kernel computing the stored result of the elementwise node `node`, or undefined
 * when the tree has no WebAssembly form. `producers` maps each value to its node.
 */
export function fusedSiteOf(node: Node, plan: TensorPlan, producers: ReadonlyMap<Value, Node>): FusedSite | undefined {
  const out = node.outs[0]!;
  const dtype = out.type.dtype;
  // A column sum iterates over its operand; an elementwise tree over its result.
  const columns = node.op === "sum" && isColumnSum(node);
  const space = columns ? node.args[0]!.type.shape : out.type.shape;
  if ((dtype !== "f32" && dtype !== "f64") || space.length === 0 || plan.inlined.has(out)) return undefined;
  // The result: a planned buffer, or a tensor the caller keeps (written in the room, copied out).
  const kind = plan.storage.get(out)?.kind;
  if ((!columns && getOp(node.op).kind !== "elementwise") || (kind !== "slot" && kind !== "fresh")) return undefined;
  const rootOf = (v: Value): Value => {
    const s = plan.storage.get(v);
    return s?.kind === "alias" ? rootOf(s.of) : v;
  };
  const leaves: Value[] = [];
  const modes: FusedLeaf[] = [];
  const scalars: Value[] = [];
  let ok = true;
  const fail = (): FusedExpr => {
    ok = false;
    return { kind: "scalar", arg: 0 };
  };
  const value = (v: Value, mask: boolean): FusedExpr => {
    if (v.type.shape.length === 0) {
      if (mask || (v.type.dtype !== "f32" && v.type.dtype !== "f64")) return fail();
      const at = scalars.indexOf(v);
      return { kind: "scalar", arg: at >= 0 ? at : scalars.push(v) - 1 };
    }
    if (plan.inlined.has(v)) {
      const p = producers.get(v);
      if (!p) return fail();
      // A broadcast (or a number reshaped into a tensor) reads its operand at the same place.
      if (p.op === "broadcast_to" || (p.op === "reshape" && p.args[0]!.type.shape.length === 0)) return value(p.args[0]!, mask);
      return nodeTree(p, mask);
    }
    const root = rootOf(v);
    const storage = plan.storage.get(root)?.kind;
    if (mask || v.type.dtype !== dtype || (storage !== "slot" && storage !== "param")) return fail();
    const mode = leafMode(v.type.shape, space);
    if (mode === undefined) return fail();
    const at = leaves.indexOf(v);
    if (at >= 0) return { kind: "load", arg: at };
    modes.push(mode);
    return { kind: "load", arg: leaves.push(v) - 1 };
  };
  const nodeTree = (n: Node, mask: boolean): FusedExpr => {
    // greater/less/equal give 1 or 0 as numbers; as a where's condition, the comparison itself.
    const masked = MASKS[n.op];
    if (masked !== undefined) {
      if (n.args.some((a) => a.type.dtype !== dtype)) return fail();
      const test: FusedExpr = { kind: "op", op: masked, args: n.args.map((a) => value(a, false)) };
      return mask ? test : { kind: "op", op: "select", args: [test, { kind: "const", value: 1 }, { kind: "const", value: 0 }] };
    }
    if (n.op === "where") {
      if (mask) return fail();
      const [c, x, y] = n.args as [Value, Value, Value];
      const p = plan.inlined.has(c) ? producers.get(c) : undefined;
      // JavaScript's `c ? x : y` on a number: true unless 0 or NaN.
      const cv = p !== undefined && MASKS[p.op] !== undefined ? value(c, true) : truthy(value(c, false));
      return { kind: "op", op: "select", args: [cv, value(x, false), value(y, false)] };
    }
    if (n.op === "square") {
      const x = value(n.args[0]!, false);
      return mask ? fail() : { kind: "op", op: "mul", args: [x, x] };
    }
    const op = OPS[n.op];
    if (op === undefined || isCompare(op) !== mask) return fail();
    // A comparison's operands are numbers of the kernel's dtype; a select's condition is a comparison.
    if (isCompare(op) && n.args.some((a) => a.type.dtype !== dtype)) return fail();
    const args = n.args.map((a, k) => value(a, op === "select" && k === 0));
    return { kind: "op", op, args };
  };
  const truthy = (x: FusedExpr): FusedExpr => ({
    kind: "op",
    op: "and",
    args: [
      { kind: "op", op: "ne", args: [x, { kind: "const", value: 0 }] },
      { kind: "op", op: "eq", args: [x, x] },
    ],
  });
  const expr = columns ? value(node.args[0]!, false) : nodeTree(node, false);
  if (!ok) return undefined;
  const spec = { dtype, leaves: modes, scalars: scalars.length, expr, ...(columns ? { reduce: "cols" as const } : {}) };
  return { kernel: { ...spec, name: `${columns ? "colsum" : "ew"}_${hash(fusedKey(spec))}_${dtype}` }, leaves, scalars, space, copyOut: kind === "fresh" };
}

/** A sum over every axis but the last (the bias gradient): a column sum. */
function isColumnSum(node: Node): boolean {
  const rank = node.args[0]!.type.shape.length;
  const axes = reducedAxes(node.attrs, rank);
  return rank >= 2 && node.args[0]!.type.dtype === node.outs[0]!.type.dtype && axes.length === rank - 1 && axes.every((a, k) => a === k);
}

