// `npm run bench:compile`: how gradc's compile time, generated code size and run time grow with
// the size of the differentiated function. Synthetic models of 10², 10³, 10⁴ and 10⁵ forward
// operations are generated as TypeScript source:
//
//   scalar   v_i = Math.tanh(v_{i-1} * v_{i-2} + v_{i-3})  on numbers (each value used 3 times)
//   tensor   v_i = tanh(add(mul(v_{i-1}, v_{i-2}), v_{i-3}))  on Tensor<[256]>, then sum
//
// three operations per statement, so "nodes" is the forward op count of the source (the
// compiler's IR adds the backward pass on top). Each case runs in its own process with a
// timeout; the runtime tape runs the same source for comparison.
//
// Before the scaling table it measures latency (bench/compile-rebuild.ts): a cold one-file CLI
// run and rebuilds after an edit in --watch, the Vite dev server and esbuild's watch mode; at
// the end a summary table puts each figure against its target.
//
//   npm run bench:compile
//   npm run bench:compile -- --sizes 100,1000 --kind scalar
//   npm run bench:compile -- --skip-latency      # the scaling table only

import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type Measure, latencyMeasures, verdict } from "./compile-rebuild.js";
import { compileToFile, importCompiled, loadCompiler } from "./engines/gradc.js";
import { Unavailable } from "./engines/types.js";
import { bundleCompiler as bundleCompilerUrl, bundleForTape, ROOT } from "./lib/build.js";
import { Rng } from "./lib/prng.js";
import { fmtTime } from "./lib/report.js";
import { calibrate, median, timeBatch, warmUp } from "./lib/timing.js";

const KINDS = ["scalar", "tensor"] as const;
type Kind = (typeof KINDS)[number];
const WIDTH = 256;

interface CaseReport {
  kind: Kind;
  nodes: number;
  status: "ok" | "unavailable" | "error" | "timeout";
  reason?: string;
  sourceBytes?: number;
  /** IR node counts reported by the compiler: frontend, after AD, after optimization. */
  irNodes?: { ir?: number; grad?: number; opt?: number };
  compileMs?: number;
  recompileMs?: number;
  /** CPU time of the second compile (all threads of the process). */
  recompileCpuMs?: number;
  /** An edit of the model in a live incremental compiler (as in --watch and the plugins): wall and CPU. */
  editMs?: number;
  editCpuMs?: number;
  codeBytes?: number;
  importMs?: number;
  firstCallMs?: number;
  callMs?: number;
  tapeCallMs?: number;
  tapeReason?: string;
  peakRssMB?: number;
}

/** The source of a synthetic model with `nodes` forward operations (rounded up to 3). */
export function generate(kind: Kind, nodes: number): string {
  const statements = Math.max(1, Math.ceil((nodes - 3) / 3));
  const lines: string[] = [];
  if (kind === "scalar") {
    lines.push(`import { valueAndGrad } from "gradc";`, ``, `export function chain(x: number, y: number): number {`);
    lines.push(`  const v0 = x * y;`, `  const v1 = Math.sin(x);`, `  const v2 = Math.cos(y);`);
    for (let i = 3; i < statements + 3; i++) lines.push(`  const v${i} = Math.tanh(v${i - 1} * v${i - 2} + v${i - 3});`);
    lines.push(`  return v${statements + 2};`, `}`);
  } else {
    lines.push(
      `import { add, mul, sigmoid, sum, tanh, valueAndGrad, type Tensor } from "gradc";`,
      ``,
      `export function chain(x: Tensor<[${WIDTH}]>, y: Tensor<[${WIDTH}]>): number {`,
    );
    lines.push(`  const v0 = mul(x, y);`, `  const v1 = tanh(x);`, `  const v2 = sigmoid(y);`);
    for (let i = 3; i < statements + 3; i++) lines.push(`  const v${i} = tanh(add(mul(v${i - 1}, v${i - 2}), v${i - 3}));`);
    lines.push(`  return sum(v${statements + 2});`, `}`);
  }
  lines.push(``, `export const lossAndGrad = valueAndGrad(chain, { argnums: [0, 1] });`, ``);
  return lines.join("\n");
}

function inputs(kind: Kind): unknown[] {
  const rng = new Rng(1234);
  if (kind === "scalar") return [rng.uniform(-1, 1), rng.uniform(-1, 1)];
  const t = () => ({ shape: [WIDTH], data: Float64Array.from({ length: WIDTH }, () => rng.uniform(-1, 1)) });
  return [t(), t()];
}

/** The edit of a large model in a live incremental compiler: what a dev server pays on save. */
async function timeEdit(source: string, text: string): Promise<{ editMs?: number; editCpuMs?: number }> {
  const url = await bundleCompilerUrl();
  const mod = (await import(url)) as { createIncrementalCompiler?: (o: object) => { compileFile(f: string): unknown; update(f: string, t: string): { module?: unknown }[] } };
  if (typeof mod.createIncrementalCompiler !== "function") return {};
  const compiler = mod.createIncrementalCompiler({ cwd: ROOT, files: [source], emit: "js" });
  compiler.compileFile(source);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const [outcome] = compiler.update(source, `${text}\n// an edit\n`);
  const cpu = process.cpuUsage(cpu0);
  if (!outcome?.module) throw new Error("the incremental compiler did not recompile the model");
  return { editMs: performance.now() - t0, editCpuMs: (cpu.user + cpu.system) / 1000 };
}

function timePerCall(fn: () => void): number {
  warmUp(fn, 200, 3);
  const n = calibrate(fn, 5);
  const samples: number[] = [];
  for (let i = 0; i < 9; i++) samples.push(timeBatch(fn, n) / n);
  return median(samples);
}

/** Child: one kind and size. Sources go under bench/results/ (git-ignored, inside the project
 *  so that `gradc` resolves through the project's tsconfig like any model's). */
async function runCase(kind: Kind, nodes: number): Promise<CaseReport> {
  const report: CaseReport = { kind, nodes, status: "ok" };
  const dir = path.join(ROOT, "bench", "results", "scaling-src");
  mkdirSync(dir, { recursive: true });
  const source = path.join(dir, `${kind}-${nodes}.ts`);
  const text = generate(kind, nodes);
  writeFileSync(source, text);
  report.sourceBytes = Buffer.byteLength(text);
  try {
    await loadCompiler();
    const compiled = await compileToFile(path.relative(ROOT, source), `${kind}-${nodes}.grad.mjs`);
    const { exports, importMs } = await importCompiled(compiled);
    Object.assign(report, { compileMs: compiled.compileMs, codeBytes: compiled.codeBytes, importMs });
    if (compiled.irNodes) report.irNodes = compiled.irNodes;
    // A second compile in the same process: TypeScript's libraries are loaded by then.
    if (compiled.compileMs < 30_000) {
      const again = await compileToFile(path.relative(ROOT, source), `${kind}-${nodes}.again.grad.mjs`);
      report.recompileMs = again.compileMs;
      report.recompileCpuMs = again.compileCpuMs;
      Object.assign(report, await timeEdit(source, text));
    }
    const fn = exports.lossAndGrad as (...a: unknown[]) => unknown;
    if (typeof fn !== "function") throw new Unavailable("generated module has no lossAndGrad");
    const args = inputs(kind);
    const t0 = performance.now();
    fn(...args);
    report.firstCallMs = performance.now() - t0;
    report.callMs = timePerCall(() => void fn(...args));
  } catch (e) {
    report.status = e instanceof Unavailable ? "unavailable" : "error";
    report.reason = (e as Error).message;
  }
  try {
    const url = await bundleForTape(path.relative(ROOT, source), `scaling-tape-${kind}-${nodes}.mjs`);
    const mod = (await import(url)) as { lossAndGrad: (...a: unknown[]) => unknown; gradc: { tensor: (d: Float64Array, s: number[]) => unknown } };
    const args = inputs(kind).map((a) => (typeof a === "number" ? a : mod.gradc.tensor((a as { data: Float64Array }).data, [WIDTH])));
    report.tapeCallMs = timePerCall(() => void mod.lossAndGrad(...args));
  } catch (e) {
    report.tapeReason = (e as Error).message;
  }
  report.peakRssMB = (process.resourceUsage().maxRSS * 1024) / 2 ** 20;
  return report;
}

function runChild(kind: Kind, nodes: number, timeoutS: number): Promise<CaseReport> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--stack-size=4000", script, "--child", "--kind", kind, "--sizes", String(nodes)], {
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    let report: CaseReport | undefined;
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on("message", (m: CaseReport) => (report = m));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutS * 1000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (report) return resolve(report);
      if (timedOut) return resolve({ kind, nodes, status: "timeout", reason: `no result after ${timeoutS} s (--timeout)` });
      resolve({ kind, nodes, status: "error", reason: `exit ${code ?? signal}: ${stderr.trim().split("\n").slice(-4).join(" | ")}` });
    });
  });
}

function fmtBytes(b: number | undefined): string {
  if (b === undefined) return "—";
  return b < 1024 ? `${b} B` : b < 2 ** 20 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 2 ** 20).toFixed(2)} MiB`;
}

function row(r: CaseReport): string[] {
  const perNode = (ms: number | undefined) => (ms === undefined ? "—" : fmtTime(ms / r.nodes));
  const status = r.status === "ok" ? "" : ` ${r.status}: ${r.reason}`;
  return [
    r.kind,
    r.nodes.toLocaleString("en-US"),
    r.irNodes ? [r.irNodes.ir, r.irNodes.grad, r.irNodes.opt].map((n) => (n === undefined ? "?" : n.toLocaleString("en-US"))).join(" / ") : "—",
    fmtTime(r.compileMs) + (r.recompileMs !== undefined ? ` (again ${fmtTime(r.recompileMs)})` : ""),
    perNode(r.compileMs),
    fmtBytes(r.codeBytes),
    r.codeBytes === undefined ? "—" : `${(r.codeBytes / r.nodes).toFixed(0)} B`,
    fmtTime(r.importMs),
    fmtTime(r.firstCallMs),
    fmtTime(r.callMs),
    perNode(r.callMs),
    r.tapeCallMs === undefined ? `— ${r.tapeReason ?? ""}`.trim() : `${perNode(r.tapeCallMs)} (${r.callMs ? (r.tapeCallMs / r.callMs).toFixed(1) + "×" : "—"})`,
    r.peakRssMB === undefined ? "—" : `${r.peakRssMB.toFixed(0)} MB`,
  ].map((c, i) => (i === 3 ? c + status : c));
}

export function renderScaling(reports: CaseReport[]): string {
  const header = ["kind", "nodes", "IR nodes: fwd / +AD / opt", "compile()", "per node", "code", "per node", "import", "first call", "call", "per node", "tape per node (× gradc)", "peak RSS"];
  const lines = [header, header.map(() => "---"), ...reports.map(row)].map((r) => `| ${r.join(" | ")} |`);
  return lines.join("\n");
}

/** Compile of a 10⁴-node model: the target on the warm figure (TypeScript's libraries loaded). */
const NODE_TARGETS: Record<number, number> = { 10000: 1000 };

/** Every figure against its target, one row each. */
export function renderTargets(latency: readonly Measure[], reports: readonly CaseReport[]): string {
  const rows: string[][] = [["measure", "median", "target", ""]];
  for (const m of latency) {
    const figure = m.medianMs === undefined ? `— (${m.unavailable})` : `${fmtTime(m.medianMs)}${m.samplesMs ? ` (${m.samplesMs.length} runs, ${fmtTime(Math.min(...m.samplesMs))}–${fmtTime(Math.max(...m.samplesMs))})` : ""}${m.note ? `; ${m.note}` : ""}`;
    rows.push([m.what, figure, m.targetMs === undefined ? "—" : `≤ ${fmtTime(m.targetMs)}`, verdict(m.medianMs, m.targetMs, m.cpuMs)]);
  }
  for (const r of reports) {
    const target = NODE_TARGETS[r.nodes];
    const warm = r.recompileMs;
    const figure = r.status !== "ok" ? `— (${r.status}: ${r.reason})` : `${fmtTime(warm ?? r.compileMs)} warm, CPU ${fmtTime(r.recompileCpuMs)} (first in its process ${fmtTime(r.compileMs)})`;
    rows.push([`compile of a ${r.nodes.toLocaleString("en-US")}-node ${r.kind} model`, figure, target === undefined ? "—" : `≤ ${fmtTime(target)}`, verdict(warm, target, r.recompileCpuMs)]);
    if (r.editMs !== undefined)
      rows.push([
        `… the same model edited, in a live incremental compiler`,
        `${fmtTime(r.editMs)}, CPU ${fmtTime(r.editCpuMs)}`,
        target === undefined ? "—" : `≤ ${fmtTime(target)}`,
        verdict(r.editMs, target, r.editCpuMs),
      ]);
  }
  return [rows[0]!, rows[0]!.map(() => "---"), ...rows.slice(1)].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "100,1000,10000,100000" },
      kind: { type: "string", default: KINDS.join(",") },
      timeout: { type: "string", default: "600" },
      child: { type: "boolean", default: false },
      out: { type: "string" },
      "skip-latency": { type: "boolean", default: false },
      runs: { type: "string", default: "7" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log("usage: npm run bench:compile -- [--sizes 100,1000,10000,100000] [--kind scalar,tensor] [--timeout s] [--runs n] [--skip-latency] [--out file]");
    return;
  }
  const sizes = values.sizes.split(",").map(Number);
  const kinds = values.kind.split(",") as Kind[];
  if (sizes.some((n) => !(n >= 4)) || kinds.some((k) => !KINDS.includes(k))) {
    console.error(`bench:compile: bad --sizes or --kind (kinds: ${KINDS.join(", ")})`);
    process.exit(2);
  }
  if (values.child) {
    const r = await runCase(kinds[0]!, sizes[0]!);
    await new Promise<void>((resolve) => (process.send ? process.send(r, undefined, {}, () => resolve()) : (console.log(JSON.stringify(r)), resolve())));
    process.exit(0);
  }
  console.log(`gradc bench:compile on ${os.cpus()[0]?.model.trim()} (${os.cpus().length} cores), Node ${process.version}`);
  let latency: Measure[] = [];
  if (!values["skip-latency"]) {
    const runs = Math.max(1, Number(values.runs));
    latency = await latencyMeasures({ runs, edits: runs });
    for (const m of latency) console.log(`  ${m.what}: ${m.medianMs === undefined ? m.unavailable : `median ${fmtTime(m.medianMs)}`}`);
  }
  const reports: CaseReport[] = [];
  for (const kind of kinds) {
    for (const n of sizes) {
      const r = await runChild(kind, n, Number(values.timeout));
      reports.push(r);
      const [k, nodes, ir, compile, , code, , , , call, perNode, tape] = row(r);
      console.log(`  ${k!.padEnd(6)} ${nodes!.padStart(7)} nodes (IR ${ir})  compile ${compile}  code ${code}  call ${call} (${perNode}/node)  tape ${tape}`);
    }
  }
  const table = renderScaling(reports);
  console.log(`\n${table}\n`);
  const summary = renderTargets(latency, reports);
  console.log(`${summary}\n`);
  const date = new Date();
  const dir = path.join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const result = {
    date: date.toISOString(),
    machine: { cpu: os.cpus()[0]?.model.trim(), cores: os.cpus().length, node: process.version, loadavg: os.loadavg() },
    width: WIDTH,
    cases: reports,
    latency,
    markdown: table,
    targets: summary,
  };
  const out = values.out ?? path.join(dir, `compile-${date.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
  if (!values.out) writeFileSync(path.join(dir, "compile-latest.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

// Only when run as a program (the bundle's entry), not when imported.
if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
