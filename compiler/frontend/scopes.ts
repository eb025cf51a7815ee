// Names in a lowered body: declaring variables (plain names and destructuring), hoisting local
// function declarations, assigning to variables, and reading a name, whether a variable in
// scope, a global (`Math`, `NaN`), or a binding of the module (a function of the program, a
// gradc op, a module-level constant).

import type { Expression, Identifier, Statement, Symbol as TsMorphSymbol, ts } from "ts-morph";
import { Node } from "ts-morph";
import { LowerError, Poisoned } from "./errors.js";
import { gradcOp } from "./gradc-names.js";
import type { Host } from "./host.js";
import { describeKind } from "./lower-support.js";
import { type LV, POISON, Scope, type Var, isFunctionLike, nameValue } from "./types.js";

/** Declares `name` (an identifier or a destructuring pattern) as holding `lv`. */
export function bindName(h: Host, name: Node, lv: LV, mutable: boolean): void {
  if (Node.isIdentifier(name)) {
    const v: Var = { name: name.getText(), isParam: false, mutable };
    h.scope.declare(v);
    h.store.set(v, lv);
    nameValue(lv, v.name);
    return;
  }
  if (Node.isObjectBindingPattern(name)) {
    for (const el of name.getElements()) {
      if (el.getDotDotDotToken() || el.getInitializer())
        throw new LowerError("GRADC1001", el, ["Rest elements and defaults in destructuring", "Destructure the fields one by one."]);
      const key = el.getPropertyNameNode()?.getText() ?? el.getName();
      bindName(h, el.getNameNode(), h.member(lv, key.replace(/^["']|["']$/g, ""), el), mutable);
    }
    return;
  }
  if (Node.isArrayBindingPattern(name)) {
    name.getElements().forEach((el, i) => {
      if (Node.isOmittedExpression(el)) return;
      if (el.getDotDotDotToken() || el.getInitializer())
        throw new LowerError("GRADC1001", el, ["Rest elements and defaults in destructuring", "Destructure the elements one by one."]);
      bindName(h, el.getNameNode(), h.index(lv, i, el), mutable);
    });
    return;
  }
  throw new LowerError("GRADC1001", name, [describeKind(name), "Bind a name, or destructure an object or array."]);
}

/** Declares the names of a failed declaration as poisoned (see statements.ts, recover). */
export function poisonNames(h: Host, name: Node, mutable: boolean): void {
  if (Node.isIdentifier(name)) {
    const v: Var = { name: name.getText(), isParam: false, mutable };
    h.scope.declare(v);
    h.store.set(v, POISON);
  } else if (Node.isObjectBindingPattern(name) || Node.isArrayBindingPattern(name)) {
    for (const el of name.getElements()) if (Node.isBindingElement(el)) poisonNames(h, el.getNameNode(), mutable);
  }
}

/**
 * Declares a block's function declarations in the current scope, as JS hoists them: local
 * helpers are inlined at their calls and see the variables of the scope they are declared in.
 */
export function hoist(h: Host, stmts: readonly Statement[]): readonly Statement[] {
  for (const s of stmts) {
    const name = Node.isFunctionDeclaration(s) ? s.getName() : undefined;
    if (name === undefined || !Node.isFunctionDeclaration(s)) continue;
    const v: Var = { name, isParam: false, mutable: false };
    h.scope.declare(v);
    h.store.set(v, { k: "fn", decl: s, scope: h.scope });
  }
  return stmts;
}

/** `target = lv`: rebinds a `let` variable; properties and elements are not assignable. */
export function assign(h: Host, target: Expression, lv: LV): void {
  if (Node.isParenthesizedExpression(target)) return assign(h, target.getExpression(), lv);
  if (Node.isIdentifier(target)) {
    const v = h.scope.lookup(target.getText());
    if (!v) throw new LowerError("GRADC1011", target, [target.getText()]);
    if (!v.mutable) throw new LowerError("GRADC1001", target, ["Assigning to a const", "Declare it with let."]);
    h.store.set(v, lv);
    nameValue(lv, v.name);
    return;
  }
  if (Node.isPropertyAccessExpression(target) || Node.isElementAccessExpression(target)) {
    let root: Expression = target;
    while (Node.isPropertyAccessExpression(root) || Node.isElementAccessExpression(root)) root = root.getExpression();
    const v = Node.isIdentifier(root) ? h.scope.lookup(root.getText()) : undefined;
    if (v?.isParam) throw new LowerError("GRADC1004", target, [v.name]);
    throw new LowerError("GRADC1001", target, ["Assigning to a property or element", "Build a new object or array instead."]);
  }
  throw new LowerError("GRADC1001", target, ["This assignment target", "Assign to a variable."]);
}

/** What a name reads: a variable in scope, a global, or a binding of the module. */
export function identifier(h: Host, id: Identifier): LV {
  const name = id.getText();
  const v = h.scope.lookup(name);
  if (v) {
    const lv = h.store.get(v);
    if (!lv || lv.k === "undefined") throw new LowerError("GRADC1011", id, [name]);
    if (lv.k === "poison") throw new Poisoned();
    return lv;
  }
  if (name === "Math") return { k: "math" };
  if (name === "undefined") return { k: "undefined" };
  if (name === "NaN") return { k: "num", n: NaN };
  if (name === "Infinity") return { k: "num", n: Infinity };
  return resolveGlobal(h, id);
}

/** A name not bound locally: a function of the program, a gradc op, or a module constant. */
function resolveGlobal(h: Host, id: Identifier): LV {
  let sym = id.getSymbol();
  const op = sym === undefined ? undefined : gradcImport(sym);
  if (op !== undefined) return gradcOp(op, id);
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
      const saved = h.scope;
      h.scope = new Scope(undefined);
      try {
        return h.expr(init);
      } finally {
        h.scope = saved;
      }
    }
  }
  throw new LowerError("GRADC1003", id, [id.getText()]);
}

/** Per symbol: the name it imports from "gradc" (`import { add as plus }`: add), or null. */
const gradcImports = new WeakMap<ts.Symbol, string | null>();

/** The gradc op a symbol imports, remembered: a model names the same few ops many times. */
function gradcImport(sym: TsMorphSymbol): string | undefined {
  let name = gradcImports.get(sym.compilerSymbol);
  if (name === undefined) {
    const imported = sym.getDeclarations().find((d) => Node.isImportSpecifier(d));
    name = imported && Node.isImportSpecifier(imported) && imported.getImportDeclaration().getModuleSpecifierValue() === "gradc" ? imported.getName() : null;
    gradcImports.set(sym.compilerSymbol, name);
  }
  return name ?? undefined;
}
