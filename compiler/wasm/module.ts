// The kernel module: every matrix-product variant and the fused elementwise kernels, in f32
// and f64, over one linear memory (see memory.ts for the contract between host and kernels).

import { ModuleBuilder, type MemorySpec } from "./encoder.js";
import { addElementwise } from "./elementwise.js";
import { addFused, type FusedKernel } from "./fused.js";
import { addMatmul, DEFAULT_KC, VARIANTS } from "./matmul.js";
import { PRECISIONS } from "./precision.js";
import { printModule } from "./text.js";

export interface KernelModuleOptions {
  /** Pages (64 KiB) the imported memory must have at least; the host may give more. */
  readonly minPages?: number;
  /** Import a shared memory (threads); needs `maxPages`. */
  readonly shared?: boolean;
  readonly maxPages?: number;
  /** K tile of the matrix products (steps). */
  readonly kc?: number;
  /** Fused elementwise kernels generated for the program (fused.ts), after the fixed ones. */
  readonly fused?: readonly FusedKernel[];
}

export interface KernelModule {
  readonly bytes: Uint8Array;
  /** The WAT-like listing for `--dump wasm`. */
  readonly text: string;
  /** Names of the exported kernels. */
  readonly exports: readonly string[];
}

export function buildKernelModule(options: KernelModuleOptions = {}): KernelModule {
  const memory: MemorySpec = {
    kind: "import",
    module: "env",
    name: "memory",
    min: options.minPages ?? 1,
    ...(options.maxPages === undefined ? {} : { max: options.maxPages }),
    ...(options.shared ? { shared: true } : {}),
  };
  const mod = new ModuleBuilder(memory);
  for (const p of PRECISIONS) {
    for (const v of VARIANTS) addMatmul(mod, v, p, options.kc ?? DEFAULT_KC);
    addElementwise(mod, p);
  }
  for (const k of options.fused ?? []) addFused(mod, k);
  return { bytes: mod.encode(), text: printModule(mod), exports: [...mod.exported] };
}

/** The exports of an instantiated kernel module (all addresses in bytes). */
export interface KernelExports {
  matmul_nn_f32(c: number, a: number, b: number, m: number, n: number, k: number, acc: number): void;
  matmul_nt_f32(c: number, a: number, b: number, m: number, n: number, k: number, acc: number): void;
  matmul_tn_f32(c: number, a: number, b: number, m: number, n: number, k: number, acc: number): void;
  matmul_nn_f64(c: number, a: number, b: number, m: number, n: number, k: number, acc: number): void;
  matmul_nt_f64(c: number, a: number, b: number, m: number, n: number, k: number, acc: number): void;
  matmul_tn_f64(c: number, a: number, b: number, m: number, n: number, k: number, acc: number): void;
  bias_relu_f32(out: number, x: number, bias: number, rows: number, cols: number): void;
  bias_relu_f64(out: number, x: number, bias: number, rows: number, cols: number): void;
  relu_mask_f32(dx: number, dy: number, y: number, n: number): void;
  relu_mask_f64(dx: number, dy: number, y: number, n: number): void;
  col_sum_f32(out: number, x: number, rows: number, cols: number, acc: number): void;
  col_sum_f64(out: number, x: number, rows: number, cols: number, acc: number): void;
}
