// TypeScript AST → IR for one differentiable function. Expressions become values; `let`
// reassignment becomes SSA rebinding; calls to functions of the program are inlined; constant
// loops are unrolled; conditionals whose condition is known at compile time are resolved here,
// the others become `if` nodes.

import { type CallExpression, type Expression, type Identifier, Node, type SourceFile, type Statement, SyntaxKind, ts } from "ts-morph";
import { IRBuilder } from "../ir/builder.js";
import type { Dim, Func, Loc, Value } from "../ir/types.js";
import { ShapeError, opTypes } from "../ops/index.js";
import { LowerError, MAX_ERRORS, Poisoned } from "./errors.js";
import { type Layout, layoutOf } from "./layout.js";
import {
  type FunctionLike,
  type LV,
  Scope,
  type Var,
  assignedOuter,
  containsReturn,
  describeKind,
  describeType,
  foldMath,
  isFunctionLike,
  nameOf,
  nameValue,
  nodeText,
  ownerText,
  shapeDiagnostic,
  structureKey,
  valueParameters,
} from "./lower-support.js";
import { lineAndColumn } from "./position.js";
import { MATH_CONSTANTS, MATH_FUNCTIONS } from "./opcalls.js";
import { gradcNamespaceMember, gradcOp } from "./gradc-names.js";
import { requireNumbers } from "./operands.js";
import { indexError, memberError } from "./members.js";
import { compileTimeIndexProblem } from "./index-bounds.js";
import { type CountedLoop, countedLoop } from "./loop-bounds.js";
import { callTransform, isTransformLV, transformOptions } from "./nested.js";
import type { ParamSpec, Tree } from "../ir/signature.js";
import { splitAux } from "./aux.js";

export { type FunctionLike, type LV, describeKind, isFunctionLike } from "./lower-support.js";

const POISON: LV = { k: "poison" };


/**
 * A statement still to lower, or the end of a block whose statements were spliced into the
 * list (the statements after it see the enclosing scope again).
 */
type Item = Statement | { readonly exitTo: Scope };

const MAX_UNROLL = 100_000;
/**
 * Most operations a lowered function may have. Inlining doubles code for every helper that
 * calls the previous one twice, and nested short loops unroll multiplicatively; past this the
 * function is refused rather than compiled for minutes into gigabytes. Straight-line code of
 * 10⁵ statements stays well below it.
 */
export const MAX_OPS = 500_000;
/** Constant loops of at most this many trips are unrolled; longer ones stay loops. */
const UNROLL_LIMIT = 16;

export interface Lowered {
  /** Results: the loss, then (with hasAux) the auxiliary leaves. */
  readonly fn: Func;
  readonly params: readonly ParamSpec[];
  readonly dims: readonly string[];
  /** With hasAux: the auxiliary value's structure (leaf i is result i + 1). */
  readonly aux?: Tree;
}

export interface LowerContext {
  /** Path written into locations (relative to the project). */
  fileName(sf: SourceFile): string;
  /** `jvp` targets may return a tensor; `grad` targets return a scalar loss. */
  readonly tensorResult?: boolean;
  /** The function returns `[loss, aux]` (see aux.ts). */
  readonly hasAux?: boolean;
}

/**
 * Lowers `decl` as a compile target. With `wrap` (the `grad(f)` of `grad(grad(f))`), the
 * target is that transformed function applied to `decl`'s parameters.
 */
export function lowerFunction(decl: FunctionLike, name: string, ctx: LowerContext, wrap?: CallExpression): Lowered {
  return new Lowerer(ctx).lowerTop(decl, name, wrap);
}


class Lowerer {
  readonly b = new IRBuilder(opTypes);
  private store = new Map<Var, LV>();
  private scope = new Scope(undefined);
  private readonly inlining: FunctionLike[] = [];
  /** The calls being inlined, outermost first (the top function's own call is reported). */
  private readonly inlineSites: Node[] = [];
  private loopDepth = 0;
  /** Errors found so far; lowering goes on after each (see recover). */
  private readonly errors: LowerError[] = [];
  private readonly errorKeys = new Set<string>();
  /** Trip counts of the counters of the constant loops being lowered (for index checks). */
  private readonly counters = new Map<Value, number>();
  /** Counters of loops running exactly a symbolic dimension's trips, body unguarded. */
  private readonly symbolicCounters = new Map<Value, string>();
  /** The differentiated function's name, for messages about its body. */
  private topName = "the function";

  constructor(private readonly ctx: LowerContext) {}

  // ---- entry ------------------------------------------------------------------------------

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
      const [lv, tree] = this.bindLayout(layout, nameNode.getText(), leaves);
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

  private bindLayout(layout: Layout, path: string, leaves: Value[]): [LV, Tree] {
    if (layout.kind === "leaf") {
      const v = this.b.param(layout.type, path);
      leaves.push(v);
      return [{ k: "val", v }, { kind: "leaf", index: leaves.length - 1, type: layout.type }];
    }
    if (layout.kind === "array") {
      const pairs = layout.items.map((l, i) => this.bindLayout(l, `${path}_${i}`, leaves));
      return [{ k: "arr", items: pairs.map((p) => p[0]) }, { kind: "array", items: pairs.map((p) => p[1]) }];
    }
    const pairs = layout.fields.map((f) => [f.key, this.bindLayout(f.layout, `${path}_${f.key}`, leaves)] as const);
    return [
      { k: "obj", fields: new Map(pairs.map(([k, p]) => [k, p[0]])) },
      { kind: "object", fields: pairs.map(([key, p]) => ({ key, tree: p[1] })) },
    ];
  }

  // ---- helpers ------------------------------------------------------------------------------

  loc(node: Node): Loc {
    const sf = node.getSourceFile();
    const { line, column } = lineAndColumn(sf, node.getStart());
    return { file: this.ctx.fileName(sf), line, col: column };
  }

  /** Builds an op, turning shape errors into diagnostics at `at`. */
  private op(name: string, args: readonly Value[], at: Node, attrs: Record<string, import("../ir/types.js").AttrValue> = {}): Value {
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

  private constant(n: number): Value {
    return this.b.op("const", [], { value: n });
  }

  asValue(lv: LV, at: Node): Value {
    switch (lv.k) {
      case "val":
        return lv.v;
      case "num":
        return this.constant(lv.n);
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

  /** Runs `fill` with a copy of the variable store, so branch-local writes stay local. */
  private withStore<T>(fill: () => T): { result: T; store: Map<Var, LV> } {
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

  private pushScope<T>(fill: () => T): T {
    const saved = this.scope;
    this.scope = new Scope(saved);
    try {
      return fill();
    } finally {
      this.scope = saved;
    }
  }

  // ---- functions and statements -----------------------------------------------------------------

  /** Lowers a function body; returns the returned value. */
  private lowerBody(decl: FunctionLike, at: Node): LV {
    const body = decl.getBody();
    if (!body) throw new LowerError("GRADC1012", at, [nameOf(decl)]);
    if (!Node.isBlock(body)) return this.expr(body as Expression);
    const before = this.errors.length;
    const ret = this.pushScope(() => this.statements(this.hoist(body.getStatements()), 0));
    // A failed statement may have been the return: that error is the one to report.
    if (ret === undefined && this.errors.length > before) return POISON;
    if (ret === undefined) throw new LowerError("GRADC1012", decl, [nameOf(decl)]);
    return ret;
  }

  /**
   * Declares a block's function declarations in the current scope, as JS hoists them: local
   * helpers are inlined at their calls and see the variables of the scope they are declared in.
   */
  private hoist(stmts: readonly Statement[]): readonly Statement[] {
    for (const s of stmts) {
      const name = Node.isFunctionDeclaration(s) ? s.getName() : undefined;
      if (name === undefined || !Node.isFunctionDeclaration(s)) continue;
      const v: Var = { name, isParam: false, mutable: false };
      this.scope.declare(v);
      this.store.set(v, { k: "fn", decl: s, scope: this.scope });
    }
    return stmts;
  }

  /** Refuses a function that inlining and unrolling have grown past MAX_OPS operations. */
  private grow(at: Node): void {
    if (this.b.size > MAX_OPS) throw new LowerError("GRADC1023", this.inlineSites[0] ?? at, [this.topName, MAX_OPS]);
  }

  /** Lowers statements from index i; returns the return value if every path returned. */
  private statements(stmts: readonly Item[], i: number): LV | undefined {
    for (; i < stmts.length; i++) {
      const s = stmts[i]!;
      if ("exitTo" in s) {
        this.scope = new Scope(s.exitTo);
        continue;
      }
      let done: { ret: LV | undefined } | undefined;
      try {
        done = this.statementAt(stmts, i, s);
      } catch (e) {
        this.recover(e, s);
        // The rest of the function was this statement's to lower (an early return).
        if (Node.isReturnStatement(s) || containsReturn(s)) return POISON;
        continue;
      }
      if (done) return done.ret;
    }
    return undefined;
  }

  /** Lowers `s`, the i-th of `stmts`; returns `{ ret }` when it lowered the rest as well. */
  private statementAt(stmts: readonly Item[], i: number, s: Statement): { ret: LV | undefined } | undefined {
    this.grow(s);
    this.b.loc = this.loc(s);
    if (Node.isBlock(s) && containsReturn(s)) {
      // A block that may return: its statements and those after it are lowered as one list,
      // so that an early return inside it takes all the rest as its other branch.
      const outer = this.scope;
      this.scope = new Scope(outer);
      return { ret: this.statements([...this.hoist(s.getStatements()), { exitTo: outer }, ...stmts.slice(i + 1)], 0) };
    }
    if (Node.isReturnStatement(s)) {
      if (this.loopDepth > 0) throw new LowerError("GRADC1018", s, []);
      const e = s.getExpression();
      if (!e) throw new LowerError("GRADC1005", s, ["nothing"]);
      return { ret: this.expr(e) };
    }
    if (Node.isIfStatement(s)) {
      const cond = this.condition(s.getExpression());
      const then = s.getThenStatement();
      const otherwise = s.getElseStatement();
      const rest = stmts.slice(i + 1);
      if (cond.k === "bool") {
        const taken = cond.b ? then : otherwise;
        return { ret: this.statements([...(taken ? [taken] : []), ...rest], 0) };
      }
      if (containsReturn(s)) {
        // Early return: the rest of the function belongs to both branches.
        const [r] = this.ifStatement(cond.v, s, [then, ...rest], otherwise ? [otherwise, ...rest] : rest, [], true);
        return { ret: r };
      }
      this.ifStatement(cond.v, s, [then], otherwise ? [otherwise] : [], assignedOuter(s, this.scope), false);
      return undefined;
    }
    this.statement(s);
    return undefined;
  }

  /**
   * After statement `s` failed: records the error (a function is reported whole, as tsc does)
   * and marks the variables `s` declares as poisoned, so that uses of them later do not report
   * the same mistake again. Errors that make going on unsound or pointless stop lowering: too
   * large a function, too many errors, or a failure that is not the user's.
   */
  private recover(e: unknown, s: Statement): void {
    if (e instanceof LowerError) {
      // Already the whole report (the cap was reached, or a fatal error below): pass it on.
      if (e.all.length > 1) throw e;
      if (e.code === "GRADC1023" || e.code === "GRADC1021") throw this.errors.length > 0 ? LowerError.of([...this.errors, e]) : e;
      const key = `${e.node.getSourceFile().getFilePath()}:${e.node.getStart()}:${e.code}:${e.args.join("\u0000")}`;
      if (!this.errorKeys.has(key)) {
        this.errorKeys.add(key);
        this.errors.push(e);
      }
      if (this.errors.length >= MAX_ERRORS) throw LowerError.of(this.errors);
    } else if (!(e instanceof Poisoned)) {
      // Not a user error: after recovering from one, report what was found; else it is a bug.
      if (this.errors.length > 0) throw LowerError.of(this.errors);
      throw e;
    }
    // Variables it declares hold nothing usable; variables it assigns keep their earlier
    // value, so that later statements are still checked (errors are reported, no code emitted).
    if (Node.isVariableStatement(s))
      for (const d of s.getDeclarations()) this.poisonNames(d.getNameNode(), s.getDeclarationKind() !== "const");
  }

  private poisonNames(name: Node, mutable: boolean): void {
    if (Node.isIdentifier(name)) {
      const v: Var = { name: name.getText(), isParam: false, mutable };
      this.scope.declare(v);
      this.store.set(v, POISON);
    } else if (Node.isObjectBindingPattern(name) || Node.isArrayBindingPattern(name)) {
      for (const el of name.getElements()) if (Node.isBindingElement(el)) this.poisonNames(el.getNameNode(), mutable);
    }
  }

  private statement(s: Statement): void {
    switch (s.getKind()) {
      case SyntaxKind.VariableStatement: {
        const vs = s.asKindOrThrow(SyntaxKind.VariableStatement);
        const mutable = vs.getDeclarationKind() !== "const";
        for (const d of vs.getDeclarations()) {
          const init = d.getInitializer();
          if (!init) {
            if (!mutable) throw new LowerError("GRADC1011", d, [d.getName()]);
            this.bindName(d.getNameNode(), { k: "undefined" }, true);
            continue;
          }
          this.bindName(d.getNameNode(), this.expr(init), mutable);
        }
        return;
      }
      case SyntaxKind.ExpressionStatement:
        this.effect(s.asKindOrThrow(SyntaxKind.ExpressionStatement).getExpression());
        return;
      case SyntaxKind.Block:
        this.pushScope(() => {
          const r = this.statements(this.hoist(s.asKindOrThrow(SyntaxKind.Block).getStatements()), 0);
          if (r !== undefined && r.k !== "poison") throw new LowerError("GRADC1018", s, []);
        });
        return;
      case SyntaxKind.EmptyStatement:
        return;
      case SyntaxKind.ForStatement:
        this.forStatement(s.asKindOrThrow(SyntaxKind.ForStatement));
        return;
      case SyntaxKind.WhileStatement:
      case SyntaxKind.DoStatement:
        throw new LowerError("GRADC1002", s, [s.getKind() === SyntaxKind.WhileStatement ? "while" : "do-while"]);
      case SyntaxKind.ForOfStatement:
        this.forOf(s.asKindOrThrow(SyntaxKind.ForOfStatement));
        return;
      case SyntaxKind.ForInStatement:
        throw new LowerError("GRADC1002", s, ["for-in"]);
      case SyntaxKind.BreakStatement:
      case SyntaxKind.ContinueStatement:
        throw new LowerError("GRADC1016", s, [s.getKind() === SyntaxKind.BreakStatement ? "break" : "continue"]);
      case SyntaxKind.FunctionDeclaration:
        // Declared when its block was entered (hoist).
        return;
      default:
        throw new LowerError("GRADC1001", s, [describeKind(s), "Use const/let, if/else, for loops with constant bounds and return."]);
    }
  }

  private ifStatement(
    cond: Value,
    at: Node,
    thenStmts: readonly Item[],
    elseStmts: readonly Item[],
    assigned: readonly Var[],
    returns: boolean,
  ): LV[] {
    const branch = (stmts: readonly Item[]) =>
      this.withStore(() =>
        this.pushScope(() => {
          const r = this.statements(stmts, 0);
          if (returns && r === undefined) throw new LowerError("GRADC1012", at, [this.currentName()]);
          return r;
        }),
      );
    // Each branch yields, flattened, the return value (if any) and the outer variables it may assign.
    const shapes: LV[][] = [];
    const blocks = [thenStmts, elseStmts].map((stmts) =>
      this.b.block(() => {
        const { result, store } = branch(stmts);
        const outs = [...(returns ? [result!] : []), ...assigned.map((v) => store.get(v) ?? { k: "undefined" as const })];
        shapes.push(outs);
        return outs.flatMap((lv) => this.leaves(lv, at));
      }),
    );
    const [a, c] = shapes as [LV[], LV[]];
    a.forEach((lv, i) => {
      if (structureKey(lv) !== structureKey(c[i]!))
        throw new LowerError("GRADC1017", at, [i === 0 && returns ? "The return value" : `'${assigned[i - (returns ? 1 : 0)]!.name}'`]);
    });
    blocks.forEach((blk, k) =>
      blk.results.forEach((r, i) => {
        const other = blocks[1 - k]!.results[i]!;
        if (r.type.dtype !== other.type.dtype || r.type.shape.join() !== other.type.shape.join())
          throw new LowerError("GRADC2005", at, [`the branches give ${describeType(r)} and ${describeType(other)}`]);
      }),
    );
    this.b.loc = this.loc(at);
    const outs = this.b.ifNode(cond, blocks[0]!, blocks[1]!, blocks[0]!.results.map(() => undefined));
    let pos = 0;
    const rebuilt = a.map((lv) => this.rebuild(lv, () => outs[pos++]!));
    assigned.forEach((v, i) => {
      const lv = rebuilt[i + (returns ? 1 : 0)]!;
      this.store.set(v, lv);
      nameValue(lv, v.name);
    });
    return rebuilt;
  }

  /** The IR values inside a structured value, in a fixed order. */
  private leaves(lv: LV, at: Node): Value[] {
    switch (lv.k) {
      case "obj":
        return [...lv.fields.values()].flatMap((f) => this.leaves(f, at));
      case "arr":
        return lv.items.flatMap((f) => this.leaves(f, at));
      case "undefined":
      case "fn":
      case "op":
      case "math":
        return [];
      default:
        return [this.asValue(lv, at)];
    }
  }

  private rebuild(shape: LV, next: () => Value): LV {
    switch (shape.k) {
      case "obj":
        return { k: "obj", fields: new Map([...shape.fields].map(([key, f]) => [key, this.rebuild(f, next)])) };
      case "arr":
        return { k: "arr", items: shape.items.map((f) => this.rebuild(f, next)) };
      case "undefined":
      case "fn":
      case "op":
      case "math":
        return shape;
      default:
        return { k: "val", v: next() };
    }
  }

  private forStatement(s: import("ts-morph").ForStatement): void {
    const init = s.getInitializer();
    const cond = s.getCondition();
    const incr = s.getIncrementor();
    if (!init || !cond || !incr || !Node.isVariableDeclarationList(init))
      throw new LowerError("GRADC1007", s, ["a loop without an initializer, condition and increment"]);
    const counted = countedLoop(s, (e) => this.expr(e), this.b);
    const checkpoint = s.getLeadingCommentRanges().some((c) => c.getText().includes("@gradc checkpoint"));
    // A start computed from a symbolic dimension is not a compile-time number to unroll from.
    if (counted && (typeof counted.trips === "string" || counted.trips > UNROLL_LIMIT || checkpoint || counted.start.k !== "num"))
      return this.rolledFor(s, counted, checkpoint);
    // Short constant loops are unrolled: the counter is a compile-time number in each copy.
    this.pushScope(() => {
      for (const d of init.getDeclarations()) {
        const i0 = d.getInitializer();
        if (!i0) throw new LowerError("GRADC1011", d, [d.getName()]);
        this.bindName(d.getNameNode(), this.expr(i0), true);
      }
      for (let trips = 0; ; trips++) {
        const c = this.condition(cond);
        if (c.k !== "bool") throw new LowerError("GRADC1007", cond, ["a value computed at run time"]);
        if (!c.b) break;
        if (trips >= MAX_UNROLL) throw new LowerError("GRADC1007", cond, [`a loop of more than ${MAX_UNROLL} iterations`]);
        this.grow(s);
        this.loopDepth++;
        try {
          this.loopBody(s.getStatement());
        } finally {
          this.loopDepth--;
        }
        this.effect(incr);
      }
    });
  }

  /**
   * `for (const item of xs)` over a tuple or fixed-length array (a pytree's `layers`, an array
   * literal): its items are known at compile time, so the loop is unrolled, one copy per item.
   */
  private forOf(s: import("ts-morph").ForOfStatement): void {
    const init = s.getInitializer();
    if (s.isAwaited()) throw new LowerError("GRADC1001", s, ["'for await'", "Differentiable functions are synchronous."]);
    if (!Node.isVariableDeclarationList(init) || init.getDeclarations().length !== 1)
      throw new LowerError("GRADC1001", init, ["A for-of loop that assigns an existing variable", "Declare the loop variable: for (const item of items)."]);
    const decl = init.getDeclarations()[0]!;
    const items = this.expr(s.getExpression());
    if (items.k !== "arr") {
      const what = items.k === "val" && items.v.type.shape.length > 0 ? "A for-of loop over a tensor" : "A for-of loop over something other than an array";
      throw new LowerError("GRADC1001", s.getExpression(), [what, "Loop over the indices instead: for (let i = 0; i < x.shape[0]; i++), reading at(x, i)."]);
    }
    const mutable = init.getDeclarationKind() !== "const";
    for (const item of items.items) {
      this.grow(s);
      this.pushScope(() => {
        this.bindName(decl.getNameNode(), item, mutable);
        this.loopDepth++;
        try {
          this.loopBody(s.getStatement());
        } finally {
          this.loopDepth--;
        }
      });
    }
  }

  /** A loop's body statement, in a scope of its own (a return in it is reported there). */
  private loopBody(body: Statement): void {
    this.pushScope(() => this.statements([body], 0));
  }

  /**
   * A loop that stays a loop: outer variables the body assigns become carries. With
   * `// @gradc checkpoint` a constant loop is split into √n segments of √n trips, so the
   * backward pass stores only segment boundaries and recomputes inside each segment.
   */
  private rolledFor(s: import("ts-morph").ForStatement, loop: CountedLoop, checkpoint: boolean): void {
    const carries = assignedOuter(s.getStatement(), this.scope);
    const body = (k: LV): void =>
      this.pushScope(() => {
        const index = this.arith("+", loop.start, this.arith("*", k, { k: "num", n: loop.step }, s), s);
        this.scope.declare({ name: loop.name, isParam: false, mutable: false });
        this.store.set(this.scope.lookup(loop.name)!, index);
        if (!loop.guarded) return this.loopBody(s.getStatement());
        // Fewer trips than the dimension: the loop's own condition decides each trip.
        const c = this.condition(s.getConditionOrThrow());
        if (c.k === "bool") return c.b ? this.loopBody(s.getStatement()) : undefined;
        this.ifStatement(c.v, s, [s.getStatement()], [], assignedOuter(s.getStatement(), this.scope), false);
      });
    const T = loop.trips;
    if (checkpoint && typeof T === "number" && T > 1) {
      const K = Math.ceil(Math.sqrt(T));
      const S = Math.floor(T / K);
      const offset = (base: number, k: LV): LV => this.arith("+", { k: "num", n: base }, k, s);
      this.rolledLoop(carries, S, s, (ko) =>
        this.rolledLoop(carries, K, s, (ki) => body(this.arith("+", this.arith("*", ko, { k: "num", n: K }, s), ki, s))),
      );
      if (T - S * K > 0) this.rolledLoop(carries, T - S * K, s, (kr) => body(offset(S * K, kr)));
      return;
    }
    this.rolledLoop(carries, T, s, body, !loop.guarded);
  }

  /** Builds a `loop` node over `carries`, lowering the body with the trip counter `k`. */
  private rolledLoop(carries: readonly Var[], trips: Dim, at: Node, lowerBody: (k: LV) => void, everyTrip = true): void {
    const shapes = carries.map((v) => this.store.get(v) ?? { k: "undefined" as const });
    const inits = shapes.flatMap((lv) => this.leaves(lv, at));
    // Carries are named after the variables they hold.
    const names = carries.flatMap((v, i) => {
      const n = this.leaves(shapes[i]!, at).length;
      return Array.from({ length: n }, (_x, j) => (n === 1 ? v.name : `${v.name}_${j}`));
    });
    const k = this.b.param({ dtype: "f64", shape: [] }, "k");
    if (typeof trips === "number") this.counters.set(k, trips);
    else if (everyTrip) this.symbolicCounters.set(k, trips);
    const params = inits.map((v, j) => this.b.param(v.type, names[j]));
    let yields: LV[] = [];
    const block = this.b.block(
      () =>
        this.withStore(() => {
          let pos = 0;
          carries.forEach((v, i) => this.store.set(v, this.rebuild(shapes[i]!, () => params[pos++]!)));
          this.loopDepth++;
          try {
            lowerBody({ k: "val", v: k });
          } finally {
            this.loopDepth--;
          }
          yields = carries.map((v) => this.store.get(v) ?? { k: "undefined" as const });
          return yields.flatMap((lv) => this.leaves(lv, at));
        }).result,
      [k, ...params],
    );
    yields.forEach((lv, i) => {
      if (structureKey(lv) !== structureKey(shapes[i]!)) throw new LowerError("GRADC1017", at, [carries[i]!.name]);
    });
    block.results.forEach((r, i) => {
      const p = params[i]!;
      if (r.type.dtype !== p.type.dtype || r.type.shape.join() !== p.type.shape.join())
        throw new LowerError("GRADC2005", at, [`a loop variable starts as ${describeType(p)} and becomes ${describeType(r)}`]);
    });
    this.b.loc = this.loc(at);
    const outs = this.b.loopNode(inits, block, { trips }, [], names);
    let pos = 0;
    carries.forEach((v, i) => {
      const lv = this.rebuild(shapes[i]!, () => outs[pos++]!);
      this.store.set(v, lv);
      nameValue(lv, v.name);
    });
  }

  private bindName(name: Node, lv: LV, mutable: boolean): void {
    if (Node.isIdentifier(name)) {
      const v: Var = { name: name.getText(), isParam: false, mutable };
      this.scope.declare(v);
      this.store.set(v, lv);
      nameValue(lv, v.name);
      return;
    }
    if (Node.isObjectBindingPattern(name)) {
      for (const el of name.getElements()) {
        if (el.getDotDotDotToken() || el.getInitializer())
          throw new LowerError("GRADC1001", el, ["Rest elements and defaults in destructuring", "Destructure the fields one by one."]);
        const key = el.getPropertyNameNode()?.getText() ?? el.getName();
        this.bindName(el.getNameNode(), this.member(lv, key.replace(/^["']|["']$/g, ""), el), mutable);
      }
      return;
    }
    if (Node.isArrayBindingPattern(name)) {
      name.getElements().forEach((el, i) => {
        if (Node.isOmittedExpression(el)) return;
        if (el.getDotDotDotToken() || el.getInitializer())
          throw new LowerError("GRADC1001", el, ["Rest elements and defaults in destructuring", "Destructure the elements one by one."]);
        this.bindName(el.getNameNode(), this.index(lv, i, el), mutable);
      });
      return;
    }
    throw new LowerError("GRADC1001", name, [describeKind(name), "Bind a name, or destructure an object or array."]);
  }

  /** Expressions evaluated for their effect: assignments and increments. */
  private effect(e: Expression): void {
    if (Node.isBinaryExpression(e)) {
      const opKind = e.getOperatorToken().getKind();
      const compound: Partial<Record<SyntaxKind, string>> = {
        [SyntaxKind.PlusEqualsToken]: "+",
        [SyntaxKind.MinusEqualsToken]: "-",
        [SyntaxKind.AsteriskEqualsToken]: "*",
        [SyntaxKind.SlashEqualsToken]: "/",
        [SyntaxKind.AsteriskAsteriskEqualsToken]: "**",
      };
      if (opKind === SyntaxKind.EqualsToken) return this.assign(e.getLeft(), this.expr(e.getRight()));
      const op = compound[opKind];
      if (op) return this.assign(e.getLeft(), this.arith(op, this.expr(e.getLeft()), this.expr(e.getRight()), e));
      if (opKind === SyntaxKind.CommaToken) {
        this.effect(e.getLeft());
        return this.effect(e.getRight());
      }
    }
    if (Node.isPrefixUnaryExpression(e) || Node.isPostfixUnaryExpression(e)) {
      const k = e.getOperatorToken();
      if (k === SyntaxKind.PlusPlusToken || k === SyntaxKind.MinusMinusToken) {
        const target = e.getOperand();
        return this.assign(target, this.arith(k === SyntaxKind.PlusPlusToken ? "+" : "-", this.expr(target), { k: "num", n: 1 }, e));
      }
    }
    if (Node.isCallExpression(e) || Node.isParenthesizedExpression(e)) {
      this.expr(e); // pure, but lowered so errors inside are reported
      return;
    }
    throw new LowerError("GRADC1001", e, ["An expression statement without an assignment", "Assign its value to a variable."]);
  }

  private assign(target: Expression, lv: LV): void {
    if (Node.isParenthesizedExpression(target)) return this.assign(target.getExpression(), lv);
    if (Node.isIdentifier(target)) {
      const v = this.scope.lookup(target.getText());
      if (!v) throw new LowerError("GRADC1011", target, [target.getText()]);
      if (!v.mutable) throw new LowerError("GRADC1001", target, ["Assigning to a const", "Declare it with let."]);
      this.store.set(v, lv);
      nameValue(lv, v.name);
      return;
    }
    if (Node.isPropertyAccessExpression(target) || Node.isElementAccessExpression(target)) {
      let root: Expression = target;
      while (Node.isPropertyAccessExpression(root) || Node.isElementAccessExpression(root)) root = root.getExpression();
      const v = Node.isIdentifier(root) ? this.scope.lookup(root.getText()) : undefined;
      if (v?.isParam) throw new LowerError("GRADC1004", target, [v.name]);
      throw new LowerError("GRADC1001", target, ["Assigning to a property or element", "Build a new object or array instead."]);
    }
    throw new LowerError("GRADC1001", target, ["This assignment target", "Assign to a variable."]);
  }

  // ---- expressions -------------------------------------------------------------------------

  expr(e: Expression | Node): LV {
    switch (e.getKind()) {
      case SyntaxKind.NumericLiteral:
        return { k: "num", n: Number(e.asKindOrThrow(SyntaxKind.NumericLiteral).getLiteralValue()) };
      case SyntaxKind.TrueKeyword:
        return { k: "bool", b: true };
      case SyntaxKind.FalseKeyword:
        return { k: "bool", b: false };
      case SyntaxKind.ParenthesizedExpression:
      case SyntaxKind.AsExpression:
      case SyntaxKind.NonNullExpression:
      case SyntaxKind.TypeAssertionExpression:
      case SyntaxKind.SatisfiesExpression:
        return this.expr((e as unknown as { getExpression(): Expression }).getExpression());
      case SyntaxKind.Identifier:
        return this.identifier(e as Identifier);
      case SyntaxKind.PrefixUnaryExpression:
        return this.prefix(e.asKindOrThrow(SyntaxKind.PrefixUnaryExpression));
      case SyntaxKind.BinaryExpression:
        return this.binary(e.asKindOrThrow(SyntaxKind.BinaryExpression));
      case SyntaxKind.ConditionalExpression:
        return this.conditional(e.asKindOrThrow(SyntaxKind.ConditionalExpression));
      case SyntaxKind.CallExpression:
        return this.call(e.asKindOrThrow(SyntaxKind.CallExpression));
      case SyntaxKind.PropertyAccessExpression: {
        const pa = e.asKindOrThrow(SyntaxKind.PropertyAccessExpression);
        const fromGradc = gradcNamespaceMember(pa);
        if (fromGradc) return fromGradc;
        return this.member(this.expr(pa.getExpression()), pa.getName(), pa);
      }
      case SyntaxKind.ElementAccessExpression: {
        const ea = e.asKindOrThrow(SyntaxKind.ElementAccessExpression);
        const obj = this.expr(ea.getExpression());
        const arg = ea.getArgumentExpressionOrThrow();
        if (Node.isStringLiteral(arg) || Node.isNoSubstitutionTemplateLiteral(arg)) return this.member(obj, arg.getLiteralValue(), ea);
        const idx = this.expr(arg);
        if (idx.k !== "num") throw new LowerError("GRADC1014", ea, [ea.getExpression().getText()]);
        return this.index(obj, idx.n, ea);
      }
      case SyntaxKind.ArrayLiteralExpression:
        return {
          k: "arr",
          items: e.asKindOrThrow(SyntaxKind.ArrayLiteralExpression).getElements().map((el) => {
            if (Node.isSpreadElement(el)) throw new LowerError("GRADC1001", el, ["Spread", "List the elements."]);
            return this.expr(el);
          }),
        };
      case SyntaxKind.ObjectLiteralExpression: {
        const fields = new Map<string, LV>();
        for (const p of e.asKindOrThrow(SyntaxKind.ObjectLiteralExpression).getProperties()) {
          if (Node.isPropertyAssignment(p)) fields.set(p.getName().replace(/^["']|["']$/g, ""), this.expr(p.getInitializerOrThrow()));
          else if (Node.isShorthandPropertyAssignment(p)) fields.set(p.getName(), this.identifier(p.getNameNode()));
          else throw new LowerError("GRADC1001", p, [describeKind(p), "Write each property as key: value."]);
        }
        return { k: "obj", fields };
      }
      case SyntaxKind.ArrowFunction:
      case SyntaxKind.FunctionExpression:
        // A closure: its body sees the variables in scope here, with their values at the call.
        return { k: "fn", decl: e as FunctionLike, scope: this.scope };
      default:
        throw new LowerError("GRADC1001", e, [describeKind(e), "Use arithmetic, Math functions, gradc ops and calls to functions of this program."]);
    }
  }

  private identifier(id: Identifier): LV {
    const name = id.getText();
    const v = this.scope.lookup(name);
    if (v) {
      const lv = this.store.get(v);
      if (!lv || lv.k === "undefined") throw new LowerError("GRADC1011", id, [name]);
      if (lv.k === "poison") throw new Poisoned();
      return lv;
    }
    if (name === "Math") return { k: "math" };
    if (name === "undefined") return { k: "undefined" };
    if (name === "NaN") return { k: "num", n: NaN };
    if (name === "Infinity") return { k: "num", n: Infinity };
    return this.resolveGlobal(id);
  }

  /** A name not bound locally: a function of the program, a gradc op, or a module constant. */
  private resolveGlobal(id: Identifier): LV {
    let sym = id.getSymbol();
    const imported = sym?.getDeclarations().find((d) => Node.isImportSpecifier(d));
    if (imported && Node.isImportSpecifier(imported)) {
      const module = imported.getImportDeclaration().getModuleSpecifierValue();
      if (module === "gradc") return gradcOp(imported.getName(), id);
    }
    if (sym?.isAlias()) sym = sym.getAliasedSymbol() ?? sym;
    const decl = sym?.getDeclarations()[0];
    if (decl === undefined) throw new LowerError("GRADC1011", id, [id.getText()]);
    if (isFunctionLike(decl)) return { k: "fn", decl };
    if (Node.isVariableDeclaration(decl)) {
      const init = decl.getInitializer();
      if (isFunctionLike(init)) return { k: "fn", decl: init };
    }
    // A parameter or local variable of a function that is not in scope here (e.g. read by a
    // function declared at module level, or before its declaration).
    if (Node.isParameterDeclaration(decl) || decl.getFirstAncestor((a) => isFunctionLike(a)) !== undefined)
      throw new LowerError("GRADC1011", id, [id.getText()]);
    if (Node.isVariableDeclaration(decl)) {
      const init = decl.getInitializer();
      if (init && decl.getVariableStatement()?.getDeclarationKind() === "const" && !decl.getSourceFile().isDeclarationFile()) {
        // Module-level constants are evaluated where they are declared, in a scope of their own.
        const saved = this.scope;
        this.scope = new Scope(undefined);
        try {
          return this.expr(init);
        } finally {
          this.scope = saved;
        }
      }
    }
    throw new LowerError("GRADC1003", id, [id.getText()]);
  }

  member(obj: LV, key: string, at: Node): LV {
    if (obj.k === "obj") {
      const f = obj.fields.get(key);
      if (f === undefined || !obj.fields.has(key)) throw memberError(obj, key, ownerText(at), at);
      return f;
    }
    if (obj.k === "math") {
      if (Object.hasOwn(MATH_CONSTANTS, key)) return { k: "num", n: MATH_CONSTANTS[key]! };
      const call = Object.hasOwn(MATH_FUNCTIONS, key) ? MATH_FUNCTIONS[key] : undefined;
      if (!call) throw new LowerError("GRADC1015", at, [key]);
      return { k: "op", call, name: `Math.${key}` };
    }
    if (obj.k === "arr" && key === "length") return { k: "num", n: obj.items.length };
    if (obj.k === "val" && key === "shape" && obj.v.type.shape.length > 0)
      return { k: "arr", items: obj.v.type.shape.map((d) => (typeof d === "number" ? { k: "num", n: d } : { k: "val", v: this.b.op("dim", [], { name: d }) })) };
    throw memberError(obj, key, ownerText(at), at);
  }

  index(obj: LV, i: number, at: Node): LV {
    if (obj.k === "arr") {
      const item = Number.isInteger(i) ? obj.items[i] : undefined;
      if (item === undefined) throw indexError(obj, i, ownerText(at), at);
      return item;
    }
    throw indexError(obj, i, ownerText(at), at);
  }

  private prefix(e: import("ts-morph").PrefixUnaryExpression): LV {
    const x = this.expr(e.getOperand());
    switch (e.getOperatorToken()) {
      case SyntaxKind.MinusToken:
        if (x.k === "num") return { k: "num", n: -x.n };
        requireNumbers("unary -", [x], e);
        return { k: "val", v: this.op("neg", [this.asValue(x, e)], e) };
      case SyntaxKind.PlusToken:
        requireNumbers("unary +", [x], e);
        return x;
      case SyntaxKind.ExclamationToken:
        if (x.k === "bool") return { k: "bool", b: !x.b };
        return { k: "val", v: this.op("not", [this.boolValue(x, e)], e) };
      default:
        throw new LowerError("GRADC1013", e, [ts.tokenToString(e.getOperatorToken()) ?? "?", "Use + - * / ** and Math functions."]);
    }
  }

  private boolValue(x: LV, at: Node): Value {
    const v = this.asValue(x, at);
    if (v.type.dtype !== "bool") throw new LowerError("GRADC2005", at, ["a condition must be a comparison or a boolean"]);
    return v;
  }

  /** Arithmetic on lowered values, folding compile-time numbers. */
  arith(op: string, x: LV, y: LV, at: Node): LV {
    const JS: Record<string, [string, (a: number, b: number) => number]> = {
      "+": ["add", (a, b) => a + b],
      "-": ["sub", (a, b) => a - b],
      "*": ["mul", (a, b) => a * b],
      "/": ["div", (a, b) => a / b],
      "**": ["pow", (a, b) => a ** b],
    };
    const [name, fold] = JS[op]!;
    if (x.k === "num" && y.k === "num") return { k: "num", n: fold(x.n, y.n) };
    requireNumbers(op, [x, y], at);
    return { k: "val", v: this.op(name, [this.asValue(x, at), this.asValue(y, at)], at) };
  }

  private binary(e: import("ts-morph").BinaryExpression): LV {
    const tok = e.getOperatorToken().getKind();
    const arith: Partial<Record<SyntaxKind, string>> = {
      [SyntaxKind.PlusToken]: "+",
      [SyntaxKind.MinusToken]: "-",
      [SyntaxKind.AsteriskToken]: "*",
      [SyntaxKind.SlashToken]: "/",
      [SyntaxKind.AsteriskAsteriskToken]: "**",
    };
    if (arith[tok]) return this.arith(arith[tok]!, this.expr(e.getLeft()), this.expr(e.getRight()), e);
    const compare: Partial<Record<SyntaxKind, [string, (a: number, b: number) => boolean]>> = {
      [SyntaxKind.LessThanToken]: ["lt", (a, b) => a < b],
      [SyntaxKind.LessThanEqualsToken]: ["le", (a, b) => a <= b],
      [SyntaxKind.GreaterThanToken]: ["gt", (a, b) => a > b],
      [SyntaxKind.GreaterThanEqualsToken]: ["ge", (a, b) => a >= b],
      [SyntaxKind.EqualsEqualsEqualsToken]: ["eq", (a, b) => a === b],
      [SyntaxKind.EqualsEqualsToken]: ["eq", (a, b) => a === b],
      [SyntaxKind.ExclamationEqualsEqualsToken]: ["ne", (a, b) => a !== b],
      [SyntaxKind.ExclamationEqualsToken]: ["ne", (a, b) => a !== b],
    };
    const cmp = compare[tok];
    if (cmp) {
      const x = this.expr(e.getLeft());
      const y = this.expr(e.getRight());
      if (x.k === "num" && y.k === "num") return { k: "bool", b: cmp[1](x.n, y.n) };
      requireNumbers(e.getOperatorToken().getText(), [x, y], e);
      const v = this.op(cmp[0], [this.asValue(x, e), this.asValue(y, e)], e);
      if (v.type.shape.length !== 0)
        throw new LowerError("GRADC2005", e, ["comparisons of tensors are not conditions; use maximum/minimum/relu for elementwise choices"]);
      return { k: "val", v };
    }
    if (tok === SyntaxKind.AmpersandAmpersandToken || tok === SyntaxKind.BarBarToken) {
      const and = tok === SyntaxKind.AmpersandAmpersandToken;
      const x = this.condition(e.getLeft());
      if (x.k === "bool") return x.b === and ? this.condition(e.getRight()) : x;
      const y = this.condition(e.getRight());
      if (y.k === "bool") return y.b === and ? x : y;
      return { k: "val", v: this.op(and ? "and" : "or", [x.v, y.v], e) };
    }
    throw new LowerError("GRADC1013", e, [e.getOperatorToken().getText(), "Use + - * / ** and comparisons."]);
  }

  /** A condition: a compile-time boolean or a boolean scalar value. */
  condition(e: Expression): { k: "bool"; b: boolean } | { k: "val"; v: Value } {
    const c = this.expr(e);
    if (c.k === "bool") return c;
    if (c.k === "val" && c.v.type.dtype === "bool" && c.v.type.shape.length === 0) return c;
    throw new LowerError("GRADC2005", e, ["a condition must be a comparison or a boolean"]);
  }

  private conditional(e: import("ts-morph").ConditionalExpression): LV {
    const c = this.condition(e.getCondition());
    if (c.k === "bool") return this.expr(c.b ? e.getWhenTrue() : e.getWhenFalse());
    const shapes: LV[] = [];
    const blocks = [e.getWhenTrue(), e.getWhenFalse()].map((branch) =>
      this.b.block(() => {
        const lv = this.expr(branch);
        shapes.push(lv);
        return this.leaves(lv, branch);
      }),
    );
    if (structureKey(shapes[0]!) !== structureKey(shapes[1]!))
      throw new LowerError("GRADC1017", e, ["This conditional expression"]);
    const [t, f] = blocks as [typeof blocks[0], typeof blocks[0]];
    t.results.forEach((r, i) => {
      const o = f.results[i]!;
      if (r.type.dtype !== o.type.dtype || r.type.shape.join() !== o.type.shape.join())
        throw new LowerError("GRADC2005", e, [`the branches give ${describeType(r)} and ${describeType(o)}`]);
    });
    this.b.loc = this.loc(e);
    const outs = this.b.ifNode(c.v, t, f);
    let pos = 0;
    return this.rebuild(shapes[0]!, () => outs[pos++]!);
  }

  private call(e: CallExpression): LV {
    const callee = this.expr(e.getExpression());
    const args = e.getArguments();
    if (isTransformLV(callee))
      return callTransform(this, callee, args.map((a, i) => (Node.isSpreadElement(a) ? this.fail(a) : callee.k === "transform" && i === 1 ? transformOptions(a, (x) => this.expr(x)) : this.expr(a))), e);
    if (callee.k === "op") {
      // String literals are read by ops that take them (the dtype of zeros and ones).
      const lowered = args.map((a): LV =>
        Node.isSpreadElement(a) ? this.fail(a) : Node.isStringLiteral(a) ? { k: "str", s: a.getLiteralValue() } : this.expr(a),
      );
      return this.callOp(callee, lowered, e);
    }
    if (callee.k === "fn") return this.inline(callee.decl, args, e, callee.scope);
    throw new LowerError("GRADC1003", e.getExpression(), [e.getExpression().getText()]);
  }

  /** Calls a lowered callee on lowered arguments (what nested transformations apply). */
  callLV(callee: LV, args: readonly LV[], e: CallExpression): LV {
    if (isTransformLV(callee)) return callTransform(this, callee, args, e);
    if (callee.k === "op") return this.callOp(callee, args, e);
    if (callee.k === "fn") return this.inlineValues(callee.decl, args, e, callee.scope);
    throw new LowerError("GRADC1032", e, ["a transformation", "its first argument must be a function of this program"]);
  }

  private callOp(callee: LV & { k: "op" }, lowered: readonly LV[], e: CallExpression): LV {
    {
      if (callee.call.numbersOnly) requireNumbers(callee.name, lowered, e);
      if (lowered.length < callee.call.minArgs || lowered.length > callee.call.maxArgs)
        throw new LowerError("GRADC1019", e, [callee.name, callee.call.minArgs === callee.call.maxArgs ? callee.call.minArgs : `${callee.call.minArgs}-${callee.call.maxArgs}`, lowered.length]);
      const saved = this.b.loc;
      this.b.loc = this.loc(e);
      try {
        return callee.call.lower(
          {
            b: this.b,
            value: (lv) => this.asValue(lv, e),
            fold: (name, xs) => (xs.every((x) => x.k === "num") ? foldMath(name, xs.map((x) => (x as { n: number }).n)) : undefined),
            fail: (message) => new LowerError("GRADC2005", e, [message]),
            failIndex: (message) => new LowerError("GRADC2006", e, [message]),
            indexProblem: (i, n) => compileTimeIndexProblem(this.b, i, n, this.counters, this.symbolicCounters),
          },
          lowered,
        );
      } catch (err) {
        if (err instanceof ShapeError) throw shapeDiagnostic(err, e);
        throw err;
      } finally {
        this.b.loc = saved;
      }
    }
  }

  private fail(n: Node): never {
    throw new LowerError("GRADC1001", n, [Node.isSpreadElement(n) ? "A spread argument" : describeKind(n), "List the arguments one by one."]);
  }

  /**
   * Inlines a call to a function of the program: its body is lowered with arguments bound, in
   * the scope the function was defined in (module level unless it is a closure).
   */
  private inline(decl: FunctionLike, args: readonly Node[], at: CallExpression, closure: Scope | undefined): LV {
    if (this.inlining.includes(decl)) throw new LowerError("GRADC1010", at, [nameOf(decl)]);
    this.grow(at);
    // A declaration without a body (`declare function`, an overload) has nothing to inline.
    if (decl.getSourceFile().isDeclarationFile() || decl.getBody() === undefined)
      throw new LowerError("GRADC1003", at.getExpression(), [at.getExpression().getText()]);
    return this.inlineValues(decl, args.map((a) => this.expr(a as Expression)), at, closure);
  }

  /** Inlines a call whose arguments are already lowered. */
  inlineValues(decl: FunctionLike, values: readonly LV[], at: CallExpression, closure: Scope | undefined): LV {
    if (this.inlining.includes(decl)) throw new LowerError("GRADC1010", at, [nameOf(decl)]);
    this.grow(at);
    if (decl.getSourceFile().isDeclarationFile() || decl.getBody() === undefined)
      throw new LowerError("GRADC1003", at.getExpression(), [at.getExpression().getText()]);
    const params = valueParameters(decl);
    const savedScope = this.scope;
    const savedDepth = this.loopDepth;
    this.inlining.push(decl);
    this.inlineSites.push(at);
    this.scope = new Scope(closure);
    this.loopDepth = 0;
    try {
      params.forEach((p, i) => {
        const given = values[i];
        const init = p.getInitializer();
        const lv = given ?? (init ? this.expr(init) : undefined);
        if (lv === undefined) throw new LowerError("GRADC1019", at, [nameOf(decl), params.length, values.length]);
        this.bindName(p.getNameNode(), lv, true);
      });
      const result = this.lowerBody(decl, at);
      // The helper's error is reported; its caller sees a poisoned value.
      if (result.k === "poison") throw new Poisoned();
      return result;
    } finally {
      this.scope = savedScope;
      this.loopDepth = savedDepth;
      this.inlining.pop();
      this.inlineSites.pop();
    }
  }

  private currentName(): string {
    return this.inlining.length > 0 ? nameOf(this.inlining[this.inlining.length - 1]!) : this.topName;
  }
}
