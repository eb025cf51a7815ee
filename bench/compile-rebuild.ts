// Compile latency as a user meets it (part of `npm run bench:compile`): a cold one-file CLI
// run, and a rebuild after editing one model in `gradc --watch`, in esbuild's watch mode and in
// the Vite dev server, plus the incremental compiler's own `update` (what every watcher calls).
// Everything runs the built package (dist/, `npm run build`), as a user would.
//
// Each rebuild edits a constant in a model (so the generated code changes) and times from the
// write to the rebuilt output: the CLI's "Found N errors" line, esbuild's end of build, Vite's
// transform of the module as the browser re-requests it after the change event.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./lib/build.js";
import { median } from "./lib/timing.js";

export interface Measure {
  /** What was measured, one table row. */
  readonly what: string;
  readonly samplesMs?: readonly number[];
  readonly medianMs?: number;
  readonly targetMs?: number;
  /** The process's CPU time (median), where measured. */
  readonly cpuMs?: number;
  /** Why there is no figure. */
  readonly unavailable?: string;
  readonly note?: string;
}

const DIST = path.join(ROOT, "dist");
const BIN = path.join(ROOT, "bin", "gradc.js");
const SCRATCH = path.join(ROOT, "bench", "results", "rebuild");

/** The edited constant of edit `i`: a literal that appears nowhere else. */
export const constant = (i: number): string => `1.0${String(i).padStart(3, "0")}7`;

/** How often the constant of edit `i` occurs in `text`: once in the source, more once compiled. */
const occurrences = (text: string, i: number): number => text.split(constant(i)).length - 1;

/** A model whose generated code depends on edit `k` (its constant). */
export function modelSource(k: number): string {
  return [
    `import { matmul, sigmoid, square, sub, sum, valueAndGrad, type Tensor } from "gradc";`,
    `import { scale } from "./helpers.js";`,
    ``,
    `export interface Params {`,
    `  W1: Tensor<[16, 4]>;`,
    `  W2: Tensor<[1, 16]>;`,
    `}`,
    ``,
    `export function loss(p: Params, x: Tensor<[4, 1]>, y: number): number {`,
    `  const h = sigmoid(matmul(p.W1, x));`,
    `  const yhat = matmul(p.W2, h);`,
    `  return scale(sum(square(sub(yhat, y)))) * ${constant(k)};`,
    `}`,
    ``,
    `export const lossGrad = valueAndGrad(loss);`,
    ``,
  ].join("\n");
}

const HELPERS = `export function scale(v: number): number {\n  return 0.5 * v;\n}\n`;

function scratch(name: string): { dir: string; model: string } {
  const dir = path.join(SCRATCH, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "helpers.ts"), HELPERS);
  const model = path.join(dir, "model.ts");
  writeFileSync(model, modelSource(1));
  return { dir, model };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU time of this process (all its threads) since `start`, in ms. */
const cpuSince = (start: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
};

const CPU_AT_EXIT = path.join(ROOT, "bench", "lib", "cpu-at-exit.cjs");

/** One run of the bin: wall time from spawn to exit, and the CPU time the process reported. */
function runOnce(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ wallMs: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ["--require", CPU_AT_EXIT, BIN, ...args], { cwd: ROOT, env, stdio: ["ignore", "ignore", "ignore", "pipe"] });
    let cpu = "";
    child.stdio[3]!.on("data", (d: Buffer) => (cpu += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve({ wallMs: performance.now() - t0, cpuMs: Number(cpu.trim()) }) : reject(new Error(`gradc ${args.join(" ")} exited ${code}`)),
    );
  });
}

/** Process start to exit of `gradc examples/fxyz.ts --noEmit`, after one warm-up run. */
export async function coldCli(runs: number, compileCache: boolean): Promise<Measure> {
  const what = `cold CLI compile, one file (\`gradc examples/fxyz.ts\`)${compileCache ? "" : ", no code cache"}`;
  if (!existsSync(path.join(DIST, "compiler", "cli", "main.js"))) return { what, unavailable: "dist/ is not built (npm run build)" };
  const env = { ...process.env, ...(compileCache ? {} : { GRADC_COMPILE_CACHE: "0" }) };
  const args = ["examples/fxyz.ts", "--noEmit"];
  await runOnce(args, env);
  const samples: { wallMs: number; cpuMs: number }[] = [];
  for (let i = 0; i < runs; i++) samples.push(await runOnce(args, env));
  const samplesMs = samples.map((s) => s.wallMs);
  const cpu = median(samples.map((s) => s.cpuMs));
  return { what, samplesMs, medianMs: median(samplesMs), targetMs: 1500, cpuMs: cpu, note: `CPU time of the process: median ${cpu.toFixed(0)} ms` };
}

/** Lines of a child's stdout, as a queue the bench waits on. */
class Lines {
  private buffered = "";
  private waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  constructor(child: ChildProcess) {
    child.stdout!.on("data", (d: Buffer) => {
      this.buffered += d.toString();
      let nl: number;
      while ((nl = this.buffered.indexOf("\n")) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.waiters = this.waiters.filter((w) => (w.test(line) ? (w.resolve(line), false) : true));
      }
    });
  }
  next(test: (l: string) => boolean, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for gradc --watch")), timeoutMs);
      this.waiters.push({ test, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }
}

/** Write → "Found N errors" in `gradc --watch model.ts`. */
export async function watchRebuild(edits: number): Promise<Measure> {
  const what = "rebuild after editing one model, `gradc --watch`";
  if (!existsSync(BIN) || !existsSync(path.join(DIST, "compiler"))) return { what, unavailable: "dist/ is not built (npm run build)" };
  const { dir, model } = scratch("watch");
  const child = spawn(process.execPath, [BIN, "--watch", path.relative(ROOT, model)], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const lines = new Lines(child);
  try {
    await lines.next((l) => l.includes("Watching for file changes"), 120_000);
    const samplesMs: number[] = [];
    for (let i = 0; i < edits; i++) {
      await sleep(150);
      const done = lines.next((l) => l.includes("Watching for file changes"), 60_000);
      const t0 = performance.now();
      writeFileSync(model, modelSource(i + 2));
      const line = await done;
      samplesMs.push(performance.now() - t0);
      if (!line.includes("Found 0 errors")) throw new Error(`gradc --watch: ${line}`);
      const out = readFileSync(path.join(dir, "model.grad.ts"), "utf8");
      if (occurrences(out, i + 2) === 0) throw new Error("gradc --watch did not regenerate model.grad.ts");
    }
    return { what, samplesMs, medianMs: median(samplesMs), targetMs: 200, note: "includes the 20 ms debounce" };
  } finally {
    child.kill("SIGINT");
  }
}

/** The incremental compiler's `update(file)` after an edit, in process (what watchers call). */
export async function apiUpdate(edits: number): Promise<Measure> {
  const what = "`IncrementalCompiler.update` after an edit (in process)";
  const url = pathToFileURL(path.join(DIST, "compiler", "incremental.js")).href;
  if (!existsSync(new URL(url))) return { what, unavailable: "dist/compiler/incremental.js is not built" };
  const { createIncrementalCompiler } = (await import(url)) as typeof import("../compiler/incremental.js");
  const { model } = scratch("api");
  const compiler = createIncrementalCompiler({ cwd: ROOT, files: [model], emit: "js" });
  compiler.compileFile(model);
  const samplesMs: number[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < edits; i++) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const [outcome] = compiler.update(model, modelSource(i + 2));
    samplesMs.push(performance.now() - t0);
    cpuMs.push(cpuSince(cpu0));
    if (!outcome?.module || occurrences(outcome.module.code, i + 2) === 0) throw new Error("update did not recompile the model");
  }
  const cpu = median(cpuMs);
  return { what, samplesMs, medianMs: median(samplesMs), targetMs: 200, cpuMs: cpu, note: `CPU time: median ${cpu.toFixed(0)} ms` };
}

/** Write → end of build in esbuild's watch mode with the gradc plugin. */
export async function esbuildWatch(edits: number): Promise<Measure> {
  const what = "rebuild after editing one model, esbuild watch mode (write → end of build)";
  const pluginUrl = pathToFileURL(path.join(DIST, "compiler", "esbuild", "index.js")).href;
  if (!existsSync(new URL(pluginUrl))) return { what, unavailable: "dist/compiler/esbuild is not built" };
  const esbuild = await import("esbuild");
  const { gradc } = (await import(pluginUrl)) as { gradc: () => import("esbuild").Plugin };
  const { dir, model } = scratch("esbuild");
  const entry = path.join(dir, "main.ts");
  writeFileSync(entry, `import { lossGrad } from "./model.js";\nconsole.log(typeof lossGrad);\n`);
  let ended: ((ms: number) => void) | undefined;
  let started = 0;
  const buildTimes: number[] = [];
  const ctx = await esbuild.context({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: path.join(dir, "out.mjs"),
    absWorkingDir: ROOT,
    external: ["gradc"],
    logLevel: "silent",
    plugins: [
      gradc(),
      {
        name: "timing",
        setup(b) {
          b.onStart(() => void (started = performance.now()));
          b.onEnd((r) => {
            if (r.errors.length > 0) throw new Error(`esbuild: ${r.errors[0]!.text}`);
            buildTimes.push(performance.now() - started);
            ended?.(performance.now());
          });
        },
      },
    ],
  });
  try {
    const first = new Promise<number>((r) => (ended = r));
    await ctx.watch();
    await first;
    const samplesMs: number[] = [];
    buildTimes.length = 0;
    const cpuMs: number[] = [];
    for (let i = 0; i < edits; i++) {
      await sleep(150);
      const done = new Promise<number>((r) => (ended = r));
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      writeFileSync(model, modelSource(i + 2));
      samplesMs.push((await done) - t0);
      cpuMs.push(cpuSince(cpu0));
      if (occurrences(readFileSync(path.join(dir, "out.mjs"), "utf8"), i + 2) === 0) throw new Error("esbuild did not rebuild the model");
    }
    return {
      what,
      samplesMs,
      medianMs: median(samplesMs),
      targetMs: 200,
      cpuMs: median(cpuMs),
      note: `of which the build itself (onStart → onEnd): median ${median(buildTimes).toFixed(0)} ms; the rest is esbuild noticing the change; CPU time of this process (gradc's part: esbuild runs in a process of its own): median ${median(cpuMs).toFixed(0)} ms`,
    };
  } finally {
    await ctx.dispose();
  }
}

/** The part of Vite's API used here (vite is optional: installed with the Vite plugin). */
interface ViteLike {
  createServer(config: Record<string, unknown>): Promise<{
    transformRequest(url: string): Promise<{ code: string } | null>;
    moduleGraph: { getModuleByUrl(url: string): Promise<{ transformResult: unknown } | undefined> };
    /** Vite 5.3+: resolves once the modules being transformed in the background are done. */
    waitForRequestsIdle?(ignoredId?: string): Promise<void>;
    close(): Promise<void>;
  }>;
}
const VITE: string = "vite";

/** Write → transformed module in the Vite dev server with the gradc plugin. */
export async function viteDev(edits: number): Promise<Measure> {
  const what = "rebuild after editing one model, Vite dev server (write → module transformed)";
  const pluginFile = path.join(DIST, "compiler", "vite", "index.js");
  if (!existsSync(pluginFile)) return { what, unavailable: "no gradc/vite plugin in dist/ (npm run build)" };
  let vite: ViteLike;
  try {
    vite = (await import(VITE)) as ViteLike;
  } catch {
    return { what, unavailable: "the vite package is not installed" };
  }
  const plugin = (await import(pathToFileURL(pluginFile).href)) as { default?: () => unknown; gradc?: () => unknown };
  const factory = plugin.gradc ?? plugin.default;
  if (typeof factory !== "function") return { what, unavailable: "gradc/vite exports no plugin factory" };
  const { dir, model } = scratch("vite");
  writeFileSync(path.join(dir, "index.html"), `<script type="module" src="/model.ts"></script>\n`);
  const server = await vite.createServer({
    root: dir,
    configFile: false,
    logLevel: "silent",
    plugins: [factory()],
    server: { middlewareMode: true, hmr: false, watch: {} },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  try {
    const first = await server.transformRequest("/model.ts");
    if (!first || occurrences(first.code, 1) < 2) throw new Error("vite: the first transform did not compile the model");
    // Vite goes on transforming what the model imports in the background (inside this
    // repository that is gradc's own dist/, which the plugin reads too): start-up work, not a
    // rebuild, so the edits wait until it is done.
    await server.waitForRequestsIdle?.("/model.ts");
    const samplesMs: number[] = [];
    const cpuMs: number[] = [];
    for (let i = 0; i < edits; i++) {
      await sleep(150);
      const mod = await server.moduleGraph.getModuleByUrl("/model.ts");
      if (!mod) throw new Error("vite: /model.ts is not in the module graph");
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      writeFileSync(model, modelSource(i + 2));
      // Vite drops the module's transform when its watcher reports the change (and then tells
      // the browser, which requests the module again): wait for that, then request it.
      while (mod.transformResult) {
        if (performance.now() - t0 > 10_000) throw new Error("vite did not notice the change");
        await sleep(1);
      }
      const result = await server.transformRequest("/model.ts");
      samplesMs.push(performance.now() - t0);
      cpuMs.push(cpuSince(cpu0));
      if (!result || occurrences(result.code, i + 2) < 2) throw new Error("vite did not recompile the model");
    }
    const cpu = median(cpuMs);
    return { what, samplesMs, medianMs: median(samplesMs), targetMs: 200, cpuMs: cpu, note: `CPU time of the process: median ${cpu.toFixed(0)} ms` };
  } finally {
    await server.close();
  }
}

async function attempt(what: string, run: () => Promise<Measure>): Promise<Measure> {
  try {
    return await run();
  } catch (e) {
    return { what, unavailable: `error: ${(e as Error).message}` };
  }
}

/** Every latency measure, in table order. */
export async function latencyMeasures(options: { runs: number; edits: number }): Promise<Measure[]> {
  const out: Measure[] = [];
  out.push(await attempt("cold CLI compile", () => coldCli(options.runs, true)));
  out.push(await attempt("cold CLI compile, no code cache", () => coldCli(options.runs, false)));
  out.push(await attempt("--watch rebuild", () => watchRebuild(options.edits)));
  out.push(await attempt("Vite dev rebuild", () => viteDev(options.edits)));
  out.push(await attempt("esbuild watch rebuild", () => esbuildWatch(options.edits)));
  out.push(await attempt("IncrementalCompiler.update", () => apiUpdate(options.edits)));
  rmSync(SCRATCH, { recursive: true, force: true });
  return out;
}

/** Met or missed on wall time; when wall time misses, whether the CPU time alone would meet it (a busy machine). */
export function verdict(ms: number | undefined, target: number | undefined, cpuMs?: number): string {
  if (ms === undefined || target === undefined) return "—";
  if (ms <= target) return "✓ met";
  return cpuMs !== undefined && cpuMs <= target ? "✗ missed on wall time (CPU time within)" : "✗ missed";
}
