// Names a model takes from "gradc": `import { add }`, `import { add as plus }` and
// `import * as g` with `g.add(...)` all reach the same op. A gradc function that is not an op
// of the language (tensor constructors from data, transformations, optimizers) is refused
// with what to do instead.

import { Node, type PropertyAccessExpression, ts } from "ts-morph";
import { LowerError } from "./errors.js";
import type { LV, TransformName } from "./types.js";
import { GRADC_OPS } from "./opcalls.js";

/** Transformations a model may apply to functions of the program (see nested.ts). */
const TRANSFORMS: ReadonlySet<string> = new Set<TransformName>(["grad", "valueAndGrad", "jvp", "customVjp"]);

const INSTEAD: Readonly<Record<string, string>> = {
  tensor: "Build the tensor outside the function and pass it as an argument (one not listed in argnums).",
  randn: "Draw the random tensor outside the function and pass it as an argument (one not listed in argnums).",
};

/** The op `name` imported from gradc, as a callee; a located error when it is not one. */
export function gradcOp(name: string, at: Node): LV {
  if (TRANSFORMS.has(name)) return { k: "transform", name: name as TransformName };
  const call = Object.hasOwn(GRADC_OPS, name) ? GRADC_OPS[name] : undefined;
  if (call) return { k: "op", call, name };
  const instead = Object.hasOwn(INSTEAD, name) ? INSTEAD[name]! : "Call it outside the differentiable function.";
  throw new LowerError("GRADC1028", at, [name, instead]);
}

/** The names `import * as g from "gradc"` declares in a file, per parsed file. */
const namespaceNames = new WeakMap<ts.SourceFile, ReadonlySet<string>>();

function gradcNamespaces(sf: ts.SourceFile): ReadonlySet<string> {
  let names = namespaceNames.get(sf);
  if (names === undefined) {
    const found = new Set<string>();
    for (const st of sf.statements) {
      if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier) || st.moduleSpecifier.text !== "gradc") continue;
      const bindings = st.importClause?.namedBindings;
      if (bindings !== undefined && ts.isNamespaceImport(bindings)) found.add(bindings.name.text);
    }
    namespaceNames.set(sf, (names = found));
  }
  return names;
}

/** `g.add` where `g` is `import * as g from "gradc"`: the op; undefined for anything else. */
export function gradcNamespaceMember(pa: PropertyAccessExpression): LV | undefined {
  // Most member reads (`Math.tanh`, `p.W1`) are of a name no namespace import of gradc in
  // this file declares: known without asking the type checker what the name is.
  const target = pa.compilerNode.expression;
  if (!ts.isIdentifier(target) || !gradcNamespaces(target.getSourceFile()).has(target.text)) return undefined;
  const obj = pa.getExpression();
  if (!Node.isIdentifier(obj)) return undefined;
  const decls = obj.getSymbol()?.getDeclarations() ?? [];
  const ns = decls.find((d) => Node.isNamespaceImport(d));
  if (!ns) return undefined;
  const imp = ns.getFirstAncestor((a) => Node.isImportDeclaration(a));
  if (!imp || !Node.isImportDeclaration(imp) || imp.getModuleSpecifierValue() !== "gradc") return undefined;
  return gradcOp(pa.getName(), pa);
}
