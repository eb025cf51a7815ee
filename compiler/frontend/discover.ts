// Finds the compile targets of a source file: top-level bindings initialized by `grad(f, opts?)`
// or `valueAndGrad(f, opts?)` where those functions come from "gradc".

import { type CallExpression, Node, type SourceFile, type VariableDeclaration } from "ts-morph";
import { LowerError } from "./errors.js";
import { type FunctionLike, isFunctionLike } from "./lower.js";

export interface GradBinding {
  readonly exportName: string;
  readonly exported: boolean;
  readonly mode: "grad" | "valueAndGrad";
  readonly call: CallExpression;
  readonly declaration: VariableDeclaration;
}

const TRANSFORMS = new Set(["grad", "valueAndGrad"]);

/** Local names under which this file imports grad/valueAndGrad, and namespace imports of gradc. */
function gradcImports(sf: SourceFile): { named: Map<string, "grad" | "valueAndGrad">; namespaces: Set<string> } {
  const named = new Map<string, "grad" | "valueAndGrad">();
  const namespaces = new Set<string>();
  for (const imp of sf.getImportDeclarations()) {
    if (imp.getModuleSpecifierValue() !== "gradc") continue;
    for (const spec of imp.getNamedImports()) {
      const imported = spec.getName();
      if (TRANSFORMS.has(imported)) named.set(spec.getAliasNode()?.getText() ?? imported, imported as "grad" | "valueAndGrad");
    }
    const ns = imp.getNamespaceImport();
    if (ns) namespaces.add(ns.getText());
  }
  return { named, namespaces };
}

export function findGradBindings(sf: SourceFile): GradBinding[] {
  const { named, namespaces } = gradcImports(sf);
  if (named.size === 0 && namespaces.size === 0) return [];
  const out: GradBinding[] = [];
  for (const stmt of sf.getVariableStatements()) {
    for (const decl of stmt.getDeclarations()) {
      const init = decl.getInitializer();
      if (!init || !Node.isCallExpression(init)) continue;
      const callee = init.getExpression();
      let mode: "grad" | "valueAndGrad" | undefined;
      if (Node.isIdentifier(callee)) mode = named.get(callee.getText());
      else if (Node.isPropertyAccessExpression(callee) && namespaces.has(callee.getExpression().getText()) && TRANSFORMS.has(callee.getName()))
        mode = callee.getName() as "grad" | "valueAndGrad";
      if (!mode) continue;
      out.push({ exportName: decl.getName(), exported: stmt.isExported(), mode, call: init, declaration: decl });
    }
  }
  return out;
}

/** The function a grad call differentiates: declared in the program, or written inline. */
export function resolveModel(binding: GradBinding): { decl: FunctionLike; name: string } {
  // `const [a] = grad(f)` destructures a function: there is no one name to export it under.
  const target = binding.declaration.getNameNode();
  if (!Node.isIdentifier(target))
    throw new LowerError("GRADC1022", target, [target.getText(), binding.mode]);
  const arg = binding.call.getArguments()[0];
  const fail = (): never => {
    throw new LowerError("GRADC1008", arg ?? binding.call, [binding.mode]);
  };
  if (!arg) return fail();
  if (isFunctionLike(arg)) return { decl: arg, name: binding.exportName };
  if (!Node.isIdentifier(arg)) return fail();
  let sym = arg.getSymbol();
  // A function of gradc itself (grad(sum), or a local function clashing with an import of grad)
  // is not a model of the program, even where gradc's own source is visible to the compiler.
  if (sym?.getDeclarations().some((d) => Node.isImportSpecifier(d) && d.getImportDeclaration().getModuleSpecifierValue() === "gradc"))
    return fail();
  if (sym?.isAlias()) sym = sym.getAliasedSymbol() ?? sym;
  const decl = sym?.getDeclarations()[0];
  if (isFunctionLike(decl) && !decl.getSourceFile().isDeclarationFile()) return { decl, name: arg.getText() };
  if (decl && Node.isVariableDeclaration(decl)) {
    const init = decl.getInitializer();
    if (isFunctionLike(init)) return { decl: init, name: arg.getText() };
  }
  return fail();
}

/** `{ argnums }` from the options literal: positions, and whether a tuple was asked for. */
export function readArgnums(binding: GradBinding, arity: number): { argnums: number[]; isArray: boolean } {
  const opts = binding.call.getArguments()[1];
  const bad = (at: Node, got = at.getText()): never => {
    throw new LowerError("GRADC1009", at, [arity, got]);
  };
  // The default differentiates argument 0, which a function without parameters lacks.
  const byDefault = (): { argnums: number[]; isArray: boolean } =>
    arity > 0 ? { argnums: [0], isArray: false } : bad(binding.call.getArguments()[0] ?? binding.call, "0 (the default)");
  if (!opts) return byDefault();
  if (!Node.isObjectLiteralExpression(opts)) return bad(opts);
  // A spread could carry argnums the compiler cannot see; the fallback would honor it.
  const spread = opts.getProperties().find((p) => Node.isSpreadAssignment(p));
  if (spread) return bad(spread);
  const prop = opts.getProperty("argnums");
  if (!prop) return byDefault();
  if (!Node.isPropertyAssignment(prop)) return bad(prop);
  const init = prop.getInitializerOrThrow();
  const position = (n: Node): number => {
    if (!Node.isNumericLiteral(n)) return bad(n);
    const v = Number(n.getLiteralValue());
    if (!Number.isInteger(v) || v < 0 || v >= arity) return bad(n);
    return v;
  };
  if (Node.isArrayLiteralExpression(init)) {
    const argnums = init.getElements().map(position);
    if (argnums.length === 0 || new Set(argnums).size !== argnums.length) return bad(init);
    return { argnums, isArray: true };
  }
  return { argnums: [position(init)], isArray: false };
}
