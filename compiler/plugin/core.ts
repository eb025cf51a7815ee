// The integration core behind every bundler plugin and the Node module hook: given a module's
// path and source text, find its `grad`/`valueAndGrad` bindings, compile them, rewrite the text
// in place (see rewrite.ts) and return code, source map and located diagnostics. The adapters
// (esbuild, unplugin for Vite/Rollup/webpack/Rspack, the Node load hook) only translate between
// this and their tool's conventions.
//
// One core keeps one ts-morph project alive across rebuilds (a dev server's every save, a watch
// rebuild): the first compiled file creates it with the nearest tsconfig.json, later files join
// it, and before each compile the files it holds are re-read when they changed on disk (a
// helper module edited on its own changes the models that inline it).

import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Project, SourceFile } from "ts-morph";
import { type Diagnostic, formatDiagnostic, formatWithFrame } from "../diagnostics/diagnostic.js";
import { findGradBindings, unknownTransforms } from "../frontend/discover.js";
import { compileSourceFile, createProject, displayPath } from "../program.js";
import { type Rewritten, rewriteSource } from "./rewrite.js";

/** Options of every gradc plugin: `gradc({ project: "tsconfig.app.json" })`. */
export interface GradcPluginOptions {
  /** The tsconfig.json whose compiler options type the program (default: the nearest one above the first file). */
  readonly project?: string;
  /** Run the IR verifier after every compiler pass (slower; for debugging gradc). */
  readonly verify?: boolean;
}

/** What transforming one module gave. */
export type TransformOutcome =
  /** Rewritten with its bindings compiled. `dependencies`: other project files the result depends on. */
  | (Rewritten & { readonly kind: "compiled"; readonly dependencies: readonly string[] })
  /** The model cannot be compiled: gradc's diagnostics (paths relative to the core's cwd). */
  | { readonly kind: "diagnostics"; readonly diagnostics: readonly Diagnostic[]; readonly dependencies: readonly string[] }
  /** Nothing to compile in this module. */
  | { readonly kind: "unchanged" };

/** A crash of the compiler itself (a bug in gradc, not in the user's model). */
export class InternalCompilerError extends Error {
  constructor(
    readonly file: string,
    override readonly cause: unknown,
  ) {
    super(`gradc internal compiler error while compiling ${file}; please report it: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "InternalCompilerError";
  }
}

/** Cheap pre-filter: only modules that mention the "gradc" package reach the TypeScript compiler. */
export const MENTIONS_GRADC = /["']gradc["']/;

/** Files a plugin looks at: JavaScript and TypeScript modules, not declarations. */
export const SCRIPT_FILE = /\.[cm]?[jt]sx?$/;

/** The file path of a module id: without a query or hash (`model.ts?v=1`), never a virtual module. */
export function modulePath(id: string): string | undefined {
  if (id.startsWith("\0") || id.startsWith("virtual:")) return undefined;
  const path = id.replace(/[?#].*$/, "");
  if (!SCRIPT_FILE.test(path) || /\.d\.[cm]?ts$/.test(path) || /[\\/]node_modules[\\/]/.test(path)) return undefined;
  return path;
}

/** The persistent compile state of one plugin instance. */
export class GradcCore {
  private state: { project: Project; rootDir: string } | undefined;
  /** Modification times of the project's files when last read. */
  private readonly mtimes = new Map<string, number>();

  constructor(
    readonly options: GradcPluginOptions = {},
    readonly cwd: string = process.cwd(),
  ) {}

  /**
   * Compiles the grad bindings of the module at `id` whose text is `code`. Returns "unchanged"
   * for modules with nothing to compile; throws InternalCompilerError on a compiler crash.
   */
  transform(code: string, id: string): TransformOutcome {
    const path = modulePath(id);
    if (path === undefined || !MENTIONS_GRADC.test(code)) return { kind: "unchanged" };
    const sf = this.sourceFile(path, code);
    // A file with a transformation gradc does not compile gets its diagnostic too.
    if (findGradBindings(sf).length === 0 && unknownTransforms(sf).length === 0) return { kind: "unchanged" };
    const { rootDir, project } = this.state!;
    let result: ReturnType<typeof compileSourceFile>;
    try {
      result = compileSourceFile(sf, rootDir, { cwd: this.cwd, emit: "js", module: "cjs", ...(this.options.verify ? { verify: true } : {}) }, this.cwd);
    } catch (e) {
      throw new InternalCompilerError(displayPath(path, this.cwd), e);
    }
    const dependencies = importedFiles(sf);
    if (result.diagnostics.length > 0) return { kind: "diagnostics", diagnostics: result.diagnostics, dependencies };
    if (!result.module) return { kind: "unchanged" };
    const contents = (source: string): string | undefined => project.getSourceFile(resolve(dirname(path), source))?.getFullText();
    return { kind: "compiled", ...rewriteSource(sf, result.module, contents), dependencies };
  }

  /** Forgets what is known of `file` (a watcher saw it change): it is re-read before the next compile. */
  invalidate(file: string): void {
    this.mtimes.delete(file);
  }

  /** The project's source file for `path`, with `code` as its text and every other file current. */
  private sourceFile(path: string, code: string): SourceFile {
    if (!this.state) {
      const project = this.options.project ? { project: resolve(this.cwd, this.options.project) } : {};
      this.state = createProject([path], { cwd: this.cwd, ...project });
    } else this.refresh(path);
    const { project } = this.state;
    // JavaScript files (typed with JSDoc) are only part of a TypeScript program with allowJs.
    if (/\.[cm]?jsx?$/.test(path) && !project.getCompilerOptions().allowJs) project.compilerOptions.set({ allowJs: true });
    let sf = project.getSourceFile(path);
    if (!sf || sf.getFullText() !== code) sf = project.createSourceFile(path, code, { overwrite: true });
    project.resolveSourceFileDependencies();
    for (const f of project.getSourceFiles()) {
      const p = f.getFilePath() as string;
      if (!this.mtimes.has(p) && !p.includes("/node_modules/")) this.mtimes.set(p, mtime(p));
    }
    return sf;
  }

  /** Re-reads the project's own files that changed on disk since they were read (not `except`, whose text comes with the call). */
  private refresh(except: string): void {
    const { project } = this.state!;
    for (const f of project.getSourceFiles()) {
      const p = f.getFilePath() as string;
      if (p === except || p.includes("/node_modules/")) continue;
      const now = mtime(p);
      if (this.mtimes.get(p) === now) continue;
      this.mtimes.set(p, now);
      f.refreshFromFileSystemSync();
    }
  }
}

/** The project's own files `sf` imports, directly or not: what its compiled code may depend on. */
function importedFiles(sf: SourceFile): string[] {
  const seen = new Set<SourceFile>([sf]);
  const queue = [sf];
  while (queue.length > 0)
    for (const next of queue.pop()!.getReferencedSourceFiles())
      if (!seen.has(next) && !next.getFilePath().includes("/node_modules/")) {
        seen.add(next);
        queue.push(next);
      }
  seen.delete(sf);
  return [...seen].map((f) => f.getFilePath() as string);
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** The diagnostics as one message: tsc's one-line form for each, with a code frame. */
export function diagnosticsText(diagnostics: readonly Diagnostic[], frames = true): string {
  return diagnostics.map((d) => (frames ? formatWithFrame(d) : formatDiagnostic(d))).join("\n");
}
