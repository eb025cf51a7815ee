// Small pure helpers of lowering over syntax and values: constant folding of Math, which
// variables a statement assigns, names and descriptions for messages.

import { Node, SyntaxKind } from "ts-morph";
import type { Value } from "../ir/types.js";
import { ShapeError } from "../ops/index.js";
import { LowerError } from "./errors.js";
import { type FunctionLike, type LV, type Scope, type Var, isFunctionLike } from "./types.js";

export function foldMath(name: string, xs: number[]): LV | undefined {
  const f = (Math as unknown as Record<string, (...a: number[]) => number>)[name];
  if (typeof f !== "function") return undefined;
  // Math.max/min of thousands of constants: pairwise, as spreading them would overflow the stack.
  return { k: "num", n: xs.length > 2 ? xs.reduce((a, b) => f(a, b)) : f(...xs) };
}

export function containsReturn(s: Node): boolean {
  let found = false;
  s.forEachDescendant((d, traversal) => {
    if (isFunctionLike(d)) return traversal.skip();
    if (Node.isReturnStatement(d)) {
      found = true;
      traversal.stop();
    }
    return undefined;
  });
  return found;
}

/** Variables declared outside `s` that `s` may assign. */
export function assignedOuter(s: Node, scope: Scope): Var[] {
  const names = new Set<string>();
  s.forEachDescendant((d, traversal) => {
    if (isFunctionLike(d)) return traversal.skip();
    if (Node.isBinaryExpression(d) && isAssignmentToken(d.getOperatorToken().getKind())) collectTargets(d.getLeft(), names);
    if ((Node.isPrefixUnaryExpression(d) || Node.isPostfixUnaryExpression(d)) &&
      (d.getOperatorToken() === SyntaxKind.PlusPlusToken || d.getOperatorToken() === SyntaxKind.MinusMinusToken))
      collectTargets(d.getOperand(), names);
    return undefined;
  });
  const vars: Var[] = [];
  for (const n of names) {
    const v = scope.lookup(n);
    if (v && !vars.includes(v)) vars.push(v);
  }
  return vars;
}

export function isAssignmentToken(k: SyntaxKind): boolean {
  return k >= SyntaxKind.FirstAssignment && k <= SyntaxKind.LastAssignment;
}

export function collectTargets(target: Node, names: Set<string>): void {
  if (Node.isIdentifier(target)) names.add(target.getText());
  else if (Node.isParenthesizedExpression(target)) collectTargets(target.getExpression(), names);
  else if (Node.isArrayLiteralExpression(target)) target.getElements().forEach((el) => collectTargets(el, names));
}

/** The parameters that take arguments: TypeScript's `this` parameter only types the receiver. */
export function valueParameters(decl: FunctionLike): import("ts-morph").ParameterDeclaration[] {
  return decl.getParameters().filter((p) => p.getName() !== "this");
}

export function nameOf(decl: FunctionLike): string {
  if (Node.isFunctionDeclaration(decl) || Node.isFunctionExpression(decl)) return decl.getName() ?? "function";
  const parent = decl.getParent();
  return Node.isVariableDeclaration(parent) ? parent.getName() : "function";
}

export function nodeText(n: Node): string {
  const t = n.getText();
  return t.length > 40 ? `${t.slice(0, 37)}...` : t;
}

/** The text of the object a property or element is read from (`p` in `p.w`), for messages. */
export function ownerText(at: Node): string {
  if (Node.isPropertyAccessExpression(at) || Node.isElementAccessExpression(at)) return nodeText(at.getExpression());
  if (Node.isBindingElement(at)) {
    const init = at.getFirstAncestorByKind(SyntaxKind.VariableDeclaration)?.getInitializer();
    return nodeText(init ?? at.getParentOrThrow());
  }
  return nodeText(at);
}

export function describeType(v: Value): string {
  // The dtype only when it is f32: it is what tells "a number" from "a number" apart.
  const { dtype, shape } = v.type;
  if (shape.length === 0) return dtype === "bool" ? "a boolean" : dtype === "f32" ? "an f32 number (computed from f32 tensors)" : "a number";
  return `${dtype === "f32" ? "f32 " : ""}shape [${shape.join(", ")}]`;
}

const KIND_NAMES: Partial<Record<SyntaxKind, string>> = {
  [SyntaxKind.TryStatement]: "A try statement",
  [SyntaxKind.ThrowStatement]: "A throw statement",
  [SyntaxKind.ClassDeclaration]: "A class declaration",
  [SyntaxKind.StringLiteral]: "A string",
  [SyntaxKind.TemplateExpression]: "A template string",
  [SyntaxKind.NewExpression]: "new",
  [SyntaxKind.AwaitExpression]: "await",
  [SyntaxKind.ThisKeyword]: "this",
  [SyntaxKind.LabeledStatement]: "A labeled statement",
};

export function describeKind(n: Node): string {
  return KIND_NAMES[n.getKind()] ?? `'${n.getKindName()}'`;
}

export function shapeDiagnostic(e: ShapeError, at: Node): LowerError {
  const code = e.code === "matmul" ? "GRADC2002" : e.code === "axis" ? "GRADC2003" : e.code === "reshape" ? "GRADC2004" : e.code === "broadcast" ? "GRADC2001" : e.code === "window" ? "GRADC2007" : e.code === "fit" ? "GRADC2008" : "GRADC2005";
  return new LowerError(code, at, [e.message]);
}

