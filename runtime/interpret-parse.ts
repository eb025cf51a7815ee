// Reading a function's source for the uncompiled fallback: `f.toString()` parsed once with
// acorn, and the facts about a syntax tree the evaluator asks often (hoisted `var` names, which
// blocks declare names), each computed once per node.

import * as acorn from "acorn";
import type * as ES from "acorn";

export type FunctionNode = ES.FunctionExpression | ES.ArrowFunctionExpression | ES.FunctionDeclaration;

/** A function's syntax tree and the text it came from (for error locations). */
export interface ParsedFunction {
  readonly node: FunctionNode;
  readonly source: string;
  /** Characters of wrapper text before `source` in what acorn parsed. */
  readonly offset: number;
  readonly name: string;
}

const parseCache = new WeakMap<object, ParsedFunction | null>();

/**
 * Parses a function's own source: declarations, expressions, arrows and methods (`m(x) {…}`,
 * which only parse inside an object literal). Null when there is no source to read (native or
 * bound functions) or it is not a plain function (classes, generators, async).
 */
export function parseFunction(f: (...args: never[]) => unknown): ParsedFunction | null {
  const cached = parseCache.get(f);
  if (cached !== undefined) return cached;
  const source = f.toString();
  let result: ParsedFunction | null = null;
  const attempt = (prefix: string, suffix: string, pick: (e: ES.Expression) => ES.Node | undefined): boolean => {
    let program: ES.Program;
    try {
      program = acorn.parse(prefix + source + suffix, { ecmaVersion: "latest", sourceType: "script" });
    } catch {
      return false;
    }
    const stmt = program.body[0];
    if (program.body.length !== 1 || stmt?.type !== "ExpressionStatement") return false;
    const node = pick(stmt.expression as ES.Expression);
    if (node?.type !== "FunctionExpression" && node?.type !== "ArrowFunctionExpression") return false;
    const fn = node as ES.FunctionExpression | ES.ArrowFunctionExpression;
    if (fn.async || fn.generator) return false;
    result = { node: fn, source, offset: prefix.length, name: f.name || "(anonymous)" };
    return true;
  };
  // `(function f() {})`, `((x) => x)`; then methods, `({ m(x) { … } })`.
  if (!attempt("(", ")", (e) => e)) {
    attempt("({", "})", (e) => {
      const prop = e.type === "ObjectExpression" ? e.properties[0] : undefined;
      return prop?.type === "Property" && prop.kind === "init" ? prop.value : undefined;
    });
  }
  parseCache.set(f, result);
  return result;
}

/** Visits the nodes of a subtree in source order, not entering nested functions; `visit` returns false to skip a node's children. */
export function walkOwn(node: ES.Node, visit: (n: ES.Node) => boolean | void): void {
  const go = (n: unknown): void => {
    if (typeof n !== "object" || n === null) return;
    if (Array.isArray(n)) return n.forEach(go);
    const t = (n as { type?: unknown }).type;
    if (typeof t !== "string") return;
    if (visit(n as ES.Node) === false) return;
    if (n !== node && (t === "FunctionDeclaration" || t === "FunctionExpression" || t === "ArrowFunctionExpression")) return;
    for (const k of Object.keys(n)) if (k !== "type" && k !== "start" && k !== "end" && k !== "loc") go((n as Record<string, unknown>)[k]);
  };
  go(node);
}

/** The names a binding pattern binds. */
export function patternNames(p: ES.Pattern | null, out: string[] = []): string[] {
  if (p === null) return out;
  if (p.type === "Identifier") out.push(p.name);
  else if (p.type === "ArrayPattern") p.elements.forEach((e) => patternNames(e, out));
  else if (p.type === "ObjectPattern") p.properties.forEach((q) => patternNames(q.type === "RestElement" ? q.argument : q.value, out));
  else if (p.type === "RestElement") patternNames(p.argument, out);
  else if (p.type === "AssignmentPattern") patternNames(p.left, out);
  return out;
}

const callees = new WeakMap<FunctionNode, string[]>();

/** The names a function calls (`f(…)`), nested functions included. */
export function calledNames(fn: FunctionNode): string[] {
  let names = callees.get(fn);
  if (names !== undefined) return names;
  const found = new Set<string>();
  const go = (n: unknown): void => {
    if (typeof n !== "object" || n === null) return;
    if (Array.isArray(n)) return n.forEach(go);
    const node = n as ES.Node;
    if (node.type === "CallExpression" && (node as ES.CallExpression).callee.type === "Identifier") found.add(((node as ES.CallExpression).callee as ES.Identifier).name);
    for (const k of Object.keys(node)) if (k !== "type" && k !== "start" && k !== "end" && k !== "loc") go((node as unknown as Record<string, unknown>)[k]);
  };
  go(fn.body);
  names = [...found];
  callees.set(fn, names);
  return names;
}

const varNames = new WeakMap<FunctionNode, string[]>();

/** The `var` names a function declares anywhere in its body (not in nested functions): JS hoists them. */
export function hoistedVars(fn: FunctionNode): string[] {
  let names = varNames.get(fn);
  if (names !== undefined) return names;
  const found = new Set<string>();
  if (fn.body.type === "BlockStatement")
    walkOwn(fn.body, (n) => {
      if (n.type !== "VariableDeclaration") return;
      const decl = n as ES.VariableDeclaration;
      if (decl.kind === "var") decl.declarations.forEach((d) => patternNames(d.id).forEach((x) => found.add(x)));
    });
  names = [...found];
  varNames.set(fn, names);
  return names;
}

const blockDeclarations = new WeakMap<ES.BlockStatement, boolean>();

/** Whether a block declares names directly in it (let, const, var, functions). */
export function declaresNames(block: ES.BlockStatement): boolean {
  let known = blockDeclarations.get(block);
  if (known === undefined) {
    known = block.body.some((s) => s.type === "VariableDeclaration" || s.type === "FunctionDeclaration");
    blockDeclarations.set(block, known);
  }
  return known;
}

const functionInside = new WeakMap<ES.Node, boolean>();

/** Whether a syntax subtree creates functions (closures that could capture loop variables). */
export function containsFunction(node: ES.Node): boolean {
  const known = functionInside.get(node);
  if (known !== undefined) return known;
  let found = false;
  walkOwn(node, (n) => {
    if (n !== node && (n.type === "FunctionExpression" || n.type === "ArrowFunctionExpression" || n.type === "FunctionDeclaration")) found = true;
    return !found;
  });
  functionInside.set(node, found);
  return found;
}
