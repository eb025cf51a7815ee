// Operand kinds of JavaScript operators and Math functions. On numbers they are the language's
// own arithmetic; on a tensor JavaScript would compute NaN (or concatenate strings), so a
// tensor operand is refused at the expression with the gradc op that does what was meant.
// One check serves every operator and Math function: lowering calls it before building any.

import { Node, SyntaxKind } from "ts-morph";
import { binaryOperators, mathOps } from "../ops/index.js";
import { LowerError } from "./errors.js";
import type { LV } from "./types.js";

/** The gradc function doing on tensors what operator or Math function `what` does on numbers. */
function gradcNameOf(what: string): string | undefined {
  return (what.startsWith("Math.") ? mathOps().get(what.slice(5)) : binaryOperators().get(what))?.gradc;
}

/** Comparison operators: the binary operators whose op gives a boolean, without a gradient. */
const isComparison = (what: string): boolean => binaryOperators().get(what)?.vjp === "not-differentiable";

const isTensor = (lv: LV): boolean => lv.k === "val" && lv.v.type.shape.length > 0;

function shapeText(lv: LV): string {
  return lv.k === "val" ? `[${lv.v.type.shape.join(", ")}]` : "[]";
}

const text = (n: Node): string => {
  const t = n.getText();
  return t.length > 30 ? `${t.slice(0, 27)}...` : t;
};

/** What to write instead of `what` applied to `args` (source texts). */
function suggestion(what: string, at: Node, args: readonly string[]): string {
  if (isComparison(what))
    return "Compare numbers (a reduction such as sum(x), or an element at(x, i)); for elementwise choices use maximum, minimum or relu.";
  if (what === "unary +") return `Remove the '+': ${args[0]} is already a tensor.`;
  if (what === "unary -") return `Write neg(${args[0]}).`;
  const op = gradcNameOf(what);
  if (op === undefined) return `gradc has no tensor op for ${what}: apply it to numbers, e.g. to each element at(x, i).`;
  const call = `${op}(${args.join(", ")})`;
  // `x *= 2` and `x++` assign the result.
  if (Node.isBinaryExpression(at) && at.getOperatorToken().getKind() !== SyntaxKind.EqualsToken && at.getOperatorToken().getText().endsWith("="))
    if (!isComparison(at.getOperatorToken().getText())) return `Write ${args[0]} = ${call}.`;
  if (Node.isPrefixUnaryExpression(at) || Node.isPostfixUnaryExpression(at)) return `Write ${args[0]} = ${call}.`;
  return `Write ${call}.`;
}

/** The source texts of an operator's operands, for the suggestion. */
function operandTexts(at: Node, n: number): string[] {
  if (Node.isBinaryExpression(at)) return [text(at.getLeft()), text(at.getRight())];
  if (Node.isPrefixUnaryExpression(at) || Node.isPostfixUnaryExpression(at)) return n === 1 ? [text(at.getOperand())] : [text(at.getOperand()), "1"];
  if (Node.isCallExpression(at)) return at.getArguments().map(text);
  return Array.from({ length: n }, (_x, i) => `x${i}`);
}

/**
 * Refuses a tensor among the operands of `what` (an operator such as `*` or `unary -`, or a
 * Math function such as `Math.exp`), which take numbers. `at` is the whole expression.
 */
export function requireNumbers(what: string, operands: readonly LV[], at: Node): void {
  const k = operands.findIndex(isTensor);
  if (k < 0) return;
  const texts = operandTexts(at, operands.length);
  const kind = what.startsWith("Math.") ? what : what.startsWith("unary ") ? `The operator '${what.slice(6)}'` : `The operator '${what}'`;
  throw new LowerError("GRADC1027", at, [kind, texts[k] ?? "an operand", shapeText(operands[k]!), suggestion(what, at, texts)]);
}
