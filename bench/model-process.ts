// One model in one fresh Node process (spawned by main.ts with --expose-gc), with `hand` and,
// by default, one other engine (main.ts spawns a process per engine; --per-model-process puts
// all engines of a model in one). `hand` is set up first and is the reference: each other
// engine then runs its phase — setup, first call, correctness check, warm-up, calibration,
// then timed batches alternating with batches of `hand`, so each ratio compares two
// measurements taken side by side. Engines never interleave: TF.js has one global backend,
// and memory can then be attributed to one engine.

import { parseArgs } from "node:util";
import { CASES, inputsFor, MODEL_NAMES, sizedMlpMnist, tolerance, type ModelCase, type ModelName } from "./cases.js";
import { gradc, gradcFresh, gradcJs } from "./engines/gradc.js";
import { hand } from "./engines/hand.js";
import { jaxJs } from "./engines/jax.js";
import { tape } from "./engines/tape.js";
import { tfjsCpu, tfjsWasm } from "./engines/tfjs.js";
import { ENGINE_NAMES, Unavailable, type Engine, type EngineInstance, type EngineName, type EngineResult } from "./engines/types.js";
import { compareResults } from "./lib/compare.js";
import { fmtErr, fmtRatio, fmtTime, type EngineReport, type MemoryReport, type ModelReport } from "./lib/report.js";
import { calibrate, DEFAULT_TIMING, median, quantile, setClock, timeBatch, warmUp, type TimingOptions } from "./lib/timing.js";
import { cloneTree } from "./lib/tree.js";
import { writeMlpSource } from "./scaling/model.js";

const ENGINES: Record<EngineName, Engine> = {
  hand,
  gradc,
  "gradc-js": gradcJs,
  "gradc-fresh": gradcFresh,
  tape,
  "tfjs-cpu": tfjsCpu,
  "tfjs-wasm": tfjsWasm,
  "jax-js": jaxJs,
};

const MB = 1024 * 1024;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function snapshot() {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, peakRss: process.resourceUsage().maxRSS * 1024 };
}

function memorySince(before: ReturnType<typeof snapshot>): MemoryReport {
  const now = snapshot();
  return {
    rssGrowthMB: (now.rss - before.rss) / MB,
    heapGrowthMB: (now.heap - before.heap) / MB,
    peakRssMB: now.peakRss / MB,
    baselinePeakRssMB: before.peakRss / MB,
  };
}

function errorText(e: unknown): string {
  if (e instanceof Unavailable) return e.message;
  const err = e as Error;
  const at = err.stack?.split("\n").find((l) => l.trim().startsWith("at "))?.trim();
  return `${err.name ?? "Error"}: ${err.message ?? String(e)}${at ? ` (${at})` : ""}`;
}

function progress(model: ModelCase, r: EngineReport): void {
  const name = model.dims ? `b${model.dims.batch}·h${model.dims.hidden}${model.dims.symbolic ? " (B)" : ""}` : model.name;
  const head = `  ${name.padEnd(12)} ${r.engine.padEnd(10)}`;
  if (r.status !== "ok") {
    console.log(`${head} ${r.status}: ${r.reason}`);
    return;
  }
  const ratio = r.engine === "hand" ? "reference" : `${fmtRatio(r.ratio)} hand`;
  const err = r.engine === "hand" ? "" : `  err ${fmtErr(r.maxRelErr)}${r.mismatch ? ` ⚠ MISMATCH at ${r.worst}` : " ✓"}`;
  const mem = r.memory ? `  peak ${r.memory.peakRssMB.toFixed(0)} MB (+${(r.memory.peakRssMB - r.memory.baselinePeakRssMB).toFixed(0)})` : "";
  const compile = r.info?.compileMs !== undefined ? `  compile ${fmtTime(Number(r.info.compileMs))}` : "";
  const cpu = r.cpuPerWall !== undefined && r.cpuPerWall > 1.2 ? `  cpu ${r.cpuPerWall.toFixed(1)}× wall` : "";
  const cost = r.derivativeCost !== undefined ? `  grad/value ${fmtRatio(r.derivativeCost)}` : "";
  console.log(`${head} ${fmtTime(r.medianMs).padStart(9)}/call  ${ratio}${err}${cost}  first ${fmtTime(r.firstCallMs)}${compile}${cpu}${mem}`);
}

/**
 * Value+gradient time over value-alone time, in alternating batches of the same engine (so
 * both see the same machine load): the cheap-gradient principle says a small constant.
 */
function costOfDerivatives(call: () => void, n: number, valueOnly: () => void, timing: TimingOptions, rounds: number): Partial<EngineReport> {
  warmUp(valueOnly, timing.warmupMs);
  const nv = calibrate(valueOnly, timing.batchMs);
  const values: number[] = [];
  const both: number[] = [];
  for (let i = 0; i < rounds; i++) {
    values.push(timeBatch(valueOnly, nv) / nv);
    both.push(timeBatch(call, n) / n);
  }
  return { valueOnlyMs: median(values), withGradientMs: median(both), derivativeCost: median(both) / median(values) };
}

async function runModel(model: ModelCase, engineNames: EngineName[], timing: TimingOptions): Promise<ModelReport> {
  const inputs = inputsFor(model);
  const tol = tolerance(model.dtype);
  const reports: EngineReport[] = [];

  // The reference. Its own phase also gives the hand column when it runs alone.
  gc();
  const handBefore = snapshot();
  const t0 = performance.now();
  const ref = await hand.setup(model, cloneTree(inputs));
  const handSetupMs = performance.now() - t0;
  const t1 = performance.now();
  ref.call();
  const handFirstMs = performance.now() - t1;
  const reference: EngineResult = ref.result();
  warmUp(ref.call, timing.warmupMs);
  const handN = calibrate(ref.call, timing.batchMs);
  const handSamples: number[] = [];
  for (let i = 0; i < Math.min(timing.rounds, Math.max(5, Math.floor(timing.maxMs / timing.batchMs))); i++) {
    handSamples.push(timeBatch(ref.call, handN) / handN);
  }
  const handReport: EngineReport = {
    engine: "hand",
    status: "ok",
    setupMs: handSetupMs,
    firstCallMs: handFirstMs,
    value: reference.value,
    callsPerBatch: handN,
    memory: memorySince(handBefore),
  };
  reports.push(handReport);

  for (const name of engineNames) {
    if (name === "hand") continue;
    const engine = ENGINES[name];
    const report: EngineReport = { engine: name, status: "ok", ...(engine.note ? { note: engine.note } : {}) };
    reports.push(report);
    let inst: EngineInstance | undefined;
    try {
      await engine.prepare?.(model);
      gc();
      const before = snapshot();
      const s0 = performance.now();
      inst = await engine.setup(model, cloneTree(inputs));
      report.setupMs = performance.now() - s0;
      if (inst.info) report.info = inst.info;
      const f0 = performance.now();
      inst.call();
      report.firstCallMs = performance.now() - f0;
      const got = inst.result();
      const { maxRelErr, worst } = compareResults(reference, got);
      report.value = got.value;
      report.maxRelErr = maxRelErr;
      report.worst = worst;
      report.mismatch = !(maxRelErr <= tol);

      const call = inst.call;
      warmUp(call, timing.warmupMs);
      const n = calibrate(call, timing.batchMs);
      const pairMs = (timeBatch(call, n) + timeBatch(ref.call, handN));
      const rounds = Math.min(timing.rounds, Math.max(5, Math.floor(timing.maxMs / pairMs)));
      const samples: number[] = [];
      const paired: number[] = [];
      // Wall and CPU time of the engine's timed batches, whichever clock the samples use.
      let cpuUs = 0;
      let wallMs = 0;
      for (let i = 0; i < rounds; i++) {
        paired.push(timeBatch(ref.call, handN) / handN);
        const cpu0 = process.cpuUsage();
        const w0 = performance.now();
        const ms = timeBatch(call, n);
        wallMs += performance.now() - w0;
        const cpu = process.cpuUsage(cpu0);
        cpuUs += cpu.user + cpu.system;
        samples.push(ms / n);
      }
      // Above 1 when the engine computes on more than one thread (hand uses one).
      report.cpuPerWall = cpuUs / 1000 / wallMs;
      report.wallMsPerCall = wallMs / (rounds * n);
      report.cpuMsPerCall = cpuUs / 1000 / (rounds * n);
      handSamples.push(...paired);
      report.medianMs = median(samples);
      report.p25Ms = quantile(samples, 0.25);
      report.p75Ms = quantile(samples, 0.75);
      report.callsPerBatch = n;
      report.rounds = rounds;
      report.pairedHandMs = median(paired);
      report.ratio = report.medianMs / report.pairedHandMs;
      report.memory = memorySince(before);
      if (inst.valueOnly && model.timeDerivatives !== false) Object.assign(report, costOfDerivatives(call, n, inst.valueOnly, timing, rounds));
    } catch (e) {
      report.status = e instanceof Unavailable ? "unavailable" : "error";
      report.reason = errorText(e);
    } finally {
      try {
        inst?.dispose?.();
      } catch {
        // Disposal failures do not change the measurement.
      }
    }
    progress(model, report);
  }

  handReport.medianMs = median(handSamples);
  handReport.p25Ms = quantile(handSamples, 0.25);
  handReport.p75Ms = quantile(handSamples, 0.75);
  handReport.rounds = handSamples.length;
  handReport.ratio = 1;
  // Alone, hand has its own line; next to another engine, main.ts summarizes hand per model.
  if (reports.length === 1) progress(model, handReport);
  return {
    model: model.name,
    description: model.description,
    dtype: model.dtype,
    tolerance: tol,
    engines: reports,
    processPeakRssMB: snapshot().peakRss / MB,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: "string" },
      engines: { type: "string", default: ENGINE_NAMES.join(",") },
      "warmup-ms": { type: "string" },
      "batch-ms": { type: "string" },
      rounds: { type: "string" },
      "max-ms": { type: "string" },
      clock: { type: "string", default: "wall" },
      // mlp-mnist at another size (npm run bench:scaling).
      batch: { type: "string" },
      hidden: { type: "string" },
      symbolic: { type: "boolean", default: false },
    },
  });
  if (values.clock !== "wall" && values.clock !== "cpu") throw new Error(`--clock must be wall or cpu, got '${values.clock}'`);
  setClock(values.clock);
  const model = values.model as ModelName;
  if (!MODEL_NAMES.includes(model)) throw new Error(`unknown model '${values.model}'`);
  const engines = values.engines.split(",").filter((e): e is EngineName => (ENGINE_NAMES as readonly string[]).includes(e));
  const timing: TimingOptions = {
    warmupMs: Number(values["warmup-ms"] ?? DEFAULT_TIMING.warmupMs),
    batchMs: Number(values["batch-ms"] ?? DEFAULT_TIMING.batchMs),
    rounds: Number(values.rounds ?? DEFAULT_TIMING.rounds),
    maxMs: Number(values["max-ms"] ?? DEFAULT_TIMING.maxMs),
  };
  let c = CASES[model];
  if (values.batch !== undefined || values.hidden !== undefined) {
    if (model !== "mlp-mnist") throw new Error("--batch and --hidden size mlp-mnist only");
    const dims = { batch: Number(values.batch ?? 64), hidden: Number(values.hidden ?? 128), symbolic: values.symbolic };
    c = sizedMlpMnist(dims, writeMlpSource(dims));
  }
  const report = await runModel(c, engines, timing);
  if (process.send) await new Promise<void>((resolve, reject) => process.send!({ type: "report", report }, undefined, {}, (e) => (e ? reject(e) : resolve())));
  else console.log(JSON.stringify(report, null, 2));
}

main().then(
  // Some engines keep handles (wasm workers, timers) open; the report is out, so leave.
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
