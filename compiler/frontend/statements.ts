// Statements → IR. `const`/`let` bind lowered values (SSA rebinding), assignments rebind;
// an `if` whose condition is known at compile time lowers only the branch taken, any other
// becomes an `if` node whose branches yield the outer variables they assign. An early return
// takes the rest of the statement list as its other branch. A failed statement is recorded and
// lowering goes on with the next one (see recover).
//
// Each kind of statement is lowered by the rule registered for it: in STATEMENTS if it needs
// only itself (loops.ts provides `for` and `for…of`), in LIST_STATEMENTS if it may take the
// statements after it along (`return`, `if`, `switch` in switch.ts); a new kind of statement
// is one entry in one of them. Blocks that may return are spliced into the list.

import { type Expression, Node, type Statement, SyntaxKind, ts } from "ts-morph";
import type { DiagnosticCode } from "../diagnostics/messages.js";
import type { Value } from "../ir/types.js";
import { LowerError, MAX_ERRORS, Poisoned } from "./errors.js";
import type { Host, Item } from "./host.js";
import { forOfStatement, forStatement } from "./loops.js";
import { flagsSetBy, guardRest, jumpStatement, labeledStatement } from "./jumps.js";
import { whileStatement } from "./while-loops.js";
import { assignedOuter, containsReturn, describeKind, isAssignmentToken, nameOf } from "./lower-support.js";
import { type Region, assignMerged, branchesDiffer, merge, region } from "./merge.js";
import { ARITHMETIC, operator } from "./operators.js";
import { assign, bindName, hoist, poisonNames } from "./scopes.js";
import { switchOfBreak, switchStatement } from "./switch.js";
import { type FunctionLike, type LV, POISON, Scope, type Var } from "./types.js";

/** Lowers one statement that does not take the statements after it along. */
export type StatementRule = (h: Host, s: Statement) => void;

const refuse = (code: DiagnosticCode, what: string): StatementRule => (_h, s) => {
  throw new LowerError(code, s, [what]);
};

/** The statement kinds a differentiable function may contain, and how each lowers. */
export const STATEMENTS: Partial<Record<SyntaxKind, StatementRule>> = {
  [SyntaxKind.VariableStatement]: (h, s) => {
    const vs = s.asKindOrThrow(SyntaxKind.VariableStatement);
    const mutable = vs.getDeclarationKind() !== "const";
    for (const d of vs.getDeclarations()) {
      const init = d.getInitializer();
      if (!init) {
        if (!mutable) throw new LowerError("GRADC1011", d, [d.getName()]);
        bindName(h, d.getNameNode(), { k: "undefined" }, true);
        continue;
      }
      bindName(h, d.getNameNode(), h.expr(init), mutable);
    }
  },
  [SyntaxKind.ExpressionStatement]: (h, s) => h.effect(s.asKindOrThrow(SyntaxKind.ExpressionStatement).getExpression()),
  [SyntaxKind.Block]: (h, s) =>
    h.pushScope(() => {
      const r = h.statements(hoist(h, s.asKindOrThrow(SyntaxKind.Block).getStatements()), 0);
      if (r !== undefined && r.k !== "poison") throw new LowerError("GRADC1018", s, []);
    }),
  [SyntaxKind.EmptyStatement]: () => undefined,
  // Declared when its block was entered (hoist).
  [SyntaxKind.FunctionDeclaration]: () => undefined,
  [SyntaxKind.ForStatement]: (h, s) => forStatement(h, s.asKindOrThrow(SyntaxKind.ForStatement)),
  [SyntaxKind.ForOfStatement]: (h, s) => forOfStatement(h, s.asKindOrThrow(SyntaxKind.ForOfStatement)),
  [SyntaxKind.WhileStatement]: (h, s) => whileStatement(h, s.asKindOrThrow(SyntaxKind.WhileStatement)),
  [SyntaxKind.DoStatement]: (h, s) => whileStatement(h, s.asKindOrThrow(SyntaxKind.DoStatement)),
  [SyntaxKind.ForInStatement]: refuse("GRADC1002", "for-in"),
  // A break that ends a switch's case was checked by switch.ts: the case's branch ends there.
  [SyntaxKind.BreakStatement]: (h, s) => (switchOfBreak(s) !== undefined ? undefined : jumpStatement(h, s)),
  [SyntaxKind.ContinueStatement]: jumpStatement,
  [SyntaxKind.LabeledStatement]: labeledStatement,
};

/**
 * Lowers a statement that may take the statements after it (`rest`) along: it returns
 * `{ ret }` when it lowered them as well (an early return makes the rest one of its branches),
 * undefined when the list goes on after it.
 */
export type ListRule = (h: Host, s: Statement, rest: readonly Item[]) => { ret: LV | undefined } | undefined;

/** The statements that may return from the function, and how each lowers with the rest of its list. */
export const LIST_STATEMENTS: Partial<Record<SyntaxKind, ListRule>> = {
  [SyntaxKind.ReturnStatement]: (h, s) => {
    if (h.loopDepth > 0) throw new LowerError("GRADC1018", s, []);
    const e = s.asKindOrThrow(SyntaxKind.ReturnStatement).getExpression();
    if (!e) throw new LowerError("GRADC1005", s, ["nothing"]);
    return { ret: h.expr(e) };
  },
  [SyntaxKind.IfStatement]: (h, node, rest) => {
    const s = node.asKindOrThrow(SyntaxKind.IfStatement);
    const cond = h.condition(s.getExpression());
    const then = s.getThenStatement();
    const otherwise = s.getElseStatement();
    if (cond.k === "bool") {
      const taken = cond.b ? then : otherwise;
      return { ret: h.statements([...(taken ? [taken] : []), ...rest], 0) };
    }
    if (containsReturn(s)) {
      // Early return: the rest of the function belongs to both branches.
      const [r] = h.ifStatement(cond.v, s, [then, ...rest], otherwise ? [otherwise, ...rest] : rest, [], true);
      return { ret: r };
    }
    h.ifStatement(cond.v, s, [then], otherwise ? [otherwise] : [], [...assignedOuter(s, h.scope), ...flagsSetBy(h, s)], false);
    return undefined;
  },
  [SyntaxKind.SwitchStatement]: (h, s, rest) => switchStatement(h, s.asKindOrThrow(SyntaxKind.SwitchStatement), rest),
};

/** Lowers a function body; returns the returned value. */
export function lowerBody(h: Host, decl: FunctionLike, at: Node): LV {
  const body = decl.getBody();
  if (!body) throw new LowerError("GRADC1012", at, [nameOf(decl)]);
  if (!Node.isBlock(body)) return h.expr(body as Expression);
  const before = h.errors.length;
  const ret = h.pushScope(() => h.statements(hoist(h, body.getStatements()), 0));
  // A failed statement may have been the return: that error is the one to report.
  if (ret === undefined && h.errors.length > before) return POISON;
  if (ret === undefined) throw new LowerError("GRADC1012", decl, [nameOf(decl)]);
  return ret;
}

/** Lowers statements from index i; returns the return value if every path returned. */
export function statements(h: Host, stmts: readonly Item[], i: number): LV | undefined {
  for (; i < stmts.length; i++) {
    const s = stmts[i]!;
    if ("exitTo" in s) {
      h.scope = new Scope(s.exitTo);
      continue;
    }
    const node = "lower" in s ? s.node : s;
    let done: { ret: LV | undefined } | undefined;
    try {
      done = "lower" in s ? s.lower(stmts.slice(i + 1)) : statementAt(h, stmts, i, s);
    } catch (e) {
      recover(h, e, node);
      // The rest of the function was this statement's to lower (an early return).
      if (Node.isReturnStatement(node) || containsReturn(node)) return POISON;
      continue;
    }
    if (done) return done.ret;
    // After a possible break or continue, the rest runs only if it did not jump (jumps.ts).
    if (guardRest(h, node, stmts, i + 1)) return undefined;
  }
  return undefined;
}

/** Lowers `s`, the i-th of `stmts`; returns `{ ret }` when it lowered the rest as well. */
function statementAt(h: Host, stmts: readonly Item[], i: number, s: Statement): { ret: LV | undefined } | undefined {
  h.grow(s);
  h.b.loc = h.loc(s);
  if (Node.isBlock(s) && containsReturn(s)) {
    // A block that may return: its statements and those after it are lowered as one list,
    // so that an early return inside it takes all the rest as its other branch.
    const outer = h.scope;
    h.scope = new Scope(outer);
    return { ret: h.statements([...hoist(h, s.getStatements()), { exitTo: outer }, ...stmts.slice(i + 1)], 0) };
  }
  const listRule = LIST_STATEMENTS[s.getKind()];
  if (listRule) return listRule(h, s, stmts.slice(i + 1));
  const rule = STATEMENTS[s.getKind()];
  if (!rule) throw new LowerError("GRADC1001", s, [describeKind(s), "Use const/let, if/else, for loops with constant bounds and return."]);
  rule(h, s);
  return undefined;
}

/**
 * After statement `s` failed: records the error (a function is reported whole, as tsc does)
 * and marks the variables `s` declares as poisoned, so that uses of them later do not report
 * the same mistake again. Errors that make going on unsound or pointless stop lowering: too
 * large a function, too many errors, or a failure that is not the user's.
 */
function recover(h: Host, e: unknown, s: Statement): void {
  if (e instanceof LowerError) {
    // Already the whole report (the cap was reached, or a fatal error below): pass it on.
    if (e.all.length > 1) throw e;
    if (e.code === "GRADC1023" || e.code === "GRADC1021") throw h.errors.length > 0 ? LowerError.of([...h.errors, e]) : e;
    const key = `${e.node.getSourceFile().getFilePath()}:${e.node.getStart()}:${e.code}:${e.args.join("\u0000")}`;
    if (!h.errorKeys.has(key)) {
      h.errorKeys.add(key);
      h.errors.push(e);
    }
    if (h.errors.length >= MAX_ERRORS) throw LowerError.of(h.errors);
  } else if (!(e instanceof Poisoned)) {
    // Not a user error: after recovering from one, report what was found; else it is a bug.
    if (h.errors.length > 0) throw LowerError.of(h.errors);
    throw e;
  }
  // Variables it declares hold nothing usable; variables it assigns keep their earlier
  // value, so that later statements are still checked (errors are reported, no code emitted).
  if (Node.isVariableStatement(s))
    for (const d of s.getDeclarations()) poisonNames(h, d.getNameNode(), s.getDeclarationKind() !== "const");
}

/**
 * An `if` node: each branch yields, flattened, the return value (with `returns`) and the
 * outer variables `assigned` it may assign, which are rebound to the node's results.
 */
export function ifStatement(h: Host, cond: Value, at: Node, thenStmts: readonly Item[], elseStmts: readonly Item[], assigned: readonly Var[], returns: boolean): LV[] {
  const [t, f] = [thenStmts, elseStmts].map((stmts) =>
    region(h, at, () => {
      const { result, store } = h.withStore(() =>
        h.pushScope(() => {
          const r = h.statements(stmts, 0);
          if (returns && r === undefined) throw new LowerError("GRADC1012", at, [h.currentName()]);
          return r;
        }),
      );
      return [...(returns ? [result!] : []), ...assigned.map((v) => store.get(v) ?? { k: "undefined" as const })];
    }),
  ) as [Region, Region];
  const merged = merge(h, at, {
    shapes: [t.yields, f.yields],
    leaves: [t.block.results, f.block.results],
    what: (i) => (i === 0 && returns ? "The return value" : `'${assigned[i - (returns ? 1 : 0)]!.name}'`),
    typeMismatch: branchesDiffer,
    build: () => h.b.ifNode(cond, t.block, f.block, t.block.results.map(() => undefined)),
  });
  assignMerged(h, assigned, returns ? merged.slice(1) : merged);
  return merged;
}

/** Expressions evaluated for their effect: assignments and increments. */
export function effect(h: Host, e: Expression): void {
  if (Node.isBinaryExpression(e)) {
    const opKind = e.getOperatorToken().getKind();
    if (opKind === SyntaxKind.EqualsToken) return assign(h, e.getLeft(), h.expr(e.getRight()));
    // `x op= y` is `x = x op y` for the operators of operators.ts.
    const op = isAssignmentToken(opKind) ? ts.tokenToString(opKind)?.slice(0, -1) : undefined;
    if (op !== undefined && operator(ARITHMETIC, op)) return assign(h, e.getLeft(), h.arith(op, h.expr(e.getLeft()), h.expr(e.getRight()), e));
    if (opKind === SyntaxKind.CommaToken) {
      effect(h, e.getLeft());
      return effect(h, e.getRight());
    }
  }
  if (Node.isPrefixUnaryExpression(e) || Node.isPostfixUnaryExpression(e)) {
    const k = e.getOperatorToken();
    if (k === SyntaxKind.PlusPlusToken || k === SyntaxKind.MinusMinusToken) {
      const target = e.getOperand();
      return assign(h, target, h.arith(k === SyntaxKind.PlusPlusToken ? "+" : "-", h.expr(target), { k: "num", n: 1 }, e));
    }
  }
  if (Node.isCallExpression(e) || Node.isParenthesizedExpression(e)) {
    h.expr(e); // pure, but lowered so errors inside are reported
    return;
  }
  throw new LowerError("GRADC1001", e, ["An expression statement without an assignment", "Assign its value to a variable."]);
}
