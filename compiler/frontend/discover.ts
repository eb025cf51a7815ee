// Finds the compile targets of a source file: top-level bindings initialized by `grad(f, opts?)`
// or `valueAndGrad(f, opts?)` where those functions come from "gradc".

import { type CallExpression, Node, type ObjectLiteralExpression, type SourceFile, SyntaxKind, type VariableDeclaration } from "ts-morph";
import { LowerError } from "./errors.js";
import { type FunctionLike, isFunctionLike } from "./types.js";
import { type ParamSpec, leavesOf } from "../ir/signature.js";

export interface GradBinding {
  /** The name the generated module exports it under (`default` for `export default grad(f)`). */
  readonly exportName: string;
  readonly exported: boolean;
  readonly mode: "grad" | "valueAndGrad" | "jvp";
  readonly call: CallExpression;
  /** The `const`/`let` it initializes; absent for `export default grad(f)`. */
  readonly declaration?: VariableDeclaration;
}

const TRANSFORMS = new Set(["grad", "valueAndGrad", "jvp"]);
/**
 * Functions of gradc that take a function but are not transformations to compile on their own
 * (`customVjp` makes a function that models call: it is compiled where it is called).
 */
const TAKES_FUNCTION = new Set(["checkGrad", "customVjp"]);

interface GradcImports {
  /** Local name → the name gradc exports (`import { grad as G }` maps G → grad). */
  readonly named: ReadonlyMap<string, string>;
  /** Local names of `import * as g from "gradc"`. */
  readonly namespaces: ReadonlySet<string>;
}

/** The names under which this file imports from "gradc". */
function gradcImports(sf: SourceFile): GradcImports {
  const named = new Map<string, string>();
  const namespaces = new Set<string>();
  for (const imp of sf.getImportDeclarations()) {
    if (imp.getModuleSpecifierValue() !== "gradc") continue;
    for (const spec of imp.getNamedImports()) named.set(spec.getAliasNode()?.getText() ?? spec.getName(), spec.getName());
    const ns = imp.getNamespaceImport();
    if (ns) namespaces.add(ns.getText());
  }
  if (named.size > 0 || namespaces.size > 0) addLocalAliases(sf, { named, namespaces }, named);
  return { named, namespaces };
}

/**
 * Top-level `const mine = grad` (or `= g.grad`, or an alias of an alias): another local name for
 * a gradc export, so `mine(f)` is the binding `grad(f)` and is compiled, not silently skipped.
 */
function addLocalAliases(sf: SourceFile, imports: GradcImports, named: Map<string, string>): void {
  const candidates = sf
    .getVariableStatements()
    .flatMap((stmt) => stmt.getDeclarations())
    .filter((d) => Node.isIdentifier(d.getNameNode()));
  for (let grew = true; grew; ) {
    grew = false;
    for (const decl of candidates) {
      const init = decl.getInitializer();
      if (!init || named.has(decl.getName())) continue;
      const name = Node.isIdentifier(init) || Node.isPropertyAccessExpression(init) ? gradcCallee(init, imports) : undefined;
      if (name === undefined) continue;
      named.set(decl.getName(), name);
      grew = true;
    }
  }
}

/** The gradc name a callee stands for (`grad`, `G` imported as grad, `g.grad`), if any. */
function gradcCallee(callee: Node, imports: GradcImports): string | undefined {
  if (Node.isIdentifier(callee)) return imports.named.get(callee.getText());
  if (Node.isPropertyAccessExpression(callee) && imports.namespaces.has(callee.getExpression().getText())) return callee.getName();
  return undefined;
}

/** Top-level initialized bindings and default exports: where a grad binding may be. */
function topLevelCalls(sf: SourceFile): { call: CallExpression; declaration?: VariableDeclaration; exported: boolean }[] {
  const out: { call: CallExpression; declaration?: VariableDeclaration; exported: boolean }[] = [];
  for (const stmt of sf.getStatements()) {
    if (Node.isVariableStatement(stmt)) {
      for (const decl of stmt.getDeclarations()) {
        const init = decl.getInitializer();
        if (init && Node.isCallExpression(init)) out.push({ call: init, declaration: decl, exported: stmt.isExported() });
      }
    } else if (Node.isExportAssignment(stmt) && !stmt.isExportEquals()) {
      let e: Node = stmt.getExpression();
      while (Node.isParenthesizedExpression(e) || Node.isAsExpression(e) || Node.isSatisfiesExpression(e)) e = e.getExpression();
      if (Node.isCallExpression(e)) out.push({ call: e, exported: true });
    }
  }
  return out;
}

/** Names given to local bindings by `export { a, b as c }` and `export default a`. */
function exportedLater(sf: SourceFile): Map<string, string> {
  const names = new Map<string, string>();
  for (const stmt of sf.getStatements()) {
    if (Node.isExportDeclaration(stmt) && !stmt.getModuleSpecifier() && !stmt.isTypeOnly())
      for (const spec of stmt.getNamedExports()) {
        const local = spec.getName();
        if (!names.has(local)) names.set(local, spec.getAliasNode()?.getText() ?? local);
      }
    if (Node.isExportAssignment(stmt) && !stmt.isExportEquals() && Node.isIdentifier(stmt.getExpression())) {
      const local = stmt.getExpression().getText();
      if (!names.has(local)) names.set(local, "default");
    }
  }
  return names;
}

export function findGradBindings(sf: SourceFile): GradBinding[] {
  const imports = gradcImports(sf);
  if (imports.named.size === 0 && imports.namespaces.size === 0) return [];
  const later = exportedLater(sf);
  const out: GradBinding[] = [];
  for (const { call, declaration, exported } of topLevelCalls(sf)) {
    const mode = gradcCallee(call.getExpression(), imports);
    if (mode !== "grad" && mode !== "valueAndGrad" && mode !== "jvp") continue;
    if (!declaration) {
      out.push({ exportName: "default", exported: true, mode, call });
      continue;
    }
    const local = declaration.getName();
    // `const df = grad(f); export { df as dloss }` is exported as dloss (as its own name when
    // it is exported both ways).
    const exportName = exported ? local : (later.get(local) ?? local);
    out.push({ exportName, exported: exported || later.has(local), mode, call, declaration });
  }
  return out;
}

/**
 * Top-level bindings that apply a transformation gradc does not compile (`jvp(f)`, `vmap(f)`,
 * a gradc name it does not know applied to a function): left alone they would run uncompiled,
 * or not at all, while the file compiles without a word.
 */
export function unknownTransforms(sf: SourceFile): LowerError[] {
  const imports = gradcImports(sf);
  if (imports.named.size === 0 && imports.namespaces.size === 0) return [];
  const errors: LowerError[] = [];
  for (const { call } of topLevelCalls(sf)) {
    const callee = call.getExpression();
    let name = gradcCallee(callee, imports);
    // An undeclared callee applied to a function of the program, in a file that uses gradc.
    if (name === undefined && Node.isIdentifier(callee) && (callee.getSymbol()?.getDeclarations().length ?? 0) === 0) name = callee.getText();
    if (name === undefined || TRANSFORMS.has(name) || TAKES_FUNCTION.has(name)) continue;
    const arg = call.getArguments()[0];
    if (!arg || !(isFunctionLike(arg) || (Node.isIdentifier(arg) && refersToFunction(arg)))) continue;
    errors.push(new LowerError("GRADC1024", callee, [callee.getText()]));
  }
  return errors;
}

/** A call of one of gradc's transformations (`grad(f)` as the argument of another). */
function isTransformCall(call: CallExpression): boolean {
  const imports = gradcImports(call.getSourceFile());
  const name = gradcCallee(call.getExpression(), imports);
  return name !== undefined && TRANSFORMS.has(name);
}

function refersToFunction(id: Node): boolean {
  let sym = id.getSymbol();
  if (sym?.isAlias()) sym = sym.getAliasedSymbol() ?? sym;
  const decl = sym?.getDeclarations()[0];
  if (isFunctionLike(decl)) return true;
  return decl !== undefined && Node.isVariableDeclaration(decl) && isFunctionLike(decl.getInitializer());
}

/** The function a grad call differentiates: declared in the program, or written inline. */
export function resolveModel(binding: GradBinding): { decl: FunctionLike; name: string; wrap?: CallExpression } {
  // `const [a] = grad(f)` destructures a function: there is no one name to export it under.
  const target = binding.declaration?.getNameNode();
  if (target && !Node.isIdentifier(target))
    throw new LowerError("GRADC1022", target, [target.getText(), binding.mode]);
  const arg = binding.call.getArguments()[0];
  const fail = (): never => {
    throw new LowerError("GRADC1008", arg ?? binding.call, [binding.mode]);
  };
  if (!arg) return fail();
  // `grad(grad(f))`, `jvp(grad(f))`: the innermost function gives the parameters, the inner
  // transformation expression is applied to them (see Lowerer.lowerTop).
  if (Node.isCallExpression(arg) && isTransformCall(arg)) {
    const inner = resolveModel({ ...binding, call: arg, declaration: undefined });
    return { ...inner, wrap: arg };
  }
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
  checkOptionNames(opts, binding.mode);
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

/**
 * Refuses an argument position in argnums whose parameter holds an i32 tensor (GRADC2009), at
 * the argnums option (or at the function, when the default position 0 is the one).
 */
export function refuseIntegerArgnums(binding: GradBinding, argnums: readonly number[], params: readonly ParamSpec[]): void {
  for (const k of argnums) {
    const p = params[k];
    const leaf = p ? leavesOf(p.tree).find((l) => l.type.dtype === "i32") : undefined;
    if (!p || !leaf) continue;
    const opts = binding.call.getArguments()[1];
    const prop = opts && Node.isObjectLiteralExpression(opts) ? opts.getProperty("argnums") : undefined;
    const at = prop ?? binding.call.getArguments()[0] ?? binding.call;
    const path = [p.name, ...leaf.path.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`))].join("");
    throw new LowerError("GRADC2009", at, [p.name, leaf.path.length === 0 ? "it" : `'${path}'`]);
  }
}

const KNOWN_OPTIONS = new Set(["argnums", "scope", "hasAux", "reuse"]);

/** Every option must be one gradc honors: one it ignored would change results without a word. */
function checkOptionNames(opts: ObjectLiteralExpression, mode: string): void {
  for (const p of opts.getProperties()) {
    const nameNode = Node.isPropertyAssignment(p) || Node.isShorthandPropertyAssignment(p) || Node.isMethodDeclaration(p) ? p.getNameNode() : p;
    const name = nameNode.getText().replace(/^["']|["']$/g, "");
    if (!KNOWN_OPTIONS.has(name)) throw new LowerError("GRADC1025", nameNode, [name, mode]);
  }
}

/** The boolean options of a transformation: they change what the compiled function returns. */
export interface TransformFlags {
  /** `f` returns `[loss, aux]`; aux comes back beside the value (or the gradients). */
  readonly hasAux: boolean;
  /** The compiled function returns the same result objects every call, overwritten in place. */
  readonly reuse: boolean;
}

/**
 * `hasAux` and `reuse` from the options literal. Each must be written `true` or `false`: the
 * compiler decides the shape of the generated function from it, so a value known only at run
 * time (which the uncompiled fallback would honor) cannot be compiled. Anything wrong with the
 * literal itself is readArgnums' to report.
 */
export function readFlags(binding: GradBinding): TransformFlags {
  const opts = binding.call.getArguments()[1];
  const flags = { hasAux: false, reuse: false };
  if (!opts || !Node.isObjectLiteralExpression(opts)) return flags;
  for (const name of ["hasAux", "reuse"] as const) {
    const prop = opts.getProperty(name);
    if (!prop) continue;
    // jvp differentiates a function's whole result: there is no loss to set aux beside.
    if (name === "hasAux" && binding.mode === "jvp") throw new LowerError("GRADC1025", Node.isPropertyAssignment(prop) ? prop.getNameNode() : prop, [name, binding.mode]);
    const init = Node.isPropertyAssignment(prop) ? prop.getInitializer() : undefined;
    const kind = init?.getKind();
    if (kind !== SyntaxKind.TrueKeyword && kind !== SyntaxKind.FalseKeyword)
      throw new LowerError("GRADC1040", init ?? prop, [name, binding.mode, (init ?? prop).getText()]);
    flags[name] = kind === SyntaxKind.TrueKeyword;
  }
  return flags;
}
