// Threads: the kernels over row ranges (the unit a thread computes) give the whole product bit
// for bit, and the generated loader's parallel loop (`par`, compiler/wasm/threads.ts) gives the
// single-threaded result bit for bit with 2 and 3 threads, across memory growth; without
// SharedArrayBuffer, or on a browser's main thread, it runs single-threaded with the same
// kernels.

import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import vm from "node:vm";
import { Project, ts } from "ts-morph";
import { afterAll, describe, expect, it } from "vitest";
import { SHARED_MAX_PAGES } from "../../compiler/codegen/wasm-backend.js";
import { sharedFlagOffset, wasmLoaderSource, wasmModuleSource } from "../../compiler/wasm/embed.js";
import { Arena } from "../../compiler/wasm/memory.js";
import { buildKernelModule, type KernelExports } from "../../compiler/wasm/module.js";
import { WA, type WasmMemory } from "../../compiler/wasm/webassembly.js";
import { instantiate, random, type Elem, type Variant } from "./harness.js";

const VARIANTS: Variant[] = ["nn", "nt", "tn"];
const ELEMS: Elem[] = ["f32", "f64"];

describe("kernels over a range of rows", () => {
  const inst = instantiate(1 << 22);
  it("any split of the rows gives the whole product bit for bit and writes nothing else", () => {
    for (const v of VARIANTS)
      for (const elem of ELEMS)
        for (const [m, n, k] of [[13, 9, 300], [64, 20, 7], [5, 33, 0]] as const) {
          const size = elem === "f32" ? 4 : 8;
          const arena = new Arena();
          const a = arena.alloc(m * k * size);
          const b = arena.alloc(k * n * size);
          const whole = arena.alloc(m * n * size);
          const split = arena.alloc(m * n * size);
          inst.view(elem, a, m * k).set(random(m + n + k, m * k));
          inst.view(elem, b, k * n).set(random(m * n * k + 1, k * n));
          const kernels = inst.kernels;
          kernels[`matmul_${v}_${elem}`](whole, a, b, m, n, k, 0);
          // Ranges of every kind: empty, one row, unaligned to the 4-row block, the rest.
          const bounds = [0, 0, 1, 4, 7, m].filter((x) => x <= m);
          for (const acc of [0, 1]) {
            inst.view(elem, split, m * n).fill(acc ? 0 : Number.NaN);
            for (let i = 0; i + 1 < bounds.length; i++) {
              kernels[`matmul_${v}_${elem}_rows`](split, a, b, m, n, k, acc, bounds[i]!, bounds[i + 1]!);
              // Rows past the range are untouched (still NaN, or 0 when accumulating).
              const rest = Array.from(inst.view(elem, split + bounds[i + 1]! * n * size, (m - bounds[i + 1]!) * n));
              expect(rest.every((x) => (acc ? x === 0 : Number.isNaN(x))), `${v} ${elem} rows past ${bounds[i + 1]}`).toBe(true);
            }
            expect(Array.from(inst.view(elem, split, m * n)), `${v} ${elem} ${m}×${n}×${k} acc ${acc}`).toEqual(
              Array.from(inst.view(elem, whole, m * n)),
            );
          }
        }
  });
});

interface Loaded {
  wasm: {
    memory: WasmMemory;
    threads: number;
    get(): KernelExports;
    par(kernel: unknown, rows: number, work: number, args: number[]): void;
    running(): number;
    helped(): number;
  };
}

const dir = mkdtempSync(join(tmpdir(), "gradc-wasm-threads-"));
const shared = buildKernelModule({ shared: true, maxPages: SHARED_MAX_PAGES });
const loaded: Loaded[] = [];

async function load(name: string, threads: number): Promise<Loaded["wasm"]> {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, wasmModuleSource(shared.bytes, { pages: 4, maxPages: SHARED_MAX_PAGES, threads: { threads, minWork: 1 } }));
  const mod = (await import(pathToFileURL(file).href)) as Loaded;
  loaded.push(mod);
  return mod.wasm;
}

/** Starts the workers (the first large call does) and waits until they are all ready. */
async function started(wasm: Loaded["wasm"]): Promise<void> {
  const a = new Arena();
  const x = a.alloc(256 * 4 * 3);
  wasm.par(wasm.get().matmul_nn_f32, 16, 1 << 30, [x + 2048, x, x + 1024, 16, 16, 16, 0]);
  for (let i = 0; i < 3000 && wasm.running() < wasm.threads; i++) await new Promise((r) => setTimeout(r, 10));
  expect(wasm.running()).toBe(wasm.threads);
}

/** Products through `par` (one whole call when `serial`) at addresses from `base`: digests of the C blocks' bytes. */
function products(wasm: Loaded["wasm"], base: number, serial: boolean): string[] {
  const out: string[] = [];
  for (const v of VARIANTS)
    for (const elem of ELEMS)
      for (const [m, n, k] of [[64, 128, 784], [784, 128, 64], [200, 37, 129], [9, 8, 3], [8, 500, 1]] as const) {
        const size = elem === "f32" ? 4 : 8;
        const arena = new Arena(base);
        const a = arena.alloc(m * k * size);
        const b = arena.alloc(k * n * size);
        const c = arena.alloc(m * n * size);
        const need = arena.size - wasm.memory.buffer.byteLength;
        if (need > 0) wasm.memory.grow(Math.ceil(need / 65536));
        const view = (at: number, len: number): Float32Array | Float64Array =>
          elem === "f32" ? new Float32Array(wasm.memory.buffer, at, len) : new Float64Array(wasm.memory.buffer, at, len);
        view(a, m * k).set(random(m * 3 + k, m * k));
        view(b, k * n).set(random(n * 5 + k, k * n));
        view(c, m * n).fill(Number.NaN);
        const kernel = wasm.get()[`matmul_${v}_${elem}`];
        if (serial) kernel(c, a, b, m, n, k, 0);
        else wasm.par(kernel, m, m * n * k, [c, a, b, m, n, k, 0]);
        const bytes = new Uint8Array(wasm.memory.buffer, c, m * n * size);
        out.push(`${v} ${elem} ${m}×${n}×${k} ${createHash("sha256").update(bytes).digest("hex")}`);
      }
  return out;
}

describe("the parallel loop of the generated loader", () => {
  afterAll(() => void loaded.splice(0));

  it("2 and 3 threads give the single-threaded bytes, the workers take chunks, and growth reaches them", { timeout: 120_000 }, async () => {
    const one = await load("one", 1);
    expect(one.threads).toBe(1);
    const expected = products(one, 16, true);
    for (const threads of [2, 3]) {
      const wasm = await load(`t${threads}`, threads);
      expect(wasm.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
      await started(wasm);
      expect(products(wasm, 16, false)).toEqual(expected);
      // Again, a few times, so that the workers (on a busy machine, late) claim chunks.
      for (let i = 0; i < 50 && wasm.helped() === 0; i++) products(wasm, 16, false);
      expect(wasm.helped()).toBeGreaterThan(0);
      // Grow the shared memory while the workers run, then compute past the old end.
      const before = wasm.memory.buffer.byteLength;
      const past = products(wasm, before + 65536, false);
      expect(wasm.memory.buffer.byteLength).toBeGreaterThan(before);
      expect(past).toEqual(expected);
    }
  });

  it("without SharedArrayBuffer: the same kernels over an ordinary memory, one thread, same bytes", () => {
    const context = vm.createContext({ WebAssembly: WA, atob, Uint8Array, RangeError, Promise, Symbol, Error, Map, Atomics, Object, Math, process });
    const source = wasmLoaderSource(shared.bytes, { pages: 4, maxPages: SHARED_MAX_PAGES, threads: { threads: 2, minWork: 1 } });
    const wasm = vm.runInContext(`delete globalThis.SharedArrayBuffer;\n${source}\n$gradc_wasm`, context) as Loaded["wasm"];
    expect(wasm.memory.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(wasm.threads).toBe(1);
    expect(products(wasm, 16, false)).toEqual(products(wasm, 16, true));
  });

  it("on a browser's main thread (no process, no WorkerGlobalScope): one thread", () => {
    const context = vm.createContext({
      WebAssembly: WA, atob, Uint8Array, RangeError, Promise, Symbol, Error, Map, Atomics, Object, Math, SharedArrayBuffer,
      crossOriginIsolated: true, Worker: class {}, Blob, navigator: { hardwareConcurrency: 8 },
    });
    const source = wasmLoaderSource(shared.bytes, { pages: 4, maxPages: SHARED_MAX_PAGES, threads: { threads: "auto", minWork: 1 } });
    const wasm = vm.runInContext(`${source}\n$gradc_wasm`, context) as Loaded["wasm"];
    expect(wasm.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(wasm.threads).toBe(1);
  });

  it("in a cross-origin isolated browser worker: Blob-URL workers get the module, the memory and the control block", () => {
    const posted: Array<{ url: string; message: Record<string, unknown> }> = [];
    class FakeWorker {
      onerror: unknown = null;
      constructor(private readonly url: string) {}
      postMessage(message: Record<string, unknown>): void {
        posted.push({ url: this.url, message });
      }
    }
    const context = vm.createContext({
      WebAssembly: WA, atob, Uint8Array, Int32Array, RangeError, Promise, Symbol, Error, Map, Atomics, Object, Math, SharedArrayBuffer,
      WorkerGlobalScope: function WorkerGlobalScope() {}, crossOriginIsolated: true, Worker: FakeWorker, Blob, URL,
      navigator: { hardwareConcurrency: 8 },
    });
    const source = wasmLoaderSource(shared.bytes, { pages: 4, maxPages: SHARED_MAX_PAGES, threads: { threads: "auto", minWork: 1 } });
    const wasm = vm.runInContext(`${source}\n$gradc_wasm`, context) as Loaded["wasm"];
    expect(wasm.threads).toBe(4); // 8 cores, capped at 4
    // The fake workers never become ready: the call runs on this thread, correctly.
    expect(products(wasm, 16, false)).toEqual(products(wasm, 16, true));
    expect(posted.map((p) => p.message["index"])).toEqual([1, 2, 3]);
    expect(posted[0]!.url).toMatch(/^blob:/);
    const first = posted[0]!.message;
    expect(first["memory"]).toBe(wasm.memory);
    expect(first["control"]).toBeInstanceOf(SharedArrayBuffer);
    expect(first["names"]).toContain("matmul_tn_f32_rows");
    expect(wasm.running()).toBe(1);
  });

  it("the unshared form differs from the shared one in the one flag byte the loader clears", () => {
    const unshared = buildKernelModule({ maxPages: SHARED_MAX_PAGES });
    const at = sharedFlagOffset(shared.bytes);
    expect(shared.bytes.length).toBe(unshared.bytes.length);
    const patched = Uint8Array.from(shared.bytes);
    patched[at] = 1;
    expect(patched).toEqual(unshared.bytes);
  });

  it("the TypeScript form with threads passes strict type checking with only the ES library", () => {
    const source = `${wasmLoaderSource(shared.bytes, { pages: 1, maxPages: SHARED_MAX_PAGES, typescript: true, threads: { threads: "auto" } })}export const ready = $gradc_wasm.ready;\n`;
    const file = join(dir, "threads.ts");
    writeFileSync(file, source);
    const project = new Project({
      compilerOptions: {
        strict: true, noImplicitAny: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true,
        noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, lib: ["lib.es2022.d.ts"], types: [],
      },
      skipAddingFilesFromTsConfig: true,
    });
    project.addSourceFileAtPath(file);
    expect(project.formatDiagnosticsWithColorAndContext(project.getPreEmitDiagnostics())).toBe("");
  });
});
