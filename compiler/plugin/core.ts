// The integration core behind every bundler plugin and the Node module hook: given a module's
// path and source text, find its `grad`/`valueAndGrad` bindings, compile them, rewrite the text
// in place (see rewrite.ts) and return code, source map and located diagnostics. The adapters
// (esbuild, unplugin for Vite/Rollup/webpack/Rspack, the Node load hook) only translate between
// this and their tool's conventions.
//
// One core keeps one incremental compiler (compiler/incremental.ts) alive across rebuilds (a
// dev server's every save, a watch rebuild): the first compiled file creates its program with
// the nearest tsconfig.json, later files join it, and before each compile the files it holds
// are re-read when they changed on disk (a helper module edited on its own changes the models
// that inline it). A module whose text and imports did not change keeps its compiled result, so
// a rebuild recompiles only what an edit touches.

import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { SourceFile } from "ts-morph";
import { type Diagnostic, formatDiagnostic, formatWithFrame } from "../diagnostics/diagnostic.js";
import { findGradBindings, unknownTransforms } from "../frontend/discover.js";
import { IncrementalCompiler } from "../incremental.js";
import { displayPath } from "../program.js";
import { type Rewritten, rewriteSource } from "./rewrite.js";

/** Options of every gradc plugin: `gradc({ project: "tsconfig.app.json" })`. */
export interface GradcPluginOptions {
  /** The tsconfig.json whose compiler options type the program (default: the nearest one above the first file). */
  readonly project?: string;
  /** Run the IR verifier after every compiler pass (slower; for debugging gradc). */
  readonly verify?: boolean;
  /** `wasm` (default): large matrix products run as embedded WebAssembly SIMD kernels; `js`: JavaScript only. */
  readonly backend?: "js" | "wasm";
  /**
   * Threads the WebAssembly kernels may use for large matrix products: a count, or `"auto"`
   * (default: the core count at run time, at most 4). `1`: single-threaded, no workers.
   */
  readonly threads?: number | "auto";
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
  private compiler: IncrementalCompiler | undefined;
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
    const compiler = this.current(path);
    const result = compiler.compileFile(path, code);
    const sf = compiler.project.getSourceFileOrThrow(path);
    this.remember();
    // A file with a transformation gradc does not compile gets its diagnostic too.
    if (findGradBindings(sf).length === 0 && unknownTransforms(sf).length === 0) return { kind: "unchanged" };
    if (result.internalError !== undefined) throw new InternalCompilerError(displayPath(path, this.cwd), result.internalError);
    const dependencies = importedFiles(sf);
    if (result.diagnostics.length > 0) return { kind: "diagnostics", diagnostics: result.diagnostics, dependencies };
    if (!result.module) return { kind: "unchanged" };
    const contents = (source: string): string | undefined => compiler.project.getSourceFile(resolve(dirname(path), source))?.getFullText();
    return { kind: "compiled", ...rewriteSource(sf as SourceFile, result.module, contents), dependencies };
  }

  /** Forgets what is known of `file` (a watcher saw it change): it is re-read before the next compile. */
  invalidate(file: string): void {
    this.mtimes.delete(file);
  }

  /** The compiler, created for the first file, with every file it holds current (but `path`, whose text comes with the call). */
  private current(path: string): IncrementalCompiler {
    if (!this.compiler) {
      const project = this.options.project ? { project: resolve(this.cwd, this.options.project) } : {};
      this.compiler = new IncrementalCompiler({
        files: [path],
        cwd: this.cwd,
        emit: "js",
        module: "cjs",
        ...project,
        ...(this.options.verify ? { verify: true } : {}),
        ...(this.options.backend ? { backend: this.options.backend } : {}),
        ...(this.options.threads === undefined ? {} : { threads: this.options.threads }),
      });
      return this.compiler;
    }
    for (const p of this.compiler.sourceFiles()) {
      if (p === path) continue;
      const now = mtime(p);
      if (this.mtimes.get(p) === now) continue;
      this.mtimes.set(p, now);
      this.compiler.invalidate(p);
    }
    return this.compiler;
  }

  /** Notes the modification time of files that joined the program. */
  private remember(): void {
    for (const p of this.compiler!.sourceFiles()) if (!this.mtimes.has(p)) this.mtimes.set(p, mtime(p));
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
