// `npm run fuzz`: compiles thousands of generated programs (test/robustness/programs.ts and
// programs-checks.ts) and judges each (test/robustness/harness.ts), then prints how many were
// tried, compiled, diagnosed, crashed, hung or gave invalid output, per seed and in total.
// Exit code 1 if any crashed, hung, gave invalid output or got the wrong verdict; each such
// program is saved under test/fuzz-crashes/ (the source and a .json with its case and what
// went wrong), where test/robustness/fuzz-crashes.test.ts replays every one of them, and
// under test/.tmp/fuzz/failures/.
//
// Batches run in a worker thread with the main thread's stack size (what the CLI has), so a
// program that hangs or exhausts memory is detected by a watchdog, recorded, and the batch
// resumes in a fresh worker after it.
//
//   npm run fuzz -- [--count 10000] [--seed 1] [--seeds 3] [--batch 200] [--timeout 300]
//                   [--workers 1] [--no-deep] [--no-run] [--no-save]
//
// --count is per seed; --seeds N runs seeds seed, seed + 1, ... seed + N - 1 (deep programs,
// which do not depend on the seed, run once).

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { type Outcome, type Status, runBatch, tally } from "./harness.js";
import { type Case, DEEP_KINDS, deepCase, sampleCases } from "./programs.js";

interface Options {
  count: number;
  seed: number;
  seeds: number;
  save: boolean;
  batch: number;
  timeout: number;
  workers: number;
  deep: boolean;
  run: boolean;
  root: string;
}

interface Job {
  readonly id: number;
  readonly cases: Case[];
}

type Message = { type: "start"; index: number } | { type: "done"; index: number; outcome: Outcome } | { type: "end" };

/** Sizes of the deep programs: just past the nesting limit, well past it, and 10⁵. */
const DEEP_SIZES: Partial<Record<(typeof DEEP_KINDS)[number], number[]>> = {
  helpers: [12, 17, 30],
  nestedLoops: [2, 4, 8],
  longLoop: [100, 1_000_000, 1_000_000_000],
  manyParams: [100, 1000, 5000],
  statements: [1000, 20_000, 100_000],
  tensorChain: [500, 5000, 20_000],
  wideCall: [1000, 20_000, 100_000],
  longLine: [1000, 100_000, 1_000_000],
  longName: [1000, 100_000, 1_000_000],
};

function parseArgs(argv: readonly string[], root: string): Options {
  const o: Options = { count: 10_000, seed: Date.now() % 100_000, seeds: 3, save: true, batch: 200, timeout: 300, workers: 1, deep: true, run: true, root };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): number => Number(argv[++i]);
    if (a === "--count") o.count = next();
    else if (a === "--seed") o.seed = next();
    else if (a === "--seeds") o.seeds = Math.max(1, Math.floor(next()));
    else if (a === "--no-save") o.save = false;
    else if (a === "--batch") o.batch = next();
    else if (a === "--timeout") o.timeout = next();
    else if (a === "--workers") o.workers = Math.max(1, Math.min(next(), cpus().length));
    else if (a === "--no-deep") o.deep = false;
    else if (a === "--no-run") o.run = false;
    else throw new Error(`fuzz: unknown option ${a}`);
  }
  return o;
}

/** The jobs of one seed; deep programs only with the first. */
function jobs(o: Options, seed: number, first: boolean, startId: number): Job[] {
  const out: Job[] = [];
  let id = startId;
  if (o.deep && first) {
    // Deep programs in small batches of their own: each may take seconds.
    const deep = DEEP_KINDS.flatMap((kind) => (DEEP_SIZES[kind] ?? [500, 5000, 100_000]).map((n) => deepCase(kind, n)));
    for (let i = 0; i < deep.length; i += 4) out.push({ id: id++, cases: deep.slice(i, i + 4) });
  }
  const total = o.count - out.reduce((s, j) => s + j.cases.length, 0);
  for (let done = 0, b = 0; done < total; b++) {
    const n = Math.min(o.batch, total - done);
    out.push({ id: id++, cases: sampleCases(seed * 1000 + b, n) });
    done += n;
  }
  return out;
}

// ---- the worker ---------------------------------------------------------------------------

async function workerMain(): Promise<void> {
  const { job, dir, run } = workerData as { job: Job; dir: string; run: boolean };
  const post = (m: Message): void => parentPort!.postMessage(m);
  await runBatch(job.cases, dir, {
    run,
    onStart: (index) => post({ type: "start", index }),
    onDone: (index, outcome) => post({ type: "done", index, outcome }),
  });
  post({ type: "end" });
}

// ---- the main thread ----------------------------------------------------------------------

/** Runs one job in a worker; a program that does not finish within the timeout is a hang. */
function runJob(job: Job, o: Options, slot: number, record: (o: Outcome) => void): Promise<void> {
  return new Promise((resolve) => {
    let current = -1;
    let settled = false;
    const dir = join(o.root, `worker${slot}`);
    const worker = new Worker(fileURLToPath(import.meta.url), {
      workerData: { job, dir, run: o.run },
      // The main thread's stack (the CLI's), and a bound on memory.
      resourceLimits: { stackSizeMb: 0.96, maxOldGenerationSizeMb: 3072 },
    });
    let timer: NodeJS.Timeout | undefined;
    const finish = (rest: Case[]): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (rest.length > 0) void runJob({ id: job.id, cases: rest }, o, slot, record).then(resolve);
      else resolve();
    };
    const arm = (): void => {
      clearTimeout(timer);
      // Setting up the project comes before the first program: give it the same time.
      timer = setTimeout(() => {
        const i = Math.max(current, 0);
        const c = job.cases[i]!;
        record({ name: c.name, family: c.family, status: "hang", detail: `no answer within ${o.timeout} s`, ms: o.timeout * 1000 });
        finish(job.cases.slice(i + 1));
      }, o.timeout * 1000);
    };
    arm();
    worker.on("message", (m: Message) => {
      if (m.type === "start") {
        current = m.index;
        arm();
      } else if (m.type === "done") {
        record(m.outcome);
      } else finish([]);
    });
    worker.on("error", (e) => {
      const i = Math.max(current, 0);
      const c = job.cases[i]!;
      record({ name: c.name, family: c.family, status: "crash", detail: `the worker died: ${String(e)}`, ms: 0 });
      finish(job.cases.slice(i + 1));
    });
    worker.on("exit", () => finish([]));
  });
}

async function main(): Promise<void> {
  // Run from the repository (npm run fuzz): scratch files go to its git-ignored test/.tmp/.
  const o = parseArgs(process.argv.slice(2), join(process.cwd(), "test/.tmp/fuzz"));
  rmSync(o.root, { recursive: true, force: true });
  mkdirSync(join(o.root, "failures"), { recursive: true });
  const saved = join(process.cwd(), "test/fuzz-crashes");
  const seeds = Array.from({ length: o.seeds }, (_x, k) => o.seed + k);
  console.log(`gradc fuzz: seed${seeds.length > 1 ? `s ${seeds.join(", ")}` : ` ${o.seed}`}, ${o.count} programs per seed, ${o.workers} worker(s), ${o.timeout} s per program`);
  const all: Outcome[] = [];
  const start = Date.now();
  const summaries: string[] = [];
  let nextId = 0;
  for (const seed of seeds) {
    const js = jobs(o, seed, seed === seeds[0], nextId);
    nextId += js.length;
    const cases = new Map(js.flatMap((j) => j.cases.map((c) => [c.name, c] as const)));
    const outcomes: Outcome[] = [];
    const seedStart = Date.now();
    const record = (out: Outcome): void => {
      outcomes.push(out);
      all.push(out);
      if (["crash", "hang", "invalid", "unexpected"].includes(out.status)) {
        const c = cases.get(out.name)!;
        writeFileSync(join(o.root, "failures", `${out.name}.ts`), c.source);
        writeFileSync(join(o.root, "failures", `${out.name}.txt`), `${out.status} (${out.family}): ${out.detail ?? ""}\n`);
        if (o.save) saveCrash(saved, c, out, seed);
        console.log(`  ${out.status.toUpperCase()} ${out.name} (${out.family}): ${(out.detail ?? "").split("\n")[0]!.slice(0, 300)}`);
      }
      if (all.length % 1000 === 0) console.log(`  ... ${all.length} programs, ${Math.round((Date.now() - start) / 1000)} s`);
    };
    const queue = [...js];
    await Promise.all(
      Array.from({ length: o.workers }, async (_x, slot) => {
        for (let job = queue.shift(); job; job = queue.shift()) await runJob(job, o, slot, record);
      }),
    );
    const t = tally(outcomes);
    const line = `seed ${seed}: ${outcomes.length} programs, ${t.compiled} compiled, ${t.diagnosed} diagnosed, ${t.crash} crashes, ${t.hang} hangs, ${t.invalid} invalid outputs, ${t.unexpected} wrong verdicts (${Math.round((Date.now() - seedStart) / 1000)} s)`;
    summaries.push(line);
    console.log(line);
  }
  report(all, (Date.now() - start) / 1000);
  if (summaries.length > 1) console.log(["", "per seed:", ...summaries.map((l) => `  ${l}`)].join("\n"));
  const t = tally(all);
  process.exitCode = t.crash + t.hang + t.invalid + t.unexpected > 0 ? 1 : 0;
}

/**
 * Keeps a failing program for good: test/fuzz-crashes/<name>.ts and <name>.json (its case, the
 * seed and what went wrong), replayed by test/robustness/fuzz-crashes.test.ts. Programs of
 * more than 100 kB (the deep ones, regenerated from their name) keep only the .json.
 */
function saveCrash(dir: string, c: Case, out: Outcome, seed: number): void {
  mkdirSync(dir, { recursive: true });
  const { source, ...rest } = c;
  const keep = source.length <= 100_000;
  if (keep) writeFileSync(join(dir, `${c.name}.ts`), source);
  writeFileSync(join(dir, `${c.name}.json`), JSON.stringify({ ...rest, seed, status: out.status, detail: out.detail ?? "", sourceKept: keep }, null, 2) + "\n");
}

function report(outcomes: readonly Outcome[], seconds: number): void {
  const t = tally(outcomes);
  const row = (label: string, n: number, note = ""): string => `${label.padEnd(18)}${String(n).padStart(7)}${note}`;
  console.log("");
  console.log(row("programs tried", outcomes.length));
  console.log(row("compiled", t.compiled));
  console.log(row("diagnosed", t.diagnosed));
  console.log(row("crashes", t.crash));
  console.log(row("hangs", t.hang));
  console.log(row("invalid outputs", t.invalid));
  console.log(row("wrong verdicts", t.unexpected, "   (a valid program refused, a refused construct compiled, GRADC1021 on shallow code)"));
  console.log(`time              ${seconds.toFixed(0)} s`);
  const families = new Map<string, Record<Status, number>>();
  for (const o of outcomes) {
    const key = o.family.split(":")[0] + ":" + (o.family.split(":")[1] ?? "").replace(/-.*/, "");
    if (!families.has(key)) families.set(key, { compiled: 0, diagnosed: 0, crash: 0, invalid: 0, unexpected: 0, hang: 0 });
    families.get(key)![o.status]++;
  }
  console.log("\nby family            compiled diagnosed  failed");
  for (const [k, v] of [...families].sort()) console.log(`  ${k.padEnd(20)}${String(v.compiled).padStart(7)}${String(v.diagnosed).padStart(10)}${String(v.crash + v.hang + v.invalid + v.unexpected).padStart(8)}`);
  const slowest = [...outcomes].sort((a, b) => b.ms - a.ms).slice(0, 5);
  console.log("\nslowest: " + slowest.map((s) => `${s.name} ${(s.ms / 1000).toFixed(1)} s`).join(", "));
}

if (isMainThread) await main();
else await workerMain();
