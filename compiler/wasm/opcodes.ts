// The instructions the kernels use, with their binary opcodes and immediate operands. Numbers
// are from the WebAssembly core specification (binary format, "Instructions"); the 128-bit SIMD
// instructions are the prefix byte 0xFD followed by the SIMD opcode as an unsigned LEB128
// (so f32x4.add, opcode 228, is the three bytes FD E4 01). Adding an instruction is one line.

import { unsignedLeb } from "./bytes.js";

/** What follows the opcode in the binary (and in the text dump). */
export type ImmKind =
  | "none"
  | "block" // block type: 0x40 (no result) or a value type
  | "label" // relative branch depth
  | "func" // function index (resolved from the callee's name when the module is encoded)
  | "local" // local index
  | "i32"
  | "f32"
  | "f64"
  | "memarg" // alignment (log2) and offset
  | "lane" // lane index byte
  | "v128"; // 16 literal bytes

export interface OpInfo {
  readonly bytes: readonly number[];
  readonly imm: ImmKind;
  /** Natural alignment (log2 of the access size) of a memory access. */
  readonly align?: number;
}

const plain = (code: number, imm: ImmKind = "none", align?: number): OpInfo =>
  align === undefined ? { bytes: [code], imm } : { bytes: [code], imm, align };
const simd = (code: number, imm: ImmKind = "none", align?: number): OpInfo => {
  const bytes = [0xfd, ...unsignedLeb(code)];
  return align === undefined ? { bytes, imm } : { bytes, imm, align };
};

export const OPCODES = {
  // control
  unreachable: plain(0x00),
  nop: plain(0x01),
  block: plain(0x02, "block"),
  loop: plain(0x03, "block"),
  if: plain(0x04, "block"),
  else: plain(0x05),
  end: plain(0x0b),
  br: plain(0x0c, "label"),
  br_if: plain(0x0d, "label"),
  return: plain(0x0f),
  call: plain(0x10, "func"),
  drop: plain(0x1a),
  select: plain(0x1b),
  // variables
  "local.get": plain(0x20, "local"),
  "local.set": plain(0x21, "local"),
  "local.tee": plain(0x22, "local"),
  // memory
  "i32.load": plain(0x28, "memarg", 2),
  "f32.load": plain(0x2a, "memarg", 2),
  "f64.load": plain(0x2b, "memarg", 3),
  "i32.store": plain(0x36, "memarg", 2),
  "f32.store": plain(0x38, "memarg", 2),
  "f64.store": plain(0x39, "memarg", 3),
  // constants
  "i32.const": plain(0x41, "i32"),
  "f32.const": plain(0x43, "f32"),
  "f64.const": plain(0x44, "f64"),
  // i32 comparisons and arithmetic
  "i32.eqz": plain(0x45),
  "i32.eq": plain(0x46),
  "i32.ne": plain(0x47),
  "i32.lt_s": plain(0x48),
  "i32.lt_u": plain(0x49),
  "i32.gt_s": plain(0x4a),
  "i32.gt_u": plain(0x4b),
  "i32.le_s": plain(0x4c),
  "i32.le_u": plain(0x4d),
  "i32.ge_s": plain(0x4e),
  "i32.ge_u": plain(0x4f),
  "i32.add": plain(0x6a),
  "i32.sub": plain(0x6b),
  "i32.mul": plain(0x6c),
  "i32.and": plain(0x71),
  "i32.or": plain(0x72),
  "i32.shl": plain(0x74),
  // f32 / f64 comparisons and arithmetic
  "f32.gt": plain(0x5e),
  "f64.gt": plain(0x64),
  "f32.add": plain(0x92),
  "f32.sub": plain(0x93),
  "f32.mul": plain(0x94),
  "f32.max": plain(0x97),
  "f64.add": plain(0xa0),
  "f64.sub": plain(0xa1),
  "f64.mul": plain(0xa2),
  "f64.max": plain(0xa5),
  // more f32 / f64 operators (fused elementwise kernels, fused.ts)
  "f32.eq": plain(0x5b),
  "f32.ne": plain(0x5c),
  "f32.lt": plain(0x5d),
  "f32.le": plain(0x5f),
  "f32.ge": plain(0x60),
  "f64.eq": plain(0x61),
  "f64.ne": plain(0x62),
  "f64.lt": plain(0x63),
  "f64.le": plain(0x65),
  "f64.ge": plain(0x66),
  "f32.demote_f64": plain(0xb6),
  "f64.promote_f32": plain(0xbb),
  "f32.abs": plain(0x8b),
  "f32.neg": plain(0x8c),
  "f32.sqrt": plain(0x91),
  "f32.div": plain(0x95),
  "f32.min": plain(0x96),
  "f64.abs": plain(0x99),
  "f64.neg": plain(0x9a),
  "f64.sqrt": plain(0x9f),
  "f64.div": plain(0xa3),
  "f64.min": plain(0xa4),
  // conversions
  "i32.trunc_f32_s": plain(0xa8),
  "i32.trunc_f64_s": plain(0xaa),
  "f32.convert_i32_s": plain(0xb2),
  "f64.convert_i32_s": plain(0xb7),
  // 128-bit SIMD
  "v128.load": simd(0x00, "memarg", 4),
  "v128.load32_splat": simd(0x09, "memarg", 2),
  "v128.load64_splat": simd(0x0a, "memarg", 3),
  "v128.store": simd(0x0b, "memarg", 4),
  "v128.const": simd(0x0c, "v128"),
  "f32x4.splat": simd(0x13),
  "f64x2.splat": simd(0x14),
  "f32x4.extract_lane": simd(0x1f, "lane"),
  "f32x4.replace_lane": simd(0x20, "lane"),
  "f64x2.extract_lane": simd(0x21, "lane"),
  "f64x2.replace_lane": simd(0x22, "lane"),
  "f32x4.gt": simd(0x44),
  "f64x2.gt": simd(0x4a),
  "f32x4.eq": simd(0x41),
  "f32x4.ne": simd(0x42),
  "f32x4.lt": simd(0x43),
  "f32x4.le": simd(0x45),
  "f32x4.ge": simd(0x46),
  "f64x2.eq": simd(0x47),
  "f64x2.ne": simd(0x48),
  "f64x2.lt": simd(0x49),
  "f64x2.le": simd(0x4b),
  "f64x2.ge": simd(0x4c),
  "v128.and": simd(0x4e),
  "v128.bitselect": simd(0x52),
  "i8x16.shuffle": simd(0x0d, "v128"),
  "f64x2.promote_low_f32x4": simd(0x5f),
  "f32x4.abs": simd(0xe0),
  "f32x4.neg": simd(0xe1),
  "f32x4.sqrt": simd(0xe3),
  "f32x4.div": simd(0xe7),
  "f32x4.min": simd(0xe8),
  "f32x4.max": simd(0xe9),
  "f64x2.abs": simd(0xec),
  "f64x2.neg": simd(0xed),
  "f64x2.sqrt": simd(0xef),
  "f64x2.div": simd(0xf3),
  "f64x2.min": simd(0xf4),
  "f64x2.max": simd(0xf5),
  "f32x4.add": simd(0xe4),
  "f32x4.sub": simd(0xe5),
  "f32x4.mul": simd(0xe6),
  "f64x2.add": simd(0xf0),
  "f64x2.sub": simd(0xf1),
  "f64x2.mul": simd(0xf2),
} satisfies Record<string, OpInfo>;

export type OpName = keyof typeof OPCODES;

/** Value types and their binary codes. */
export const VALTYPES = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = keyof typeof VALTYPES;
