// What the lowering modules share: the state of one function's lowering and the entry points
// they call each other through. lower.ts implements it by delegating each entry point to its
// module (statements.ts, loops.ts, expressions.ts, calls.ts), so the modules recurse into one
// another (a statement holds expressions, a call inlines statements) without importing each
// other.

import type { CallExpression, Expression, Node, SourceFile, Statement } from "ts-morph";
import type { IRBuilder } from "../ir/builder.js";
import type { AttrValue, Loc, Value } from "../ir/types.js";
import type { LowerError } from "./errors.js";
import type { Condition, FunctionLike, LV, Scope, Var } from "./types.js";

export interface LowerContext {
  /** Path written into locations (relative to the project). */
  fileName(sf: SourceFile): string;
  /** `jvp` targets may return a tensor; `grad` targets return a scalar loss. */
  readonly tensorResult?: boolean;
  /** The function returns `[loss, aux]` (see aux.ts). */
  readonly hasAux?: boolean;
}

/**
 * A statement still to lower, the end of a block whose statements were spliced into the list
 * (the statements after it see the enclosing scope again), or a lowering step that is not one
 * statement of the source (see Deferred).
 */
export type Item = Statement | { readonly exitTo: Scope } | Deferred;

/**
 * A step of a construct lowered in pieces (the rest of a switch's case chain, one case's
 * body) placed into a statement list. Like a statement of LIST_STATEMENTS (statements.ts) it
 * receives the items after it and returns `{ ret }` when it lowered them as well; errors are
 * reported at `node`.
 */
export interface Deferred {
  readonly node: Statement;
  lower(rest: readonly Item[]): { ret: LV | undefined } | undefined;
}

export interface Host {
  readonly b: IRBuilder;
  readonly ctx: LowerContext;

  // ---- state ----
  /** The value each variable holds at this point of the function. */
  store: Map<Var, LV>;
  scope: Scope;
  /** How many loops enclose the statement being lowered (a return there is refused). */
  loopDepth: number;
  /** The functions being inlined, innermost last (recursion is refused). */
  readonly inlining: FunctionLike[];
  /** The calls being inlined, outermost first (the top function's own call is reported). */
  readonly inlineSites: Node[];
  /** Errors found so far; lowering goes on after each (see statements.ts, recover). */
  readonly errors: LowerError[];
  readonly errorKeys: Set<string>;
  /** Trip counts of the counters of the constant loops being lowered (for index checks). */
  readonly counters: Map<Value, number>;
  /** Counters of loops running exactly a symbolic dimension's trips, body unguarded. */
  readonly symbolicCounters: Map<Value, string>;
  /** The differentiated function's name, for messages about its body. */
  readonly topName: string;

  // ---- helpers ----
  loc(node: Node): Loc;
  /** Builds an op, turning shape errors into diagnostics at `at`. */
  op(name: string, args: readonly Value[], at: Node, attrs?: Record<string, AttrValue>): Value;
  asValue(lv: LV, at: Node): Value;
  /** Runs `fill` with a copy of the variable store, so branch-local writes stay local. */
  withStore<T>(fill: () => T): { result: T; store: Map<Var, LV> };
  pushScope<T>(fill: () => T): T;
  /** Refuses a function that inlining and unrolling have grown past MAX_OPS operations. */
  grow(at: Node): void;
  /** The name of the function whose body is being lowered, for messages. */
  currentName(): string;

  // ---- entry points of the modules ----
  /** statements.ts: lowers statements from index i; the return value if every path returned. */
  statements(stmts: readonly Item[], i: number): LV | undefined;
  /** statements.ts: lowers a function body; returns the returned value. */
  lowerBody(decl: FunctionLike, at: Node): LV;
  /** statements.ts: an assignment or increment evaluated for its effect. */
  effect(e: Expression): void;
  /** statements.ts: an `if` node over statement lists; returns the merged values. */
  ifStatement(cond: Value, at: Node, thenStmts: readonly Item[], elseStmts: readonly Item[], assigned: readonly Var[], returns: boolean): LV[];
  /** expressions.ts */
  expr(e: Expression | Node): LV;
  condition(e: Expression): Condition;
  arith(op: string, x: LV, y: LV, at: Node): LV;
  member(obj: LV, key: string, at: Node): LV;
  index(obj: LV, i: number, at: Node): LV;
  /** calls.ts: calls a lowered callee on lowered arguments (what nested transformations apply). */
  callLV(callee: LV, args: readonly LV[], e: CallExpression): LV;
  /** calls.ts: inlines a call whose arguments are already lowered. */
  inlineValues(decl: FunctionLike, values: readonly LV[], at: CallExpression, closure: Scope | undefined): LV;
}
