// `switch` statements lower to a chain of `if`s. The discriminant is evaluated once and compared
// with strict equality (`===`) to each case's labels in source order; labels are numbers known
// at compile time (or booleans, for `switch (true)` over conditions), so a switch on a
// compile-time number lowers only the case taken. A case that has statements must end every
// path in `break`, `return` or `continue`: empty cases share the next case's body, but falling
// from one body into the next is refused (GRADC1050), as is a `break` before the end of its
// case. The default case (anywhere in the list) is what the chain does when no label matches.
//
// A case whose paths end in `break` then has the plain meaning of a branch: the break statement
// lowers to nothing (statements.ts asks switchOfBreak), and the statements after the switch
// follow. A switch that may return takes those statements along into each branch, as an `if`
// with an early return does.

import { type CaseClause, type DefaultClause, type Expression, Node, type Statement, type SwitchStatement } from "ts-morph";
import { LowerError } from "./errors.js";
import type { Deferred, Host, Item } from "./host.js";
import { assignedOuter, containsReturn } from "./lower-support.js";
import { flagsSetBy } from "./jumps.js";
import { hoist } from "./scopes.js";
import type { Value } from "../ir/types.js";
import { type Condition, type LV, Scope, isFunctionLike } from "./types.js";

/** Cases that share one body: the labels of the empty cases before it, and its own. */
interface CaseGroup {
  /** The first case of the group: where its `if` node and its errors are reported. */
  readonly node: CaseClause | DefaultClause;
  readonly labels: readonly Expression[];
  readonly isDefault: boolean;
  readonly body: readonly Statement[];
}

const refuse = (at: Node, what: string, fix: string): LowerError => new LowerError("GRADC1050", at, [what, fix]);

export function switchStatement(h: Host, s: SwitchStatement, rest: readonly Item[]): { ret: LV | undefined } | undefined {
  const groups = caseGroups(s);
  const disc = discriminant(h, s.getExpression());
  const returns = containsReturn(s);
  const outer = h.scope;
  const fallback = groups.find((g) => g.isDefault);

  // One case's body, in a scope of its own, then (if the switch may return) the rest of the list.
  const lowerCase = (g: CaseGroup | undefined, after: readonly Item[]): { ret: LV | undefined } => {
    h.scope = new Scope(outer);
    return { ret: h.statements([...hoist(h, g?.body ?? []), { exitTo: outer }, ...after], 0) };
  };
  const deferred = (lower: Deferred["lower"]): Deferred => ({ node: s, lower });

  // The chain from group k on: test its labels; if none matches, go on with group k + 1.
  const chain = (k: number, after: readonly Item[]): { ret: LV | undefined } | undefined => {
    if (k === groups.length) return lowerCase(fallback, after);
    const g = groups[k]!;
    const later = groups.slice(k + 1).flatMap((x) => x.labels);
    // The default case's own labels need no test unless a later case repeats one (the first wins).
    const test = g.isDefault && !g.labels.some((l) => later.some((m) => sameLabel(h, l, m))) ? FALSE : anyMatch(h, disc, g.labels);
    if (test.k === "bool") return test.b ? lowerCase(g, after) : chain(k + 1, after);
    const taken = deferred((a) => lowerCase(g, a));
    const next = deferred((a) => chain(k + 1, a));
    if (returns) {
      const [r] = h.ifStatement(test.v, g.node, [taken, ...after], [next, ...after], [], true);
      return { ret: r };
    }
    h.ifStatement(test.v, g.node, [taken], [next], [...assignedOuter(s, h.scope), ...flagsSetBy(h, s)], false);
    return { ret: undefined };
  };

  if (returns) return chain(0, rest);
  // Without a return in it, the switch is one statement: the list goes on after it.
  chain(0, []);
  h.scope = outer;
  return undefined;
}

const FALSE: Condition = { k: "bool", b: false };

/** The discriminant: a number (compile-time or a scalar value) or a boolean. */
function discriminant(h: Host, e: Expression): LV {
  const d = h.expr(e);
  if (d.k === "num" || d.k === "bool") return d;
  if (d.k === "val" && d.v.type.shape.length === 0) return d;
  const what = d.k === "val" ? `the value switched on is a tensor of shape [${d.v.type.shape.join(", ")}]` : "the value switched on is not a number";
  throw refuse(e, what, "Switch on a number (or a boolean), and compare tensors with gradc ops.");
}

/** Whether the discriminant equals one of `labels`. */
function anyMatch(h: Host, disc: LV, labels: readonly Expression[]): Condition {
  let acc: Condition = FALSE;
  for (const label of labels) {
    const m = matches(h, disc, label);
    if (m.k === "bool") {
      if (m.b) return m;
      continue;
    }
    acc = acc.k === "bool" ? m : { k: "val", v: h.op("or", [acc.v, m.v], label) };
  }
  return acc;
}

/** `disc === label`, folded when both are known at compile time. */
function matches(h: Host, disc: LV, label: Expression): Condition {
  const l = h.expr(label);
  h.b.loc = h.loc(label);
  if (disc.k === "bool" || (disc.k === "val" && disc.v.type.dtype === "bool")) {
    const c = asCondition(l);
    if (c === undefined) throw refuse(label, "a case label of a switch on a boolean must be a boolean", "Compare with true or false, or with conditions in switch (true).");
    const d = disc as Condition;
    if (d.k === "bool" && c.k === "bool") return { k: "bool", b: d.b === c.b };
    // One side known: the other side, or its negation.
    if (d.k === "bool") return d.b ? c : not(h, (c as { v: Value }).v, label);
    if (c.k === "bool") return c.b ? d : not(h, d.v, label);
    throw refuse(label, "a case label computed at run time, on a discriminant computed at run time", "Write if/else, or switch (true) { case a > b: ... }.");
  }
  if (l.k !== "num") throw refuse(label, "a case label must be a number known at compile time", "Use number literals or constants; for other tests write if/else.");
  if (disc.k === "num") return { k: "bool", b: disc.n === l.n };
  return { k: "val", v: h.op("eq", [h.asValue(disc, label), h.asValue(l, label)], label) };
}

function asCondition(lv: LV): Condition | undefined {
  if (lv.k === "bool") return lv;
  if (lv.k === "val" && lv.v.type.dtype === "bool" && lv.v.type.shape.length === 0) return { k: "val", v: lv.v };
  return undefined;
}

const not = (h: Host, v: Value, at: Node): Condition => ({ k: "val", v: h.op("not", [v], at) });

/** Two labels the compiler knows equal (both compile-time numbers with one value). */
function sameLabel(h: Host, a: Expression, b: Expression): boolean {
  const x = h.expr(a);
  const y = h.expr(b);
  return x.k === "num" && y.k === "num" && x.n === y.n;
}

/** Groups the clauses by shared body; refuses fall-through and breaks before a case's end. */
function caseGroups(s: SwitchStatement): CaseGroup[] {
  const clauses = s.getCaseBlock().getClauses();
  const groups: CaseGroup[] = [];
  let labels: Expression[] = [];
  let isDefault = false;
  let first: CaseClause | DefaultClause | undefined;
  clauses.forEach((c, i) => {
    first ??= c;
    if (Node.isCaseClause(c)) labels.push(c.getExpression());
    else isDefault = true;
    const body = c.getStatements();
    const last = i === clauses.length - 1;
    if (body.length === 0 && !last) return;
    if (!last && !endsCase(body))
      throw refuse(c, `${clauseName(c)} falls through into the next case`, "End it with break or return; only cases without statements may share the next one's body.");
    checkBreaks(c, s);
    groups.push({ node: first, labels, isDefault, body });
    labels = [];
    isDefault = false;
    first = undefined;
  });
  return groups;
}

function clauseName(c: CaseClause | DefaultClause): string {
  if (Node.isDefaultClause(c)) return "the default case";
  const t = c.getExpression().getText();
  return `case ${t.length > 30 ? `${t.slice(0, 27)}...` : t}`;
}

/** Every path through `stmts` leaves the case (break, return, continue or throw). */
function endsCase(stmts: readonly Statement[]): boolean {
  const last = stmts[stmts.length - 1];
  if (last === undefined) return false;
  if (Node.isBreakStatement(last) || Node.isReturnStatement(last) || Node.isContinueStatement(last) || Node.isThrowStatement(last)) return true;
  if (Node.isBlock(last)) return endsCase(last.getStatements());
  if (Node.isIfStatement(last)) {
    const otherwise = last.getElseStatement();
    return otherwise !== undefined && endsCase([last.getThenStatement()]) && endsCase([otherwise]);
  }
  return false;
}

/**
 * The breaks of clause `c` that leave switch `s` must each end their case: the last statement
 * of the clause, of a block that does, or of a branch of an `if` that does. Lowered as
 * nothing, such a break means exactly what it does in JavaScript.
 */
function checkBreaks(c: CaseClause | DefaultClause, s: SwitchStatement): void {
  c.forEachDescendant((d, traversal) => {
    if (isFunctionLike(d)) return traversal.skip();
    if (Node.isBreakStatement(d) && switchOfBreak(d) === s && !atEnd(d, c))
      throw refuse(d, "a break before the end of its case", "Put the rest of the case in an else branch, so that the break is the last statement on its path.");
    return undefined;
  });
}

/** Whether nothing of clause `c` runs after statement `st`. */
function atEnd(st: Node, c: CaseClause | DefaultClause): boolean {
  const parent = st.getParent();
  if (parent === c) return c.getStatements().at(-1) === st;
  if (parent !== undefined && Node.isBlock(parent)) return parent.getStatements().at(-1) === st && atEnd(parent, c);
  if (parent !== undefined && Node.isIfStatement(parent) && parent.getExpression() !== st) return atEnd(parent, c);
  return false;
}

/** The switch an unlabeled `break` leaves, if it leaves a switch (and not a loop). */
export function switchOfBreak(b: Node): SwitchStatement | undefined {
  if (!Node.isBreakStatement(b) || b.getLabel() !== undefined) return undefined;
  for (let n: Node | undefined = b.getParent(); n !== undefined && !isFunctionLike(n); n = n.getParent()) {
    if (Node.isSwitchStatement(n)) return n;
    if (Node.isIterationStatement(n)) return undefined;
  }
  return undefined;
}
