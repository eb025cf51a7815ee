// `switch` as the compiler takes it (compiler/frontend/switch.ts), checked on the fallback's
// syntax tree. Before running: a case with statements must end every path in break, return,
// continue or throw (no fall-through into the next case), and a `break` of the switch must be
// the last statement on its path. The compiler also wants each case label to be a number known
// at compile time; the fallback sees plain numbers, so it decides that from the syntax: a label
// that reads a parameter of the differentiated function (directly, or through variables
// computed from one) is computed at run time, and so is a label whose value is on the tape.
// When the discriminant may be known at compile time, the compiler tests the labels only up to
// the first that matches, so the fallback checks them as it meets them, when the switch runs.

import type * as ES from "acorn";
import type { DiagnosticCode } from "../compiler/diagnostics/messages.js";
import { isLoop } from "./interpret-jumps.js";
import { walkOwn } from "./interpret-parse.js";
import { isTensor } from "./tensor.js";

/** A refusal of a switch: the compiler's code, message arguments (some from source text), and where. */
export interface SwitchRefusal {
  readonly code: DiagnosticCode;
  readonly node: ES.Node;
  readonly args: (text: (node: ES.Node, max: number) => string) => readonly string[];
}

const refusal = (node: ES.Node, what: string | ((text: (node: ES.Node, max: number) => string) => string), fix: string): SwitchRefusal => ({
  code: "GRADC1050",
  node,
  args: (text) => [typeof what === "string" ? what : what(text), fix],
});

export const LABEL_NOT_KNOWN = "a case label must be a number known at compile time";
export const LABEL_FIX = "Use number literals or constants; for other tests write if/else.";
export const BOOL_LABEL = "a case label of a switch on a boolean must be a boolean";
export const BOOL_LABEL_FIX = "Compare with true or false, or with conditions in switch (true).";
export const BOTH_RUNTIME = "a case label computed at run time, on a discriminant computed at run time";
export const BOTH_RUNTIME_FIX = "Write if/else, or switch (true) { case a > b: ... }.";
export const DISCRIMINANT_FIX = "Switch on a number (or a boolean), and compare tensors with gradc ops.";

/** Fall-through and early breaks, in the compiler's order: clause by clause. */
export function switchShapeProblem(s: ES.SwitchStatement): SwitchRefusal | undefined {
  for (let i = 0; i < s.cases.length; i++) {
    const c = s.cases[i]!;
    const last = i === s.cases.length - 1;
    if (c.consequent.length === 0 && !last) continue;
    if (!last && !endsCase(c.consequent))
      return refusal(c, (text) => `${clauseName(c, text)} falls through into the next case`, "End it with break or return; only cases without statements may share the next one's body.");
    const early = earlyBreak(c.consequent, true);
    if (early !== undefined)
      return refusal(early, "a break before the end of its case", "Put the rest of the case in an else branch, so that the break is the last statement on its path.");
  }
  return undefined;
}

function clauseName(c: ES.SwitchCase, text: (node: ES.Node, max: number) => string): string {
  return c.test ? `case ${text(c.test, 30)}` : "the default case";
}

/** Every path through `stmts` leaves the case (break, return, continue or throw). */
function endsCase(stmts: readonly ES.Statement[]): boolean {
  const last = stmts[stmts.length - 1];
  if (last === undefined) return false;
  switch (last.type) {
    case "BreakStatement":
    case "ReturnStatement":
    case "ContinueStatement":
    case "ThrowStatement":
      return true;
    case "BlockStatement":
      return endsCase(last.body);
    case "IfStatement":
      return last.alternate != null && endsCase([last.consequent]) && endsCase([last.alternate]);
    default:
      return false;
  }
}

/**
 * The first plain `break` of the switch in `stmts` that is not the last statement on its path
 * (`atEnd`: nothing of the case runs after `stmts`). Breaks inside loops and nested switches
 * are theirs, and labelled breaks never leave a switch.
 */
function earlyBreak(stmts: readonly ES.Statement[], atEnd: boolean): ES.Node | undefined {
  for (let i = 0; i < stmts.length; i++) {
    const found = breakIn(stmts[i]!, atEnd && i === stmts.length - 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function breakIn(s: ES.Statement, atEnd: boolean): ES.Node | undefined {
  switch (s.type) {
    case "BreakStatement":
      return s.label || atEnd ? undefined : s;
    case "BlockStatement":
      return earlyBreak(s.body, atEnd);
    case "IfStatement":
      return breakIn(s.consequent, atEnd) ?? (s.alternate ? breakIn(s.alternate, atEnd) : undefined);
    case "LabeledStatement":
      // A label stands only on a loop (checked elsewhere): its breaks are the loop's.
      return isLoop(s.body) ? undefined : breakIn(s.body, false);
    default:
      return undefined;
  }
}

/**
 * Whether `e` reads a value computed at run time, by the syntax: a name `isRuntime` says holds
 * one (a parameter of the differentiated function, or a variable computed from one). Shapes
 * and lengths are known to the compiler, so `x.shape[0]` and `xs.length` are not.
 */
export function readsRuntime(e: ES.Node, isRuntime: (name: string) => boolean): boolean {
  let found = false;
  walkOwn(e, (n) => {
    if (found) return false;
    if (n.type === "MemberExpression") {
      const m = n as ES.MemberExpression;
      if (!m.computed && m.property.type === "Identifier" && (m.property.name === "shape" || m.property.name === "length")) return false;
      // A field name is not a read of a variable.
      if (!m.computed) {
        if (readsRuntime(m.object, isRuntime)) found = true;
        return false;
      }
    }
    if (n.type === "Property" && !(n as ES.Property).computed) {
      if (readsRuntime((n as ES.Property).value, isRuntime)) found = true;
      return false;
    }
    if (n.type === "Identifier" && isRuntime((n as ES.Identifier).name)) found = true;
    return !found;
  });
  return found;
}

/** Whether a discriminant reads as a boolean by its syntax (a comparison, a negation, a logical operator, true or false). */
export function looksBoolean(e: ES.Expression): boolean {
  if (e.type === "Literal") return typeof e.value === "boolean";
  if (e.type === "UnaryExpression") return e.operator === "!";
  if (e.type === "LogicalExpression") return true;
  if (e.type === "BinaryExpression") return ["<", ">", "<=", ">=", "===", "!==", "==", "!="].includes(e.operator);
  return false;
}

/** Why the compiler refuses to switch on value `d` (a tensor, or not a number), or undefined. */
export function discriminantProblem(d: unknown): string | undefined {
  if (typeof d === "number" || typeof d === "boolean") return undefined;
  if (isTensor(d)) return d.shape.length === 0 ? undefined : `the value switched on is a tensor of shape [${d.shape.join(", ")}]`;
  return "the value switched on is not a number";
}

/** Discriminants and labels that read values computed at run time (by the syntax), for the evaluator. */
export const runtimeNodes = new WeakSet<ES.Node>();

/**
 * The static refusal of label `test` of switch `s`, or undefined. Only when the discriminant
 * reads a run-time value: then the compiler tests every label, whatever the values.
 */
export function caseLabelProblem(s: ES.SwitchStatement, test: ES.Expression): SwitchRefusal | undefined {
  if (!runtimeNodes.has(s.discriminant)) return undefined;
  if (looksBoolean(s.discriminant)) return runtimeNodes.has(test) ? refusal(test, BOTH_RUNTIME, BOTH_RUNTIME_FIX) : undefined;
  return runtimeNodes.has(test) || looksBoolean(test) ? refusal(test, LABEL_NOT_KNOWN, LABEL_FIX) : undefined;
}
