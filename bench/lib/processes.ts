// Running model-process.ts in child processes, one per model and engine group, and merging
// their reports: shared by `npm run bench` (main.ts) and `npm run bench:scaling` (scaling.ts).

import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CASES, tolerance, type ModelName } from "../cases.js";
import type { EngineName } from "../engines/types.js";
import { ROOT } from "./build.js";
import type { ModelReport } from "./report.js";
import { median } from "./timing.js";

/** The machine, versions and load, recorded with every result. */
export function machine() {
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

export interface ProcessOptions {
  /** Kill the process after this long. */
  timeoutS: number;
  /** Pass its stderr through. */
  verbose?: boolean;
  /** Extra environment variables (e.g. GRADC_BENCH_BACKEND). */
  env?: Record<string, string>;
  /** Shown with a failure, instead of the model's name. */
  label?: string;
}

/**
 * Runs model-process.ts on one model with `engines` (hand first), passing `args` through
 * (timing options, sizes), and resolves with its report; a failed process becomes a report
 * whose engines are errors saying why.
 */
export function runModelProcess(model: ModelName, engines: EngineName[], args: string[], options: ProcessOptions): Promise<ModelReport> {
  const { timeoutS, verbose = false, env, label = model } = options;
  // Bundled by bench/run.mjs next to this module's bundle (main.mjs, scaling.mjs).
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "model-process.mjs");
  return new Promise((resolve) => {
    // A 4 MB stack (Linux gives the main thread 8 MB): tracing the 1000-step pendulum under
    // jax-js's jit disposes tracers recursively and overflows Node's default ~1 MB.
    const child = spawn(process.execPath, ["--expose-gc", "--stack-size=4000", script, "--model", model, "--engines", engines.join(","), ...args], {
      ...(env ? { env: { ...process.env, ...env } } : {}),
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
      console.log(`  ${label.padEnd(12)} process failed: ${error}`);
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
export function merge(parts: ModelReport[]): ModelReport {
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
