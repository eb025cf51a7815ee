// Counted loops. A `for` loop whose trip count is a small compile-time number is unrolled (the
// counter is a compile-time number in each copy); a longer one, or one of a symbolic
// dimension's trips (loop-bounds.ts), becomes a `loop` node whose carries are the outer
// variables the body assigns. `// @gradc checkpoint` splits a constant loop into √n segments
// of √n trips, so the backward pass stores only segment boundaries. `for…of` over a tuple or
// fixed-length array is unrolled, one copy per item. `break` and `continue` are flags
// (jumps.ts); `while` and `do` loops are in while-loops.ts.

import { Node } from "ts-morph";
import type { Dim } from "../ir/types.js";
import { LowerError } from "./errors.js";
import type { Host } from "./host.js";
import { assignedOuter, describeType } from "./lower-support.js";
import { type CountedLoop, countedLoop } from "./loop-bounds.js";
import { assignMerged, merge, region } from "./merge.js";
import { leaves, rebuild } from "./pytrees.js";
import { bindName } from "./scopes.js";
import type { LV, Var } from "./types.js";
import { type LoopFrame, breaksOut, inLoop, tripBody, withLoopFrame } from "./jumps.js";

const MAX_UNROLL = 100_000;
/** Constant loops of at most this many trips are unrolled; longer ones stay loops. */
const UNROLL_LIMIT = 16;

export function forStatement(h: Host, s: import("ts-morph").ForStatement): void {
  const init = s.getInitializer();
  const cond = s.getCondition();
  const incr = s.getIncrementor();
  if (!init || !cond || !incr || !Node.isVariableDeclarationList(init))
    throw new LowerError("GRADC1007", s, ["a loop without an initializer, condition and increment"]);
  const counted = countedLoop(s, (e) => h.expr(e), h.b);
  const checkpoint = s.getLeadingCommentRanges().some((c) => c.getText().includes("@gradc checkpoint"));
  // A start computed from a symbolic dimension is not a compile-time number to unroll from.
  if (counted && (typeof counted.trips === "string" || counted.trips > UNROLL_LIMIT || checkpoint || counted.start.k !== "num"))
    return rolledFor(h, s, counted, checkpoint);
  // Short constant loops are unrolled: the counter is a compile-time number in each copy.
  h.pushScope(() => {
    for (const d of init.getDeclarations()) {
      const i0 = d.getInitializer();
      if (!i0) throw new LowerError("GRADC1011", d, [d.getName()]);
      bindName(h, d.getNameNode(), h.expr(i0), true);
    }
    withLoopFrame(h, s, (frame) => {
      for (let trips = 0; ; trips++) {
        const c = h.condition(cond);
        if (c.k !== "bool") throw new LowerError("GRADC1007", cond, ["a value computed at run time"]);
        if (!c.b) break;
        if (trips >= MAX_UNROLL) throw new LowerError("GRADC1007", cond, [`a loop of more than ${MAX_UNROLL} iterations`]);
        h.grow(s);
        // A break known at compile time ends the unrolling; one decided at run time guards the rest.
        if (!tripBody(h, frame, s, s.getStatement())) break;
        h.effect(incr);
      }
    });
  });
}

/**
 * `for (const item of xs)` over a tuple or fixed-length array (a pytree's `layers`, an array
 * literal): its items are known at compile time, so the loop is unrolled, one copy per item.
 */
export function forOfStatement(h: Host, s: import("ts-morph").ForOfStatement): void {
  const init = s.getInitializer();
  if (s.isAwaited()) throw new LowerError("GRADC1001", s, ["'for await'", "Differentiable functions are synchronous."]);
  if (!Node.isVariableDeclarationList(init) || init.getDeclarations().length !== 1)
    throw new LowerError("GRADC1001", init, ["A for-of loop that assigns an existing variable", "Declare the loop variable: for (const item of items)."]);
  const decl = init.getDeclarations()[0]!;
  const items = h.expr(s.getExpression());
  if (items.k !== "arr") {
    const what = items.k === "val" && items.v.type.shape.length > 0 ? "A for-of loop over a tensor" : "A for-of loop over something other than an array";
    throw new LowerError("GRADC1001", s.getExpression(), [what, "Loop over the indices instead: for (let i = 0; i < x.shape[0]; i++), reading at(x, i)."]);
  }
  const mutable = init.getDeclarationKind() !== "const";
  withLoopFrame(h, s, (frame) => {
    for (const item of items.items) {
      h.grow(s);
      const go = h.pushScope(() => {
        bindName(h, decl.getNameNode(), item, mutable);
        return tripBody(h, frame, s, s.getStatement());
      });
      if (!go) break;
    }
  });
}

/**
 * A loop that stays a loop: outer variables the body assigns become carries. With
 * `// @gradc checkpoint` a constant loop is split into √n segments of √n trips, so the
 * backward pass stores only segment boundaries and recomputes inside each segment.
 */
function rolledFor(h: Host, s: import("ts-morph").ForStatement, loop: CountedLoop, checkpoint: boolean): void {
  withLoopFrame(h, s, (frame) => rolledTrips(h, s, loop, checkpoint, frame));
}

function rolledTrips(h: Host, s: import("ts-morph").ForStatement, loop: CountedLoop, checkpoint: boolean, frame: LoopFrame): void {
  // A loop that may break carries its flag; the trips after the break do nothing (jumps.ts).
  const carries = [...assignedOuter(s.getStatement(), h.scope), ...(breaksOut(s.getStatement()) ? [frame.brk] : [])];
  const body = (k: LV): void =>
    h.pushScope(() => {
      const index = h.arith("+", loop.start, h.arith("*", k, { k: "num", n: loop.step }, s), s);
      h.scope.declare({ name: loop.name, isParam: false, mutable: false });
      h.store.set(h.scope.lookup(loop.name)!, index);
      // Fewer trips than the dimension: the loop's own condition decides each trip.
      tripBody(h, frame, s, s.getStatement(), loop.guarded ? h.condition(s.getConditionOrThrow()) : undefined);
    });
  const T = loop.trips;
  if (checkpoint && typeof T === "number" && T > 1) {
    const K = Math.ceil(Math.sqrt(T));
    const S = Math.floor(T / K);
    const offset = (base: number, k: LV): LV => h.arith("+", { k: "num", n: base }, k, s);
    rolledLoop(h, carries, S, s, (ko) => rolledLoop(h, carries, K, s, (ki) => body(h.arith("+", h.arith("*", ko, { k: "num", n: K }, s), ki, s))));
    if (T - S * K > 0) rolledLoop(h, carries, T - S * K, s, (kr) => body(offset(S * K, kr)));
    return;
  }
  rolledLoop(h, carries, T, s, body, !loop.guarded);
}

/** Builds a `loop` node over `carries`, lowering the body with the trip counter `k`. */
export function rolledLoop(h: Host, carries: readonly Var[], trips: Dim, at: Node, lowerBody: (k: LV) => void, everyTrip = true): void {
  const shapes = carries.map((v) => h.store.get(v) ?? { k: "undefined" as const });
  const leavesOf = (lv: LV) => leaves(lv, (leaf) => h.asValue(leaf, at));
  const inits = shapes.flatMap(leavesOf);
  // Carries are named after the variables they hold.
  const names = carries.flatMap((v, i) => {
    const n = leavesOf(shapes[i]!).length;
    return Array.from({ length: n }, (_x, j) => (n === 1 ? v.name : `${v.name}_${j}`));
  });
  const k = h.b.param({ dtype: "f64", shape: [] }, "k");
  if (typeof trips === "number") h.counters.set(k, trips);
  else if (everyTrip) h.symbolicCounters.set(k, trips);
  const params = inits.map((v, j) => h.b.param(v.type, names[j]));
  const body = region(
    h,
    at,
    () =>
      h.withStore(() => {
        let pos = 0;
        carries.forEach((v, i) => h.store.set(v, rebuild(shapes[i]!, () => params[pos++]!)));
        inLoop(h, () => lowerBody({ k: "val", v: k }));
        return carries.map((v) => h.store.get(v) ?? { k: "undefined" as const });
      }).result,
    [k, ...params],
  );
  const outs = merge(h, at, {
    shapes: [shapes, body.yields],
    leaves: [params, body.block.results],
    what: (i) => carries[i]!.name,
    typeMismatch: (p, r) => `a loop variable starts as ${describeType(p)} and becomes ${describeType(r)}`,
    build: () => h.b.loopNode(inits, body.block, { trips }, [], names),
  });
  assignMerged(h, carries, outs);
}
