// Threads: the host's "parallel for over the rows of a kernel call", written into a generated
// module beside the loader (embed.ts). One call, `state.par(kernel, rows, work, args)`:
//
// - runs `kernel(...args)` as it is, unless `work` (the call's size: multiply-adds for a
//   product) reaches the threshold, the module has a `<kernel>_rows` export taking the same
//   arguments plus a row range [r0, r1), and worker threads are running;
// - then cuts [0, rows) into chunks of a multiple of `ROW_GRAIN` rows (about
//   `CHUNKS_PER_THREAD` per thread), publishes the job in a small control block (an Int32Array
//   over its own SharedArrayBuffer), wakes the workers and claims chunks itself like any worker
//   (one compare-and-swap per chunk), then waits for the chunks others are still computing (a
//   short spin, then `Atomics.wait`). A worker the system has not scheduled simply claims
//   nothing: on a busy machine the call degrades to one thread, not to waiting for one. Every
//   output element is computed by one thread, in the same order as in one whole call, so
//   results are bit-identical for any thread count and any schedule.
//
// Workers: started lazily by the first call large enough to split, from a script embedded as
// text (`new Worker(source, { eval: true })` in Node through `process.getBuiltinModule`, a Blob
// URL in a browser worker), unref'd so they never keep Node running. Each receives the compiled
// WebAssembly.Module, the shared memory, the control block and the names of the `_rows` kernels
// by postMessage, instantiates the same kernels over the same memory (so addresses mean the same
// everywhere and nothing is copied), counts itself ready, then loops: sleep until the
// generation changes (a short spin, then `Atomics.wait`), claim and run chunks until none is
// left. Until every worker is ready, calls run on the calling thread alone.
//
// The claim counter holds the job's generation above its next chunk index, so a thread that
// read an old job's counter cannot claim from a new one (its compare-and-swap fails); a job's
// arguments are rewritten only after all its chunks are done, so a thread holding a chunk
// reads them unchanged.
//
// Single-threaded, with the same results: one thread asked for, no SharedArrayBuffer (a browser
// page without cross-origin isolation), a browser's main thread (which may not `Atomics.wait`),
// or no way to start workers. Any kernel whose exports follow the `_rows` convention can be
// split this way (arguments are i32: addresses and sizes, at most `MAX_ARGS`).

/** Threads (the calling one included) when none are asked for: the core count, at most this. */
export const AUTO_THREADS_CAP = 4;

/**
 * Work (multiply-adds of a product) from which a call is split. Measured with
 * bench/wasm-threads.ts on 2 cores (idle): at 2¹⁹ (about 26 µs on one thread) two threads take
 * 1.7× less time when the workers are awake (a call shortly after another) and some 10 µs more
 * when they must first be woken from Atomics.wait; from 2²⁰ they win either way (1.8×, 1.1×).
 */
export const THREAD_MIN_WORK = 1 << 19;

/** Chunks are multiples of this many rows (the kernels' row block). */
export const ROW_GRAIN = 4;

/** Chunks per thread: fewer chunks cost fewer claims, more balance uneven progress. */
const CHUNKS_PER_THREAD = 4;

/** Most i32 arguments of a kernel call (before the row range). */
export const MAX_ARGS = 16;

/** Spins (Atomics.load) before a thread sleeps in Atomics.wait: a few tens of microseconds. */
const SPIN = 20000;

// The control block, in Int32 slots.
const GEN = 0; // generation: bumped once per job, the workers sleep on it
const LEFT = 1; // chunks not finished yet
const READY = 2; // workers that have instantiated the kernels
const FAILED = 3; // set by a thread whose chunk threw
const KERNEL = 4; // index of the `_rows` export among the names sent at start
const NARGS = 5;
const NEXT = 6; // (generation << CHUNK_BITS) | next chunk to claim
const CHUNKS = 7; // chunks of the job (0 while a job is being written)
const ROWS = 8;
const CHUNK_ROWS = 9;
const HELPED = 10; // chunks the workers have run, all jobs together (for tests and curious users)
const ARGS = 11;
const SLOTS = ARGS + MAX_ARGS;
const CHUNK_BITS = 12;
const MAX_CHUNKS = 1 << CHUNK_BITS;

/**
 * Claims the next chunk of the current job: its index, or -1 when none is left. Shared text of
 * the worker and the host (`ctl` the control block).
 */
const CLAIM = `(ctl) => {
  for (;;) {
    const next = Atomics.load(ctl, ${NEXT});
    const chunk = next & ${MAX_CHUNKS - 1};
    if (chunk >= Atomics.load(ctl, ${CHUNKS})) return -1;
    if (Atomics.compareExchange(ctl, ${NEXT}, next, next + 1) === next) return chunk;
  }
}`;

/**
 * Runs claimed chunks until none is left and returns how many it ran (shared text; `fns` the
 * `_rows` kernels by index). A chunk that throws sets FAILED; every claimed chunk is counted
 * finished.
 */
const RUN_CHUNKS = `(ctl, fns, claim) => {
  let ran = 0;
  for (let chunk = claim(ctl); chunk >= 0; chunk = claim(ctl), ran++) {
    const size = Atomics.load(ctl, ${CHUNK_ROWS});
    const r0 = chunk * size;
    const r1 = Math.min(Atomics.load(ctl, ${ROWS}), r0 + size);
    const args = [];
    for (let i = 0; i < Atomics.load(ctl, ${NARGS}); i++) args.push(Atomics.load(ctl, ${ARGS} + i));
    args.push(r0, r1);
    try {
      fns[Atomics.load(ctl, ${KERNEL})](...args);
    } catch {
      Atomics.store(ctl, ${FAILED}, 1);
    }
    if (Atomics.sub(ctl, ${LEFT}, 1) === 1) Atomics.notify(ctl, ${LEFT});
  }
  return ran;
}`;

/**
 * The worker script: plain JavaScript, the same text in Node and browsers (no backquote or
 * `${`, so it is written into the generated module as a template literal).
 */
export function workerSource(): string {
  return `"use strict";
const claim = ${CLAIM};
const runChunks = ${RUN_CHUNKS};
const start = (init) => {
  const ctl = new Int32Array(init.control);
  const exports = new WebAssembly.Instance(init.module, { env: { memory: init.memory } }).exports;
  const fns = init.names.map((name) => exports[name]);
  let seen = Atomics.load(ctl, ${GEN});
  Atomics.add(ctl, ${READY}, 1);
  for (;;) {
    const ran = runChunks(ctl, fns, claim);
    if (ran > 0) Atomics.add(ctl, ${HELPED}, ran);
    let spins = ${SPIN};
    while (Atomics.load(ctl, ${GEN}) === seen) {
      if (spins > 0) spins--;
      else Atomics.wait(ctl, ${GEN}, seen);
    }
    seen = Atomics.load(ctl, ${GEN});
  }
};
if (typeof process === "object" && process !== null && typeof process.getBuiltinModule === "function") {
  process.getBuiltinModule("node:worker_threads").parentPort.once("message", start);
} else {
  self.onmessage = (event) => start(event.data);
}
`;
}

export interface PoolOptions {
  /** Threads including the calling one; "auto": the core count, at most `AUTO_THREADS_CAP`. */
  readonly threads: number | "auto";
  /** Work from which a call is split (default `THREAD_MIN_WORK`). */
  readonly minWork?: number;
  readonly typescript?: boolean;
}

/**
 * Statements for the loader's body (after `g`, `memory`, `shared` and `state` exist, `state`
 * holding `module` and `kernels` once compiled): define `state.par`, `state.threads` (threads
 * a large call may use here), `state.running()` (threads it uses now: 1 until the workers are
 * ready) and `state.helped()` (chunks the workers have run so far). `errorClass` binds
 * GradcError.
 */
export function poolSource(options: PoolOptions, errorClass: string): string {
  const ts = options.typescript === true;
  const t = (type: string): string => (ts ? `: ${type}` : "");
  const wanted = options.threads === "auto" ? 0 : options.threads;
  const minWork = options.minWork ?? THREAD_MIN_WORK;
  const typed = (fn: string, params: string): string => (ts ? fn.replace(/^\(([^)]*)\)/, `(${params})`) : fn);
  return `// Threads: large kernel calls split by rows across workers over the shared memory.
  const node = typeof g.process === "object" && g.process !== null && typeof g.process.getBuiltinModule === "function";
  // A browser worker of a cross-origin isolated page may start workers and wait; its main thread may not wait.
  const browserWorker = !node && typeof g.WorkerGlobalScope === "function" && g.crossOriginIsolated === true &&
    typeof g.Worker === "function" && typeof g.Blob === "function";
  const wanted = ${wanted};
  let count = 1;
  if (shared && (node || browserWorker)) {
    const cores = node ? g.process.getBuiltinModule("node:os").availableParallelism() : g.navigator.hardwareConcurrency || 1;
    count = wanted > 0 ? wanted : Math.min(cores, ${AUTO_THREADS_CAP});
  }
  state.threads = count;
  const ctl = new Int32Array(count > 1 ? new g.SharedArrayBuffer(${SLOTS * 4}) : ${SLOTS});
  let started = false;
  // The \`_rows\` export of each kernel that has one (looked up by either), and its index.
  const rowsOf${t("any")} = new Map();
  let fns${t("any[]")} = [];
  const claim = ${typed(CLAIM.replace(/\n/g, "\n  "), "ctl: Int32Array")};
  const runChunks = ${typed(RUN_CHUNKS.replace(/\n/g, "\n  "), "ctl: Int32Array, fns: any[], claim: (ctl: Int32Array) => number")};
  const startWorkers = ()${t("void")} => {
    started = true;
    const names = Object.keys(state.kernels).filter((name) => name.endsWith("_rows"));
    fns = names.map((name) => state.kernels[name]);
    names.forEach((name, id) => {
      rowsOf.set(state.kernels[name.slice(0, -5)], id);
      rowsOf.set(state.kernels[name], id);
    });
    const source = \`${workerSource().trimEnd()}\`;
    try {
      const url = node ? "" : g.URL.createObjectURL(new g.Blob([source], { type: "text/javascript" }));
      const Worker = node ? g.process.getBuiltinModule("node:worker_threads").Worker : g.Worker;
      for (let index = 1; index < count; index++) {
        const worker = node ? new Worker(source, { eval: true }) : new Worker(url);
        if (node) {
          worker.on("error", () => (count = 1));
          worker.unref();
        } else worker.onerror = () => (count = 1);
        worker.postMessage({ module: state.module, memory, control: ctl.buffer, names, index });
      }
    } catch {
      count = 1;
    }
  };
  state.helped = ()${t("number")} => Atomics.load(ctl, ${HELPED});
  state.running = ()${t("number")} => (started && count > 1 && Atomics.load(ctl, ${READY}) === count - 1 ? count : 1);
  let generation = 0;
  /** kernel(...args), or its \`_rows\` form over [0, rows) in chunks claimed by every thread when work is large. */
  state.par = (kernel${t("any")}, rows${t("number")}, work${t("number")}, args${t("number[]")})${t("void")} => {
    if (count < 2 || work < ${minWork} || rows < ${2 * ROW_GRAIN} || args.length > ${MAX_ARGS}) return void kernel(...args);
    if (!started) startWorkers();
    const id = rowsOf.get(kernel);
    if (id === undefined || state.running() < 2) return void kernel(...args);
    // Publish the job: no chunk is claimable while it is written (CHUNKS = 0), the counter then
    // carries the new generation, and the chunk count opens it.
    const size = Math.max(${ROW_GRAIN}, Math.ceil(rows / (count * ${CHUNKS_PER_THREAD}) / ${ROW_GRAIN}) * ${ROW_GRAIN}, Math.ceil(rows / ${MAX_CHUNKS}));
    const chunks = Math.ceil(rows / size);
    Atomics.store(ctl, ${CHUNKS}, 0);
    ctl[${KERNEL}] = id;
    ctl[${NARGS}] = args.length;
    args.forEach((x, i) => (ctl[${ARGS} + i] = x));
    ctl[${ROWS}] = rows;
    ctl[${CHUNK_ROWS}] = size;
    Atomics.store(ctl, ${LEFT}, chunks);
    generation = (generation + 1) & ${(1 << (31 - CHUNK_BITS)) - 1};
    Atomics.store(ctl, ${NEXT}, generation << ${CHUNK_BITS});
    Atomics.store(ctl, ${CHUNKS}, chunks);
    Atomics.add(ctl, ${GEN}, 1);
    Atomics.notify(ctl, ${GEN});
    runChunks(ctl, fns, claim);
    // Wait for the chunks other threads are still computing.
    let spins = ${SPIN};
    for (let left = Atomics.load(ctl, ${LEFT}); left !== 0; left = Atomics.load(ctl, ${LEFT})) {
      if (spins > 0) spins--;
      else Atomics.wait(ctl, ${LEFT}, left);
    }
    if (Atomics.exchange(ctl, ${FAILED}, 0) !== 0) {
      ${errorClass}
      throw new GradcError("a WebAssembly kernel failed in a worker thread");
    }
  };`;
}

/** `state.par` without threads: the kernel called as it is. */
export function serialParSource(typescript: boolean): string {
  const t = (type: string): string => (typescript ? `: ${type}` : "");
  return `state.threads = 1;
  state.running = ()${t("number")} => 1;
  state.helped = ()${t("number")} => 0;
  state.par = (kernel${t("any")}, _rows${t("number")}, _work${t("number")}, args${t("number[]")})${t("void")} => void kernel(...args);`;
}
