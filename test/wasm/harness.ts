// Test helpers for the WebAssembly kernels: an instance over a fresh memory, buffers placed with
// the bump allocator, seeded random data, and plain JavaScript reference loops.

import { buildKernelModule, type KernelExports, type KernelModuleOptions } from "../../compiler/wasm/module.js";
import { Arena, pagesFor } from "../../compiler/wasm/memory.js";
import { instantiateSync, WA, type WasmMemory } from "../../compiler/wasm/webassembly.js";

export type Elem = "f32" | "f64";

export interface Instance {
  readonly kernels: KernelExports;
  readonly memory: WasmMemory;
  readonly arena: Arena;
  /** A view of `length` elements at byte address `at` (re-created after growth). */
  view(elem: Elem, at: number, length: number): Float32Array | Float64Array;
}

export function instantiate(bytesNeeded: number, options: KernelModuleOptions = {}): Instance {
  const mod = buildKernelModule(options);
  const memory = new WA.Memory({ initial: pagesFor(bytesNeeded) });
  const instance = instantiateSync(mod.bytes, memory);
  const arena = new Arena();
  return {
    kernels: instance.exports as unknown as KernelExports,
    memory,
    arena,
    view: (elem, at, length) =>
      elem === "f32" ? new Float32Array(memory.buffer, at, length) : new Float64Array(memory.buffer, at, length),
  };
}

/** Deterministic values in [-1, 1) (a 32-bit xorshift; good enough for test data). */
export function random(seed: number, n: number): number[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out.push(s / 2147483648 - 1);
  }
  return out;
}

export type Variant = "nn" | "nt" | "tn";

/** Element (i, p) of op(A) and (p, j) of op(B), as the variant stores them. */
export const aAt = (v: Variant, a: ArrayLike<number>, m: number, k: number, i: number, p: number): number =>
  v === "tn" ? a[p * m + i]! : a[i * k + p]!;
export const bAt = (v: Variant, b: ArrayLike<number>, n: number, k: number, p: number, j: number): number =>
  v === "nt" ? b[j * k + p]! : b[p * n + j]!;

/**
 * The textbook triple loop in f64: C (+)= op(A)·op(B). Also returns, per element, the sum of
 * |terms| (and |C₀|), the scale a floating-point dot product's rounding error is relative to.
 */
export function referenceMatmul(
  v: Variant, a: ArrayLike<number>, b: ArrayLike<number>, c0: ArrayLike<number> | null,
  m: number, n: number, k: number,
): { value: Float64Array; scale: Float64Array } {
  const value = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = c0 ? c0[i * n + j]! : 0;
      let t = Math.abs(s);
      for (let p = 0; p < k; p++) {
        const term = aAt(v, a, m, k, i, p) * bAt(v, b, n, k, p, j);
        s += term;
        t += Math.abs(term);
      }
      value[i * n + j] = s;
      scale[i * n + j] = t;
    }
  }
  return { value, scale };
}

/** The same loop in f32 arithmetic, rounding after every multiply and add, in K order. */
export function sequentialF32(
  v: Variant, a: ArrayLike<number>, b: ArrayLike<number>, c0: ArrayLike<number> | null,
  m: number, n: number, k: number,
): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = c0 ? Math.fround(c0[i * n + j]!) : 0;
      for (let p = 0; p < k; p++) s = Math.fround(s + Math.fround(aAt(v, a, m, k, i, p) * bAt(v, b, n, k, p, j)));
      out[i * n + j] = s;
    }
  }
  return out;
}
