// gradc's compiled code: compile the model source with the programmatic API, write the emitted
// standalone ES module to a temporary .mjs file outside the project (so any import it still
// had would fail), import it, and call the compiled `lossAndGrad` on plain `{ shape, data }`
// tensors.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ModelCase } from "../cases.js";
import { bundleCompiler, Missing, ROOT } from "../lib/build.js";
import { missingOps } from "../lib/needs.js";
import { cloneTree, type Tree } from "../lib/tree.js";
import { fromGradc } from "./compiled.js";
import { needsMessage, Unavailable, type Engine, type EngineInstance } from "./types.js";

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  code: string;
  message: string;
}

export interface CompileResult {
  modules: { sourceFile: string; outFile: string; code: string; functions?: { stages?: Partial<Record<Stage, IrFunc>> }[] }[];
  diagnostics: Diagnostic[];
}

/** Beyond the documented API: the IR of each compiled function, used to count nodes if present. */
type Stage = "ir" | "grad" | "opt";
interface IrBlock {
  nodes: { blocks?: IrBlock[] }[];
}
interface IrFunc {
  body: IrBlock;
}

function countNodes(b: IrBlock): number {
  return b.nodes.reduce((n, node) => n + 1 + (node.blocks ?? []).reduce((m, inner) => m + countNodes(inner), 0), 0);
}

export type Backend = "js" | "wasm";
export type Threads = number | "auto";
export type CompileFn = (
  files: string[],
  options?: { emit?: "js" | "ts"; forwardOnly?: boolean; backend?: Backend; threads?: Threads },
) => CompileResult | Promise<CompileResult>;

/** `GRADC_BENCH_BACKEND=js|wasm`: the backend of the `gradc` engine (default: the compiler's, wasm). */
export function envBackend(): Backend | undefined {
  const b = process.env["GRADC_BENCH_BACKEND"];
  return b === "js" || b === "wasm" ? b : undefined;
}

/**
 * `GRADC_BENCH_THREADS=N|auto`: the threads the WebAssembly kernels may use, passed to the
 * compiler as its `threads` option (unset: the compiler's default, auto).
 */
export function benchThreads(): Threads | undefined {
  const value = process.env["GRADC_BENCH_THREADS"]?.trim();
  if (value === undefined || value === "") return undefined;
  if (value === "auto") return "auto";
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Unavailable(`GRADC_BENCH_THREADS must be a positive whole number or auto, not '${value}'`);
  return n;
}

let compiler: Promise<CompileFn> | undefined;

/** The compiler's `compile`, loaded once per process; Unavailable with the reason otherwise. */
export function loadCompiler(): Promise<CompileFn> {
  compiler ??= (async () => {
    let url: string;
    try {
      url = await bundleCompiler();
    } catch (e) {
      if (e instanceof Missing) throw new Unavailable(`pending: ${e.message}`);
      throw new Unavailable(`compiler/index.ts does not build: ${(e as Error).message}`);
    }
    const mod = (await import(url)) as { compile?: unknown };
    if (typeof mod.compile !== "function") throw new Unavailable(`compiler/index.ts does not export compile() (exports: ${Object.keys(mod).join(", ") || "none"})`);
    return mod.compile as CompileFn;
  })();
  return compiler;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${path.relative(ROOT, d.file) || d.file}(${d.line},${d.col}): error ${d.code}: ${d.message}`;
}

let tmp: string | undefined;

export interface Compiled {
  /** The generated module, written to a temporary folder outside the project. */
  file: string;
  compileMs: number;
  /** CPU time of the process during compile() (all its threads): steadier than wall time on a busy machine. */
  compileCpuMs: number;
  codeBytes: number;
  /** IR nodes (nested blocks included) after the frontend, after AD and after optimization. */
  irNodes?: Partial<Record<Stage, number>>;
}

/**
 * Compiles one source file with `emit: "js"` and writes the module for `source` to a temp file.
 * `forwardOnly` (a compiler option for this measurement) compiles each binding to the value of
 * the function it differentiates, without derivatives; `backend` defaults to `envBackend()`.
 */
export async function compileToFile(source: string, outName: string, forwardOnly = false, backend = envBackend()): Promise<Compiled> {
  const compile = await loadCompiler();
  const file = path.resolve(ROOT, source);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let result: CompileResult;
  try {
    const threads = benchThreads();
    result = await compile([file], { emit: "js", ...(forwardOnly ? { forwardOnly } : {}), ...(backend ? { backend } : {}), ...(threads === undefined ? {} : { threads }) });
  } catch (e) {
    throw new Unavailable(`compile() threw: ${(e as Error).stack?.split("\n").slice(0, 3).join(" | ") ?? String(e)}`);
  }
  const compileMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const compileCpuMs = (cpu.user + cpu.system) / 1000;
  const mod = result.modules.find((m) => path.resolve(ROOT, m.sourceFile) === file) ?? (result.modules.length === 1 ? result.modules[0] : undefined);
  if (!mod) {
    const diags = result.diagnostics.map(formatDiagnostic);
    throw new Unavailable(diags.length > 0 ? diags.join("; ") : `compile() returned no module for ${source}`);
  }
  if (tmp === undefined) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "gradc-bench-"));
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    tmp = dir;
  }
  const out = path.join(tmp, outName);
  writeFileSync(out, mod.code);
  const irNodes: Partial<Record<Stage, number>> = {};
  for (const stage of ["ir", "grad", "opt"] as const) {
    const funcs = (mod.functions ?? []).map((f) => f.stages?.[stage]).filter((f): f is IrFunc => f?.body !== undefined);
    if (funcs.length > 0) irNodes[stage] = funcs.reduce((n, f) => n + countNodes(f.body), 0);
  }
  return { file: out, compileMs, compileCpuMs, codeBytes: Buffer.byteLength(mod.code), ...(Object.keys(irNodes).length > 0 ? { irNodes } : {}) };
}

/** Imports a generated module; Unavailable when it does not load on its own. */
export async function importCompiled(c: Compiled): Promise<{ exports: Record<string, unknown>; importMs: number }> {
  const t0 = performance.now();
  try {
    const exports = (await import(pathToFileURL(c.file).href)) as Record<string, unknown>;
    return { exports, importMs: performance.now() - t0 };
  } catch (e) {
    throw new Unavailable(`generated module does not load standalone (${c.file}): ${(e as Error).message}`);
  }
}

/** Compiled modules of this process, by backend and kind (one model per process). */
const compiledModules = new Map<string, Promise<Compiled>>();

/**
 * gradc compiles ahead of time, at build time, so compiling is its `prepare` step: reported
 * in the compile table, but neither in setup time nor in the memory growth of the engine
 * (which then measures the generated code). The process peak still includes the compiler.
 */
function compileOnce(model: ModelCase, backend: Backend | undefined, forwardOnly = false): Promise<Compiled> {
  const key = `${backend ?? "default"}.${forwardOnly ? "value" : "grad"}`;
  let c = compiledModules.get(key);
  if (!c) {
    c = requireOps(model).then(() => compileToFile(model.source, `${model.name}.${key}.mjs`, forwardOnly, backend));
    compiledModules.set(key, c);
  }
  return c;
}

/** A model written against ops the runtime does not have yet is "n/a (needs …)", not a compile error. */
async function requireOps(model: ModelCase): Promise<void> {
  const missing = await missingOps(model);
  if (missing.length > 0) throw new Unavailable(needsMessage(missing));
}

type Fn = (...args: unknown[]) => unknown;

/**
 * `() => f(a, b, c)` with the arguments written out, as the hand-written reference is called: a
 * spread call (`f(...args)`) costs more than fxyz's whole computation.
 */
function positional(f: Fn, args: unknown[]): () => unknown {
  const [a, b, c, d, e] = args;
  switch (args.length) {
    case 1:
      return () => f(a);
    case 2:
      return () => f(a, b);
    case 3:
      return () => f(a, b, c);
    case 4:
      return () => f(a, b, c, d);
    case 5:
      return () => f(a, b, c, d, e);
    default:
      return () => f(...args);
  }
}

/**
 * gradc's generated code, calling the export `exportName`: `lossAndGrad` (reuse: true, the
 * same result objects every call) or `lossAndGradFresh` (new result objects every call).
 * `backend()`: the compiler's kernel backend (undefined: its default). The same bindings
 * compiled to the value alone (`forwardOnly`) are the denominator of the cost of derivatives,
 * unless the case turns that measurement off.
 */
function gradcEngine(name: "gradc" | "gradc-fresh" | "gradc-js", exportName: string, backend: () => Backend | undefined): Engine {
  return {
    name,
    prepare: async (model) => {
      const b = backend();
      await Promise.all([compileOnce(model, b), ...(model.timeDerivatives === false ? [] : [compileOnce(model, b, true)])]);
    },
    async setup(model: ModelCase, inputs: Tree[]): Promise<EngineInstance> {
      const b = backend();
      const c = await compileOnce(model, b);
      const { exports, importMs } = await importCompiled(c);
      const lossAndGrad = exports[exportName];
      if (typeof lossAndGrad !== "function") {
        throw new Unavailable(`generated module has no ${exportName} function (exports: ${Object.keys(exports).join(", ") || "none"})`);
      }
      // A module compiled with the WebAssembly backend may need to finish instantiating.
      await (exports["ready"] as Promise<void> | undefined);
      let value: unknown;
      if (model.timeDerivatives !== false) {
        const valueModule = (await importCompiled(await compileOnce(model, b, true))).exports;
        await (valueModule["ready"] as Promise<void> | undefined);
        value = valueModule[exportName];
        if (typeof value !== "function") throw new Unavailable(`the forward-only module has no ${exportName} function`);
      }
      // gradc's Tensor is structural ({ shape, data }), so the harness's own values go in as-is.
      const args = inputs.map((a) => cloneTree(a));
      let out: unknown;
      let v: unknown;
      const f = positional(lossAndGrad as Fn, args);
      const fv = value === undefined ? undefined : positional(value as Fn, args);
      return {
        call: () => void (out = f()),
        ...(fv ? { valueOnly: () => void (v = fv()) } : {}),
        result: () => fromGradc(model, inputs, out),
        info: { compileMs: c.compileMs, codeBytes: c.codeBytes, importMs, backend: b ?? "default", threads: benchThreads() ?? "default" },
      };
    },
  };
}

export const gradc: Engine = gradcEngine("gradc", "lossAndGrad", envBackend);
export const gradcFresh: Engine = gradcEngine("gradc-fresh", "lossAndGradFresh", envBackend);
/** The JavaScript-only backend (`backend: "js"`), whatever GRADC_BENCH_BACKEND says. */
export const gradcJs: Engine = gradcEngine("gradc-js", "lossAndGrad", () => "js");
