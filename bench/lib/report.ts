// The benchmark's results (what a model process sends back, what the JSON holds) and their
// rendering as markdown tables.

import type { DType } from "./tree.js";

export interface EngineReport {
  engine: string;
  status: "ok" | "unavailable" | "error";
  /** Why the engine did not run (unavailable) or what went wrong (error). */
  reason?: string;
  /** Median time per call over timed batches, and the spread of the batches. */
  medianMs?: number;
  p25Ms?: number;
  p75Ms?: number;
  callsPerBatch?: number;
  rounds?: number;
  /** medianMs / the median of `hand` measured in alternation with this engine. */
  ratio?: number;
  pairedHandMs?: number;
  /** CPU time over wall time during the engine's timed batches: > 1 means several threads. */
  cpuPerWall?: number;
  /**
   * Mean wall time and mean CPU time (all threads of the process) per call over the engine's
   * timed batches, both measured whatever `--clock` times the median by.
   */
  wallMsPerCall?: number;
  cpuMsPerCall?: number;
  /** Engine setup (compile, bundle import, tensor upload…) and its first call (JIT, tracing…). */
  setupMs?: number;
  firstCallMs?: number;
  value?: number;
  maxRelErr?: number;
  worst?: string;
  mismatch?: boolean;
  memory?: MemoryReport;
  info?: Record<string, number | string>;
  note?: string;
  /**
   * The engine's value alone (no derivatives) and value+gradient, in alternating batches of
   * their own, and the ratio of the two.
   */
  valueOnlyMs?: number;
  withGradientMs?: number;
  derivativeCost?: number;
  /** For hand after merging: how many processes measured it. */
  processes?: number;
}

export interface MemoryReport {
  /** RSS after setup + warm-up + timing minus RSS before setup (after a GC). */
  rssGrowthMB: number;
  /** JS heap used, same interval. */
  heapGrowthMB: number;
  /** The process's peak RSS (high-water mark) at the end of this engine's phase… */
  peakRssMB: number;
  /** …and before it began (Node, the harness and hand: the baseline to subtract). */
  baselinePeakRssMB: number;
}

export interface ModelReport {
  model: string;
  description: string;
  dtype: DType;
  tolerance: number;
  engines: EngineReport[];
  processPeakRssMB?: number;
  /** Set when the model process itself failed. */
  error?: string;
}

export function fmtTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1e-3) return `${sig(ms * 1e6)} ns`;
  if (ms < 1) return `${sig(ms * 1e3)} µs`;
  if (ms < 1000) return `${sig(ms)} ms`;
  return `${sig(ms / 1000)} s`;
}

function sig(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function fmtRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return "—";
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

export function fmtErr(e: number | undefined): string {
  if (e === undefined) return "—";
  if (e === 0) return "0";
  if (!Number.isFinite(e)) return "∞";
  return e.toExponential(1);
}

export function fmtMB(mb: number | undefined): string {
  return mb === undefined ? "—" : `${mb.toFixed(1)} MB`;
}

function table(header: string[], rows: string[][]): string {
  const lines = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`);
  return lines.join("\n");
}

/**
 * All tables for a run: time (median and ratio to hand), error against hand, first call,
 * memory, gradc compile facts, then numbered notes for every cell that is not a plain number.
 */
export function renderTables(models: ModelReport[], engines: string[]): string {
  const notes: string[] = [];
  const note = (text: string): string => {
    let i = notes.indexOf(text);
    if (i < 0) i = notes.push(text) - 1;
    return `[${i + 1}]`;
  };
  const find = (m: ModelReport, e: string) => m.engines.find((r) => r.engine === e);
  const notRun = (m: ModelReport, r: EngineReport | undefined): string => {
    if (!r) return m.error ? `failed ${note(`${m.model}: model process failed: ${m.error}`)}` : "not run";
    // An op the model needs that gradc does not have yet: said in the cell itself.
    if (r.status === "unavailable" && r.reason?.startsWith("needs ")) return `n/a (${r.reason})`;
    return `${r.status === "error" ? "error" : "n/a"} ${note(`${m.model} / ${r.engine}: ${r.reason ?? "unknown"}`)}`;
  };
  const flag = (m: ModelReport, r: EngineReport): string =>
    r.mismatch ? ` ⚠ ${note(`${m.model} / ${r.engine}: max relative error ${fmtErr(r.maxRelErr)} at ${r.worst} exceeds ${m.tolerance} (${m.dtype})${r.note ? `; ${r.note}` : ""}`)}` : "";

  const timeRows = models.map((m) => [
    `${m.model}`,
    ...engines.map((e) => {
      const r = find(m, e);
      if (!r || r.status !== "ok") return notRun(m, r);
      return `${fmtTime(r.medianMs)} (${e === "hand" ? "1×" : fmtRatio(r.ratio)})${flag(m, r)}`;
    }),
  ]);
  const errRows = models.map((m) => [
    `${m.model} (${m.dtype}, tol ${m.tolerance})`,
    ...engines.map((e) => {
      const r = find(m, e);
      if (e === "hand") return "reference";
      if (!r || r.status !== "ok") return "—";
      return r.mismatch ? `**⚠ ${fmtErr(r.maxRelErr)}** (${r.worst})` : fmtErr(r.maxRelErr);
    }),
  ]);
  const firstRows = models.map((m) => [
    m.model,
    ...engines.map((e) => {
      const r = find(m, e);
      if (!r || r.status !== "ok") return "—";
      return `${fmtTime(r.setupMs)} + ${fmtTime(r.firstCallMs)}`;
    }),
  ]);
  const cpuRows = models.map((m) => [
    m.model,
    ...engines.map((e) => {
      const r = find(m, e);
      return r?.status === "ok" && r.cpuPerWall !== undefined ? r.cpuPerWall.toFixed(2) : "—";
    }),
  ]);
  const memRows = models.map((m) => [
    m.model,
    ...engines.map((e) => {
      const r = find(m, e);
      if (!r || r.status !== "ok" || !r.memory) return "—";
      if (e === "hand") return `${r.memory.peakRssMB.toFixed(0)} MB`;
      if (e === "gradc" || e === "gradc-fresh") {
        const n = note("gradc's process ran the compiler (TypeScript, ts-morph) before the baseline was taken, so its peak includes compiling; the growth is the generated code's alone.");
        return `${r.memory.peakRssMB.toFixed(0)} MB ${n} (+${(r.memory.peakRssMB - r.memory.baselinePeakRssMB).toFixed(0)})`;
      }
      return `${r.memory.peakRssMB.toFixed(0)} MB (+${(r.memory.peakRssMB - r.memory.baselinePeakRssMB).toFixed(0)})`;
    }),
  ]);
  const gradcRows = models.flatMap((m) => {
    const r = find(m, "gradc");
    if (!r || r.status !== "ok" || !r.info) return [];
    return [[m.model, fmtTime(Number(r.info.compileMs)), `${(Number(r.info.codeBytes) / 1024).toFixed(1)} KiB`, fmtTime(Number(r.info.importMs))]];
  });

  const out = [
    "### Time per forward+backward call: median (ratio to hand)",
    "",
    table(["model", ...engines], timeRows),
    "",
    "### Max relative error against hand (value and every gradient)",
    "",
    table(["model", ...engines], errRows),
    "",
    "### Setup + first call (upload, tracing, JIT warm-up; for gradc, importing the generated module — compiling is a build step, timed in the compile table)",
    "",
    table(["model", ...engines], firstRows),
    "",
    "### Memory: process peak RSS (growth over the baseline of Node + harness + hand)",
    "",
    table(["model", ...engines], memRows),
    "",
    "### CPU time / wall time while timed (above 1: the engine uses more than one thread)",
    "",
    table(["model", ...engines], cpuRows),
  ];
  const costEngines = engines.filter((e) => models.some((m) => find(m, e)?.derivativeCost !== undefined));
  if (costEngines.length > 0) {
    const costRows = models.map((m) => [
      m.model,
      ...costEngines.map((e) => {
        const r = find(m, e);
        if (!r || r.derivativeCost === undefined) return "—";
        return `${fmtTime(r.valueOnlyMs)} → ${fmtTime(r.withGradientMs)} (${fmtRatio(r.derivativeCost)})`;
      }),
    ]);
    out.push(
      "",
      "### Cost of derivatives: value alone → value + gradient, in the same generated code (ratio; aim ≤ 3)",
      "",
      table(["model", ...costEngines], costRows),
    );
  }
  const summary = renderTensorSummary(models, engines);
  if (summary) out.push("", summary);
  if (gradcRows.length > 0) {
    out.push("", "### gradc compile (ahead of time, cold: includes starting TypeScript)", "", table(["model", "compile()", "generated code", "import"], gradcRows));
  }
  if (notes.length > 0) out.push("", "Notes:", "", ...notes.map((n, i) => `${i + 1}. ${n.replace(/\s+/g, " ")}`));
  return out.join("\n");
}

/** gradc's engine with its backend and threads, when the run chose them (GRADC_BENCH_BACKEND, GRADC_BENCH_THREADS). */
function engineLabel(e: string, r: EngineReport): string {
  const backend = e === "gradc-js" ? "js" : r.info?.["backend"];
  const threads = r.info?.["threads"];
  const parts = [backend && backend !== "default" ? `${backend} backend` : "", threads !== undefined && threads !== "default" ? `threads ${threads}` : ""].filter(Boolean);
  return parts.length > 0 ? `${e} (${parts.join(", ")})` : e;
}

/** Engine a over engine b, each as measured against its own paired hand (so load drift cancels). */
function across(a: EngineReport | undefined, b: EngineReport | undefined): number | undefined {
  if (a?.status !== "ok" || b?.status !== "ok" || a.ratio === undefined || b.ratio === undefined) return undefined;
  return a.ratio / b.ratio;
}

/**
 * One row per f32 (tensor) model and gradc engine: time per call (wall and CPU), CPU/wall, and
 * the ratios to hand, jax-js and TF.js-wasm. The ratio to a peer is gradc's ratio to hand over
 * the peer's ratio to hand, each measured side by side with hand in its own process.
 */
export function renderTensorSummary(models: ModelReport[], engines: string[]): string | undefined {
  const gradcs = engines.filter((e) => e === "gradc" || e === "gradc-js");
  const tensor = models.filter((m) => m.dtype === "f32");
  const rows: string[][] = [];
  for (const m of tensor) {
    for (const e of gradcs) {
      const r = m.engines.find((x) => x.engine === e);
      if (r?.status !== "ok") continue;
      const peer = (name: string) => {
        const x = across(r, m.engines.find((p) => p.engine === name));
        return x === undefined ? "—" : fmtRatio(x);
      };
      rows.push([
        m.model,
        engineLabel(e, r),
        fmtTime(r.medianMs),
        fmtTime(r.wallMsPerCall),
        fmtTime(r.cpuMsPerCall),
        r.cpuPerWall === undefined ? "—" : r.cpuPerWall.toFixed(2),
        fmtRatio(r.ratio),
        peer("jax-js"),
        peer("tfjs-wasm"),
      ]);
    }
  }
  if (rows.length === 0) return undefined;
  return [
    "### Tensor models: gradc against hand, jax-js and TF.js-wasm (below 1×: gradc is faster)",
    "",
    "Median per call by the run's clock; wall and CPU: means per call over the same timed batches (CPU of all the process's threads). A ratio to a peer is gradc's ratio to hand over the peer's, each measured next to hand.",
    "",
    table(["model", "engine", "time/call", "wall/call", "CPU/call", "CPU/wall", "× hand", "× jax-js", "× tfjs-wasm"], rows),
  ].join("\n");
}
