// The incremental compiler: one TypeScript program kept alive across edits, for `--watch` and
// the bundler plugins. An edit replaces one file's text; TypeScript then reuses every other
// parsed and bound file (the libraries, the runtime's declarations, the untouched sources), and
// gradc recompiles only the modules the edit can change: the edited file and the files that
// import it, directly or through others. Every other file keeps its last result.
//
//   const compiler = createIncrementalCompiler({ cwd, emit: "js" });
//   compiler.compileFile("/abs/model.ts");             // first compile: creates the program
//   compiler.update("/abs/helpers.ts", newText);       // → the outcomes of every affected file

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Node, type Project, type SourceFile } from "ts-morph";
import type { Diagnostic } from "./diagnostics/diagnostic.js";
import { type CompileOptions, type CompiledModule, compileSourceFile, createProject } from "./program.js";

/** What compiling one file gave. */
export interface FileOutcome {
  /** Absolute path of the source file. */
  readonly file: string;
  /** The generated module; absent when the file has no grad bindings or has diagnostics. */
  readonly module?: CompiledModule;
  readonly diagnostics: readonly Diagnostic[];
  /** A crash of the compiler on this file (a bug in gradc, not a user error). */
  readonly internalError?: unknown;
  /** True when compiled by this call; false for a still-valid earlier result. */
  readonly fresh: boolean;
}

/** Options of `createIncrementalCompiler`: those of `compile`, and the files to start with. */
export interface IncrementalOptions extends CompileOptions {
  /** Files to put in the program at once (more join through `compileFile`). */
  readonly files?: readonly string[];
}

const inNodeModules = (path: string): boolean => path.includes("/node_modules/");

/** A compiler that keeps its program and its per-file results between calls. */
export class IncrementalCompiler {
  readonly project: Project;
  readonly rootDir: string;
  private readonly cwd: string;
  private readonly results = new Map<string, FileOutcome>();
  /**
   * The resolved imports of each own file, with the parsed file they were read from: valid while
   * TypeScript keeps that parse (an edit replaces it) and no file joins or leaves the program
   * (which can change what an unchanged import resolves to; then the cache is dropped).
   */
  private readonly imports = new Map<string, { readonly node: unknown; readonly files: readonly string[] }>();
  /** How many own files the program held when `imports` was last used. */
  private ownFiles = 0;

  constructor(private readonly options: IncrementalOptions = {}) {
    this.cwd = options.cwd ?? process.cwd();
    const files = (options.files ?? []).map((f) => resolve(this.cwd, f));
    ({ project: this.project, rootDir: this.rootDir } = createProject(files, options));
    if (files.some((f) => /\.[cm]?jsx?$/.test(f))) this.allowJs();
  }

  /** JavaScript files (typed with JSDoc) are only part of a TypeScript program with allowJs. */
  private allowJs(): void {
    if (!this.project.getCompilerOptions().allowJs) this.project.compilerOptions.set({ allowJs: true });
  }

  /**
   * The outcome for `file`, compiled now unless an earlier result is still valid. With `text`,
   * that is the file's content (a bundler passes what it read); otherwise it is read from disk
   * the first time. A different `text` than last time is an edit, as with `update`.
   */
  compileFile(file: string, text?: string): FileOutcome {
    const path = resolve(this.cwd, file);
    const sf = this.project.getSourceFile(path);
    if (sf && text !== undefined && sf.getFullText() !== text) this.invalidate(path, text);
    else if (!sf) this.addFile(path, text);
    return this.results.get(path) ?? this.compileNow(path);
  }

  /**
   * An edit: `file` now holds `text` (undefined: re-read it from disk; a file that no longer
   * exists leaves the program). Recompiles every file compiled before that the edit can
   * affect, and returns their outcomes.
   */
  update(file: string, text?: string): FileOutcome[] {
    return this.invalidate(file, text).flatMap((f) => (this.project.getSourceFile(f) ? [this.compileNow(f)] : []));
  }

  /**
   * The edit of `update` without compiling: the results it makes stale are dropped, and the
   * next `compileFile` of those files compiles them. Returns the files that had a result.
   * Several edits in a row then compile each affected file once.
   */
  invalidate(file: string, text?: string): string[] {
    const path = resolve(this.cwd, file);
    const sf = this.project.getSourceFile(path);
    const deleted = text === undefined && !existsSync(path);
    const next = deleted ? undefined : (text ?? readFileSync(path, "utf8"));
    if (sf && next !== undefined && sf.getFullText() === next) return [];
    if (!sf && deleted) return [];
    const before = this.affectedBy(path);
    if (next === undefined) {
      this.project.removeSourceFile(sf!);
      this.imports.clear();
    } else if (!sf) this.addFile(path, next);
    else this.project.createSourceFile(path, next, { overwrite: true });
    this.project.resolveSourceFileDependencies();
    // Importers before the edit and after it (an edit can add or remove an import).
    const affected = new Set([...before, ...this.affectedBy(path)]);
    const stale = [...affected].filter((f) => this.results.has(f));
    for (const f of affected) this.results.delete(f);
    return stale;
  }

  /** Forgets every result, so that the next calls compile afresh (the program is kept). */
  invalidateAll(): void {
    this.results.clear();
  }

  /** `file` and every source file of the program that imports it, directly or not. */
  affectedBy(file: string): string[] {
    const path = resolve(this.cwd, file);
    if (!this.project.getSourceFile(path)) return [path];
    const importers = this.importers();
    const seen = new Set([path]);
    const queue = [path];
    while (queue.length > 0)
      for (const importer of importers.get(queue.pop()!) ?? [])
        if (!seen.has(importer)) {
          seen.add(importer);
          queue.push(importer);
        }
    return [...seen];
  }

  /**
   * Who imports whom among the project's own files: imported file → its importers. Built from
   * each own file's import literals only (not those of the libraries and packages, which
   * ts-morph's `getReferencingSourceFiles` resolves on its first call, at a cost of hundreds of
   * milliseconds), and cached per file: an edit re-reads the imports of the file it replaced.
   */
  private importers(): Map<string, string[]> {
    const own = this.project.getSourceFiles().filter((sf) => !sf.isDeclarationFile() && !inNodeModules(sf.getFilePath()));
    // A file that joined through another's new import (resolveSourceFileDependencies) can be
    // what an unchanged file's unresolved import now names.
    if (own.length !== this.ownFiles) this.imports.clear();
    this.ownFiles = own.length;
    const importers = new Map<string, string[]>();
    for (const sf of own) for (const to of this.importsOf(sf)) importers.set(to, [...(importers.get(to) ?? []), sf.getFilePath() as string]);
    return importers;
  }

  /** The files `sf` imports (statically, dynamically, or for types), as the program resolved them. */
  private importsOf(sf: SourceFile): readonly string[] {
    const cached = this.imports.get(sf.getFilePath());
    if (cached?.node === sf.compilerNode) return cached.files;
    const files = new Set<string>();
    for (const literal of sf.getImportStringLiterals()) {
      const target = literal
        .getSymbol()
        ?.getDeclarations()
        .find((d) => Node.isSourceFile(d));
      if (target) files.add((target as SourceFile).getFilePath());
    }
    this.imports.set(sf.getFilePath(), { node: sf.compilerNode, files: [...files] });
    return [...files];
  }
  /** The project's own files (not libraries or packages): what a watcher should watch. */
  sourceFiles(): string[] {
    return this.project
      .getSourceFiles()
      .map((sf) => sf.getFilePath() as string)
      .filter((f) => !inNodeModules(f));
  }

  private addFile(path: string, text: string | undefined): void {
    if (/\.[cm]?jsx?$/.test(path)) this.allowJs();
    this.imports.clear();
    if (text === undefined) this.project.addSourceFileAtPath(path);
    else this.project.createSourceFile(path, text, { overwrite: true });
    this.project.resolveSourceFileDependencies();
  }

  private compileNow(path: string): FileOutcome {
    const sf = this.project.getSourceFile(path);
    let outcome: FileOutcome;
    if (!sf) outcome = { file: path, diagnostics: [], fresh: true };
    else {
      const { cwd } = this;
      try {
        const { module, diagnostics } = compileSourceFile(sf, this.rootDir, { ...this.options, cwd }, cwd);
        outcome = { file: path, diagnostics, fresh: true, ...(module ? { module } : {}) };
      } catch (internalError) {
        outcome = { file: path, diagnostics: [], internalError, fresh: true };
      }
    }
    this.results.set(path, { ...outcome, fresh: false });
    return outcome;
  }
}

/** An incremental compiler over the nearest tsconfig.json (or `options.project`). */
export function createIncrementalCompiler(options: IncrementalOptions = {}): IncrementalCompiler {
  return new IncrementalCompiler(options);
}
