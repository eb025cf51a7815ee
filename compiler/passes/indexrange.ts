// Which indexing nodes (`take` = `at(x, i)` and its adjoint `put`) are in range whatever the
// arguments: their index is an integer in [0, n) for every run. Those need no run-time check;
// every other one is checked where it runs (codegen/indexcheck.ts), kept by DCE even when its
// value is unused, and not hoisted out of a loop that might run no trip (LICM).
//
// The analysis is an interval per scalar value, affine in at most one symbolic dimension:
// constants, loop counters (0 to trips - 1, the histories' and the per-step inputs' index),
// and sums, differences and constant multiples of them. Anything else is unknown (checked).
// Inside `if (a < b)` the index a (or a minus a non-negative constant) is below b: the guard
// a loop `for (let i = 1; i < n; i++)` lowers to keeps its reads in range.

import { type Block, type Dim, type Func, type Node, type Value, walkNodes, IF, LOOP } from "../ir/types.js";

/** `sym + off`, or just `off` when `sym` is null. */
interface Bound {
  readonly sym: string | null;
  readonly off: number;
}

/** A term of a loop-invariant offset: + or - a value. */
export interface Term {
  readonly value: Value;
  readonly negated: boolean;
}

interface Range {
  readonly lo: Bound;
  readonly hi: Bound;
  readonly int: boolean;
}

const num = (off: number): Bound => ({ sym: null, off });

export const INDEXING_OPS: ReadonlySet<string> = new Set(["take", "put"]);

/** The size of the axis a node indexes: x's leading dimension for take, the result's for put. */
export function indexedSize(node: Node): Dim {
  return node.op === "take" ? node.args[0]!.type.shape[0]! : node.outs[0]!.type.shape[0]!;
}

export interface IndexRanges {
  /** True when the node's index is an integer within its axis on every run. */
  inRange(node: Node): boolean;
  /** True for indexing nodes whose index is not known to be in range (they may throw). */
  mayThrow(node: Node): boolean;
  /** The index's value when it is a compile-time constant. */
  constantIndex(node: Node): number | undefined;
  /**
   * For an index `k + b`, k the counter of a loop and b a sum and difference of values defined
   * outside that loop (`i + 1`, `t + off`, `(1 + k) - 1`): the loop and the terms of b. The
   * index then runs over b .. b + trips - 1, which one test before the loop can show to be in
   * range (codegen/indexcheck.ts).
   */
  counterPlusInvariant(node: Node): { loop: Node; terms: readonly Term[] } | undefined;
  /** The value of a scalar constant. */
  constantOf(v: Value): number | undefined;
}

/**
 * The analysis of `fn`, made on the first question about an indexing node: most functions
 * have none, and DCE asks about every node of every function it cleans.
 */
export function indexRanges(fn: Func): IndexRanges {
  let analysis: IndexRanges | undefined;
  const full = (): IndexRanges => (analysis ??= analyze(fn));
  return {
    inRange: (node) => !INDEXING_OPS.has(node.op) || full().inRange(node),
    mayThrow: (node) => INDEXING_OPS.has(node.op) && full().mayThrow(node),
    constantIndex: (node) => full().constantIndex(node),
    constantOf: (v) => full().constantOf(v),
    counterPlusInvariant: (node) => (INDEXING_OPS.has(node.op) ? full().counterPlusInvariant(node) : undefined),
  };
}

function analyze(fn: Func): IndexRanges {
  const producer = new Map<Value, Node>();
  const counters = new Map<Value, Dim>();
  const loopOf = new Map<Value, Node>();
  walkNodes(fn.body, (n) => {
    n.outs.forEach((o) => producer.set(o, n));
    if (n.op === LOOP) {
      counters.set(n.blocks[0]!.params[0]!, n.attrs["trips"] as Dim);
      loopOf.set(n.blocks[0]!.params[0]!, n);
    }
  });
  /** The values defined inside each loop (params and nodes, nested blocks included). */
  const insides = new Map<Node, Set<Value>>();
  const inside = (loop: Node): Set<Value> => {
    let s = insides.get(loop);
    if (!s) {
      s = new Set<Value>(loop.blocks[0]!.params);
      const set = s;
      walkNodes(loop.blocks[0]!, (n) => {
        n.outs.forEach((o) => set.add(o));
        n.blocks.forEach((b) => b.params.forEach((p) => set.add(p)));
      });
      insides.set(loop, s);
    }
    return s;
  };
  const memo = new Map<Value, Range | null>();

  /** Per indexing node, the facts `a < b` the conditions of the ifs around it establish. */
  type Fact = { readonly a: Value; readonly b: Value };
  const facts = new Map<Node, readonly Fact[]>();
  const gather = (block: Block, known: readonly Fact[]): void => {
    for (const n of block.nodes) {
      if (INDEXING_OPS.has(n.op)) facts.set(n, known);
      if (n.op === IF) {
        const c = producer.get(n.args[0]!);
        const fact = c?.op === "lt" ? { a: c.args[0]!, b: c.args[1]! } : c?.op === "gt" ? { a: c.args[1]!, b: c.args[0]! } : undefined;
        gather(n.blocks[0]!, fact ? [...known, fact] : known);
        gather(n.blocks[1]!, known);
      } else n.blocks.forEach((b) => gather(b, known));
    }
  };
  gather(fn.body, []);
  const constant = (v: Value): number | undefined => {
    const d = producer.get(v);
    return d?.op === "const" ? (d.attrs["value"] as number) : undefined;
  };
  /** v ≤ a: v is a, or a minus a non-negative constant (depth-limited). */
  const atMost = (v: Value, a: Value, depth = 0): boolean => {
    if (v === a) return true;
    const d = producer.get(v);
    if (!d || depth > 8) return false;
    const [x, y] = d.args;
    if (d.op === "sub") return (constant(y!) ?? -1) >= 0 && atMost(x!, a, depth + 1);
    if (d.op === "add") return ((constant(y!) ?? 1) <= 0 && atMost(x!, a, depth + 1)) || ((constant(x!) ?? 1) <= 0 && atMost(y!, a, depth + 1));
    return false;
  };
  /** The conditions around `node` show its index below the axis size n. */
  const guardedBelow = (node: Node, n: Dim): boolean =>
    (facts.get(node) ?? []).some(({ a, b }) => {
      const d = producer.get(b);
      const isSize = typeof n === "number" ? constant(b) === n : d?.op === "dim" && d.attrs["name"] === n;
      return isSize && atMost(node.args[1]!, a);
    });

  const rangeOf = (v: Value): Range | null => {
    if (memo.has(v)) return memo.get(v)!;
    memo.set(v, null); // no cycles in SSA, but never loop on a malformed one
    const r = compute(v);
    memo.set(v, r);
    return r;
  };

  const compute = (v: Value): Range | null => {
    if (v.type.shape.length !== 0 || v.type.dtype === "bool") return null;
    const trips = counters.get(v);
    if (trips !== undefined)
      return { lo: num(0), hi: typeof trips === "number" ? num(trips - 1) : { sym: trips, off: -1 }, int: true };
    const n = producer.get(v);
    if (!n) return null;
    if (n.op === "const") {
      const c = n.attrs["value"] as number;
      return Number.isFinite(c) ? { lo: num(c), hi: num(c), int: Number.isInteger(c) } : null;
    }
    const [a, b] = n.args.map(rangeOf);
    if (!a || (n.args.length > 1 && !b)) return null;
    switch (n.op) {
      case "add":
        return plus(a, b!);
      case "sub":
        return b!.lo.sym === null && b!.hi.sym === null ? plus(a, { lo: num(-b!.hi.off), hi: num(-b!.lo.off), int: b!.int }) : null;
      case "neg":
        return a.lo.sym === null && a.hi.sym === null ? { lo: num(-a.hi.off), hi: num(-a.lo.off), int: a.int } : null;
      case "mul":
        return scale(a, b!) ?? scale(b!, a);
      default:
        return null;
    }
  };

  /** `v` as counter + invariant terms (depth-limited: indices are short expressions). */
  const affine = (v: Value, depth = 0): { loop: Node; terms: Term[] } | undefined => {
    const loop = loopOf.get(v);
    if (loop) return { loop, terms: [] };
    const d = producer.get(v);
    if (depth > 8 || (d?.op !== "add" && d?.op !== "sub")) return undefined;
    const [x, y] = d.args as [Value, Value];
    const invariant = (w: Value, l: Node): boolean => !inside(l).has(w) && w.type.shape.length === 0;
    const left = affine(x, depth + 1);
    if (left && invariant(y, left.loop)) return { loop: left.loop, terms: [...left.terms, { value: y, negated: d.op === "sub" }] };
    const right = d.op === "add" ? affine(y, depth + 1) : undefined;
    if (right && invariant(x, right.loop)) return { loop: right.loop, terms: [{ value: x, negated: false }, ...right.terms] };
    return undefined;
  };

  const inRange = (node: Node): boolean => {
    if (!INDEXING_OPS.has(node.op)) return true;
    const r = rangeOf(node.args[1]!);
    if (!r || !r.int || r.lo.sym !== null || r.lo.off < 0) return false;
    const n = indexedSize(node);
    if (typeof n === "number" ? r.hi.sym === null && r.hi.off <= n - 1 : r.hi.sym === n && r.hi.off <= -1) return true;
    return guardedBelow(node, n);
  };

  return {
    inRange,
    mayThrow: (node) => INDEXING_OPS.has(node.op) && !inRange(node),
    constantIndex: (node) => {
      const d = producer.get(node.args[1]!);
      return d?.op === "const" ? (d.attrs["value"] as number) : undefined;
    },
    constantOf: (v) => {
      const d = producer.get(v);
      return d?.op === "const" ? (d.attrs["value"] as number) : undefined;
    },
    counterPlusInvariant: (node) => (INDEXING_OPS.has(node.op) ? affine(node.args[1]!) : undefined),
  };
}

function addBound(x: Bound, y: Bound): Bound | null {
  if (x.sym !== null && y.sym !== null) return null;
  return { sym: x.sym ?? y.sym, off: x.off + y.off };
}

function plus(a: Range, b: Range): Range | null {
  const lo = addBound(a.lo, b.lo);
  const hi = addBound(a.hi, b.hi);
  return lo && hi ? { lo, hi, int: a.int && b.int } : null;
}

/** `a * c` for a constant c (b a single point without symbols). */
function scale(a: Range, b: Range): Range | null {
  if (b.lo.sym !== null || b.hi.sym !== null || b.lo.off !== b.hi.off) return null;
  const c = b.lo.off;
  if (c === 1) return a;
  if (a.lo.sym !== null || a.hi.sym !== null) return null;
  const [x, y] = [a.lo.off * c, a.hi.off * c];
  return { lo: num(Math.min(x, y)), hi: num(Math.max(x, y)), int: a.int && b.int };
}
