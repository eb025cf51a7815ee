// Micro-benchmark: one WebAssembly matrix product split across worker threads (the generated
// module's `par`, compiler/wasm/threads.ts) against the same product on one thread, at sizes
// around the split threshold and at mlp-mnist's. Not part of the test suite; run with
//   npx tsx bench/wasm-threads.ts [--threads 2] [--ms 300]
// Both loaders are the generated modules' own (wasmModuleSource with and without threads),
// imported from a temporary folder. Times are wall clock (threads only pay off in wall time):
// the minimum over batches, the figure least disturbed by other work on a shared machine, and
// the median; "cpu" is the process's CPU time per call over all batches (workers included, so
// it shows what the split costs in total). Back-to-back calls find the workers awake (still
// spinning after the previous job); "asleep" times single calls made 2 ms after the previous
// one, when the workers sleep in Atomics.wait and must be woken (median of 200). On a machine
// shared with other work, what an idle machine gives needs real-time priority (as root): bundle
// it first (`npx esbuild bench/wasm-threads.ts --bundle --platform=node --format=esm
// --outfile=/tmp/wasm-threads.mjs`), then `timeout 120 chrt -f 10 node /tmp/wasm-threads.mjs`.
// Never put npm, npx or tsx under a real-time policy: their helper threads busy-wait and then
// starve the whole machine.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { SHARED_MAX_PAGES } from "../compiler/codegen/wasm-backend.js";
import { wasmModuleSource } from "../compiler/wasm/embed.js";
import { Arena } from "../compiler/wasm/memory.js";
import { buildKernelModule, type KernelExports } from "../compiler/wasm/module.js";
import type { WasmMemory } from "../compiler/wasm/webassembly.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const THREADS = flag("threads", 2);
const BUDGET_MS = flag("ms", 300);

interface Loaded {
  wasm: {
    memory: WasmMemory;
    get(): KernelExports;
    par(kernel: unknown, rows: number, work: number, args: number[]): void;
    running(): number;
  };
}

const dir = mkdtempSync(join(tmpdir(), "gradc-bench-threads-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const shared = buildKernelModule({ shared: true, maxPages: SHARED_MAX_PAGES });
const file = join(dir, "threaded.mjs");
writeFileSync(file, wasmModuleSource(shared.bytes, { pages: 256, maxPages: SHARED_MAX_PAGES, threads: { threads: THREADS, minWork: 1 } }));
const { wasm } = (await import(pathToFileURL(file).href)) as Loaded;

// Start the workers (the first large call does) and wait until they are ready.
const arena = new Arena();
const scratch = arena.alloc(64 * 4 * 3);
wasm.par(wasm.get().matmul_nn_f32, 8, 1 << 30, [scratch + 512, scratch, scratch + 256, 8, 8, 8, 0]);
for (let i = 0; i < 400 && wasm.running() < THREADS; i++) await new Promise((r) => setTimeout(r, 10));
if (wasm.running() < THREADS) throw new Error(`workers did not start (running ${wasm.running()})`);

type Variant = "nn" | "nt" | "tn";
const SIZES: Array<[Variant, number, number, number, string]> = [
  ["nn", 16, 64, 64, ""],
  ["nn", 32, 64, 64, ""],
  ["nn", 32, 64, 128, ""],
  ["nn", 64, 64, 128, ""],
  ["nn", 64, 128, 128, ""],
  ["nn", 64, 128, 256, ""],
  ["nn", 64, 128, 784, "mlp-mnist forward"],
  ["tn", 784, 128, 64, "mlp-mnist dW1"],
  ["nt", 64, 784, 128, "dX of the first layer"],
  ["nn", 512, 512, 512, ""],
];

const pause = new Int32Array(new SharedArrayBuffer(4));
/** Median wall time of single calls, each 2 ms after the previous one (the workers asleep by then). */
function timeAsleep(run: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    Atomics.wait(pause, 0, 0, 2);
    const t0 = performance.now();
    run();
    times.push((performance.now() - t0) * 1000);
  }
  times.sort((x, y) => x - y);
  return times[times.length >> 1]!;
}

function time(run: () => void): { min: number; median: number; cpu: number } {
  for (let i = 0; i < 20; i++) run();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) run();
    if (performance.now() - t0 > 2 || reps > 1 << 20) break;
    reps *= 2;
  }
  const batches: number[] = [];
  const c0 = process.cpuUsage();
  let calls = 0;
  const end = performance.now() + BUDGET_MS;
  while (performance.now() < end || batches.length < 9) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) run();
    batches.push(((performance.now() - t0) * 1000) / reps);
    calls += reps;
  }
  const c = process.cpuUsage(c0);
  batches.sort((x, y) => x - y);
  return { min: batches[0]!, median: batches[batches.length >> 1]!, cpu: (c.user + c.system) / calls };
}

const us = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(1)} µs`);
console.log(`${THREADS} threads against 1, f32, wall time per product: min / median over batches (cpu per call)\n`);
console.log("| product | M·N·K | 1 thread | " + `${THREADS} threads | speed-up (min) | 1 thread, single call | ${THREADS} threads, workers asleep |`);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const [v, m, n, k, note] of SIZES) {
  const at = new Arena(16);
  const a = at.alloc(m * k * 4);
  const b = at.alloc(k * n * 4);
  const c = at.alloc(m * n * 4);
  if (at.size > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((at.size - wasm.memory.buffer.byteLength) / 65536));
  const f32 = new Float32Array(wasm.memory.buffer);
  for (let i = 0; i < m * k + k * n; i++) f32[a / 4 + i] = Math.sin(i);
  const kernel = wasm.get()[`matmul_${v}_f32`];
  const argv = [c, a, b, m, n, k, 0];
  const one = time(() => kernel(c, a, b, m, n, k, 0));
  const many = time(() => wasm.par(kernel, m, m * n * k, argv));
  const oneAsleep = timeAsleep(() => kernel(c, a, b, m, n, k, 0));
  const manyAsleep = timeAsleep(() => wasm.par(kernel, m, m * n * k, argv));
  const label = `${v} ${m}×${n}×${k}${note ? ` (${note})` : ""}`;
  console.log(
    `| ${label} | ${(m * n * k).toExponential(1)} | ${us(one.min)} / ${us(one.median)} (${us(one.cpu)}) | ${us(many.min)} / ${us(many.median)} (${us(many.cpu)}) | ${(one.min / many.min).toFixed(2)}× | ${us(oneAsleep)} | ${us(manyAsleep)} |`,
  );
}
