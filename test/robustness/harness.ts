// Compiles fuzz programs in batches and judges each one. A batch is written to a folder and
// compiled in one TypeScript project (setting one up costs about a second), each file exactly
// as `compile([file])` would compile it. A program passes when the compiler either
//   - returns GRADC diagnostics, each with a known code and a location inside the file, or
//   - returns a module that parses (acorn for the JavaScript, esbuild for the TypeScript and
//     the .d.ts), calls no eval / Function / dynamic import, declares no top-level name that
//     shadows a global it reads, exports exactly the compiled bindings, and (optionally) runs:
//     imported and called on arguments of the declared types, it returns without throwing and
//     leaves Object.prototype as it was;
// and does what the case expects (a valid program compiles; a construct that must be refused
// is refused; "nested too deeply" only for deep programs). Anything thrown is a crash.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as acorn from "acorn";
import { transformSync } from "esbuild";
import { MESSAGES } from "../../compiler/diagnostics/messages.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { Tree } from "../../compiler/ir/signature.js";
import { type CompiledModule, compileSourceFile, createProject, generate, unparsedDiagnostics } from "../../compiler/program.js";
import type { Case } from "./programs.js";

export type Status = "compiled" | "diagnosed" | "crash" | "invalid" | "unexpected" | "hang";

export interface Outcome {
  readonly name: string;
  readonly family: string;
  readonly status: Status;
  /** What went wrong (for crash, invalid, unexpected), or the first diagnostic. */
  readonly detail?: string;
  readonly ms: number;
}

/** Globals generated code reads: no top-level declaration of the module may shadow them. */
const GLOBALS_READ = new Set(["Math", "Float64Array", "Float32Array", "Uint8Array", "Array", "Number", "Symbol", "Error", "globalThis", "undefined", "NaN", "Infinity", "Object", "ArrayBuffer"]);

export function checkDiagnostic(d: Diagnostic, text: string, file: string): string | undefined {
  if (!(d.code in MESSAGES)) return `unknown code ${d.code}`;
  if (/\{\d\}/.test(d.message)) return `unfilled message: ${d.message}`;
  if (d.file !== file) return `file ${d.file}, expected ${file}`;
  const lines = text.split("\n");
  if (!Number.isInteger(d.line) || d.line < 1 || d.line > lines.length) return `line ${d.line} outside 1..${lines.length}`;
  const raw = lines[d.line - 1]!.replace(/\r$/, "");
  // Columns restart after a lone "\r" (ts-morph's convention); the line text is then the part after it.
  const starts = [0, ...[...raw.matchAll(/\r/g)].map((m) => m.index! + 1)];
  const segment = starts.map((s) => raw.slice(s)).find((seg) => seg === d.lineText);
  if (segment === undefined && d.lineText !== raw) return `lineText ${JSON.stringify(d.lineText.slice(0, 80))} is not line ${d.line}`;
  if (!Number.isInteger(d.col) || d.col < 1 || d.col > raw.length + 1) return `column ${d.col} outside line ${d.line} (length ${raw.length})`;
  if (!Number.isInteger(d.length) || d.length < 1) return `length ${d.length}`;
  return undefined;
}

/** Problems with the generated JavaScript module's text. */
export function checkModuleText(m: CompiledModule): string | undefined {
  // acorn checks redeclarations with a linear scan per name: quadratic on functions of 10⁴
  // consts (V8 is not). Large modules are parsed by esbuild and checked token by token.
  if (m.code.length > 200_000) return checkLargeModule(m);
  let ast: acorn.Program;
  try {
    ast = acorn.parse(m.code, { ecmaVersion: "latest", sourceType: "module" });
  } catch (e) {
    return `generated JavaScript does not parse: ${String(e)}`;
  }
  const exported: string[] = [];
  for (const stmt of ast.body) {
    const decl = stmt.type === "ExportNamedDeclaration" ? stmt.declaration : stmt;
    if (stmt.type === "ExportNamedDeclaration") {
      for (const s of stmt.specifiers) exported.push(s.exported.type === "Identifier" ? s.exported.name : String(s.exported.value));
      if (stmt.declaration?.type === "FunctionDeclaration") exported.push(stmt.declaration.id.name);
    }
    const names =
      decl?.type === "FunctionDeclaration" || decl?.type === "ClassDeclaration"
        ? [decl.id?.name]
        : decl?.type === "VariableDeclaration"
          ? decl.declarations.map((v) => (v.id.type === "Identifier" ? v.id.name : undefined))
          : [];
    for (const n of names) if (n && GLOBALS_READ.has(n)) return `top-level declaration of ${n} shadows the global`;
  }
  const wanted = m.functions.map((f) => f.exportName).sort();
  // Export names in source may be written with escapes; compare what they denote.
  const cooked = wanted.map((n) => n.replace(/\\u\{?([0-9a-fA-F]+)\}?/g, (_m, h: string) => String.fromCodePoint(parseInt(h, 16))));
  if (JSON.stringify(exported.sort()) !== JSON.stringify(cooked.sort())) return `exports ${JSON.stringify(exported)}, expected ${JSON.stringify(cooked)}`;
  const forbidden = findForbidden(ast);
  if (forbidden) return `generated code uses ${forbidden}`;
  return undefined;
}

/** The same checks as checkModuleText for a large module: esbuild parses, acorn's tokenizer scans. */
function checkLargeModule(m: CompiledModule): string | undefined {
  try {
    transformSync(m.code, { loader: "js", format: "esm", logLevel: "silent" });
  } catch (e) {
    return `generated JavaScript does not parse: ${String(e).slice(0, 300)}`;
  }
  const tokens = [...acorn.tokenizer(m.code, { ecmaVersion: "latest", sourceType: "module" })];
  const text = (t: acorn.Token): string => (t.type.label === "name" ? String((t as { value?: unknown }).value) : t.type.keyword ?? t.type.label);
  const exported: string[] = [];
  let depth = 0;
  let exportClause = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = text(tokens[i]!);
    const next = tokens[i + 1] ? text(tokens[i + 1]!) : "";
    if (["eval", "Function", "require", "import"].includes(t) && next === "(" && (i === 0 || text(tokens[i - 1]!) !== "function")) return `generated code uses ${t}(...)`;
    if (exportClause) {
      if (t === "as") exported.push(next);
      if (t === "}") exportClause = false;
      continue;
    }
    if (depth === 0) {
      if (["function", "const", "let", "var", "class"].includes(t) && GLOBALS_READ.has(next)) return `top-level declaration of ${next} shadows the global`;
      if (t === "export" && next === "function") exported.push(text(tokens[i + 2]!));
      if (t === "export" && next === "{") {
        exportClause = true;
        i++;
        continue;
      }
    }
    if (t === "{" || t === "${") depth++;
    else if (t === "}") depth--;
  }
  const cooked = m.functions.map((f) => f.exportName.replace(/\\u\{?([0-9a-fA-F]+)\}?/g, (_m, h: string) => String.fromCodePoint(parseInt(h, 16))));
  if (JSON.stringify(exported.sort()) !== JSON.stringify(cooked.sort())) return `exports ${JSON.stringify(exported)}, expected ${JSON.stringify(cooked)}`;
  return undefined;
}

/** A call (or `new`) of eval, Function or require, or a dynamic import, anywhere in the module. */
function findForbidden(root: acorn.Node): string | undefined {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const n = stack.pop() as Record<string, unknown> | null;
    if (!n || typeof n !== "object") continue;
    if (n["type"] === "ImportExpression") return "import()";
    if (n["type"] === "CallExpression" || n["type"] === "NewExpression") {
      const callee = n["callee"] as Record<string, unknown>;
      // Only the globals: the module declaring a function of that name is fine.
      if (callee["type"] === "Identifier" && ["eval", "Function", "require"].includes(callee["name"] as string) && !declaresTopLevel(root, callee["name"] as string))
        return `${String(callee["name"])}(...)`;
    }
    for (const k of Object.keys(n)) if (k !== "type" && typeof n[k] === "object") stack.push(n[k]);
  }
  return undefined;
}

function declaresTopLevel(root: acorn.Node, name: string): boolean {
  return (root as acorn.Program).body.some((s) => s.type === "FunctionDeclaration" && s.id.name === name);
}

/** The TypeScript variant and the .d.ts must parse too. */
export function checkTypeScript(m: CompiledModule): string | undefined {
  const sourceName = "source.ts";
  const { code, dts } = generate(m.functions, sourceName, "ts");
  for (const [what, text] of [["generated TypeScript", code], ["generated .d.ts", dts]] as const) {
    try {
      transformSync(text, { loader: "ts", format: "esm", logLevel: "silent" });
    } catch (e) {
      return `${what} does not parse: ${String(e).slice(0, 300)}`;
    }
  }
  return undefined;
}

// ---- running generated code ---------------------------------------------------------------

function argument(tree: Tree, dims: Map<string, number>): unknown {
  if (tree.kind === "leaf") {
    const { shape, dtype } = tree.type;
    if (shape.length === 0) return 0.3;
    const concrete = shape.map((d) => (typeof d === "number" ? d : (dims.get(d) ?? 2)));
    const n = concrete.reduce((a, b) => a * b, 1);
    const data = dtype === "f32" ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.sin(i + 1) * 0.7;
    return { shape: concrete, data };
  }
  if (tree.kind === "array") return tree.items.map((t) => argument(t, dims));
  const obj: Record<string, unknown> = {};
  for (const f of tree.fields) Object.defineProperty(obj, f.key, { value: argument(f.tree, dims), enumerable: true, writable: true, configurable: true });
  return obj;
}

const prototypeSnapshot = (): string =>
  JSON.stringify([Object.getOwnPropertyNames(Object.prototype).sort(), Object.getPrototypeOf(Object.prototype), Object.getOwnPropertyNames(Array.prototype).length]);

/** Imports the module from a file and calls every function on well-typed arguments. */
export async function runModule(m: CompiledModule, file: string): Promise<string | undefined> {
  writeFileSync(file, m.code);
  const before = prototypeSnapshot();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    return `importing the generated module throws: ${String(e)}`;
  }
  for (const f of m.functions) {
    const name = f.exportName.replace(/\\u\{?([0-9a-fA-F]+)\}?/g, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)));
    const fn = mod[name];
    if (typeof fn !== "function") return `export ${name} is not a function`;
    const dims = new Map(f.spec.dims.map((d, i) => [d, 2 + (i % 2)]));
    let args: unknown[];
    try {
      args = f.spec.params.map((p) => argument(p.tree, dims));
    } catch (e) {
      return `${name}: no argument of its declared types can be built: ${String(e)}`;
    }
    let out: unknown;
    try {
      out = (fn as (...a: unknown[]) => unknown)(...args);
    } catch (e) {
      // An index out of range throws, as the eager op does (the arguments are well typed, the
      // program is not): the check working, not a failure.
      if (e instanceof Error && e.name === "GradcError" && /^at: index /.test(e.message)) continue;
      return `${name}(...) throws on valid arguments: ${String(e)}`;
    }
    const grads = f.spec.mode === "valueAndGrad" ? (out as unknown[])[1] : out;
    if (f.spec.mode === "valueAndGrad" && typeof (out as unknown[])[0] !== "number") return `${name}: the value is not a number`;
    if (f.spec.argnumsIsArray && (!Array.isArray(grads) || grads.length !== f.spec.argnums.length)) return `${name}: gradients are not a tuple of ${f.spec.argnums.length}`;
    if (grads === undefined || grads === null) return `${name}: no gradients`;
  }
  if (prototypeSnapshot() !== before) return "running the module changed Object.prototype";
  return undefined;
}

// ---- compiled against uncompiled ----------------------------------------------------------

type Result = { threw: Error } | { value: unknown };

function attempt(f: () => unknown): Result {
  try {
    return { value: f() };
  } catch (e) {
    return { threw: e instanceof Error ? e : new Error(String(e)) };
  }
}

/** Numbers and tensor entries of a result, with the dtype of each tensor. */
function flatten(v: unknown, out: { xs: number[]; dtypes: string[] } = { xs: [], dtypes: [] }): { xs: number[]; dtypes: string[] } {
  if (typeof v === "number") out.xs.push(v);
  else if (Array.isArray(v)) v.forEach((x) => flatten(x, out));
  else if (v && typeof v === "object" && "data" in v) {
    const data = (v as { data: Float64Array | Float32Array }).data;
    out.dtypes.push(data instanceof Float32Array ? "f32" : data instanceof Float64Array ? "f64" : "other");
    out.xs.push(...Array.from(data));
  } else if (v && typeof v === "object") Object.values(v).forEach((x) => flatten(x, out));
  return out;
}

/** The dtypes of a parameter's tensor leaves, in the order gradients list them. */
function leafDTypes(tree: Tree, out: string[] = []): string[] {
  if (tree.kind === "leaf") {
    if (tree.type.shape.length > 0) out.push(tree.type.dtype);
  } else if (tree.kind === "array") tree.items.forEach((t) => leafDTypes(t, out));
  else tree.fields.forEach((f) => leafDTypes(f.tree, out));
  return out;
}

/**
 * Runs every compiled binding and the same binding uncompiled (the source transpiled, so its
 * `grad`/`valueAndGrad` run on gradc's tape) on the same arguments: both must throw the same
 * GradcError, or agree on the value and gradients, each gradient in its parameter's dtype.
 */
export async function compareWithReference(m: CompiledModule, c: Case, stem: string): Promise<string | undefined> {
  const bad = await runModuleOnly(m, `${stem}.grad.mjs`);
  if (typeof bad === "string") return bad;
  const js = transformSync(c.source, { loader: "ts", format: "esm", logLevel: "silent" }).code;
  writeFileSync(`${stem}.ref.mjs`, js);
  let ref: Record<string, unknown>;
  try {
    ref = (await import(/* @vite-ignore */ pathToFileURL(`${stem}.ref.mjs`).href)) as Record<string, unknown>;
  } catch {
    return undefined; // the program does not run uncompiled at all: nothing to compare with
  }
  for (const f of m.functions) {
    const mine = bad.get(f.exportName)!;
    const theirs = ref[f.exportName];
    if (typeof theirs !== "function") continue;
    const dims = new Map(f.spec.dims.map((d, i) => [d, 2 + (i % 2)]));
    const args = f.spec.params.map((p) => argument(p.tree, dims));
    const a = attempt(() => mine(...args));
    const b = attempt(() => (theirs as (...x: unknown[]) => unknown)(...args));
    const name = f.exportName;
    if ("threw" in b && b.threw.name !== "GradcError") continue; // the tape cannot run it: no reference
    if ("threw" in a && "threw" in b) {
      if (a.threw.name !== "GradcError" || a.threw.message !== b.threw.message)
        return `${name}: compiled throws ${a.threw.name}: ${a.threw.message}; uncompiled throws ${b.threw.message}`;
      continue;
    }
    if ("threw" in a) return `${name}: compiled throws ${a.threw.name}: ${a.threw.message}; uncompiled returns`;
    if ("threw" in b) return `${name}: compiled returns; uncompiled throws ${b.threw.message}`;
    const [x, y] = [flatten(a.value), flatten(b.value)];
    const grads = f.spec.mode === "valueAndGrad" ? (a.value as unknown[])[1] : a.value;
    const wanted = f.spec.argnums.flatMap((k) => leafDTypes(f.spec.params[k]!.tree));
    const got = flatten(grads).dtypes;
    if (JSON.stringify(got) !== JSON.stringify(wanted)) return `${name}: gradients are ${got.join(", ")}; the parameters are ${wanted.join(", ")}`;
    if (x.xs.length !== y.xs.length) return `${name}: ${x.xs.length} numbers compiled, ${y.xs.length} uncompiled`;
    // With any f32 value about, the two round at different places (fused loops keep f32
    // intermediates in double): agreement to f32 precision is all that is promised.
    const loose = m.code.includes("Float32Array") || f.spec.params.some((p) => leafDTypes(p.tree).includes("f32"));
    for (let i = 0; i < x.xs.length; i++) {
      const [p, q] = [x.xs[i]!, y.xs[i]!];
      if (Number.isNaN(p) && Number.isNaN(q)) continue;
      const err = Math.abs(p - q) / Math.max(1, Math.abs(p), Math.abs(q));
      if (!(err <= (loose ? 1e-4 : 1e-9))) return `${name}: entry ${i} is ${p} compiled, ${q} uncompiled`;
    }
  }
  return undefined;
}

/** Imports the compiled module and checks its text-level contract; its functions by name. */
async function runModuleOnly(m: CompiledModule, file: string): Promise<string | Map<string, (...a: unknown[]) => unknown>> {
  writeFileSync(file, m.code);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    return `importing the generated module throws: ${String(e)}`;
  }
  const fns = new Map<string, (...a: unknown[]) => unknown>();
  for (const f of m.functions) {
    const fn = mod[f.exportName];
    if (typeof fn !== "function") return `export ${f.exportName} is not a function`;
    fns.set(f.exportName, fn as (...a: unknown[]) => unknown);
  }
  return fns;
}

// ---- batches ------------------------------------------------------------------------------

export interface BatchOptions {
  /** Import and call compiled modules of programs that are not deep. */
  readonly run?: boolean;
  /** Called before each program is compiled (hang detection). */
  readonly onStart?: (index: number) => void;
  readonly onDone?: (index: number, outcome: Outcome) => void;
}

/** Compiles `cases` in one project under `dir` (emptied first) and judges each. */
export async function runBatch(cases: readonly Case[], dir: string, options: BatchOptions = {}): Promise<Outcome[]> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = cases.map((c) => join(dir, `${c.name}.ts`));
  cases.forEach((c, i) => writeFileSync(files[i]!, c.source));
  // What the compiler reads (lone surrogates in a source become U+FFFD in the UTF-8 file).
  const texts = files.map((f) => readFileSync(f, "utf8"));
  const { project, rootDir } = createProject(files, { cwd: dir });
  const unparsed = unparsedDiagnostics(project, dir);
  const outcomes: Outcome[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    options.onStart?.(i);
    const t0 = performance.now();
    const outcome = await judge({ ...c, source: texts[i]! }, files[i]!, project, rootDir, dir, unparsed, options);
    const done = { ...outcome, name: c.name, family: c.family, ms: performance.now() - t0 };
    outcomes.push(done);
    options.onDone?.(i, done);
  }
  return outcomes;
}

async function judge(
  c: Case,
  file: string,
  project: ReturnType<typeof createProject>["project"],
  rootDir: string,
  dir: string,
  unparsed: readonly Diagnostic[],
  options: BatchOptions,
): Promise<Omit<Outcome, "name" | "family" | "ms">> {
  const fileName = `${c.name}.ts`;
  let diagnostics: readonly Diagnostic[];
  let module: CompiledModule | undefined;
  try {
    const sf = project.getSourceFile(file);
    if (sf) ({ diagnostics, module } = compileSourceFile(sf, rootDir, { emit: "js", verify: true, cwd: dir }, dir));
    else diagnostics = unparsed.filter((d) => d.file === fileName);
    if (!sf && diagnostics.length === 0) return { status: "crash", detail: "the file is missing from the project without a diagnostic" };
  } catch (e) {
    return { status: "crash", detail: e instanceof Error ? (e.stack ?? e.message).split("\n").slice(0, 8).join("\n") : String(e) };
  }
  if (diagnostics.length > 0) {
    for (const d of diagnostics) {
      const bad = checkDiagnostic(d, c.source, fileName);
      if (bad) return { status: "invalid", detail: `diagnostic ${d.code} at ${d.line}:${d.col}: ${bad}` };
    }
    if (module) return { status: "invalid", detail: "a module despite diagnostics" };
    const first = `${diagnostics[0]!.code}: ${diagnostics[0]!.message}`;
    if (c.expect === "compile") return { status: "unexpected", detail: `a valid program was refused: ${diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`).join(" | ")}` };
    if (!c.deep && diagnostics.some((d) => d.code === "GRADC1021")) return { status: "unexpected", detail: `GRADC1021 on a program that is not deep: ${first}` };
    return { status: "diagnosed", detail: first };
  }
  if (!module) {
    // Nothing to compile (no grad bindings): fine unless the case had to be refused.
    if (c.expect === "diagnose") return { status: "unexpected", detail: "neither diagnostics nor a module" };
    if (c.mustAnswer) return { status: "unexpected", detail: "a grad binding was ignored: neither diagnostics nor a compiled binding" };
    return { status: "compiled" };
  }
  const bad = checkModuleText(module) ?? checkTypeScript(module);
  if (bad) return { status: "invalid", detail: bad };
  if (options.run && !c.deep) {
    const problem = c.reference
      ? await compareWithReference(module, c, join(dir, c.name))
      : await runModule(module, join(dir, `${c.name}.grad.mjs`));
    if (problem) return { status: "invalid", detail: problem };
  }
  if (c.expect === "diagnose") return { status: "unexpected", detail: "compiled a program that must be refused" };
  return { status: "compiled" };
}

/** Counts by status. */
export function tally(outcomes: readonly Outcome[]): Record<Status, number> {
  const t: Record<Status, number> = { compiled: 0, diagnosed: 0, crash: 0, invalid: 0, unexpected: 0, hang: 0 };
  for (const o of outcomes) t[o.status]++;
  return t;
}
