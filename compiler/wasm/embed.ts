// Embedding: the kernel module's bytes written into the generated JavaScript as base64, and
// the few lines that instantiate them once, when the generated module is first imported.
//
// - Node and web workers compile synchronously (`new WebAssembly.Module`), so the kernels are
//   usable as soon as the import finishes.
// - A browser's main thread may refuse to compile a large module synchronously (Chromium: a
//   RangeError above 8 MB, 4 KB before version 114). The loader then compiles asynchronously;
//   `ready` resolves when the kernels are usable, and calling one before that throws a
//   GradcError saying to `await ready`. `ready` is also resolved (at once) in the synchronous
//   case, so `await ready` is always safe to write.
// The output depends on nothing: base64 is decoded with `atob` (Node ≥ 16, browsers, workers).
//
// With `threads` the module is built for a shared memory (`buildKernelModule({ shared: true,
// maxPages })`) and the loader creates one when the environment has SharedArrayBuffer; where it
// has not (a browser page without cross-origin isolation), it clears the one byte of the import
// that says "shared" (`sharedFlagOffset`) and runs the same kernels over an ordinary memory,
// single-threaded. threads.ts writes `par`, the parallel loop over a kernel call's rows; without
// `threads`, `par` calls the kernel as it is.

import { gradcErrorBinding } from "../../runtime/error-source.js";
import { poolSource, serialParSource, type PoolOptions } from "./threads.js";

export interface LoaderOptions {
  /** Name of the `const` the snippet declares (default `$gradc_wasm`). */
  readonly name?: string;
  /** Initial memory size in pages of 64 KiB. */
  readonly pages: number;
  /** Maximum pages; required for a shared memory. */
  readonly maxPages?: number;
  /** A `SharedArrayBuffer`-backed memory for worker threads; the module must have been built
   *  with `buildKernelModule({ shared: true, maxPages })` (the same maximum). */
  readonly shared?: boolean;
  /** Emit TypeScript (`as any` where the standard library has no WebAssembly types). */
  readonly typescript?: boolean;
  /**
   * Worker threads (threads.ts): the module must import a shared memory with `maxPages` as its
   * maximum; the memory is shared when the environment allows it, else ordinary.
   */
  readonly threads?: Omit<PoolOptions, "typescript">;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 with padding (written out: the compiler also runs where `Buffer` does not). */
export function toBase64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i]!;
    const b1 = i + 1 < bytes.length ? bytes[i + 1]! : 0;
    const b2 = i + 2 < bytes.length ? bytes[i + 2]! : 0;
    const word = (b0 << 16) | (b1 << 8) | b2;
    out += BASE64[(word >> 18) & 63]! + BASE64[(word >> 12) & 63]!;
    out += i + 1 < bytes.length ? BASE64[(word >> 6) & 63]! : "=";
    out += i + 2 < bytes.length ? BASE64[word & 63]! : "=";
  }
  return out;
}

/**
 * Statements declaring `const <name> = { memory, module, kernels, ready, get(), par(), threads }`,
 * where `get()` returns the kernels' exports (or throws while they are still compiling) and
 * `par(kernel, rows, work, args)` runs a kernel call, split by rows across threads when it is
 * large (threads.ts). Paste into a generated module once, before the functions that call kernels.
 */
export function wasmLoaderSource(bytes: Uint8Array, options: LoaderOptions): string {
  const name = options.name ?? "$gradc_wasm";
  const ts = options.typescript === true;
  const any = ts ? " as any" : "";
  const anyType = ts ? ": any" : "";
  const threads = options.threads;
  if (threads && options.maxPages === undefined) throw new Error("threads need a maximum memory size");
  const limits = [`initial: ${options.pages}`];
  if (options.maxPages !== undefined) limits.push(`maximum: ${options.maxPages}`);
  if (options.shared) limits.push("shared: true");
  const b64 = toBase64(bytes);
  // The shared GradcError (one class for the runtime and every generated module).
  const errorClass = (indent: string): string => gradcErrorBinding("GradcError", { ts }).replace(/\n/g, `\n${indent}`);
  // Long base64 strings are split into lines of 120 characters for editors and diffs.
  const chunks = b64.match(/.{1,120}/g) ?? [""];
  const memory = threads
    ? `// A shared memory where the environment has one (threads), else the same kernels over an ordinary one.
  let memory${anyType} = null;
  try {
    if (typeof g.SharedArrayBuffer === "function") memory = new g.WebAssembly.Memory({ ${limits.join(", ")}, shared: true });
  } catch {
    memory = null;
  }
  const shared = memory !== null;
  if (!shared) {
    bytes[${sharedFlagOffset(bytes)}] = 1;
    memory = new g.WebAssembly.Memory({ ${limits.join(", ")} });
  }`
    : `const memory = new g.WebAssembly.Memory({ ${limits.join(", ")} });`;
  return `// WebAssembly kernels (${bytes.length} bytes), generated by gradc: do not edit. Node and workers
// compile them synchronously on import; a browser's main thread may compile them asynchronously:
// await \`ready\` there before the first call.
const ${name} = (() => {
  const g${anyType} = globalThis${any};
  const data =
${chunks.map((c) => `    "${c}"`).join(" +\n")};
  const bytes = Uint8Array.from(g.atob(data), (ch${ts ? ": string" : ""}) => ch.charCodeAt(0));
  ${memory}
  const imports = { env: { memory } };
  const state${anyType} = {
    memory,
    module: null,
    kernels: null,
    ready: null,
    get() {
      if (state.kernels === null) {
        ${errorClass("        ")}
        throw new GradcError("the WebAssembly kernels are still compiling: await \`ready\` before the first call");
      }
      return state.kernels;
    },
  };
  try {
    state.module = new g.WebAssembly.Module(bytes);
    state.kernels = new g.WebAssembly.Instance(state.module, imports).exports;
    state.ready = Promise.resolve();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    state.ready = g.WebAssembly.instantiate(bytes, imports).then((result${anyType}) => {
      state.module = result.module;
      state.kernels = result.instance.exports;
    });
  }
  ${threads ? poolSource({ ...threads, typescript: ts }, errorClass("      ")) : serialParSource(ts)}
  return state;
})();
`;
}

/** Where the imported memory's limits flag is (3: a shared memory with a maximum; 1: unshared). */
export function sharedFlagOffset(bytes: Uint8Array): number {
  // The import entry: "env" "memory", kind 0x02 (memory), then the flag byte.
  const entry = [3, ..."env"].concat([6, ..."memory"]).map((x) => (typeof x === "number" ? x : x.charCodeAt(0)));
  entry.push(2);
  for (let i = 0; i + entry.length < bytes.length; i++) {
    if (entry.every((b, j) => bytes[i + j] === b)) {
      const at = i + entry.length;
      if (bytes[at] !== 3) throw new Error("the kernel module does not import a shared memory with a maximum");
      return at;
    }
  }
  throw new Error("the kernel module imports no memory env.memory");
}

/**
 * A complete standalone module around the loader: exports `wasm` (the loader state),
 * `memory` and `ready`. ES module by default, CommonJS with `format: "cjs"`.
 */
export function wasmModuleSource(bytes: Uint8Array, options: LoaderOptions & { format?: "esm" | "cjs" }): string {
  const name = options.name ?? "$gradc_wasm";
  const loader = wasmLoaderSource(bytes, { ...options, name });
  if (options.format === "cjs") {
    return `"use strict";\n${loader}exports.wasm = ${name};\nexports.memory = ${name}.memory;\nexports.ready = ${name}.ready;\n`;
  }
  return `${loader}export const wasm = ${name};\nexport const memory = ${name}.memory;\nexport const ready = ${name}.ready;\n`;
}
