// TypeScript AST → IR for one differentiable function. Expressions become values; `let`
// reassignment becomes SSA rebinding; calls to functions of the program are inlined; constant
// loops are unrolled; conditionals whose condition is known at compile time are resolved here,
// the others become `if` nodes.
//
// This file is the entry point and the dispatcher: `Lowerer` holds the state of one function's
// lowering and implements Host (host.ts) by handing each kind of syntax to its module:
// statements.ts, loops.ts, expressions.ts, calls.ts, scopes.ts (names), pytrees.ts (structured
// values), merge.ts (the results of `if` and `loop` nodes).

import { type CallExpression, type Expression, Node } from "ts-morph";
import { IRBuilder } from "../ir/builder.js";
import type { AttrValue, Func, Loc, Value } from "../ir/types.js";
import { ShapeError, opTypes } from "../ops/index.js";
import { splitAux, splitResultTree } from "./aux.js";
import { callLV, inlineValues } from "./calls.js";
import { LowerError, Poisoned } from "./errors.js";
import { arith, condition, expr, index, member } from "./expressions.js";
import type { Host, Item, LowerContext } from "./host.js";
import { type Layout, layoutOf } from "./layout.js";
import { nameOf, shapeDiagnostic, valueParameters } from "./lower-support.js";
import { lineAndColumn } from "./position.js";
import { bindLayout } from "./pytrees.js";
import type { ParamSpec, Tree } from "../ir/signature.js";
import { effect, ifStatement, lowerBody, statements } from "./statements.js";
import { type Condition, type FunctionLike, type LV, POISON, Scope, type Var } from "./types.js";

export type { LowerContext } from "./host.js";
export { type FunctionLike, type LV, isFunctionLike } from "./types.js";

/**
 * Most operations a lowered function may have. Inlining doubles code for every helper that
 * calls the previous one twice, and nested short loops unroll multiplicatively; past this the
 * function is refused rather than compiled for minutes into gigabytes. Straight-line code of
 * 10⁵ statements stays well below it.
 */
export const MAX_OPS = 500_000;

export interface Lowered {
  /** Results: the loss, then (with hasAux) the auxiliary leaves. */
  readonly fn: Func;
  readonly params: readonly ParamSpec[];
  readonly dims: readonly string[];
  /** With hasAux: the auxiliary value's structure (leaf i is result i + 1). */
  readonly aux?: Tree;
  /** A jvp target with a structured result: its structure (leaf i is result i). */
  readonly resultTree?: Tree;
}

/**
 * Lowers `decl` as a compile target. With `wrap` (the `grad(f)` of `grad(grad(f))`), the
 * target is that transformed function applied to `decl`'s parameters.
 */
export function lowerFunction(decl: FunctionLike, name: string, ctx: LowerContext, wrap?: CallExpression): Lowered {
  return new Lowerer(ctx).lowerTop(decl, name, wrap);
}

class Lowerer implements Host {
  readonly b = new IRBuilder(opTypes);
  store = new Map<Var, LV>();
  scope = new Scope(undefined);
  loopDepth = 0;
  readonly inlining: FunctionLike[] = [];
  readonly inlineSites: Node[] = [];
  readonly errors: LowerError[] = [];
  readonly errorKeys = new Set<string>();
  readonly counters = new Map<Value, number>();
  readonly symbolicCounters = new Map<Value, string>();
  topName = "the function";

  constructor(readonly ctx: LowerContext) {}

  lowerTop(decl: FunctionLike, name: string, wrap?: CallExpression): Lowered {
    this.topName = name;
    const dims = new Set<string>();
    const leaves: Value[] = [];
    const params: ParamSpec[] = [];
    const paramLVs: LV[] = [];
    this.b.loc = this.loc(decl);
    for (const p of valueParameters(decl)) {
      const nameNode = p.getNameNode();
      if (!Node.isIdentifier(nameNode))
        throw new LowerError("GRADC1001", nameNode, ["A destructured parameter", "Take the parameter whole and destructure it in the body."]);
      const v: Var = { name: nameNode.getText(), isParam: true, mutable: true };
      this.scope.declare(v);
      let layout: Layout;
      try {
        layout = layoutOf(p.getType(), p, nameNode.getText(), dims);
      } catch (e) {
        // Reported; the body is still lowered for its own errors, without this parameter.
        if (!(e instanceof LowerError)) throw e;
        this.errors.push(e);
        this.store.set(v, POISON);
        continue;
      }
      const [lv, tree] = bindLayout(this.b, layout, nameNode.getText(), leaves);
      this.store.set(v, lv);
      paramLVs.push(lv);
      params.push({ name: nameNode.getText(), tree });
    }
    let result: LV;
    try {
      result = wrap ? this.callLV(this.expr(wrap), paramLVs, wrap) : this.lowerBody(decl, decl);
    } catch (e) {
      if (this.errors.length === 0 || !(e instanceof LowerError || e instanceof Poisoned)) throw e;
      if (e instanceof LowerError) this.errors.push(...e.all.filter((x) => !this.errors.includes(x)));
      result = POISON;
    }
    if (this.errors.length > 0) throw LowerError.of(this.errors);
    const split = this.ctx.hasAux ? splitAux(result, decl, name, (lv) => this.asValue(lv, decl)) : undefined;
    if (split) result = split.loss;
    const tree = this.ctx.tensorResult === true ? splitResultTree(result, decl, (lv) => this.asValue(lv, decl)) : undefined;
    if (tree) {
      this.b.loc = this.loc(decl);
      const body = this.b.finish(tree.values, leaves);
      return { fn: { name, body, loc: this.loc(decl) }, params, dims: [...dims], resultTree: tree.tree };
    }
    if (result.k !== "val" && result.k !== "num" && result.k !== "bool")
      throw new LowerError("GRADC1005", decl, [result.k === "obj" || result.k === "arr" ? "an object or array" : result.k === "undefined" ? "undefined" : "a function"]);
    const out = this.asValue(result, decl);
    out.name ??= "out";
    if ((out.type.shape.length !== 0 && this.ctx.tensorResult !== true) || out.type.dtype === "bool")
      throw new LowerError("GRADC1005", decl, [out.type.dtype === "bool" ? "a boolean" : `a tensor of shape [${out.type.shape.join(", ")}]`]);
    this.b.loc = this.loc(decl);
    const body = this.b.finish([out, ...(split?.values ?? [])], leaves);
    return { fn: { name, body, loc: this.loc(decl) }, params, dims: [...dims], ...(split ? { aux: split.aux } : {}) };
  }

  // ---- helpers ------------------------------------------------------------------------------

  loc(node: Node): Loc {
    const sf = node.getSourceFile();
    const { line, column } = lineAndColumn(sf, node.getStart());
    return { file: this.ctx.fileName(sf), line, col: column };
  }

  op(name: string, args: readonly Value[], at: Node, attrs: Record<string, AttrValue> = {}): Value {
    const saved = this.b.loc;
    this.b.loc = this.loc(at);
    try {
      return this.b.op(name, args, attrs);
    } catch (e) {
      if (e instanceof ShapeError) throw shapeDiagnostic(e, at);
      throw e;
    } finally {
      this.b.loc = saved;
    }
  }

  asValue(lv: LV, at: Node): Value {
    switch (lv.k) {
      case "val":
        return lv.v;
      case "num":
        return this.b.op("const", [], { value: lv.n });
      case "bool":
        return this.b.op("const", [], { value: lv.b ? 1 : 0, dtype: "bool" });
      case "obj":
      case "arr":
        throw new LowerError("GRADC2005", at, ["expected a number or a tensor, got an object or array"]);
      case "poison":
        throw new Poisoned();
      default:
        throw new LowerError("GRADC2005", at, ["expected a number or a tensor, got a function"]);
    }
  }

  withStore<T>(fill: () => T): { result: T; store: Map<Var, LV> } {
    const saved = this.store;
    const savedScope = this.scope;
    this.store = new Map(saved);
    try {
      const result = fill();
      return { result, store: this.store };
    } finally {
      this.store = saved;
      this.scope = savedScope;
    }
  }

  pushScope<T>(fill: () => T): T {
    const saved = this.scope;
    this.scope = new Scope(saved);
    try {
      return fill();
    } finally {
      this.scope = saved;
    }
  }

  grow(at: Node): void {
    if (this.b.size > MAX_OPS) throw new LowerError("GRADC1023", this.inlineSites[0] ?? at, [this.topName, MAX_OPS]);
  }

  currentName(): string {
    return this.inlining.length > 0 ? nameOf(this.inlining[this.inlining.length - 1]!) : this.topName;
  }

  // ---- dispatch to the modules -----------------------------------------------------------------

  statements(stmts: readonly Item[], i: number): LV | undefined {
    return statements(this, stmts, i);
  }
  lowerBody(decl: FunctionLike, at: Node): LV {
    return lowerBody(this, decl, at);
  }
  effect(e: Expression): void {
    effect(this, e);
  }
  ifStatement(cond: Value, at: Node, thenStmts: readonly Item[], elseStmts: readonly Item[], assigned: readonly Var[], returns: boolean): LV[] {
    return ifStatement(this, cond, at, thenStmts, elseStmts, assigned, returns);
  }
  expr(e: Expression | Node): LV {
    return expr(this, e);
  }
  condition(e: Expression): Condition {
    return condition(this, e);
  }
  arith(op: string, x: LV, y: LV, at: Node): LV {
    return arith(this, op, x, y, at);
  }
  member(obj: LV, key: string, at: Node): LV {
    return member(this, obj, key, at);
  }
  index(obj: LV, i: number, at: Node): LV {
    return index(obj, i, at);
  }
  callLV(callee: LV, args: readonly LV[], e: CallExpression): LV {
    return callLV(this, callee, args, e);
  }
  inlineValues(decl: FunctionLike, values: readonly LV[], at: CallExpression, closure: Scope | undefined): LV {
    return inlineValues(this, decl, values, at, closure);
  }
}
