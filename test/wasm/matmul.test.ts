// Every matrix-product kernel (nn, nt, tn × f32, f64, accumulate or not) against the textbook
// triple loop at odd sizes, so that every main-loop / remainder-loop combination runs: sizes
// 1, 3, 5 (below one block), 17, 67, 129 (blocks plus remainders), 64 (blocks only), K past
// the K tile, N past the column tile, K = 0, and unaligned addresses. Guard elements around C
// must stay untouched.

import { describe, expect, it } from "vitest";
import { instantiate, random, referenceMatmul, sequentialF32, type Elem, type Instance, type Variant } from "./harness.js";
import { Arena } from "../../compiler/wasm/memory.js";

const SIZES = [1, 3, 5, 17, 64, 67, 129];
const TOLERANCE: Record<Elem, number> = { f32: 1e-5, f64: 1e-12 };
const GUARD = 4; // guard elements before and after C
const SENTINEL = 12345.5;

interface Case {
  variant: Variant;
  elem: Elem;
  m: number;
  n: number;
  k: number;
  acc: boolean;
  /** Bytes added to every address (element-aligned, not 16-aligned when non-zero). */
  skew?: number;
}

/** Runs one product; returns a description of what went wrong, or null. */
function check(inst: Instance, t: Case, exactF32 = false): string | null {
  const { variant, elem, m, n, k, acc } = t;
  const size = elem === "f32" ? 4 : 8;
  const skew = t.skew ?? 0;
  const arena = new Arena();
  const aAddr = arena.alloc(m * k * size + skew) + skew;
  const bAddr = arena.alloc(k * n * size + skew) + skew;
  const cAddr = arena.alloc((m * n + 2 * GUARD) * size + skew) + skew + GUARD * size;
  if (arena.size > inst.memory.buffer.byteLength) throw new Error("test memory too small");
  const seed = m * 1_000_003 + n * 1009 + k * 7 + (variant === "nt" ? 1 : variant === "tn" ? 2 : 0);
  const a = inst.view(elem, aAddr, m * k);
  const b = inst.view(elem, bAddr, k * n);
  const cAll = inst.view(elem, cAddr - GUARD * size, m * n + 2 * GUARD);
  a.set(random(seed, m * k));
  b.set(random(seed + 1, k * n));
  cAll.fill(SENTINEL);
  const c = inst.view(elem, cAddr, m * n);
  c.set(random(seed + 2, m * n));
  const c0 = acc ? Array.from(c) : null;
  const aVals = Array.from(a);
  const bVals = Array.from(b);
  inst.kernels[`matmul_${variant}_${elem}`](cAddr, aAddr, bAddr, m, n, k, acc ? 1 : 0);
  for (let g = 0; g < GUARD; g++) {
    if (cAll[g] !== SENTINEL || cAll[GUARD + m * n + g] !== SENTINEL) return `${label(t)}: wrote outside C`;
  }
  const { value, scale } = referenceMatmul(variant, aVals, bVals, c0, m, n, k);
  const out = inst.view(elem, cAddr, m * n);
  for (let x = 0; x < m * n; x++) {
    const err = Math.abs(out[x]! - value[x]!);
    if (!(err <= TOLERANCE[elem] * Math.max(scale[x]!, Number.MIN_VALUE))) {
      return `${label(t)}: C[${Math.floor(x / n)}, ${x % n}] = ${out[x]}, expected ${value[x]} (scale ${scale[x]})`;
    }
  }
  if (exactF32) {
    const seq = sequentialF32(variant, aVals, bVals, c0, m, n, k);
    for (let x = 0; x < m * n; x++) {
      if (!Object.is(out[x], seq[x])) return `${label(t)}: C[${x}] = ${out[x]} differs from the sequential f32 loop's ${seq[x]}`;
    }
  }
  return null;
}

const label = (t: Case): string =>
  `${t.variant} ${t.elem} ${t.m}×${t.k}·${t.k}×${t.n}${t.acc ? " (accumulate)" : ""}${t.skew ? ` skew ${t.skew}` : ""}`;

const BYTES = 8 * (3 * 800 * 800 + 64);

describe("every size", () => {
  const inst = instantiate(BYTES);
  for (const elem of ["f32", "f64"] as const) {
    for (const variant of ["nn", "nt", "tn"] as const) {
      it(`${variant} ${elem}: every M, N, K in {${SIZES.join(", ")}}, plain and accumulating`, () => {
        const failures: string[] = [];
        for (const m of SIZES) {
          for (const n of SIZES) {
            for (const k of SIZES) {
              for (const acc of [false, true]) {
                const problem = check(inst, { variant, elem, m, n, k, acc });
                if (problem) failures.push(problem);
              }
            }
          }
        }
        expect(failures.slice(0, 5)).toEqual([]);
      });

      it(`${variant} ${elem}: K across several K tiles, mlp-mnist sizes, K = 0, unaligned addresses`, () => {
        const cases: Case[] = [
          { variant, elem, m: 5, n: 9, k: 300, acc: false },
          { variant, elem, m: 67, n: 13, k: 777, acc: true },
          { variant, elem, m: 64, n: 128, k: 784, acc: false },
          { variant, elem, m: 784, n: 128, k: 64, acc: false },
          { variant, elem, m: 64, n: 10, k: 128, acc: true },
          // past the column tile (256 f32 / 128 f64 columns), ending in every kind of remainder
          { variant, elem, m: 6, n: 525, k: 9, acc: false },
          { variant, elem, m: 5, n: 300, k: 270, acc: true },
          { variant, elem, m: 7, n: 6, k: 0, acc: false },
          { variant, elem, m: 7, n: 6, k: 0, acc: true },
          { variant, elem, m: 17, n: 19, k: 23, acc: false, skew: elem === "f32" ? 4 : 8 },
          { variant, elem, m: 9, n: 33, k: 31, acc: true, skew: elem === "f32" ? 12 : 8 },
        ];
        const failures = cases.map((t) => check(inst, t)).filter((p) => p !== null);
        expect(failures).toEqual([]);
      });
    }
  }
});

describe("K = 0", () => {
  it("zeroes C, or leaves it as it is when accumulating", () => {
    const inst = instantiate(65536);
    const c = inst.view("f32", 64, 6);
    c.set([1, 2, 3, 4, 5, 6]);
    inst.kernels.matmul_nn_f32(64, 256, 512, 2, 3, 0, 1);
    expect(Array.from(c)).toEqual([1, 2, 3, 4, 5, 6]);
    inst.kernels.matmul_tn_f32(64, 256, 512, 2, 3, 0, 0);
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe("rounding", () => {
  // nn and tn add each C element's products in K order, one f32 rounding per step: the result
  // is bit for bit the sequential f32 loop's, whatever the block and tile boundaries.
  it("nn and tn in f32 equal the sequential f32 loop exactly, with small and default K tiles", () => {
    const failures: string[] = [];
    for (const kc of [5, 256]) {
      const inst = instantiate(BYTES, { kc });
      for (const variant of ["nn", "tn"] as const) {
        for (const [m, n, k] of [[5, 11, 13], [17, 9, 300], [4, 8, 257], [67, 3, 64]] as const) {
          for (const acc of [false, true]) {
            const problem = check(inst, { variant, elem: "f32", m, n, k, acc }, true);
            if (problem) failures.push(`kc ${kc}: ${problem}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("a small K tile (5) gives the same products as the default for every variant", () => {
    const inst = instantiate(BYTES, { kc: 5 });
    const failures: string[] = [];
    for (const variant of ["nn", "nt", "tn"] as const) {
      for (const elem of ["f32", "f64"] as const) {
        for (const [m, n, k] of [[3, 5, 17], [17, 17, 11], [6, 10, 129]] as const) {
          const problem = check(inst, { variant, elem, m, n, k, acc: true });
          if (problem) failures.push(problem);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
