// One CLI compilation target: the files named on the command line (with the nearest
// tsconfig.json, or strict defaults) or a whole tsconfig program. It keeps an incremental
// compiler between compilations, so that `--watch` re-reads only what changed and recompiles
// only the files an edit affects.

import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Project, SourceFile } from "ts-morph";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { IncrementalCompiler } from "../incremental.js";
import type { ModuleFormat } from "../moduletype.js";
import { type CompiledModule, findTsconfig, unparsedDiagnostics } from "../program.js";

/** What to compile and how (the flags that shape the program and its outputs). */
export interface SessionOptions {
  /** Files named on the command line; empty: every file of the tsconfig program. */
  readonly files: readonly string[];
  /** Absolute path of the tsconfig.json given with -p. */
  readonly project?: string;
  readonly outDir?: string;
  readonly emit: "ts" | "js";
  readonly cwd: string;
  /** With --emit js: ES module or CommonJS output (default: the nearest package.json's type). */
  readonly module?: ModuleFormat;
  /** Write `name.grad.js.map` (or `.grad.ts.map`) beside each generated module. */
  readonly sourceMap?: boolean;
  /** Where large matrix products run: WebAssembly kernels (default) or JavaScript only. */
  readonly backend?: "js" | "wasm";
  /** Threads for the WebAssembly kernels (1: none; default "auto"). */
  readonly threads?: number | "auto";
}

/** A compiler crash on one file: a bug in gradc, reported as such instead of as a diagnostic. */
export interface InternalError {
  readonly file: string;
  readonly error: unknown;
}

/** The outcome of compiling every file of a session once. */
export interface Compilation {
  /** Modules of the files that compiled without diagnostics. */
  readonly modules: readonly CompiledModule[];
  readonly diagnostics: readonly Diagnostic[];
  readonly internalErrors: readonly InternalError[];
}

/** A generated file's path and text. */
export interface Output {
  readonly file: string;
  readonly text: string;
  readonly source: string;
}

/** The files a compiled module writes: the module, and its `.d.ts` with `--emit js`. */
export function outputsOf(module: CompiledModule): Output[] {
  const out: Output[] = [{ file: module.outFile, text: module.code, source: module.sourceFile }];
  if (module.sourceMap) out.push({ file: module.sourceMap.file, text: module.sourceMap.text, source: module.sourceFile });
  if (module.declarations) out.push({ file: module.declarations.file, text: module.declarations.text, source: module.sourceFile });
  return out;
}

/** True for gradc's own outputs, which are never compiled or watched. */
export const isGenerated = (path: string): boolean => /\.grad\.(d\.[cm]?ts|ts|[cm]?js|[cm]?js\.map|ts\.map)$/.test(path);
const isSource = (path: string): boolean => /\.[cm]?[jt]sx?$/.test(path) && !/\.d\.[cm]?ts$/.test(path) && !isGenerated(path);

/** A compilation target kept across compilations (one ts-morph project). */
export class Session {
  private compiler!: IncrementalCompiler;
  /** The tsconfig.json in use, if any. */
  readonly tsconfig: string | undefined;

  constructor(readonly options: SessionOptions) {
    const { files, cwd } = options;
    this.tsconfig = options.project ?? (files[0] ? findTsconfig(dirname(resolve(cwd, files[0]))) : findTsconfig(cwd));
    this.load();
  }

  private get project(): Project {
    return this.compiler.project;
  }

  private load(): void {
    const { files, cwd, emit, outDir, project, module, sourceMap, backend, threads } = this.options;
    this.compiler = new IncrementalCompiler({
      files: files.map((f) => resolve(cwd, f)),
      cwd,
      emit,
      ...(outDir ? { outDir } : {}),
      ...(project ? { project } : {}),
      ...(module ? { module } : {}),
      ...(sourceMap ? { sourceMap } : {}),
      ...(backend ? { backend } : {}),
      ...(threads === undefined ? {} : { threads }),
    });
  }

  /** The source files gradc compiles, in a stable order. */
  private sources(): SourceFile[] {
    const { files, cwd } = this.options;
    if (files.length > 0) return files.flatMap((f) => this.project.getSourceFile(resolve(cwd, f)) ?? []);
    return this.project
      .getSourceFiles()
      .filter((sf) => !sf.isDeclarationFile() && !sf.getFilePath().includes("/node_modules/") && !isGenerated(sf.getFilePath()));
  }

  /** Every source's outcome: compiled now if it is new or an edit affected it, else the last one. */
  compile(): Compilation {
    const modules: CompiledModule[] = [];
    // Files too deep to parse are not in the project: they are reported here.
    const diagnostics: Diagnostic[] = unparsedDiagnostics(this.project, this.options.cwd);
    const internalErrors: InternalError[] = [];
    for (const sf of this.sources()) {
      const result = this.compiler.compileFile(sf.getFilePath());
      for (const d of result.diagnostics) diagnostics.push(d);
      if (result.module) modules.push(result.module);
      if (result.internalError !== undefined) internalErrors.push({ file: result.file, error: result.internalError });
    }
    return { modules, diagnostics, internalErrors };
  }

  /** Files whose change calls for a recompilation: the program's own sources and the tsconfig. */
  watchedFiles(): string[] {
    const files = this.project
      .getSourceFiles()
      .map((sf) => sf.getFilePath() as string)
      .filter((f) => !f.includes("/node_modules/") && isSource(f));
    if (this.tsconfig) files.push(this.tsconfig);
    return [...new Set(files)].sort();
  }

  /** True when a change to `path` (in a watched folder) may change the compilation. */
  affects(path: string): boolean {
    if (isGenerated(path)) return false;
    if (path === this.tsconfig) return true;
    if (this.project.getSourceFile(path)) return true;
    // In a tsconfig program a new source file may join the program.
    return this.options.files.length === 0 && isSource(path) && !path.includes("/node_modules/");
  }

  /**
   * Re-reads changed files, recompiling the files each one affects; reloads the whole project
   * when the set of files may have changed (a new or deleted file, the tsconfig).
   */
  refresh(changed: Iterable<string>): void {
    const paths = [...changed];
    if (paths.some((path) => path === this.tsconfig || !this.project.getSourceFile(path) || !existsSync(path))) this.load();
    else for (const path of paths) this.compiler.invalidate(path);
  }
}
