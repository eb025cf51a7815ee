// `break` and `continue`, lowered to flags. Each loop being lowered has two hidden variables
// (named `break` and `continue`, which no user variable can be): a jump sets its flag, and
// the statements after one that may have jumped run only while neither flag is set (an `if`
// whose branches yield what those statements assign, as for any conditional). A flag known at
// compile time costs nothing: a jump straight in the body ends the trip (or the unrolling)
// there. A trip starts with `continue` clear; once `break` is set the trips left do nothing:
// an unrolled trip is guarded by it, a rolled `loop` carries it and guards its body (keeping
// its trip count), and a `while` stops at its next test.

import { Node, type Statement, SyntaxKind } from "ts-morph";
import { LowerError } from "./errors.js";
import type { Host, Item } from "./host.js";
import { assignedOuter } from "./lower-support.js";
import type { Condition, LV, Var } from "./types.js";

/** The flags of one loop being lowered. */
export interface LoopFrame {
  readonly loop: Node;
  readonly brk: Var;
  readonly cont: Var;
}

const frames = new WeakMap<Host, LoopFrame[]>();
const framesOf = (h: Host): LoopFrame[] => {
  let f = frames.get(h);
  if (!f) frames.set(h, (f = []));
  return f;
};

const isLoop = (n: Node): boolean =>
  Node.isForStatement(n) || Node.isForOfStatement(n) || Node.isForInStatement(n) || Node.isWhileStatement(n) || Node.isDoStatement(n);

const isFunction = (n: Node): boolean =>
  Node.isFunctionDeclaration(n) || Node.isArrowFunction(n) || Node.isFunctionExpression(n) || Node.isMethodDeclaration(n) || Node.isConstructorDeclaration(n);

/**
 * The statement a jump leaves (a loop, or a `switch` for an unlabelled break), as JavaScript
 * decides it; undefined when a function boundary comes first.
 */
function jumpTarget(j: Node): Node | undefined {
  const label = Node.isBreakStatement(j) || Node.isContinueStatement(j) ? j.getLabel()?.getText() : undefined;
  for (let n = j.getParent(); n !== undefined; n = n.getParent()) {
    if (isFunction(n)) return undefined;
    if (label !== undefined) {
      if (Node.isLabeledStatement(n) && n.getLabel().getText() === label) return n.getStatement();
    } else if (isLoop(n) || (Node.isBreakStatement(j) && Node.isSwitchStatement(n))) return n;
  }
  return undefined;
}

/** The jumps in `s` that leave or restart a loop around `s` (not loops or switches inside it). */
function jumpsIn(s: Node): { brk: boolean; cont: boolean } {
  const found = { brk: false, cont: false };
  const visit = (d: Node): void => {
    if (!Node.isBreakStatement(d) && !Node.isContinueStatement(d)) return;
    const target = jumpTarget(d);
    if (target === undefined || target === s || target.getAncestors().includes(s)) return;
    if (Node.isBreakStatement(d)) found.brk = true;
    else found.cont = true;
  };
  visit(s);
  s.forEachDescendant((d, traversal) => {
    if (isFunction(d)) return traversal.skip();
    visit(d);
    return undefined;
  });
  return found;
}

const flag = (b: boolean): LV => ({ k: "bool", b });

/** Runs `fill` one loop deeper (a return there is refused). */
export function inLoop<T>(h: Host, fill: () => T): T {
  h.loopDepth++;
  try {
    return fill();
  } finally {
    h.loopDepth--;
  }
}

/**
 * Runs `lower` with a frame for `loop` (its flags clear). `break` set after the loop is of no
 * interest to what follows it, so the flags die with the frame.
 */
export function withLoopFrame<T>(h: Host, loop: Node, lower: (frame: LoopFrame) => T): T {
  const frame: LoopFrame = { loop, brk: { name: "break", isParam: false, mutable: true }, cont: { name: "continue", isParam: false, mutable: true } };
  h.store.set(frame.brk, flag(false));
  h.store.set(frame.cont, flag(false));
  const stack = framesOf(h);
  stack.push(frame);
  try {
    return lower(frame);
  } finally {
    stack.pop();
  }
}

/** Whether the body of a loop may `break` out of it (its flag must then be carried). */
export const breaksOut = (body: Node): boolean => jumpsIn(body).brk;

/** The flags `s` may set, for an `if` (or loop) around it to yield. */
export function flagsSetBy(h: Host, s: Node): Var[] {
  const frame = framesOf(h).at(-1);
  if (!frame) return [];
  const j = jumpsIn(s);
  return [...(j.brk ? [frame.brk] : []), ...(j.cont ? [frame.cont] : [])];
}

/** `break` / `continue` (unlabelled): sets the innermost loop's flag. */
export function jumpStatement(h: Host, s: Statement): void {
  const what = Node.isBreakStatement(s) ? "break" : "continue";
  const label = Node.isBreakStatement(s) || Node.isContinueStatement(s) ? s.getLabel() : undefined;
  const frame = framesOf(h).at(-1);
  const target = jumpTarget(s);
  const text = label ? `${what} ${label.getText()}` : what;
  // A label naming the innermost loop is that loop's plain jump; one naming an outer loop is not supported.
  if (frame && target !== undefined && target !== frame.loop && frame.loop.getAncestors().includes(target))
    throw new LowerError("GRADC1016", s, [text, `a jump out of an inner loop to a labelled outer one. Leave the inner loop with a plain ${what} and set a variable the outer loop tests`]);
  // In a function nested in a loop, or outside any loop (TypeScript's parser lets both through).
  if (!frame || target !== frame.loop) throw new LowerError("GRADC1016", s, [text, "it is not inside a loop of the function it is written in"]);
  h.store.set(Node.isBreakStatement(s) ? frame.brk : frame.cont, flag(true));
}

/** A labelled loop (`outer: for (...)`) is the loop; a label on anything else is refused. */
export function labeledStatement(h: Host, s: Statement): void {
  const labelled = s.asKindOrThrow(SyntaxKind.LabeledStatement);
  const inner = labelled.getStatement();
  if (!isLoop(inner))
    throw new LowerError("GRADC1016", s, [`${labelled.getLabel().getText()}:`, "a label on a statement that is not a loop. Remove the label"]);
  h.statements([inner], 0);
}

/** `a || b` of two conditions, folded when either is known. */
function either(h: Host, a: Condition, b: Condition, at: Node): Condition {
  if (a.k === "bool") return a.b ? a : b;
  if (b.k === "bool") return b.b ? b : a;
  return { k: "val", v: h.op("or", [a.v, b.v], at) };
}

const asCondition = (h: Host, lv: LV | undefined, at: Node): Condition =>
  lv === undefined ? { k: "bool", b: false } : lv.k === "bool" ? lv : { k: "val", v: h.asValue(lv, at) };

/**
 * After statement `s` of a loop body: when `s` may have jumped, the statements after it
 * (`items` from `from` on) run only if it did not. Returns true when it lowered (or dropped)
 * the rest of the list.
 */
export function guardRest(h: Host, s: Statement, items: readonly Item[], from: number): boolean {
  const frame = framesOf(h).at(-1);
  if (!frame) return false;
  const j = jumpsIn(s);
  if (!j.brk && !j.cont) return false;
  const stop = either(h, asCondition(h, h.store.get(frame.brk), s), asCondition(h, h.store.get(frame.cont), s), s);
  if (stop.k === "bool") return stop.b;
  // Copied only here: after every statement of a long body, copying the rest was quadratic.
  const rest = items.slice(from);
  const statements = rest.filter((r): r is Statement => !("exitTo" in r) && !("lower" in r));
  if (statements.length === 0) return true;
  const assigned = new Set<Var>();
  for (const r of statements) {
    assignedOuter(r, h.scope).forEach((v) => assigned.add(v));
    flagsSetBy(h, r).forEach((v) => assigned.add(v));
  }
  h.ifStatement(h.op("not", [stop.v], s), s, rest, [], [...assigned], false);
  return true;
}

/**
 * One trip of a loop body with the loop's flags: `continue` clear at the start, and the whole
 * trip skipped once `break` is set (or when `runs`, the loop's own test of this trip, fails).
 * Returns false when `break` is known set at compile time (an unrolled loop stops there).
 */
export function tripBody(h: Host, frame: LoopFrame, at: Node, body: Statement, runs: Condition = { k: "bool", b: true }): boolean {
  h.store.set(frame.cont, flag(false));
  const brk = asCondition(h, h.store.get(frame.brk), at);
  if (brk.k === "bool" && brk.b) return false;
  const go: Condition =
    brk.k === "bool" ? runs : runs.k === "bool" ? (runs.b ? { k: "val", v: h.op("not", [brk.v], at) } : runs) : { k: "val", v: h.op("and", [runs.v, h.op("not", [brk.v], at)], at) };
  if (go.k === "bool") {
    if (go.b) inLoop(h, () => h.pushScope(() => h.statements([body], 0)));
    return true;
  }
  inLoop(h, () => h.ifStatement(go.v, at, [body], [], [...assignedOuter(body, h.scope), ...flagsSetBy(h, body)], false));
  return true;
}
