// The kernel module: every matrix-product variant, the convolutions (im2col + those products),
// max pooling and the fused elementwise kernels, in f32 and f64, over one linear memory (see memory.ts for the contract between host and kernels).

import { ModuleBuilder, type MemorySpec } from "./encoder.js";
import { addConv } from "./conv.js";
import { addFused, type FusedKernel } from "./fused.js";
import { addMatmul, DEFAULT_KC, VARIANTS } from "./matmul.js";
import { addPool } from "./pool.js";
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
    addConv(mod, p);
    addPool(mod, p);
  }
  for (const k of options.fused ?? []) addFused(mod, k);
  return { bytes: mod.encode(), text: printModule(mod), exports: [...mod.exported] };
}

type Matmul = (c: number, a: number, b: number, m: number, n: number, k: number, acc: number) => void;
/** A matrix product over rows [r0, r1) of C only (the host's parallel loop splits by these). */
type MatmulRows = (c: number, a: number, b: number, m: number, n: number, k: number, acc: number, r0: number, r1: number) => void;

/** The exports of an instantiated kernel module (all addresses in bytes). */
export interface KernelExports {
  matmul_nn_f32_rows: MatmulRows;
  matmul_nt_f32_rows: MatmulRows;
  matmul_tn_f32_rows: MatmulRows;
  matmul_nn_f64_rows: MatmulRows;
  matmul_nt_f64_rows: MatmulRows;
  matmul_tn_f64_rows: MatmulRows;
  matmul_nn_f32: Matmul;
  matmul_nt_f32: Matmul;
  matmul_tn_f32: Matmul;
  matmul_nn_f64: Matmul;
  matmul_nt_f64: Matmul;
  matmul_tn_f64: Matmul;
  im2col_f32(col: number, x: number, ...geometry: ConvImageGeometry): void;
  im2col_f64(col: number, x: number, ...geometry: ConvImageGeometry): void;
  col2im_f32(x: number, col: number, ...geometry: ConvImageGeometry): void;
  col2im_f64(x: number, col: number, ...geometry: ConvImageGeometry): void;
  conv2d_f32(y: number, x: number, w: number, col: number, n: number, ...geometry: ConvGeometryArgs): void;
  conv2d_f64(y: number, x: number, w: number, col: number, n: number, ...geometry: ConvGeometryArgs): void;
  conv2d_dx_f32(dx: number, dy: number, w: number, col: number, n: number, ...geometry: ConvGeometryArgs): void;
  conv2d_dx_f64(dx: number, dy: number, w: number, col: number, n: number, ...geometry: ConvGeometryArgs): void;
  conv2d_dw_f32(dw: number, x: number, dy: number, col: number, n: number, ...geometry: ConvGeometryArgs): void;
  conv2d_dw_f64(dw: number, x: number, dy: number, col: number, n: number, ...geometry: ConvGeometryArgs): void;
  max_pool2d_f32(y: number, x: number, unused: number, col: number, n: number, ...geometry: ConvGeometryArgs): void;
  max_pool2d_f64(y: number, x: number, unused: number, col: number, n: number, ...geometry: ConvGeometryArgs): void;
  max_pool2d_grad_f32(dx: number, x: number, dy: number, col: number, n: number, ...geometry: ConvGeometryArgs): void;
  max_pool2d_grad_f64(dx: number, x: number, dy: number, col: number, n: number, ...geometry: ConvGeometryArgs): void;
}

/** A convolution's sizes as its kernels take them: c, h, w, o, kh, kw, oh, ow, stride, pad top, pad left. */
export type ConvGeometryArgs = [c: number, h: number, w: number, o: number, kh: number, kw: number, oh: number, ow: number,
  stride: number, pt: number, pl: number];
/** The same without o (im2col and col2im see one image). */
export type ConvImageGeometry = [c: number, h: number, w: number, kh: number, kw: number, oh: number, ow: number,
  stride: number, pt: number, pl: number];
