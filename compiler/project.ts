// The TypeScript program gradc reads: a ts-morph project over the files to compile and what
// they import, with gradc's lean compiler options, parsed files shared between compiles, and
// files nested too deeply to parse kept out of it (reported as GRADC1021).

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { Project, ts } from "ts-morph";
import { type Diagnostic, makeDiagnostic } from "./diagnostics/diagnostic.js";
import { type TooDeep, findTooDeep, findTooDeepInText, isStackOverflow } from "./frontend/nesting.js";
import { lineAndColumnInText } from "./frontend/position.js";
import { shareParsedFiles } from "./parsed-files.js";
import type { CompileOptions } from "./program.js";

const DEFAULT_OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  skipLibCheck: true,
  noEmit: true,
};

/**
 * What gradc changes in a tsconfig's options: it never type-checks or emits, it only asks the
 * checker for symbols and for the types of model parameters, so the ambient `@types/*`
 * packages (`@types/node` alone is 2 MB of declarations to parse and bind) and the DOM library
 * (the default `lib` of every target) are left out. An explicit `lib` is kept. A file's own
 * `/// <reference types="..." />` still loads what it names.
 */
export function leanOptions(options: ts.CompilerOptions): ts.CompilerOptions {
  const lean: ts.CompilerOptions = { types: [], skipLibCheck: true, noEmit: true };
  if (options.lib === undefined && !options.noLib) lean.lib = [ts.getDefaultLibFileName(options).replace(/\.full\.d\.ts$/, ".d.ts")];
  return lean;
}

/** The nearest `tsconfig.json` in `from` or a folder above it, or undefined when there is none. */
export function findTsconfig(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, "tsconfig.json");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** A ts-morph project over the given files (and what they import). */
export function createProject(files: readonly string[], options: CompileOptions = {}): { project: Project; rootDir: string } {
  const cwd = options.cwd ?? process.cwd();
  const tsconfig = options.project ? resolve(cwd, options.project) : files[0] ? findTsconfig(dirname(resolve(cwd, files[0]))) : findTsconfig(cwd);
  const project = tsconfig
    ? new Project({ tsConfigFilePath: tsconfig, skipAddingFilesFromTsConfig: true })
    : new Project({ compilerOptions: DEFAULT_OPTIONS });
  project.compilerOptions.set(leanOptions(project.compilerOptions.get()));
  shareParsedFiles(project);
  if (tsconfig && files.length === 0) {
    try {
      project.addSourceFilesFromTsConfig(tsconfig);
    } catch (e) {
      if (!isStackOverflow(e)) throw e;
      // A file too deep to parse: add the program's files one by one, leaving that one out.
      const config = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
      for (const f of config?.fileNames ?? []) addSourceFile(project, f);
    }
  }
  for (const f of files) addSourceFile(project, resolve(cwd, f));
  try {
    project.resolveSourceFileDependencies();
  } catch (e) {
    // An imported file too deep to parse stays out of the program; its importers see no exports.
    if (!isStackOverflow(e)) throw e;
  }
  guardNesting(project);
  const rootDir = tsconfig ? dirname(tsconfig) : files[0] ? dirname(resolve(cwd, files[0])) : cwd;
  return { project, rootDir };
}

// ---- files nested too deeply (see frontend/nesting.ts) ---------------------------------------

/** Per project, the files its parser could not take: left out of it, reported as GRADC1021. */
const unparsed = new WeakMap<Project, Map<string, TooDeep & { readonly text: string }>>();
/** Per parsed file: what is too deep in it (its text is then replaced by an empty one), or null. */
export const nesting = new WeakMap<ts.SourceFile, (TooDeep & { readonly text: string }) | null>();

function addSourceFile(project: Project, path: string): void {
  try {
    project.addSourceFileAtPath(path);
  } catch (e) {
    if (!isStackOverflow(e)) throw e;
    const text = readFileSync(path, "utf8");
    if (!unparsed.has(project)) unparsed.set(project, new Map());
    unparsed.get(project)!.set(path, { text, ...findTooDeepInText(text) });
  }
}

/**
 * Empties every file of the project whose syntax tree is too deep, remembering where, before
 * the type checker (which binds every file of the program at once) can overflow on it.
 */
export function guardNesting(project: Project): void {
  for (const sf of project.getSourceFiles()) {
    if (sf.isDeclarationFile() || nesting.has(sf.compilerNode)) continue;
    const deep = findTooDeep(sf.compilerNode);
    if (!deep) {
      nesting.set(sf.compilerNode, null);
      continue;
    }
    const text = sf.getFullText();
    const placeholder = project.createSourceFile(sf.getFilePath(), "", { overwrite: true });
    nesting.set(placeholder.compilerNode, { ...deep, text });
  }
}

export function nestingDiagnostic(file: string, deep: TooDeep & { readonly text: string }, cwd: string): Diagnostic {
  const { line, column } = lineAndColumnInText(deep.text, deep.pos);
  const lineStart = deep.pos - (column - 1);
  let lineEnd = deep.text.indexOf("\n", lineStart);
  if (lineEnd < 0) lineEnd = deep.text.length;
  return makeDiagnostic("GRADC1021", [deep.what], {
    file: displayPath(file, cwd),
    line,
    col: column,
    length: Math.max(1, Math.min(deep.end, lineEnd) - deep.pos),
    lineText: deep.text.slice(lineStart, lineEnd).replace(/\r$/, ""),
  });
}

/** GRADC1021 for each file of the program that was too deep to parse (and so is not in it). */
export function unparsedDiagnostics(project: Project, cwd: string): Diagnostic[] {
  return [...(unparsed.get(project) ?? [])].map(([path, deep]) => nestingDiagnostic(path, deep, cwd));
}

/** A path as diagnostics show it: relative to `cwd` when inside it, with forward slashes. */
export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return (rel.startsWith("..") ? file : rel).split(sep).join("/");
}
