// `npm run bench`: runs every model in its own Node process (model-process.ts), prints a
// progress line per engine as it finishes, then the markdown tables, and writes the same data
// as JSON to bench/results/.
//
//   npm run bench
//   npm run bench -- --model mlp-mnist --engine gradc
//   npm run bench -- --model fxyz,neuron --engine gradc,tape --quick

import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CASES, MODEL_NAMES, SEED, tolerance, type ModelName } from "./cases.js";
import { benchThreads } from "./engines/gradc.js";
import { ENGINE_NAMES, type EngineName } from "./engines/types.js";
import { AUTO_THREADS_CAP } from "../compiler/wasm/threads.js";
import { ROOT } from "./lib/build.js";
import { fmtTime, renderTables, type ModelReport } from "./lib/report.js";
import { DEFAULT_TIMING, median } from "./lib/timing.js";

const HELP = `usage: npm run bench -- [options]

  --model <names>    models to run, comma-separated or repeated (default: all)
                     ${MODEL_NAMES.join(", ")}
  --engine <names>   engines to run besides hand, the reference that always runs
                     ${ENGINE_NAMES.join(", ")}
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

function list<T extends string>(raw: string[] | undefined, allowed: readonly T[], what: string): T[] {
  if (!raw || raw.length === 0) return [...allowed];
  const names = raw.flatMap((r) => r.split(",")).map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(allowed as readonly string[]).includes(n)) {
      console.error(`bench: unknown ${what} '${n}' (expected one of: ${allowed.join(", ")})`);
      process.exit(2);
    }
  }
  return allowed.filter((a) => names.includes(a));
}

function machine() {
  const cpus = os.cpus();
  const version = (pkg: string): string => {
    try {
      return JSON.parse(readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
    } catch {
      return "not installed";
    }
  };
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "compiler", "runtime", "bench"], { cwd: ROOT, encoding: "utf8" }).trim();
    if (dirty) commit += " (+ uncommitted changes)";
  } catch {
    // Not a git checkout.
  }
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    commit,
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
    packages: Object.fromEntries(
      ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-cpu", "@tensorflow/tfjs-backend-wasm", "@jax-js/jax", "esbuild"].map((p) => [p, version(p)]),
    ),
  };
}

function runModelProcess(model: ModelName, engines: EngineName[], timingArgs: string[], timeoutS: number, verbose: boolean): Promise<ModelReport> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "model-process.mjs");
  return new Promise((resolve) => {
    // A 4 MB stack (Linux gives the main thread 8 MB): tracing the 1000-step pendulum under
    // jax-js's jit disposes tracers recursively and overflows Node's default ~1 MB.
    const child = spawn(process.execPath, ["--expose-gc", "--stack-size=4000", script, "--model", model, "--engines", engines.join(","), ...timingArgs], {
      stdio: ["ignore", "inherit", verbose ? "inherit" : "pipe", "ipc"],
    });
    let report: ModelReport | undefined;
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on("message", (m: { type: string; report: ModelReport }) => {
      if (m.type === "report") report = m.report;
    });
    const timer = setTimeout(() => {
      stderr += `\nkilled after ${timeoutS} s (--timeout)`;
      child.kill("SIGKILL");
    }, timeoutS * 1000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (report) return resolve(report);
      const lastLines = stderr.trim().split("\n").slice(-6).join(" | ");
      const error = `exit ${code ?? signal}${lastLines ? `: ${lastLines}` : ""}`;
      console.log(`  ${model.padEnd(10)} process failed: ${error}`);
      const c = CASES[model];
      const failed = engines.filter((e) => e !== "hand").map((e) => ({ engine: e, status: "error" as const, reason: `model process failed: ${error}` }));
      resolve({ model, description: c.description, dtype: c.dtype, tolerance: tolerance(c.dtype), engines: failed, error });
    });
  });
}

/**
 * One report per model from the reports of its processes: each engine from the process that ran
 * it, and hand as the median of its medians (every process measured it next to its engine).
 */
function merge(parts: ModelReport[]): ModelReport {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  const hands = parts.flatMap((p) => p.engines.filter((e) => e.engine === "hand"));
  const others = parts.flatMap((p) => p.engines.filter((e) => e.engine !== "hand"));
  const hand = hands[0] ? { ...hands[0], medianMs: median(hands.map((h) => h.medianMs!)), processes: hands.length } : undefined;
  const errors = parts.filter((p) => p.error).map((p) => p.error);
  return {
    ...first,
    engines: [...(hand ? [hand] : []), ...others],
    processPeakRssMB: Math.max(...parts.map((p) => p.processPeakRssMB ?? 0)),
    ...(errors.length === parts.length ? { error: errors.join("; ") } : {}),
  };
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
  const engines: EngineName[] = ["hand", ...list(values.engine, ENGINE_NAMES, "engine").filter((e) => e !== "hand")];
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
    for (const g of groups) parts.push(await runModelProcess(m, g, timingArgs, Number(values.timeout), values.verbose));
    const merged = merge(parts);
    const h = merged.engines.find((e) => e.engine === "hand");
    if (h && engines.length > 1) {
      const over = parts.length > 1 ? ` (median over ${parts.length} processes)` : "";
      console.log(`  ${m.padEnd(10)} ${"hand".padEnd(10)} ${fmtTime(h.medianMs).padStart(9)}/call  reference${over}`);
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
