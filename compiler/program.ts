// The programmatic compiler: source files of a TypeScript program → generated modules plus
// diagnostics. The CLI and the esbuild plugin are thin layers over `compile`.

import { existsSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { type SourceFile, ts } from "ts-morph";
import { type CompiledUnit, emitDeclarations, emitMappedModule } from "./codegen/js.js";
import { type Diagnostic, makeDiagnostic } from "./diagnostics/diagnostic.js";
import { type GradBinding, findGradBindings, readArgnums, refuseIntegerArgnums, readFlags, resolveModel, unknownTransforms } from "./frontend/discover.js";
import { LowerError } from "./frontend/errors.js";
import { lowerFunction } from "./frontend/lower.js";
import { isStackOverflow } from "./frontend/nesting.js";
import { lineAndColumn } from "./frontend/position.js";
import { type GradSpec, wrtIndices } from "./ir/signature.js";
import type { Func, Loc } from "./ir/types.js";
import { type ModuleFormat, jsExtensions } from "./moduletype.js";
import { createProject, displayPath, guardNesting, nesting, nestingDiagnostic, unparsedDiagnostics } from "./project.js";
import { moduleSourceMap, sourceMappingURL } from "./sourcemap.js";
import { type Stages, compileStages } from "./passes/pipeline.js";
import "./ops/index.js";

export { createProject, displayPath, findTsconfig, guardNesting, leanOptions, unparsedDiagnostics } from "./project.js";

/** Options of `compile`, shared by the CLI, the plugins and the incremental compiler. */
export interface CompileOptions {
  /** tsconfig.json to use; by default the nearest one above the first file, else strict defaults. */
  readonly project?: string;
  /** `ts` writes `name.grad.ts`; `js` writes `name.grad.js` and `name.grad.d.ts`. */
  readonly emit?: "ts" | "js";
  /** Output folder mirroring the source tree (relative to rootDir); default: beside the source. */
  readonly outDir?: string;
  /** Paths in diagnostics are relative to this folder (default: the working directory). */
  readonly cwd?: string;
  /** Run the IR verifier after every pass (tests do). */
  readonly verify?: boolean;
  /**
   * Internal, for measuring the cost of derivatives: each binding compiles to a function that
   * computes only the value of the function it differentiates (and its aux), with no AD.
   */
  readonly forwardOnly?: boolean;
  /**
   * With `emit: "js"`: ES module or CommonJS output. Default: what the nearest package.json
   * says (CommonJS, `.grad.cjs`, where it has no `"type": "module"`; ES module without one).
   */
  readonly module?: ModuleFormat;
  /** Write a source map beside the generated module (`name.grad.js.map`), linked from its last line. */
  readonly sourceMap?: boolean;
  /**
   * Where heavy kernels run: `wasm` (default) runs large matrix products as embedded
   * WebAssembly SIMD kernels; `js` keeps the generated code JavaScript only.
   */
  readonly backend?: "js" | "wasm";
  /**
   * Threads the WebAssembly kernels may use: large matrix products are split by rows across
   * worker threads over a shared memory. `"auto"` (default): the core count at run time, at most
   * 4; `1`: single-threaded, no workers and no shared memory in the generated code.
   */
  readonly threads?: number | "auto";
  /** Internal, for tests: multiply-adds from which a product runs in WebAssembly. */
  readonly wasmMinWork?: number;
  /** Internal, for tests: multiply-adds from which a kernel call is split across threads. */
  readonly threadMinWork?: number;
}

/** One compiled binding: the name it is exported under, what it computes, and its IR at each stage. */
export interface CompiledFunction {
  /** The name the generated module exports it under (`default` for a default export). */
  readonly exportName: string;
  /** The transformation, the differentiated arguments and the parameter layout. */
  readonly spec: GradSpec;
  /** The IR as lowered (`ir`), after AD (`grad`) and after optimization (`opt`): what `--dump` prints. */
  readonly stages: Stages;
}

/** The generated module of one source file, with its map and declarations when asked for. */
export interface CompiledModule {
  /** Absolute path of the source file. */
  readonly sourceFile: string;
  /** Absolute path of the generated module. */
  readonly outFile: string;
  /** The generated JavaScript or TypeScript. */
  readonly code: string;
  /** The source location of each line of `code` (0-based), for source maps; locations' files are relative to outFile's folder. */
  readonly lines: readonly (Loc | undefined)[];
  /** With `sourceMap`: the map beside the module (`code` ends with the comment linking it). */
  readonly sourceMap?: { readonly file: string; readonly text: string };
  /** For `emit: "js"`: the `.d.ts` beside it. */
  readonly declarations?: { readonly file: string; readonly text: string };
  /** Each binding the module exports, compiled. */
  readonly functions: readonly CompiledFunction[];
}

/** What `compile` returns: a module per file that compiled, and every diagnostic. */
export interface CompileResult {
  /** One per source file with bindings and no errors. */
  readonly modules: readonly CompiledModule[];
  /** Every problem found, in file order; a file with any gets no module. */
  readonly diagnostics: readonly Diagnostic[];
  /** Absolute paths of every source file that was considered. */
  readonly files: readonly string[];
}


/**
 * Where the generated module of `source` goes: beside it, or under `options.outDir` mirroring
 * the source tree below `rootDir`, named `<stem><ext>` (`ext` such as `.grad.ts`).
 */
export function outputPath(source: string, options: CompileOptions, rootDir: string, ext: string): string {
  const stem = basename(source).replace(/\.[cm]?[jt]sx?$/, "");
  const dir = options.outDir ? join(resolve(options.cwd ?? process.cwd(), options.outDir), relative(rootDir, dirname(source))) : dirname(source);
  return join(dir, `${stem}${ext}`);
}

/** The diagnostic for a lowering error, at its node. */
export function diagnosticAt(e: LowerError, cwd: string): Diagnostic {
  const sf = e.node.getSourceFile();
  const start = e.node.getStart();
  const { line, column } = lineAndColumn(sf, start);
  const text = sf.getFullText();
  const lineStart = start - (column - 1);
  let lineEnd = text.indexOf("\n", lineStart);
  if (lineEnd < 0) lineEnd = text.length;
  const lineText = text.slice(lineStart, lineEnd).replace(/\r$/, "");
  const length = Math.max(1, Math.min(e.node.getEnd(), lineEnd) - start);
  return makeDiagnostic(e.code, e.args, { file: displayPath(sf.getFilePath(), cwd), line, col: column, length, lineText });
}

/** TypeScript's syntax errors in a file, as GRADC1000 diagnostics. */
export function syntaxDiagnostics(sf: SourceFile, cwd: string): Diagnostic[] {
  const program = sf.getProject().getProgram().compilerObject;
  return program.getSyntacticDiagnostics(sf.compilerNode).map((d) => {
    const start = d.start ?? 0;
    const { line, column } = lineAndColumn(sf, start);
    const lineText = sf.getFullText().split("\n")[line - 1]?.replace(/\r$/, "") ?? "";
    return makeDiagnostic("GRADC1000", [ts.flattenDiagnosticMessageText(d.messageText, " ")], {
      file: displayPath(sf.getFilePath(), cwd),
      line,
      col: column,
      length: Math.max(1, d.length ?? 1),
      lineText,
    });
  });
}

/**
 * Lowers, differentiates and optimizes one binding. Throws a LowerError for user errors,
 * carrying in `all` every error of the model and of the binding's options.
 */
export function compileBinding(binding: GradBinding, sf: SourceFile, outDir: string, options: CompileOptions = {}): CompiledFunction {
  const { decl, name, wrap } = resolveModel(binding);
  const errors: LowerError[] = [];
  const attempt = <T>(run: () => T): T | undefined => {
    try {
      return run();
    } catch (e) {
      if (!(e instanceof LowerError)) throw e;
      errors.push(...e.all);
      return undefined;
    }
  };
  const flags = attempt(() => readFlags(binding));
  // Asked once per lowered node: remembered per file.
  const fileNames = new Map<SourceFile, string>();
  const lowered = attempt(() =>
    lowerFunction(decl, name, {
      fileName: (file) => {
        let name = fileNames.get(file);
        if (name === undefined) fileNames.set(file, (name = relative(outDir, file.getFilePath()).split(sep).join("/")));
        return name;
      },
      tensorResult: binding.mode === "jvp",
      hasAux: flags?.hasAux ?? false,
    }, wrap),
  );
  const arity = lowered?.params.length ?? decl.getParameters().filter((p) => p.getName() !== "this").length;
  const chosen = attempt(() => readArgnums(binding, arity));
  if (lowered && chosen) attempt(() => refuseIntegerArgnums(binding, chosen.argnums, lowered.params));
  if (!lowered || !chosen || !flags || errors.length > 0) throw LowerError.of(errors);
  const { argnums, isArray } = chosen;
  const spec: GradSpec = {
    exportName: binding.exportName,
    modelName: name,
    mode: binding.mode,
    argnums,
    argnumsIsArray: isArray,
    params: lowered.params,
    dims: lowered.dims,
    ...(binding.mode === "jvp" ? (lowered.resultTree ? { resultTree: lowered.resultTree } : { result: lowered.fn.body.results[0]!.type }) : {}),
    ...(lowered.aux ? { aux: lowered.aux } : {}),
    ...(flags.reuse ? { reuse: true } : {}),
    // The value alone (internal, for the benchmark); a jvp binding keeps its tangent.
    ...(options.forwardOnly && binding.mode !== "jvp" ? { forwardOnly: true } : {}),
    ...(wrap ? { wrapped: wrap.getText().replace(/\s+/g, " ") } : {}),
  };
  void sf;
  const stages: Stages = compileStages(lowered.fn, wrtIndices(spec), {
    verifyEach: options.verify ?? false,
    keepValue: spec.mode !== "grad",
    forward: spec.mode === "jvp",
    forwardOnly: spec.forwardOnly ?? false,
  });
  return { exportName: binding.exportName, spec, stages };
}

/** Generated module text for compiled functions of one source file. */
export function generate(
  functions: readonly CompiledFunction[],
  sourceName: string,
  emit: "ts" | "js",
  module: ModuleFormat = "esm",
  kernels: Pick<CompileOptions, "backend" | "wasmMinWork" | "threads" | "threadMinWork"> = {},
): { code: string; dts: string; lines: readonly (Loc | undefined)[] } {
  const units: CompiledUnit[] = functions.map((f) => ({ spec: f.spec, fn: f.stages.opt }));
  const { code, lines } = emitMappedModule(units, { sourceName, emit, module: emit === "js" ? module : "esm", ...kernels });
  return { code, lines, dts: emitDeclarations(units, { sourceName, emit, ...kernels }) };
}

/**
 * Compiles the `grad`/`valueAndGrad` bindings of `files` (or, with no files, of every file of
 * the tsconfig program). Never throws on user code: problems come back as diagnostics, and a
 * file with diagnostics produces no module.
 */
export function compile(files: readonly string[], options: CompileOptions = {}): CompileResult {
  const cwd = options.cwd ?? process.cwd();
  const emit = options.emit ?? "ts";
  const missing = files.filter((f) => !existsSync(resolve(cwd, f)));
  if (missing.length > 0)
    return {
      modules: [],
      diagnostics: missing.map((f) =>
        makeDiagnostic("GRADC3001", [f], { file: displayPath(resolve(cwd, f), cwd), line: 1, col: 1, length: 1, lineText: "" }),
      ),
      files: [],
    };
  const { project, rootDir } = createProject(files, options);
  const modules: CompiledModule[] = [];
  const diagnostics: Diagnostic[] = unparsedDiagnostics(project, cwd);
  // A named file too deep to parse is not in the project.
  const wanted = files.length > 0 ? files.flatMap((f) => project.getSourceFile(resolve(cwd, f)) ?? []) : project.getSourceFiles();
  for (const sf of wanted) {
    if (sf.isDeclarationFile() || sf.getFilePath().includes("/node_modules/") || /\.grad\.([cm]?js|ts)$/.test(sf.getFilePath())) continue;
    const result = compileSourceFile(sf, rootDir, { ...options, emit }, cwd);
    for (const d of result.diagnostics) diagnostics.push(d);
    if (result.module) modules.push(result.module);
  }
  return { modules, diagnostics, files: wanted.map((sf) => sf.getFilePath()) };
}

/**
 * Compiles the bindings of one source file of a project made by `createProject`: its module
 * (none when the file has no bindings or has errors) and its diagnostics, with paths relative
 * to `cwd`.
 */
export function compileSourceFile(
  sf: SourceFile,
  rootDir: string,
  options: CompileOptions,
  cwd: string,
): { module?: CompiledModule; diagnostics: Diagnostic[] } {
  guardNesting(sf.getProject());
  const deep = nesting.get(sf.compilerNode);
  if (deep) return { diagnostics: [nestingDiagnostic(sf.getFilePath(), deep, cwd)] };
  const syntax = syntaxDiagnostics(sf, cwd);
  if (syntax.length > 0) return { diagnostics: syntax };
  const bindings = findGradBindings(sf);
  const unknown = unknownTransforms(sf).map((e) => diagnosticAt(e, cwd));
  if (bindings.length === 0) return { diagnostics: unknown };
  const emit = options.emit ?? "ts";
  const source = sf.getFilePath();
  const js = jsExtensions(source, options.module);
  const outFile = outputPath(source, options, rootDir, emit === "js" ? js.code : ".grad.ts");
  const diagnostics: Diagnostic[] = [...unknown];
  const functions: CompiledFunction[] = [];
  for (const binding of bindings) {
    try {
      functions.push(compileBinding(binding, sf, dirname(outFile), options));
    } catch (e) {
      if (e instanceof LowerError) diagnostics.push(...e.all.map((x) => diagnosticAt(x, cwd)));
      // Nesting below the guard's limit can still exhaust the stack in some stage.
      else if (isStackOverflow(e)) diagnostics.push(diagnosticAt(new LowerError("GRADC1021", binding.call, ["This function"]), cwd));
      else throw e;
    }
  }
  // A model shared by two bindings has its errors once, in source order.
  if (diagnostics.length > 0) return { diagnostics: uniqueDiagnostics(diagnostics) };
  const sourceName = relative(dirname(outFile), source).split(sep).join("/");
  const generated = generate(functions, sourceName, emit, js.format, {
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.wasmMinWork === undefined ? {} : { wasmMinWork: options.wasmMinWork }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.threadMinWork === undefined ? {} : { threadMinWork: options.threadMinWork }),
  });
  const { dts, lines } = generated;
  let code = generated.code;
  let sourceMap: CompiledModule["sourceMap"];
  if (options.sourceMap) {
    const file = `${outFile}.map`;
    sourceMap = { file, text: `${JSON.stringify(moduleSourceMap(basename(outFile), lines))}\n` };
    code += `${sourceMappingURL(basename(file))}\n`;
  }
  return {
    diagnostics,
    module: {
      sourceFile: source,
      outFile,
      code,
      lines,
      ...(sourceMap ? { sourceMap } : {}),
      ...(emit === "js" ? { declarations: { file: outFile.slice(0, -js.code.length) + js.declarations, text: dts } } : {}),
      functions,
    },
  };
}

/** Each diagnostic once per place and text, sorted by position (tsc's order). */
function uniqueDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Map<string, Diagnostic>();
  for (const d of ds) {
    const key = `${d.file}:${d.line}:${d.col}:${d.code}:${d.message}`;
    if (!seen.has(key)) seen.set(key, d);
  }
  return [...seen.values()].sort((a, b) => a.line - b.line || a.col - b.col);
}

export type { Func };
