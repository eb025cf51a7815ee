// Loops and jumps as the compiler takes them (compiler/frontend/jumps.ts, while-loops.ts): a
// label only on a loop; `break`/`continue` only to the innermost loop of the function they are
// written in (plain, or naming that loop's label); a `while`/`do` loop whose condition can
// change (its body assigns a variable declared before it, holding numbers or tensors, or it
// has a break). The syntax is checked here, before running; what depends on values (the
// condition's first value, what the assigned variables hold) when the loop is reached.

import type * as ES from "acorn";
import type { DiagnosticCode } from "../compiler/diagnostics/messages.js";
import { walkOwn } from "./interpret-parse.js";

export const isLoop = (n: ES.Node): boolean =>
  n.type === "ForStatement" || n.type === "ForOfStatement" || n.type === "ForInStatement" || n.type === "WhileStatement" || n.type === "DoWhileStatement";

/** A statement a jump may leave, being checked: a loop (with its labels) or a switch. */
export interface JumpTarget {
  readonly node: ES.Node;
  readonly labels: readonly string[];
}

type Refusal = readonly [DiagnosticCode, ES.Node, readonly string[]];

/** The compiler's refusal of a label on `s`, or undefined when `s.body` is a loop. */
export function labelProblem(s: ES.LabeledStatement): Refusal | undefined {
  if (isLoop(s.body)) return undefined;
  return ["GRADC1016", s, [`${s.label.name}:`, "a label on a statement that is not a loop. Remove the label"]];
}

/** The compiler's refusal of jump `s` inside `targets` (outermost first, of this function only). */
export function jumpProblem(s: ES.BreakStatement | ES.ContinueStatement, targets: readonly JumpTarget[]): Refusal | undefined {
  const what = s.type === "BreakStatement" ? "break" : "continue";
  const loops = targets.filter((t) => isLoop(t.node));
  const innermost = loops.at(-1);
  let target: JumpTarget | undefined;
  if (s.label) target = [...targets].reverse().find((t) => t.labels.includes(s.label!.name));
  else target = [...targets].reverse().find((t) => isLoop(t.node) || what === "break");
  const text = s.label ? `${what} ${s.label.name}` : what;
  // A `break` that ends a switch is the switch's own.
  if (target !== undefined && !isLoop(target.node) && !s.label) return undefined;
  if (innermost !== undefined && target !== undefined && target !== innermost && loops.includes(target))
    return ["GRADC1016", s, [text, `a jump out of an inner loop to a labelled outer one. Leave the inner loop with a plain ${what} and set a variable the outer loop tests`]];
  if (innermost === undefined || target !== innermost) return ["GRADC1016", s, [text, "it is not inside a loop of the function it is written in"]];
  return undefined;
}

/** Whether `body` (of a loop labelled `labels`) has a `break` that leaves the loop. */
export function breaksOut(body: ES.Statement, labels: readonly string[]): boolean {
  let found = false;
  const visit = (n: ES.Node, depth: number): void => {
    walkOwn(n, (d) => {
      if (found) return false;
      if (d !== n && (d.type === "FunctionExpression" || d.type === "ArrowFunctionExpression" || d.type === "FunctionDeclaration")) return false;
      if (d !== n && (isLoop(d) || d.type === "SwitchStatement")) {
        visit(d, depth + 1);
        return false;
      }
      if (d.type === "BreakStatement") {
        const label = (d as ES.BreakStatement).label;
        found = label ? labels.includes(label.name) : depth === 0;
      }
      return !found;
    });
  };
  visit(body, 0);
  return found;
}

/** The names `s` assigns (outside nested functions), as the compiler collects them. */
export function assignedNames(s: ES.Node): Set<string> {
  const names = new Set<string>();
  const collect = (t: ES.Node | null): void => {
    if (t === null) return;
    if (t.type === "Identifier") names.add((t as ES.Identifier).name);
    else if (t.type === "ArrayPattern" || t.type === "ArrayExpression") (t as ES.ArrayPattern).elements.forEach((e) => collect(e));
  };
  walkOwn(s, (d) => {
    if (d !== s && (d.type === "FunctionExpression" || d.type === "ArrowFunctionExpression" || d.type === "FunctionDeclaration")) return false;
    if (d.type === "AssignmentExpression") collect((d as ES.AssignmentExpression).left);
    if (d.type === "UpdateExpression") collect((d as ES.UpdateExpression).argument);
    return true;
  });
  return names;
}

/** Whether a value holds a number, boolean or tensor (a leaf the compiler would carry). */
export function hasLeaves(v: unknown): boolean {
  if (v === undefined || v === null || typeof v === "function") return false;
  if (Array.isArray(v)) return v.some(hasLeaves);
  if (typeof v === "object" && v.constructor === Object) return Object.values(v).some(hasLeaves);
  return true;
}

export const NEVER_ENDS_STILL = "its body assigns no variable declared before the loop and has no break, so its condition cannot change";
export const NEVER_ENDS_EMPTY = "the variables its body assigns hold no numbers or tensors, so its condition cannot change";

/** The labels of each loop checked (`outer: for …`), for the evaluator. */
export const loopLabels = new WeakMap<ES.Node, readonly string[]>();
