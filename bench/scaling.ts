// `npm run bench:scaling`: mlp-mnist's forward + backward at batch 8, 64, 512 (hidden 128) and
// at hidden width 128, 512, 2048 (batch 64), on gradc with its JavaScript-only backend and its
// default WebAssembly one, jax-js, TF.js-wasm and hand-written JavaScript, so the size at which
// WebAssembly kernels overtake JavaScript ones shows. Each size and engine runs in its own
// model process (model-process.ts, as `npm run bench` does), its batches alternating with those
// of the hand-written reference; the tables print as markdown and go to bench/results/ as JSON.
//
//   npm run bench:scaling
//   npm run bench:scaling -- --clock cpu --engine gradc,gradc-js --batches 8,512 --hiddens 2048

import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { SEED, tolerance } from "./cases.js";
import type { EngineName } from "./engines/types.js";
import { ROOT } from "./lib/build.js";
import { machine, merge, runModelProcess } from "./lib/processes.js";
import { fmtErr, fmtRatio, fmtTime, type EngineReport, type ModelReport } from "./lib/report.js";

/** A column of the table: an engine, and for gradc whether the batch is symbolic in the source. */
interface Column {
  name: string;
  title: string;
  engine: EngineName;
  symbolic?: boolean;
}

const COLUMNS: Column[] = [
  { name: "gradc-js", title: "gradc (js)", engine: "gradc-js" },
  { name: "gradc", title: "gradc (wasm)", engine: "gradc" },
  { name: "gradc-symbolic", title: "gradc (wasm), batch B", engine: "gradc", symbolic: true },
  { name: "jax-js", title: "jax-js", engine: "jax-js" },
  { name: "tfjs-wasm", title: "tfjs-wasm", engine: "tfjs-wasm" },
];
const COLUMN_NAMES = COLUMNS.map((c) => c.name);

/** Short timing: every cell is a process of its own, and the whole table should take minutes. */
const TIMING = { warmupMs: 150, batchMs: 20, rounds: 9, maxMs: 1500 };

const HELP = `usage: npm run bench:scaling -- [options]

  --batches <list>   batch sizes at hidden width 128 (default 8,64,512; "" for none)
  --hiddens <list>   hidden widths at batch 64 (default 128,512,2048; "" for none)
  --engine <names>   columns besides hand, comma-separated (default: all)
                     ${COLUMN_NAMES.join(", ")}
                     (gradc-symbolic: gradc with the batch a type parameter, <B extends number>)
  --clock wall|cpu   time batches by wall time (default) or the process's CPU time
  --threads <n|auto> threads gradc's WebAssembly kernels may use (GRADC_BENCH_THREADS;
                     default: the compiler's)
  --max-ms <ms>      timing budget per cell (default ${TIMING.maxMs}; at least 5 rounds)
  --rounds <n>       timed batches per cell at most (default ${TIMING.rounds})
  --quick            shorter timing still (development)
  --timeout <s>      kill a cell's process after this long (default 600)
  --out <file>       JSON output (default bench/results/scaling-<timestamp>.json, also scaling-latest.json)
  --verbose          pass the processes' stderr through
  -h, --help`;

interface Size {
  batch: number;
  hidden: number;
}

interface Cell {
  size: Size;
  column: string;
  report: EngineReport | undefined;
}

/** A comma-separated list of sizes; empty (`--hiddens ""`) leaves that table out. */
function numbers(raw: string, what: string): number[] {
  const xs = raw.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (xs.some((x) => !Number.isInteger(x) || x < 1)) {
    console.error(`bench:scaling: --${what} takes positive integers, comma-separated (got '${raw}')`);
    process.exit(2);
  }
  return xs;
}

/** Multiply-adds ×2 of one call: x·W1 and xᵀ·dz1 (784·H each per sample), layer 2 three times. */
function flopsPerCall({ batch, hidden }: Size): number {
  return 2 * batch * hidden * (2 * 784 + 3 * 10);
}

/** Column a over column b in one size, each as measured against its own paired hand. */
function over(cells: Cell[], size: Size, a: string, b: string): number | undefined {
  const find = (c: string) => cells.find((x) => x.column === c && x.size === size)?.report;
  const ra = find(a), rb = find(b);
  if (ra?.status !== "ok" || rb?.status !== "ok" || ra.ratio === undefined || rb.ratio === undefined) return undefined;
  return ra.ratio / rb.ratio;
}

function table(header: string[], rows: string[][]): string {
  return [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

function render(sizes: Size[], batches: number[], hiddens: number[], columns: Column[], cells: Cell[], hands: Map<Size, EngineReport | undefined>): string {
  const notes: string[] = [];
  const note = (text: string): string => {
    let i = notes.indexOf(text);
    if (i < 0) i = notes.push(text) - 1;
    return `[${i + 1}]`;
  };
  const label = (s: Size) => `batch ${s.batch}, hidden ${s.hidden}`;
  const cell = (s: Size, c: Column): string => {
    const r = cells.find((x) => x.size === s && x.column === c.name)?.report;
    if (!r) return "not run";
    if (r.status !== "ok") return `${r.status === "error" ? "error" : "n/a"} ${note(`${label(s)} / ${c.title}: ${r.reason ?? "unknown"}`)}`;
    const flag = r.mismatch ? ` ⚠ ${note(`${label(s)} / ${c.title}: max relative error ${fmtErr(r.maxRelErr)} at ${r.worst} exceeds ${tolerance("f32")}`)}` : "";
    return `${fmtTime(r.medianMs)} (${fmtRatio(r.ratio)})${flag}`;
  };
  const has = (name: string) => columns.some((c) => c.name === name);
  const derived: { title: string; a: string; b: string }[] = [
    ...(has("gradc") && has("gradc-js") ? [{ title: "wasm ÷ js", a: "gradc", b: "gradc-js" }] : []),
    ...(has("gradc") && has("gradc-symbolic") ? [{ title: "batch B ÷ literal", a: "gradc-symbolic", b: "gradc" }] : []),
    ...(has("gradc") && has("jax-js") ? [{ title: "gradc ÷ jax-js", a: "gradc", b: "jax-js" }] : []),
    ...(has("gradc") && has("tfjs-wasm") ? [{ title: "gradc ÷ tfjs-wasm", a: "gradc", b: "tfjs-wasm" }] : []),
  ];
  const rowsFor = (subset: Size[], first: (s: Size) => string) =>
    subset.map((s) => [
      first(s),
      `${(flopsPerCall(s) / 1e6).toFixed(s.batch * s.hidden < 4096 ? 1 : 0)}`,
      `${fmtTime(hands.get(s)?.medianMs)}`,
      ...columns.map((c) => cell(s, c)),
      ...derived.map((d) => fmtRatio(over(cells, s, d.a, d.b))),
    ]);
  const header = (first: string) => [first, "MFLOP", "hand", ...columns.map((c) => c.title), ...derived.map((d) => d.title)];
  const bySize = (b: number, h: number) => sizes.find((s) => s.batch === b && s.hidden === h)!;
  const cpuRows = sizes.map((s) => [
    label(s),
    ...columns.map((c) => {
      const r = cells.find((x) => x.size === s && x.column === c.name)?.report;
      return r?.status === "ok" && r.cpuPerWall !== undefined ? `${fmtTime(r.wallMsPerCall)} / ${fmtTime(r.cpuMsPerCall)} (${r.cpuPerWall.toFixed(2)})` : "—";
    }),
  ]);
  const out = [
    ...(batches.length > 0
      ? ["### mlp-mnist forward + backward per call, by batch (hidden 128): median (ratio to hand)", "", table(header("batch"), rowsFor(batches.map((b) => bySize(b, 128)), (s) => String(s.batch))), ""]
      : []),
    ...(hiddens.length > 0
      ? ["### mlp-mnist forward + backward per call, by hidden width (batch 64): median (ratio to hand)", "", table(header("hidden"), rowsFor(hiddens.map((h) => bySize(64, h)), (s) => String(s.hidden))), ""]
      : []),
    "The last columns divide one column's ratio to hand by another's (each engine was timed next to hand in its own process): below 1× the first is faster. MFLOP: 2 × the multiply-adds of one call.",
    "",
    "### Wall / CPU time per call (CPU/wall; above 1: more than one thread)",
    "",
    table(["size", ...columns.map((c) => c.title)], cpuRows),
  ];
  if (notes.length > 0) out.push("", "Notes:", "", ...notes.map((n, i) => `${i + 1}. ${n.replace(/\s+/g, " ")}`));
  return out.join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      batches: { type: "string", default: "8,64,512" },
      hiddens: { type: "string", default: "128,512,2048" },
      engine: { type: "string", multiple: true },
      clock: { type: "string" },
      threads: { type: "string" },
      "max-ms": { type: "string" },
      rounds: { type: "string" },
      quick: { type: "boolean", default: false },
      timeout: { type: "string", default: "600" },
      out: { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const batches = numbers(values.batches, "batches");
  const hiddens = numbers(values.hiddens, "hiddens");
  const wanted = (values.engine ?? []).flatMap((e) => e.split(",")).map((e) => e.trim()).filter(Boolean);
  for (const w of wanted) {
    if (!COLUMN_NAMES.includes(w)) {
      console.error(`bench:scaling: unknown engine '${w}' (expected one of: ${COLUMN_NAMES.join(", ")})`);
      process.exit(2);
    }
  }
  const columns = wanted.length > 0 ? COLUMNS.filter((c) => wanted.includes(c.name)) : COLUMNS;
  if (values.clock !== undefined && values.clock !== "wall" && values.clock !== "cpu") {
    console.error(`bench:scaling: --clock must be wall or cpu, got '${values.clock}'`);
    process.exit(2);
  }
  const timing = values.quick ? { warmupMs: 100, batchMs: 10, rounds: 5, maxMs: 400 } : { ...TIMING };
  if (values["max-ms"] !== undefined) timing.maxMs = Number(values["max-ms"]);
  if (values.rounds !== undefined) timing.rounds = Number(values.rounds);
  const timingArgs = [
    "--warmup-ms", String(timing.warmupMs),
    "--batch-ms", String(timing.batchMs),
    "--rounds", String(timing.rounds),
    "--max-ms", String(timing.maxMs),
    ...(values.clock ? ["--clock", values.clock] : []),
  ];

  const sizes: Size[] = [];
  const add = (batch: number, hidden: number) => {
    if (!sizes.some((s) => s.batch === batch && s.hidden === hidden)) sizes.push({ batch, hidden });
  };
  for (const b of batches) add(b, 128);
  for (const h of hiddens) add(64, h);

  if (sizes.length === 0) {
    console.error("bench:scaling: no sizes (--batches and --hiddens are both empty)");
    process.exit(2);
  }
  const info = machine();
  const started = new Date();
  console.log(`gradc bench:scaling: mlp-mnist at ${sizes.length} sizes × ${columns.length} engine(s) + hand on ${info.cpu} (${info.cores} cores), Node ${info.node}, load ${info.loadavg.join(" ")}`);
  console.log(`gradc kernels: threads ${values.threads ?? "the compiler's default (auto)"}`);
  const cells: Cell[] = [];
  const hands = new Map<Size, EngineReport | undefined>();
  const reports: { size: Size; column: string; report: ModelReport }[] = [];
  for (const size of sizes) {
    const parts: ModelReport[] = [];
    for (const c of columns) {
      const args = [...timingArgs, "--batch", String(size.batch), "--hidden", String(size.hidden), ...(c.symbolic ? ["--symbolic"] : [])];
      const label = `b${size.batch}·h${size.hidden}`;
      const env = values.threads ? { GRADC_BENCH_THREADS: values.threads } : undefined;
      const report = await runModelProcess("mlp-mnist", ["hand", c.engine], args, { timeoutS: Number(values.timeout), verbose: values.verbose, label, ...(env ? { env } : {}) });
      reports.push({ size, column: c.name, report });
      parts.push(report);
      cells.push({ size, column: c.name, report: report.engines.find((e) => e.engine === c.engine) });
    }
    const hand = merge(parts).engines.find((e) => e.engine === "hand");
    hands.set(size, hand);
    console.log(`  ${`b${size.batch}·h${size.hidden}`.padEnd(12)} ${"hand".padEnd(10)} ${fmtTime(hand?.medianMs).padStart(9)}/call  reference (median over ${parts.length} processes)`);
  }

  const clockNote =
    (values.clock === "cpu" ? "Timed by process CPU time (--clock cpu): waiting for a core on a loaded machine is left out; engines on several threads are overcounted.\n\n" : "") +
    (values.threads ? `gradc compiled with threads: ${values.threads} (GRADC_BENCH_THREADS).\n\n` : "");
  const markdown = clockNote + render(sizes, batches, hiddens, columns, cells, hands);
  console.log(`\n${markdown}\n`);
  const result = {
    date: started.toISOString(),
    machine: info,
    loadavgAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
    seed: SEED,
    timing: timingArgs,
    threads: values.threads ?? "default",
    columns,
    cells: reports.map(({ size, column, report }) => ({ ...size, column, engines: report.engines, ...(report.error ? { error: report.error } : {}) })),
    markdown,
  };
  const dir = path.join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const out = values.out ?? path.join(dir, `scaling-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
  if (!values.out) writeFileSync(path.join(dir, "scaling-latest.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
