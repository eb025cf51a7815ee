// The two element types the kernels come in: f32 (four lanes per v128) and f64 (two lanes).
// Kernel writers are generic over this table, so f32 and f64 kernels share one generator.

import type { OpName, ValType } from "./opcodes.js";

export interface Precision {
  readonly name: "f32" | "f64";
  readonly type: ValType;
  /** Bytes per element. */
  readonly bytes: number;
  /** Elements per v128. */
  readonly lanes: number;
  readonly load: OpName;
  readonly store: OpName;
  readonly add: OpName;
  readonly mul: OpName;
  readonly gt: OpName;
  /** Loads one element into every lane. */
  readonly loadSplat: OpName;
  readonly vadd: OpName;
  readonly vmul: OpName;
  readonly vgt: OpName;
  readonly extract: OpName;
}

export const F32: Precision = {
  name: "f32",
  type: "f32",
  bytes: 4,
  lanes: 4,
  load: "f32.load",
  store: "f32.store",
  add: "f32.add",
  mul: "f32.mul",
  gt: "f32.gt",
  loadSplat: "v128.load32_splat",
  vadd: "f32x4.add",
  vmul: "f32x4.mul",
  vgt: "f32x4.gt",
  extract: "f32x4.extract_lane",
};

export const F64: Precision = {
  name: "f64",
  type: "f64",
  bytes: 8,
  lanes: 2,
  load: "f64.load",
  store: "f64.store",
  add: "f64.add",
  mul: "f64.mul",
  gt: "f64.gt",
  loadSplat: "v128.load64_splat",
  vadd: "f64x2.add",
  vmul: "f64x2.mul",
  vgt: "f64x2.gt",
  extract: "f64x2.extract_lane",
};

export const PRECISIONS = [F32, F64] as const;
