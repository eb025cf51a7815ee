// The embedded loader: a generated module carries the kernel bytes itself, imports nothing,
// instantiates them synchronously in Node, and falls back to asynchronous compilation (with
// `ready`, and a GradcError before it) where synchronous compilation is refused.

import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import vm from "node:vm";
import { Project, ts } from "ts-morph";
import { describe, expect, it } from "vitest";
import { toBase64, wasmLoaderSource, wasmModuleSource } from "../../compiler/wasm/embed.js";
import { buildKernelModule, type KernelExports } from "../../compiler/wasm/module.js";
import { WA, type WasmMemory } from "../../compiler/wasm/webassembly.js";

const { bytes } = buildKernelModule();
const dir = mkdtempSync(join(tmpdir(), "gradc-wasm-embed-"));

interface Loaded {
  wasm: { memory: WasmMemory; get(): KernelExports };
  memory: WasmMemory;
  ready: Promise<void>;
}

/** 2×3 · 3×2 through the loaded kernels, in the loader's own memory. */
function product(loaded: Loaded): number[] {
  const f32 = new Float32Array(loaded.memory.buffer);
  f32.set([1, 2, 3, 4, 5, 6], 4); // A at byte 16
  f32.set([7, 8, 9, 10, 11, 12], 12); // B at byte 48
  loaded.wasm.get().matmul_nn_f32(80, 16, 48, 2, 2, 3, 0);
  return Array.from(f32.subarray(20, 24));
}
const EXPECTED = [1 * 7 + 2 * 9 + 3 * 11, 1 * 8 + 2 * 10 + 3 * 12, 4 * 7 + 5 * 9 + 6 * 11, 4 * 8 + 5 * 10 + 6 * 12];

describe("embedded kernels", () => {
  it("an ES module: dependency-free, usable at once in Node, ready already resolved", async () => {
    const source = wasmModuleSource(bytes, { pages: 2 });
    expect(source).not.toMatch(/^\s*import\b|\bimport\(|\brequire\(/m);
    const file = join(dir, "kernels.mjs");
    writeFileSync(file, source);
    const loaded = (await import(pathToFileURL(file).href)) as Loaded;
    expect(loaded.memory.buffer.byteLength).toBe(2 * 65536);
    expect(product(loaded)).toEqual(EXPECTED);
    await expect(loaded.ready).resolves.toBeUndefined();
  });

  it("a CommonJS module", () => {
    const file = join(dir, "kernels.cjs");
    writeFileSync(file, wasmModuleSource(bytes, { pages: 1, format: "cjs" }));
    const loaded = createRequire(import.meta.url)(file) as Loaded;
    expect(product(loaded)).toEqual(EXPECTED);
  });

  it("compiles asynchronously where synchronous compilation is refused, and says to await ready", async () => {
    // A browser main thread, imitated: `new WebAssembly.Module` throws a RangeError.
    const RealWA = WA;
    const FakeWA = {
      ...Object.fromEntries(Object.getOwnPropertyNames(RealWA).map((k) => [k, (RealWA as unknown as Record<string, unknown>)[k]])),
      Module: function Module() {
        throw new RangeError("WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 8MB");
      },
    };
    const context = vm.createContext({ WebAssembly: FakeWA, atob, Promise, Uint8Array, RangeError, Symbol, Error });
    const state = vm.runInContext(`${wasmLoaderSource(bytes, { pages: 1 })}\n$gradc_wasm`, context) as
      Loaded["wasm"] & { ready: Promise<void> };
    let thrown: unknown;
    try {
      state.get();
    } catch (e) {
      thrown = e;
    }
    expect((thrown as Error).name).toBe("GradcError");
    expect((thrown as Error).message).toMatch(/await `ready`/);
    await state.ready;
    expect(product({ wasm: state, memory: state.memory, ready: state.ready })).toEqual(EXPECTED);
  });

  it("does not hide other compile errors", () => {
    const broken = Uint8Array.from([...bytes.subarray(0, 40), 0xff, 0xff]);
    expect(() => vm.runInNewContext(wasmLoaderSource(broken, { pages: 1 }), { WebAssembly: WA, atob, Uint8Array, RangeError, Promise }))
      .toThrow(/WebAssembly|Compile|section|byte/i);
  });

  it("the TypeScript form passes strict type checking with only the ES library", () => {
    const source = `${wasmLoaderSource(bytes, { pages: 1, typescript: true })}export const ready = $gradc_wasm.ready;\n`;
    const file = join(dir, "kernels.ts");
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

describe("toBase64", () => {
  it("agrees with Node's encoder at every padding length", () => {
    for (const n of [0, 1, 2, 3, 4, 5, 255, 256, 257]) {
      const bytes = Uint8Array.from({ length: n }, (_x, i) => (i * 37 + n) & 255);
      expect(toBase64(bytes), `${n} bytes`).toBe(Buffer.from(bytes).toString("base64"));
    }
  });
});

describe("shared memory (the groundwork for worker threads)", () => {
  it("a module built for a shared memory runs over one, through the loader", () => {
    const shared = buildKernelModule({ shared: true, maxPages: 16 });
    const state = vm.runInNewContext(`${wasmLoaderSource(shared.bytes, { pages: 2, maxPages: 16, shared: true })}\n$gradc_wasm`, {
      WebAssembly: WA, atob, Uint8Array, RangeError, Promise, Symbol, Error,
    }) as Loaded["wasm"];
    expect(state.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(product({ wasm: state, memory: state.memory, ready: Promise.resolve() })).toEqual(EXPECTED);
  });
});
