// Trip counts of counted `for` loops whose start or bound involves a symbolic dimension:
// `i < xs.shape[0]`, `i < xs.shape[0] - 1` with `i = 1`, `i = n - 1; i >= 0; i--`. Such a loop
// runs N + d trips for a dimension N and a constant d. With d = 0 it is a loop of N trips;
// with d < 0 it is lowered as N trips whose body runs only while the loop's own condition
// holds (the extra trips do nothing); d > 0 cannot be expressed and is refused.

import { type ForStatement, Node, SyntaxKind } from "ts-morph";
import type { IRBuilder } from "../ir/builder.js";
import type { Dim, Value } from "../ir/types.js";
import { LowerError } from "./errors.js";
import type { LV } from "./types.js";

/** `dim + off`, or a constant `off` when `dim` is absent. */
export interface Affine {
  readonly dim?: string;
  readonly off: number;
}

function affineValue(b: IRBuilder, v: Value, depth: number): Affine | undefined {
  const def = b.defOf(v);
  if (!def || depth > 16) return undefined;
  if (def.op === "dim") return { dim: String(def.attrs["name"]), off: 0 };
  if (def.op === "const" && def.attrs["dtype"] === undefined) return { off: def.attrs["value"] as number };
  if (def.op !== "add" && def.op !== "sub") return undefined;
  const x = affineValue(b, def.args[0]!, depth + 1);
  const y = affineValue(b, def.args[1]!, depth + 1);
  if (!x || !y) return undefined;
  if (def.op === "add") return x.dim && y.dim ? undefined : { ...((x.dim ?? y.dim) ? { dim: (x.dim ?? y.dim)! } : {}), off: x.off + y.off };
  if (y.dim) return x.dim === y.dim ? { off: x.off - y.off } : undefined;
  return { ...(x.dim ? { dim: x.dim } : {}), off: x.off - y.off };
}

/** A loop start or bound as `dim + off`, when it is one. */
export function affineOf(b: IRBuilder, lv: LV): Affine | undefined {
  if (lv.k === "num") return { off: lv.n };
  if (lv.k === "val") return affineValue(b, lv.v, 0);
  return undefined;
}

export type Trips =
  /** `guarded`: the loop runs fewer trips than `trips`; its condition decides each. */
  | { readonly trips: Dim; readonly guarded: boolean }
  | { readonly refused: string };

/**
 * Trips of `for (i = start; i op bound; i += step)` when a symbolic dimension is involved
 * (`step` is ±1 then). Undefined when neither start nor bound is symbolic.
 */
export function symbolicTrips(start: Affine, bound: Affine, step: number, op: "<" | "<=" | ">" | ">="): Trips | undefined {
  if (start.dim === undefined && bound.dim === undefined) return undefined;
  if (Math.abs(step) !== 1) return { refused: "its step is not 1 or -1. Step by one (i++ or i--) and skip trips with an if inside the body" };
  const up = step > 0;
  if (up !== (op === "<" || op === "<=")) return { refused: "its counter moves away from its bound. Count up with < or <=, or down with > or >=" };
  const [hi, lo] = up ? [bound, start] : [start, bound];
  const inclusive = op === "<=" || op === ">=" ? 1 : 0;
  const d = hi.off - lo.off + inclusive;
  if (hi.dim !== undefined && lo.dim !== undefined) {
    if (hi.dim !== lo.dim) return { refused: `it runs ${hi.dim} - ${lo.dim} trips, a difference of two dimensions. Loop over one dimension and skip trips with an if inside the body` };
    return { trips: Math.max(0, d), guarded: false };
  }
  if (hi.dim === undefined) return { refused: `its trip count shrinks as ${lo.dim!} grows. Loop over ${lo.dim!} and skip trips with an if inside the body` };
  if (d > 0) return { refused: `it runs ${hi.dim} + ${d} trips, more than the dimension ${hi.dim}. Loop ${hi.dim} trips and write the extra work after the loop` };
  return { trips: hi.dim, guarded: d < 0 };
}

/** A counted `for` loop: its counter, start, step and trips (see countedLoop). */
export interface CountedLoop {
  readonly name: string;
  readonly start: LV;
  readonly step: number;
  readonly trips: Dim;
  readonly guarded: boolean;
}

/**
 * `for (let i = a; i < n; i += s)` (also `<=`, `>`, `>=`, `i++`, `i--`, `i -= s`) with `s` a
 * constant and `a`, `n` constants or a symbolic dimension plus a constant (symbolicTrips):
 * the counter, its start, and the trip count. `guarded` loops run their body only while the
 * condition holds.
 */
export function countedLoop(s: ForStatement, expr: (e: Node) => LV, b: IRBuilder): CountedLoop | undefined {
  const init = s.getInitializer();
  const cond = s.getCondition();
  const incr = s.getIncrementor();
  if (!init || !Node.isVariableDeclarationList(init) || init.getDeclarations().length !== 1) return undefined;
  const decl = init.getDeclarations()[0]!;
  const name = decl.getName();
  const i0 = decl.getInitializer();
  if (!i0 || !Node.isIdentifier(decl.getNameNode())) return undefined;
  const start = expr(i0);
  if (!cond || !Node.isBinaryExpression(cond) || cond.getLeft().getText() !== name) return undefined;
  let step: number | undefined;
  if (incr && (Node.isPostfixUnaryExpression(incr) || Node.isPrefixUnaryExpression(incr)) && incr.getOperand().getText() === name)
    step = incr.getOperatorToken() === SyntaxKind.PlusPlusToken ? 1 : incr.getOperatorToken() === SyntaxKind.MinusMinusToken ? -1 : undefined;
  else if (incr && Node.isBinaryExpression(incr) && incr.getLeft().getText() === name) {
    const k = incr.getOperatorToken().getKind();
    const rhs = expr(incr.getRight());
    if (rhs.k === "num" && k === SyntaxKind.PlusEqualsToken) step = rhs.n;
    if (rhs.k === "num" && k === SyntaxKind.MinusEqualsToken) step = -rhs.n;
  }
  if (step === undefined || step === 0 || !Number.isInteger(step)) return undefined;
  const bound = expr(cond.getRight());
  const opText = cond.getOperatorToken().getText();
  if (opText !== "<" && opText !== "<=" && opText !== ">" && opText !== ">=") return undefined;
  const [a, n] = [affineOf(b, start), affineOf(b, bound)];
  if (!a || !n) return undefined;
  const symbolic = symbolicTrips(a, n, step, opText);
  if (symbolic && "refused" in symbolic) throw new LowerError("GRADC1030", cond, [symbolic.refused]);
  if (symbolic) return { name, start, step, trips: symbolic.trips, guarded: symbolic.guarded };
  let trips: number;
  if (step > 0 && opText === "<") trips = Math.ceil((n.off - a.off) / step);
  else if (step > 0 && opText === "<=") trips = Math.floor((n.off - a.off) / step) + 1;
  else if (step < 0 && opText === ">") trips = Math.ceil((a.off - n.off) / -step);
  else if (step < 0 && opText === ">=") trips = Math.floor((a.off - n.off) / -step) + 1;
  else return undefined;
  return { name, start, step, trips: Math.max(0, trips), guarded: false };
}
