// Both paths of one program: the compiler's verdict on each grad binding (compiled, or the GRADC
// codes it refuses with), and the same binding run uncompiled on the tape, so the two can be
// compared binding by binding. The uncompiled module is the program's own source with one line
// added that hands the fallback the module's top-level names (what a user passes as `scope`),
// since the fallback reads only a function's own source.

import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Node, type SourceFile } from "ts-morph";
import { formatMessage } from "../../compiler/diagnostics/messages.js";
import { resolveModel, findGradBindings, readArgnums } from "../../compiler/frontend/discover.js";
import { LowerError } from "../../compiler/frontend/errors.js";
import { type Layout, layoutOf } from "../../compiler/frontend/layout.js";
import { valueParameters } from "../../compiler/frontend/lower-support.js";
import type { Tree } from "../../compiler/ir/signature.js";
import { type CompiledFunction, compileBinding, createProject, generate, guardNesting, syntaxDiagnostics } from "../../compiler/program.js";

/** The compiler's answer for one binding. */
export interface Verdict {
  readonly exportName: string;
  readonly mode: "grad" | "valueAndGrad" | "jvp";
  /** Codes of the diagnostics, empty when it compiled. */
  readonly codes: readonly string[];
  /** `GRADCnnnn: message` of each diagnostic. */
  readonly messages: readonly string[];
  readonly compiled?: CompiledFunction;
  /** Parameter layouts (from the compiled signature, or read from the declared types). */
  readonly params: readonly (Tree | Layout)[];
  readonly argnums: readonly number[];
}

/** A program's verdicts: per binding, or for the whole file (syntax, nesting). */
export interface ProgramVerdict {
  readonly name: string;
  readonly file: string;
  readonly fileCodes: readonly string[];
  readonly bindings: readonly Verdict[];
  /** The generated module of the bindings that compiled. */
  readonly code?: string;
  /** Top-level value names of the module, for `scope`. */
  readonly names: readonly string[];
}

/** Compiles every binding of each file on its own (one project for all, as compile() would). */
export function verdicts(files: readonly { name: string; file: string }[]): ProgramVerdict[] {
  const { project } = createProject(files.map((f) => f.file));
  guardNesting(project);
  return files.map(({ name, file }) => {
    const sf = project.getSourceFile(file);
    if (!sf) return { name, file, fileCodes: ["GRADC1021"], bindings: [], names: [] };
    const syntax = syntaxDiagnostics(sf, dirname(file));
    if (syntax.length > 0) return { name, file, fileCodes: syntax.map((d) => d.code), bindings: [], names: [] };
    const bindings = findGradBindings(sf).map((b): Verdict => {
      let params: (Tree | Layout)[] = [];
      let argnums: number[] = [0];
      try {
        const { decl } = resolveModel(b);
        params = valueParameters(decl).map((p) => {
          try {
            return layoutOf(p.getType(), p, p.getName(), new Set());
          } catch {
            return { kind: "leaf", type: { dtype: "f64", shape: [] } } as Layout;
          }
        });
        argnums = readArgnums(b, params.length).argnums;
      } catch {
        // The binding itself is refused: its verdict says so.
      }
      try {
        const compiled = compileBinding(b, sf, dirname(file), { emit: "js", verify: true });
        return { exportName: b.exportName, mode: b.mode, codes: [], messages: [], compiled, params: compiled.spec.params.map((p) => p.tree), argnums: compiled.spec.argnums };
      } catch (e) {
        // Nesting below the guard's limit can still exhaust the stack (compile() reports GRADC1021).
        if (e instanceof RangeError) return { exportName: b.exportName, mode: b.mode, codes: ["GRADC1021"], messages: [], params, argnums };
        if (!(e instanceof LowerError)) throw e;
        const messages = e.all.map((x) => `${x.code}: ${formatMessage(x.code, x.args)}`);
        return { exportName: b.exportName, mode: b.mode, codes: [...new Set(e.all.map((x) => x.code))], messages, params, argnums };
      }
    });
    const ok = bindings.flatMap((v) => (v.compiled ? [v.compiled] : []));
    const code = ok.length > 0 ? generate(ok, basename(file), "js").code : undefined;
    return { name, file, fileCodes: [], bindings, ...(code !== undefined ? { code } : {}), names: topLevelNames(sf) };
  });
}

/** The module's top-level value bindings: imports (not type-only), functions, variables. */
function topLevelNames(sf: SourceFile): string[] {
  const out: string[] = [];
  for (const s of sf.getStatements()) {
    if (Node.isImportDeclaration(s)) {
      if (s.isTypeOnly()) continue;
      const def = s.getDefaultImport();
      if (def) out.push(def.getText());
      const ns = s.getNamespaceImport();
      if (ns) out.push(ns.getText());
      for (const n of s.getNamedImports()) if (!n.isTypeOnly()) out.push((n.getAliasNode() ?? n.getNameNode()).getText());
    } else if (Node.isFunctionDeclaration(s)) {
      const n = s.getName();
      if (n && s.hasBody()) out.push(n);
    } else if (Node.isVariableStatement(s) && !s.hasDeclareKeyword()) {
      for (const d of s.getDeclarations()) {
        const id = d.getNameNode();
        if (Node.isIdentifier(id)) out.push(id.getText());
        else for (const el of id.getDescendants()) if (Node.isBindingElement(el) && Node.isIdentifier(el.getNameNode())) out.push(el.getName());
      }
    }
  }
  // A module's own `Math` (an export named so) is not what its functions mean by Math.
  return [...new Set(out)].filter((n) => !["Math", "undefined", "NaN", "Infinity"].includes(n));
}

/**
 * Writes the uncompiled module for a program (its folder copied to `dir`, its input with the
 * line that fills `globalThis.__gradcScope`) and returns the path to import.
 */
export function fallbackModule(v: ProgramVerdict, source: string, dir: string, copyFolder: boolean): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (copyFolder)
    for (const f of readdirSync(dirname(v.file)))
      if (f.endsWith(".ts") && f !== basename(v.file)) copyFileSync(join(dirname(v.file), f), join(dir, f));
  const path = join(dir, basename(v.file));
  const fill = `\n;Object.assign((globalThis as unknown as { __gradcScope: object }).__gradcScope, { ${v.names.join(", ")} });\n`;
  writeFileSync(path, source + fill);
  return path;
}

// ---- arguments and results -----------------------------------------------------------------

/**
 * An argument for a parameter layout: numbers in [0.25, 1.5], tensors alike (the domain the
 * generated models are written for: logarithms of 1 + x and the like); symbolic dimensions are 3.
 */
export function argumentFor(t: Tree | Layout, next: () => number): unknown {
  if (t.kind === "leaf") {
    const { shape, dtype } = t.type;
    const value = () => 0.25 + 1.25 * next();
    if (shape.length === 0) return value();
    const dims = shape.map((d) => (typeof d === "number" ? d : 3));
    const n = dims.reduce((a, b) => a * b, 1);
    // Labels and indices: 0 and 1, in range of any axis, and repeated.
    if (dtype === "i32") return { shape: dims, data: Int32Array.from({ length: n }, () => (next() < 0.5 ? 0 : 1)) };
    const data = dtype === "f32" ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = value();
    return { shape: dims, data };
  }
  if (t.kind === "array") return t.items.map((x: Tree | Layout) => argumentFor(x, next));
  return Object.fromEntries(t.fields.map((f) => [f.key, argumentFor("tree" in f ? f.tree : f.layout, next)]));
}

/** Every number of a result, in order (tensors' entries, numbers, in arrays and objects). */
export function numbersOf(v: unknown, out: number[] = []): number[] {
  if (typeof v === "number") out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => numbersOf(x, out));
  else if (v && typeof v === "object") {
    const data = (v as { data?: unknown }).data;
    if (ArrayBuffer.isView(data)) out.push(...Array.from(data as Float64Array));
    else Object.values(v).forEach((x) => numbersOf(x, out));
  }
  return out;
}

/** A seeded uniform generator in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
