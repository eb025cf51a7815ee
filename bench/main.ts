// `npm run bench`: runs every model in its own Node process (model-process.ts), prints a
// progress line per engine as it finishes, then the markdown tables, and writes the same data
// as JSON to bench/results/.
//
//   npm run bench
//   npm run bench -- --model mlp-mnist --engine gradc
//   npm run bench -- --model fxyz,neuron --engine gradc,tape --quick

import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { CASES, MODEL_NAMES, SEED } from "./cases.js";
import { benchThreads } from "./engines/gradc.js";
import { DEFAULT_ENGINES, ENGINE_NAMES, type EngineName } from "./engines/types.js";
import { AUTO_THREADS_CAP } from "../compiler/wasm/threads.js";
import { ROOT } from "./lib/build.js";
import { machine, merge, runModelProcess } from "./lib/processes.js";
import { fmtTime, renderTables, type ModelReport } from "./lib/report.js";
import { DEFAULT_TIMING } from "./lib/timing.js";

const HELP = `usage: npm run bench -- [options]

  --model <names>    models to run, comma-separated or repeated (default: all)
                     ${MODEL_NAMES.join(", ")}
  --engine <names>   engines to run besides hand, the reference that always runs
                     ${ENGINE_NAMES.join(", ")}
                     (default: all but gradc-js, gradc with the JavaScript-only backend)
  --quick            short timing (for development; numbers are noisier)
  --batch-ms <ms>    target duration of one timed batch (default ${DEFAULT_TIMING.batchMs})
  --rounds <n>       timed batches per engine (default ${DEFAULT_TIMING.rounds})
  --max-ms <ms>      time budget per engine; fewer rounds (min 5) beyond it (default ${DEFAULT_TIMING.maxMs})
  --clock wall|cpu   time batches by wall time (default) or by the process's CPU time, which
                     leaves out waiting for a core on a loaded machine (single-threaded engines)
  --timeout <s>      kill a model process after this long (default 900)
  --per-model-process  all engines of a model in one process (default: one process
                     per model and engine, each with its own hand reference)
  --out <file>       JSON output (default bench/results/bench-<timestamp>.json, also latest.json)
  --verbose          pass the model processes' stderr through
  -h, --help`;

function list<T extends string>(raw: string[] | undefined, allowed: readonly T[], what: string, defaults: readonly T[] = allowed): T[] {
  if (!raw || raw.length === 0) return [...defaults];
  const names = raw.flatMap((r) => r.split(",")).map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(allowed as readonly string[]).includes(n)) {
      console.error(`bench: unknown ${what} '${n}' (expected one of: ${allowed.join(", ")})`);
      process.exit(2);
    }
  }
  return allowed.filter((a) => names.includes(a));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: "string", multiple: true },
      engine: { type: "string", multiple: true },
      quick: { type: "boolean", default: false },
      "batch-ms": { type: "string" },
      rounds: { type: "string" },
      "max-ms": { type: "string" },
      clock: { type: "string" },
      timeout: { type: "string", default: "900" },
      out: { type: "string" },
      verbose: { type: "boolean", default: false },
      "per-model-process": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const models = list(values.model, MODEL_NAMES, "model");
  const engines: EngineName[] = ["hand", ...list(values.engine, ENGINE_NAMES, "engine", DEFAULT_ENGINES).filter((e) => e !== "hand")];
  const timingArgs: string[] = values.quick ? ["--warmup-ms", "100", "--batch-ms", "2", "--rounds", "7", "--max-ms", "500"] : [];
  for (const k of ["batch-ms", "rounds", "max-ms", "clock"] as const) {
    const v = values[k];
    if (v !== undefined) timingArgs.push(`--${k}`, v);
  }

  const info = machine();
  console.log(`gradc bench: ${models.length} model(s) × ${engines.length} engine(s) on ${info.cpu} (${info.cores} cores), Node ${info.node}, load ${info.loadavg.join(" ")}`);
  if (engines.some((e) => e.startsWith("gradc"))) {
    // What the generated code was compiled with (GRADC_BENCH_BACKEND, GRADC_BENCH_THREADS; unset: the compiler's defaults).
    const threads = benchThreads() ?? "auto";
    const here = threads === "auto" ? Math.min(os.availableParallelism(), AUTO_THREADS_CAP) : threads;
    console.log(`gradc kernels: backend ${process.env["GRADC_BENCH_BACKEND"] || "wasm"}, threads ${threads} (${here} on this machine)`);
  }
  const reports: ModelReport[] = [];
  for (const m of models) {
    console.log(`${m}: ${CASES[m].description}`);
    // Every engine in its own process by default, each next to its own hand reference.
    const groups = values["per-model-process"] || engines.length === 1 ? [engines] : engines.slice(1).map((e) => ["hand" as const, e]);
    const parts: ModelReport[] = [];
    for (const g of groups) parts.push(await runModelProcess(m, g, timingArgs, { timeoutS: Number(values.timeout), verbose: values.verbose }));
    const merged = merge(parts);
    const h = merged.engines.find((e) => e.engine === "hand");
    if (h && engines.length > 1) {
      const over = parts.length > 1 ? ` (median over ${parts.length} processes)` : "";
      console.log(`  ${m.padEnd(12)} ${"hand".padEnd(10)} ${fmtTime(h.medianMs).padStart(9)}/call  reference${over}`);
    }
    reports.push(merged);
  }

  const clockNote = values.clock === "cpu" ? "Timed by process CPU time (--clock cpu): waiting for a core on a loaded machine is left out.\n\n" : "";
  const tables = clockNote + renderTables(reports, engines);
  console.log(`\n${tables}\n`);
  const started = new Date();
  const result = { date: started.toISOString(), machine: info, loadavgAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))), seed: SEED, timing: timingArgs, engines, models: reports, markdown: tables };
  const dir = path.join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const out = values.out ?? path.join(dir, `bench-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
  if (!values.out) writeFileSync(path.join(dir, "latest.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
